//! The same progress for encrypted links: plaintext (header and payload) is sealed into Noise
//! records that go out through the socket (plain, or TLS to the relay), and records read from it
//! are opened into plaintext. Nothing is delivered from a record that fails to open.

use super::{io_error, send_nosignal, RawReader, State, HEADER_LEN};
use crate::channel::direct::seal::{Opened, Seal, Source, MAX_PLAIN};
use crate::error::{Error, ErrorKind, Result};
use crate::rendezvous::tls::Stream;
use std::io::{ErrorKind as IoKind, IoSliceMut, Read};
use std::os::fd::AsRawFd;

/// Plaintext sealed before the records are written (a few records per system call).
const BATCH: usize = 256 << 10;

/// Writes sealed records to the socket; Ok(true) when all (and, over TLS, its records) are out.
fn flush(raw: &mut Stream, seal: &mut Seal, moved: &mut bool) -> Result<bool> {
    while !seal.unsent().is_empty() {
        let n = match raw {
            Stream::Plain(t) => match send_nosignal(t, seal.unsent(), &[]) {
                Ok(0) => {
                    return Err(Error::new(
                        ErrorKind::PeerLost,
                        "connection closed during send",
                    ))
                }
                Ok(n) => n,
                Err(e) if e.kind() == IoKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => return Err(io_error(e, "send")),
            },
            #[cfg(feature = "tls")]
            Stream::Tls(t) => match super::tls::send_bytes(t, seal.unsent(), moved)? {
                0 => return Ok(false),
                n => n,
            },
        };
        seal.sent(n);
        *moved = true;
    }
    match raw {
        Stream::Plain(_) => Ok(true),
        #[cfg(feature = "tls")]
        Stream::Tls(t) => super::tls::flush(t, moved),
    }
}

/// Seals header and payload into records (at most [`BATCH`] bytes before writing) and writes
/// them out. Done only when every record left the process.
pub fn progress_send(
    raw: &mut Stream,
    seal: &mut Seal,
    s: &mut State,
    data: &[u8],
) -> Result<bool> {
    let total = HEADER_LEN + data.len();
    let mut moved = false;
    loop {
        if !flush(raw, seal, &mut moved)? {
            return Ok(moved);
        }
        if s.off == total {
            s.done = true;
            return Ok(moved);
        }
        let mut sealed = 0;
        while s.off < total && sealed < BATCH {
            let n = if s.off < HEADER_LEN {
                let head = &s.hdr[s.off..];
                let body = &data[..data.len().min(MAX_PLAIN - head.len())];
                seal.push(head, body)?;
                head.len() + body.len()
            } else {
                let from = s.off - HEADER_LEN;
                let body = &data[from..data.len().min(from + MAX_PLAIN)];
                seal.push(&[], body)?;
                body.len()
            };
            s.off += n;
            sealed += n;
        }
        moved = true;
    }
}

impl Source for RawReader<'_> {
    /// A plain socket's queued bytes (FIONREAD); over TLS the socket's bytes are TLS records, so
    /// none are counted and records are never read straight into their destination.
    fn available(&self) -> usize {
        match self {
            RawReader::Plain(s) => {
                let mut n: libc::c_int = 0;
                // SAFETY: FIONREAD writes one int through the pointer, which points to `n`.
                let rc = unsafe { libc::ioctl(s.as_raw_fd(), libc::FIONREAD, &mut n) };
                if rc == 0 {
                    usize::try_from(n).unwrap_or(0)
                } else {
                    0
                }
            }
            #[cfg(feature = "tls")]
            RawReader::Tls(_) => 0,
        }
    }
}

/// Plaintext reader over an encrypted link: WouldBlock when no whole record has arrived and
/// nothing is buffered; Ok(0) at the end of the connection; InvalidData ([`Forged`]) for a
/// record that fails to open.
///
/// [`Forged`]: crate::channel::direct::seal::Forged
pub struct Reader<'a> {
    pub raw: RawReader<'a>,
    pub seal: &'a mut Seal,
}

impl Read for Reader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.read_vectored(&mut [IoSliceMut::new(out)])
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> std::io::Result<usize> {
        loop {
            if self.seal.has_plain() {
                return Ok(self.seal.take_plain(bufs));
            }
            let dst: &mut [u8] = match bufs.iter_mut().find(|b| !b.is_empty()) {
                Some(b) => b,
                None => return Ok(0),
            };
            match self.seal.open_from(dst, &mut self.raw)? {
                Opened::Direct(0) | Opened::Buffered => continue,
                Opened::Direct(n) => return Ok(n),
                Opened::Incomplete => {}
            }
            let n = self.raw.read(self.seal.read_space())?;
            if n == 0 {
                return Ok(0);
            }
            self.seal.filled(n);
        }
    }
}
