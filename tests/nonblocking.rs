//! Non-blocking point-to-point on the direct channel: isend/irecv with wait, test, waitall,
//! waitany, testall and free; asynchronous progress (a receiver that does not call libfmi); the
//! order of posted receives; requests beside collectives and blocking calls; bad use.

mod common;

use fmi::request::{test_all, wait_all, wait_any};
use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp, Source, TagSel};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `len` bytes that depend on `seed` everywhere (so a misplaced block is noticed).
fn pattern(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

const BIG: usize = 64 << 20;

#[test]
fn both_peers_isend_64_mib_to_each_other_then_wait_for_all() {
    common::run_peers(2, |c| {
        let me = c.rank();
        let other = 1 - me;
        let mut reqs = vec![
            c.isend(pattern(me as u32, BIG), other, 5).unwrap(),
            c.irecv(BIG, Source::Rank(other), TagSel::Tag(5)).unwrap(),
        ];
        for r in wait_all(&mut reqs) {
            r.unwrap();
        }
        let got = reqs[1].take_buffer().unwrap();
        assert!(got == pattern(other as u32, BIG), "received data differs");
    });
}

#[test]
fn a_64_mib_isend_completes_while_the_receiver_computes_without_calling_libfmi() {
    let sent = AtomicBool::new(false);
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            c.barrier().unwrap();
            let mut r = c.isend(pattern(7, BIG), 1, 0).unwrap();
            // Completes only if the receiver's progress thread reads the message: the receiver
            // is busy below until this flag is set (or the test's bound runs out).
            r.wait().unwrap();
            sent.store(true, Ordering::SeqCst);
            c.barrier().unwrap();
        } else {
            let mut r = c.irecv(BIG, Source::Rank(0), TagSel::Tag(0)).unwrap();
            c.barrier().unwrap();
            let mut acc = 0u64;
            let give_up = std::time::Instant::now() + Duration::from_secs(60);
            while !sent.load(Ordering::SeqCst) {
                assert!(
                    std::time::Instant::now() < give_up,
                    "the isend never completed"
                );
                for i in 0..100_000u64 {
                    acc = acc.wrapping_mul(6364136223846793005).wrapping_add(i);
                }
            }
            std::hint::black_box(acc);
            let st = r.wait().unwrap();
            assert_eq!((st.source, st.tag, st.bytes), (0, 0, BIG));
            assert!(r.take_buffer().unwrap() == pattern(7, BIG));
            c.barrier().unwrap();
        }
    });
}

#[test]
fn posted_receives_match_in_post_order_and_with_wildcards() {
    common::run_peers(3, |c| {
        let me = c.rank();
        if me == 0 {
            // Posted before anything is sent: each message goes to the first posted receive that
            // matches it.
            let mut reqs = vec![
                c.irecv(64, Source::Any, TagSel::Tag(1)).unwrap(),
                c.irecv(64, Source::Rank(2), TagSel::Any).unwrap(),
                c.irecv(64, Source::Rank(1), TagSel::Tag(1)).unwrap(),
                c.irecv(64, Source::Any, TagSel::Any).unwrap(),
            ];
            c.barrier().unwrap();
            let sts: Vec<_> = wait_all(&mut reqs)
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            let mut bufs: Vec<Vec<u8>> =
                reqs.iter_mut().map(|r| r.take_buffer().unwrap()).collect();
            for (st, b) in sts.iter().zip(bufs.iter_mut()) {
                b.truncate(st.bytes);
                assert_eq!((b[0] as usize, b[1] as u32), (st.source, st.tag));
            }
            // Rank 1 sends "a" then "b" with tag 1; rank 2 sends tag 3 then tag 4.
            assert_eq!(bufs[0][2], b'a');
            assert_eq!(bufs[1][2], b'c');
            assert_eq!(bufs[2][2], b'b');
            assert_eq!(bufs[3][2], b'd');
        } else if me == 1 {
            c.barrier().unwrap();
            c.send_tagged(&[1, 1, b'a'], 0, 1).unwrap();
            c.send_tagged(&[1, 1, b'b'], 0, 1).unwrap();
        } else {
            c.barrier().unwrap();
            c.send_tagged(&[2, 3, b'c', 0, 0], 0, 3).unwrap();
            c.send_tagged(&[2, 4, b'd'], 0, 4).unwrap();
        }
    });
}

#[test]
fn requests_progress_during_collectives_and_blocking_calls() {
    common::run_peers(3, |c| {
        let me = c.rank();
        let n = c.size();
        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        // Every rank posts receives from both others, then runs collectives while the messages
        // (sent after the first allreduce) arrive.
        let mut reqs: Vec<_> = (0..n)
            .filter(|&p| p != me)
            .map(|p| c.irecv(300_000, Source::Rank(p), TagSel::Tag(9)).unwrap())
            .collect();
        let mut x = (me as i64 + 1).to_le_bytes();
        c.allreduce_in_place(&mut x, Datatype::Int64, &sum).unwrap();
        assert_eq!(i64::from_le_bytes(x), 6);
        for p in (0..n).filter(|&p| p != me) {
            c.send_tagged(&pattern((me * 10 + p) as u32, 300_000), p, 9)
                .unwrap();
        }
        for _ in 0..5 {
            c.allreduce_in_place(&mut x, Datatype::Int64, &sum).unwrap();
        }
        c.barrier().unwrap();
        for (r, p) in reqs.iter_mut().zip((0..n).filter(|&p| p != me)) {
            let st = r.wait().unwrap();
            assert_eq!((st.source, st.bytes), (p, 300_000));
            assert!(r.take_buffer().unwrap() == pattern((p * 10 + me) as u32, 300_000));
        }
    });
}

#[test]
fn isends_keep_their_order_with_later_blocking_sends() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            let mut a = c.isend(pattern(1, 5 << 20), 1, 2).unwrap();
            let mut b = c.isend(pattern(2, 100), 1, 2).unwrap();
            c.send_tagged(&pattern(3, 10), 1, 2).unwrap();
            a.wait().unwrap();
            b.wait().unwrap();
        } else {
            let mut buf = vec![0u8; 5 << 20];
            for (seed, len) in [(1, 5 << 20), (2, 100), (3, 10)] {
                let st = c
                    .recv_tagged(&mut buf, Source::Rank(0), TagSel::Tag(2))
                    .unwrap();
                assert_eq!(st.bytes, len);
                assert!(buf[..len] == pattern(seed, len));
            }
        }
    });
}

#[test]
fn wait_any_and_test_all_report_each_request_once() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            let mut reqs: Vec<_> = (0..4)
                .map(|t| c.irecv(16, Source::Rank(1), TagSel::Tag(t)).unwrap())
                .collect();
            assert!(test_all(&mut reqs).is_none());
            c.barrier().unwrap();
            let mut seen = Vec::new();
            while let Some((i, r)) = wait_any(&mut reqs) {
                let st = r.unwrap();
                assert_eq!(st.tag, i as u32);
                seen.push(i);
            }
            seen.sort();
            assert_eq!(seen, vec![0, 1, 2, 3]);
            // All inactive now: each gives an error in its place.
            let again = test_all(&mut reqs).unwrap();
            assert!(again.iter().all(|r| r.is_err()));
        } else {
            c.barrier().unwrap();
            for t in [2u32, 0, 3, 1] {
                c.send_tagged(&[t as u8; 16], 0, t).unwrap();
            }
        }
    });
}

#[test]
fn bad_use_of_requests_gives_errors() {
    common::run_peers(2, |c| {
        let me = c.rank();
        let kind = |r: fmi::Result<_>| r.map(|_: fmi::MsgStatus| ()).unwrap_err().kind();
        // To self, to a rank out of range, a tag out of range.
        assert_eq!(
            c.isend(vec![1], me, 0).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        assert_eq!(
            c.irecv(1, Source::Rank(7), TagSel::Any).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        assert_eq!(
            c.isend(vec![1], 1 - me, u32::MAX).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        if me == 0 {
            let mut r = c.isend(vec![1, 2, 3], 1, 4).unwrap();
            r.wait().unwrap();
            // Waiting or testing twice.
            assert_eq!(kind(r.wait()), ErrorKind::InvalidArg);
            assert!(r.test().is_err());
            assert!(r.wait().unwrap_err().message().contains("not active"));
            c.barrier().unwrap();
        } else {
            // A receive that times out is cancelled, and does not take the later message.
            c.set_timeout(Duration::from_millis(300)).unwrap();
            let mut r = c.irecv(8, Source::Rank(0), TagSel::Tag(99)).unwrap();
            assert_eq!(kind(r.wait()), ErrorKind::Timeout);
            c.set_timeout(Duration::from_secs(30)).unwrap();
            let mut buf = [0u8; 3];
            let st = c
                .recv_tagged(&mut buf, Source::Rank(0), TagSel::Tag(4))
                .unwrap();
            assert_eq!((st.bytes, buf), (3, [1, 2, 3]));
            // A freed receive completes in the background; a truncated one reports it.
            let mut small = c.irecv(1, Source::Rank(0), TagSel::Any).unwrap();
            c.barrier().unwrap();
            let _ = &mut small;
            small.free();
        }
    });
}

#[test]
fn a_truncated_irecv_reports_it_and_the_stream_goes_on() {
    common::run_peers(2, |c: &mut Communicator| {
        if c.rank() == 0 {
            c.send_tagged(&pattern(1, 1000), 1, 0).unwrap();
            c.send_tagged(&pattern(2, 10), 1, 0).unwrap();
        } else {
            let mut a = c.irecv(100, Source::Rank(0), TagSel::Tag(0)).unwrap();
            let mut b = c.irecv(10, Source::Rank(0), TagSel::Tag(0)).unwrap();
            assert_eq!(a.wait().unwrap_err().kind(), ErrorKind::Truncated);
            b.wait().unwrap();
            assert!(b.take_buffer().unwrap() == pattern(2, 10));
        }
    });
}

fn sbuf(v: &[u8]) -> fmi::channel::request::SendBuf {
    // SAFETY: every test keeps its buffers until its requests completed.
    unsafe { fmi::channel::request::SendBuf::new(v.as_ptr(), v.len()) }
}

fn rbuf(v: &mut [u8]) -> fmi::channel::request::RecvBuf {
    // SAFETY: as above; the buffers are not touched while their request is active.
    unsafe { fmi::channel::request::RecvBuf::new(v.as_mut_ptr(), v.len()) }
}

fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_i64s(b: &[u8]) -> Vec<i64> {
    b.chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn an_ibarrier_completes_only_when_every_peer_entered_it() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            let mut r = c.ibarrier().unwrap();
            // The peer enters only after the message below.
            for _ in 0..100 {
                assert!(r.test().unwrap().is_none());
            }
            c.send_tagged(b"go", 1, 0).unwrap();
            r.wait().unwrap();
        } else {
            let mut b = [0u8; 2];
            c.recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(0))
                .unwrap();
            c.ibarrier().unwrap().wait().unwrap();
        }
    });
}

#[test]
fn non_blocking_collectives_overlap_point_to_point_and_give_the_blocking_results() {
    for n in [3, 4] {
        common::run_peers(n, |c| {
            let (me, n) = (c.rank(), c.size());
            let sum = ReduceOp::builtin(BuiltinOp::Sum);
            // A 1 MiB allreduce, a reduce, a broadcast, an allgather and an alltoall at once.
            let big: Vec<i64> = (0..(1 << 17)).map(|i| i * (me as i64 + 1)).collect();
            let big_send = i64s(&big);
            let mut big_out = vec![0u8; big_send.len()];
            let small = i64s(&[me as i64, 10 * me as i64 + 1]);
            let mut red = vec![0u8; small.len()];
            let mut bc = if me == 1 {
                i64s(&[42, 43, 44])
            } else {
                vec![0u8; 24]
            };
            let mut gathered = vec![0u8; small.len() * n];
            let blocks: Vec<i64> = (0..n).map(|j| (me * 100 + j) as i64).collect();
            let a2a_send = i64s(&blocks);
            let mut a2a = vec![0u8; a2a_send.len()];
            let mut reqs = vec![
                c.iallreduce(
                    Some(sbuf(&big_send)),
                    rbuf(&mut big_out),
                    Datatype::Int64,
                    &sum,
                )
                .unwrap(),
                c.ireduce(
                    sbuf(&small),
                    (me == 0).then(|| rbuf(&mut red)),
                    Datatype::Int64,
                    &sum,
                    0,
                )
                .unwrap(),
                c.ibcast(rbuf(&mut bc), 1).unwrap(),
                c.iallgather(sbuf(&small), rbuf(&mut gathered)).unwrap(),
                c.ialltoall(sbuf(&a2a_send), rbuf(&mut a2a)).unwrap(),
            ];
            // Point-to-point meanwhile: a ring of tagged messages.
            let right = (me + 1) % n;
            let left = (me + n - 1) % n;
            let mut got = [0u8; 8];
            c.sendrecv(
                &(me as u64).to_le_bytes(),
                right,
                77,
                &mut got,
                Source::Rank(left),
                TagSel::Tag(77),
            )
            .unwrap();
            assert_eq!(u64::from_le_bytes(got), left as u64);
            for r in wait_all(&mut reqs) {
                r.unwrap();
            }
            let total: i64 = (1..=n as i64).sum();
            let out = from_i64s(&big_out);
            assert!(out.iter().enumerate().all(|(i, &x)| x == i as i64 * total));
            if me == 0 {
                let s: i64 = (0..n as i64).sum();
                assert_eq!(from_i64s(&red), vec![s, 10 * s + n as i64]);
            }
            assert_eq!(from_i64s(&bc), vec![42, 43, 44]);
            let want: Vec<i64> = (0..n as i64).flat_map(|r| [r, 10 * r + 1]).collect();
            assert_eq!(from_i64s(&gathered), want);
            let want: Vec<i64> = (0..n).map(|j| (j * 100 + me) as i64).collect();
            assert_eq!(from_i64s(&a2a), want);
            // And a blocking collective after them still lines up.
            let mut x = (me as i64).to_le_bytes();
            c.allreduce_in_place(&mut x, Datatype::Int64, &sum).unwrap();
            assert_eq!(i64::from_le_bytes(x), (0..n as i64).sum::<i64>());
        });
    }
}

#[test]
fn non_blocking_collectives_check_their_arguments() {
    common::run_peers(2, |c| {
        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        let mut a = [0u8; 8];
        let b = [0u8; 16];
        assert_eq!(
            c.iallreduce(Some(sbuf(&b)), rbuf(&mut a), Datatype::Int64, &sum)
                .unwrap_err()
                .kind(),
            ErrorKind::SizeMismatch
        );
        assert_eq!(
            c.ibcast(rbuf(&mut a), 2).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        assert_eq!(
            c.ireduce(sbuf(&b[..8]), None, Datatype::Int64, &sum, c.rank())
                .unwrap_err()
                .kind(),
            ErrorKind::NullArg
        );
        assert_eq!(
            c.ialltoall(sbuf(&b[..3]), rbuf(&mut a[..3]))
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArg
        );
        // Nothing was started: the peers' collectives still line up.
        c.ibarrier().unwrap().wait().unwrap();
    });
}

#[test]
fn non_blocking_collectives_on_split_communicators_stay_apart() {
    common::run_peers(4, |c| {
        let me = c.rank();
        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        // Even and odd ranks; both halves and the whole run an iallreduce at once.
        let mut half = c.split((me % 2) as i32, me as i32).unwrap().unwrap();
        let a = i64s(&[me as i64 + 1]);
        let mut a_out = vec![0u8; 8];
        let b = i64s(&[10 * (me as i64 + 1)]);
        let mut b_out = vec![0u8; 8];
        let mut reqs = vec![
            half.iallreduce(Some(sbuf(&a)), rbuf(&mut a_out), Datatype::Int64, &sum)
                .unwrap(),
            c.iallreduce(Some(sbuf(&b)), rbuf(&mut b_out), Datatype::Int64, &sum)
                .unwrap(),
        ];
        for r in wait_all(&mut reqs) {
            r.unwrap();
        }
        let mine: i64 = (0..4)
            .filter(|r| r % 2 == me % 2)
            .map(|r| r as i64 + 1)
            .sum();
        assert_eq!(from_i64s(&a_out), vec![mine]);
        assert_eq!(from_i64s(&b_out), vec![100]);
        half.free().unwrap();
    });
}

#[test]
fn a_blocking_collective_while_non_blocking_ones_are_in_flight() {
    for round in 0..3 {
        common::run_peers(4, |c| {
            let me = c.rank();
            let sum = ReduceOp::builtin(BuiltinOp::Sum);
            let a = i64s(&vec![me as i64 + 1; 4096]);
            let mut a_out = vec![0u8; a.len()];
            let mut bc = if me == 2 {
                i64s(&[7; 300])
            } else {
                vec![0u8; 2400]
            };
            let mut reqs = vec![
                c.iallreduce(Some(sbuf(&a)), rbuf(&mut a_out), Datatype::Int64, &sum)
                    .unwrap(),
                c.ibcast(rbuf(&mut bc), 2).unwrap(),
            ];
            // Its messages and the background ones share the connections in any order.
            let mut x = (me as i64 + round).to_le_bytes();
            c.allreduce_in_place(&mut x, Datatype::Int64, &sum).unwrap();
            assert_eq!(i64::from_le_bytes(x), 6 + 4 * round);
            for r in wait_all(&mut reqs) {
                r.unwrap();
            }
            assert!(from_i64s(&a_out).iter().all(|&v| v == 10));
            assert!(from_i64s(&bc).iter().all(|&v| v == 7));
        });
    }
}

#[test]
fn non_blocking_collectives_count_when_they_end() {
    common::run_peers(2, |c| {
        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        c.reset_counters();
        let a = i64s(&[1, 2, 3]);
        let mut out = vec![0u8; a.len()];
        let mut r = c
            .iallreduce(Some(sbuf(&a)), rbuf(&mut out), Datatype::Int64, &sum)
            .unwrap();
        r.wait().unwrap();
        c.ibarrier().unwrap().wait().unwrap();
        let k = c.counters(Some("direct")).unwrap();
        assert_eq!((k.operations, k.bytes, k.errors), (2, 24, 0), "{k:?}");
        assert_eq!(c.counters(None).unwrap(), k);
        // And in the algorithm counters: the allreduce's and the barrier's algorithms.
        let algs = c.algorithm_counts();
        let ops: u64 = algs.iter().map(|(_, k)| k.operations).sum();
        assert_eq!(ops, 2, "{algs:?}");
        c.reset_counters();
        assert_eq!(c.counters(None).unwrap().operations, 0);
        assert!(c.algorithm_counts().is_empty());
    });
}
