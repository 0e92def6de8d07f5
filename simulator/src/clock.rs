//! The simulator's clock: the system's, or frozen so that a test can compare
//! what an exporter makes of its answers byte for byte.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use super::ROUTES;

/// How the simulator tells time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SimClock {
    /// The system's clock; correlation ids are random, as the platform's are.
    #[default]
    System,
    /// No time passes: tokens and rate-limit windows never move on, and
    /// correlation ids count up per endpoint, so that answers to concurrent
    /// requests do not depend on which arrived first. The wall clock (what
    /// AWS signatures are checked against, and the `Date` of AWS answers)
    /// stays at the moment the simulator started.
    Frozen,
    /// [`SimClock::Frozen`] with the wall clock at this time, so that a
    /// client whose own clock is frozen at the same time signs AWS requests
    /// the simulator accepts.
    FrozenAt(SystemTime),
}

/// The clock of one running simulator.
pub(crate) struct Clock {
    /// The one instant a frozen clock reads.
    frozen_at: Option<Instant>,
    /// The one wall-clock time a frozen clock reads.
    frozen_wall: Option<SystemTime>,
    /// Per endpoint, the correlation ids handed out so far (frozen only).
    ids: [AtomicU64; ROUTES],
}

impl Clock {
    pub(crate) fn new(kind: SimClock) -> Clock {
        let frozen_wall = match kind {
            SimClock::System => None,
            SimClock::Frozen => Some(SystemTime::now()),
            SimClock::FrozenAt(at) => Some(at),
        };
        Clock {
            frozen_at: frozen_wall.map(|_| Instant::now()),
            frozen_wall,
            ids: Default::default(),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        self.frozen_at.unwrap_or_else(Instant::now)
    }

    /// The time of day, for what is compared with a client's clock.
    pub(crate) fn wall(&self) -> SystemTime {
        self.frozen_wall.unwrap_or_else(SystemTime::now)
    }

    /// The next correlation id of `endpoint` (below `ROUTES`) when frozen,
    /// in the UUID v4 layout; `None` on the system clock.
    pub(crate) fn correlation_id(&self, endpoint: usize) -> Option<String> {
        self.frozen_at?;
        let n = self.ids[endpoint].fetch_add(1, Ordering::Relaxed) + 1;
        Some(format!("00000000-0000-4000-800{endpoint:x}-{n:012x}"))
    }
}
