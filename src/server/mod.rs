//! The HTTP server: telemetry path, landing page, health and readiness, on
//! every listen address, with TLS and basic auth from the web configuration
//! file, connection limits and graceful shutdown.

pub mod activation;
mod body;
mod debug;
mod landing;
mod listener;
pub mod own;
mod routes;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub use body::Chunks;
pub use listener::{BindError, bind, serve};

use crate::orgs::Registry;
use crate::orgs::reload::LiveConfig;
use crate::process::ProcessSampler;
use crate::web::{LiveWebConfig, ServerLimits, WebStats};
use own::ExporterPart;

pub struct AppState {
    pub registry: Arc<Registry>,
    /// `--config.file` as followed.
    pub config: Arc<LiveConfig>,
    pub telemetry_path: String,
    pub ready: AtomicBool,
    pub web: Arc<LiveWebConfig>,
    /// The process' own figures, read at most once a second.
    pub process: ProcessSampler,
    pub limits: ServerLimits,
    /// Connections refused or dropped, failed and throttled logins.
    pub web_stats: WebStats,
    /// The exporter's own series as last encoded.
    pub exporter_part: ExporterPart,
}
