//! Plain socket I/O of the progress engine: poll(2) with a deadline, sendmsg without SIGPIPE,
//! the readers over a connection of any kind, and the mapping of I/O errors to the library's.

#[cfg(feature = "tls")]
use super::tls;
use super::{noise, State};
use crate::channel::direct::conn::Wire;
use crate::channel::direct::frame::HEADER_LEN;
use crate::error::{Error, ErrorKind, Result};
use crate::rendezvous::tls::Stream;
use std::io::{ErrorKind as IoKind, IoSliceMut, Read};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Instant;

/// Blocks in poll(2) on `pfds` until one is ready or `deadline` (at least 1 ms); an interrupted
/// poll returns early, as if something were ready.
pub(in crate::channel::direct) fn poll_until(
    pfds: &mut [libc::pollfd],
    deadline: Instant,
) -> Result<()> {
    let wait = deadline.saturating_duration_since(Instant::now());
    let ms = wait.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
    // SAFETY: pfds is a valid array of pollfd of the given length.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != IoKind::Interrupted {
            return Err(Error::channel(format!("poll failed: {e}")));
        }
    }
    Ok(())
}

pub(in crate::channel::direct) fn io_error(e: std::io::Error, what: &str) -> Error {
    if let Some(f) = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<crate::channel::direct::seal::Forged>())
    {
        return Error::new(ErrorKind::Auth, format!("{what} failed: {f}"));
    }
    match e.kind() {
        IoKind::ConnectionReset
        | IoKind::BrokenPipe
        | IoKind::ConnectionAborted
        | IoKind::UnexpectedEof => Error::new(
            ErrorKind::PeerLost,
            format!("connection lost during {what}: {e}"),
        ),
        _ => Error::channel(format!("{what} failed: {e}")),
    }
}

/// Most payload bytes handed to one sendmsg. On loopback the sender's copy into the socket and
/// the receiver's copy out of it then overlap: the kernel pushes what one call wrote before the
/// next call, so the receiver starts on the first 256 KiB while the sender copies the next, and
/// both copies stay in cache. One sendmsg of a whole 1 MiB message was pushed late and
/// measured 131-202 µs one-way, pieces of 256 KiB 92 µs (streaming 64 x 1 MiB: 8.0 -> 5.9 ms).
const WRITE_CAP: usize = 256 << 10;

/// Writes as much as the socket takes without blocking (in calls of at most [`WRITE_CAP`]
/// payload bytes). Returns whether any byte moved.
fn progress_send(stream: &TcpStream, s: &mut State, data: &[u8]) -> Result<bool> {
    let total = HEADER_LEN + data.len();
    let mut moved = false;
    while s.off < total {
        let (a, b): (&[u8], &[u8]) = if s.off < HEADER_LEN {
            (&s.hdr[s.off..], &data[..data.len().min(WRITE_CAP)])
        } else {
            let from = s.off - HEADER_LEN;
            (&data[from..data.len().min(from + WRITE_CAP)], &[])
        };
        match send_nosignal(stream, a, b) {
            Ok(0) => {
                return Err(Error::new(
                    ErrorKind::PeerLost,
                    "connection closed during send",
                ))
            }
            Ok(n) => {
                s.off += n;
                moved = true;
            }
            Err(e) if e.kind() == IoKind::WouldBlock => break,
            Err(e) if e.kind() == IoKind::Interrupted => continue,
            Err(e) => return Err(io_error(e, "send")),
        }
    }
    if s.off == total {
        s.done = true;
    }
    Ok(moved)
}

/// sendmsg with MSG_NOSIGNAL: a closed peer must give EPIPE, never kill the host process with SIGPIPE.
pub(in crate::channel::direct) fn send_nosignal(
    stream: &TcpStream,
    a: &[u8],
    b: &[u8],
) -> std::io::Result<usize> {
    let mut iov = [
        libc::iovec {
            iov_base: a.as_ptr() as *mut libc::c_void,
            iov_len: a.len(),
        },
        libc::iovec {
            iov_base: b.as_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        },
    ];
    // SAFETY: zeroed msghdr is valid; iov points to live slices for the duration of the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = if b.is_empty() { 1 } else { 2 };
    let n = unsafe {
        libc::sendmsg(
            stream.as_raw_fd(),
            &msg,
            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// A reader over the socket of a connection of either kind (WouldBlock when nothing has arrived).
pub(in crate::channel::direct) enum RawReader<'a> {
    Plain(&'a TcpStream),
    #[cfg(feature = "tls")]
    Tls(tls::Reader<'a>),
}

impl Read for RawReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        match self {
            RawReader::Plain(s) => s.read(out),
            #[cfg(feature = "tls")]
            RawReader::Tls(t) => t.read(out),
        }
    }
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> std::io::Result<usize> {
        match self {
            RawReader::Plain(s) => s.read_vectored(bufs),
            #[cfg(feature = "tls")]
            RawReader::Tls(t) => t.read_vectored(bufs),
        }
    }
}

/// A plaintext reader over a connection: the socket's bytes, or the opened records of an
/// encrypted link.
pub(in crate::channel::direct) enum AnyReader<'a> {
    Raw(RawReader<'a>),
    Sealed(noise::Reader<'a>),
}

impl Read for AnyReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        match self {
            AnyReader::Raw(r) => r.read(out),
            AnyReader::Sealed(r) => r.read(out),
        }
    }
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> std::io::Result<usize> {
        match self {
            AnyReader::Raw(r) => r.read_vectored(bufs),
            AnyReader::Sealed(r) => r.read_vectored(bufs),
        }
    }
}

pub(in crate::channel::direct) fn reader(wire: &mut Wire) -> AnyReader<'_> {
    let raw = match &mut wire.raw {
        Stream::Plain(s) => RawReader::Plain(s),
        #[cfg(feature = "tls")]
        Stream::Tls(t) => RawReader::Tls(tls::Reader(t)),
    };
    match wire.seal.as_deref_mut() {
        None => AnyReader::Raw(raw),
        Some(seal) => AnyReader::Sealed(noise::Reader { raw, seal }),
    }
}

/// [`progress_send`] on a connection of any kind.
pub(in crate::channel::direct) fn progress_send_any(
    wire: &mut Wire,
    s: &mut State,
    data: &[u8],
) -> Result<bool> {
    if let Some(seal) = wire.seal.as_deref_mut() {
        return noise::progress_send(&mut wire.raw, seal, s, data);
    }
    match &mut wire.raw {
        Stream::Plain(t) => progress_send(t, s, data),
        #[cfg(feature = "tls")]
        Stream::Tls(t) => tls::progress_send(t, s, data),
    }
}

/// What one read of a message's payload did: `Some(n)` bytes (0 after an interrupted read: read
/// again), `None` when the socket has nothing more for now. A connection closed mid-message and
/// any other I/O error fail.
pub(in crate::channel::direct) fn payload_read(r: std::io::Result<usize>) -> Result<Option<usize>> {
    match r {
        Ok(0) => Err(Error::new(
            ErrorKind::PeerLost,
            "connection closed by peer mid-message",
        )),
        Ok(n) => Ok(Some(n)),
        Err(e) if e.kind() == IoKind::WouldBlock => Ok(None),
        Err(e) if e.kind() == IoKind::Interrupted => Ok(Some(0)),
        Err(e) => Err(io_error(e, "receive")),
    }
}
