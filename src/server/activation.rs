//! Socket activation (`--web.systemd-socket`): the listening sockets that
//! systemd passes to a service started by its `.socket` unit (`LISTEN_FDS`,
//! `LISTEN_PID`, descriptors from 3 on), served instead of binding
//! `--web.listen-address`. Everything after the listener (TLS, basic auth,
//! connection limits) is the same as on a bound socket.

use std::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    #[error(
        "--web.systemd-socket: no socket was passed to this process (LISTEN_FDS and LISTEN_PID unset or for another process); start it through its .socket unit, or drop the flag to bind --web.listen-address"
    )]
    NoSocket,
    #[error("--web.systemd-socket: passed socket {index} is not a TCP stream socket: {source}")]
    NotTcp {
        index: usize,
        source: std::io::Error,
    },
}

/// Takes every socket passed to this process, each non-blocking (as tokio
/// wants it).
///
/// Call it before a second thread starts: the `listenfd` crate removes
/// `LISTEN_FDS` and `LISTEN_PID` from the environment (so that no child
/// takes them for its own), which is sound only in a single-threaded process.
pub fn systemd_sockets() -> Result<Vec<TcpListener>, ActivationError> {
    let mut passed = listenfd::ListenFd::from_env();
    let mut listeners = Vec::new();
    for index in 0..passed.len() {
        let not_tcp = |source| ActivationError::NotTcp { index, source };
        if let Some(listener) = passed.take_tcp_listener(index).map_err(not_tcp)? {
            listener.set_nonblocking(true).map_err(not_tcp)?;
            listeners.push(listener);
        }
    }
    match listeners.is_empty() {
        true => Err(ActivationError::NoSocket),
        false => Ok(listeners),
    }
}
