//! Jittered exponential backoff with validated settings.

use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InvalidBackoff {
    #[error("backoff base must be greater than zero")]
    ZeroBase,
    #[error("backoff maximum {max:?} is below its base {base:?}")]
    MaxBelowBase { base: Duration, max: Duration },
    #[error("backoff jitter {0} is outside 0..=1")]
    Jitter(f64),
}

/// The `n`th delay is `min(max, base × 2ⁿ)`, of which up to `jitter` is taken
/// away at random so that many exporters hit by the same outage spread out.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    jitter: f64,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration, jitter: f64) -> Result<Backoff, InvalidBackoff> {
        if base.is_zero() {
            return Err(InvalidBackoff::ZeroBase);
        }
        if max < base {
            return Err(InvalidBackoff::MaxBelowBase { base, max });
        }
        if !(0.0..=1.0).contains(&jitter) {
            return Err(InvalidBackoff::Jitter(jitter));
        }
        Ok(Backoff { base, max, jitter })
    }

    /// The largest delay for the attempt, before jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(31));
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The shortest delay for the attempt: its ceiling less all the jitter.
    pub fn shortest(&self, attempt: u32) -> Duration {
        self.ceiling(attempt).mul_f64(1.0 - self.jitter)
    }

    /// The delay before retry number `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        ceiling.mul_f64(1.0 - self.jitter * fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps() {
        let b = Backoff::new(Duration::from_secs(5), Duration::from_secs(300), 0.0).unwrap();
        assert_eq!(b.delay(0), Duration::from_secs(5));
        assert_eq!(b.delay(1), Duration::from_secs(10));
        assert_eq!(b.delay(6), Duration::from_secs(300));
        assert_eq!(b.delay(1000), Duration::from_secs(300));
    }

    #[test]
    fn jitter_stays_within_its_share() {
        let b = Backoff::new(Duration::from_secs(8), Duration::from_secs(8), 0.5).unwrap();
        for _ in 0..1000 {
            let d = b.delay(3);
            assert!(
                d >= Duration::from_secs(4) && d <= Duration::from_secs(8),
                "{d:?}"
            );
        }
    }

    #[test]
    fn settings_are_validated() {
        assert_eq!(
            Backoff::new(Duration::ZERO, Duration::from_secs(1), 0.1).unwrap_err(),
            InvalidBackoff::ZeroBase
        );
        assert!(Backoff::new(Duration::from_secs(2), Duration::from_secs(1), 0.1).is_err());
        assert!(Backoff::new(Duration::from_secs(1), Duration::from_secs(1), 1.5).is_err());
    }
}
