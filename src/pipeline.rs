//! One query from end to end: the client fetches rows, the model turns them
//! into figures, telemetry and audit record the outcome. The cache calls this.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::audit::Transitions;
use crate::cache::{Snapshot, Source};
use crate::genesys::{GenesysClient, QueryError};
use crate::model;
use crate::model::{GroupSpec, Thresholds};
use crate::telemetry::{LastQuery, QuerySummary, Telemetry};

pub struct Pipeline {
    client: GenesysClient,
    groups: Vec<GroupSpec>,
    defaults: Thresholds,
    telemetry: Arc<Telemetry>,
    transitions: Mutex<Transitions>,
}

impl Pipeline {
    pub fn new(
        client: GenesysClient,
        groups: Vec<GroupSpec>,
        defaults: Thresholds,
        telemetry: Arc<Telemetry>,
    ) -> Self {
        Pipeline {
            client,
            groups,
            defaults,
            telemetry,
            transitions: Mutex::new(Transitions::default()),
        }
    }

    fn succeeded(&self, figures: &model::Figures, pages: u32, duration: Duration) {
        let invalid: u64 = figures.invalid.values().sum();
        if invalid > 0 {
            tracing::warn!(invalid_rows = invalid, reasons = ?figures.invalid, "skipped invalid rows");
        }
        self.telemetry.invalid_rows(&figures.invalid);
        let summary = QuerySummary {
            rows: figures.valid_rows,
            groups: figures.groups.len(),
            invalid_rows: invalid,
        };
        tracing::debug!(
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
            event.log();
        }
    }

    fn failed(&self, error: &QueryError, duration: Duration) {
        let reason = error.reason();
        match error {
            QueryError::Status { status, detail, .. } => tracing::warn!(
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
                Some(Snapshot::new(figures))
            }
            Err(error) => {
                self.failed(&error, started.elapsed());
                None
            }
        }
    }

    fn cooldown(&self) -> Option<Duration> {
        self.client.cooldown_remaining()
    }
}
