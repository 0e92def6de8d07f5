//! One query from end to end: the client fetches rows, the model turns them
//! into figures, telemetry and audit record the outcome. The cache calls this.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::audit::Transitions;
use crate::cache::{Snapshot, Source};
use crate::genesys::client::IntegrationsResult;
use crate::genesys::{FailureReason, GenesysClient, QueryError};
use crate::model::{self, GroupFigures, GroupSpec, Thresholds};
use crate::telemetry::{INVALID_INTEGRATION, LastQuery, QuerySummary, Telemetry, TracedRequest};

/// What `/probe?debug=true` shows of the latest query.
#[derive(Debug, Clone)]
pub struct QueryTrace {
    pub finished_at: SystemTime,
    pub duration: Duration,
    pub requests: Vec<TracedRequest>,
    pub outcome: Result<TracedFigures, String>,
}

#[derive(Debug, Clone)]
pub struct TracedFigures {
    pub pages: u32,
    pub rows: usize,
    pub invalid: std::collections::BTreeMap<&'static str, u64>,
    pub groups: Vec<GroupFigures>,
}

/// After a 403 the integrations listing is sent at most this often: the
/// OAuth client lacks the permission, which an administrator grants rarely.
pub const FORBIDDEN_RETRY: Duration = Duration::from_secs(3600);

/// When the integrations listing may be sent: not within
/// [`FORBIDDEN_RETRY`] of a 403.
#[derive(Debug, Default)]
struct Forbidden {
    until: Option<Instant>,
}

impl Forbidden {
    fn allows(&self, now: Instant) -> bool {
        self.until.is_none_or(|until| now >= until)
    }

    /// Records a 403; true when it is the first in a row (to be logged).
    fn refused(&mut self, now: Instant) -> bool {
        let first = self.until.is_none();
        self.until = Some(now + FORBIDDEN_RETRY);
        first
    }

    fn allowed(&mut self) {
        self.until = None;
    }
}

/// What became of a cycle's integrations listing.
enum Listing {
    /// `--no-collector.integrations`.
    Off,
    /// Not sent: within an hour of a 403.
    HeldBack,
    /// Not sent: no token could be had.
    NoToken,
    Sent(Result<IntegrationsResult, QueryError>),
}

pub struct Pipeline {
    client: GenesysClient,
    groups: Vec<GroupSpec>,
    defaults: Thresholds,
    telemetry: Arc<Telemetry>,
    transitions: Mutex<Transitions>,
    org: Arc<str>,
    last_trace: Mutex<Option<Arc<QueryTrace>>>,
    /// Whether to list the integrations, and when they were last listed.
    integrations: bool,
    max_stale: Duration,
    integrations_listed: Mutex<Option<Instant>>,
    forbidden: Mutex<Forbidden>,
}

/// Where a pipeline's queries go and what it does with them.
pub struct PipelineSettings {
    pub groups: Vec<GroupSpec>,
    pub defaults: Thresholds,
    pub integrations: bool,
    pub max_stale: Duration,
}

impl Pipeline {
    pub fn new(
        client: GenesysClient,
        settings: PipelineSettings,
        telemetry: Arc<Telemetry>,
        org: Arc<str>,
    ) -> Self {
        Pipeline {
            client,
            groups: settings.groups,
            defaults: settings.defaults,
            telemetry,
            transitions: Mutex::new(Transitions::default()),
            org,
            last_trace: Mutex::new(None),
            integrations: settings.integrations,
            max_stale: settings.max_stale,
            integrations_listed: Mutex::new(None),
            forbidden: Mutex::new(Forbidden::default()),
        }
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The integrations listing of this cycle, when the collector is on and
    /// no 403 holds it back.
    async fn list_integrations(&self, deadline: Instant) -> Listing {
        if !self.integrations {
            return Listing::Off;
        }
        if !Self::lock(&self.forbidden).allows(Instant::now()) {
            return Listing::HeldBack;
        }
        Listing::Sent(self.client.integrations(deadline).await)
    }

    fn integrations_done(&self, outcome: Listing) {
        match outcome {
            Listing::Off => return,
            Listing::Sent(Ok(result)) => {
                Self::lock(&self.forbidden).allowed();
                *Self::lock(&self.integrations_listed) = Some(Instant::now());
                if result.invalid > 0 {
                    tracing::warn!(org = %self.org, invalid = result.invalid, "skipped malformed integrations");
                    self.telemetry
                        .invalid_rows(&[(INVALID_INTEGRATION, result.invalid)].into());
                }
                let events =
                    Self::lock(&self.transitions).observe_integrations(&result.integrations);
                for event in events {
                    event.log(&self.org);
                }
                self.telemetry
                    .integrations_listed(Arc::new(result.integrations));
                return;
            }
            Listing::Sent(Err(QueryError::Status {
                status: 403,
                detail,
                ..
            })) => {
                let first = Self::lock(&self.forbidden).refused(Instant::now());
                if first {
                    tracing::warn!(
                        org = %self.org,
                        status = 403,
                        code = detail.code.as_deref(),
                        message = detail.message.as_deref(),
                        correlation_id = detail.correlation_id.as_deref(),
                        retry_in_seconds = FORBIDDEN_RETRY.as_secs(),
                        "the OAuth client may not list integrations (it needs the permission integrations:integration:view); asking again in an hour"
                    );
                }
            }
            Listing::Sent(Err(error)) => tracing::warn!(
                org = %self.org,
                reason = error.reason().as_str(),
                error = %error,
                "integrations listing failed"
            ),
            // Held back after a 403: the latest request is still that 403.
            // Without a token nothing was sent; the query's failure says why.
            Listing::HeldBack | Listing::NoToken => {}
        }
        let expired =
            Self::lock(&self.integrations_listed).is_none_or(|at| at.elapsed() > self.max_stale);
        self.telemetry.integrations_failed(expired);
    }

    /// The trace of the latest query, once one has finished.
    pub fn last_trace(&self) -> Option<Arc<QueryTrace>> {
        self.last_trace
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The cycle's requests by endpoint, each endpoint's in the order sent:
    /// the query and the listing run side by side, and the order in which
    /// their answers came back says nothing.
    fn requests(&self) -> Vec<TracedRequest> {
        let mut requests = self.client.take_trace();
        requests.sort_by_key(|r| r.endpoint);
        requests
    }

    fn keep_trace(&self, duration: Duration, outcome: Result<TracedFigures, String>) {
        let trace = QueryTrace {
            finished_at: self.client.clock().now(),
            duration,
            requests: self.requests(),
            outcome,
        };
        *self.last_trace.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(trace));
    }

    fn succeeded(&self, figures: &model::Figures, pages: u32, duration: Duration) {
        let invalid: u64 = figures.invalid.values().sum();
        if invalid > 0 {
            tracing::warn!(org = %self.org, invalid_rows = invalid, reasons = ?figures.invalid, "skipped invalid rows");
        }
        self.telemetry.invalid_rows(&figures.invalid);
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
        self.telemetry.query_finished(LastQuery {
            finished_at: self.client.clock().now(),
            duration,
            pages,
            outcome: Ok(summary),
        });
        let events = self
            .transitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(figures);
        for event in events {
            event.log(&self.org);
        }
    }

    fn failed(&self, error: &QueryError, duration: Duration) {
        let reason = error.reason();
        match error {
            QueryError::Status { status, detail, .. } => tracing::warn!(
                org = %self.org,
                reason = reason.as_str(),
                status,
                code = detail.code.as_deref(),
                message = detail.message.as_deref(),
                context_id = detail.context_id.as_deref(),
                correlation_id = detail.correlation_id.as_deref(),
                duration_seconds = duration.as_secs_f64(),
                error = %error,
                "query failed"
            ),
            _ => tracing::warn!(
                org = %self.org,
                reason = reason.as_str(),
                duration_seconds = duration.as_secs_f64(),
                error = %error,
                "query failed"
            ),
        }
        self.telemetry.query_finished(LastQuery {
            finished_at: self.client.clock().now(),
            duration,
            pages: 0,
            outcome: Err((reason, error.to_string())),
        });
    }
}

impl Source for Pipeline {
    async fn fetch(&self, deadline: Instant) -> Option<Snapshot> {
        let started = Instant::now();
        // Side by side, in the same budget and with the same token: the
        // integrations listing never waits for the query's pages, nor the
        // query for it.
        let (query, integrations) = match self.client.ensure_token(deadline).await {
            Ok(()) => {
                tokio::join!(
                    self.client.query(deadline),
                    self.list_integrations(deadline)
                )
            }
            Err(error) => (
                Err(error),
                match self.integrations {
                    true => Listing::NoToken,
                    false => Listing::Off,
                },
            ),
        };
        self.integrations_done(integrations);
        match query {
            Ok(result) => {
                let figures = model::compute(
                    result.rows,
                    self.client.window(),
                    &self.groups,
                    self.defaults,
                );
                let encoded = figures.encoded_bytes();
                if encoded > model::MAX_ENCODED_BYTES {
                    let error = QueryError::Pagination(format!(
                        "{} series of {} groups would encode to about {} MiB, more than {} MiB (the exposition's budget)",
                        figures.series.len(),
                        figures.groups.len(),
                        encoded >> 20,
                        model::MAX_ENCODED_BYTES >> 20
                    ));
                    self.failed(&error, self.client.clock().since(started));
                    self.keep_trace(self.client.clock().since(started), Err(error.to_string()));
                    return None;
                }
                self.succeeded(&figures, result.pages, self.client.clock().since(started));
                self.keep_trace(
                    self.client.clock().since(started),
                    Ok(TracedFigures {
                        pages: result.pages,
                        rows: figures.valid_rows,
                        invalid: figures.invalid.clone(),
                        groups: figures.groups.clone(),
                    }),
                );
                Some(Snapshot::new(figures))
            }
            Err(error) => {
                self.failed(&error, self.client.clock().since(started));
                self.keep_trace(self.client.clock().since(started), Err(error.to_string()));
                None
            }
        }
    }

    fn cooldown(&self) -> Option<Duration> {
        self.client.cooldown_remaining()
    }

    fn panicked(&self, message: &str) {
        tracing::error!(
            org = %self.org,
            reason = FailureReason::Internal.as_str(),
            panic = message,
            "the query panicked (a bug: please report it); the next scrape queries again"
        );
        self.telemetry.query_finished(LastQuery {
            finished_at: self.client.clock().now(),
            duration: Duration::ZERO,
            pages: 0,
            outcome: Err((
                FailureReason::Internal,
                format!("the query panicked: {message}"),
            )),
        });
        self.keep_trace(Duration::ZERO, Err(format!("panicked: {message}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn after_a_403_the_listing_waits_an_hour() {
        let mut gate = Forbidden::default();
        assert!(gate.allows(Instant::now()));
        assert!(gate.refused(Instant::now()), "the first 403 is logged");
        tokio::time::advance(Duration::from_secs(3599)).await;
        assert!(!gate.allows(Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(gate.allows(Instant::now()), "asked again after an hour");
        assert!(
            !gate.refused(Instant::now()),
            "a 403 again is not logged again"
        );
        assert!(!gate.allows(Instant::now()));
        gate.allowed();
        assert!(gate.allows(Instant::now()));
        assert!(
            gate.refused(Instant::now()),
            "after a success, a 403 is news again"
        );
    }
}
