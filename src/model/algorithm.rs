//! Which algorithm each channel family runs for a call, and its communication pattern: rounds
//! on the critical path with the bytes the busiest peer and all peers move in each, local
//! reduction work, requests to a store, and the functions that wait for it.
//!
//! The choices mirror the dispatch in `crate::comm` (same thresholds, same constants), so the
//! model prices the algorithm that actually runs for the size.

use crate::channel::ChannelKind;
use crate::collective::p2p::allreduce::HALVING_DOUBLING_MAX_BLOCK;
use crate::collective::p2p::{pieces, subtree, LARGE};
use crate::collective::store::allreduce::SEGMENTED_MIN;
use crate::collective::store::FLAT_MAX;
use crate::tag::OpCode;

/// One operation as the model sees it. Every peer describes the same call the same way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Call<'a> {
    pub op: OpCode,
    /// As passed by the communicator: the message (send/recv), the block of one peer (bcast,
    /// gather, scatter, allgather), the buffer (reduce, allreduce, scan), or the whole send
    /// buffer (alltoall, `peers` blocks).
    pub bytes: usize,
    pub peers: usize,
    /// Element size of a reduction (1 otherwise).
    pub elem: usize,
    /// The operator is not both commutative and associative (strict left-to-right algorithms).
    pub ordered: bool,
    /// An algorithm forced by the caller (`Communicator::allreduce_with`).
    pub algorithm: Option<&'a str>,
}

impl<'a> Call<'a> {
    pub fn new(op: OpCode, bytes: usize, peers: usize) -> Self {
        Call {
            op,
            bytes,
            peers,
            elem: 1,
            ordered: false,
            algorithm: None,
        }
    }

    /// A reduction with elements of `elem` bytes and an operator that is `ordered` or not.
    pub fn reduction(mut self, elem: usize, ordered: bool) -> Self {
        self.elem = elem.max(1);
        self.ordered = ordered;
        self
    }

    pub fn with_algorithm(mut self, algorithm: Option<&'a str>) -> Self {
        self.algorithm = algorithm;
        self
    }
}

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
    fn new(algorithm: &'static str, participants: usize) -> Pattern {
        Pattern {
            algorithm,
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

/// ceil(log2 n)
fn clog2(n: usize) -> usize {
    if n <= 1 {
        0
    } else {
        (usize::BITS - (n - 1).leading_zeros()) as usize
    }
}

/// floor(log2 n)
fn flog2(n: usize) -> usize {
    (usize::BITS - 1 - n.max(1).leading_zeros()) as usize
}

/// The pattern of `call` on a channel of the family of `channel`.
pub fn pattern(channel: ChannelKind, call: &Call, ring_threshold: usize) -> Pattern {
    let n = call.peers.max(1);
    if n == 1 && call.op != OpCode::SendRecv {
        return Pattern::new("local", 1);
    }
    if channel.is_store() {
        store(call, n)
    } else {
        p2p(call, n, ring_threshold)
    }
}

// ---------------------------------------------------------------- peer-to-peer (direct)

/// Binomial tree from or to a root: ceil(log2 n) rounds in which a peer sends or receives `s`.
fn binomial_rounds(n: usize, s: f64, name: &'static str) -> Pattern {
    let l = clog2(n) as f64;
    let total = s * (n - 1) as f64;
    Pattern {
        messages: (n - 1) as f64,
        ..Pattern::new(name, n)
    }
    .round(Round::one_way(l, s, total / l.max(1.0)))
}

/// Gather/scatter tree: the root exchanges subtrees of 1, 2, 4, ... blocks, one per round.
fn tree_of_blocks(n: usize, s: f64, name: &'static str) -> Pattern {
    let mut p = Pattern {
        messages: (n - 1) as f64,
        ..Pattern::new(name, n)
    };
    let total: f64 = (1..n).map(|t| subtree(t, n) as f64).sum::<f64>() * s;
    let l = clog2(n);
    for i in 0..l {
        let blocks = (1usize << i).min(n - (1 << i)) as f64;
        p = p.round(Round::one_way(1.0, blocks * s, total / l as f64));
    }
    p
}

fn p2p_allreduce(call: &Call, n: usize, s: f64, ring_threshold: usize) -> Pattern {
    let elems = call.bytes / call.elem;
    let split = elems >= n && !call.ordered;
    let pow2 = n.is_power_of_two();
    let name = match call.algorithm {
        Some(a) => a,
        None if split && call.bytes >= ring_threshold => {
            if pow2 && call.bytes / n <= HALVING_DOUBLING_MAX_BLOCK {
                "halving_doubling"
            } else {
                "ring"
            }
        }
        None if call.ordered => "ordered",
        None => "recursive_doubling",
    };
    let nf = n as f64;
    match name {
        "halving_doubling" if pow2 && elems >= n => {
            let mut p = Pattern {
                reduce_bytes: s * (nf - 1.0) / nf,
                messages: 2.0 * nf * flog2(n) as f64,
                ..Pattern::new("halving_doubling", n)
            };
            // reduce-scatter by halving, then allgather by doubling: 2 exchanges per size
            for k in 1..=flog2(n) {
                let b = s / (1u64 << k) as f64;
                p = p.round(Round::exchange(2.0, b, b * nf));
            }
            p
        }
        "ring" | "halving_doubling" => Pattern {
            reduce_bytes: s * (nf - 1.0) / nf,
            messages: 2.0 * (nf - 1.0) * nf,
            ..Pattern::new("ring", n)
        }
        .round(Round::exchange(2.0 * (nf - 1.0), s / nf, s)),
        "ordered" => {
            let mut p = tree_of_blocks(n, s, "ordered").then(binomial_rounds(n, s, "ordered"));
            p.reduce_bytes = s * (nf - 1.0);
            p
        }
        _ => {
            let fl = flog2(n);
            let rem = n - (1 << fl);
            let extra = if rem > 0 { 2.0 } else { 0.0 };
            Pattern {
                reduce_bytes: s * (fl as f64 + extra / 2.0),
                messages: (1 << fl) as f64 * fl as f64 + 2.0 * rem as f64,
                ..Pattern::new("recursive_doubling", n)
            }
            .round(Round::exchange(fl as f64, s, s * (1 << fl) as f64))
            .round(Round::one_way(extra, s, s * rem as f64))
        }
    }
}

/// Gather or scatter of large blocks: the root exchanges a block with every other rank at once.
fn flat_blocks(n: usize, s: f64, gather: bool) -> Pattern {
    let m = (n - 1) as f64;
    let (send, recv) = if gather { (0.0, m * s) } else { (m * s, 0.0) };
    Pattern {
        messages: m,
        ..Pattern::new("flat", n)
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

fn p2p(call: &Call, n: usize, ring_threshold: usize) -> Pattern {
    let s = call.bytes as f64;
    let nf = n as f64;
    let l = clog2(n) as f64;
    let large = call.bytes >= LARGE;
    // pieces of the pipelined reduce and scan, and the bytes of one
    let k = pieces(call.bytes, call.elem).count().max(1) as f64;
    let piece = s / k;
    match call.op {
        OpCode::SendRecv => Pattern {
            messages: 1.0,
            ..Pattern::new("send", 2)
        }
        .round(Round::one_way(1.0, s, s)),
        OpCode::Bcast => binomial_rounds(n, s, "binomial"),
        OpCode::Barrier | OpCode::Finalize => Pattern {
            messages: nf * l,
            ..Pattern::new("dissemination", n)
        }
        .round(Round::exchange(l, 0.0, 0.0)),
        OpCode::Gather if large => flat_blocks(n, s, true),
        OpCode::Scatter if large => flat_blocks(n, s, false),
        OpCode::Gather => tree_of_blocks(n, s, "binomial"),
        OpCode::Scatter => tree_of_blocks(n, s, "binomial"),
        OpCode::Reduce if call.ordered => Pattern {
            reduce_bytes: s * (nf - 1.0),
            ..tree_of_blocks(n, s, "ordered")
        },
        // Pipelined tree: k + depth - 1 rounds in which the root takes a piece from each child.
        OpCode::Reduce if large => Pattern {
            reduce_bytes: s * l,
            messages: (nf - 1.0) * k,
            ..Pattern::new("binomial_pipelined", n)
        }
        .round(Round {
            repeat: k + l - 1.0,
            msgs: l + 1.0,
            send: piece,
            recv: l * piece,
            total_send: piece * (nf - 1.0),
            total_recv: piece * (nf - 1.0),
        }),
        OpCode::Reduce => Pattern {
            reduce_bytes: s * l,
            ..binomial_rounds(n, s, "binomial")
        },
        OpCode::Allreduce => p2p_allreduce(call, n, s, ring_threshold),
        OpCode::Scan if call.ordered => Pattern {
            reduce_bytes: s * (nf - 1.0),
            messages: nf - 1.0,
            ..Pattern::new("chain", n)
        }
        .round(Round::one_way(nf - 1.0, s, s)),
        // Pipelined chain: n - 1 + k rounds in which a rank takes a piece and passes one on.
        OpCode::Scan if large => Pattern {
            reduce_bytes: (nf - 1.0 + k) * piece,
            messages: (nf - 1.0) * k,
            ..Pattern::new("chain_pipelined", n)
        }
        .round(Round::exchange(nf - 1.0 + k, piece, piece * (nf - 1.0))),
        OpCode::Scan => {
            let msgs: f64 = (0..clog2(n)).map(|k| (n - (1 << k)) as f64).sum();
            Pattern {
                reduce_bytes: s * l,
                messages: msgs,
                ..Pattern::new("recursive_doubling", n)
            }
            .round(Round::exchange(l, s, s * msgs / l.max(1.0)))
        }
        OpCode::Allgather | OpCode::Agree => Pattern {
            messages: nf * (nf - 1.0),
            ..Pattern::new("ring", n)
        }
        .round(Round::exchange(nf - 1.0, s, s * nf)),
        OpCode::Alltoall => {
            let b = s / nf;
            Pattern {
                messages: nf * (nf - 1.0),
                ..Pattern::new("all_at_once", n)
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

/// Reduce to `root` on a store: every value written once, folded at the root (flat), or a
/// binomial tree of partial results (large, commutative and associative).
fn store_reduce(call: &Call, n: usize, s: f64) -> Pattern {
    let nf = n as f64;
    let flat = call.ordered || call.bytes * (n - 1) <= FLAT_MAX;
    if !flat {
        let l = clog2(n) as f64;
        return Pattern {
            reduce_bytes: s * l,
            messages: nf - 1.0,
            reads: nf - 1.0,
            ..Pattern::new("tree", n)
        }
        .round(sround(l, s, s, s * (nf - 1.0) / l, s * (nf - 1.0) / l));
    }
    let p = Pattern {
        reduce_bytes: s * (nf - 1.0),
        messages: nf - 1.0,
        reads: nf - 1.0,
        ..Pattern::new("flat_fold", n)
    };
    if call.bytes * (n - 1) <= FLAT_MAX {
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

fn store_bcast(n: usize, s: f64) -> Pattern {
    let nf = n as f64;
    Pattern {
        messages: 1.0,
        reads: nf - 1.0,
        ..Pattern::new("write_once", n)
    }
    .round(sround(1.0, s, s, s, s * (nf - 1.0)))
}

fn store(call: &Call, n: usize) -> Pattern {
    let s = call.bytes as f64;
    let nf = n as f64;
    match call.op {
        OpCode::SendRecv => Pattern {
            messages: 1.0,
            reads: 1.0,
            ..Pattern::new("queue", 2)
        }
        .round(sround(1.0, s, s, s, s)),
        OpCode::Bcast => store_bcast(n, s),
        OpCode::Barrier | OpCode::Finalize => Pattern {
            // n counter increments and one wake-up for n-1 readers
            messages: nf + 1.0,
            reads: nf - 1.0,
            ..Pattern::new("counter", n)
        }
        .round(sround(1.0, 0.0, 0.0, 0.0, 0.0)),
        OpCode::Gather => Pattern {
            messages: nf - 1.0,
            reads: nf - 1.0,
            ..Pattern::new("flat", n)
        }
        .round(sround(
            1.0,
            s,
            s * (nf - 1.0),
            s * (nf - 1.0),
            s * (nf - 1.0),
        )),
        OpCode::Scatter => Pattern {
            messages: nf - 1.0,
            reads: nf - 1.0,
            ..Pattern::new("flat", n)
        }
        .round(sround(
            1.0,
            s * (nf - 1.0),
            s,
            s * (nf - 1.0),
            s * (nf - 1.0),
        )),
        OpCode::Reduce => store_reduce(call, n, s),
        OpCode::Allreduce => {
            let elems = call.bytes / call.elem;
            let split = elems >= n && !call.ordered;
            let name = call
                .algorithm
                .unwrap_or(if split && call.bytes >= SEGMENTED_MIN {
                    "segmented"
                } else {
                    "reduce_bcast"
                });
            if name == "segmented" {
                let part = s / nf;
                Pattern {
                    reduce_bytes: part * (nf - 1.0),
                    messages: nf * (nf - 1.0) + nf,
                    reads: 2.0 * nf * (nf - 1.0),
                    ..Pattern::new("segmented", n)
                }
                .round(sround(
                    1.0,
                    part * (nf - 1.0),
                    part * (nf - 1.0),
                    s * (nf - 1.0),
                    s * (nf - 1.0),
                ))
                .round(sround(1.0, part, part * (nf - 1.0), s, s * (nf - 1.0)))
            } else {
                let mut p = store_reduce(call, n, s).then(store_bcast(n, s));
                p.algorithm = "reduce_bcast";
                p
            }
        }
        OpCode::Scan if call.bytes * (n - 1) <= FLAT_MAX => Pattern {
            reduce_bytes: s * (nf - 1.0),
            messages: nf - 1.0,
            reads: nf * (nf - 1.0) / 2.0,
            ..Pattern::new("fold_prefix", n)
        }
        .round(sround(
            1.0,
            s,
            s * (nf - 1.0),
            s * (nf - 1.0),
            s * nf * (nf - 1.0) / 2.0,
        )),
        OpCode::Scan if call.ordered => Pattern {
            reduce_bytes: s * (nf - 1.0),
            messages: nf - 1.0,
            reads: nf - 1.0,
            ..Pattern::new("chain", n)
        }
        .round(sround(nf - 1.0, s, s, s, s)),
        OpCode::Scan => {
            let l = clog2(n);
            let msgs: f64 = (0..l).map(|k| (n - (1 << k)) as f64).sum();
            Pattern {
                reduce_bytes: s * l as f64,
                messages: msgs,
                reads: msgs,
                ..Pattern::new("recursive_doubling", n)
            }
            .round(sround(
                l as f64,
                s,
                s,
                s * msgs / l as f64,
                s * msgs / l as f64,
            ))
        }
        OpCode::Allgather | OpCode::Agree => Pattern {
            messages: nf,
            reads: nf * (nf - 1.0),
            ..Pattern::new("write_once", n)
        }
        .round(sround(1.0, s, s * (nf - 1.0), s * nf, s * nf * (nf - 1.0))),
        OpCode::Alltoall => {
            let b = s / nf;
            let m = nf * (nf - 1.0);
            Pattern {
                messages: m,
                reads: m,
                ..Pattern::new("direct", n)
            }
            .round(sround(1.0, b * (nf - 1.0), b * (nf - 1.0), b * m, b * m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ch: ChannelKind, op: OpCode, bytes: usize, n: usize) -> Pattern {
        pattern(ch, &Call::new(op, bytes, n).reduction(4, false), 256 << 10)
    }

    #[test]
    fn logs() {
        assert_eq!((clog2(1), clog2(2), clog2(5), clog2(8)), (0, 1, 3, 3));
        assert_eq!((flog2(1), flog2(2), flog2(5), flog2(8)), (0, 1, 2, 3));
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
        assert_eq!(pattern(Direct, &ordered, 256 << 10).algorithm, "ordered");
        assert_eq!(pattern(S3, &ordered, 256 << 10).algorithm, "reduce_bcast");
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
