//! Blocking rendezvous client: one connection per peer carries all of its pairings.

use super::protocol::{self, ClientMsg, ServerMsg, VERSION};
use super::tls::{Stream, TlsClient};
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

/// Who connects: the job, this peer's rank among `size`, the job secret and the TLS settings.
#[derive(Clone, Copy)]
pub struct Identity<'a> {
    pub job: &'a str,
    pub rank: u32,
    pub size: u32,
    pub key: Option<&'a [u8]>,
    pub tls: Option<&'a TlsClient>,
}

/// A connection to the rendezvous server, made from a given local port.
pub struct RendezvousClient {
    stream: Stream,
    server: SocketAddr,
    job: String,
    key: Option<Vec<u8>>,
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
        id: Identity,
        deadline: Instant,
    ) -> Result<Self> {
        let Identity {
            job,
            rank,
            size,
            key,
            tls,
        } = id;
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
        let tcp: TcpStream = socket.into();
        tcp.set_nodelay(true).ok();
        let stream = Stream::connect(tcp, tls)?;
        let mut c = RendezvousClient {
            stream,
            server,
            job: job.to_string(),
            key: key.map(<[u8]>::to_vec),
            observed: server,
        };
        c.send(ClientMsg::Hello {
            version: VERSION,
            job: job.to_string(),
            rank,
            size,
            nonce: String::new(),
            mac: None,
        })?;
        c.observed = observed(c.next(deadline)?)?;
        Ok(c)
    }

    /// Local address of the connection (the private endpoint's IP).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.stream
            .tcp()
            .local_addr()
            .map_err(|e| Error::channel(format!("getsockname: {e}")))
    }

    /// Signs (nonce, and MAC with a key) and sends one message.
    pub fn send(&mut self, msg: ClientMsg) -> Result<()> {
        let msg = msg.sign(&self.job, self.key.as_deref());
        protocol::write_frame(&mut self.stream, &msg)
            .map_err(|e| Error::channel(format!("lost rendezvous server {}: {e}", self.server)))
    }

    /// Asks to be paired with the other rank of `pair`.
    pub fn register(&mut self, pair: &str, rank: u32, private: SocketAddr) -> Result<()> {
        self.send(ClientMsg::Register {
            pair: pair.to_string(),
            rank,
            private: private.to_string(),
            nonce: String::new(),
            mac: None,
        })
    }

    /// Waits for the next server message until `deadline`. Server errors become errors.
    pub fn next(&mut self, deadline: Instant) -> Result<ServerMsg> {
        self.stream
            .tcp()
            .set_read_timeout(Some(remaining(deadline)?))
            .map_err(|e| Error::channel(e.to_string()))?;
        read_answer(
            &mut self.stream,
            "rendezvous server refused",
            "timed out waiting for the rendezvous server",
            &format!("lost rendezvous server {}", self.server),
        )
    }
}

/// Opens a relay connection for `pair` through the server and waits until the peer joined it
/// (or `deadline`, or `cancelled()` turns true). The returned stream then carries the peer's bytes.
pub fn relay(
    server: SocketAddr,
    id: Identity,
    pair: &str,
    deadline: Instant,
    cancelled: impl Fn() -> bool,
) -> Result<Stream> {
    let Identity {
        job,
        rank,
        size,
        key,
        tls,
    } = id;
    let tcp = TcpStream::connect_timeout(&server, remaining(deadline)?).map_err(|e| {
        Error::channel(format!(
            "relay: cannot reach rendezvous server {server}: {e}"
        ))
    })?;
    tcp.set_nodelay(true).ok();
    tcp.set_write_timeout(Some(remaining(deadline)?)).ok();
    tcp.set_read_timeout(Some(remaining(deadline)?)).ok();
    let mut stream = Stream::connect(tcp, tls)?;
    let msg = ClientMsg::Relay {
        version: VERSION,
        job: job.to_string(),
        rank,
        size,
        pair: pair.to_string(),
        nonce: String::new(),
        mac: None,
    }
    .sign(job, key);
    protocol::write_frame(&mut stream, &msg)
        .map_err(|e| Error::channel(format!("relay: lost rendezvous server {server}: {e}")))?;
    // Wait for the answer in short slices, so that a connection made meanwhile cancels the relay.
    loop {
        if cancelled() {
            return Err(Error::channel("relay: no longer needed"));
        }
        let left = remaining(deadline)?;
        let mut pfd = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(stream.tcp()),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, 100) as libc::c_int;
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, ms) } > 0 {
            break;
        }
    }
    stream
        .tcp()
        .set_read_timeout(Some(remaining(deadline)?))
        .map_err(|e| Error::channel(e.to_string()))?;
    match read_answer(
        &mut stream,
        "relay refused by rendezvous server",
        "relay: the peer did not join in time",
        &format!("relay: lost rendezvous server {server}"),
    )? {
        ServerMsg::RelayReady { .. } => {
            stream.tcp().set_read_timeout(None).ok();
            stream.tcp().set_write_timeout(None).ok();
            Ok(stream)
        }
        other => Err(Error::channel(format!(
            "relay: unexpected answer {other:?}"
        ))),
    }
}

/// Our endpoint as the server saw it, from its answer to hello.
pub(crate) fn observed(answer: ServerMsg) -> Result<SocketAddr> {
    match answer {
        ServerMsg::Welcome { observed, .. } => observed.parse().map_err(|_| {
            Error::channel(format!(
                "rendezvous server sent a bad endpoint {observed:?}"
            ))
        }),
        other => Err(Error::channel(format!(
            "rendezvous server answered {other:?} to hello"
        ))),
    }
}

/// The status of a server refusal with `code`: `auth` is `FMI_ERR_AUTH`, `rank_taken`
/// `FMI_ERR_RANK_TAKEN`, `peer_left` (the relay partner's session closed) `FMI_ERR_PEER_LOST`, a relay limit (`relay_...`) `FMI_ERR_LIMIT`, anything else
/// `FMI_ERR_CHANNEL`.
pub fn refusal_kind(code: &str) -> ErrorKind {
    match code {
        "auth" => ErrorKind::Auth,
        "rank_taken" => ErrorKind::RankTaken,
        "peer_left" => ErrorKind::PeerLost,
        c if c.starts_with("relay_") => ErrorKind::Limit,
        _ => ErrorKind::Channel,
    }
}

/// Asks the server why the relay circuit of `pair` ended: Some((code, message)) when one of its
/// limits cut it, None when it did not (or does not remember).
pub fn circuit_ended(
    server: SocketAddr,
    id: Identity,
    pair: &str,
    deadline: Instant,
) -> Result<Option<(String, String)>> {
    let Identity {
        job,
        rank,
        size,
        key,
        tls,
    } = id;
    let tcp = TcpStream::connect_timeout(&server, remaining(deadline)?)
        .map_err(|e| Error::channel(format!("cannot reach rendezvous server {server}: {e}")))?;
    tcp.set_write_timeout(Some(remaining(deadline)?)).ok();
    tcp.set_read_timeout(Some(remaining(deadline)?)).ok();
    let mut stream = Stream::connect(tcp, tls)?;
    let msg = ClientMsg::Circuit {
        version: VERSION,
        job: job.to_string(),
        rank,
        size,
        pair: pair.to_string(),
        nonce: String::new(),
        mac: None,
    }
    .sign(job, key);
    protocol::write_frame(&mut stream, &msg)
        .map_err(|e| Error::channel(format!("lost rendezvous server {server}: {e}")))?;
    match read_answer(
        &mut stream,
        "rendezvous server refused",
        "timed out waiting for the rendezvous server",
        &format!("lost rendezvous server {server}"),
    )? {
        ServerMsg::CircuitEnded {
            code: Some(code),
            message,
            ..
        } => Ok(Some((code, message.unwrap_or_default()))),
        ServerMsg::CircuitEnded { .. } => Ok(None),
        other => Err(Error::channel(format!(
            "rendezvous server answered {other:?} to circuit"
        ))),
    }
}

/// Reads one server message: a server error becomes the status of [`refusal_kind`] (prefixed
/// `refused`), a read timeout `FMI_ERR_TIMEOUT` (`timed_out`), any other failure a channel error
/// (prefixed `lost`).
pub(crate) fn read_answer(
    stream: &mut impl std::io::Read,
    refused: &str,
    timed_out: &str,
    lost: &str,
) -> Result<ServerMsg> {
    match protocol::read_frame::<ServerMsg>(stream) {
        Ok(ServerMsg::Error { code, message }) => Err(Error::new(
            refusal_kind(&code),
            format!("{refused}: {message} ({code})"),
        )),
        Ok(m) => Ok(m),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(Error::new(ErrorKind::Timeout, timed_out))
        }
        Err(e) => Err(Error::channel(format!("{lost}: {e}"))),
    }
}
