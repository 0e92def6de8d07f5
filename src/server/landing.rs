//! The `/` page: what this is, where the metrics are, how the latest query went.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::telemetry::TelemetryState;

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

fn ago(t: SystemTime) -> String {
    match SystemTime::now().duration_since(t) {
        Ok(d) => format!("{:.0}s ago", d.as_secs_f64()),
        Err(_) => "just now".into(),
    }
}

pub fn page(
    telemetry_path: &str,
    t: &TelemetryState,
    cooldown: Option<Duration>,
    data_age: Option<Duration>,
) -> String {
    let path = escape(telemetry_path);
    let mut state = String::new();
    match &t.last_query {
        None => state.push_str("<p>No query yet: the first scrape of the metrics starts one.</p>"),
        Some(q) => {
            let _ = match &q.outcome {
                Ok(s) => write!(
                    state,
                    "<p class=\"ok\">Latest query succeeded {}: {} pages, {} rows, {} consumer groups, {} invalid rows, {:.2}s.</p>",
                    ago(q.finished_at),
                    q.pages,
                    s.rows,
                    s.groups,
                    s.invalid_rows,
                    q.duration.as_secs_f64()
                ),
                Err((reason, message)) => write!(
                    state,
                    "<p class=\"failed\">Latest query failed {} (reason <code>{}</code>): {}</p>",
                    ago(q.finished_at),
                    reason,
                    escape(message)
                ),
            };
        }
    }
    if let Some(c) = cooldown {
        let _ = write!(
            state,
            "<p class=\"failed\">Rate limited: no request for another {:.0}s.</p>",
            c.as_secs_f64()
        );
    }
    match data_age {
        Some(age) => {
            let _ = write!(
                state,
                "<p>Data served is {:.0}s old.</p>",
                age.as_secs_f64()
            );
        }
        None if t.last_query.is_some() => {
            state.push_str("<p class=\"failed\">No current data is served.</p>")
        }
        None => {}
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Genesys EventBridge Exporter</title>\n\
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto}}.ok{{color:#1a7f37}}.failed{{color:#cf222e}}</style></head>\n\
<body>\n<h1>Genesys EventBridge Exporter</h1>\n<p>Version {version}. Consumer lag of Genesys Cloud EventBridge consumer groups, for Prometheus.</p>\n\
<ul><li><a href=\"{path}\">Metrics</a> ({path})</li><li><a href=\"/-/healthy\">Health</a></li><li><a href=\"/-/ready\">Readiness</a></li></ul>\n\
<h2>State</h2>\n{state}\n</body>\n</html>\n",
        version = env!("CARGO_PKG_VERSION"),
    )
}
