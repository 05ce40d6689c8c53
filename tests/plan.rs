//! What is traced is what ran: on the direct channel with 2 to 8 peers, every operation at sizes
//! on both sides of every threshold of the plan. For each call, every peer must record the same
//! algorithm (the one the trace and counters report, from the dispatch), and the messages the
//! peers really sent (counted by the transport context) must equal the messages of the model's
//! pattern for that algorithm. A dispatch arm that runs another algorithm than the one recorded
//! sends another number of messages, and fails here.

mod common;

use fmi::collective::shape::{packed, Blocks};
use fmi::model::pattern::pattern;
use fmi::plan::{plan, Algorithm, Call, Tuning, BRUCK_MAX, HALVING_DOUBLING_MAX_BLOCK, LARGE};
use fmi::tag::OpCode;
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};
use std::sync::Arc;

/// One call of the test: the operation, its bytes as [`Call::bytes`] describes them, an
/// ordered operator or not, and a forced allreduce algorithm.
#[derive(Debug, Clone, Copy)]
struct Case {
    op: OpCode,
    bytes: usize,
    ordered: bool,
    forced: Option<&'static str>,
}

fn case(op: OpCode, bytes: usize) -> Case {
    Case {
        op,
        bytes,
        ordered: false,
        forced: None,
    }
}

/// The cases for `n` peers: below and at every threshold the plan has for the operation.
fn cases(n: usize, ring_threshold: usize) -> Vec<Case> {
    use OpCode::*;
    let ordered = |op, bytes| Case {
        ordered: true,
        ..case(op, bytes)
    };
    let forced = |name, bytes| Case {
        forced: Some(name),
        ..case(Allreduce, bytes)
    };
    let block = HALVING_DOUBLING_MAX_BLOCK;
    let mut v = vec![
        case(SendRecv, 100),
        case(Bcast, 1000),
        case(Barrier, 0),
        case(Allgather, 24),
        case(Allgather, BRUCK_MAX / n),
        case(Allgather, BRUCK_MAX / n + 1),
        case(Alltoall, 8 * n),
    ];
    for op in [Gather, Scatter, Reduce, Scan] {
        v.push(case(op, 8));
        v.push(case(op, LARGE - 4));
        v.push(case(op, LARGE));
    }
    v.extend([
        ordered(Reduce, 8),
        ordered(Reduce, LARGE),
        ordered(Scan, LARGE),
        case(Allreduce, 8),
        case(Allreduce, ring_threshold - 4),
        case(Allreduce, ring_threshold),
        case(Allreduce, n * block),
        case(Allreduce, n * block + 4 * n),
        ordered(Allreduce, 8),
        ordered(Allreduce, LARGE),
        forced("ring", 4096),
        forced("halving_doubling", 4096),
        forced("recursive_doubling", 4096),
        forced("ordered", 4096),
        // gatherv, scatterv and alltoallv are described as 0 bytes (no size is known at every
        // peer); `run` moves uneven blocks.
        case(Gatherv, 0),
        case(Scatterv, 0),
        case(Alltoallv, 0),
        case(Allgatherv, 24 * n + 8),
        case(ReduceScatterBlock, 8 * n),
        case(ReduceScatter, 4 * (3 * n + 2)),
        ordered(ReduceScatter, 4 * (3 * n + 2)),
        case(Exscan, 8),
        case(Exscan, LARGE),
        ordered(Exscan, 8),
    ]);
    v
}

/// Uneven byte counts, one per peer, of whole 4-byte elements adding up to `bytes` (which is
/// a multiple of 4): peer p gets p % 3 elements, the last peer the rest.
fn uneven(bytes: usize, n: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = (0..n).map(|p| 4 * (p % 3)).collect();
    counts[n - 1] = 0;
    let used: usize = counts.iter().sum();
    counts[n - 1] = bytes - used;
    counts
}

/// A sum declared neither commutative nor associative: the strict left-fold algorithms run.
fn ordered_sum() -> ReduceOp {
    ReduceOp::user(
        Arc::new(|acc: &mut [u8], x: &[u8], _count, _t| {
            for (a, b) in acc.iter_mut().zip(x) {
                *a = a.wrapping_add(*b);
            }
        }),
        false,
        false,
    )
}

/// Runs `c` on this peer.
fn run(comm: &mut Communicator, c: &Case) {
    let (r, n) = (comm.rank(), comm.size());
    let t = Datatype::Float;
    let op = if c.ordered {
        ordered_sum()
    } else {
        ReduceOp::builtin(BuiltinOp::Sum)
    };
    let root = n - 1;
    let send = vec![1u8; c.bytes];
    let mut out = vec![0u8; c.bytes * n];
    let res = match c.op {
        OpCode::SendRecv => match r {
            0 => comm.send(&send, 1),
            1 => comm.recv(&mut out[..c.bytes], 0),
            _ => Ok(()),
        },
        OpCode::Bcast => comm.bcast(&mut out[..c.bytes], root),
        OpCode::Barrier => comm.barrier(),
        OpCode::Gather => comm.gather(&send, (r == root).then_some(&mut out[..]), root),
        OpCode::Scatter => {
            let all = vec![2u8; c.bytes * n];
            comm.scatter((r == root).then_some(&all[..]), &mut out[..c.bytes], root)
        }
        OpCode::Reduce => {
            let recv = (r == root).then_some(&mut out[..c.bytes]);
            comm.reduce(&send, recv, t, &op, root)
        }
        OpCode::Allreduce => match c.forced {
            Some(name) => comm.allreduce_with(name, &mut out[..c.bytes], t, &op),
            None => comm.allreduce(&send, &mut out[..c.bytes], t, &op),
        },
        OpCode::Scan => comm.scan(&send, &mut out[..c.bytes], t, &op),
        OpCode::Allgather => comm.allgather(&send, &mut out[..c.bytes * n]),
        OpCode::Alltoall => comm.alltoall(&send, &mut out[..c.bytes]),
        OpCode::Gatherv | OpCode::Scatterv | OpCode::Alltoallv => {
            // Rank p's block for rank q: (p + 2q) % 4 bytes (some empty).
            let len = |p: usize, q: usize| (p + 2 * q) % 4;
            let counts: Vec<usize> = (0..n).map(|p| len(p, root)).collect();
            let displs = packed(&counts);
            let blocks = Blocks::new(&counts, &displs);
            let mut all = vec![0u8; counts.iter().sum()];
            let mut mine = vec![0u8; counts[r]];
            match c.op {
                OpCode::Gatherv => {
                    let recv = (r == root).then_some((&mut all[..], blocks));
                    comm.gatherv(&mine, recv, root)
                }
                OpCode::Scatterv => {
                    let send = (r == root).then_some((&all[..], blocks));
                    comm.scatterv(send, &mut mine, root)
                }
                _ => {
                    let sc: Vec<usize> = (0..n).map(|q| len(r, q)).collect();
                    let rc: Vec<usize> = (0..n).map(|p| len(p, r)).collect();
                    let (sd, rd) = (packed(&sc), packed(&rc));
                    let send = vec![3u8; sc.iter().sum()];
                    let mut recv = vec![0u8; rc.iter().sum()];
                    comm.alltoallv(
                        &send,
                        Blocks::new(&sc, &sd),
                        &mut recv,
                        Blocks::new(&rc, &rd),
                    )
                }
            }
        }
        OpCode::Allgatherv => {
            let counts = uneven(c.bytes, n);
            let displs = packed(&counts);
            let send = vec![1u8; counts[r]];
            comm.allgatherv(&send, &mut out[..c.bytes], Blocks::new(&counts, &displs))
        }
        OpCode::ReduceScatterBlock => {
            comm.reduce_scatter_block(&send, &mut out[..c.bytes / n], t, &op)
        }
        OpCode::ReduceScatter => {
            let counts = uneven(c.bytes, n);
            comm.reduce_scatter(&send, &mut out[..counts[r]], &counts, t, &op)
        }
        OpCode::Exscan => comm.exscan(&send, &mut out[..c.bytes], t, &op),
        other => panic!("{other:?} is not an operation of the API"),
    };
    res.unwrap_or_else(|e| panic!("{c:?} on rank {r} of {n}: {e}"));
}

/// Each case's (algorithm, messages sent) on this peer, from the per-algorithm counts.
fn observe(comm: &mut Communicator, cases: &[Case]) -> Vec<Option<(Algorithm, u64)>> {
    cases
        .iter()
        .map(|c| {
            comm.reset_counters();
            run(comm, c);
            let counts = comm.algorithm_counts();
            assert!(counts.len() <= 1, "{c:?}: {counts:?}");
            counts.first().map(|(a, k)| {
                assert_eq!(k.operations, 1, "{c:?}");
                (*a, k.messages)
            })
        })
        .collect()
}

#[test]
fn messages_sent_are_those_of_the_traced_algorithm() {
    let mut seen = std::collections::BTreeSet::new();
    // The trace must say the same: one line per operation and peer (read at init).
    let path = std::env::temp_dir().join(format!("fmi-plan-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    std::env::set_var("FMI_TRACE", &path);
    let mut recorded: Vec<(usize, String, String)> = Vec::new();
    for n in 2..=8 {
        let ring_threshold = 256 << 10;
        let tuning = Tuning { ring_threshold };
        let cases = cases(n, ring_threshold);
        let per_rank = common::run_peers(n, |c| {
            assert_eq!(c.config().comm.ring_threshold, ring_threshold);
            observe(c, &cases)
        });
        for (i, c) in cases.iter().enumerate() {
            // Send/recv runs only on ranks 0 and 1; every rank runs a collective.
            let ran: Vec<(Algorithm, u64)> = per_rank.iter().filter_map(|v| v[i]).collect();
            let want = if c.op == OpCode::SendRecv { 2 } else { n };
            assert_eq!(ran.len(), want, "{c:?} n={n}");
            let alg = ran[0].0;
            seen.insert(alg.name());
            for (a, _) in &ran {
                recorded.push((n, c.op.name().to_string(), a.name().to_string()));
            }
            assert!(ran.iter().all(|x| x.0 == alg), "{c:?} n={n}: {ran:?}");
            let call = Call::new(c.op, c.bytes, n)
                .reduction(4, c.ordered)
                .forced(c.forced);
            let planned = plan(&call, alg.family(), &tuning).unwrap();
            assert_eq!(
                alg, planned,
                "{c:?} n={n}: recorded {alg}, planned {planned}"
            );
            let sent: u64 = ran.iter().map(|x| x.1).sum();
            let p = pattern(alg, &call);
            assert_eq!(
                sent as f64, p.messages,
                "{c:?} n={n}: {alg} sent {sent} messages, its pattern has {}",
                p.messages
            );
        }
    }
    std::env::remove_var("FMI_TRACE");
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let mut traced: Vec<(usize, String, String)> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            (
                v["peers"].as_u64().unwrap() as usize,
                s("op"),
                s("algorithm"),
            )
        })
        .collect();
    traced.sort();
    recorded.sort();
    assert_eq!(traced, recorded);
    // Every algorithm of the direct channel ran (but the one of a single peer).
    let every = [
        "send",
        "binomial",
        "flat",
        "binomial_pipelined",
        "ordered",
        "recursive_doubling",
        "ring",
        "bruck",
        "halving_doubling",
        "chain",
        "chain_pipelined",
        "dissemination",
        "all_at_once",
    ];
    assert_eq!(seen, every.into_iter().collect());
}
