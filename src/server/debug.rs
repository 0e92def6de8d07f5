//! `/probe?target=NAME&debug=true`: the plain-text trace of an organisation's
//! latest cycle, in the spirit of blackbox_exporter's debug output: each
//! request (never a token or secret), what each collector made of its
//! answers, and the series a probe returns.

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use bytes::Bytes;

use crate::orgs::OrgView;
use crate::orgs::cycle::CycleTrace;

pub fn trace(view: &OrgView<'_>, series: &[Bytes]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Organisation {}", view.name);
    match &view.cycle {
        None => out.push_str("No query has finished yet.\n"),
        Some(cycle) => requests(&mut out, cycle),
    }
    for report in view.reports {
        report.trace(&mut out);
    }
    out.push_str("\nSeries:\n");
    for chunk in series {
        out.push_str(&String::from_utf8_lossy(chunk));
    }
    out
}

/// When the cycle finished, and each of its requests.
fn requests(out: &mut String, cycle: &CycleTrace) {
    let at = cycle
        .finished_at
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let _ = writeln!(
        out,
        "Latest query: finished at unix time {at:.3}, took {:.3}s",
        cycle.duration.as_secs_f64()
    );
    out.push_str("\nRequests:\n");
    for r in &cycle.requests {
        let status = r.status.map_or("-".to_string(), |s| s.to_string());
        let _ = write!(
            out,
            "  {} {} ({}) -> {} in {:.3}s",
            r.method,
            r.path,
            r.endpoint.as_str(),
            status,
            r.duration.as_secs_f64()
        );
        if let Some(id) = &r.correlation_id {
            let _ = write!(out, " ININ-Correlation-Id={id}");
        }
        if let Some(e) = &r.error {
            let _ = write!(out, " error: {e}");
        }
        out.push('\n');
    }
    if cycle.requests.is_empty() {
        out.push_str("  none (cooling down after a 429, or no budget left)\n");
    }
}
