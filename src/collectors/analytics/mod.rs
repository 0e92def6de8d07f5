//! The analytics collector: the tutorial's query of Genesys Cloud event
//! analytics, per consumer group and event type (latency, lag, throughput,
//! backlog, missing groups, thresholds). Its requests (`query`, `request`),
//! their decoding (`response`), the lag model (`model`), its audit events
//! (`audit`), series (`series`) and views (`view`).

pub mod audit;
pub mod model;
pub mod query;
pub mod request;
pub mod response;
pub mod series;
mod state;
mod view;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use self::model::{Figures, GroupSpec, Thresholds};
use self::request::QueryBody;
use self::state::{LastQuery, QuerySummary, TracedFigures};
use super::{Collecting, Collector, Cycle};
use crate::cache::Latest;
use crate::clock::Clock;
use crate::config::{OrgSettings, QueryConfig};
use crate::exposition::{Encoded, Format, Series};
use crate::genesys::{ApiErrorDetail, Endpoint, FailureReason, Gate, QueryError, gate};
use crate::report::{Report, count};

pub use query::{MAX_QUERY_ROWS, QueryResult};
pub use response::MAX_PAGE_ROWS;

/// Its endpoint: the `endpoint` label of its requests.
pub const QUERY: Endpoint = Endpoint::new(1, "query");

/// Why it skips a row: the `reason` label of `invalid_rows_total`.
pub const INVALID_ROW_REASONS: [&str; 5] = [
    "not_object",
    "missing_field",
    "null_field",
    "wrong_type",
    "invalid_value",
];

pub struct Analytics {
    org: Arc<str>,
    /// `--collector.analytics`.
    enabled: bool,
    clock: Clock,
    query: QueryConfig,
    groups: Vec<GroupSpec>,
    /// The configured groups' names: the query's filter.
    names: Vec<String>,
    defaults: Thresholds,
    latest: Latest<Figures>,
    record: state::Shared,
    transitions: Mutex<audit::Transitions>,
    /// Held back after a 404: the organisation's API has no such endpoint.
    missing: Mutex<Gate>,
}

impl Analytics {
    pub fn new(settings: &OrgSettings, org: Arc<str>, clock: Clock) -> Analytics {
        Analytics {
            org,
            enabled: settings.collectors.analytics,
            clock,
            query: settings.query.clone(),
            groups: settings.groups.clone(),
            names: settings.groups.iter().map(|g| g.name.clone()).collect(),
            defaults: settings.default_thresholds,
            latest: Latest::new(settings.cache.max_stale),
            record: state::Shared::new(),
            transitions: Mutex::new(audit::Transitions::default()),
            missing: Mutex::new(Gate::default()),
        }
    }

    fn missing(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.missing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves `figures` as a query that returned them would: benchmarks
    /// measure the scrapes of a large organisation with it.
    pub fn keep(&self, figures: Figures) {
        self.latest.keep(figures);
    }

    async fn run(&self, cycle: &Cycle<'_>) {
        // Held back after a 404: the latest attempt is still that 404.
        if !self.missing().allows(Instant::now()) {
            return;
        }
        let body = QueryBody::new(
            self.clock.now(),
            self.query.window,
            &self.names,
            self.query.page_size,
        );
        match query::run(cycle.client, &self.query, body, cycle.deadline).await {
            Ok(result) => self.computed(cycle, result),
            Err(error) => self.failed(cycle, &error),
        }
    }

    /// The figures of a query's rows, unless they would encode to more than
    /// the exposition's budget.
    fn computed(&self, cycle: &Cycle<'_>, result: QueryResult) {
        let figures = model::compute(result.rows, self.query.window, &self.groups, self.defaults);
        let encoded = figures.encoded_bytes();
        if encoded > model::MAX_ENCODED_BYTES {
            let error = QueryError::Pagination(format!(
                "{} series of {} groups would encode to about {} MiB, more than {} MiB (the exposition's budget)",
                figures.series.len(),
                figures.groups.len(),
                encoded >> 20,
                model::MAX_ENCODED_BYTES >> 20
            ));
            return self.failed(cycle, &error);
        }
        self.succeeded(cycle, figures, result.pages);
    }

    fn succeeded(&self, cycle: &Cycle<'_>, figures: Figures, pages: u32) {
        let duration = self.clock.since(cycle.started);
        self.missing().answered();
        let invalid: u64 = figures.invalid.values().sum();
        if invalid > 0 {
            tracing::warn!(org = %self.org, invalid_rows = invalid, reasons = ?figures.invalid, "skipped invalid rows");
        }
        cycle.client.telemetry().invalid_rows(&figures.invalid);
        let summary = QuerySummary {
            rows: figures.valid_rows,
            groups: figures.groups.len(),
            invalid_rows: invalid,
        };
        tracing::debug!(
            org = %self.org,
            event = "QUERY_COMPLETE",
            pages,
            rows = summary.rows,
            invalid_rows = invalid,
            groups = summary.groups,
            duration_seconds = duration.as_secs_f64(),
            "query complete"
        );
        let traced = TracedFigures {
            pages,
            rows: figures.valid_rows,
            invalid: figures.invalid.clone(),
            groups: figures.groups.clone(),
        };
        self.record
            .finished(self.last(duration, pages, Ok(summary)), Ok(traced));
        let events = self
            .transitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(&figures);
        for event in events {
            event.log(&self.org);
        }
        self.latest.keep(figures);
    }

    fn failed(&self, cycle: &Cycle<'_>, error: &QueryError) {
        let duration = self.clock.since(cycle.started);
        let reason = error.reason();
        let outcome = Err((reason, error.to_string()));
        self.record
            .finished(self.last(duration, 0, outcome), Err(error.to_string()));
        if let QueryError::Status {
            endpoint: QUERY,
            status: 404,
            detail,
            ..
        } = error
        {
            return self.not_found(cycle, detail);
        }
        // One line per failed query, whatever its retries: where it failed
        // (the token endpoint or the query's), how often it was sent.
        let endpoint = error.endpoint().unwrap_or(QUERY);
        let host = cycle.client.host(endpoint);
        let attempts = cycle.client.attempts(endpoint);
        let detail = match error {
            QueryError::Status { detail, .. } => Some(detail),
            _ => None,
        };
        tracing::warn!(
            org = %self.org,
            reason = reason.as_str(),
            endpoint = endpoint.as_str(),
            host = %host,
            attempts,
            duration_seconds = duration.as_secs_f64(),
            code = detail.and_then(|d| d.code.as_deref()),
            message = detail.and_then(|d| d.message.as_deref()),
            context_id = detail.and_then(|d| d.context_id.as_deref()),
            correlation_id = detail.and_then(|d| d.correlation_id.as_deref()),
            error = %error,
            "query failed"
        );
    }

    /// A 404: the organisation's API has no analytics query. Said once, with
    /// the cause and the way out; then the query is sent once an hour.
    fn not_found(&self, cycle: &Cycle<'_>, detail: &ApiErrorDetail) {
        if !self.missing().refused(Instant::now()) {
            return tracing::debug!(org = %self.org, "the analytics query answered 404 again");
        }
        tracing::warn!(
            org = %self.org,
            reason = FailureReason::NotFound.as_str(),
            endpoint = QUERY.as_str(),
            host = %cycle.client.host(QUERY),
            path = %self.query.path,
            message = detail.message.as_deref(),
            correlation_id = detail.correlation_id.as_deref(),
            retry_in_seconds = gate::HOLD.as_secs(),
            "the analytics query answered 404: its endpoint comes from the tutorial and is absent \
             from the public API of Genesys Cloud, so this organisation may not have it; turn the \
             analytics collector off with --no-collector.analytics (collectors: {{analytics: \
             false}} for an organisation of the file); asking again in an hour"
        );
    }

    fn last(
        &self,
        duration: Duration,
        pages: u32,
        outcome: Result<QuerySummary, (FailureReason, String)>,
    ) -> LastQuery {
        LastQuery {
            finished_at: self.clock.now(),
            duration,
            pages,
            outcome,
        }
    }
}

impl Collector for Analytics {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn invalid_reasons(&self) -> &'static [&'static str] {
        &INVALID_ROW_REASONS
    }

    fn collect<'a>(&'a self, cycle: &'a Cycle<'a>) -> Collecting<'a> {
        Box::pin(self.run(cycle))
    }

    fn no_token(&self, cycle: &Cycle<'_>, error: &QueryError) {
        self.failed(cycle, error);
    }

    fn is_main(&self) -> bool {
        true
    }

    fn outcome(&self) -> Option<Result<String, String>> {
        let last = self.record.read().last_query?;
        Some(match last.outcome {
            Ok(s) => Ok(format!(
                "analytics query succeeded ({}, {}, {})",
                count(last.pages, "page"),
                count(s.rows as u64, "row"),
                count(s.groups as u64, "consumer group")
            )),
            Err((reason, error)) => Err(format!("analytics query failed ({reason}): {error}")),
        })
    }

    fn panicked(&self, message: &str) {
        let outcome = Err((
            FailureReason::Internal,
            format!("the query panicked: {message}"),
        ));
        self.record.finished(
            self.last(Duration::ZERO, 0, outcome),
            Err(format!("panicked: {message}")),
        );
    }
}

impl Series for Analytics {
    fn generation(&self) -> u64 {
        self.record.generation()
    }

    fn state(&self) -> Option<Box<dyn prometheus_client::collector::Collector>> {
        self.enabled
            .then(|| Box::new(series::State(self.record.read())) as _)
    }

    fn moving(&self, clock: Clock) -> Option<Box<dyn prometheus_client::collector::Collector>> {
        // The age stays exported past max-stale (contract section 4), when
        // the figures themselves are no longer served.
        let newest = self.latest.newest()?;
        Some(Box::new(series::Age(
            clock.since(newest.taken_at).as_secs_f64(),
        )))
    }

    fn snapshot(&self, format: Format) -> Option<Arc<Encoded>> {
        let served = self.latest.servable()?;
        Some(served.encoded(format, |f| series::encode_groups(format, f)))
    }
}

impl Report for Analytics {
    fn trace(&self, out: &mut String) {
        if !self.enabled {
            return out.push_str("\nAnalytics query: off (--no-collector.analytics)\n");
        }
        if let Some(traced) = &self.record.read().traced {
            view::trace(out, traced);
        }
        if let Some(left) = self.missing().held_for(Instant::now()) {
            let _ = writeln!(
                out,
                "  (not sent since: asked again in {:.0}s, an hour after the 404)",
                left.as_secs_f64()
            );
        }
    }

    fn status(&self, html: &mut String, clock: Clock) {
        if !self.enabled {
            return html.push_str("<p>The analytics query is off (--no-collector.analytics).</p>");
        }
        view::status(html, self.record.read().last_query.as_ref(), clock);
    }

    fn findings(&self, html: &mut String, clock: Clock) {
        if !self.enabled {
            return;
        }
        let served = self.latest.servable();
        let served = served
            .as_ref()
            .map(|s| (&s.data, clock.since(s.taken_at).as_secs_f64()));
        view::findings(html, &self.record.read(), served);
    }
}
