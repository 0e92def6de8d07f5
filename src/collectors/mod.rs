//! One module per upstream signal: a collector owns everything about its
//! signal (its requests and paging, decoding and invalid-row reasons, its
//! state between cycles and audit events, its metric declarations and
//! series, its section of the debug trace and its landing-page facts). An
//! organisation's cycle runs its collectors side by side on the shared
//! Genesys client; see `docs/architecture.md`.
//!
//! A collector imports no other collector.

pub mod analytics;
pub mod aws;
pub mod integrations;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::clock::Clock;
use crate::config::OrgSettings;
use crate::discovery::Discovery;
use crate::exposition::Metric;
use crate::genesys::{GenesysClient, QueryError};
use crate::report::Report;

/// A collector's work of one cycle.
pub type Collecting<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// What the collectors of one cycle share: the client (with its token
/// already fetched), the cycle's start and its deadline.
pub struct Cycle<'a> {
    pub client: &'a GenesysClient,
    pub started: Instant,
    pub deadline: Instant,
}

pub trait Collector: Report {
    /// Whether it runs (`--collector.NAME`): one that is off sends no
    /// request and exports none of its series.
    fn enabled(&self) -> bool;

    /// The reasons it counts invalid rows by, exported from the start at 0.
    fn invalid_reasons(&self) -> &'static [&'static str] {
        &[]
    }

    /// Sends its requests of one cycle, giving up at the cycle's deadline,
    /// and keeps what they yield; records and logs its failures.
    fn collect<'a>(&'a self, cycle: &'a Cycle<'a>) -> Collecting<'a>;

    /// The cycle got no token, so nothing was sent: `error` says why.
    fn no_token(&self, cycle: &Cycle<'_>, error: &QueryError);

    /// The cycle panicked (a bug); the next scrape starts another.
    fn panicked(&self, _message: &str) {}

    /// Its latest cycle's outcome in a few words, good or bad, for the line
    /// that says how an organisation's first cycle went.
    fn outcome(&self) -> Option<Result<String, String>> {
        None
    }

    /// Whether it is the cycle's main request, which a scrape waits for
    /// within its whole budget (the analytics query); a scrape waits for
    /// the others at most `budget::AFTER_MAIN` longer.
    fn is_main(&self) -> bool {
        false
    }

    /// Whether it asks Genesys Cloud, and so runs in the organisation's
    /// cycle behind its token.
    fn uses_genesys(&self) -> bool {
        true
    }

    /// What a scrape with `budget` waits for besides the organisation's
    /// cycle: a collector with a cycle of its own (the AWS collector's TTL
    /// is not the Genesys one) starts or joins it here.
    fn refresh(&self, _budget: Duration) -> Collecting<'_> {
        Box::pin(async {})
    }
}

/// An organisation's collectors, and everything that reports on it in the
/// order of its answer, its debug trace and its landing page.
#[derive(Default)]
pub struct Registered {
    pub collectors: Vec<Arc<dyn Collector>>,
    pub reports: Vec<Arc<dyn Report>>,
}

impl Registered {
    fn add(&mut self, collector: impl Collector + 'static) {
        let collector = Arc::new(collector);
        self.collectors.push(collector.clone());
        self.reports.push(collector);
    }
}

/// Every collector's metric families, for the catalogue.
pub const FAMILIES: [&[Metric]; 3] = [
    analytics::series::ALL,
    integrations::series::ALL,
    aws::series::ALL,
];

/// The registration list: the collectors of an organisation with `settings`,
/// one line each, around the Genesys client's own report.
/// `access` says where the AWS collector's requests go.
pub fn register(
    settings: &OrgSettings,
    client: Arc<GenesysClient>,
    org: &Arc<str>,
    access: aws::sdk::Access,
    clock: Clock,
) -> Registered {
    let mut registered = Registered::default();
    registered.add(analytics::Analytics::new(settings, org.clone(), clock));
    // The client's series (requests, token, rate limits) and its cooldown
    // come after the analytics query's, as they always have.
    registered.reports.push(client);
    // The integrations discover the AWS collector's sources unless
    // `aws.event_sources` names them.
    let discovery = Arc::new(Discovery::default());
    let discovers = settings.collectors.aws && settings.aws.event_sources.is_empty();
    let published = discovers.then(|| discovery.clone());
    registered.add(integrations::Integrations::new(
        settings,
        org.clone(),
        published,
    ));
    registered.add(aws::Aws::new(
        settings,
        org.clone(),
        discovery,
        access,
        clock,
    ));
    registered
}
