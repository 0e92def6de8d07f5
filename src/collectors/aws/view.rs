//! What the AWS collector shows besides its series: its section of the
//! debug trace (each AWS request: service, operation, status, duration,
//! request id; never a credential) and, on the landing page, the delivery
//! path as a table per organisation.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::calls::Traced;
use super::model::{Path, Rule, Source};
use crate::clock::Clock;
use crate::report::{count, escape_html};

pub fn trace(
    out: &mut String,
    calls: &[Traced],
    error: Option<&str>,
    path: Option<&crate::cache::Snapshot<Path>>,
) {
    let _ = writeln!(
        out,
        "\nAWS: latest cycle {}; {}",
        match error {
            None if calls.is_empty() && path.is_none() => "not run yet".to_string(),
            None => "succeeded".to_string(),
            Some(e) => format!("failed: {e}"),
        },
        count(calls.len() as u64, "request")
    );
    for c in calls {
        let _ = writeln!(
            out,
            "  {} {} {} -> {} in {} ms{}{}",
            c.op.service(),
            c.op.name(),
            c.subject,
            c.status.map_or("no answer".to_string(), |s| s.to_string()),
            c.duration.as_millis(),
            c.request_id
                .as_deref()
                .map_or(String::new(), |id| format!(", request id {id}")),
            c.error
                .as_deref()
                .map_or(String::new(), |e| format!(": {e}")),
        );
    }
    let Some(path) = path else { return };
    for s in &path.data.sources {
        let _ = writeln!(
            out,
            "  source {}: {}{}, {}",
            s.watched.name,
            s.state.code(),
            s.watched
                .integration
                .as_ref()
                .map_or(String::new(), |(name, state)| format!(
                    " (integration {name}: {state})"
                )),
            match &s.rules {
                None => "no bus".to_string(),
                Some(rules) => count(rules.len() as u64, "rule"),
            }
        );
        for r in s.rules.iter().flatten() {
            let _ = writeln!(out, "    rule {}: {}", r.name, rule_figures(r));
        }
    }
}

fn rule_figures(r: &Rule) -> String {
    format!(
        "{}, {} invocations, lag {} (threshold {}), {} failed, {} retried, {} to the DLQ, {} lost by the DLQ",
        if r.enabled { "enabled" } else { "disabled" },
        r.counts[0],
        r.lag.map_or("none".to_string(), |l| format!("{l:.1} s")),
        format_args!("{:.0} s", r.threshold),
        r.counts[1],
        r.counts[2],
        r.counts[4],
        r.counts[5],
    )
}

pub fn status(
    html: &mut String,
    up: Option<bool>,
    error: Option<&str>,
    finished: Option<(SystemTime, Duration)>,
    clock: Clock,
) {
    let Some(up) = up else {
        return html.push_str("<p>AWS: not asked yet.</p>");
    };
    let when = finished.map_or(String::new(), |(at, took)| {
        let ago = clock.now().duration_since(at).unwrap_or_default();
        format!(" {} s ago, in {} ms", ago.as_secs(), took.as_millis())
    });
    let _ = write!(
        html,
        "<p class=\"{}\">AWS: the latest cycle {}{}.</p>",
        if up { "ok" } else { "failed" },
        match (up, error) {
            (true, _) => "succeeded".to_string(),
            (false, Some(e)) => format!("failed ({})", escape_html(e)),
            (false, None) => "failed".to_string(),
        },
        when,
    );
}

/// The path as a table: integration, source state, each rule's lag
/// against its threshold, failures and dead-letter figures.
pub fn table(html: &mut String, path: &Path) {
    if path.sources.is_empty() {
        return html.push_str("<p>No partner event source is watched on AWS.</p>");
    }
    html.push_str(
        "<table class=\"delivery-path\"><tr><th>Integration</th><th>Event source</th><th>State</th>\
         <th>Rule</th><th>Lag / threshold</th><th>Invocations</th><th>Failed</th><th>Retried</th>\
         <th>To DLQ</th><th>Lost by DLQ</th></tr>",
    );
    for s in &path.sources {
        source_rows(html, s);
    }
    html.push_str("</table>");
}

fn source_rows(html: &mut String, s: &Source) {
    let integration = s
        .watched
        .integration
        .as_ref()
        .map_or("none".to_string(), |(name, state)| {
            format!("{name} ({state})")
        });
    let healthy = s.state.label() == "ACTIVE";
    let rules = s.rules.as_deref().unwrap_or_default();
    // The source's cells once, spanning its rules' rows.
    let mut head = format!(
        "<td rowspan=\"{n}\">{}</td><td rowspan=\"{n}\"><code>{}</code></td><td rowspan=\"{n}\" class=\"{}\">{}</td>",
        escape_html(&integration),
        escape_html(&s.watched.name),
        if healthy { "ok" } else { "failed" },
        escape_html(s.state.code()),
        n = rules.len().max(1),
    );
    if rules.is_empty() {
        let why = if s.rules.is_none() {
            "no bus"
        } else {
            "no rule"
        };
        let _ = write!(html, "<tr>{head}<td colspan=\"7\">{why}</td></tr>");
        return;
    }
    for r in rules {
        let over = r.lag.is_some_and(|l| l > r.threshold);
        let _ = write!(
            html,
            "<tr>{head}<td><code>{}</code>{}</td><td class=\"{}\">{} / {:.0} s</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            escape_html(&r.name),
            if r.enabled { "" } else { " (disabled)" },
            if over { "failed" } else { "ok" },
            r.lag.map_or("none".to_string(), |l| format!("{l:.1} s")),
            r.threshold,
            r.counts[0],
            if r.counts[1] > 0.0 { "failed" } else { "ok" },
            r.counts[1],
            r.counts[2],
            r.counts[4],
            if r.counts[5] > 0.0 { "failed" } else { "ok" },
            r.counts[5],
        );
        head.clear();
    }
}
