//! Collective algorithms over a peer-to-peer transport (one algorithm family per file), and
//! [`run`]: the algorithm the plan chose, on the operation's buffers.

pub mod allgather;
pub mod allreduce;
pub mod alltoall;
pub mod barrier;
pub mod bcast;
pub mod gather;
pub mod reduce;
pub mod reduce_scatter;
pub mod scan;
pub mod scatter;

use super::{filled, local, not_planned, Args};
use crate::channel::{P2pTransport, Xfer};
use crate::error::Result;
use crate::plan::P2pAlgorithm;
use std::time::Instant;

/// Runs `alg` (as the plan chose it for the operation of `args`): one arm per algorithm and
/// operation.
pub fn run(alg: P2pAlgorithm, ctx: &mut Ctx, args: Args) -> Result<()> {
    use P2pAlgorithm as A;
    fn src(send: Option<&[u8]>) -> allreduce::Src<'_> {
        send.map_or(allreduce::Src::InPlace, allreduce::Src::From)
    }
    match (alg, args) {
        (A::Local, args) => local(args),
        (A::Send, Args::Send { peer, data }) => ctx.send(peer, data),
        (A::Send, Args::Recv { peer, buf }) => ctx.recv(peer, buf),
        (A::Binomial, Args::Bcast { buf, root }) => bcast::binomial(ctx, buf, root),
        (A::Dissemination, Args::Barrier | Args::Finalize { .. }) => barrier::dissemination(ctx),
        (A::Binomial, Args::Gather { send, recv, root }) => {
            gather::binomial_rotating(ctx, send, recv, root)
        }
        (A::Flat, Args::Gather { send, recv, root }) => gather::flat(ctx, send, recv, root),
        (A::Binomial, Args::Scatter { send, recv, root }) => {
            scatter::binomial(ctx, send, recv, root)
        }
        (A::Flat, Args::Scatter { send, recv, root }) => scatter::flat(ctx, send, recv, root),
        (
            A::Binomial,
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => reduce::binomial(ctx, send, recv, t, op, root),
        (
            A::BinomialPipelined,
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => reduce::binomial_pipelined(ctx, send, recv, t, op, root),
        (
            A::Ordered { flat_gather },
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => reduce::ordered(ctx, send, recv, t, op, root, flat_gather),
        (A::Ring, Args::Allreduce { send, buf, t, op }) => {
            allreduce::ring_from(ctx, src(send), buf, t, op)
        }
        (A::HalvingDoubling, Args::Allreduce { send, buf, t, op }) => {
            allreduce::halving_doubling_from(ctx, src(send), buf, t, op)
        }
        (A::RecursiveDoubling, Args::Allreduce { send, buf, t, op }) => {
            allreduce::recursive_doubling(ctx, filled(send, buf), t, op)
        }
        (A::Ordered { flat_gather }, Args::Allreduce { send, buf, t, op }) => {
            allreduce::ordered(ctx, filled(send, buf), t, op, flat_gather)
        }
        (A::RecursiveDoubling, Args::Scan { buf, t, op }) => {
            scan::recursive_doubling(ctx, buf, t, op)
        }
        (A::Chain, Args::Scan { buf, t, op }) => scan::chain(ctx, buf, t, op),
        (A::ChainPipelined, Args::Scan { buf, t, op }) => scan::chain_pipelined(ctx, buf, t, op),
        (A::Ring, Args::Allgather { send, recv }) => allgather::ring(ctx, send, recv),
        (A::Bruck, Args::Allgather { send, recv }) => allgather::bruck(ctx, send, recv),
        (A::AllAtOnce, Args::Alltoall { send, recv }) => alltoall::all_at_once(ctx, send, recv),
        (A::Flat, Args::Gatherv { send, recv, root }) => gather::flat_v(ctx, send, recv, root),
        (A::Flat, Args::Scatterv { send, recv, root }) => scatter::flat_v(ctx, send, recv, root),
        (A::Ring, Args::Allgatherv { send, recv, blocks }) => {
            allgather::ring_v(ctx, send, recv, blocks)
        }
        (
            A::AllAtOnce,
            Args::Alltoallv {
                send,
                sblocks,
                recv,
                rblocks,
            },
        ) => alltoall::all_at_once_v(ctx, send, sblocks, recv, rblocks),
        (
            A::AllAtOnce,
            Args::ReduceScatter {
                send,
                recv,
                counts,
                t,
                op,
            },
        ) => reduce_scatter::all_at_once(ctx, send, recv, counts, t, op),
        (A::Chain, Args::Exscan { send, recv, t, op }) => {
            scan::exclusive_chain(ctx, send, recv, t, op)
        }
        (alg, args) => Err(not_planned(crate::plan::Algorithm::P2p(alg).name(), &args)),
    }
}

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
