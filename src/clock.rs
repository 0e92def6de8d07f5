//! The clock the exporter reports by: the system's, or frozen, so that a
//! test can hold what the demo answers to golden files byte for byte.
//!
//! Only what is shown goes by it (timestamps, ages, durations, the query's
//! window); what the exporter does (TTL, cooldowns, deadlines, token
//! refresh) runs on tokio's monotonic clock whatever this says.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    System,
    /// Every reading is this time, and no time passes.
    Frozen(SystemTime),
}

impl Clock {
    /// The wall-clock time.
    pub fn now(self) -> SystemTime {
        match self {
            Clock::System => SystemTime::now(),
            Clock::Frozen(at) => at,
        }
    }

    /// How long ago `start` was, as shown: nothing on a frozen clock.
    pub fn since(self, start: Instant) -> Duration {
        match self {
            Clock::System => start.elapsed(),
            Clock::Frozen(_) => Duration::ZERO,
        }
    }

    pub fn is_frozen(self) -> bool {
        matches!(self, Clock::Frozen(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_frozen_clock_does_not_move() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let start = Instant::now();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(Clock::Frozen(at).now(), at);
        assert_eq!(Clock::Frozen(at).since(start), Duration::ZERO);
        assert_eq!(Clock::System.since(start), Duration::from_secs(5));
    }
}
