//! Reductions of opaque fixed-size elements (`Datatype::Opaque`) with user operators on the
//! direct channel: 12-byte elements through allreduce (every algorithm), reduce (every root),
//! scan, exscan and reduce_scatter at several peer counts and sizes whose pieces do not fall on
//! multiples of the element size; a split inside an element would garble the result.

mod common;

use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};
use std::sync::Arc;

const W: usize = 12;
/// Element counts: empty, one, odd, and large enough for pipelined and segmented algorithms.
const COUNTS: [usize; 4] = [0, 1, 37, 100_003];

fn opaque() -> Datatype {
    Datatype::opaque(W).unwrap()
}

/// Element i of rank r: an i64 and a u32, packed without padding.
fn contribution(r: usize, count: usize, seed: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(count * W);
    for i in 0..count {
        let a = ((r * 31 + i * 7 + seed) % 1000) as i64 - 500;
        let b = ((r * 13 + i * 5 + seed) % 97) as u32;
        v.extend_from_slice(&a.to_ne_bytes());
        v.extend_from_slice(&b.to_ne_bytes());
    }
    v
}

fn parts(e: &[u8]) -> (i64, u32) {
    (
        i64::from_ne_bytes(e[..8].try_into().unwrap()),
        u32::from_ne_bytes(e[8..12].try_into().unwrap()),
    )
}

fn put(e: &mut [u8], a: i64, b: u32) {
    e[..8].copy_from_slice(&a.to_ne_bytes());
    e[8..12].copy_from_slice(&b.to_ne_bytes());
}

/// Commutative and associative: sum of the i64, maximum of the u32.
fn sum_max() -> ReduceOp {
    ReduceOp::user(
        Arc::new(|acc: &mut [u8], next: &[u8], count: usize, t: Datatype| {
            assert_eq!(t, opaque(), "the operator sees the opaque datatype");
            assert_eq!(acc.len(), count * W, "whole elements only");
            for (x, y) in acc.chunks_exact_mut(W).zip(next.chunks_exact(W)) {
                let ((a, b), (c, d)) = (parts(x), parts(y));
                put(x, a.wrapping_add(c), b.max(d));
            }
        }),
        true,
        true,
    )
}

/// Neither commutative nor associative: x = 3x + y on both fields (order-sensitive).
fn ordered() -> ReduceOp {
    ReduceOp::user(
        Arc::new(|acc: &mut [u8], next: &[u8], count: usize, _t: Datatype| {
            assert_eq!(acc.len(), count * W, "whole elements only");
            for (x, y) in acc.chunks_exact_mut(W).zip(next.chunks_exact(W)) {
                let ((a, b), (c, d)) = (parts(x), parts(y));
                put(
                    x,
                    a.wrapping_mul(3).wrapping_add(c),
                    b.wrapping_mul(3).wrapping_add(d),
                );
            }
        }),
        false,
        false,
    )
}

/// Left fold of ranks 0..=upto.
fn fold(op: &ReduceOp, upto: usize, count: usize, seed: usize) -> Vec<u8> {
    let mut acc = contribution(0, count, seed);
    for r in 1..=upto {
        op.apply(&mut acc, &contribution(r, count, seed), opaque());
    }
    acc
}

fn check(c: &mut Communicator) {
    let (r, n) = (c.rank(), c.size());
    let t = opaque();
    for (k, op) in [sum_max(), ordered()].iter().enumerate() {
        for (s, &count) in COUNTS.iter().enumerate() {
            let seed = k * 10 + s;
            let mine = contribution(r, count, seed);
            let all = fold(op, n - 1, count, seed);
            let what = format!("n={n} op={op:?} count={count}");

            let mut out = vec![0u8; mine.len()];
            c.allreduce(&mine, &mut out, t, op).unwrap();
            assert!(out == all, "allreduce {what}");
            let algos: &[&str] = if op.ordered() {
                &["ordered"]
            } else {
                &["ring", "recursive_doubling", "ordered"]
            };
            for algo in algos {
                let mut buf = mine.clone();
                c.allreduce_with(algo, &mut buf, t, op).unwrap();
                assert!(buf == all, "allreduce {algo} {what}");
            }

            for root in 0..n {
                let mut got = vec![0u8; if r == root { mine.len() } else { 0 }];
                let recv = if r == root { Some(&mut got[..]) } else { None };
                c.reduce(&mine, recv, t, op, root).unwrap();
                if r == root {
                    assert!(got == all, "reduce root={root} {what}");
                }
            }

            let mut out = vec![0u8; mine.len()];
            c.scan(&mine, &mut out, t, op).unwrap();
            assert!(out == fold(op, r, count, seed), "scan {what}");

            let mut out = vec![0xA5u8; mine.len()];
            c.exscan(&mine, &mut out, t, op).unwrap();
            if r > 0 {
                assert!(out == fold(op, r - 1, count, seed), "exscan {what}");
            }

            // reduce_scatter: rank i gets (count + i) % 3 + i elements of a buffer of their sum.
            let counts: Vec<usize> = (0..n).map(|i| ((count + i) % 3 + i) * W).collect();
            let total: usize = counts.iter().sum();
            let send = contribution(r, total / W, seed);
            let whole = fold(op, n - 1, total / W, seed);
            let mut got = vec![0u8; counts[r]];
            c.reduce_scatter(&send, &mut got, &counts, t, op).unwrap();
            let start: usize = counts[..r].iter().sum();
            assert!(
                got[..] == whole[start..start + counts[r]],
                "reduce_scatter {what}"
            );
        }
    }
}

#[test]
fn opaque_elements_reduce_whole_on_2_to_5_peers() {
    for n in [1, 2, 3, 5] {
        common::run_peers(n, check);
    }
}

#[test]
fn opaque_elements_reject_builtin_ops_and_partial_elements() {
    common::run_peers(2, |c| {
        let t = opaque();
        let mut buf = vec![0u8; 2 * W];
        let e = c
            .allreduce_in_place(&mut buf, t, &ReduceOp::builtin(BuiltinOp::Sum))
            .unwrap_err();
        assert!(e.to_string().contains("opaque"), "{e}");
        // 13 bytes is not a whole number of 12-byte elements.
        let mut odd = vec![0u8; W + 1];
        assert!(c.allreduce_in_place(&mut odd, t, &sum_max()).is_err());
    });
    assert!(Datatype::opaque(0).is_err());
    assert_eq!(Datatype::opaque(W).unwrap().size(), W);
    assert_eq!(Datatype::opaque(W).unwrap().raw(), Datatype::OPAQUE_CODE);
    assert!(Datatype::from_raw(Datatype::OPAQUE_CODE).is_err());
}
