//! The raw-TCP baseline: one plain TCP connection between ranks 0 and 1 over 127.0.0.1
//! (TCP_NODELAY, kernel-autotuned buffers), ping-ponged either with blocking reads and writes
//! ("tcp-block") or with a non-blocking busy loop that calls sched_yield between attempts
//! ("tcp-spin", what MPI's TCP path does with `mpi_yield_when_idle`).

use fmi::{Communicator, Error, Result};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Instant;

/// How the baseline waits for data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Blocking read/write: the thread sleeps in the kernel until data arrives.
    Block,
    /// O_NONBLOCK and a busy recv()/send() loop: never sleeps.
    Spin,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Block => "tcp-block",
            Mode::Spin => "tcp-spin",
        }
    }

    pub fn from_name(s: &str) -> Option<Mode> {
        match s {
            "block" | "tcp-block" => Some(Mode::Block),
            "spin" | "tcp-spin" => Some(Mode::Spin),
            _ => None,
        }
    }
}

/// This rank's end of the baseline connection (None on ranks other than 0 and 1).
pub struct TcpPair {
    stream: Option<TcpStream>,
    rank: usize,
}

fn io(e: std::io::Error, what: &str) -> Error {
    Error::channel(format!("tcp baseline: {what}: {e}"))
}

impl TcpPair {
    /// Collective: rank 0 listens on an ephemeral loopback port and broadcasts it (over the
    /// communicator); rank 1 connects. Needs at least 2 peers.
    pub fn connect(c: &mut Communicator) -> Result<TcpPair> {
        let rank = c.rank();
        let listener = if rank == 0 {
            Some(TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| io(e, "bind"))?)
        } else {
            None
        };
        let mut port = [0u8; 2];
        if let Some(l) = &listener {
            let p = l.local_addr().map_err(|e| io(e, "local_addr"))?.port();
            port = p.to_le_bytes();
        }
        c.bcast(&mut port, 0)?;
        let port = u16::from_le_bytes(port);
        let stream = match rank {
            0 => {
                let (s, _) = listener
                    .as_ref()
                    .expect("rank 0 listens")
                    .accept()
                    .map_err(|e| io(e, "accept"))?;
                Some(s)
            }
            1 => Some(
                TcpStream::connect((Ipv4Addr::LOCALHOST, port)).map_err(|e| io(e, "connect"))?,
            ),
            _ => None,
        };
        if let Some(s) = &stream {
            s.set_nodelay(true).map_err(|e| io(e, "TCP_NODELAY"))?;
        }
        // Both ends are connected before anyone measures.
        c.barrier()?;
        Ok(TcpPair { stream, rank })
    }

    /// Switches the socket to `mode` (outside the timed iterations).
    pub fn set_mode(&mut self, mode: Mode) -> Result<()> {
        match &self.stream {
            Some(s) => s
                .set_nonblocking(mode == Mode::Spin)
                .map_err(|e| io(e, "set_nonblocking")),
            None => Ok(()),
        }
    }

    /// One ping-pong of `send.len()` bytes: rank 0 returns RTT/2 in µs, the others 0.
    pub fn pingpong(&mut self, send: &[u8], recv: &mut [u8]) -> Result<f64> {
        let Some(s) = self.stream.as_mut() else {
            return Ok(0.0);
        };
        if self.rank == 0 {
            let t = Instant::now();
            write_all(s, send)?;
            read_exact(s, recv)?;
            Ok(t.elapsed().as_secs_f64() * 1e6 / 2.0)
        } else {
            read_exact(s, recv)?;
            write_all(s, recv)?;
            Ok(0.0)
        }
    }
}

/// write_all that retries on WouldBlock after sched_yield (spin mode; the yield lets a peer that
/// shares the vCPU run instead of waiting for the next tick) and blocks otherwise.
fn write_all(s: &mut TcpStream, mut data: &[u8]) -> Result<()> {
    while !data.is_empty() {
        match s.write(data) {
            Ok(0) => return Err(Error::channel("tcp baseline: connection closed")),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e, "write")),
        }
    }
    Ok(())
}

/// read_exact that retries on WouldBlock after sched_yield (spin mode) and blocks otherwise.
fn read_exact(s: &mut TcpStream, mut buf: &mut [u8]) -> Result<()> {
    while !buf.is_empty() {
        match s.read(buf) {
            Ok(0) => return Err(Error::channel("tcp baseline: connection closed")),
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e, "read")),
        }
    }
    Ok(())
}
