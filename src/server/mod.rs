//! The HTTP server: telemetry path, landing page, health and readiness, on
//! every listen address, with TLS and basic auth from the web configuration
//! file, connection limits and graceful shutdown.

mod body;
mod landing;
mod listener;
mod routes;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

pub use body::Chunks;
pub use listener::{BindError, bind, serve};

use crate::cache::SnapshotCache;
use crate::exposition::OwnSeries;
use crate::pipeline::Pipeline;
use crate::process::ProcessSampler;
use crate::telemetry::Telemetry;
use crate::web::{LiveWebConfig, ServerLimits, WebStats};

pub struct AppState {
    pub cache: SnapshotCache<Pipeline>,
    pub telemetry: Arc<Telemetry>,
    /// The telemetry's series as last encoded.
    pub own_series: OwnSeries,
    pub telemetry_path: String,
    pub default_budget: Duration,
    pub ready: AtomicBool,
    pub web: Arc<LiveWebConfig>,
    /// The process' own figures, read at most once a second.
    pub process: ProcessSampler,
    pub limits: ServerLimits,
    /// Connections refused or dropped, failed and throttled logins.
    pub web_stats: WebStats,
}
