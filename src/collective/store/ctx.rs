//! The context of one operation on an object store: the transport, the call's keys, tag and
//! deadline, the objects written, and the store steps the algorithms are written in.

use crate::channel::store::keys::{CallKeys, Namespace};
use crate::channel::store::{Put, StoreTransport, Take};
use crate::collective::buffer::blocks_mut;
use crate::error::Result;
use std::time::Instant;

/// One operation in progress on a store: the transport, the call's keys, tag and deadline.
pub struct Ctx<'a> {
    t: &'a mut dyn StoreTransport,
    ns: &'a Namespace,
    call: CallKeys,
    tag: u32,
    deadline: Instant,
    /// Objects written and counter increments so far in this call.
    sent: u64,
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
            sent: 0,
            rank,
            size,
        }
    }

    /// Objects this peer wrote and counters it incremented in this call so far.
    pub fn sent(&self) -> u64 {
        self.sent
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
        self.sent += puts.len() as u64;
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

    /// Fills `out`, `count` blocks of `mine.len()` bytes: block `own` with `mine`, every other
    /// block p with the message under `keys[p]` (written by rank p), all in one pop.
    pub fn take_blocks(
        &mut self,
        keys: &[String],
        out: &mut [u8],
        count: usize,
        mine: &[u8],
        own: usize,
    ) -> Result<()> {
        let mut blocks = blocks_mut(out, mine.len(), count);
        if let Some(b) = blocks.get_mut(own) {
            b.copy_from_slice(mine);
        }
        self.take_each(keys, blocks, own)
    }

    /// Fills every block p of `blocks` but `skip` with the message under `keys[p]` (written by
    /// rank p), all in one pop.
    pub fn take_each(
        &mut self,
        keys: &[String],
        blocks: Vec<&mut [u8]>,
        skip: usize,
    ) -> Result<()> {
        let mut takes: Vec<Take> = blocks
            .into_iter()
            .enumerate()
            .filter(|&(p, _)| p != skip)
            .map(|(p, buf)| Take {
                key: &keys[p],
                from: Some(p),
                buf,
            })
            .collect();
        self.pop(&mut takes)
    }

    /// Takes the message under `key` written by `from` into `buf`.
    pub fn get(&mut self, key: &str, from: Option<usize>, buf: &mut [u8]) -> Result<()> {
        self.pop(&mut [Take { key, from, buf }])
    }

    pub fn incr(&mut self, key: &str, by: u64) -> Result<u64> {
        self.sent += 1;
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
