//! Transports: how bytes move between peers. Collective algorithms see only these traits.

pub mod direct;
pub mod redis;
#[cfg(feature = "s3")]
pub mod s3;
pub mod store;

use crate::error::Result;
use std::time::Instant;

/// One transfer of an [`P2pTransport::exchange`]: a whole message to or from one peer.
pub enum Xfer<'a> {
    /// Send `data` as one message to `peer`.
    Send { peer: usize, data: &'a [u8] },
    /// Receive one message from `peer`; its size must equal `buf.len()`.
    Recv { peer: usize, buf: &'a mut [u8] },
}

impl Xfer<'_> {
    pub fn peer(&self) -> usize {
        match self {
            Xfer::Send { peer, .. } | Xfer::Recv { peer, .. } => *peer,
        }
    }
}

/// How a communicator reaches one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// A connection straight to the peer (through NATs by hole punching where needed).
    Direct,
    /// Through the relay of the rendezvous server.
    Relayed,
}

/// A peer-to-peer transport: ordered, reliable, framed messages between any two ranks.
///
/// Messages between two peers arrive in the order they were sent. Each message carries a `tag`
/// that the receiver checks, so that peers that call operations in a different order get an error
/// instead of each other's data.
pub trait P2pTransport: Send {
    /// Channel name for messages and statistics ("direct", ...).
    fn name(&self) -> &'static str;
    fn rank(&self) -> usize;
    fn size(&self) -> usize;
    /// Runs all `xfers` concurrently until every one is complete, or fails at `deadline`.
    /// Several transfers to the same peer and direction complete in list order.
    fn exchange(&mut self, tag: u32, xfers: &mut [Xfer<'_>], deadline: Instant) -> Result<()>;
    /// How `peer` is reached (None for our own rank or a closed connection).
    fn link(&self, peer: usize) -> Option<Link>;
    /// Closes every connection. Later calls fail.
    fn close(&mut self);
}
