//! What one client may hold of the server: connections, time to send a
//! request or finish a TLS handshake, header size, and the grace given to
//! requests in flight at shutdown. How the connection slots are shared out
//! is [`slots`](super::slots)' business.

use std::time::Duration;

/// Connections open at once. When all are taken, a new connection closes
/// the oldest that is not serving a request, of the address holding the
/// most; when every one is serving a request, the new one is closed.
pub const MAX_CONNECTIONS: usize = 256;
/// An address's share of the connections (`--web.max-connections-per-ip`):
/// Prometheus holds one per scrape in flight, a proxy in front of several
/// scrapers a few; past it, the address' new connections are closed at once
/// unless more than a share is free (see [`slots`](super::slots)). A quarter
/// of the cap, so that it takes four addresses to fill it.
pub const MAX_CONNECTIONS_PER_IP: usize = 64;
/// A client must send its request headers within this time.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head accepted (hyper's minimum buffer).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// A TLS client must finish its handshake within this time, so that a
/// silent client cannot hold a connection slot.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The defaults are the documented limits; tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
    pub tls_handshake_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: MAX_CONNECTIONS,
            max_connections_per_ip: MAX_CONNECTIONS_PER_IP,
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_header_bytes: MAX_HEADER_BYTES,
            tls_handshake_timeout: TLS_HANDSHAKE_TIMEOUT,
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}
