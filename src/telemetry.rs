//! The exporter's account of itself: query outcomes, API requests, tokens,
//! rate-limit headers and invalid rows. Written by the client and the
//! pipeline, read by the exposition and the landing page.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::integration::Integration;

/// Reasons an upstream row is skipped, each exported from the start at 0.
pub const INVALID_ROW_REASONS: [&str; 6] = [
    "not_object",
    "missing_field",
    "null_field",
    "wrong_type",
    "invalid_value",
    INVALID_INTEGRATION,
];

/// The reason counted for a malformed entity of the integrations listing.
pub const INVALID_INTEGRATION: &str = "invalid_integration";

/// The organisation's EventBridge integrations as last listed.
#[derive(Debug, Clone)]
pub struct IntegrationsSeen {
    /// The latest integrations request succeeded.
    pub up: bool,
    /// From the latest successful listing, until it is older than
    /// `--cache.max-stale`.
    pub list: Arc<Vec<Integration>>,
}

/// The `reason` label of `genesys_eventbridge_query_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureReason {
    RateLimited,
    Unauthorized,
    Forbidden,
    BadRequest,
    Http,
    Timeout,
    Connect,
    Decode,
    Pagination,
    /// A bug: the query panicked.
    Internal,
}

impl FailureReason {
    pub const ALL: [FailureReason; 10] = [
        FailureReason::RateLimited,
        FailureReason::Unauthorized,
        FailureReason::Forbidden,
        FailureReason::BadRequest,
        FailureReason::Http,
        FailureReason::Timeout,
        FailureReason::Connect,
        FailureReason::Decode,
        FailureReason::Pagination,
        FailureReason::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::RateLimited => "rate_limited",
            FailureReason::Unauthorized => "unauthorized",
            FailureReason::Forbidden => "forbidden",
            FailureReason::BadRequest => "bad_request",
            FailureReason::Http => "http",
            FailureReason::Timeout => "timeout",
            FailureReason::Connect => "connect",
            FailureReason::Decode => "decode",
            FailureReason::Pagination => "pagination",
            FailureReason::Internal => "internal",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which API endpoint a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    Token,
    Query,
    Integrations,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Query => "query",
            Endpoint::Integrations => "integrations",
        }
    }
}

/// One request of a query, for the debug trace of `/probe?debug=true`:
/// never a header value but the correlation id, never a token.
#[derive(Debug, Clone)]
pub struct TracedRequest {
    pub endpoint: Endpoint,
    pub method: &'static str,
    pub path: String,
    /// `None` when no answer arrived.
    pub status: Option<u16>,
    pub duration: Duration,
    pub correlation_id: Option<String>,
    pub error: Option<String>,
}

/// The `inin-ratelimit-*` headers of the latest response that had them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateLimitHeaders {
    pub allowed: Option<f64>,
    pub count: Option<f64>,
    pub reset_seconds: Option<f64>,
}

/// How the latest query ended, for `up` and the landing page.
#[derive(Debug, Clone)]
pub struct LastQuery {
    pub finished_at: SystemTime,
    pub duration: Duration,
    pub pages: u32,
    pub outcome: Result<QuerySummary, (FailureReason, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuerySummary {
    pub rows: usize,
    pub groups: usize,
    pub invalid_rows: u64,
}

#[derive(Debug, Clone, Default)]
pub struct TelemetryState {
    /// Bumped by every change, so that a reader can tell whether what it
    /// made of an earlier copy still holds.
    pub generation: u64,
    pub queries: u64,
    pub failures: BTreeMap<FailureReason, u64>,
    pub api_requests: BTreeMap<(Endpoint, u16), u64>,
    pub token_requests: u64,
    pub token_expiry: Option<SystemTime>,
    pub rate_limit: RateLimitHeaders,
    pub invalid_rows: BTreeMap<&'static str, u64>,
    pub last_query: Option<LastQuery>,
    pub last_success: Option<SystemTime>,
    /// `None` with `--no-collector.integrations`, or before the first listing.
    pub integrations: Option<IntegrationsSeen>,
}

/// Shared, cheap to update: one short lock per event, far from any hot loop.
#[derive(Debug, Default)]
pub struct Telemetry {
    state: Mutex<TelemetryState>,
}

impl Telemetry {
    pub fn new() -> Self {
        let mut state = TelemetryState::default();
        for reason in FailureReason::ALL {
            state.failures.insert(reason, 0);
        }
        for reason in INVALID_ROW_REASONS {
            state.invalid_rows.insert(reason, 0);
        }
        Telemetry {
            state: Mutex::new(state),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TelemetryState> {
        // A panic while holding this lock cannot leave the counters inconsistent
        // in a way that matters more than losing them, so poisoning is ignored.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies one change and bumps the generation.
    fn with<R>(&self, f: impl FnOnce(&mut TelemetryState) -> R) -> R {
        let mut guard = self.lock();
        guard.generation += 1;
        f(&mut guard)
    }

    /// A copy of everything.
    pub fn read(&self) -> TelemetryState {
        self.lock().clone()
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    pub fn api_response(&self, endpoint: Endpoint, status: u16) {
        self.with(|s| *s.api_requests.entry((endpoint, status)).or_default() += 1);
    }

    pub fn rate_limit_headers(&self, headers: RateLimitHeaders) {
        self.with(|s| s.rate_limit = headers);
    }

    pub fn token_requested(&self) {
        self.with(|s| s.token_requests += 1);
    }

    pub fn token_issued(&self, expiry: SystemTime) {
        self.with(|s| s.token_expiry = Some(expiry));
    }

    pub fn invalid_rows(&self, counts: &BTreeMap<&'static str, u64>) {
        self.with(|s| {
            for (reason, n) in counts {
                *s.invalid_rows.entry(reason).or_default() += n;
            }
        });
    }

    /// A listing that succeeded.
    pub fn integrations_listed(&self, list: Arc<Vec<Integration>>) {
        self.with(|s| s.integrations = Some(IntegrationsSeen { up: true, list }));
    }

    /// A listing that failed (or was not sent after a 403); the list kept
    /// unless `expired`.
    pub fn integrations_failed(&self, expired: bool) {
        self.with(|s| {
            let list = match (&s.integrations, expired) {
                (Some(seen), false) => seen.list.clone(),
                _ => Arc::default(),
            };
            s.integrations = Some(IntegrationsSeen { up: false, list });
        });
    }

    pub fn query_finished(&self, last: LastQuery) {
        self.with(|s| {
            s.queries += 1;
            match &last.outcome {
                Ok(_) => s.last_success = Some(last.finished_at),
                Err((reason, _)) => *s.failures.entry(*reason).or_default() += 1,
            }
            s.last_query = Some(last);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_bumps_the_generation_and_reads_do_not() {
        let t = Telemetry::new();
        let g0 = t.generation();
        let _ = t.read();
        assert_eq!(t.generation(), g0);
        t.token_requested();
        assert_eq!(t.generation(), g0 + 1);
        t.api_response(Endpoint::Query, 200);
        assert_eq!(t.read().generation, g0 + 2);
    }
}
