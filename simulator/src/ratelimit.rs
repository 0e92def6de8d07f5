//! Per-token request limit over fixed one-minute windows, as the platform
//! API applies it, with the numbers its `inin-ratelimit-*` headers report.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hyper::Response;

use super::response::{SimBody, set_header};

const WINDOW: Duration = Duration::from_secs(60);

/// One token's current window.
struct Window {
    start: Instant,
    count: u32,
}

#[derive(Default)]
pub(crate) struct RateLimiter {
    windows: HashMap<String, Window>,
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateState {
    /// Requests counted in the window so far, this one included.
    pub(crate) count: u32,
    pub(crate) allowed: u32,
    /// Whole seconds until the window resets, at least 1.
    pub(crate) reset_secs: u64,
}

impl RateState {
    pub(crate) fn exceeded(&self) -> bool {
        self.count > self.allowed
    }

    /// Adds the `inin-ratelimit-*` headers.
    pub(crate) fn apply(&self, response: &mut Response<SimBody>) {
        set_header(response, "inin-ratelimit-count", self.count.to_string());
        set_header(response, "inin-ratelimit-allowed", self.allowed.to_string());
        set_header(
            response,
            "inin-ratelimit-reset",
            self.reset_secs.to_string(),
        );
    }
}

impl RateLimiter {
    /// Counts one request made with `token`; rejected requests count too,
    /// so a client that ignores 429s stays limited.
    pub(crate) fn count(&mut self, token: &str, allowed: u32, now: Instant) -> RateState {
        if self.windows.len() > 1024 {
            self.windows
                .retain(|_, w| now.duration_since(w.start) < WINDOW);
        }
        let window = self.windows.entry(token.to_owned()).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(window.start) >= WINDOW {
            *window = Window {
                start: now,
                count: 0,
            };
        }
        window.count = window.count.saturating_add(1);
        let left = WINDOW.saturating_sub(now.duration_since(window.start));
        // Rounded up: a client that waits this long finds the window reset.
        let reset_secs = (left.as_millis().div_ceil(1000) as u64).max(1);
        RateState {
            count: window.count,
            allowed,
            reset_secs,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.windows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_token() {
        let mut limiter = RateLimiter::default();
        assert!(!limiter.count("a", 2, Instant::now()).exceeded());
        assert!(!limiter.count("a", 2, Instant::now()).exceeded());
        let third = limiter.count("a", 2, Instant::now());
        assert!(third.exceeded());
        assert_eq!(third.count, 3);
        assert!((1..=60).contains(&third.reset_secs));
        assert!(!limiter.count("b", 2, Instant::now()).exceeded());
    }
}
