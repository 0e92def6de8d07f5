//! Requests held back after an answer that will not change soon: a 403
//! (the OAuth client lacks a permission, which an administrator grants
//! rarely) or a 404 (the organisation has no such endpoint). Such a request
//! is sent at most once an hour, and only the first refusal in a row is news.

use std::time::Duration;

use tokio::time::Instant;

/// How long a refused request is held back.
pub const HOLD: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
pub struct Gate {
    until: Option<Instant>,
}

impl Gate {
    /// Whether the request may be sent at `now`.
    pub fn allows(&self, now: Instant) -> bool {
        self.until.is_none_or(|until| now >= until)
    }

    /// How long the request is still held back at `now`, if it is.
    pub fn held_for(&self, now: Instant) -> Option<Duration> {
        self.until
            .map(|until| until.saturating_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// Records a refusal; true when it is the first in a row (to be logged).
    pub fn refused(&mut self, now: Instant) -> bool {
        let first = self.until.is_none();
        self.until = Some(now + HOLD);
        first
    }

    /// Records an answer: the next refusal is news again.
    pub fn answered(&mut self) {
        self.until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn after_a_refusal_the_request_waits_an_hour() {
        let mut gate = Gate::default();
        assert!(gate.allows(Instant::now()));
        assert!(gate.refused(Instant::now()), "the first refusal is logged");
        tokio::time::advance(Duration::from_secs(3599)).await;
        assert!(!gate.allows(Instant::now()));
        assert_eq!(gate.held_for(Instant::now()), Some(Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(gate.allows(Instant::now()), "asked again after an hour");
        assert_eq!(gate.held_for(Instant::now()), None);
        assert!(
            !gate.refused(Instant::now()),
            "a refusal again is not logged again"
        );
        assert!(!gate.allows(Instant::now()));
        gate.answered();
        assert!(gate.allows(Instant::now()));
        assert!(
            gate.refused(Instant::now()),
            "after an answer, a refusal is news again"
        );
    }
}
