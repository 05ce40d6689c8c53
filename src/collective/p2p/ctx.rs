//! The context of one collective call over a peer-to-peer transport: the transport, the call's
//! tag and deadline, the messages sent, and the exchanges the algorithms are written in.

use crate::channel::{P2pTransport, Xfer};
use crate::error::Result;
use std::time::Instant;

/// One collective call in progress: the transport, the call's tag and its deadline.
pub struct Ctx<'a> {
    t: &'a mut dyn P2pTransport,
    tag: u32,
    deadline: Instant,
    /// Messages sent so far in this call.
    sent: u64,
    pub rank: usize,
    pub size: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(t: &'a mut dyn P2pTransport, tag: u32, deadline: Instant) -> Self {
        let (rank, size) = (t.rank(), t.size());
        Ctx {
            t,
            tag,
            deadline,
            sent: 0,
            rank,
            size,
        }
    }

    pub fn exchange(&mut self, xfers: &mut [Xfer<'_>]) -> Result<()> {
        if xfers.is_empty() {
            return Ok(());
        }
        let sends = xfers
            .iter()
            .filter(|x| matches!(x, Xfer::Send { .. }))
            .count();
        self.sent += sends as u64;
        self.t.exchange(self.tag, xfers, self.deadline)
    }

    pub fn send(&mut self, peer: usize, data: &[u8]) -> Result<()> {
        self.exchange(&mut [Xfer::Send { peer, data }])
    }

    pub fn recv(&mut self, peer: usize, buf: &mut [u8]) -> Result<()> {
        self.exchange(&mut [Xfer::Recv { peer, buf }])
    }

    /// Sends to one peer and receives from another (or the same) concurrently.
    pub fn sendrecv(&mut self, to: usize, data: &[u8], from: usize, buf: &mut [u8]) -> Result<()> {
        self.exchange(&mut [
            Xfer::Send { peer: to, data },
            Xfer::Recv { peer: from, buf },
        ])
    }

    /// Messages this peer sent in this call so far (each send of an exchange counts, whether
    /// or not the exchange succeeded).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Rank relative to `root` (the root becomes 0).
    pub fn rel(&self, root: usize) -> usize {
        (self.rank + self.size - root) % self.size
    }

    /// Absolute rank of relative rank `t`.
    pub fn abs(&self, t: usize, root: usize) -> usize {
        (t + root) % self.size
    }
}
