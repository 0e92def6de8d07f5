//! The time-budget arithmetic of a scrape, in one place: the budget from
//! Prometheus' header, the margin the query leaves the scrape, and whether a
//! retry still fits.

use std::time::Duration;

use tokio::time::Instant;

/// Subtracted from Prometheus' scrape timeout, as blackbox_exporter does,
/// so that the answer arrives before Prometheus gives up.
const SCRAPE_TIMEOUT_OFFSET: f64 = 0.5;

/// Most of the scrape's budget that is kept back from the query.
const FINISH_MARGIN_MAX: Duration = Duration::from_millis(200);

/// How long a scrape whose wait ran out still waits for a query whose own
/// deadline has passed too. That happens when the machine did not run the
/// process for a while: both timers have expired when it runs again, and
/// the scrape could otherwise answer before the query has recorded that it
/// gave up. Such a query is finishing; it only needs to be run.
pub const FINISH_GRACE: Duration = Duration::from_millis(100);

/// How long a scrape still waits for the rest of a cycle once its main
/// request (the analytics query) is done: the others (the integrations
/// listing, ...) go on within the cycle's budget and fill the cache for the
/// next scrape, as a query that outlasts a scrape does.
pub const AFTER_MAIN: Duration = Duration::from_secs(1);

/// A retry is only made with at least this much of the budget left after its
/// delay. One with less could hardly succeed, and cut short by the deadline
/// it would report a timeout instead of the error that made it retry.
pub const RETRY_MIN_TIME: Duration = Duration::from_millis(100);

/// The scrape's time budget: Prometheus' timeout header less a margin, or the default.
pub fn scrape_budget(header: Option<&str>, default: Duration) -> Duration {
    header
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(default, |s| {
            Duration::from_secs_f64((s - SCRAPE_TIMEOUT_OFFSET).clamp(0.1, 3600.0))
        })
}

/// The time a query started by a scrape with `budget` may take. The query
/// must give up a little before the scrape stops waiting for it: were both to
/// end at the same instant, the scrape could answer before the failure is
/// recorded and report the outcome of the query before (`up 1` while the API
/// hangs). A tenth of the budget, at most 200 ms, is kept back for that.
pub fn query_budget(budget: Duration) -> Duration {
    budget.saturating_sub((budget / 10).min(FINISH_MARGIN_MAX))
}

/// Whether a retry after `delay` still leaves [`RETRY_MIN_TIME`] before `deadline`.
pub fn retry_fits(delay: Duration, deadline: Instant) -> bool {
    Instant::now() + delay + RETRY_MIN_TIME < deadline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_follows_the_prometheus_header() {
        let d = Duration::from_secs(10);
        assert_eq!(scrape_budget(Some("10"), d), Duration::from_secs_f64(9.5));
        assert_eq!(scrape_budget(Some("0.3"), d), Duration::from_millis(100));
        assert_eq!(scrape_budget(Some("junk"), d), d);
        assert_eq!(scrape_budget(None, d), d);
    }

    #[test]
    fn the_query_leaves_the_scrape_a_margin() {
        assert_eq!(
            query_budget(Duration::from_millis(500)),
            Duration::from_millis(450)
        );
        assert_eq!(
            query_budget(Duration::from_secs(10)),
            Duration::from_millis(9800)
        );
    }
}
