//! The AWS collector (contract section 12): the delivery path behind each
//! EventBridge integration. Per partner event source (discovered from the
//! integrations, or named), its state, its bus's rules, their targets and
//! CloudWatch's figures of the last whole period. It runs on its own TTL
//! and single flight (`aws.cache.ttl`), started by scrapes like the Genesys
//! cycle but apart from it: AWS and Genesys fail independently.
//!
//! Its SDK clients (`sdk`), requests and their ledger (`calls`), error
//! kinds (`errors`), data (`model`), audit events (`audit`), series
//! (`series`) and views (`view`).

pub mod audit;
pub mod calls;
pub mod errors;
pub mod model;
mod path;
pub mod sdk;
pub mod series;
mod view;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use self::calls::{CallError, Caller};
use self::model::Path;
use self::sdk::{Access, Sdk};
use super::{Collecting, Collector, Cycle};
use crate::cache::{CycleCache, Latest, Progress, Source};
use crate::clock::Clock;
use crate::config::{AwsSettings, OrgSettings};
use crate::discovery::Discovery;
use crate::exposition::{Encoded, Format, Series};
use crate::genesys::QueryError;
use crate::genesys::backoff::Backoff;
use crate::report::Report;

/// After throttling: no request for 5 s, doubling to 5 min, jittered.
fn cooldown_backoff() -> Backoff {
    Backoff::new(Duration::from_secs(5), Duration::from_secs(300), 0.2).expect("a valid backoff")
}

pub struct Aws {
    enabled: bool,
    cache: CycleCache<AwsCycle>,
}

impl Aws {
    pub fn new(
        settings: &OrgSettings,
        org: Arc<str>,
        discovery: Arc<Discovery>,
        access: Access,
        clock: Clock,
    ) -> Aws {
        let aws = settings.aws.clone();
        let caller = Arc::new(Caller::new(clock));
        let cycle = AwsCycle {
            org,
            sdk: Sdk::new(&aws, access, clock, caller.clone()),
            lag_threshold: settings.default_thresholds.max_lag,
            caller,
            discovery,
            clock,
            latest: Latest::new(settings.cache.max_stale),
            record: Mutex::new(Record::default()),
            settings: aws,
        };
        Aws {
            enabled: settings.collectors.aws,
            cache: CycleCache::new(cycle, settings.aws.ttl),
        }
    }

    fn cycle(&self) -> &AwsCycle {
        self.cache.source()
    }
}

/// What the cycles leave for the series and views.
#[derive(Debug, Default)]
struct Record {
    /// Bumped by every cycle.
    generation: u64,
    /// The latest cycle succeeded in every call; `None` before the first.
    up: Option<bool>,
    /// Why the latest cycle failed.
    error: Option<String>,
    finished: Option<(SystemTime, Duration)>,
    /// Throttled: no request until then; and how many times in a row.
    cooldown: Option<(Instant, u32)>,
    transitions: audit::Transitions,
}

pub struct AwsCycle {
    org: Arc<str>,
    settings: AwsSettings,
    /// The organisation's lag threshold: a rule's unless `aws.rules` gives one.
    lag_threshold: Duration,
    sdk: Sdk,
    /// Shared with the SDK's STS client, whose requests it records too.
    caller: Arc<Caller>,
    discovery: Arc<Discovery>,
    clock: Clock,
    latest: Latest<Path>,
    record: Mutex<Record>,
}

impl AwsCycle {
    fn lock(&self) -> MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn succeeded(&self, path: Path, took: Duration) {
        let mut record = self.lock();
        for event in record.transitions.observe(&path) {
            event.log(&self.org);
        }
        record.up = Some(true);
        record.error = None;
        record.cooldown = None;
        record.finished = Some((self.clock.now(), took));
        record.generation += 1;
        drop(record);
        self.latest.keep(path);
    }

    fn failed(&self, error: CallError, took: Duration) {
        let mut record = self.lock();
        record.up = Some(false);
        record.error = Some(error.to_string());
        record.finished = Some((self.clock.now(), took));
        record.generation += 1;
        let org = &*self.org;
        match &error {
            CallError::Throttled { op, message } => {
                let attempt = record.cooldown.map_or(0, |(_, n)| n);
                let wait = cooldown_backoff().delay(attempt);
                record.cooldown = Some((Instant::now() + wait, attempt + 1));
                tracing::warn!(
                    org,
                    service = op.service(),
                    operation = op.name(),
                    cooldown_seconds = wait.as_secs(),
                    error = %message,
                    "AWS throttled the collector: no AWS request until the cooldown ends; the last figures are served"
                );
            }
            CallError::Denied { op, message } => tracing::warn!(
                org,
                service = op.service(),
                operation = op.name(),
                action = op.action(),
                retry_in_seconds = crate::genesys::gate::HOLD.as_secs(),
                error = %message,
                "AWS refused the collector: its identity needs the IAM action {}; asking again in an hour",
                op.action()
            ),
            CallError::Held { op } => tracing::debug!(
                org,
                operation = op.name(),
                "AWS operation held back after it was refused"
            ),
            error => {
                // The SDK's chains (credentials, connections) span lines.
                let error = error.to_string().replace('\n', "; ");
                let served = match self.latest.servable() {
                    Some(_) => "the last good figures are served",
                    None => "no AWS figures yet",
                };
                tracing::warn!(org, error = %error, "AWS cycle failed: {served}")
            }
        }
    }
}

impl Source for AwsCycle {
    /// Its calls depend on each other: the scrape waits for all of them.
    async fn fetch(&self, deadline: Instant, _progress: Progress) {
        let started = Instant::now();
        self.caller.lock().trace.clear();
        let result = path::collect(self, deadline).await;
        self.caller.sort_trace();
        let took = self.clock.since(started);
        match result {
            Ok(path) => self.succeeded(path, took),
            Err(error) => self.failed(error, took),
        }
    }

    fn cooldown(&self) -> Option<Duration> {
        let (until, _) = self.lock().cooldown?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    fn panicked(&self, message: &str) {
        tracing::error!(org = %self.org, panic = message, "the AWS cycle panicked (a bug: please report it)");
        let mut record = self.lock();
        record.up = Some(false);
        record.error = Some(format!("panicked: {message}"));
        record.generation += 1;
    }
}

impl Collector for Aws {
    fn enabled(&self) -> bool {
        self.enabled
    }

    /// Its requests go to AWS, not Genesys Cloud: it needs no token.
    fn uses_genesys(&self) -> bool {
        false
    }

    fn collect<'a>(&'a self, _cycle: &'a Cycle<'a>) -> Collecting<'a> {
        Box::pin(async {})
    }

    fn no_token(&self, _cycle: &Cycle<'_>, _error: &QueryError) {}

    /// Its own cycle, on its own TTL.
    fn refresh(&self, budget: Duration) -> Collecting<'_> {
        Box::pin(async move {
            if self.enabled {
                self.cache.get(budget).await;
            }
        })
    }
}

impl Series for Aws {
    fn generation(&self) -> u64 {
        self.cycle().lock().generation
    }

    fn state(&self) -> Option<Box<dyn prometheus_client::collector::Collector>> {
        if !self.enabled {
            return None;
        }
        let cycle = self.cycle();
        let up = cycle.lock().up;
        let ledger = cycle.caller.lock();
        Some(Box::new(series::Own {
            up: up.unwrap_or(false),
            requests: ledger.requests.clone(),
            metrics_requested: ledger.metrics_requested,
        }))
    }

    fn snapshot(&self, format: Format) -> Option<Arc<Encoded>> {
        if !self.enabled {
            return None;
        }
        let served = self.cycle().latest.servable()?;
        Some(served.encoded(format, |path| series::encode_path(format, path)))
    }
}

impl Report for Aws {
    fn trace(&self, out: &mut String) {
        if !self.enabled {
            return out.push_str("\nAWS: off (--collector.aws to turn it on)\n");
        }
        let cycle = self.cycle();
        let record = cycle.lock();
        let path = cycle.latest.servable();
        let ledger = cycle.caller.lock();
        view::trace(out, &ledger.trace, record.error.as_deref(), path.as_deref());
    }

    fn status(&self, html: &mut String, clock: Clock) {
        if !self.enabled {
            return;
        }
        let cycle = self.cycle();
        let record = cycle.lock();
        view::status(
            html,
            record.up,
            record.error.as_deref(),
            record.finished,
            clock,
        );
    }

    fn findings(&self, html: &mut String, _clock: Clock) {
        if !self.enabled {
            return;
        }
        if let Some(path) = self.cycle().latest.servable() {
            view::table(html, &path.data);
        }
    }
}
