//! One query from end to end: the client fetches rows, the model turns them
//! into figures, telemetry and audit record the outcome. The cache calls this.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::audit::Transitions;
use crate::cache::{Snapshot, Source};
use crate::genesys::{GenesysClient, QueryError};
use crate::model::{self, GroupFigures, GroupSpec, Thresholds};
use crate::telemetry::{LastQuery, QuerySummary, Telemetry, TracedRequest};

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

pub struct Pipeline {
    client: GenesysClient,
    groups: Vec<GroupSpec>,
    defaults: Thresholds,
    telemetry: Arc<Telemetry>,
    transitions: Mutex<Transitions>,
    org: Arc<str>,
    last_trace: Mutex<Option<Arc<QueryTrace>>>,
}

impl Pipeline {
    pub fn new(
        client: GenesysClient,
        groups: Vec<GroupSpec>,
        defaults: Thresholds,
        telemetry: Arc<Telemetry>,
        org: Arc<str>,
    ) -> Self {
        Pipeline {
            client,
            groups,
            defaults,
            telemetry,
            transitions: Mutex::new(Transitions::default()),
            org,
            last_trace: Mutex::new(None),
        }
    }

    /// The trace of the latest query, once one has finished.
    pub fn last_trace(&self) -> Option<Arc<QueryTrace>> {
        self.last_trace
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn keep_trace(&self, duration: Duration, outcome: Result<TracedFigures, String>) {
        let trace = QueryTrace {
            finished_at: SystemTime::now(),
            duration,
            requests: self.client.take_trace(),
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
            finished_at: SystemTime::now(),
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
            finished_at: SystemTime::now(),
            duration,
            pages: 0,
            outcome: Err((reason, error.to_string())),
        });
    }
}

impl Source for Pipeline {
    async fn fetch(&self, deadline: Instant) -> Option<Snapshot> {
        let started = Instant::now();
        match self.client.query(deadline).await {
            Ok(result) => {
                let figures = model::compute(
                    result.rows,
                    self.client.window(),
                    &self.groups,
                    self.defaults,
                );
                self.succeeded(&figures, result.pages, started.elapsed());
                self.keep_trace(
                    started.elapsed(),
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
                self.failed(&error, started.elapsed());
                self.keep_trace(started.elapsed(), Err(error.to_string()));
                None
            }
        }
    }

    fn cooldown(&self) -> Option<Duration> {
        self.client.cooldown_remaining()
    }
}
