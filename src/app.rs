//! Wires the parts together: simulator (in demo mode), organisations,
//! server, and the configuration files followed while it serves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use futures_util::StreamExt as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use genesys_cloud_simulator::{SimClock, SimConfig, Simulator};

use crate::clock::Clock;

use crate::config::{ClientSecret, Config, Endpoints, Secret};
use crate::orgs::Registry;
use crate::orgs::reload::{ConfigFile, LoadedConfig};
use crate::server::{self, AppState, BindError};
use crate::web::{self, Followed, LiveWebConfig};

/// Organisations whose first cycle runs at once at start.
const FIRST_CYCLES_AT_ONCE: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] crate::genesys::client::ClientBuildError),
    #[error("--web.systemd-socket: cannot serve on a passed socket: {0}")]
    Inherited(std::io::Error),
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
    /// Following the configuration files: see [`follow_files`].
    followers: JoinSet<()>,
    sighup: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and returns.
    pub async fn stop(mut self) {
        let _ = self.stop.send(());
        // Nothing is reloaded while the requests in flight finish.
        self.followers.abort_all();
        let _ = self.task.await;
        self.sighup.abort();
        if let Some(sim) = self.simulator {
            sim.shutdown();
        }
    }
}

/// Starts everything; the listeners are bound when this returns.
pub async fn start(config: Config) -> Result<Running, AppError> {
    start_with_clock(config, Clock::System).await
}

/// [`start`], showing times by `clock` (frozen in tests of the output); in
/// demo mode the simulator's clock is frozen with it.
pub async fn start_with_clock(config: Config, clock: Clock) -> Result<Running, AppError> {
    start_serving(config, clock, Vec::new()).await
}

/// [`start_with_clock`] on the sockets systemd passed (`inherited`, taken
/// with [`server::activation::systemd_sockets`]) when the configuration
/// says `--web.systemd-socket`.
async fn start_serving(
    config: Config,
    clock: Clock,
    inherited: Vec<std::net::TcpListener>,
) -> Result<Running, AppError> {
    let simulator = match config.flags.is_demo() {
        false => None,
        true => {
            // Frozen at the exporter's instant: the simulator checks the
            // time AWS requests are signed at, and they are signed at it.
            let sim_clock = match clock {
                Clock::Frozen(at) => SimClock::FrozenAt(at),
                Clock::System => SimClock::System,
            };
            let sim = Simulator::start_with_clock(
                ([127, 0, 0, 1], 0).into(),
                SimConfig::demo(),
                sim_clock,
            )
            .await
            .map_err(AppError::Simulator)?;
            sim.record_requests(false);
            tracing::info!(url = %sim.base_url(), "demo mode: simulated Genesys Cloud started");
            Some(sim)
        }
    };
    let demo = simulator.as_ref().map(|sim| {
        let sim_config = SimConfig::demo();
        Endpoints {
            api_url: sim.base_url(),
            login_url: sim.base_url(),
            client_id: sim_config.client_id,
            client_secret: ClientSecret::Value(Secret::new(sim_config.client_secret)),
        }
    });
    let registry = Arc::new(Registry::new(demo, clock));
    registry.apply(&config.orgs)?;
    let state = app_state(&config, registry.clone());
    let (listeners, addresses) = listen(&config, inherited).await?;
    if config.first_cycle_at_start {
        // After `listening`, so that the log reads in order; readiness does
        // not wait for these, and each logs its outcome once. A few at a
        // time: a thousand organisations starting their cycles at once held
        // 95 MiB where probing them in turn holds 27, and slowed /-/ready.
        let orgs = registry.all();
        tokio::spawn(async move {
            futures_util::stream::iter(orgs)
                .for_each_concurrent(FIRST_CYCLES_AT_ONCE, |org| async move {
                    org.first_cycle().await
                })
                .await
        });
    }
    let followers = follow_files(&state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listeners, state.clone(), async {
        let _ = stopped.await;
    }));
    // Ends with the server: a stopped exporter reloads nothing and keeps
    // no organisation alive.
    let sighup = tokio::spawn(reload_on_sighup(state));
    Ok(Running {
        addresses,
        simulator,
        stop,
        task,
        followers,
        sighup,
    })
}

/// What the server serves from: the organisations, and the configuration
/// files as followed.
fn app_state(config: &Config, registry: Arc<Registry>) -> Arc<AppState> {
    let loaded = LoadedConfig::new(
        config.config_file.as_deref(),
        config.file.clone(),
        config.orgs.clone(),
    );
    let live_config = Arc::new(match &config.config_file {
        Some(path) => Followed::watched(
            ConfigFile {
                path: path.clone(),
                flags: config.flags.clone(),
                registry: registry.clone(),
            },
            loaded,
        ),
        None => Followed::fixed(loaded),
    });
    Arc::new(AppState {
        registry,
        config: live_config,
        telemetry_path: config.telemetry_path.clone(),
        ready: AtomicBool::new(false),
        web: Arc::new(match &config.web_config_file {
            Some(path) => web::live::watched(path.clone(), config.web.clone()),
            None => LiveWebConfig::fixed(config.web.clone()),
        }),
        process: Default::default(),
        limits: config.limits,
        web_stats: Default::default(),
        exporter_part: Default::default(),
    })
}

/// Binds every listen address, or takes the sockets systemd passed, and
/// says where it listens.
async fn listen(
    config: &Config,
    inherited: Vec<std::net::TcpListener>,
) -> Result<(Vec<TcpListener>, Vec<SocketAddr>), AppError> {
    let mut listeners = Vec::new();
    if config.systemd_socket {
        for socket in inherited {
            listeners.push(TcpListener::from_std(socket).map_err(AppError::Inherited)?);
        }
    } else {
        for address in &config.listen_addresses {
            listeners.extend(server::bind(address).await?);
        }
    }
    let addresses: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    for addr in &addresses {
        tracing::info!(
            address = %addr,
            telemetry_path = %config.telemetry_path,
            systemd_socket = config.systemd_socket,
            tls = config.web.tls.is_some(),
            basic_auth = config.web.auth.is_some(),
            "listening"
        );
    }
    Ok((listeners, addresses))
}

/// Follows `--web.config.file` and `--config.file`, and the files they
/// name, while the exporter serves: a change takes effect without a
/// restart. A JoinSet, so that following ends with the exporter however it
/// ends, and keeps no organisation alive.
fn follow_files(state: &AppState) -> JoinSet<()> {
    // Said at start as each reload of the web configuration says it.
    let web = state.web.current();
    if let Some(warning) = web.auth.as_ref().and_then(|a| a.cost_warning()) {
        tracing::warn!("{warning}");
    }
    let mut followers = JoinSet::new();
    followers.spawn(state.web.clone().follow());
    followers.spawn(state.config.clone().follow());
    followers
}

/// SIGHUP re-reads `--config.file`, as `POST /-/reload` does.
async fn reload_on_sighup(state: Arc<AppState>) {
    #[cfg(unix)]
    {
        let Ok(mut hups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hups.recv().await.is_some() {
            tracing::info!("SIGHUP received; reloading the configuration file");
            let config = state.config.clone();
            let _ = tokio::task::spawn_blocking(move || config.reload("SIGHUP")).await;
        }
    }
    #[cfg(not(unix))]
    let _ = state;
}

/// Runs until SIGINT or SIGTERM, on the sockets systemd passed
/// (`inherited`) with `--web.systemd-socket`.
pub async fn run(config: Config, inherited: Vec<std::net::TcpListener>) -> Result<(), AppError> {
    let running = start_serving(config, Clock::System, inherited).await?;
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
