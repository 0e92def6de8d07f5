//! The `/` page: what this is, where the metrics are, how the latest query went.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use crate::cache::Source;
use crate::clock::Clock;
use crate::orgs::Organization;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn ago(clock: Clock, t: SystemTime) -> String {
    match clock.now().duration_since(t) {
        Ok(d) => format!("{:.0}s ago", d.as_secs_f64()),
        Err(_) => "just now".into(),
    }
}

/// The state of one organisation's latest query, as a paragraph.
fn query_state(org: &Organization) -> String {
    let t = org.telemetry.read();
    let mut state = String::new();
    match &t.last_query {
        None => state.push_str("<p>No query yet: the first scrape starts one.</p>"),
        Some(q) => {
            let _ = match &q.outcome {
                Ok(s) => write!(
                    state,
                    "<p class=\"ok\">Latest query succeeded {}: {} pages, {} rows, {} consumer groups, {} invalid rows, {:.2}s.</p>",
                    ago(org.clock, q.finished_at),
                    q.pages,
                    s.rows,
                    s.groups,
                    s.invalid_rows,
                    q.duration.as_secs_f64()
                ),
                Err((reason, message)) => write!(
                    state,
                    "<p class=\"failed\">Latest query failed {} (reason <code>{}</code>): {}</p>",
                    ago(org.clock, q.finished_at),
                    reason,
                    escape(message)
                ),
            };
        }
    }
    if let Some(c) = org.cache.source().cooldown() {
        let _ = write!(
            state,
            "<p class=\"failed\">Rate limited: no request for another {:.0}s.</p>",
            c.as_secs_f64()
        );
    }
    if let Some(seen) = &t.integrations {
        if !seen.up {
            state.push_str("<p class=\"failed\">The latest listing of the EventBridge integrations failed.</p>");
        }
        if seen.list.is_empty() {
            state.push_str("<p>No EventBridge integration is listed.</p>");
        }
        for i in seen.list.iter() {
            let healthy = !i.enabled || i.state.label() == "ACTIVE";
            let _ = write!(
                state,
                "<p class=\"{}\">Integration <code>{}</code>: <span class=\"integration-state\">{}</span>{}{}</p>",
                if healthy { "ok" } else { "failed" },
                escape(&crate::logging::short(&i.name)),
                escape(i.state.code()),
                if i.enabled { "" } else { " (not enabled)" },
                i.detail
                    .as_deref()
                    .map_or(String::new(), |d| format!(": {}", escape(d))),
            );
        }
    }
    let snapshot = org.cache.peek();
    match &snapshot {
        Some(s) => {
            let _ = write!(
                state,
                "<p>Data served is {:.0}s old.</p>",
                org.clock.since(s.taken_at).as_secs_f64()
            );
        }
        None if t.last_query.is_some() => {
            state.push_str("<p class=\"failed\">No current data is served.</p>")
        }
        None => {}
    }
    if let Some(s) = snapshot {
        let names = |pick: fn(&crate::model::GroupFigures) -> bool| {
            s.figures
                .groups
                .iter()
                .filter(|g| pick(g))
                .map(|g| format!("<code>{}</code>", escape(&crate::logging::short(&g.name))))
                .collect::<Vec<_>>()
        };
        let exceeded = names(|g| g.exceeded);
        let missing = names(|g| g.missing);
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let _ = write!(
            state,
            "<p class=\"{}\">Over a threshold: <span class=\"exceeded\">{}</span>.</p><p class=\"{}\">Missing: <span class=\"missing\">{}</span>.</p>",
            if exceeded.is_empty() { "ok" } else { "failed" },
            list(&exceeded),
            if missing.is_empty() { "ok" } else { "failed" },
            list(&missing),
        );
    }
    state
}

/// `orgs` with the flags' organisation first, as the registry lists them.
pub fn page(telemetry_path: &str, orgs: &[Arc<Organization>], flags: Option<&str>) -> String {
    let path = escape(telemetry_path);
    let mut sections = String::new();
    for org in orgs {
        let name = escape(org.name());
        let on_metrics = flags == Some(org.name());
        let probe_target = !on_metrics || org.name() == crate::config::DEMO_ORG;
        let _ = write!(
            sections,
            "<section class=\"org\" id=\"org-{name}\">\n<h3>{name}{}</h3>\n",
            if on_metrics {
                " (on the telemetry path)"
            } else {
                ""
            }
        );
        let mut links = Vec::new();
        if on_metrics {
            links.push(format!("<a href=\"{path}\">metrics</a>"));
        }
        if probe_target {
            links.push(format!("<a href=\"/probe?target={name}\">probe</a>"));
            links.push(format!(
                "<a href=\"/probe?target={name}&amp;debug=true\">debug trace</a>"
            ));
        }
        let _ = write!(
            sections,
            "<p>{}</p>\n{}\n</section>\n",
            links.join(" · "),
            query_state(org)
        );
    }
    if orgs.is_empty() {
        sections.push_str("<p>No organisation is configured.</p>");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Genesys EventBridge Exporter</title>\n\
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto}}.ok{{color:#1a7f37}}.failed{{color:#cf222e}}section.org{{border-top:1px solid #ccc}}</style></head>\n\
<body>\n<h1>Genesys EventBridge Exporter</h1>\n<p>Version {version}. Consumer lag of Genesys Cloud EventBridge consumer groups, for Prometheus.</p>\n\
<ul><li><a href=\"{path}\">Metrics</a> ({path})</li><li><a href=\"/-/healthy\">Health</a></li><li><a href=\"/-/ready\">Readiness</a></li></ul>\n\
<h2>Organisations</h2>\n{sections}\n</body>\n</html>\n",
        version = env!("CARGO_PKG_VERSION"),
    )
}
