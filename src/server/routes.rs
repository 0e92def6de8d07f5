//! What each request gets: basic auth first, then the route.

use hyper::body::Incoming;
use hyper::header::{
    ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::Ordering;

use super::body::Chunks;
use super::{AppState, landing};
use crate::budget::scrape_budget;
use crate::cache::Source;
use crate::exposition::{Format, ScrapeView, render};
use crate::web::auth::{ClientAddr, Verdict};

/// Basic auth before anything else (every path, as node_exporter does), then
/// the route; the configured headers go on every answer, refusals included.
pub(super) async fn handle(req: Request<Incoming>, state: &AppState) -> Response<Chunks> {
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

async fn route(req: Request<Incoming>, state: &AppState) -> Response<Chunks> {
    let path = req.uri().path();
    let known = path == state.telemetry_path || matches!(path, "/" | "/-/healthy" | "/-/ready");
    if !known {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "Not Found\n",
        );
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut r = respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "Method Not Allowed\n",
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    match path {
        "/-/healthy" => respond(StatusCode::OK, "text/plain; charset=utf-8", "Healthy\n"),
        "/-/ready" if state.ready.load(Ordering::SeqCst) => {
            respond(StatusCode::OK, "text/plain; charset=utf-8", "Ready\n")
        }
        "/-/ready" => respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "Not ready\n",
        ),
        "/" if state.telemetry_path != "/" => {
            let snapshot = state.cache.peek();
            let page = landing::page(
                &state.telemetry_path,
                &state.telemetry.read(),
                state.cache.source().cooldown(),
                snapshot.map(|s| s.age()),
            );
            respond(StatusCode::OK, "text/html; charset=utf-8", page)
        }
        _ => metrics(&req, state).await,
    }
}

async fn metrics(req: &Request<Incoming>, state: &AppState) -> Response<Chunks> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let budget = scrape_budget(
        header("x-prometheus-scrape-timeout-seconds"),
        state.default_budget,
    );
    let format = Format::negotiate(header("accept"));
    let snapshot = state.cache.get(budget).await;
    let view = ScrapeView {
        data_age: snapshot.as_ref().map(|s| s.age()),
        cooldown: state.cache.source().cooldown(),
        process: state.process.get(),
        web_config: state.web.status(),
        web: state.web_stats.read(),
    };
    let chunks = render(
        format,
        &state.own_series,
        &state.telemetry,
        view,
        snapshot.as_deref(),
    );
    let mut r = respond(StatusCode::OK, format.content_type(), Chunks::new(chunks));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
