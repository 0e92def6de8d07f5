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

    /// Only tokio's clock moves here (the runtime's paused clock): an hour of
    /// it ends an hour's cooldown while the wall clock barely moves. The
    /// cooldown is kept as a `tokio::time::Instant`, which is monotonic, so a
    /// jump of the wall clock cannot shorten or stretch it.
    #[tokio::test(start_paused = true)]
    async fn cooldowns_run_on_the_monotonic_clock() {
        let wall = std::time::SystemTime::now();
        let c = Cooldown::new();
        c.rate_limited(Some(Duration::from_secs(3600)));
        tokio::time::advance(Duration::from_secs(3599)).await;
        assert!(c.remaining().is_some_and(|r| r <= Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(c.remaining(), None);
        assert!(wall.elapsed().unwrap() < Duration::from_secs(60));

        // An answer ends the run of 429s; then without Retry-After the
        // cooldowns are 5 s, doubling with jitter, up to 5 min.
        c.answered();
        let mut waits = Vec::new();
        for _ in 0..8 {
            let wait = c.rate_limited(None);
            tokio::time::advance(wait - Duration::from_millis(1)).await;
            assert!(c.remaining().is_some(), "still cooling down");
            tokio::time::advance(Duration::from_millis(1)).await;
            assert_eq!(c.remaining(), None, "over after exactly {wait:?}");
            waits.push(wait.as_secs_f64());
        }
        assert!((4.0..=5.0).contains(&waits[0]), "{waits:?}");
        assert!((240.0..=300.0).contains(&waits[7]), "{waits:?}");
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
