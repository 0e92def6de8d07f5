//! What the web layer counts for the operator: connections accepted and
//! those refused or dropped by reason, failed and throttled logins. Plain
//! atomics, bumped where it happens and read at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a connection was refused or closed before it was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Its address already held `--web.max-connections-per-ip` connections.
    AddressLimit,
    /// Every slot was taken by a connection serving a request.
    Capacity,
    /// Closed to make room: the oldest connection not serving a request, of
    /// the address holding the most.
    Evicted,
    /// The TLS handshake failed (plain HTTP on a TLS port, scanners).
    TlsHandshake,
    /// The TLS handshake was not finished in time.
    TlsHandshakeTimeout,
    /// The request headers were not sent in time.
    HeaderTimeout,
}

impl Dropped {
    pub const ALL: [Dropped; 6] = [
        Dropped::AddressLimit,
        Dropped::Capacity,
        Dropped::Evicted,
        Dropped::TlsHandshake,
        Dropped::TlsHandshakeTimeout,
        Dropped::HeaderTimeout,
    ];

    /// The `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Dropped::AddressLimit => "address_limit",
            Dropped::Capacity => "capacity",
            Dropped::Evicted => "evicted",
            Dropped::TlsHandshake => "tls_handshake_error",
            Dropped::TlsHandshakeTimeout => "tls_handshake_timeout",
            Dropped::HeaderTimeout => "header_timeout",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Default)]
pub struct WebStats {
    accepted: AtomicU64,
    dropped: [AtomicU64; Dropped::ALL.len()],
    failed_logins: AtomicU64,
    throttled_logins: AtomicU64,
}

/// The counters as read at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebCounts {
    pub accepted: u64,
    pub dropped: [u64; Dropped::ALL.len()],
    pub failed_logins: u64,
    pub throttled_logins: u64,
}

impl WebCounts {
    pub const ZERO: WebCounts = WebCounts {
        accepted: 0,
        dropped: [0; Dropped::ALL.len()],
        failed_logins: 0,
        throttled_logins: 0,
    };

    pub fn dropped(&self, reason: Dropped) -> u64 {
        self.dropped[reason.index()]
    }
}

impl WebStats {
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dropped(&self, reason: Dropped) {
        self.dropped[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// A request answered 401.
    pub fn failed_login(&self) {
        self.failed_logins.fetch_add(1, Ordering::Relaxed);
    }

    /// A request answered 429 for failing to log in too often.
    pub fn throttled_login(&self) {
        self.throttled_logins.fetch_add(1, Ordering::Relaxed);
    }

    pub fn read(&self) -> WebCounts {
        WebCounts {
            accepted: self.accepted.load(Ordering::Relaxed),
            dropped: std::array::from_fn(|i| self.dropped[i].load(Ordering::Relaxed)),
            failed_logins: self.failed_logins.load(Ordering::Relaxed),
            throttled_logins: self.throttled_logins.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_has_its_own_counter_and_label() {
        let stats = WebStats::default();
        for (n, reason) in Dropped::ALL.into_iter().enumerate() {
            for _ in 0..=n {
                stats.dropped(reason);
            }
        }
        let counts = stats.read();
        for (n, reason) in Dropped::ALL.into_iter().enumerate() {
            assert_eq!(counts.dropped(reason), n as u64 + 1, "{reason:?}");
        }
        let labels: std::collections::HashSet<_> = Dropped::ALL.map(Dropped::as_str).into();
        assert_eq!(labels.len(), Dropped::ALL.len());
    }
}
