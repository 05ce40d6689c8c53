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
