//! The plan: which algorithm runs for a call. The one place that chooses, for both channel
//! families: the thresholds, the rules, the algorithms' names, and forced algorithms.
//!
//! The communicator runs what [`plan`] returns (`collective::run`)
//! and records it; the model prices it (`model::pattern`). Neither chooses.

use crate::channel::Family;
use crate::error::{Error, Result};
use crate::tag::OpCode;

/// From this many bytes per rank on, the direct channel pipelines reduce and scan in pieces and
/// sends gather and scatter straight between the root and every rank; below it the
/// latency-optimal trees stay. Measured on 2 vCPUs (4 and 8 peers oversubscribed): at 16 MiB
/// the unpipelined trees took 2.5-4x longer (gather 8 peers 87 -> 21 ms, reduce 69 -> 26 ms,
/// scan 68 -> 25 ms); at 1 MiB with 8 peers flat gather and scatter halve the time (gather
/// 2.5-3.0 -> 1.1-1.2 ms, scatter 3.4-3.7 -> 1.8 ms), the scan chain gains 20-30%, and the
/// pipelined reduce is on par with the tree.
pub const LARGE: usize = 1 << 20;

/// Halving-doubling is chosen over the ring up to this block size per peer (bytes / peers):
/// measured on 2 vCPUs, it wins at 256 KiB with 4 peers and up to 1 MiB with 8 (fewer steps,
/// each a chance to wait for a descheduled peer); from 1 MiB at 4 peers and 2 MiB at 8 the
/// ring is as fast or faster.
pub const HALVING_DOUBLING_MAX_BLOCK: usize = 128 << 10;

/// Up to this many bytes gathered at every peer (block x peers), the direct allgather runs
/// Bruck's algorithm (ceil(log2 n) steps); above it the ring (n - 1 steps of one block, each
/// between neighbours).
pub const BRUCK_MAX: usize = 64 << 10;

/// Up to this many bytes gathered at one peer, store reductions and scans fetch every
/// contribution at once and fold them (one round); above it they use partial results.
pub const FLAT_MAX: usize = 4 << 20;

/// From this many bytes on, commutative and associative store allreduces are segmented.
pub const SEGMENTED_MIN: usize = 1 << 20;

/// Settings of the plan that come from the configuration (equal on every peer: part of the
/// digest checked at init).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// `communicator.ring_threshold_bytes`: where the direct allreduce leaves recursive doubling.
    pub ring_threshold: usize,
}

/// One operation as the plan and the model see it. Every peer describes the same call the same
/// way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Call<'a> {
    pub op: OpCode,
    /// As passed by the communicator: the message (send/recv), the block of one peer (bcast,
    /// gather, scatter, allgather), the buffer (reduce, allreduce, scan, exscan,
    /// reduce_scatter, reduce_scatter_block), the whole send buffer (alltoall, `peers` blocks)
    /// or the whole receive buffer's blocks (allgatherv). 0 for gatherv, scatterv and alltoallv:
    /// MPI gives their counts only at the root, or each peer only its own, so no size is known
    /// at every peer, and every peer must describe a call the same way (they are planned and
    /// priced by their messages alone).
    pub bytes: usize,
    pub peers: usize,
    /// Element size of a reduction (1 otherwise).
    pub elem: usize,
    /// The operator is not both commutative and associative (strict left-to-right algorithms).
    pub ordered: bool,
    /// An algorithm forced by the caller (`Communicator::allreduce_with`), by name.
    pub forced: Option<&'a str>,
}

impl<'a> Call<'a> {
    pub fn new(op: OpCode, bytes: usize, peers: usize) -> Self {
        Call {
            op,
            bytes,
            peers,
            elem: 1,
            ordered: false,
            forced: None,
        }
    }

    /// A reduction with elements of `elem` bytes and an operator that is `ordered` or not.
    pub fn reduction(mut self, elem: usize, ordered: bool) -> Self {
        self.elem = elem.max(1);
        self.ordered = ordered;
        self
    }

    /// The call with the algorithm named `name` forced (None: the plan's choice).
    pub fn forced(mut self, name: Option<&'a str>) -> Self {
        self.forced = name;
        self
    }

    /// A reduction whose buffer splits into one segment per peer, with an operator that allows
    /// it (commutative and associative).
    fn splits(&self) -> bool {
        self.bytes / self.elem >= self.peers && !self.ordered
    }

    /// Bytes one peer gathers from all the others.
    fn gathered(&self) -> usize {
        self.bytes.saturating_mul(self.peers.saturating_sub(1))
    }
}

/// The algorithms of the peer-to-peer family (`collective::p2p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum P2pAlgorithm {
    /// One peer: the result is the contribution, nothing is sent.
    Local,
    Send,
    /// Binomial tree (bcast; gather and scatter with subtrees of blocks; reduce).
    Binomial,
    /// Straight between the root and every rank (gather, scatter, gatherv, scatterv).
    Flat,
    BinomialPipelined,
    /// Gather to the root (straight for large blocks: `flat_gather`), strict left fold there;
    /// allreduce then broadcasts.
    Ordered {
        flat_gather: bool,
    },
    RecursiveDoubling,
    Ring,
    /// Bruck's allgather: ceil(log2 n) exchanges that double the blocks held.
    Bruck,
    HalvingDoubling,
    /// Left-to-right chain of whole buffers (scan, exscan).
    Chain,
    ChainPipelined,
    Dissemination,
    /// Every pair exchanges its block at once (alltoall, alltoallv, reduce_scatter: then a
    /// left fold of the received blocks).
    AllAtOnce,
}

/// How a store reduction brings the values together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreReduce {
    /// The root reads every value, all at once (`at_once`) or one after the other, and folds
    /// them strictly left to right.
    FlatFold { at_once: bool },
    /// A binomial tree of partial results.
    Tree,
}

/// The algorithms of the object-store family (`collective::store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreAlgorithm {
    Local,
    Queue,
    WriteOnce,
    /// A counting barrier (also the closing barrier of finalize).
    Counter,
    Flat,
    Reduce(StoreReduce),
    ReduceBcast(StoreReduce),
    Segmented,
    FoldPrefix,
    Chain,
    RecursiveDoubling,
    Direct,
}

/// An algorithm of either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    P2p(P2pAlgorithm),
    Store(StoreAlgorithm),
}

impl Algorithm {
    pub fn family(self) -> Family {
        match self {
            Algorithm::P2p(_) => Family::P2p,
            Algorithm::Store(_) => Family::Store,
        }
    }

    /// The algorithm's name in traces, counters, bench output and `allreduce_with`: the one
    /// table of names.
    pub fn name(self) -> &'static str {
        use P2pAlgorithm as P;
        use StoreAlgorithm as S;
        match self {
            Algorithm::P2p(P::Local) | Algorithm::Store(S::Local) => "local",
            Algorithm::P2p(P::Send) => "send",
            Algorithm::P2p(P::Binomial) => "binomial",
            Algorithm::P2p(P::Flat) | Algorithm::Store(S::Flat) => "flat",
            Algorithm::P2p(P::BinomialPipelined) => "binomial_pipelined",
            Algorithm::P2p(P::Ordered { .. }) => "ordered",
            Algorithm::P2p(P::RecursiveDoubling) | Algorithm::Store(S::RecursiveDoubling) => {
                "recursive_doubling"
            }
            Algorithm::P2p(P::Ring) => "ring",
            Algorithm::P2p(P::Bruck) => "bruck",
            Algorithm::P2p(P::HalvingDoubling) => "halving_doubling",
            Algorithm::P2p(P::Chain) | Algorithm::Store(S::Chain) => "chain",
            Algorithm::P2p(P::ChainPipelined) => "chain_pipelined",
            Algorithm::P2p(P::Dissemination) => "dissemination",
            Algorithm::P2p(P::AllAtOnce) => "all_at_once",
            Algorithm::Store(S::Queue) => "queue",
            Algorithm::Store(S::WriteOnce) => "write_once",
            Algorithm::Store(S::Counter) => "counter",
            Algorithm::Store(S::Reduce(StoreReduce::FlatFold { .. })) => "flat_fold",
            Algorithm::Store(S::Reduce(StoreReduce::Tree)) => "tree",
            Algorithm::Store(S::ReduceBcast(_)) => "reduce_bcast",
            Algorithm::Store(S::Segmented) => "segmented",
            Algorithm::Store(S::FoldPrefix) => "fold_prefix",
            Algorithm::Store(S::Direct) => "direct",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The algorithm that runs `call` on a channel of `family`. Every peer gets the same answer for
/// the same call. Errors only for a forced algorithm that is unknown for the family or does not
/// fit the call (`InvalidArg`).
pub fn plan(call: &Call, family: Family, tuning: &Tuning) -> Result<Algorithm> {
    let one = call.peers <= 1 && !matches!(call.op, OpCode::SendRecv | OpCode::Finalize);
    let alg = match call.forced {
        Some(name) => forced(call, family, name)?,
        None => match family {
            Family::P2p => Algorithm::P2p(p2p(call, tuning)),
            Family::Store => Algorithm::Store(store(call)),
        },
    };
    Ok(match (one, alg.family()) {
        (true, Family::P2p) => Algorithm::P2p(P2pAlgorithm::Local),
        (true, Family::Store) => Algorithm::Store(StoreAlgorithm::Local),
        (false, _) => alg,
    })
}

/// The peer-to-peer rules (for two peers and more).
fn p2p(call: &Call, tuning: &Tuning) -> P2pAlgorithm {
    use P2pAlgorithm::*;
    let (b, n) = (call.bytes, call.peers.max(1));
    let large = b >= LARGE;
    match call.op {
        OpCode::SendRecv => Send,
        OpCode::Bcast => Binomial,
        OpCode::Barrier | OpCode::Finalize => Dissemination,
        OpCode::Gather | OpCode::Scatter if large => Flat,
        OpCode::Gather | OpCode::Scatter => Binomial,
        OpCode::Reduce if call.ordered => Ordered { flat_gather: large },
        OpCode::Reduce if large => BinomialPipelined,
        OpCode::Reduce => Binomial,
        OpCode::Allreduce if call.splits() && b >= tuning.ring_threshold => {
            if n.is_power_of_two() && b / n <= HALVING_DOUBLING_MAX_BLOCK {
                HalvingDoubling
            } else {
                Ring
            }
        }
        OpCode::Allreduce if call.ordered => Ordered { flat_gather: large },
        OpCode::Allreduce => RecursiveDoubling,
        OpCode::Scan if call.ordered => Chain,
        OpCode::Scan if large => ChainPipelined,
        OpCode::Scan => RecursiveDoubling,
        OpCode::Allgather | OpCode::Agree if b.saturating_mul(n) <= BRUCK_MAX => Bruck,
        OpCode::Allgather | OpCode::Agree => Ring,
        OpCode::Alltoall | OpCode::Alltoallv => AllAtOnce,
        OpCode::Gatherv | OpCode::Scatterv => Flat,
        OpCode::Allgatherv => Ring,
        OpCode::ReduceScatterBlock | OpCode::ReduceScatter => AllAtOnce,
        OpCode::Exscan => Chain,
    }
}

/// How a store reduction of `call` brings the values together.
fn store_reduce(call: &Call) -> StoreReduce {
    let at_once = call.gathered() <= FLAT_MAX;
    if call.ordered || at_once {
        StoreReduce::FlatFold { at_once }
    } else {
        StoreReduce::Tree
    }
}

/// The object-store rules (for two peers and more).
fn store(call: &Call) -> StoreAlgorithm {
    use StoreAlgorithm::*;
    match call.op {
        OpCode::SendRecv => Queue,
        OpCode::Bcast => WriteOnce,
        OpCode::Barrier | OpCode::Finalize => Counter,
        OpCode::Gather | OpCode::Scatter => Flat,
        OpCode::Reduce => Reduce(store_reduce(call)),
        OpCode::Allreduce if call.splits() && call.bytes >= SEGMENTED_MIN => Segmented,
        OpCode::Allreduce => ReduceBcast(store_reduce(call)),
        OpCode::Scan if call.gathered() <= FLAT_MAX => FoldPrefix,
        OpCode::Scan if call.ordered => Chain,
        OpCode::Scan => RecursiveDoubling,
        OpCode::Allgather | OpCode::Agree => WriteOnce,
        OpCode::Alltoall | OpCode::Alltoallv => Direct,
        OpCode::Gatherv | OpCode::Scatterv => Flat,
        OpCode::Allgatherv => WriteOnce,
        OpCode::ReduceScatterBlock | OpCode::ReduceScatter => Direct,
        OpCode::Exscan if call.gathered() <= FLAT_MAX => FoldPrefix,
        OpCode::Exscan => Chain,
    }
}

/// The allreduce algorithms a caller may force, per family, by name.
const FORCEABLE: [(Family, &str); 6] = [
    (Family::P2p, "ring"),
    (Family::P2p, "halving_doubling"),
    (Family::P2p, "recursive_doubling"),
    (Family::P2p, "ordered"),
    (Family::Store, "reduce_bcast"),
    (Family::Store, "segmented"),
];

/// The algorithm named `name`, forced for an allreduce on `family`. Halving-doubling needs a
/// power-of-two number of peers and an element per peer: the ring runs otherwise.
fn forced(call: &Call, family: Family, name: &str) -> Result<Algorithm> {
    use P2pAlgorithm as P;
    use StoreAlgorithm as S;
    if call.op != OpCode::Allreduce || !FORCEABLE.contains(&(family, name)) {
        return Err(Error::invalid(format!(
            "unknown {} algorithm {name:?} for this channel",
            call.op.name()
        )));
    }
    let n = call.peers.max(1);
    Ok(match name {
        "ring" => Algorithm::P2p(P::Ring),
        "halving_doubling" if n.is_power_of_two() && call.bytes / call.elem >= n => {
            Algorithm::P2p(P::HalvingDoubling)
        }
        "halving_doubling" => Algorithm::P2p(P::Ring),
        "recursive_doubling" => Algorithm::P2p(P::RecursiveDoubling),
        "ordered" => Algorithm::P2p(P::Ordered {
            flat_gather: call.bytes >= LARGE,
        }),
        "segmented" if !call.splits() => {
            return Err(Error::invalid(
                "segmented allreduce needs a commutative and associative operator and at least one element per peer",
            ))
        }
        "segmented" => Algorithm::Store(S::Segmented),
        _ => {
            debug_assert_eq!(name, "reduce_bcast");
            Algorithm::Store(S::ReduceBcast(store_reduce(call)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use P2pAlgorithm as P;
    use StoreAlgorithm as S;

    const T: Tuning = Tuning {
        ring_threshold: 256 << 10,
    };

    fn p2p(op: OpCode, bytes: usize, n: usize, ordered: bool) -> Algorithm {
        let call = Call::new(op, bytes, n).reduction(4, ordered);
        plan(&call, Family::P2p, &T).unwrap()
    }

    fn store(op: OpCode, bytes: usize, n: usize, ordered: bool) -> Algorithm {
        let call = Call::new(op, bytes, n).reduction(4, ordered);
        plan(&call, Family::Store, &T).unwrap()
    }

    #[test]
    fn p2p_thresholds() {
        use OpCode::*;
        let a = Algorithm::P2p;
        for op in [Gather, Scatter] {
            assert_eq!(p2p(op, LARGE - 4, 8, false), a(P::Binomial));
            assert_eq!(p2p(op, LARGE, 8, false), a(P::Flat));
        }
        assert_eq!(p2p(Reduce, LARGE - 4, 4, false), a(P::Binomial));
        assert_eq!(p2p(Reduce, LARGE, 4, false), a(P::BinomialPipelined));
        let ordered = |flat_gather| a(P::Ordered { flat_gather });
        assert_eq!(p2p(Reduce, LARGE - 4, 4, true), ordered(false));
        assert_eq!(p2p(Reduce, LARGE, 4, true), ordered(true));
        assert_eq!(p2p(Scan, LARGE - 4, 4, false), a(P::RecursiveDoubling));
        assert_eq!(p2p(Scan, LARGE, 4, false), a(P::ChainPipelined));
        assert_eq!(p2p(Scan, LARGE, 4, true), a(P::Chain));
        // Allreduce: the ring threshold, the block limit of halving-doubling, powers of two,
        // an element per peer, ordered operators.
        let rt = T.ring_threshold;
        assert_eq!(p2p(Allreduce, rt - 4, 2, false), a(P::RecursiveDoubling));
        assert_eq!(p2p(Allreduce, rt, 2, false), a(P::HalvingDoubling));
        let hd = HALVING_DOUBLING_MAX_BLOCK;
        assert_eq!(p2p(Allreduce, 4 * hd, 4, false), a(P::HalvingDoubling));
        assert_eq!(p2p(Allreduce, 4 * hd + 4, 4, false), a(P::Ring));
        assert_eq!(p2p(Allreduce, rt, 3, false), a(P::Ring));
        assert_eq!(p2p(Allreduce, rt, 4, true), ordered(false));
        assert_eq!(p2p(Allreduce, LARGE, 4, true), ordered(true));
        let few = Call::new(Allreduce, rt, 1 << 20).reduction(1 << 10, false);
        assert_eq!(
            plan(&few, Family::P2p, &T).unwrap(),
            a(P::RecursiveDoubling)
        );
        assert_eq!(p2p(Bcast, 8, 4, false), a(P::Binomial));
        assert_eq!(p2p(Barrier, 0, 4, false), a(P::Dissemination));
        assert_eq!(p2p(Finalize, 0, 1, false), a(P::Dissemination));
        assert_eq!(p2p(Agree, 16, 4, false), a(P::Bruck));
        assert_eq!(p2p(Allgather, BRUCK_MAX / 8, 8, false), a(P::Bruck));
        assert_eq!(p2p(Allgather, BRUCK_MAX / 8 + 1, 8, false), a(P::Ring));
        assert_eq!(p2p(Alltoall, 16, 4, false), a(P::AllAtOnce));
        assert_eq!(p2p(SendRecv, 16, 2, false), a(P::Send));
        assert_eq!(p2p(Gather, LARGE, 1, false), a(P::Local));
        // The v-collectives, reduce-scatter and exscan: one algorithm each, at any size.
        for b in [0, 8, LARGE] {
            assert_eq!(p2p(Gatherv, b, 4, false), a(P::Flat));
            assert_eq!(p2p(Scatterv, b, 4, false), a(P::Flat));
            assert_eq!(p2p(Allgatherv, b, 4, false), a(P::Ring));
            assert_eq!(p2p(Alltoallv, b, 4, false), a(P::AllAtOnce));
            assert_eq!(p2p(ReduceScatter, b, 4, true), a(P::AllAtOnce));
            assert_eq!(p2p(ReduceScatterBlock, b, 4, false), a(P::AllAtOnce));
            assert_eq!(p2p(Exscan, b, 4, false), a(P::Chain));
        }
        assert_eq!(p2p(Exscan, 8, 1, false), a(P::Local));
    }

    #[test]
    fn store_thresholds() {
        use OpCode::*;
        let a = Algorithm::Store;
        let flat = |at_once| StoreReduce::FlatFold { at_once };
        // FLAT_MAX is what one peer gathers: bytes * (n - 1).
        assert_eq!(
            store(Reduce, FLAT_MAX / 4, 5, false),
            a(S::Reduce(flat(true)))
        );
        assert_eq!(
            store(Reduce, FLAT_MAX / 4 + 4, 5, false),
            a(S::Reduce(StoreReduce::Tree))
        );
        assert_eq!(
            store(Reduce, FLAT_MAX / 4 + 4, 5, true),
            a(S::Reduce(flat(false)))
        );
        assert_eq!(
            store(Allreduce, SEGMENTED_MIN - 4, 4, false),
            a(S::ReduceBcast(flat(true)))
        );
        assert_eq!(store(Allreduce, SEGMENTED_MIN, 4, false), a(S::Segmented));
        assert_eq!(
            store(Allreduce, 8 << 20, 4, true),
            a(S::ReduceBcast(flat(false)))
        );
        assert_eq!(store(Scan, FLAT_MAX / 4, 5, false), a(S::FoldPrefix));
        assert_eq!(
            store(Scan, FLAT_MAX / 4 + 4, 5, false),
            a(S::RecursiveDoubling)
        );
        assert_eq!(store(Scan, FLAT_MAX / 4 + 4, 5, true), a(S::Chain));
        assert_eq!(store(Finalize, 0, 1, false), a(S::Counter));
        assert_eq!(store(Barrier, 0, 1, false), a(S::Local));
        assert_eq!(store(Gatherv, 0, 4, false), a(S::Flat));
        assert_eq!(store(Scatterv, 0, 4, false), a(S::Flat));
        assert_eq!(store(Allgatherv, 64, 4, false), a(S::WriteOnce));
        assert_eq!(store(Alltoallv, 0, 4, false), a(S::Direct));
        assert_eq!(store(ReduceScatter, 64, 4, true), a(S::Direct));
        assert_eq!(store(ReduceScatterBlock, 64, 4, false), a(S::Direct));
        // Exscan: the fold of the values below up to the flat limit, then the chain.
        assert_eq!(store(Exscan, FLAT_MAX / 4, 5, true), a(S::FoldPrefix));
        assert_eq!(store(Exscan, FLAT_MAX / 4 + 4, 5, false), a(S::Chain));
    }

    #[test]
    fn forced_algorithms() {
        let call = |n, name| {
            Call::new(OpCode::Allreduce, 1024, n)
                .reduction(4, false)
                .forced(Some(name))
        };
        let p = |c: &Call, f| plan(c, f, &T);
        assert_eq!(
            p(&call(4, "ring"), Family::P2p).unwrap(),
            Algorithm::P2p(P::Ring)
        );
        assert_eq!(
            p(&call(4, "halving_doubling"), Family::P2p).unwrap(),
            Algorithm::P2p(P::HalvingDoubling)
        );
        // Halving-doubling needs a power of two: the ring runs (and is what is recorded).
        assert_eq!(
            p(&call(3, "halving_doubling"), Family::P2p).unwrap(),
            Algorithm::P2p(P::Ring)
        );
        assert_eq!(
            p(&call(1, "ring"), Family::P2p).unwrap(),
            Algorithm::P2p(P::Local)
        );
        for (name, family) in [
            ("segmented", Family::P2p),
            ("ring", Family::Store),
            ("x", Family::P2p),
        ] {
            let e = p(&call(4, name), family).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArg, "{name}");
        }
        let ordered = call(4, "segmented").reduction(4, true);
        assert_eq!(
            p(&ordered, Family::Store).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        let bcast = Call::new(OpCode::Bcast, 8, 4).forced(Some("ring"));
        assert!(p(&bcast, Family::P2p).is_err());
        // Every forceable name is the name of what runs.
        for (family, name) in FORCEABLE {
            assert_eq!(p(&call(4, name), family).unwrap().name(), name);
        }
    }
}
