//! Collective algorithms over an object store (Redis now, S3 later), written against
//! [`StoreTransport`] only. One algorithm family per file; [`run`] runs the algorithm the plan
//! chose, on the operation's buffers.
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
pub mod reduce_scatter;
pub mod scan;
pub mod scatter;

use super::buffer::blocks_mut;
use super::{filled, local, not_planned, Args};
use crate::channel::store::keys::{CallKeys, Namespace};
use crate::channel::store::{Put, StoreTransport, Take};
use crate::error::Result;
use crate::plan::{StoreAlgorithm, StoreReduce};
use std::time::Instant;

/// Runs `alg` (as the plan chose it for the operation of `args`): one arm per algorithm and
/// operation.
pub fn run(alg: StoreAlgorithm, ctx: &mut Ctx, args: Args) -> Result<()> {
    use StoreAlgorithm as A;
    match (alg, args) {
        (A::Local, args) => local(args),
        (A::Queue, Args::Send { peer, data }) => ctx.send(peer, data),
        (A::Queue, Args::Recv { peer, buf }) => ctx.recv(peer, buf),
        (A::WriteOnce, Args::Bcast { buf, root }) => bcast::write_once(ctx, buf, root),
        (A::Counter, Args::Barrier) => barrier::counter(ctx),
        (A::Counter, Args::Finalize { dirty }) => finalize::close(ctx, dirty),
        (A::Flat, Args::Gather { send, recv, root }) => gather::flat(ctx, send, recv, root),
        (A::Flat, Args::Scatter { send, recv, root }) => scatter::flat(ctx, send, recv, root),
        (
            A::Reduce(StoreReduce::FlatFold { at_once }),
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => reduce::flat_fold(ctx, send, recv, t, op, root, at_once),
        (
            A::Reduce(StoreReduce::Tree),
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => reduce::tree(ctx, send, recv, t, op, root),
        (A::ReduceBcast(how), Args::Allreduce { send, buf, t, op }) => {
            allreduce::reduce_bcast(ctx, filled(send, buf), t, op, how)
        }
        (A::Segmented, Args::Allreduce { send, buf, t, op }) => {
            allreduce::segmented(ctx, filled(send, buf), t, op)
        }
        (A::FoldPrefix, Args::Scan { buf, t, op }) => scan::fold_prefix(ctx, buf, t, op),
        (A::Chain, Args::Scan { buf, t, op }) => scan::chain(ctx, buf, t, op),
        (A::RecursiveDoubling, Args::Scan { buf, t, op }) => {
            scan::recursive_doubling(ctx, buf, t, op)
        }
        (A::WriteOnce, Args::Allgather { send, recv }) => allgather::write_once(ctx, send, recv),
        (A::Direct, Args::Alltoall { send, recv }) => alltoall::direct(ctx, send, recv),
        (A::Flat, Args::Gatherv { send, recv, root }) => gather::flat_v(ctx, send, recv, root),
        (A::Flat, Args::Scatterv { send, recv, root }) => scatter::flat_v(ctx, send, recv, root),
        (A::WriteOnce, Args::Allgatherv { send, recv, blocks }) => {
            allgather::write_once_v(ctx, send, recv, blocks)
        }
        (
            A::Direct,
            Args::Alltoallv {
                send,
                sblocks,
                recv,
                rblocks,
            },
        ) => alltoall::direct_v(ctx, send, sblocks, recv, rblocks),
        (
            A::Direct,
            Args::ReduceScatter {
                send,
                recv,
                counts,
                t,
                op,
            },
        ) => reduce_scatter::direct(ctx, send, recv, counts, t, op),
        (A::FoldPrefix, Args::Exscan { send, recv, t, op }) => {
            scan::exclusive_fold_prefix(ctx, send, recv, t, op)
        }
        (A::Chain, Args::Exscan { send, recv, t, op }) => {
            scan::exclusive_chain(ctx, send, recv, t, op)
        }
        (alg, args) => Err(not_planned(
            crate::plan::Algorithm::Store(alg).name(),
            &args,
        )),
    }
}

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
