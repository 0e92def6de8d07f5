//! An organisation's cycle: the token, then its collectors side by side on
//! the shared client, inside one budget and one single flight (the cache's).
//! It knows the collectors only through the registration list.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::cache::{Progress, Source};
use crate::clock::Clock;
use crate::collectors::{Collector, Cycle as Shared};
use crate::genesys::{Endpoint, FailureReason, GenesysClient, QueryError, TracedRequest};

/// What `/probe?debug=true` shows of the latest cycle besides what each
/// collector shows of its own part.
#[derive(Debug, Clone)]
pub struct CycleTrace {
    pub finished_at: SystemTime,
    pub duration: Duration,
    pub requests: Vec<TracedRequest>,
}

pub struct OrgCycle {
    client: Arc<GenesysClient>,
    collectors: Vec<Arc<dyn Collector>>,
    org: Arc<str>,
    clock: Clock,
    last_trace: Mutex<Option<Arc<CycleTrace>>>,
    /// Whether its first cycle was said to start, and its outcome logged.
    started: AtomicBool,
    announced: AtomicBool,
}

impl OrgCycle {
    pub fn new(
        client: Arc<GenesysClient>,
        collectors: Vec<Arc<dyn Collector>>,
        org: Arc<str>,
        clock: Clock,
    ) -> OrgCycle {
        OrgCycle {
            client,
            collectors,
            org,
            clock,
            last_trace: Mutex::new(None),
            started: AtomicBool::new(false),
            announced: AtomicBool::new(false),
        }
    }

    /// The trace of the latest cycle, once one has finished.
    pub fn last_trace(&self) -> Option<Arc<CycleTrace>> {
        self.last_trace
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The cycle's requests by endpoint, each endpoint's in the order sent:
    /// the collectors run side by side, and the order in which their
    /// answers came back says nothing.
    fn keep_trace(&self, duration: Duration) {
        let mut requests = self.client.take_trace();
        requests.sort_by_key(|r| r.endpoint);
        let trace = CycleTrace {
            finished_at: self.clock.now(),
            duration,
            requests,
        };
        *self.last_trace.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(trace));
    }
}

impl OrgCycle {
    /// Says once, after its first cycle, where the organisation's requests
    /// go and how they went: the first thing a newcomer reads in the log.
    fn announce(&self, no_token: Option<&QueryError>, enabled: &[&Arc<dyn Collector>]) {
        if self.announced.swap(true, Ordering::SeqCst) {
            return;
        }
        let login_host = self.client.host(Endpoint::TOKEN);
        let api_host = self.client.api_url();
        if let Some(error) = no_token {
            return tracing::warn!(
                org = %self.org,
                login_host = %login_host,
                api_url = api_host,
                reason = error.reason().as_str(),
                error = %error,
                "first cycle: no access token, so nothing was asked; the exporter answers scrapes \
                 with genesys_eventbridge_up 0 and tries again at each scrape past --cache.ttl"
            );
        }
        let outcomes: Vec<Result<String, String>> =
            enabled.iter().filter_map(|c| c.outcome()).collect();
        let failed = outcomes.iter().any(Result::is_err);
        let outcome = (outcomes.into_iter())
            .map(|o| o.unwrap_or_else(|e| e))
            .collect::<Vec<_>>()
            .join("; ");
        if failed {
            tracing::warn!(org = %self.org, login_host = %login_host, api_url = api_host, token = "obtained", outcome, "first cycle: access token obtained; not every request succeeded");
        } else {
            tracing::info!(org = %self.org, login_host = %login_host, api_url = api_host, token = "obtained", outcome, "first cycle: access token obtained; every request succeeded");
        }
    }
}

impl Source for OrgCycle {
    async fn fetch(&self, deadline: Instant, progress: Progress) {
        let cycle = Shared {
            client: &self.client,
            started: Instant::now(),
            deadline,
        };
        let enabled: Vec<&Arc<dyn Collector>> = (self.collectors.iter())
            .filter(|c| c.enabled() && c.uses_genesys())
            .collect();
        if enabled.is_empty() {
            return;
        }
        if !self.started.swap(true, Ordering::SeqCst) {
            // Said before the first request: an unreachable host can take
            // the whole budget to fail.
            tracing::info!(
                org = %self.org,
                login_host = %self.client.host(Endpoint::TOKEN),
                api_url = self.client.api_url(),
                budget_seconds = deadline.saturating_duration_since(Instant::now()).as_millis() as f64 / 1000.0,
                "first cycle: asking for an access token, then the requests of each collector"
            );
        }
        // The token first, so that the collectors' requests share it and a
        // token endpoint that fails is asked once per cycle.
        let token = self.client.ensure_token(deadline).await;
        match &token {
            Ok(()) => {
                let runs = enabled.iter().map(|c| async {
                    c.collect(&cycle).await;
                    if c.is_main() {
                        progress.main_done();
                    }
                });
                futures_util::future::join_all(runs).await;
            }
            Err(error) => {
                for c in &enabled {
                    c.no_token(&cycle, error);
                }
            }
        }
        self.keep_trace(self.clock.since(cycle.started));
        self.announce(token.as_ref().err(), &enabled);
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
        for c in self.collectors.iter().filter(|c| c.enabled()) {
            c.panicked(message);
        }
        self.keep_trace(Duration::ZERO);
    }
}
