//! The communication pattern of an algorithm the plan chose, for one call: rounds on the
//! critical path with the bytes the busiest peer and all peers move in each, local reduction
//! work, requests to a store, and the functions that wait for it. Prices, never chooses.

use crate::collective::shape::{clog2, flog2, pieces, subtree};
use crate::plan::{Algorithm, Call, P2pAlgorithm, StoreAlgorithm, StoreReduce};
use crate::tag::OpCode;

/// Rounds of the critical path that move the same bytes, `repeat` times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Round {
    pub repeat: f64,
    /// Messages the busiest peer sends plus receives in the round (p2p).
    pub msgs: f64,
    /// Bytes the busiest peer sends (store: writes) in the round.
    pub send: f64,
    /// Bytes the busiest peer receives (store: reads) in the round.
    pub recv: f64,
    /// Bytes all peers together send (store: write) in the round.
    pub total_send: f64,
    /// Bytes all peers together receive (store: read) in the round.
    pub total_recv: f64,
}

impl Round {
    /// Every peer of the round sends or receives one message of `bytes`; `total` bytes move.
    fn one_way(repeat: f64, bytes: f64, total: f64) -> Round {
        Round {
            repeat,
            msgs: 1.0,
            send: bytes,
            recv: 0.0,
            total_send: total,
            total_recv: total,
        }
    }

    /// The busiest peer sends one message of `bytes` and receives one; `total` bytes are sent.
    fn exchange(repeat: f64, bytes: f64, total: f64) -> Round {
        Round {
            repeat,
            msgs: 2.0,
            send: bytes,
            recv: bytes,
            total_send: total,
            total_recv: total,
        }
    }
}

/// The communication pattern of one algorithm for one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub algorithm: &'static str,
    pub rounds: Vec<Round>,
    /// Bytes folded by a reduction on the critical path.
    pub reduce_bytes: f64,
    /// Messages sent (p2p) or objects written (store) by all peers.
    pub messages: f64,
    /// Objects read from a store by all peers (before polling).
    pub reads: f64,
    /// Functions whose time the operation takes (2 for send/recv, all peers otherwise).
    pub participants: f64,
}

impl Pattern {
    /// An empty pattern; [`pattern`] names it.
    fn new(participants: usize) -> Pattern {
        Pattern {
            algorithm: "",
            rounds: Vec::new(),
            reduce_bytes: 0.0,
            messages: 0.0,
            reads: 0.0,
            participants: participants as f64,
        }
    }

    fn round(mut self, r: Round) -> Pattern {
        if r.repeat > 0.0 {
            self.rounds.push(r);
        }
        self
    }

    /// Appends `other` (run after this one).
    fn then(mut self, other: Pattern) -> Pattern {
        self.rounds.extend(other.rounds);
        self.reduce_bytes += other.reduce_bytes;
        self.messages += other.messages;
        self.reads += other.reads;
        self
    }

    /// Number of rounds on the critical path.
    pub fn round_count(&self) -> f64 {
        self.rounds.iter().map(|r| r.repeat).sum()
    }

    /// Bytes moved through the channel by all peers (sent, or written + read for a store).
    pub fn moved_bytes(&self, store: bool) -> f64 {
        self.rounds
            .iter()
            .map(|r| r.repeat * (r.total_send + if store { r.total_recv } else { 0.0 }))
            .sum()
    }
}

/// The pattern of `alg` (as the plan chose it) for `call`.
pub fn pattern(alg: Algorithm, call: &Call) -> Pattern {
    let n = call.peers.max(1);
    let mut p = match alg {
        Algorithm::P2p(P2pAlgorithm::Local) | Algorithm::Store(StoreAlgorithm::Local) => {
            Pattern::new(1)
        }
        Algorithm::P2p(a) => p2p(a, call, n),
        Algorithm::Store(a) => store(a, call, n),
    };
    p.algorithm = alg.name();
    p
}

// ---------------------------------------------------------------- peer-to-peer (direct)

/// Binomial tree from or to a root: ceil(log2 n) rounds in which a peer sends or receives `s`.
fn binomial_rounds(n: usize, s: f64) -> Pattern {
    let l = clog2(n) as f64;
    let total = s * (n - 1) as f64;
    Pattern {
        messages: (n - 1) as f64,
        ..Pattern::new(n)
    }
    .round(Round::one_way(l, s, total / l.max(1.0)))
}

/// Gather/scatter tree: the root exchanges subtrees of 1, 2, 4, ... blocks, one per round.
fn tree_of_blocks(n: usize, s: f64) -> Pattern {
    let mut p = Pattern {
        messages: (n - 1) as f64,
        ..Pattern::new(n)
    };
    let total: f64 = (1..n).map(|t| subtree(t, n) as f64).sum::<f64>() * s;
    let l = clog2(n);
    for i in 0..l {
        let blocks = (1usize << i).min(n - (1 << i)) as f64;
        p = p.round(Round::one_way(1.0, blocks * s, total / l as f64));
    }
    p
}

/// Gather or scatter of large blocks: the root exchanges a block with every other rank at once.
fn flat_blocks(n: usize, s: f64, gather: bool) -> Pattern {
    let m = (n - 1) as f64;
    let (send, recv) = if gather { (0.0, m * s) } else { (m * s, 0.0) };
    Pattern {
        messages: m,
        ..Pattern::new(n)
    }
    .round(Round {
        repeat: 1.0,
        msgs: m,
        send,
        recv,
        total_send: m * s,
        total_recv: m * s,
    })
}

fn p2p(alg: P2pAlgorithm, call: &Call, n: usize) -> Pattern {
    use P2pAlgorithm as A;
    let s = call.bytes as f64;
    let nf = n as f64;
    let l = clog2(n) as f64;
    // pieces of the pipelined reduce and scan, and the bytes of one
    let k = pieces(call.bytes, call.elem).count().max(1) as f64;
    let piece = s / k;
    match (alg, call.op) {
        (A::Local, _) => Pattern::new(1),
        (A::Send, _) => Pattern {
            messages: 1.0,
            ..Pattern::new(2)
        }
        .round(Round::one_way(1.0, s, s)),
        (A::Dissemination, _) => Pattern {
            messages: nf * l,
            ..Pattern::new(n)
        }
        .round(Round::exchange(l, 0.0, 0.0)),
        (A::Flat, op) => flat_blocks(n, s, matches!(op, OpCode::Gather | OpCode::Gatherv)),
        (A::Binomial, OpCode::Gather | OpCode::Scatter) => tree_of_blocks(n, s),
        (A::Binomial, OpCode::Reduce) => Pattern {
            reduce_bytes: s * l,
            ..binomial_rounds(n, s)
        },
        (A::Binomial, _) => binomial_rounds(n, s),
        (A::Ordered { .. }, OpCode::Reduce) => Pattern {
            reduce_bytes: s * (nf - 1.0),
            ..tree_of_blocks(n, s)
        },
        (A::Ordered { .. }, _) => {
            let mut p = tree_of_blocks(n, s).then(binomial_rounds(n, s));
            p.reduce_bytes = s * (nf - 1.0);
            p
        }
        // Pipelined tree: k + depth - 1 rounds in which the root takes a piece from each child.
        (A::BinomialPipelined, _) => Pattern {
            reduce_bytes: s * l,
            messages: (nf - 1.0) * k,
            ..Pattern::new(n)
        }
        .round(Round {
            repeat: k + l - 1.0,
            msgs: l + 1.0,
            send: piece,
            recv: l * piece,
            total_send: piece * (nf - 1.0),
            total_recv: piece * (nf - 1.0),
        }),
        (A::HalvingDoubling, _) => {
            let mut p = Pattern {
                reduce_bytes: s * (nf - 1.0) / nf,
                messages: 2.0 * nf * flog2(n) as f64,
                ..Pattern::new(n)
            };
            // reduce-scatter by halving, then allgather by doubling: 2 exchanges per size
            for k in 1..=flog2(n) {
                let b = s / (1u64 << k) as f64;
                p = p.round(Round::exchange(2.0, b, b * nf));
            }
            p
        }
        (A::Bruck, _) => {
            // step k: every peer sends the min(2^k, n - 2^k) blocks it holds and receives as many
            let mut p = Pattern {
                messages: nf * clog2(n) as f64,
                ..Pattern::new(n)
            };
            for k in 0..clog2(n) {
                let b = (1usize << k).min(n - (1 << k)) as f64 * s;
                p = p.round(Round::exchange(1.0, b, b * nf));
            }
            p
        }
        (A::Ring, OpCode::Allgather | OpCode::Agree) => Pattern {
            messages: nf * (nf - 1.0),
            ..Pattern::new(n)
        }
        .round(Round::exchange(nf - 1.0, s, s * nf)),
        // Allgatherv: `bytes` is every block together; priced as blocks of the mean size.
        (A::Ring, OpCode::Allgatherv) => Pattern {
            messages: nf * (nf - 1.0),
            ..Pattern::new(n)
        }
        .round(Round::exchange(nf - 1.0, s / nf, s)),
        (A::Ring, _) => Pattern {
            reduce_bytes: s * (nf - 1.0) / nf,
            messages: 2.0 * (nf - 1.0) * nf,
            ..Pattern::new(n)
        }
        .round(Round::exchange(2.0 * (nf - 1.0), s / nf, s)),
        (A::RecursiveDoubling, OpCode::Scan) => {
            let msgs: f64 = (0..clog2(n)).map(|k| (n - (1 << k)) as f64).sum();
            Pattern {
                reduce_bytes: s * l,
                messages: msgs,
                ..Pattern::new(n)
            }
            .round(Round::exchange(l, s, s * msgs / l.max(1.0)))
        }
        (A::RecursiveDoubling, _) => {
            let fl = flog2(n);
            let rem = n - (1 << fl);
            let extra = if rem > 0 { 2.0 } else { 0.0 };
            Pattern {
                reduce_bytes: s * (fl as f64 + extra / 2.0),
                messages: (1 << fl) as f64 * fl as f64 + 2.0 * rem as f64,
                ..Pattern::new(n)
            }
            .round(Round::exchange(fl as f64, s, s * (1 << fl) as f64))
            .round(Round::one_way(extra, s, s * rem as f64))
        }
        (A::Chain, _) => Pattern {
            reduce_bytes: s * (nf - 1.0),
            messages: nf - 1.0,
            ..Pattern::new(n)
        }
        .round(Round::one_way(nf - 1.0, s, s)),
        // Pipelined chain: n - 1 + k rounds in which a rank takes a piece and passes one on.
        (A::ChainPipelined, _) => Pattern {
            reduce_bytes: (nf - 1.0 + k) * piece,
            messages: (nf - 1.0) * k,
            ..Pattern::new(n)
        }
        .round(Round::exchange(nf - 1.0 + k, piece, piece * (nf - 1.0))),
        // Alltoall(v): `bytes` is the whole send buffer; reduce-scatter: the whole buffer, whose
        // n - 1 received blocks are folded into one.
        (A::AllAtOnce, op) => {
            let b = s / nf;
            let folds = matches!(op, OpCode::ReduceScatter | OpCode::ReduceScatterBlock);
            Pattern {
                messages: nf * (nf - 1.0),
                reduce_bytes: if folds { b * (nf - 1.0) } else { 0.0 },
                ..Pattern::new(n)
            }
            .round(Round {
                repeat: 1.0,
                msgs: 2.0 * (nf - 1.0),
                send: b * (nf - 1.0),
                recv: b * (nf - 1.0),
                total_send: b * nf * (nf - 1.0),
                total_recv: b * nf * (nf - 1.0),
            })
        }
    }
}

// ---------------------------------------------------------------- object stores (Redis, S3)

/// One store round: the busiest peer writes `w` and reads `r`; all peers write `tw`, read `tr`.
fn sround(repeat: f64, w: f64, r: f64, tw: f64, tr: f64) -> Round {
    Round {
        repeat,
        msgs: 1.0,
        send: w,
        recv: r,
        total_send: tw,
        total_recv: tr,
    }
}

/// Reduce to a root on a store: every value written once, folded at the root (flat: read all
/// at once or one after the other), or a binomial tree of partial results.
fn store_reduce(how: StoreReduce, n: usize, s: f64) -> Pattern {
    let nf = n as f64;
    let at_once = match how {
        StoreReduce::Tree => {
            let l = clog2(n) as f64;
            return Pattern {
                reduce_bytes: s * l,
                messages: nf - 1.0,
                reads: nf - 1.0,
                ..Pattern::new(n)
            }
            .round(sround(l, s, s, s * (nf - 1.0) / l, s * (nf - 1.0) / l));
        }
        StoreReduce::FlatFold { at_once } => at_once,
    };
    let p = Pattern {
        reduce_bytes: s * (nf - 1.0),
        messages: nf - 1.0,
        reads: nf - 1.0,
        ..Pattern::new(n)
    };
    if at_once {
        p.round(sround(
            1.0,
            s,
            s * (nf - 1.0),
            s * (nf - 1.0),
            s * (nf - 1.0),
        ))
    } else {
        // The root reads the values one after the other.
        p.round(sround(1.0, s, s, s * (nf - 1.0), s))
            .round(sround(nf - 2.0, 0.0, s, 0.0, s))
    }
}

/// Gather (or `scatter`) on a store: n-1 blocks of `s` bytes written and read once; the root
/// reads (writes) them all, every other peer writes (reads) one.
fn store_flat(n: usize, s: f64, scatter: bool) -> Pattern {
    let m = (n - 1) as f64;
    let (w, r) = if scatter { (s * m, s) } else { (s, s * m) };
    Pattern {
        messages: m,
        reads: m,
        ..Pattern::new(n)
    }
    .round(sround(1.0, w, r, s * m, s * m))
}

/// Allgather on a store: every peer writes its block of `s` bytes once and reads the n-1 others.
fn store_allgather(n: usize, s: f64) -> Pattern {
    let nf = n as f64;
    Pattern {
        messages: nf,
        reads: nf * (nf - 1.0),
        ..Pattern::new(n)
    }
    .round(sround(1.0, s, s * (nf - 1.0), s * nf, s * nf * (nf - 1.0)))
}

fn store_bcast(n: usize, s: f64) -> Pattern {
    let nf = n as f64;
    Pattern {
        messages: 1.0,
        reads: nf - 1.0,
        ..Pattern::new(n)
    }
    .round(sround(1.0, s, s, s, s * (nf - 1.0)))
}

fn store(alg: StoreAlgorithm, call: &Call, n: usize) -> Pattern {
    use StoreAlgorithm as A;
    let s = call.bytes as f64;
    let nf = n as f64;
    match (alg, call.op) {
        (A::Local, _) => Pattern::new(1),
        (A::Queue, _) => Pattern {
            messages: 1.0,
            reads: 1.0,
            ..Pattern::new(2)
        }
        .round(sround(1.0, s, s, s, s)),
        (A::WriteOnce, OpCode::Allgather | OpCode::Agree) => store_allgather(n, s),
        // Allgatherv: `bytes` is every block together; priced as blocks of the mean size.
        (A::WriteOnce, OpCode::Allgatherv) => store_allgather(n, s / nf),
        (A::WriteOnce, _) => store_bcast(n, s),
        (A::Counter, _) => Pattern {
            // n counter increments and one wake-up for n-1 readers
            messages: nf + 1.0,
            reads: nf - 1.0,
            ..Pattern::new(n)
        }
        .round(sround(1.0, 0.0, 0.0, 0.0, 0.0)),
        (A::Flat, op) => store_flat(n, s, matches!(op, OpCode::Scatter | OpCode::Scatterv)),
        (A::Reduce(how), _) => store_reduce(how, n, s),
        (A::ReduceBcast(how), _) => store_reduce(how, n, s).then(store_bcast(n, s)),
        (A::Segmented, _) => {
            let part = s / nf;
            Pattern {
                reduce_bytes: part * (nf - 1.0),
                messages: nf * (nf - 1.0) + nf,
                reads: 2.0 * nf * (nf - 1.0),
                ..Pattern::new(n)
            }
            .round(sround(
                1.0,
                part * (nf - 1.0),
                part * (nf - 1.0),
                s * (nf - 1.0),
                s * (nf - 1.0),
            ))
            .round(sround(1.0, part, part * (nf - 1.0), s, s * (nf - 1.0)))
        }
        (A::FoldPrefix, _) => Pattern {
            reduce_bytes: s * (nf - 1.0),
            messages: nf - 1.0,
            reads: nf * (nf - 1.0) / 2.0,
            ..Pattern::new(n)
        }
        .round(sround(
            1.0,
            s,
            s * (nf - 1.0),
            s * (nf - 1.0),
            s * nf * (nf - 1.0) / 2.0,
        )),
        (A::Chain, _) => Pattern {
            reduce_bytes: s * (nf - 1.0),
            messages: nf - 1.0,
            reads: nf - 1.0,
            ..Pattern::new(n)
        }
        .round(sround(nf - 1.0, s, s, s, s)),
        (A::RecursiveDoubling, _) => {
            let l = clog2(n);
            let msgs: f64 = (0..l).map(|k| (n - (1 << k)) as f64).sum();
            Pattern {
                reduce_bytes: s * l as f64,
                messages: msgs,
                reads: msgs,
                ..Pattern::new(n)
            }
            .round(sround(
                l as f64,
                s,
                s,
                s * msgs / l as f64,
                s * msgs / l as f64,
            ))
        }
        // Alltoall(v): `bytes` is the whole send buffer; reduce-scatter: the whole buffer, whose
        // n - 1 blocks read are folded into one.
        (A::Direct, op) => {
            let b = s / nf;
            let m = nf * (nf - 1.0);
            let folds = matches!(op, OpCode::ReduceScatter | OpCode::ReduceScatterBlock);
            Pattern {
                messages: m,
                reads: m,
                reduce_bytes: if folds { b * (nf - 1.0) } else { 0.0 },
                ..Pattern::new(n)
            }
            .round(sround(1.0, b * (nf - 1.0), b * (nf - 1.0), b * m, b * m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::ChannelKind;
    use crate::plan::{plan, Tuning};

    /// The pattern of what the plan runs for `call` on `ch` (ring threshold 256 KiB).
    fn planned(ch: ChannelKind, call: &Call) -> Pattern {
        let tuning = Tuning {
            ring_threshold: 256 << 10,
        };
        pattern(plan(call, ch.family(), &tuning).unwrap(), call)
    }

    fn p(ch: ChannelKind, op: OpCode, bytes: usize, n: usize) -> Pattern {
        planned(ch, &Call::new(op, bytes, n).reduction(4, false))
    }

    #[test]
    fn allreduce_algorithms_follow_the_communicator() {
        use ChannelKind::*;
        use OpCode::Allreduce;
        assert_eq!(p(Direct, Allreduce, 8, 4).algorithm, "recursive_doubling");
        assert_eq!(
            p(Direct, Allreduce, 256 << 10, 4).algorithm,
            "halving_doubling"
        );
        assert_eq!(p(Direct, Allreduce, 16 << 20, 4).algorithm, "ring");
        assert_eq!(p(Direct, Allreduce, 1 << 20, 3).algorithm, "ring");
        assert_eq!(p(Redis, Allreduce, 8, 4).algorithm, "reduce_bcast");
        assert_eq!(p(Redis, Allreduce, 1 << 20, 4).algorithm, "segmented");
        let ordered = Call::new(Allreduce, 1 << 20, 4).reduction(4, true);
        assert_eq!(planned(Direct, &ordered).algorithm, "ordered");
        assert_eq!(planned(S3, &ordered).algorithm, "reduce_bcast");
    }

    #[test]
    fn rounds_of_the_algorithms() {
        use ChannelKind::*;
        // Ring at 4 peers: 6 steps of a quarter.
        let r = p(Direct, OpCode::Allreduce, 16 << 20, 4);
        assert_eq!(r.round_count(), 6.0);
        assert_eq!(r.rounds[0].send, (4 << 20) as f64);
        // Recursive doubling at 5 peers: 2 exchanges plus the fold-in and fold-out.
        assert_eq!(p(Direct, OpCode::Allreduce, 8, 5).round_count(), 4.0);
        // Gather at 8 peers: subtrees of 1, 2 and 4 blocks reach the root.
        let g = p(Direct, OpCode::Gather, 10, 8);
        let per_round: Vec<f64> = g.rounds.iter().map(|r| r.send).collect();
        assert_eq!(per_round, vec![10.0, 20.0, 40.0]);
        // A store gather is one round in which the root reads n-1 blocks.
        let sg = p(Redis, OpCode::Gather, 10, 8);
        assert_eq!((sg.round_count(), sg.rounds[0].recv), (1.0, 70.0));
        // Alltoall: `bytes` is the whole send buffer.
        let a = p(Direct, OpCode::Alltoall, 400, 4);
        assert_eq!((a.rounds[0].send, a.messages), (300.0, 12.0));
        assert_eq!(p(Redis, OpCode::Bcast, 8, 1).algorithm, "local");
    }

    #[test]
    fn large_blocks_use_the_flat_and_pipelined_algorithms() {
        use ChannelKind::Direct;
        let g = p(Direct, OpCode::Gather, 1 << 20, 8);
        assert_eq!((g.algorithm, g.rounds[0].recv), ("flat", (7 << 20) as f64));
        assert_eq!(
            p(Direct, OpCode::Scatter, (1 << 20) - 4, 8).algorithm,
            "binomial"
        );
        // 4 MiB in pieces of 512 KiB: 8 pieces + depth 3 - 1 rounds.
        let r = p(Direct, OpCode::Reduce, 4 << 20, 8);
        assert_eq!((r.algorithm, r.round_count()), ("binomial_pipelined", 10.0));
        let c = p(Direct, OpCode::Scan, 4 << 20, 8);
        assert_eq!((c.algorithm, c.round_count()), ("chain_pipelined", 15.0));
    }
}
