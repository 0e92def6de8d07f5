//! What the analytics collector shows besides its series: its section of the
//! debug trace and its paragraphs of the landing page.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::model::{Figures, GroupFigures};
use super::state::{LastQuery, Record, TracedFigures};
use crate::clock::Clock;
use crate::logging::short;
use crate::report::{count, escape_html};

/// The latest query's outcome and figures, as the debug trace lists them.
pub fn trace(out: &mut String, traced: &Result<TracedFigures, String>) {
    let f = match traced {
        Err(e) => {
            let _ = writeln!(out, "\nOutcome: failed: {e}");
            return;
        }
        Ok(f) => f,
    };
    let invalid: u64 = f.invalid.values().sum();
    let _ = writeln!(
        out,
        "\nOutcome: succeeded: {}, {}, {}",
        count(f.pages, "page"),
        count(f.rows as u64, "valid row"),
        count(invalid, "invalid row")
    );
    for (reason, n) in &f.invalid {
        let _ = writeln!(out, "  invalid {reason}: {n}");
    }
    out.push_str("\nConsumer groups:\n");
    for g in &f.groups {
        let _ = writeln!(
            out,
            "  {}: lag {:.3}s, mean latency {:.3}s, throughput {:.3}/s, backlog {:.1}, missing {}, exceeded {} (max_lag {:.3}s, max_processing_latency {:.3}s)",
            short(&g.name),
            g.lag_seconds,
            g.mean_latency_seconds,
            g.throughput,
            g.backlog,
            g.missing,
            g.exceeded,
            g.thresholds.max_lag.as_secs_f64(),
            g.thresholds.max_processing_latency.as_secs_f64()
        );
    }
}

fn ago(clock: Clock, t: SystemTime) -> String {
    match clock.now().duration_since(t) {
        Ok(d) => format!("{:.0}s ago", d.as_secs_f64()),
        Err(_) => "just now".into(),
    }
}

/// How the latest query went, as a paragraph.
pub fn status(html: &mut String, last: Option<&LastQuery>, clock: Clock) {
    let Some(q) = last else {
        html.push_str("<p>No query yet: the first scrape starts one.</p>");
        return;
    };
    let _ = match &q.outcome {
        Ok(s) => write!(
            html,
            "<p class=\"ok\">Latest query succeeded {}: {}, {}, {}, {}, {:.2}s.</p>",
            ago(clock, q.finished_at),
            count(q.pages, "page"),
            count(s.rows as u64, "row"),
            count(s.groups as u64, "consumer group"),
            count(s.invalid_rows, "invalid row"),
            q.duration.as_secs_f64()
        ),
        Err((reason, message)) => write!(
            html,
            "<p class=\"failed\">Latest query failed {} (reason <code>{}</code>): {}</p>",
            ago(clock, q.finished_at),
            reason,
            escape_html(message)
        ),
    };
}

/// How old the data served is, and which groups are over a threshold or
/// missing in it.
pub fn findings(html: &mut String, record: &Record, served: Option<(&Figures, f64)>) {
    let Some((figures, age)) = served else {
        if record.last_query.is_some() {
            html.push_str("<p class=\"failed\">No current data is served.</p>");
        }
        return;
    };
    let _ = write!(html, "<p>Data served is {age:.0}s old.</p>");
    let names = |pick: fn(&GroupFigures) -> bool| {
        let names: Vec<String> = figures
            .groups
            .iter()
            .filter(|g| pick(g))
            .map(|g| format!("<code>{}</code>", escape_html(&short(&g.name))))
            .collect();
        match names.is_empty() {
            true => ("ok", "none".to_string()),
            false => ("failed", names.join(", ")),
        }
    };
    let (exceeded_class, exceeded) = names(|g| g.exceeded);
    let (missing_class, missing) = names(|g| g.missing);
    let _ = write!(
        html,
        "<p class=\"{exceeded_class}\">Over a threshold: <span class=\"exceeded\">{exceeded}</span>.</p><p class=\"{missing_class}\">Missing: <span class=\"missing\">{missing}</span>.</p>",
    );
}
