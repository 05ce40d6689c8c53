//! Collective algorithms over an object store (Redis now, S3 later), written against
//! [`StoreTransport`] only. One algorithm family per file.
//!
//! A store is a rendezvous point that every peer reaches in one round trip, so these algorithms
//! are flat where the p2p ones are trees: data is written once and read by everyone who needs
//! it, and partial results are published for the peers that combine them.

pub mod allgather;
pub mod allreduce;
pub mod alltoall;
pub mod barrier;
pub mod bcast;
pub mod finalize;
pub mod gather;
pub mod reduce;
pub mod scan;
pub mod scatter;

use crate::channel::store::keys::{CallKeys, Namespace};
use crate::channel::store::{Put, StoreTransport, Take};
use crate::error::Result;
use std::time::Instant;

/// Up to this many bytes gathered at one peer, reductions and scans fetch every contribution
/// at once and fold them (one round); above it they use partial results.
pub(crate) const FLAT_MAX: usize = 4 << 20;

/// One operation in progress on a store: the transport, the call's keys, tag and deadline.
pub struct Ctx<'a> {
    t: &'a mut dyn StoreTransport,
    ns: &'a Namespace,
    call: CallKeys,
    tag: u32,
    deadline: Instant,
    pub rank: usize,
    pub size: usize,
}

impl<'a> Ctx<'a> {
    /// The context of collective call `seq` (operation `op`) or of send/recv (any `seq`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        t: &'a mut dyn StoreTransport,
        ns: &'a Namespace,
        seq: u64,
        op: &str,
        tag: u32,
        deadline: Instant,
        rank: usize,
        size: usize,
    ) -> Self {
        Ctx {
            t,
            ns,
            call: ns.call(seq, op),
            tag,
            deadline,
            rank,
            size,
        }
    }

    /// The key of `phase` of this call, with numeric fields `parts`.
    pub fn key(&self, phase: &str, parts: &[usize]) -> String {
        self.call.key(phase, parts)
    }

    /// The namespace of the run (for send/recv queues and clean-up).
    pub fn ns(&self) -> &Namespace {
        self.ns
    }

    pub fn push(&mut self, puts: &[Put<'_>]) -> Result<()> {
        if puts.is_empty() {
            return Ok(());
        }
        self.t.push(self.tag, puts, self.deadline)
    }

    /// Publishes `data` under `key` for `readers` peers.
    pub fn put(&mut self, key: &str, data: &[u8], readers: usize) -> Result<()> {
        self.push(&[Put { key, data, readers }])
    }

    pub fn pop(&mut self, takes: &mut [Take<'_>]) -> Result<()> {
        if takes.is_empty() {
            return Ok(());
        }
        self.t.pop(self.tag, takes, self.deadline)
    }

    /// Takes the message under `key` written by `from` into `buf`.
    pub fn get(&mut self, key: &str, from: Option<usize>, buf: &mut [u8]) -> Result<()> {
        self.pop(&mut [Take { key, from, buf }])
    }

    pub fn incr(&mut self, key: &str, by: u64) -> Result<u64> {
        self.t.incr(key, by, self.deadline)
    }

    pub fn discard(&mut self, keys: Vec<String>) {
        self.t.discard(keys);
    }

    pub fn delete(&mut self, keys: &[String]) -> Result<()> {
        self.t.delete(keys, self.deadline)
    }

    pub fn delete_prefix(&mut self, prefix: &str) -> Result<usize> {
        self.t.delete_prefix(prefix, self.deadline)
    }

    /// Sends `data` to `peer` on the pair's queue.
    pub fn send(&mut self, peer: usize, data: &[u8]) -> Result<()> {
        let key = self.ns.p2p(self.rank, peer);
        self.put(&key, data, 1)
    }

    /// Receives the next message from `peer` on the pair's queue.
    pub fn recv(&mut self, peer: usize, buf: &mut [u8]) -> Result<()> {
        let key = self.ns.p2p(peer, self.rank);
        self.get(&key, Some(peer), buf)
    }
}

/// Byte range of segment `i` when `elems` elements of `esize` bytes are split into `n` parts.
pub fn segment(i: usize, n: usize, elems: usize, esize: usize) -> std::ops::Range<usize> {
    let base = elems / n;
    let extra = elems % n;
    let start = i * base + i.min(extra);
    let len = base + usize::from(i < extra);
    start * esize..(start + len) * esize
}

/// `buf` as `n` consecutive blocks of `s` bytes (n empty blocks when `s` is 0).
pub fn blocks_mut(buf: &mut [u8], s: usize, n: usize) -> Vec<&mut [u8]> {
    if s == 0 {
        (0..n).map(|_| <&mut [u8]>::default()).collect()
    } else {
        buf.chunks_mut(s).take(n).collect()
    }
}
