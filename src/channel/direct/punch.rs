//! Sockets that share one local port, and the connect loop that punches through NATs.

use crate::error::{Error, Result};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A TCP socket with SO_REUSEADDR and SO_REUSEPORT, bound to `port` on the wildcard address.
pub fn shared_port_socket(v6: bool, port: u16) -> Result<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| Error::channel(format!("socket: {e}")))?;
    sock.set_reuse_address(true)
        .and_then(|_| sock.set_reuse_port(true))
        .map_err(|e| Error::channel(format!("setsockopt SO_REUSEADDR/SO_REUSEPORT: {e}")))?;
    let ip: IpAddr = if v6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    };
    sock.bind(&SocketAddr::new(ip, port).into())
        .map_err(|e| Error::channel(format!("bind port {port}: {e}")))?;
    Ok(sock)
}

/// Outcome of one connect attempt.
pub enum Attempt {
    Connected(TcpStream),
    /// The peer (or its NAT) answered RST: retry after a short gap.
    Refused,
    /// The 4-tuple is already in use: our listener accepted this peer's connection.
    TakenByListener,
    /// No answer within the attempt time.
    TimedOut,
}

/// One non-blocking connect from the shared port to `peer`, waiting at most `wait`.
pub fn attempt(v6: bool, port: u16, peer: SocketAddr, wait: Duration) -> Result<Attempt> {
    let sock = shared_port_socket(v6, port)?;
    sock.set_nonblocking(true)
        .map_err(|e| Error::channel(format!("set_nonblocking: {e}")))?;
    match sock.connect(&SockAddr::from(peer)) {
        Ok(()) => return finish(sock),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {
            return Ok(Attempt::TakenByListener)
        }
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(Attempt::Refused),
        Err(e) => return Err(Error::channel(format!("connect to {peer}: {e}"))),
    }
    let end = Instant::now() + wait;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Attempt::TimedOut); // dropping a SYN_SENT socket sends no RST
        }
        let mut pfd = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&sock),
            events: libc::POLLOUT,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, 50) as libc::c_int;
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc > 0 {
            return match sock.take_error() {
                Ok(None) => finish(sock),
                Ok(Some(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    Ok(Attempt::Refused)
                }
                Ok(Some(e)) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {
                    Ok(Attempt::TakenByListener)
                }
                Ok(Some(e)) | Err(e) => Err(Error::channel(format!("connect to {peer}: {e}"))),
            };
        }
    }
}

fn finish(sock: Socket) -> Result<Attempt> {
    sock.set_nonblocking(false)
        .map_err(|e| Error::channel(format!("set_blocking: {e}")))?;
    Ok(Attempt::Connected(sock.into()))
}
