//! Wires the parts together: simulator (in demo mode), client, pipeline,
//! cache and server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::cache::SnapshotCache;
use crate::config::{ClientSecret, Config, Endpoints, Secret, Upstream};
use crate::genesys::GenesysClient;
use crate::pipeline::Pipeline;
use crate::server::{self, AppState, BindError};
use crate::telemetry::Telemetry;
use crate::web::{self, LiveWebConfig};
use genesys_cloud_simulator::{SimConfig, Simulator};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("cannot start the demo simulator: {0}")]
    Simulator(std::io::Error),
}

/// A started exporter.
pub struct Running {
    /// Where it listens, one per bound socket.
    pub addresses: Vec<SocketAddr>,
    /// The simulated Genesys Cloud in demo mode.
    pub simulator: Option<Simulator>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and returns.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        if let Some(sim) = self.simulator {
            sim.shutdown();
        }
    }
}

/// Starts everything; the listeners are bound when this returns.
pub async fn start(config: Config) -> Result<Running, AppError> {
    let (endpoints, simulator) = match &config.upstream {
        Upstream::Remote(endpoints) => (endpoints.clone(), None),
        Upstream::Demo => {
            let sim_config = SimConfig::demo();
            let sim = Simulator::start(([127, 0, 0, 1], 0).into(), sim_config.clone())
                .await
                .map_err(AppError::Simulator)?;
            sim.record_requests(false);
            let endpoints = Endpoints {
                api_url: sim.base_url(),
                login_url: sim.base_url(),
                client_id: sim_config.client_id.clone(),
                client_secret: ClientSecret::Value(Secret::new(sim_config.client_secret.clone())),
            };
            tracing::info!(url = %endpoints.api_url, "demo mode: simulated Genesys Cloud started");
            (endpoints, Some(sim))
        }
    };

    let telemetry = Arc::new(Telemetry::new());
    let group_names = config.groups.iter().map(|g| g.name.clone()).collect();
    let client = GenesysClient::new(
        &endpoints,
        config.query.clone(),
        group_names,
        telemetry.clone(),
    )?;
    let pipeline = Pipeline::new(
        client,
        config.groups.clone(),
        config.default_thresholds,
        telemetry.clone(),
    );
    let state = Arc::new(AppState {
        cache: SnapshotCache::new(pipeline, config.cache.ttl, config.cache.max_stale),
        telemetry,
        own_series: Default::default(),
        telemetry_path: config.telemetry_path.clone(),
        default_budget: config.query.timeout,
        ready: AtomicBool::new(false),
        web: Arc::new(match &config.web_config_file {
            Some(path) => web::live::watched(path.clone(), config.web.clone()),
            None => LiveWebConfig::fixed(config.web.clone()),
        }),
        process: Default::default(),
        limits: config.limits,
        web_stats: Default::default(),
    });

    let mut listeners = Vec::new();
    for address in &config.listen_addresses {
        listeners.extend(server::bind(address).await?);
    }
    let addresses: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    for addr in &addresses {
        tracing::info!(
            address = %addr,
            telemetry_path = %config.telemetry_path,
            tls = config.web.tls.is_some(),
            basic_auth = config.web.auth.is_some(),
            "listening"
        );
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listeners, state, async {
        let _ = stopped.await;
    }));
    Ok(Running {
        addresses,
        simulator,
        stop,
        task,
    })
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), AppError> {
    let running = start(config).await?;
    shutdown_signal().await;
    tracing::info!("signal received; stopping");
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
