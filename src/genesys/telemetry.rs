//! The Genesys client's account of itself, per organisation: API responses
//! by endpoint and status, tokens, rate-limit headers, and the invalid rows
//! its collectors skipped. Written by the client and the collectors, read by
//! the client's series.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Which API endpoint a request went to: the `endpoint` label. Ordered by
/// rank, so that series and traces list the token endpoint first and then
/// each collector's endpoints in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    rank: u8,
    name: &'static str,
}

impl Endpoint {
    /// The OAuth token endpoint: the client's own.
    pub const TOKEN: Endpoint = Endpoint::new(0, "token");

    /// A collector's endpoint; `rank` places it among the others.
    pub const fn new(rank: u8, name: &'static str) -> Endpoint {
        Endpoint { rank, name }
    }

    pub fn as_str(self) -> &'static str {
        self.name
    }
}

/// One request of a cycle, for the debug trace of `/probe?debug=true`:
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

#[derive(Debug, Clone, Default)]
pub struct TelemetryState {
    /// Bumped by every change, so that a reader can tell whether what it
    /// made of an earlier copy still holds.
    pub generation: u64,
    pub api_requests: BTreeMap<(Endpoint, u16), u64>,
    pub token_requests: u64,
    pub token_expiry: Option<SystemTime>,
    pub rate_limit: RateLimitHeaders,
    pub invalid_rows: BTreeMap<&'static str, u64>,
}

/// Shared, cheap to update: one short lock per event, far from any hot loop.
#[derive(Debug, Default)]
pub struct Telemetry {
    state: Mutex<TelemetryState>,
}

impl Telemetry {
    pub fn new() -> Self {
        Telemetry::default()
    }

    /// Reasons the collectors may count invalid rows by: exported from the
    /// start, at 0.
    pub fn declare_invalid_reasons(&self, reasons: impl IntoIterator<Item = &'static str>) {
        self.with(|s| {
            for reason in reasons {
                s.invalid_rows.entry(reason).or_default();
            }
        });
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
        t.api_response(Endpoint::TOKEN, 200);
        assert_eq!(t.read().generation, g0 + 2);
    }

    #[test]
    fn endpoints_sort_by_rank() {
        let query = Endpoint::new(1, "query");
        let listing = Endpoint::new(2, "integrations");
        let mut all = [listing, Endpoint::TOKEN, query];
        all.sort();
        assert_eq!(
            all.map(Endpoint::as_str),
            ["token", "query", "integrations"]
        );
    }
}
