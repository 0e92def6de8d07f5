//! The web layer, below the HTTP server and beside the configuration: the
//! web configuration file (TLS, basic auth, headers) and its following while
//! serving, the limits on what a client may hold, and the file-following
//! mechanism that `--config.file` uses too. It depends on no other module of
//! the exporter.

pub mod auth;
pub mod checks;
pub mod config;
pub mod files;
pub mod follow;
pub mod limits;
pub mod live;
pub mod slots;
pub mod stats;
pub mod throttle;
pub mod tls;

pub use config::WebConfig;
pub use follow::{Followed, Loader, ReloadStatus};
pub use limits::ServerLimits;
pub use live::LiveWebConfig;
pub use stats::WebStats;

/// The log target of what any client can make happen at will (refused
/// connections, failed handshakes and logins): the logger rate-limits it.
pub const CLIENT_LOG_TARGET: &str = "genesys_eventbridge_exporter::client";
