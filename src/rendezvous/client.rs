//! Blocking rendezvous client: one connection per peer carries all of its pairings.

use super::protocol::{self, ClientMsg, ServerMsg, VERSION};
use crate::error::{Error, ErrorKind, Result};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Instant;

/// Resolves `host:port`, preferring IPv4.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| {
            Error::config(format!(
                "cannot resolve rendezvous server {host}:{port}: {e}"
            ))
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| Error::config(format!("rendezvous server {host}:{port} has no address")))
}

/// A connection to the rendezvous server, made from a given local port.
pub struct RendezvousClient {
    stream: TcpStream,
    server: SocketAddr,
    /// Our endpoint as the server saw it.
    pub observed: SocketAddr,
}

fn remaining(deadline: Instant) -> Result<std::time::Duration> {
    let d = deadline.saturating_duration_since(Instant::now());
    if d.is_zero() {
        return Err(Error::new(ErrorKind::Timeout, "deadline passed"));
    }
    Ok(d)
}

impl RendezvousClient {
    /// Connects from a socket made by `make_socket` (bound to the shared local port) and says hello.
    /// A refused connection is retried until `deadline` (the server may still be starting).
    pub fn connect(
        make_socket: impl Fn() -> Result<socket2::Socket>,
        server: SocketAddr,
        job: &str,
        rank: u32,
        size: u32,
        deadline: Instant,
    ) -> Result<Self> {
        let socket = loop {
            let socket = make_socket()?;
            match socket.connect_timeout(&server.into(), remaining(deadline)?) {
                Ok(()) => break socket,
                Err(e)
                    if e.kind() == std::io::ErrorKind::ConnectionRefused
                        && Instant::now() + std::time::Duration::from_millis(100) < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => {
                    return Err(Error::channel(format!(
                        "cannot reach rendezvous server {server}: {e}"
                    )))
                }
            }
        };
        let stream: TcpStream = socket.into();
        stream.set_nodelay(true).ok();
        let mut c = RendezvousClient {
            stream,
            server,
            observed: server,
        };
        c.send(&ClientMsg::Hello {
            version: VERSION,
            job: job.to_string(),
            rank,
            size,
        })?;
        match c.next(deadline)? {
            ServerMsg::Welcome { observed, .. } => {
                c.observed = observed.parse().map_err(|_| {
                    Error::channel(format!(
                        "rendezvous server sent a bad endpoint {observed:?}"
                    ))
                })?;
                Ok(c)
            }
            other => Err(Error::channel(format!(
                "rendezvous server answered {other:?} to hello"
            ))),
        }
    }

    /// Local address of the connection (the private endpoint's IP).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.stream
            .local_addr()
            .map_err(|e| Error::channel(format!("getsockname: {e}")))
    }

    pub fn send(&mut self, msg: &ClientMsg) -> Result<()> {
        protocol::write_frame(&mut self.stream, msg)
            .map_err(|e| Error::channel(format!("lost rendezvous server {}: {e}", self.server)))
    }

    /// Waits for the next server message until `deadline`. Server errors become errors.
    pub fn next(&mut self, deadline: Instant) -> Result<ServerMsg> {
        self.stream
            .set_read_timeout(Some(remaining(deadline)?))
            .map_err(|e| Error::channel(e.to_string()))?;
        match protocol::read_frame::<ServerMsg>(&mut self.stream) {
            Ok(ServerMsg::Error { code, message }) => {
                let kind = if code == "auth" {
                    ErrorKind::Auth
                } else {
                    ErrorKind::Channel
                };
                Err(Error::new(
                    kind,
                    format!("rendezvous server refused: {message} ({code})"),
                ))
            }
            Ok(m) => Ok(m),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(Error::new(
                    ErrorKind::Timeout,
                    "timed out waiting for the rendezvous server",
                ))
            }
            Err(e) => Err(Error::channel(format!(
                "lost rendezvous server {}: {e}",
                self.server
            ))),
        }
    }
}
