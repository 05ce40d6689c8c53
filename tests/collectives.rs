//! Every collective against a sequential reference: peer counts 1..9 and 16, every root,
//! sizes 0, 1, odd and 8 MiB (8 MiB + 3 elements for reductions), every datatype with every built-in op defined for it, and
//! non-commutative / non-associative user ops that prove the left-to-right order.

mod common;
mod reference;

use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};
use reference::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const BIG: usize = 8 << 20;
const COUNTS: [usize; 3] = [0, 1, 37];

fn check_p2p(c: &mut Communicator) {
    let (r, n) = (c.rank(), c.size());
    if n == 1 {
        return;
    }
    for (seed, len) in [0, 1, 37, BIG].into_iter().enumerate() {
        let to = (r + 1) % n;
        let from = (r + n - 1) % n;
        let data = pattern(r, len, seed);
        let mut got = vec![0u8; len];
        // Even ranks send first; odd ranks receive first (no deadlock with blocking calls).
        if r % 2 == 0 {
            c.send(&data, to).unwrap();
            c.recv(&mut got, from).unwrap();
        } else {
            c.recv(&mut got, from).unwrap();
            c.send(&data, to).unwrap();
        }
        assert!(
            got == pattern(from, len, seed),
            "send/recv {len} bytes from {from} at {r}"
        );
    }
    // Several messages between the same pair arrive in order.
    if r == 0 {
        for k in 0..5u32 {
            c.send(&k.to_ne_bytes(), 1).unwrap();
        }
    } else if r == 1 {
        for k in 0..5u32 {
            let mut b = [0u8; 4];
            c.recv(&mut b, 0).unwrap();
            assert_eq!(u32::from_ne_bytes(b), k);
        }
    }
}

fn check_rooted(c: &mut Communicator) {
    let (r, n) = (c.rank(), c.size());
    for root in 0..n {
        for (seed, len) in [0, 1, 37, BIG].into_iter().enumerate() {
            // bcast
            let mut buf = if r == root {
                pattern(root, len, seed)
            } else {
                vec![0u8; len]
            };
            c.bcast(&mut buf, root).unwrap();
            assert!(
                buf == pattern(root, len, seed),
                "bcast n={n} root={root} len={len}"
            );
            // gather
            let send = pattern(r, len, seed);
            let mut all = vec![0u8; if r == root { len * n } else { 0 }];
            c.gather(&send, if r == root { Some(&mut all) } else { None }, root)
                .unwrap();
            if r == root {
                for p in 0..n {
                    assert!(
                        all[p * len..(p + 1) * len] == pattern(p, len, seed),
                        "gather n={n} root={root} len={len} block {p}"
                    );
                }
            }
            // scatter
            let src: Vec<u8> = if r == root {
                (0..n).flat_map(|p| pattern(p + 100, len, seed)).collect()
            } else {
                Vec::new()
            };
            let mut mine = vec![0u8; len];
            c.scatter(if r == root { Some(&src) } else { None }, &mut mine, root)
                .unwrap();
            assert!(
                mine == pattern(r + 100, len, seed),
                "scatter n={n} root={root} len={len}"
            );
        }
        // reduce: every datatype x op at small sizes, three cases at 8 MiB
        for (k, (t, b)) in builtin_cases().into_iter().enumerate() {
            let op = ReduceOp::builtin(b);
            for count in COUNTS {
                let seed = k + root;
                let send = contribution(t, r, count, seed);
                let mut out = vec![0u8; send.len()];
                c.reduce(&send, (r == root).then_some(&mut out[..]), t, &op, root)
                    .unwrap();
                if r == root {
                    assert!(
                        out == fold(t, &op, n - 1, count, seed),
                        "reduce {t:?} {b:?} n={n} root={root} count={count}"
                    );
                }
            }
        }
        if root == 0 || root == n - 1 {
            for (t, b) in [
                (Datatype::Int32, BuiltinOp::Sum),
                (Datatype::Double, BuiltinOp::Max),
                (Datatype::Byte, BuiltinOp::BXor),
            ] {
                let op = ReduceOp::builtin(b);
                let count = BIG / t.size() + 3; // a short last piece where pipelined
                let send = contribution(t, r, count, root);
                let mut out = vec![0u8; send.len()];
                c.reduce(&send, (r == root).then_some(&mut out[..]), t, &op, root)
                    .unwrap();
                if r == root {
                    assert!(
                        out == fold(t, &op, n - 1, count, root),
                        "reduce 8MiB {t:?} {b:?} n={n} root={root}"
                    );
                }
            }
        }
        // ordered reduce: matrix product and subtraction, at every root
        for (op, data, count) in [
            (matmul_op(), matrices(r, 3), 12usize),
            (sub_op(), contribution(Datatype::Int64, r, 5, root), 5),
        ] {
            let mut out = vec![0u8; data.len()];
            c.reduce(
                &data,
                (r == root).then_some(&mut out[..]),
                Datatype::Int64,
                &op,
                root,
            )
            .unwrap();
            if r == root {
                let mut expect = if count == 12 {
                    matrices(0, 3)
                } else {
                    contribution(Datatype::Int64, 0, 5, root)
                };
                for p in 1..n {
                    let next = if count == 12 {
                        matrices(p, 3)
                    } else {
                        contribution(Datatype::Int64, p, 5, root)
                    };
                    op.apply(&mut expect, &next, Datatype::Int64);
                }
                assert!(
                    out == expect,
                    "ordered reduce n={n} root={root} count={count}"
                );
            }
        }
    }
}

fn check_all(c: &mut Communicator) {
    let (r, n) = (c.rank(), c.size());
    for (k, (t, b)) in builtin_cases().into_iter().enumerate() {
        let op = ReduceOp::builtin(b);
        for count in COUNTS {
            let send = contribution(t, r, count, k);
            let mut out = vec![0u8; send.len()];
            c.allreduce(&send, &mut out, t, &op).unwrap();
            assert!(
                out == fold(t, &op, n - 1, count, k),
                "allreduce {t:?} {b:?} n={n} count={count}"
            );
            c.scan(&send, &mut out, t, &op).unwrap();
            assert!(
                out == fold(t, &op, r, count, k),
                "scan {t:?} {b:?} n={n} count={count}"
            );
            // in place
            let mut inplace = send.clone();
            c.allreduce_in_place(&mut inplace, t, &op).unwrap();
            assert!(
                inplace == fold(t, &op, n - 1, count, k),
                "allreduce in place {t:?} {b:?} n={n}"
            );
        }
    }
    for (t, b) in [
        (Datatype::Float, BuiltinOp::Sum),
        (Datatype::Int64, BuiltinOp::Sum),
        (Datatype::Byte, BuiltinOp::BXor),
    ] {
        let op = ReduceOp::builtin(b);
        let count = BIG / t.size() + 3; // a short last piece where pipelined
        let send = contribution(t, r, count, 1);
        let expect = fold(t, &op, n - 1, count, 1);
        let mut out = vec![0u8; send.len()];
        c.allreduce(&send, &mut out, t, &op).unwrap();
        assert!(out == expect, "allreduce 8MiB {t:?} n={n}");
        for algo in ["ring", "recursive_doubling"] {
            let mut buf = send.clone();
            c.allreduce_with(algo, &mut buf, t, &op).unwrap();
            assert!(buf == expect, "allreduce 8MiB {algo} {t:?} n={n}");
        }
        c.scan(&send, &mut out, t, &op).unwrap();
        assert!(out == fold(t, &op, r, count, 1), "scan 8MiB {t:?} n={n}");
    }
    // ordered allreduce and scan: identical everywhere and equal to the left fold
    for (op, k) in [(matmul_op(), 3usize), (matmul_op(), 0)] {
        let data = matrices(r, k);
        let mut out = vec![0u8; data.len()];
        c.allreduce(&data, &mut out, Datatype::Int64, &op).unwrap();
        let mut expect = matrices(0, k);
        for p in 1..n {
            op.apply(&mut expect, &matrices(p, k), Datatype::Int64);
        }
        assert!(out == expect, "ordered allreduce n={n}");
        c.scan(&data, &mut out, Datatype::Int64, &op).unwrap();
        let mut prefix = matrices(0, k);
        for p in 1..=r {
            op.apply(&mut prefix, &matrices(p, k), Datatype::Int64);
        }
        assert!(out == prefix, "ordered scan n={n} rank={r}");
    }
    let op = sub_op();
    let data = contribution(Datatype::Int64, r, 9, 4);
    let mut out = vec![0u8; data.len()];
    c.allreduce(&data, &mut out, Datatype::Int64, &op).unwrap();
    assert!(
        out == fold(Datatype::Int64, &op, n - 1, 9, 4),
        "non-associative allreduce n={n}"
    );
    c.scan(&data, &mut out, Datatype::Int64, &op).unwrap();
    assert!(
        out == fold(Datatype::Int64, &op, r, 9, 4),
        "non-associative scan n={n}"
    );
    // Ordered operators get whole buffers (fmi.hpp's Function<std::vector> relies on it), also
    // above the size from which element-wise reductions and scans work in pieces.
    let count = (2 << 20) / 8 + 1;
    let partial = Arc::new(AtomicBool::new(false));
    let seen = partial.clone();
    let sub = sub_op();
    let whole = ReduceOp::user(
        Arc::new(move |acc: &mut [u8], next: &[u8], n: usize, t: Datatype| {
            if n != count {
                seen.store(true, Ordering::Relaxed);
            }
            sub.apply(acc, next, t);
        }),
        false,
        false,
    );
    let data = contribution(Datatype::Int64, r, count, 6);
    let mut out = vec![0u8; data.len()];
    c.scan(&data, &mut out, Datatype::Int64, &whole).unwrap();
    assert!(
        out == fold(Datatype::Int64, &sub_op(), r, count, 6),
        "ordered scan 2MiB n={n}"
    );
    c.allreduce(&data, &mut out, Datatype::Int64, &whole)
        .unwrap();
    assert!(
        out == fold(Datatype::Int64, &sub_op(), n - 1, count, 6),
        "ordered allreduce 2MiB n={n}"
    );
    c.reduce(
        &data,
        (r == 0).then_some(&mut out[..]),
        Datatype::Int64,
        &whole,
        0,
    )
    .unwrap();
    assert!(
        !partial.load(Ordering::Relaxed),
        "an ordered operator got part of a buffer (n={n})"
    );
    // allgather and alltoall: 0, 1, odd, and blocks that make an 8 MiB buffer
    for (seed, len) in [0, 1, 37, BIG / n].into_iter().enumerate() {
        let send = pattern(r, len, seed);
        let mut all = vec![0u8; len * n];
        c.allgather(&send, &mut all).unwrap();
        for p in 0..n {
            assert!(
                all[p * len..(p + 1) * len] == pattern(p, len, seed),
                "allgather n={n} len={len}"
            );
        }
        let send: Vec<u8> = (0..n)
            .flat_map(|to| pattern(r * 64 + to, len, seed))
            .collect();
        let mut got = vec![0u8; len * n];
        c.alltoall(&send, &mut got).unwrap();
        for p in 0..n {
            assert!(
                got[p * len..(p + 1) * len] == pattern(p * 64 + r, len, seed),
                "alltoall n={n} len={len} from {p}"
            );
        }
    }
    for _ in 0..3 {
        c.barrier().unwrap();
    }
}

fn full_matrix(n: usize) {
    run_peers_checked(n);
}

fn run_peers_checked(n: usize) {
    common::run_peers(n, |c| {
        check_p2p(c);
        check_rooted(c);
        check_all(c);
    });
}

#[test]
fn peers_1_to_3() {
    for n in 1..=3 {
        full_matrix(n);
    }
}

#[test]
fn peers_4_to_6() {
    for n in 4..=6 {
        full_matrix(n);
    }
}

#[test]
fn peers_7_to_9() {
    for n in 7..=9 {
        full_matrix(n);
    }
}

#[test]
fn peers_16() {
    full_matrix(16);
}
