//! Listening: binding the listen addresses, the accept loop with its
//! connection limit, TLS handshakes, and graceful shutdown. What a request
//! gets is [`routes`](super::routes)' business.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;

use super::AppState;
use super::routes::handle;

#[derive(Debug, thiserror::Error)]
#[error("--web.listen-address {address}: {message}")]
pub struct BindError {
    pub address: String,
    pub message: String,
}

/// Binds one listen address; `:PORT` means every interface.
pub async fn bind(address: &str) -> Result<Vec<TcpListener>, BindError> {
    let error = |message: String| BindError {
        address: address.to_string(),
        message,
    };
    if let Some(port) = address.strip_prefix(':') {
        let port: u16 = port
            .parse()
            .map_err(|_| error(format!("invalid port {port:?}")))?;
        // Dual-stack where IPv6 exists, IPv4 alone where it does not.
        return match TcpListener::bind(("::", port)).await {
            Ok(l) => Ok(vec![l]),
            Err(_) => TcpListener::bind(("0.0.0.0", port))
                .await
                .map(|l| vec![l])
                .map_err(|e| error(e.to_string())),
        };
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(address)
        .await
        .map_err(|e| error(format!("cannot resolve: {e}")))?
        .collect();
    let mut listeners = Vec::new();
    for addr in addrs {
        if listeners
            .iter()
            .any(|l: &TcpListener| l.local_addr().ok() == Some(addr))
        {
            continue;
        }
        // Name the resolved address only where it differs from the flag's.
        let listener =
            TcpListener::bind(addr)
                .await
                .map_err(|e| match addr.to_string() == address {
                    true => error(e.to_string()),
                    false => error(format!("{addr}: {e}")),
                })?;
        listeners.push(listener);
    }
    if listeners.is_empty() {
        return Err(error("resolves to no address".into()));
    }
    Ok(listeners)
}

/// Serves until `shutdown` completes, then stops accepting and lets requests
/// in flight finish (up to [`ServerLimits::shutdown_grace`]).
pub async fn serve(
    listeners: Vec<TcpListener>,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let limits = state.limits;
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (tx, mut accepted) = mpsc::channel::<(TcpStream, SocketAddr, OwnedSemaphorePermit)>(16);
    let mut acceptors = tokio::task::JoinSet::new();
    for listener in listeners {
        let (tx, permits) = (tx.clone(), permits.clone());
        acceptors.spawn(async move {
            loop {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        if tx.send((stream, peer, permit)).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: back off briefly.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }
    drop(tx);
    // A JoinSet, so that the task ends with this future however it ends.
    let mut watcher = tokio::task::JoinSet::new();
    watcher.spawn(state.web.clone().follow());
    watcher.spawn(state.config.clone().follow());
    state.ready.store(true, Ordering::SeqCst);

    // Tells connections still in their TLS handshake to give up at shutdown.
    let (stopping, _) = watch::channel(false);
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            next = accepted.recv() => {
                let Some((stream, peer, permit)) = next else { break };
                let _ = stream.set_nodelay(true);
                let connection = Connection {
                    watcher: graceful.watcher(),
                    http: http.clone(),
                    state: state.clone(),
                    peer,
                };
                // A rotated certificate serves the connections after it.
                let tls = state.web.current().tls.clone().map(TlsAcceptor::from);
                let mut stopping = stopping.subscribe();
                tokio::spawn(async move {
                    match tls {
                        None => connection.serve(TokioIo::new(stream)).await,
                        Some(acceptor) => {
                            let handshake = tokio::time::timeout(
                                limits.tls_handshake_timeout,
                                acceptor.accept(stream),
                            );
                            tokio::select! {
                                done = handshake => match done {
                                    Ok(Ok(stream)) => connection.serve(TokioIo::new(stream)).await,
                                    // Scanners and plain HTTP on this port: not worth more than debug.
                                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                                },
                                () = async { let _ = stopping.wait_for(|s| *s).await; } => {}
                            }
                        }
                    }
                    drop(permit);
                });
            }
            () = &mut shutdown => break,
        }
    }
    state.ready.store(false, Ordering::SeqCst);
    acceptors.shutdown().await;
    watcher.abort_all();
    let _ = stopping.send(true);
    tracing::info!("shutting down: waiting for requests in flight");
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the grace period; closing them");
    }
}

/// One accepted connection, plain or after its TLS handshake.
struct Connection {
    watcher: Watcher,
    http: http1::Builder,
    state: Arc<AppState>,
    peer: SocketAddr,
}

impl Connection {
    async fn serve<I>(self, io: I)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let state = self.state;
        let service = hyper::service::service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(req, &state).await) }
        });
        let conn = self.http.serve_connection(io, service);
        if let Err(e) = self.watcher.watch(conn).await {
            tracing::debug!(peer = %self.peer, error = %e, "connection ended with an error");
        }
    }
}
