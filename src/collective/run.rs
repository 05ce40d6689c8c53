//! The one table from a planned algorithm to the function that runs it, for each channel
//! family: given the algorithm [`crate::plan`] chose and the operation's buffers ([`Args`]), run
//! it. Adding a collective adds its arms here; algorithm files contain no choice.

use super::{filled, local, not_planned, p2p, store, Args};
use crate::error::Result;
use crate::plan::{P2pAlgorithm, StoreAlgorithm, StoreReduce};

/// Runs `alg` (as the plan chose it for the operation of `args`): one arm per algorithm and
/// operation.
pub fn p2p(alg: P2pAlgorithm, ctx: &mut p2p::Ctx, args: Args) -> Result<()> {
    use P2pAlgorithm as A;
    fn src(send: Option<&[u8]>) -> p2p::allreduce::Src<'_> {
        send.map_or(p2p::allreduce::Src::InPlace, p2p::allreduce::Src::From)
    }
    match (alg, args) {
        (A::Local, args) => local(args),
        (A::Send, Args::Send { peer, data }) => ctx.send(peer, data),
        (A::Send, Args::Recv { peer, buf }) => ctx.recv(peer, buf),
        (A::Binomial, Args::Bcast { buf, root }) => p2p::bcast::binomial(ctx, buf, root),
        (A::Dissemination, Args::Barrier | Args::Finalize { .. }) => {
            p2p::barrier::dissemination(ctx)
        }
        (A::Binomial, Args::Gather { send, recv, root }) => {
            p2p::gather::binomial_rotating(ctx, send, recv, root)
        }
        (A::Flat, Args::Gather { send, recv, root }) => p2p::gather::flat(ctx, send, recv, root),
        (A::Binomial, Args::Scatter { send, recv, root }) => {
            p2p::scatter::binomial(ctx, send, recv, root)
        }
        (A::Flat, Args::Scatter { send, recv, root }) => p2p::scatter::flat(ctx, send, recv, root),
        (
            A::Binomial,
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => p2p::reduce::binomial(ctx, send, recv, t, op, root),
        (
            A::BinomialPipelined,
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => p2p::reduce::binomial_pipelined(ctx, send, recv, t, op, root),
        (
            A::Ordered { flat_gather },
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => p2p::reduce::ordered(ctx, send, recv, t, op, root, flat_gather),
        (A::Ring, Args::Allreduce { send, buf, t, op }) => {
            p2p::allreduce::ring_from(ctx, src(send), buf, t, op)
        }
        (A::HalvingDoubling, Args::Allreduce { send, buf, t, op }) => {
            p2p::allreduce::halving_doubling_from(ctx, src(send), buf, t, op)
        }
        (A::RecursiveDoubling, Args::Allreduce { send, buf, t, op }) => {
            p2p::allreduce::recursive_doubling(ctx, filled(send, buf), t, op)
        }
        (A::Ordered { flat_gather }, Args::Allreduce { send, buf, t, op }) => {
            p2p::allreduce::ordered(ctx, filled(send, buf), t, op, flat_gather)
        }
        (A::RecursiveDoubling, Args::Scan { buf, t, op }) => {
            p2p::scan::recursive_doubling(ctx, buf, t, op)
        }
        (A::Chain, Args::Scan { buf, t, op }) => p2p::scan::chain(ctx, buf, t, op),
        (A::ChainPipelined, Args::Scan { buf, t, op }) => {
            p2p::scan::chain_pipelined(ctx, buf, t, op)
        }
        (A::Ring, Args::Allgather { send, recv }) => p2p::allgather::ring(ctx, send, recv),
        (A::Bruck, Args::Allgather { send, recv }) => p2p::allgather::bruck(ctx, send, recv),
        (A::AllAtOnce, Args::Alltoall { send, recv }) => {
            p2p::alltoall::all_at_once(ctx, send, recv)
        }
        (A::Flat, Args::Gatherv { send, recv, root }) => p2p::gather::flat_v(ctx, send, recv, root),
        (A::Flat, Args::Scatterv { send, recv, root }) => {
            p2p::scatter::flat_v(ctx, send, recv, root)
        }
        (A::Ring, Args::Allgatherv { send, recv, blocks }) => {
            p2p::allgather::ring_v(ctx, send, recv, blocks)
        }
        (
            A::AllAtOnce,
            Args::Alltoallv {
                send,
                sblocks,
                recv,
                rblocks,
            },
        ) => p2p::alltoall::all_at_once_v(ctx, send, sblocks, recv, rblocks),
        (
            A::AllAtOnce,
            Args::ReduceScatter {
                send,
                recv,
                counts,
                t,
                op,
            },
        ) => p2p::reduce_scatter::all_at_once(ctx, send, recv, counts, t, op),
        (A::Chain, Args::Exscan { send, recv, t, op }) => {
            p2p::scan::exclusive_chain(ctx, send, recv, t, op)
        }
        (alg, args) => Err(not_planned(crate::plan::Algorithm::P2p(alg).name(), &args)),
    }
}

/// Runs `alg` (as the plan chose it for the operation of `args`): one arm per algorithm and
/// operation.
pub fn store(alg: StoreAlgorithm, ctx: &mut store::Ctx, args: Args) -> Result<()> {
    use StoreAlgorithm as A;
    match (alg, args) {
        (A::Local, args) => local(args),
        (A::Queue, Args::Send { peer, data }) => ctx.send(peer, data),
        (A::Queue, Args::Recv { peer, buf }) => ctx.recv(peer, buf),
        (A::WriteOnce, Args::Bcast { buf, root }) => store::bcast::write_once(ctx, buf, root),
        (A::Counter, Args::Barrier) => store::barrier::counter(ctx),
        (A::Counter, Args::Finalize { dirty }) => store::finalize::close(ctx, dirty),
        (A::Flat, Args::Gather { send, recv, root }) => store::gather::flat(ctx, send, recv, root),
        (A::Flat, Args::Scatter { send, recv, root }) => {
            store::scatter::flat(ctx, send, recv, root)
        }
        (
            A::Reduce(StoreReduce::FlatFold { at_once }),
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => store::reduce::flat_fold(ctx, send, recv, t, op, root, at_once),
        (
            A::Reduce(StoreReduce::Tree),
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        ) => store::reduce::tree(ctx, send, recv, t, op, root),
        (A::ReduceBcast(how), Args::Allreduce { send, buf, t, op }) => {
            store::allreduce::reduce_bcast(ctx, filled(send, buf), t, op, how)
        }
        (A::Segmented, Args::Allreduce { send, buf, t, op }) => {
            store::allreduce::segmented(ctx, filled(send, buf), t, op)
        }
        (A::FoldPrefix, Args::Scan { buf, t, op }) => store::scan::fold_prefix(ctx, buf, t, op),
        (A::Chain, Args::Scan { buf, t, op }) => store::scan::chain(ctx, buf, t, op),
        (A::RecursiveDoubling, Args::Scan { buf, t, op }) => {
            store::scan::recursive_doubling(ctx, buf, t, op)
        }
        (A::WriteOnce, Args::Allgather { send, recv }) => {
            store::allgather::write_once(ctx, send, recv)
        }
        (A::Direct, Args::Alltoall { send, recv }) => store::alltoall::direct(ctx, send, recv),
        (A::Flat, Args::Gatherv { send, recv, root }) => {
            store::gather::flat_v(ctx, send, recv, root)
        }
        (A::Flat, Args::Scatterv { send, recv, root }) => {
            store::scatter::flat_v(ctx, send, recv, root)
        }
        (A::WriteOnce, Args::Allgatherv { send, recv, blocks }) => {
            store::allgather::write_once_v(ctx, send, recv, blocks)
        }
        (
            A::Direct,
            Args::Alltoallv {
                send,
                sblocks,
                recv,
                rblocks,
            },
        ) => store::alltoall::direct_v(ctx, send, sblocks, recv, rblocks),
        (
            A::Direct,
            Args::ReduceScatter {
                send,
                recv,
                counts,
                t,
                op,
            },
        ) => store::reduce_scatter::direct(ctx, send, recv, counts, t, op),
        (A::FoldPrefix, Args::Exscan { send, recv, t, op }) => {
            store::scan::exclusive_fold_prefix(ctx, send, recv, t, op)
        }
        (A::Chain, Args::Exscan { send, recv, t, op }) => {
            store::scan::exclusive_chain(ctx, send, recv, t, op)
        }
        (alg, args) => Err(not_planned(
            crate::plan::Algorithm::Store(alg).name(),
            &args,
        )),
    }
}
