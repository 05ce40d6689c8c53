//! Every collective handed to the collectives worker (`Communicator::istart`) gives the result
//! of its blocking form, on the direct channel with 3 peers: v-forms with uneven blocks, a
//! non-commutative user operator folded in rank order, the root's and the others' sides; and a
//! started collective does not hold up point-to-point messages posted after it.

mod common;

use fmi::channel::request::{RecvBuf, SendBuf};
use fmi::collective::shape::Blocks;
use fmi::{Background, BlockList, BuiltinOp, Communicator, Datatype, ReduceOp, Source, TagSel};
use std::sync::Arc;

fn sbuf(v: &[u8]) -> SendBuf {
    // SAFETY: every test keeps its buffers until its requests completed.
    unsafe { SendBuf::new(v.as_ptr(), v.len()) }
}

fn rbuf(v: &mut [u8]) -> RecvBuf {
    // SAFETY: as above; the buffers are not touched while their request is active.
    unsafe { RecvBuf::new(v.as_mut_ptr(), v.len()) }
}

/// Bytes that depend on the rank and a salt.
fn data(rank: usize, salt: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (rank as u8).wrapping_mul(31) ^ salt.wrapping_add(i as u8))
        .collect()
}

/// Runs `c` in the background and waits for it.
fn bg(k: &mut Communicator, c: Background) {
    k.istart(c).unwrap().wait().unwrap();
}

/// a (+) b = 10 * a + b on one-byte digits: associative, not commutative.
fn digits() -> ReduceOp {
    let f = Arc::new(|acc: &mut [u8], next: &[u8], _: usize, _: Datatype| {
        for (a, b) in acc.iter_mut().zip(next) {
            *a = a.wrapping_mul(10).wrapping_add(*b);
        }
    });
    ReduceOp::user(f, false, true)
}

#[test]
fn every_collective_in_the_background_gives_the_blocking_result() {
    common::run_peers(3, |k| {
        let (me, n) = (k.rank(), k.size());
        let root = 1;
        let blk = 5;
        let mine = data(me, 1, blk);

        let mut want = if me == root {
            data(9, 2, 7)
        } else {
            vec![0; 7]
        };
        let mut got = want.clone();
        k.bcast(&mut want, root).unwrap();
        bg(
            k,
            Background::Bcast {
                buf: rbuf(&mut got),
                root,
            },
        );
        assert_eq!(got, want, "bcast");

        let (mut want, mut got) = (vec![0u8; blk * n], vec![0u8; blk * n]);
        let root_buf = |v: &mut Vec<u8>| (me == root).then(|| rbuf(v));
        k.gather(&mine, (me == root).then_some(&mut want[..]), root)
            .unwrap();
        let recv = root_buf(&mut got);
        bg(
            k,
            Background::Gather {
                send: sbuf(&mine),
                recv,
                root,
            },
        );
        assert_eq!(got, want, "gather");

        let all = data(7, 3, blk * n);
        let (mut want, mut got) = (vec![0u8; blk], vec![0u8; blk]);
        k.scatter((me == root).then_some(&all[..]), &mut want, root)
            .unwrap();
        let send = (me == root).then(|| sbuf(&all));
        bg(
            k,
            Background::Scatter {
                send,
                recv: rbuf(&mut got),
                root,
            },
        );
        assert_eq!(got, want, "scatter");

        let (mut want, mut got) = (vec![0u8; blk * n], vec![0u8; blk * n]);
        k.allgather(&mine, &mut want).unwrap();
        bg(
            k,
            Background::Allgather {
                send: sbuf(&mine),
                recv: rbuf(&mut got),
            },
        );
        assert_eq!(got, want, "allgather");

        let s = data(me, 4, blk * n);
        let (mut want, mut got) = (vec![0u8; blk * n], vec![0u8; blk * n]);
        k.alltoall(&s, &mut want).unwrap();
        bg(
            k,
            Background::Alltoall {
                send: sbuf(&s),
                recv: rbuf(&mut got),
            },
        );
        assert_eq!(got, want, "alltoall");

        // Uneven blocks with gaps: rank i's block is i + 1 bytes at 4 * i + 1.
        let list = BlockList {
            counts: (0..n).map(|i| i + 1).collect(),
            displs: (0..n).map(|i| 4 * i + 1).collect(),
        };
        let span = 4 * n + 1;
        let own = data(me, 5, me + 1);
        let (mut want, mut got) = (vec![0u8; span], vec![0u8; span]);
        let b = list.blocks();
        k.gatherv(&own, (me == root).then(|| (&mut want[..], b)), root)
            .unwrap();
        let recv = (me == root).then(|| (rbuf(&mut got), list.clone()));
        bg(
            k,
            Background::Gatherv {
                send: sbuf(&own),
                recv,
                root,
            },
        );
        assert_eq!(got, want, "gatherv");

        let src = data(8, 6, span);
        let (mut want, mut got) = (vec![0u8; me + 1], vec![0u8; me + 1]);
        k.scatterv((me == root).then(|| (&src[..], b)), &mut want, root)
            .unwrap();
        let send = (me == root).then(|| (sbuf(&src), list.clone()));
        bg(
            k,
            Background::Scatterv {
                send,
                recv: rbuf(&mut got),
                root,
            },
        );
        assert_eq!(got, want, "scatterv");

        let (mut want, mut got) = (vec![0u8; span], vec![0u8; span]);
        k.allgatherv(&own, &mut want, b).unwrap();
        let blocks = list.clone();
        bg(
            k,
            Background::Allgatherv {
                send: sbuf(&own),
                recv: rbuf(&mut got),
                blocks,
            },
        );
        assert_eq!(got, want, "allgatherv");

        // Alltoallv: rank i sends rank j (i + j) % 3 + 1 bytes.
        let sc: Vec<usize> = (0..n).map(|j| (me + j) % 3 + 1).collect();
        let sd = fmi::collective::shape::packed(&sc);
        let s = data(me, 7, sc.iter().sum());
        let rc: Vec<usize> = (0..n).map(|i| (i + me) % 3 + 1).collect();
        let rd: Vec<usize> = (0..n).map(|i| 4 * i).collect();
        let (mut want, mut got) = (vec![0u8; 4 * n], vec![0u8; 4 * n]);
        k.alltoallv(&s, Blocks::new(&sc, &sd), &mut want, Blocks::new(&rc, &rd))
            .unwrap();
        let sblocks = BlockList {
            counts: sc.clone(),
            displs: sd.clone(),
        };
        let rblocks = BlockList {
            counts: rc.clone(),
            displs: rd.clone(),
        };
        let (send, recv) = (sbuf(&s), rbuf(&mut got));
        bg(
            k,
            Background::Alltoallv {
                send,
                sblocks,
                recv,
                rblocks,
            },
        );
        assert_eq!(got, want, "alltoallv");

        // Reductions with a non-commutative operator: the digits of the ranks in order.
        let (t, op) = (Datatype::UInt8, digits());
        let v = vec![me as u8 + 1; 3];
        let mut got = vec![0u8; 3];
        let recv = (me == root).then(|| rbuf(&mut got));
        let red = Background::Reduce {
            send: sbuf(&v),
            recv,
            t,
            op: op.clone(),
            root,
        };
        bg(k, red);
        if me == root {
            assert_eq!(got, vec![123; 3], "reduce");
        }
        let mut got = vec![0u8; 3];
        let (send, recv) = (Some(sbuf(&v)), rbuf(&mut got));
        bg(
            k,
            Background::Allreduce {
                send,
                recv,
                t,
                op: op.clone(),
            },
        );
        assert_eq!(got, vec![123; 3], "allreduce");
        let mut got = vec![0u8; 3];
        bg(
            k,
            Background::Scan {
                send: sbuf(&v),
                recv: rbuf(&mut got),
                t,
                op: op.clone(),
            },
        );
        assert_eq!(got, vec![[1, 12, 123][me]; 3], "scan");
        let mut got = vec![99u8; 3];
        bg(
            k,
            Background::Exscan {
                send: sbuf(&v),
                recv: rbuf(&mut got),
                t,
                op: op.clone(),
            },
        );
        assert_eq!(got, vec![[99, 1, 12][me]; 3], "exscan");

        let counts: Vec<usize> = (0..n).map(|i| i + 1).collect();
        let total: usize = counts.iter().sum();
        let v: Vec<u8> = (0..total).map(|e| (me + e) as u8 % 4 + 1).collect();
        let (mut want, mut got) = (vec![0u8; me + 1], vec![0u8; me + 1]);
        k.reduce_scatter(&v, &mut want, &counts, t, &op).unwrap();
        let (send, recv) = (sbuf(&v), rbuf(&mut got));
        let rs = Background::ReduceScatter {
            send,
            recv,
            counts,
            t,
            op: op.clone(),
            block: false,
        };
        bg(k, rs);
        assert_eq!(got, want, "reduce_scatter");

        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        let v: Vec<u8> = (0..2 * n).map(|e| (me * 10 + e) as u8).collect();
        let (mut want, mut got) = (vec![0u8; 2], vec![0u8; 2]);
        k.reduce_scatter_block(&v, &mut want, t, &sum).unwrap();
        let (send, recv) = (sbuf(&v), rbuf(&mut got));
        let counts = vec![2; n];
        let rs = Background::ReduceScatter {
            send,
            recv,
            counts,
            t,
            op: sum,
            block: true,
        };
        bg(k, rs);
        assert_eq!(got, want, "reduce_scatter_block");
        bg(k, Background::Barrier);
    });
}

#[test]
fn a_started_collective_does_not_hold_up_later_point_to_point() {
    // Rank 0 starts an allreduce and only then sends to rank 1, which enters the allreduce
    // after it received (a non-blocking collective matches non-blocking ones only): had the start run the allreduce to completion, neither would go on.
    common::run_peers(2, |k| {
        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        let mut got = [0u8; 4];
        let v = [k.rank() as u8 + 1; 4];
        if k.rank() == 0 {
            let send = Some(sbuf(&v));
            let recv = rbuf(&mut got);
            let t = Datatype::UInt8;
            let mut r = k
                .istart(Background::Allreduce {
                    send,
                    recv,
                    t,
                    op: sum,
                })
                .unwrap();
            k.send_tagged(b"go", 1, 3).unwrap();
            let mut back = [0u8; 2];
            k.recv_tagged(&mut back, Source::Rank(1), TagSel::Tag(4))
                .unwrap();
            assert_eq!(&back, b"ok");
            r.wait().unwrap();
        } else {
            let mut go = [0u8; 2];
            k.recv_tagged(&mut go, Source::Rank(0), TagSel::Tag(3))
                .unwrap();
            k.send_tagged(b"ok", 0, 4).unwrap();
            let (send, recv, t) = (Some(sbuf(&v)), rbuf(&mut got), Datatype::UInt8);
            let c = Background::Allreduce {
                send,
                recv,
                t,
                op: sum,
            };
            k.istart(c).unwrap().wait().unwrap();
        }
        assert_eq!(got, [3; 4]);
    });
}
