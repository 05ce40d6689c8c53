//! The same progress for TLS connections (relayed through a TLS rendezvous server): plaintext goes
//! through rustls' buffers, records through the non-blocking socket.

use super::{io_error, State, HEADER_LEN};
use crate::error::{Error, ErrorKind, Result};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::TcpStream;

pub type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Sends pending TLS records; Ok(true) when all are out.
pub fn flush(t: &mut TlsStream, moved: &mut bool) -> Result<bool> {
    while t.conn.wants_write() {
        match t.conn.write_tls(&mut t.sock) {
            Ok(0) => {
                return Err(Error::new(
                    ErrorKind::PeerLost,
                    "connection closed during send",
                ))
            }
            Ok(_) => *moved = true,
            Err(e) if e.kind() == IoKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(e) => return Err(io_error(e, "send")),
        }
    }
    Ok(true)
}

/// Hands `buf` to rustls and sends the records: the bytes taken (0 while earlier records still
/// wait for the socket).
pub fn send_bytes(t: &mut TlsStream, buf: &[u8], moved: &mut bool) -> Result<usize> {
    if !flush(t, moved)? {
        return Ok(0);
    }
    let n = t
        .conn
        .writer()
        .write(buf)
        .map_err(|e| io_error(e, "send"))?;
    if n == 0 && !t.conn.wants_write() {
        return Err(Error::new(ErrorKind::Internal, "TLS buffer refused data"));
    }
    flush(t, moved)?;
    Ok(n)
}

/// Feeds header and payload into rustls (bounded by its buffer limit) and writes records out.
/// Done only when every byte left the process.
pub fn progress_send(t: &mut TlsStream, s: &mut State, data: &[u8]) -> Result<bool> {
    let total = HEADER_LEN + data.len();
    let mut moved = false;
    loop {
        if !flush(t, &mut moved)? {
            return Ok(moved);
        }
        if s.off == total {
            s.done = true;
            return Ok(moved);
        }
        let chunk = if s.off < HEADER_LEN {
            &s.hdr[s.off..]
        } else {
            let from = s.off - HEADER_LEN;
            &data[from..(from + (256 << 10)).min(data.len())]
        };
        match t.conn.writer().write(chunk) {
            Ok(0) if !t.conn.wants_write() => {
                return Err(Error::new(ErrorKind::Internal, "TLS buffer refused data"))
            }
            Ok(n) => {
                s.off += n;
                moved = true;
            }
            Err(e) => return Err(io_error(e, "send")),
        }
    }
}

/// Plaintext reader over a non-blocking TLS connection: WouldBlock when nothing is decrypted
/// and nothing arrived; Ok(0) at the end of the connection.
pub struct Reader<'a>(pub &'a mut Box<TlsStream>);

impl Read for Reader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let t = &mut *self.0;
        loop {
            match t.conn.reader().read(out) {
                Err(e) if e.kind() == IoKind::WouldBlock => {}
                r => return r,
            }
            if t.conn.read_tls(&mut t.sock)? == 0 {
                return Ok(0);
            }
            t.conn
                .process_new_packets()
                .map_err(|e| std::io::Error::new(IoKind::InvalidData, e))?;
        }
    }
}
