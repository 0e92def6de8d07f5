//! The integrations collector: the organisation's Amazon EventBridge
//! integrations from Genesys Cloud's integrations API, whether each is meant
//! to run and the state it reports. Its requests (`listing`), decoding
//! (`decode`, `integration`), audit events (`audit`) and series (`series`).

pub mod audit;
pub mod decode;
pub mod discover;
pub mod integration;
pub mod listing;
pub mod series;
mod view;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use self::integration::Integration;
use self::listing::IntegrationsResult;
use super::{Collecting, Collector, Cycle};
use crate::clock::Clock;
use crate::config::OrgSettings;
use crate::discovery::Discovery;
use crate::exposition::Series;
use crate::genesys::{Endpoint, Gate, QueryError, gate};
use crate::report::{Report, count};

/// Its endpoint: the `endpoint` label of its requests.
pub const LISTING: Endpoint = Endpoint::new(2, "integrations");

/// The reason counted for a malformed entity of the listing.
pub const INVALID_INTEGRATION: &str = "invalid_integration";

/// The integrations as last listed.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The latest listing succeeded.
    pub up: bool,
    /// From the latest successful listing, until it is older than
    /// `--cache.max-stale`.
    pub list: Arc<Vec<Integration>>,
}

#[derive(Debug, Default)]
struct Record {
    /// Bumped by every change of `seen`.
    generation: u64,
    /// `None` before the first listing.
    seen: Option<Seen>,
    listed_at: Option<Instant>,
    /// Held back after a 403.
    forbidden: Gate,
    transitions: audit::Transitions,
}

pub struct Integrations {
    org: Arc<str>,
    /// `--collector.integrations`.
    enabled: bool,
    max_stale: Duration,
    record: Mutex<Record>,
    /// Where the partner sources found are published, when the AWS
    /// collector discovers them.
    discovery: Option<(Arc<Discovery>, discover::Discoverer)>,
}

impl Integrations {
    /// `discovery` is where the AWS collector reads the sources, when it
    /// needs them discovered.
    pub fn new(
        settings: &OrgSettings,
        org: Arc<str>,
        discovery: Option<Arc<Discovery>>,
    ) -> Integrations {
        Integrations {
            org,
            enabled: settings.collectors.integrations,
            max_stale: settings.cache.max_stale,
            record: Mutex::new(Record::default()),
            discovery: discovery.map(|d| (d, discover::Discoverer::default())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn seen(&self) -> Option<Seen> {
        self.lock().seen.clone()
    }

    async fn run(&self, cycle: &Cycle<'_>) {
        // Held back after a 403: the latest request is still that 403.
        if !self.lock().forbidden.allows(Instant::now()) {
            return self.not_listed();
        }
        match listing::run(cycle.client, cycle.deadline).await {
            Ok(result) => {
                let list = self.listed(cycle, result);
                self.discover(cycle, &list).await;
            }
            Err(error) => {
                self.undiscovered(&error);
                self.failed(cycle, &error);
            }
        }
    }

    /// The partner sources of the integrations just listed, for the AWS
    /// collector; on failure it keeps what it had.
    async fn discover(&self, cycle: &Cycle<'_>, list: &[Integration]) {
        let Some((discovery, discoverer)) = &self.discovery else {
            return;
        };
        match discoverer
            .run(cycle.client, list, cycle.deadline, &self.org)
            .await
        {
            Ok(found) => discovery.publish(found),
            Err(error) => {
                let endpoint = error.endpoint().unwrap_or(discover::ORGANIZATION);
                tracing::warn!(
                    org = %self.org,
                    reason = error.reason().as_str(),
                    endpoint = endpoint.as_str(),
                    host = %cycle.client.host(endpoint),
                    error = %error,
                    "cannot read the organisation's id (GET /api/v2/organizations/me): its event sources are not discovered"
                );
                discovery.failed(format!("GET /api/v2/organizations/me: {error}"));
            }
        }
    }

    /// Discovery had nothing to go on this cycle.
    fn undiscovered(&self, why: &dyn std::fmt::Display) {
        if let Some((discovery, _)) = &self.discovery {
            discovery.failed(format!("the integrations listing failed: {why}"));
        }
    }

    fn listed(&self, cycle: &Cycle<'_>, result: IntegrationsResult) -> Arc<Vec<Integration>> {
        if result.invalid > 0 {
            tracing::warn!(org = %self.org, invalid = result.invalid, "skipped malformed integrations");
            let counts = [(INVALID_INTEGRATION, result.invalid)].into();
            cycle.client.telemetry().invalid_rows(&counts);
        }
        let mut record = self.lock();
        record.forbidden.answered();
        record.listed_at = Some(Instant::now());
        for event in record.transitions.observe(&result.integrations) {
            event.log(&self.org);
        }
        record.generation += 1;
        let list = Arc::new(result.integrations);
        record.seen = Some(Seen {
            up: true,
            list: list.clone(),
        });
        list
    }

    fn failed(&self, cycle: &Cycle<'_>, error: &QueryError) {
        let endpoint = error.endpoint().unwrap_or(LISTING);
        let host = cycle.client.host(endpoint);
        match error {
            QueryError::Status {
                status: 403,
                detail,
                ..
            } => {
                if self.lock().forbidden.refused(Instant::now()) {
                    tracing::warn!(
                        org = %self.org,
                        endpoint = endpoint.as_str(),
                        host = %host,
                        status = 403,
                        code = detail.code.as_deref(),
                        message = detail.message.as_deref(),
                        correlation_id = detail.correlation_id.as_deref(),
                        retry_in_seconds = gate::HOLD.as_secs(),
                        "the OAuth client may not list integrations (it needs the permission integrations:integration:view); asking again in an hour"
                    );
                }
            }
            error => tracing::warn!(
                org = %self.org,
                reason = error.reason().as_str(),
                endpoint = endpoint.as_str(),
                host = %host,
                attempts = cycle.client.attempts(endpoint),
                duration_seconds = cycle.started.elapsed().as_secs_f64(),
                error = %error,
                "integrations listing failed"
            ),
        }
        self.not_listed();
    }

    /// No listing this cycle: `up` is 0, and the list is kept until it is
    /// older than max-stale.
    fn not_listed(&self) {
        let mut record = self.lock();
        let expired = record
            .listed_at
            .is_none_or(|at| at.elapsed() > self.max_stale);
        let list = match (&record.seen, expired) {
            (Some(seen), false) => seen.list.clone(),
            _ => Arc::default(),
        };
        record.generation += 1;
        record.seen = Some(Seen { up: false, list });
    }
}

impl Collector for Integrations {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn invalid_reasons(&self) -> &'static [&'static str] {
        &[INVALID_INTEGRATION]
    }

    fn collect<'a>(&'a self, cycle: &'a Cycle<'a>) -> Collecting<'a> {
        Box::pin(self.run(cycle))
    }

    fn outcome(&self) -> Option<Result<String, String>> {
        let seen = self.seen()?;
        Some(match seen.up {
            true => Ok(format!(
                "integrations listed ({})",
                count(seen.list.len() as u64, "EventBridge integration")
            )),
            false => Err("integrations listing failed".to_string()),
        })
    }

    /// Without a token nothing was sent; the analytics query's failure says why.
    fn no_token(&self, _cycle: &Cycle<'_>, error: &QueryError) {
        self.undiscovered(error);
        self.not_listed();
    }
}

impl Series for Integrations {
    fn generation(&self) -> u64 {
        self.lock().generation
    }

    fn state(&self) -> Option<Box<dyn prometheus_client::collector::Collector>> {
        let seen = self.seen()?;
        Some(Box::new(series::State(seen)))
    }
}

impl Report for Integrations {
    fn trace(&self, out: &mut String) {
        view::trace(out, self.seen().as_ref(), self.enabled);
    }

    fn status(&self, html: &mut String, _clock: Clock) {
        if !self.enabled {
            return html
                .push_str("<p>The integrations listing is off (--no-collector.integrations).</p>");
        }
        if let Some(seen) = self.seen() {
            view::status(html, &seen);
        }
    }
}
