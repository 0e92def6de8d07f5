//! `/probe?target=NAME&debug=true`: the plain-text trace of an organisation's
//! latest query, in the spirit of blackbox_exporter's debug output: each
//! request (never a token or secret), what came back, the figures, and the
//! series a probe returns.

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use bytes::Bytes;

use crate::orgs::Organization;

pub fn trace(org: &Organization, series: &[Bytes]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Organisation {}", org.name());
    match org.cache.source().last_trace() {
        None => out.push_str("No query has finished yet.\n"),
        Some(trace) => {
            let at = trace
                .finished_at
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let _ = writeln!(
                out,
                "Latest query: finished at unix time {at:.3}, took {:.3}s",
                trace.duration.as_secs_f64()
            );
            out.push_str("\nRequests:\n");
            for r in &trace.requests {
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
            if trace.requests.is_empty() {
                out.push_str("  none (cooling down after a 429, or no budget left)\n");
            }
            match &trace.outcome {
                Err(e) => {
                    let _ = writeln!(out, "\nOutcome: failed: {e}");
                }
                Ok(f) => {
                    let invalid: u64 = f.invalid.values().sum();
                    let _ = writeln!(
                        out,
                        "\nOutcome: succeeded: {} pages, {} valid rows, {} invalid rows",
                        f.pages, f.rows, invalid
                    );
                    for (reason, n) in &f.invalid {
                        let _ = writeln!(out, "  invalid {reason}: {n}");
                    }
                    out.push_str("\nConsumer groups:\n");
                    for g in &f.groups {
                        let _ = writeln!(
                            out,
                            "  {}: lag {:.3}s, mean latency {:.3}s, throughput {:.3}/s, backlog {:.1}, missing {}, exceeded {} (max_lag {:.3}s, max_processing_latency {:.3}s)",
                            crate::logging::short(&g.name),
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
            }
        }
    }
    match org.telemetry.read().integrations {
        None if !org.settings.integrations => {
            out.push_str("\nIntegrations: not listed (--no-collector.integrations)\n")
        }
        None => out.push_str("\nIntegrations: not listed yet\n"),
        Some(seen) => {
            let _ = writeln!(
                out,
                "\nIntegrations: latest listing {}; {} EventBridge integrations",
                if seen.up { "succeeded" } else { "failed" },
                seen.list.len()
            );
            for i in seen.list.iter() {
                let _ = writeln!(
                    out,
                    "  {} ({}): {}, {}{}",
                    crate::logging::short(&i.name),
                    crate::logging::short(&i.id),
                    i.state.code(),
                    if i.enabled { "enabled" } else { "not enabled" },
                    i.detail
                        .as_deref()
                        .map_or(String::new(), |d| format!(": {}", crate::logging::short(d)))
                );
            }
        }
    }
    out.push_str("\nSeries:\n");
    for chunk in series {
        out.push_str(&String::from_utf8_lossy(chunk));
    }
    out
}
