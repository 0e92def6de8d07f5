//! Listening: binding the listen addresses, the accept loop with its
//! connection limits, TLS handshakes, and graceful shutdown, in the shape of
//! tokio's mini-redis server: [`serve`] runs a [`Listener`] until shutdown,
//! the acceptors ([`accept_all`]) let connections in, and a [`Handler`] per
//! connection serves it. What a request gets is [`routes`](super::routes)'
//! business.

use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::AppState;
use super::routes::handle;
use crate::web::auth::ClientAddr;
use crate::web::slots::{Busy, Refused, Slot, SlotHandle, Slots};
use crate::web::stats::Dropped;
use crate::web::{CLIENT_LOG_TARGET, WebStats};

/// hyper's buffer of a connection, both ways: the request head read into it
/// (the head's own cap, `--web.*` limits' 16 KiB, is checked when it has
/// been read) and the response's chunks queued before they are written. A
/// response whose chunks outgrow it goes out in more than one write, each
/// its own TCP segments and wake-ups: at 16 KiB, the demo's 16 KB answer
/// took two writes and cost a third of the throughput of cached scrapes.
const CONNECTION_BUFFER_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("--web.listen-address {address}: {message}")]
pub struct BindError {
    pub address: String,
    pub message: String,
}

/// Connections the kernel may queue for accepting, as Go's servers ask
/// (the kernel caps it at `net.core.somaxconn`, 4096 by default). With the
/// 128 that the standard library asks for, a client reconnecting in a loop
/// as fast as it is refused fills the queue, and Prometheus' connection is
/// dropped until its SYN is sent again, a second later.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
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
        return match listen((Ipv6Addr::UNSPECIFIED, port).into()) {
            Ok(l) => Ok(vec![l]),
            Err(_) => listen((Ipv4Addr::UNSPECIFIED, port).into())
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
        let listener = listen(addr).map_err(|e| match addr.to_string() == address {
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
///
/// Every connection is accepted at once and let in or closed by
/// [`Slots`]: a per-address limit, and at the global cap the oldest
/// connection not serving a request makes room. (Waiting in the listen
/// backlog instead, as before, let slow connections keep out everyone.)
pub async fn serve(
    listeners: Vec<TcpListener>,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let (mut acceptors, accepted) = accept_all(listeners, &state);
    let mut listener = Listener::new(state.clone(), accepted);
    state.ready.store(true, Ordering::SeqCst);
    tokio::select! {
        () = listener.run() => {}
        () = shutdown => {}
    }
    state.ready.store(false, Ordering::SeqCst);
    acceptors.shutdown().await;
    listener.shutdown().await;
}

/// A connection accepted and let in.
struct Accepted {
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
}

/// Accepts on every socket, each in a task of its own, and sends what
/// [`admit`] lets in. A JoinSet, so that the tasks end with the server
/// however it ends.
fn accept_all(
    listeners: Vec<TcpListener>,
    state: &Arc<AppState>,
) -> (JoinSet<()>, mpsc::Receiver<Accepted>) {
    let limits = state.limits;
    let slots = Slots::new(limits.max_connections, limits.max_connections_per_ip);
    let (tx, accepted) = mpsc::channel::<Accepted>(16);
    let mut acceptors = JoinSet::new();
    for listener in listeners {
        let (tx, slots, state) = (tx.clone(), slots.clone(), state.clone());
        acceptors.spawn(async move {
            loop {
                let (stream, peer) = accept(&listener).await;
                let Some(slot) = admit(&slots, &state.web_stats, peer, &stream) else {
                    continue;
                };
                if tx.send(Accepted { stream, peer, slot }).await.is_err() {
                    return;
                }
            }
        });
    }
    (acceptors, accepted)
}

/// The next connection on `listener`.
async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly.
                tracing::warn!(target: CLIENT_LOG_TARGET, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Gives every connection let in a [`Handler`] of its own, and at shutdown
/// waits for them.
struct Listener {
    state: Arc<AppState>,
    accepted: mpsc::Receiver<Accepted>,
    http: http1::Builder,
    graceful: GracefulShutdown,
    /// Tells connections still in their TLS handshake to give up.
    notify_shutdown: watch::Sender<bool>,
}

impl Listener {
    fn new(state: Arc<AppState>, accepted: mpsc::Receiver<Accepted>) -> Listener {
        let limits = state.limits;
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(limits.max_header_bytes.max(CONNECTION_BUFFER_BYTES));
        Listener {
            state,
            accepted,
            http,
            graceful: GracefulShutdown::new(),
            notify_shutdown: watch::channel(false).0,
        }
    }

    /// Serves the connections let in until no socket accepts any more.
    async fn run(&mut self) {
        while let Some(Accepted { stream, peer, slot }) = self.accepted.recv().await {
            let _ = stream.set_nodelay(true);
            let handler = Handler {
                connection: Connection {
                    watcher: self.graceful.watcher(),
                    http: self.http.clone(),
                    state: self.state.clone(),
                    peer,
                    slot: slot.handle(),
                },
                // A rotated certificate serves the connections after it.
                tls: self.state.web.current().tls.clone().map(TlsAcceptor::from),
                stream,
                slot,
                shutdown: Shutdown(self.notify_shutdown.subscribe()),
            };
            tokio::spawn(handler.run());
        }
    }

    /// Ends the handshakes under way, and waits for the requests in flight
    /// for up to the grace period.
    async fn shutdown(self) {
        let _ = self.notify_shutdown.send(true);
        tracing::info!("shutting down: waiting for requests in flight");
        let grace = self.state.limits.shutdown_grace;
        if tokio::time::timeout(grace, self.graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still in flight after the grace period; closing them");
        }
    }
}

/// Says when the server stops, to a connection that is not serving HTTP yet
/// (hyper's graceful shutdown only knows the others).
struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    async fn recv(&mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}

/// One connection let in, from its TLS handshake (with TLS on) to its end.
struct Handler {
    connection: Connection,
    tls: Option<TlsAcceptor>,
    stream: TcpStream,
    slot: Slot,
    shutdown: Shutdown,
}

impl Handler {
    async fn run(self) {
        let Handler {
            connection,
            tls,
            stream,
            mut slot,
            shutdown,
        } = self;
        let served = async {
            match tls {
                None => connection.serve(TokioIo::new(stream)).await,
                Some(acceptor) => connection.serve_tls(stream, acceptor, shutdown).await,
            }
        };
        // An evicted connection is closed wherever it is; it was not
        // serving a request, or it would not have been chosen.
        tokio::select! {
            () = served => {}
            () = slot.evicted() => {}
        }
        drop(slot);
    }
}

/// Lets an accepted connection in, or closes it at once (with a reset, so
/// that a client reconnecting in a loop leaves no TIME_WAIT sockets here).
fn admit(
    slots: &Arc<Slots>,
    stats: &WebStats,
    peer: SocketAddr,
    stream: &TcpStream,
) -> Option<Slot> {
    stats.accepted();
    match slots.admit(peer.ip()) {
        Ok(admitted) => {
            if admitted.evicted {
                stats.dropped(Dropped::Evicted);
                tracing::warn!(
                    target: CLIENT_LOG_TARGET,
                    %peer,
                    "all connection slots taken: closed the oldest connection not serving a request to let a new one in"
                );
            }
            Some(admitted.slot)
        }
        Err(refused) => {
            let _ = stream.set_zero_linger();
            match refused {
                Refused::AddressLimit => {
                    stats.dropped(Dropped::AddressLimit);
                    tracing::warn!(
                        target: CLIENT_LOG_TARGET,
                        %peer,
                        "connection refused: the address holds its share (--web.max-connections-per-ip) and no more than a share is free"
                    );
                }
                Refused::Capacity => {
                    stats.dropped(Dropped::Capacity);
                    tracing::warn!(
                        target: CLIENT_LOG_TARGET,
                        %peer,
                        "connection refused: every connection slot is serving a request"
                    );
                }
            }
            None
        }
    }
}

/// One accepted connection, plain or after its TLS handshake.
struct Connection {
    watcher: Watcher,
    http: http1::Builder,
    state: Arc<AppState>,
    peer: SocketAddr,
    slot: SlotHandle,
}

impl Connection {
    /// The TLS handshake, given up at its timeout or when the server stops,
    /// then HTTP.
    async fn serve_tls(self, stream: TcpStream, acceptor: TlsAcceptor, mut shutdown: Shutdown) {
        let (peer, state) = (self.peer, self.state.clone());
        let stats = &state.web_stats;
        let handshake =
            tokio::time::timeout(state.limits.tls_handshake_timeout, acceptor.accept(stream));
        tokio::select! {
            done = handshake => match done {
                Ok(Ok(stream)) => self.serve(TokioIo::new(stream)).await,
                // Scanners and plain HTTP on this port: not worth more than debug.
                Ok(Err(e)) => {
                    stats.dropped(Dropped::TlsHandshake);
                    tracing::debug!(target: CLIENT_LOG_TARGET, %peer, error = %e, "TLS handshake failed");
                }
                Err(_) => {
                    stats.dropped(Dropped::TlsHandshakeTimeout);
                    tracing::debug!(target: CLIENT_LOG_TARGET, %peer, "TLS handshake timed out");
                }
            },
            () = shutdown.recv() => {}
        }
    }

    async fn serve<I>(self, io: I)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let state = self.state.clone();
        let (slot, client) = (self.slot, ClientAddr(self.peer.ip()));
        let service = hyper::service::service_fn(move |mut req| {
            let state = state.clone();
            // Busy from the moment the request head is read until its
            // response has been sent: such a connection is never evicted.
            let busy = slot.busy();
            req.extensions_mut().insert(client);
            async move {
                let response = handle(req, &state).await;
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| Tracked { body, _busy: busy }),
                )
            }
        });
        let conn = self.http.serve_connection(io, service);
        if let Err(e) = self.watcher.watch(conn).await {
            if e.is_timeout() {
                self.state.web_stats.dropped(Dropped::HeaderTimeout);
            }
            tracing::debug!(target: CLIENT_LOG_TARGET, peer = %self.peer, error = %e, "connection ended with an error");
        }
    }
}

/// A response body that keeps its connection marked busy until it has been
/// sent whole or dropped.
struct Tracked<B> {
    body: B,
    _busy: Busy,
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
