//! The collective matrix (every operation at 1-16 peers and many sizes) for the store channels (Redis, S3): send/recv;
//! every root for sizes 0, 1 and odd, and roots 0 and n-1 for the large size; every datatype with
//! every built-in op defined for it; non-commutative (2x2 matrix product) and non-associative
//! (subtraction) user ops that prove the left-to-right order. The large size is 5 MiB (over one
//! 4 MiB Redis chunk and the 4 MiB flat limit of the store algorithms); [`sixty_four_mib_2`] and
//! [`sixty_four_mib_3`] move 64 MiB through every large-message path. The including test
//! declares `mod reference;` (tests/reference).
#![allow(dead_code)]

use super::reference::*;
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};

pub const BIG: usize = 5 << 20;
pub const HUGE: usize = 64 << 20;
pub const COUNTS: [usize; 3] = [0, 1, 37];

pub fn check_p2p(c: &mut Communicator) {
    let (r, n) = (c.rank(), c.size());
    if n == 1 {
        return;
    }
    for (seed, len) in [0, 1, 37, BIG].into_iter().enumerate() {
        let to = (r + 1) % n;
        let from = (r + n - 1) % n;
        let data = pattern(r, len, seed);
        let mut got = vec![0u8; len];
        // Sends never block on a store: everyone sends first, then receives.
        c.send(&data, to).unwrap();
        c.recv(&mut got, from).unwrap();
        assert!(
            got == pattern(from, len, seed),
            "send/recv {len} bytes from {from} at {r}"
        );
    }
    // Several messages between the same pair, small and chunked, arrive in order.
    if r == 0 {
        for k in 0..5u32 {
            c.send(&k.to_ne_bytes(), 1).unwrap();
            c.send(&pattern(k as usize, BIG, 9), 1).unwrap();
        }
    } else if r == 1 {
        for k in 0..5u32 {
            let mut b = [0u8; 4];
            c.recv(&mut b, 0).unwrap();
            assert_eq!(u32::from_ne_bytes(b), k);
            let mut big = vec![0u8; BIG];
            c.recv(&mut big, 0).unwrap();
            assert!(
                big == pattern(k as usize, BIG, 9),
                "chunked message {k} in order"
            );
        }
    }
}

pub fn check_rooted(c: &mut Communicator) {
    let (r, n) = (c.rank(), c.size());
    for root in 0..n {
        let big_root = root == 0 || root == n - 1;
        for (seed, len) in [0, 1, 37, BIG].into_iter().enumerate() {
            if len == BIG && !big_root {
                continue;
            }
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
        if big_root {
            for (t, b) in [
                (Datatype::Int32, BuiltinOp::Sum),
                (Datatype::Double, BuiltinOp::Max),
                (Datatype::Byte, BuiltinOp::BXor),
            ] {
                let op = ReduceOp::builtin(b);
                let count = BIG / t.size();
                let send = contribution(t, r, count, root);
                let mut out = vec![0u8; send.len()];
                c.reduce(&send, (r == root).then_some(&mut out[..]), t, &op, root)
                    .unwrap();
                if r == root {
                    assert!(
                        out == fold(t, &op, n - 1, count, root),
                        "reduce big {t:?} {b:?} n={n} root={root}"
                    );
                }
            }
        }
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

pub fn check_all(c: &mut Communicator) {
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
        let count = BIG / t.size();
        let send = contribution(t, r, count, 1);
        let expect = fold(t, &op, n - 1, count, 1);
        let mut out = vec![0u8; send.len()];
        c.allreduce(&send, &mut out, t, &op).unwrap();
        assert!(out == expect, "allreduce big {t:?} n={n}");
        for algo in ["segmented", "reduce_bcast"] {
            let mut buf = send.clone();
            c.allreduce_with(algo, &mut buf, t, &op).unwrap();
            assert!(buf == expect, "allreduce big {algo} {t:?} n={n}");
        }
        c.scan(&send, &mut out, t, &op).unwrap();
        assert!(out == fold(t, &op, r, count, 1), "scan big {t:?} n={n}");
    }
    // Ordered allreduce and scan: identical everywhere and equal to the left fold, small and big
    // (the big matrices take the chain and the streaming fold).
    for (op, k) in [
        (matmul_op(), 3usize),
        (matmul_op(), 0),
        (matmul_op(), BIG / 32),
    ] {
        let data = matrices(r, k);
        let mut out = vec![0u8; data.len()];
        c.allreduce(&data, &mut out, Datatype::Int64, &op).unwrap();
        let mut expect = matrices(0, k);
        for p in 1..n {
            op.apply(&mut expect, &matrices(p, k), Datatype::Int64);
        }
        assert!(out == expect, "ordered allreduce n={n} k={k}");
        c.scan(&data, &mut out, Datatype::Int64, &op).unwrap();
        let mut prefix = matrices(0, k);
        for p in 1..=r {
            op.apply(&mut prefix, &matrices(p, k), Datatype::Int64);
        }
        assert!(out == prefix, "ordered scan n={n} rank={r} k={k}");
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

/// 64 MiB send/recv between 2 peers (one chunked stream or multipart object each way).
pub fn sixty_four_mib_2(c: &mut Communicator) {
    let r = c.rank();
    let data = pattern(r, HUGE, 3);
    let mut got = vec![0u8; HUGE];
    c.send(&data, 1 - r).unwrap();
    c.recv(&mut got, 1 - r).unwrap();
    assert!(got == pattern(1 - r, HUGE, 3), "send/recv 64 MiB");
}

/// 64 MiB with 3 peers: bcast (one object for several readers), the segmented allreduce, the
/// reduce tree, and the scan chain with a non-associative operator.
pub fn sixty_four_mib_3(c: &mut Communicator) {
    let r = c.rank();
    let mut buf = if r == 2 {
        pattern(2, HUGE, 4)
    } else {
        vec![0u8; HUGE]
    };
    c.bcast(&mut buf, 2).unwrap();
    assert!(buf == pattern(2, HUGE, 4), "bcast 64 MiB");
    drop(buf);
    let t = Datatype::Float;
    let op = ReduceOp::builtin(BuiltinOp::Sum);
    let send = contribution(t, r, HUGE / 4, 5);
    let expect = fold(t, &op, 2, HUGE / 4, 5);
    let mut out = vec![0u8; HUGE];
    c.allreduce(&send, &mut out, t, &op).unwrap();
    assert!(out == expect, "allreduce 64 MiB");
    let i32s = contribution(Datatype::Int32, r, HUGE / 4, 6);
    c.reduce(
        &i32s,
        (r == 1).then_some(&mut out[..]),
        Datatype::Int32,
        &op,
        1,
    )
    .unwrap();
    if r == 1 {
        assert!(
            out == fold(Datatype::Int32, &op, 2, HUGE / 4, 6),
            "reduce 64 MiB"
        );
    }
    let sub = sub_op();
    let v = contribution(Datatype::Int64, r, HUGE / 8, 7);
    c.scan(&v, &mut out, Datatype::Int64, &sub).unwrap();
    assert!(
        out == fold(Datatype::Int64, &sub, r, HUGE / 8, 7),
        "ordered scan 64 MiB"
    );
}
