//! What each request gets: the cap on its head, basic auth, then the route.

use hyper::body::Incoming;
use hyper::header::{
    ACCEPT_ENCODING, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONNECTION, CONTENT_ENCODING,
    CONTENT_TYPE, HeaderValue, RETRY_AFTER, VARY, WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::Ordering;

use super::body::Chunks;
use super::own::{self, ExporterView};
use super::{AppState, debug, landing};
use crate::budget::scrape_budget;
use crate::config::file::valid_org_name;
use crate::exposition::{Body, Encoding, Format, finish};
use crate::orgs::Organization;
use crate::web::auth::{ClientAddr, Verdict};

/// Basic auth before anything else (every path, as node_exporter does), then
/// the route; the configured headers go on every answer, refusals included.
pub(super) async fn handle(req: Request<Incoming>, state: &AppState) -> Response<Chunks> {
    if head_bytes(&req) > state.limits.max_header_bytes {
        let mut r = text(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request Header Fields Too Large\n",
        );
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    // Per request, not per connection: a user removed from the file is
    // refused on connections Prometheus keeps alive, too.
    let web = state.web.current();
    let verdict = match &web.auth {
        Some(auth) => {
            let client = req.extensions().get::<ClientAddr>().map(|c| c.0);
            let client = client.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
            auth.check(req.headers().get(AUTHORIZATION), client).await
        }
        None => Verdict::Allowed,
    };
    let mut response = match verdict {
        Verdict::Allowed => route(req, state).await,
        Verdict::Denied => {
            state.web_stats.failed_login();
            let mut r = respond(
                StatusCode::UNAUTHORIZED,
                "text/plain; charset=utf-8",
                "Unauthorized\n",
            );
            r.headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
            r
        }
        Verdict::Throttled { retry_after } => {
            state.web_stats.throttled_login();
            let mut r = respond(
                StatusCode::TOO_MANY_REQUESTS,
                "text/plain; charset=utf-8",
                "Too Many Requests: too many failed logins from this address\n",
            );
            let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            r.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
            r
        }
    };
    for (name, value) in &web.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

/// The bytes of a request's head as sent: request line, header lines and
/// the empty line (a header's `name: value\r\n` is four bytes more than its
/// name and value).
fn head_bytes(req: &Request<Incoming>) -> usize {
    let target = req.uri().path_and_query().map_or(1, |pq| pq.as_str().len());
    let line = req.method().as_str().len() + 1 + target + " HTTP/1.1\r\n".len();
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    line + headers + 2
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Chunks>,
) -> Response<Chunks> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn text(status: StatusCode, body: impl Into<Chunks>) -> Response<Chunks> {
    respond(status, "text/plain; charset=utf-8", body)
}

fn method_not_allowed(allow: &'static str) -> Response<Chunks> {
    let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    r
}

async fn route(req: Request<Incoming>, state: &AppState) -> Response<Chunks> {
    let path = req.uri().path();
    if path == "/-/reload" {
        return match *req.method() {
            Method::POST => reload(state).await,
            _ => method_not_allowed("POST"),
        };
    }
    let known =
        path == state.telemetry_path || matches!(path, "/" | "/-/healthy" | "/-/ready" | "/probe");
    if !known {
        return text(StatusCode::NOT_FOUND, "Not Found\n");
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return method_not_allowed("GET, HEAD");
    }
    match path {
        "/-/healthy" => text(StatusCode::OK, "Healthy\n"),
        "/-/ready" if state.ready.load(Ordering::SeqCst) => text(StatusCode::OK, "Ready\n"),
        "/-/ready" => text(StatusCode::SERVICE_UNAVAILABLE, "Not ready\n"),
        "/" => {
            let flags = state.registry.flags();
            let page = landing::page(
                &state.telemetry_path,
                &state.registry.all(),
                flags.as_ref().map(|f| f.name()),
            );
            respond(StatusCode::OK, "text/html; charset=utf-8", page)
        }
        "/probe" => probe(&req, state).await,
        _ => metrics(&req, state).await,
    }
}

/// `POST /-/reload`: 200 when the file loads, 500 with the reason when not.
async fn reload(state: &AppState) -> Response<Chunks> {
    if state.config.loader().is_none() {
        return text(
            StatusCode::OK,
            "No --config.file: nothing to reload (flags are read only at start).\n",
        );
    }
    let config = state.config.clone();
    match tokio::task::spawn_blocking(move || config.reload("POST /-/reload")).await {
        Ok(Ok(())) => text(StatusCode::OK, "Configuration reloaded.\n"),
        Ok(Err(reason)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Configuration refused: {}\n", one_line(&reason)),
        ),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "Reload failed.\n"),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a request's query string asks of a probe.
#[derive(Debug, PartialEq)]
struct ProbeQuery {
    target: String,
    debug: bool,
}

/// `target` exactly once, a configured name's shape; `debug` optional. The
/// reason is one line, and never repeats more than a little of the input.
fn probe_query(query: Option<&str>) -> Result<ProbeQuery, String> {
    let mut target: Option<String> = None;
    let mut debug = false;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match &*key {
            "target" if target.is_some() => {
                return Err("target is given more than once".into());
            }
            "target" => target = Some(value.into_owned()),
            "debug" => debug = matches!(&*value, "true" | "1"),
            _ => {}
        }
    }
    match target {
        None => Err("missing the target parameter (a name from organizations:)".into()),
        Some(t) if t.is_empty() => Err("target is empty".into()),
        Some(t) if !valid_org_name(&t) => Err(format!(
            "target {:?} is not an organisation name",
            crate::logging::short(&t)
        )),
        Some(target) => Ok(ProbeQuery { target, debug }),
    }
}

fn budget_of(req: &Request<Incoming>, org: &Organization) -> std::time::Duration {
    let header = req
        .headers()
        .get("x-prometheus-scrape-timeout-seconds")
        .and_then(|v| v.to_str().ok());
    scrape_budget(header, org.settings.query.timeout)
}

fn format_of(req: &Request<Incoming>) -> Format {
    Format::negotiate(req.headers().get("accept").and_then(|v| v.to_str().ok()))
}

fn body_for(req: &Request<Incoming>) -> Body {
    Body::new(Encoding::negotiate(
        req.headers()
            .get(ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    ))
}

/// One organisation's series, from its cache (which may query).
async fn org_chunks(req: &Request<Incoming>, org: &Organization, format: Format, body: &mut Body) {
    org.render(budget_of(req, org), format, body).await;
}

fn scrape_response(format: Format, body: Body) -> Response<Chunks> {
    let encoding = body.encoding();
    let mut r = respond(
        StatusCode::OK,
        format.content_type(),
        Chunks::new(body.into_chunks()),
    );
    let headers = r.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The same URL answers plain or compressed: caches must tell them apart.
    headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(coding) = encoding.content_encoding() {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    r
}

/// The probe targets, for an unknown one's answer (the flags' organisation
/// first, `default` or `demo`): as many names as fit a short line, then how
/// many more, so that a thousand organisations still make one line.
fn known_targets(names: &[&str]) -> String {
    const ROOM: usize = 100;
    let mut shown = String::new();
    for (i, name) in names.iter().enumerate() {
        if !shown.is_empty() && shown.len() + name.len() > ROOM {
            return format!("{shown} and {} more", names.len() - i);
        }
        if !shown.is_empty() {
            shown.push_str(", ");
        }
        shown.push_str(name);
    }
    if shown.is_empty() {
        shown.push_str("none");
    }
    shown
}

async fn probe(req: &Request<Incoming>, state: &AppState) -> Response<Chunks> {
    let query = match probe_query(req.uri().query()) {
        Ok(q) => q,
        Err(reason) => return text(StatusCode::BAD_REQUEST, format!("{reason}\n")),
    };
    let Some(org) = state.registry.target(&query.target) else {
        let all = state.registry.all();
        let names: Vec<&str> = all.iter().map(|o| o.name()).collect();
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown target {:?}; the targets are: {}\n",
                query.target,
                known_targets(&names)
            ),
        );
    };
    if query.debug {
        let mut body = Body::new(Encoding::Identity);
        org_chunks(req, &org, Format::Text, &mut body).await;
        let trace = debug::trace(&org.view(), &body.into_chunks());
        return text(StatusCode::OK, trace);
    }
    let format = format_of(req);
    let mut body = body_for(req);
    org_chunks(req, &org, format, &mut body).await;
    finish(format, &mut body);
    scrape_response(format, body)
}

async fn metrics(req: &Request<Incoming>, state: &AppState) -> Response<Chunks> {
    let format = format_of(req);
    let mut body = body_for(req);
    let view = ExporterView {
        process: state.process.get(),
        web_config: state.web.status(),
        config: state.config.status(),
        web: state.web_stats.read(),
    };
    own::render(format, &state.exporter_part, view, &mut body);
    if let Some(org) = state.registry.flags() {
        org_chunks(req, &org, format, &mut body).await;
    }
    finish(format, &mut body);
    scrape_response(format, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_target_is_told_the_names_in_one_short_line() {
        assert_eq!(known_targets(&["demo"]), "demo");
        assert_eq!(known_targets(&[]), "none");
        let many: Vec<String> = (1..=1000).map(|i| format!("org-{i:04}")).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let line = known_targets(&names);
        assert!(line.starts_with("org-0001, org-0002, "), "{line}");
        assert!(line.ends_with(" and 990 more"), "{line}");
        assert!(line.len() < 120, "{line}");
    }

    #[test]
    fn probe_targets_are_checked_before_any_lookup() {
        assert_eq!(
            probe_query(Some("target=acme-prod&debug=true")),
            Ok(ProbeQuery {
                target: "acme-prod".into(),
                debug: true
            })
        );
        assert_eq!(
            probe_query(Some("target=a%2Eb")).unwrap().target,
            "a.b",
            "percent-decoded"
        );
        let long = format!("target={}", "a".repeat(10_000));
        for (query, reason) in [
            (None, "missing the target"),
            (Some(""), "missing the target"),
            (Some("target="), "target is empty"),
            (Some("target=a&target=b"), "more than once"),
            (
                Some("target=http://evil.example/"),
                "not an organisation name",
            ),
            (Some("target=127.0.0.1:80"), "not an organisation name"),
            (Some(long.as_str()), "not an organisation name"),
        ] {
            let err = probe_query(query).unwrap_err();
            assert!(err.contains(reason), "{query:?}: {err}");
            assert!(err.len() < 200, "{query:?}: {err}");
        }
    }
}
