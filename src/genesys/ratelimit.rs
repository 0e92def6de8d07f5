//! The 429 cooldown: while it runs, no request leaves the process.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::backoff::Backoff;

/// A `Retry-After` longer than this is cut to it, so one odd header cannot
/// silence the exporter for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug)]
pub struct Cooldown {
    backoff: Backoff,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    until: Option<Instant>,
    consecutive: u32,
}

impl Cooldown {
    /// Without `Retry-After`, cooldowns grow from 5 s to 5 min.
    pub fn new() -> Cooldown {
        Cooldown {
            backoff: Backoff::new(Duration::from_secs(5), Duration::from_secs(300), 0.2)
                .expect("constant backoff settings are valid"),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Time left before the API may be called again, measured on the monotonic clock.
    pub fn remaining(&self) -> Option<Duration> {
        let until = self.lock().until?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// Starts (or extends) a cooldown after a 429 and returns its length.
    pub fn rate_limited(&self, retry_after: Option<Duration>) -> Duration {
        let mut state = self.lock();
        let wait = match retry_after {
            Some(d) => d.min(MAX_RETRY_AFTER),
            None => self.backoff.delay(state.consecutive),
        };
        state.consecutive = state.consecutive.saturating_add(1);
        let until = Instant::now() + wait;
        state.until = Some(state.until.map_or(until, |u| u.max(until)));
        wait
    }

    /// Any answer other than 429 ends the run of consecutive cooldowns.
    pub fn answered(&self) {
        self.lock().consecutive = 0;
    }
}

impl Default for Cooldown {
    fn default() -> Self {
        Cooldown::new()
    }
}

/// Parses `Retry-After` in its delay-seconds form, the one Genesys sends.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(MAX_RETRY_AFTER.as_secs_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_sets_the_cooldown() {
        let c = Cooldown::new();
        assert_eq!(c.remaining(), None);
        assert_eq!(
            c.rate_limited(Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        let left = c.remaining().unwrap();
        assert!(left > Duration::from_secs(2) && left <= Duration::from_secs(3));
    }

    #[test]
    fn without_retry_after_cooldowns_grow_until_an_answer() {
        let c = Cooldown::new();
        let first = c.rate_limited(None);
        let second = c.rate_limited(None);
        assert!(first <= Duration::from_secs(5) && first >= Duration::from_secs(4));
        assert!(second >= Duration::from_secs(8) && second <= Duration::from_secs(10));
        c.answered();
        assert!(c.rate_limited(None) <= Duration::from_secs(5));
    }

    #[test]
    fn huge_retry_after_is_capped() {
        let c = Cooldown::new();
        assert_eq!(
            c.rate_limited(Some(Duration::from_secs(10_000_000))),
            MAX_RETRY_AFTER
        );
        assert_eq!(parse_retry_after(" 42 "), Some(Duration::from_secs(42)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
