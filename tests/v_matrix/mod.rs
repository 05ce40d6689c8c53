//! The v-collectives (gatherv, scatterv, allgatherv, alltoallv, reduce_scatter_block,
//! reduce_scatter, exscan) and the in-place forms, against references computed locally: uneven
//! counts with zeros, every root, receive blocks out of rank order with gaps that must stay
//! untouched, built-in and order-sensitive (non-associative) operators. Shared by the direct
//! channel (tests/vcollectives.rs) and the store channels (tests/redis_matrix.rs,
//! tests/s3_matrix.rs). `scale` multiplies every count (1: a few bytes; larger: blocks of
//! kilobytes). The including test declares `mod reference;` (tests/reference).
#![allow(dead_code)]

use super::reference::*;
use fmi::collective::shape::{packed, Blocks};
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};

/// Gap bytes between receive blocks; they must keep this value.
const GAP: u8 = 0xEE;

/// An uneven count (0 ..= 4 units) for the block from `a` to `b`.
fn cnt(a: usize, b: usize, seed: usize) -> usize {
    (a * 7 + b * 3 + seed) % 5
}

/// Displacements of blocks of `counts` bytes laid out in reverse rank order with 3 bytes
/// between them, and the buffer length.
fn spread(counts: &[usize]) -> (Vec<usize>, usize) {
    let mut displs = vec![0; counts.len()];
    let mut at = 0;
    for p in (0..counts.len()).rev() {
        displs[p] = at;
        at += counts[p] + 3;
    }
    (displs, at)
}

/// Every byte of `buf` outside the blocks is still [`GAP`].
fn gaps_kept(buf: &[u8], counts: &[usize], displs: &[usize]) -> bool {
    buf.iter().enumerate().all(|(i, &b)| {
        b == GAP || (0..counts.len()).any(|p| i >= displs[p] && i < displs[p] + counts[p])
    })
}

/// Every v-collective and in-place form on this communicator.
pub fn check_v(c: &mut Communicator, scale: usize) {
    for seed in 0..2 {
        check_rooted_v(c, scale, seed);
        check_allgatherv(c, scale, seed);
        check_alltoallv(c, scale, seed);
    }
    check_reduce_scatter(c, scale);
    check_exscan(c, scale);
    check_in_place(c, scale);
}

fn check_rooted_v(c: &mut Communicator, scale: usize, seed: usize) {
    let (r, n) = (c.rank(), c.size());
    for root in 0..n {
        let counts: Vec<usize> = (0..n).map(|p| cnt(p, root, seed) * scale).collect();
        let (displs, len) = spread(&counts);
        let blocks = Blocks::new(&counts, &displs);
        // gatherv, then gatherv with the root's block in place
        for in_place in [false, true] {
            let send = pattern(r, counts[r], seed);
            let what = format!("gatherv n={n} root={root} seed={seed} in_place={in_place}");
            if r == root {
                let mut recv = vec![GAP; len];
                if in_place {
                    recv[blocks.range(r)].copy_from_slice(&send);
                    c.gatherv_in_place(&mut recv, blocks, root).unwrap();
                } else {
                    c.gatherv(&send, Some((&mut recv, blocks)), root).unwrap();
                }
                for p in 0..n {
                    assert!(
                        recv[blocks.range(p)] == pattern(p, counts[p], seed),
                        "{what}: block {p}"
                    );
                }
                assert!(gaps_kept(&recv, &counts, &displs), "{what}: gaps");
            } else {
                c.gatherv(&send, None, root).unwrap();
            }
        }
        // scatterv (blocks laid out with gaps), then with the root's block in place
        for in_place in [false, true] {
            let what = format!("scatterv n={n} root={root} seed={seed} in_place={in_place}");
            let mut mine = vec![0u8; counts[r]];
            if r == root {
                let mut src = vec![GAP; len];
                for p in 0..n {
                    src[blocks.range(p)].copy_from_slice(&pattern(p + 100, counts[p], seed));
                }
                if in_place {
                    c.scatterv_in_place(&src, blocks, root).unwrap();
                    continue;
                }
                c.scatterv(Some((&src, blocks)), &mut mine, root).unwrap();
            } else {
                c.scatterv(None, &mut mine, root).unwrap();
            }
            assert!(mine == pattern(r + 100, counts[r], seed), "{what}");
        }
    }
}

fn check_allgatherv(c: &mut Communicator, scale: usize, seed: usize) {
    let (r, n) = (c.rank(), c.size());
    let counts: Vec<usize> = (0..n).map(|p| cnt(p, 1, seed) * scale).collect();
    let (displs, len) = spread(&counts);
    let blocks = Blocks::new(&counts, &displs);
    for in_place in [false, true] {
        let what = format!("allgatherv n={n} seed={seed} in_place={in_place}");
        let send = pattern(r, counts[r], seed);
        let mut recv = vec![GAP; len];
        if in_place {
            recv[blocks.range(r)].copy_from_slice(&send);
            c.allgatherv_in_place(&mut recv, blocks).unwrap();
        } else {
            c.allgatherv(&send, &mut recv, blocks).unwrap();
        }
        for p in 0..n {
            assert!(
                recv[blocks.range(p)] == pattern(p, counts[p], seed),
                "{what}: block {p}"
            );
        }
        assert!(gaps_kept(&recv, &counts, &displs), "{what}: gaps");
    }
}

fn check_alltoallv(c: &mut Communicator, scale: usize, seed: usize) {
    let (r, n) = (c.rank(), c.size());
    let data = |from: usize, to: usize, len: usize| pattern(from * 64 + to, len, seed);
    // Send blocks packed in rank order, receive blocks spread in reverse order.
    let scounts: Vec<usize> = (0..n).map(|j| cnt(r, j, seed) * scale).collect();
    let sdispls = packed(&scounts);
    let send: Vec<u8> = (0..n).flat_map(|j| data(r, j, scounts[j])).collect();
    let rcounts: Vec<usize> = (0..n).map(|i| cnt(i, r, seed) * scale).collect();
    let (rdispls, len) = spread(&rcounts);
    let rblocks = Blocks::new(&rcounts, &rdispls);
    let mut recv = vec![GAP; len];
    c.alltoallv(&send, Blocks::new(&scounts, &sdispls), &mut recv, rblocks)
        .unwrap();
    for p in 0..n {
        assert!(
            recv[rblocks.range(p)] == data(p, r, rcounts[p]),
            "alltoallv n={n} seed={seed} from {p}"
        );
    }
    assert!(gaps_kept(&recv, &rcounts, &rdispls), "alltoallv gaps");
    // In place: the counts between two ranks must be the same both ways.
    let sym = |a: usize, b: usize| ((a + b + seed) % 4) * scale;
    let counts: Vec<usize> = (0..n).map(|p| sym(r, p)).collect();
    let (displs, len) = spread(&counts);
    let blocks = Blocks::new(&counts, &displs);
    let mut buf = vec![GAP; len];
    for p in 0..n {
        buf[blocks.range(p)].copy_from_slice(&data(r, p, counts[p]));
    }
    c.alltoallv_in_place(&mut buf, blocks).unwrap();
    for p in 0..n {
        assert!(
            buf[blocks.range(p)] == data(p, r, counts[p]),
            "alltoallv in place n={n} seed={seed} from {p}"
        );
    }
    assert!(gaps_kept(&buf, &counts, &displs), "alltoallv in place gaps");
}

fn check_reduce_scatter(c: &mut Communicator, scale: usize) {
    let (r, n) = (c.rank(), c.size());
    let cases = [
        (Datatype::Int32, ReduceOp::builtin(BuiltinOp::Sum)),
        (Datatype::Double, ReduceOp::builtin(BuiltinOp::Max)),
        (Datatype::Int64, sub_op()),
    ];
    for (k, (t, op)) in cases.iter().enumerate() {
        let (t, es) = (*t, t.size());
        // reduce_scatter: uneven element counts with zeros
        let elems: Vec<usize> = (0..n).map(|p| cnt(p, 2, k) * scale).collect();
        let total: usize = elems.iter().sum();
        let counts: Vec<usize> = elems.iter().map(|e| e * es).collect();
        let offs = packed(&counts);
        let send = contribution(t, r, total, k);
        let expect = fold(t, op, n - 1, total, k);
        let mine = offs[r]..offs[r] + counts[r];
        let mut out = vec![0u8; counts[r]];
        c.reduce_scatter(&send, &mut out, &counts, t, op).unwrap();
        assert!(out == expect[mine.clone()], "reduce_scatter {t:?} n={n}");
        let mut buf = send.clone();
        c.reduce_scatter_in_place(&mut buf, &counts, t, op).unwrap();
        assert!(
            buf[..counts[r]] == expect[mine],
            "reduce_scatter in place {t:?} n={n}"
        );
        // reduce_scatter_block: 0 and 3 elements per peer
        for per in [0, 3 * scale] {
            let send = contribution(t, r, per * n, k);
            let expect = fold(t, op, n - 1, per * n, k);
            let mine = r * per * es..(r + 1) * per * es;
            let mut out = vec![0u8; per * es];
            c.reduce_scatter_block(&send, &mut out, t, op).unwrap();
            assert!(
                out == expect[mine.clone()],
                "reduce_scatter_block {t:?} n={n} per={per}"
            );
            let mut buf = send.clone();
            c.reduce_scatter_block_in_place(&mut buf, t, op).unwrap();
            assert!(
                buf[..per * es] == expect[mine],
                "reduce_scatter_block in place {t:?} n={n} per={per}"
            );
        }
    }
}

fn check_exscan(c: &mut Communicator, scale: usize) {
    let (r, n) = (c.rank(), c.size());
    let cases = [
        (Datatype::Int32, ReduceOp::builtin(BuiltinOp::Sum)),
        (Datatype::Float, ReduceOp::builtin(BuiltinOp::Prod)),
        (Datatype::Int64, sub_op()),
    ];
    for (k, (t, op)) in cases.iter().enumerate() {
        for count in [0, 1, 37 * scale] {
            let what = format!("exscan {t:?} n={n} count={count}");
            let send = contribution(*t, r, count, k);
            let mut out = vec![GAP; send.len()];
            c.exscan(&send, &mut out, *t, op).unwrap();
            let mut buf = send.clone();
            c.exscan_in_place(&mut buf, *t, op).unwrap();
            if r == 0 {
                assert!(out.iter().all(|&b| b == GAP), "{what}: rank 0 untouched");
                assert!(buf == send, "{what}: rank 0 untouched in place");
            } else {
                let expect = fold(*t, op, r - 1, count, k);
                assert!(out == expect, "{what}");
                assert!(buf == expect, "{what} in place");
            }
        }
    }
    // A non-commutative operator: the prefix is folded left to right.
    let op = matmul_op();
    let send = matrices(r, 2);
    let mut out = vec![0u8; send.len()];
    c.exscan(&send, &mut out, Datatype::Int64, &op).unwrap();
    if r > 0 {
        let mut expect = matrices(0, 2);
        for p in 1..r {
            op.apply(&mut expect, &matrices(p, 2), Datatype::Int64);
        }
        assert!(out == expect, "ordered exscan n={n} rank={r}");
    }
}

/// The in-place forms of the fixed-size collectives.
fn check_in_place(c: &mut Communicator, scale: usize) {
    let (r, n) = (c.rank(), c.size());
    let s = 5 * scale;
    for root in [0, n - 1] {
        // gather: the root's block already in place
        if r == root {
            let mut all = vec![GAP; s * n];
            all[r * s..(r + 1) * s].copy_from_slice(&pattern(r, s, 7));
            c.gather_in_place(&mut all, root).unwrap();
            for p in 0..n {
                assert!(
                    all[p * s..(p + 1) * s] == pattern(p, s, 7),
                    "gather in place n={n} root={root} block {p}"
                );
            }
        } else {
            c.gather(&pattern(r, s, 7), None, root).unwrap();
        }
        // scatter: the root keeps its block in the send buffer
        let mut mine = vec![0u8; s];
        if r == root {
            let src: Vec<u8> = (0..n).flat_map(|p| pattern(p + 50, s, 8)).collect();
            c.scatter_in_place(&src, root).unwrap();
        } else {
            c.scatter(None, &mut mine, root).unwrap();
            assert!(mine == pattern(r + 50, s, 8), "scatter in place n={n}");
        }
        // reduce: the contribution in the result buffer
        let t = Datatype::Int32;
        let op = ReduceOp::builtin(BuiltinOp::Sum);
        let mut buf = contribution(t, r, s, 9);
        c.reduce_in_place(&mut buf, t, &op, root).unwrap();
        if r == root {
            assert!(
                buf == fold(t, &op, n - 1, s, 9),
                "reduce in place n={n} root={root}"
            );
        }
    }
    let mut all = vec![GAP; s * n];
    all[r * s..(r + 1) * s].copy_from_slice(&pattern(r, s, 10));
    c.allgather_in_place(&mut all).unwrap();
    for p in 0..n {
        assert!(
            all[p * s..(p + 1) * s] == pattern(p, s, 10),
            "allgather in place n={n} block {p}"
        );
    }
    let mut buf: Vec<u8> = (0..n).flat_map(|to| pattern(r * 64 + to, s, 11)).collect();
    c.alltoall_in_place(&mut buf).unwrap();
    for p in 0..n {
        assert!(
            buf[p * s..(p + 1) * s] == pattern(p * 64 + r, s, 11),
            "alltoall in place n={n} from {p}"
        );
    }
    let op = sub_op();
    let t = Datatype::Int64;
    let mut buf = contribution(t, r, s, 12);
    c.allreduce_in_place(&mut buf, t, &op).unwrap();
    assert!(
        buf == fold(t, &op, n - 1, s, 12),
        "allreduce in place n={n}"
    );
    let mut buf = contribution(t, r, s, 13);
    c.scan_in_place(&mut buf, t, &op).unwrap();
    assert!(buf == fold(t, &op, r, s, 13), "scan in place n={n}");
}
