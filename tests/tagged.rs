//! Tagged point-to-point messages on the direct channel: non-overtaking, wildcards, probe,
//! truncation, the unexpected-message bound, bad input, and interleaving with collectives.

mod common;

use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp, Source, TagSel, TAG_UB};
use std::collections::HashSet;
use std::time::Duration;

/// A message body: sender, index, then filler up to `len` bytes (at least 8).
fn body(sender: usize, i: u32, len: usize) -> Vec<u8> {
    let mut v = vec![(i % 251) as u8; len.max(8)];
    v[0..4].copy_from_slice(&(sender as u32).to_le_bytes());
    v[4..8].copy_from_slice(&i.to_le_bytes());
    v
}

fn parse(b: &[u8]) -> (usize, u32) {
    (
        u32::from_le_bytes(b[0..4].try_into().unwrap()) as usize,
        u32::from_le_bytes(b[4..8].try_into().unwrap()),
    )
}

fn kind<T: std::fmt::Debug>(r: fmi::Result<T>) -> ErrorKind {
    r.unwrap_err().kind()
}

fn run_with(n: usize, unexpected: usize, f: impl Fn(&mut Communicator) + Sync) {
    let server = common::start_server();
    let mut cfg = common::config_for(&server);
    cfg.comm.unexpected_bytes = unexpected;
    common::run_named(&cfg, &common::unique_name("tagged"), n, true, f);
}

#[test]
fn non_overtaking_under_many_tags() {
    const N: u32 = 200;
    const TAGS: u32 = 7;
    common::run_peers(4, |c| {
        let me = c.rank();
        if me < 3 {
            for i in 0..N {
                c.send_tagged(&body(me, i, 16 + (i as usize % 5) * 8), 3, i % TAGS)
                    .unwrap();
            }
        } else {
            // Tags in a scrambled order; odd positions from a named source, even ones from any.
            for (k, tag) in [3u32, 0, 6, 1, 5, 2, 4].into_iter().enumerate() {
                let per_sender = (0..N).filter(|i| i % TAGS == tag).count();
                let mut last = [None::<u32>; 3];
                let mut buf = vec![0u8; 64];
                for j in 0..3 * per_sender {
                    let src = if k % 2 == 1 {
                        Source::Rank(j / per_sender)
                    } else {
                        Source::Any
                    };
                    let st = c.recv_tagged(&mut buf, src, TagSel::Tag(tag)).unwrap();
                    let (s, i) = parse(&buf);
                    assert_eq!((st.source, st.tag), (s, tag));
                    assert_eq!(i % TAGS, tag);
                    assert_eq!(st.bytes, 16 + (i as usize % 5) * 8);
                    assert!(
                        last[s].is_none_or(|l| l < i),
                        "sender {s}: {i} after {last:?}"
                    );
                    last[s] = Some(i);
                }
            }
            assert!(c.iprobe(Source::Any, TagSel::Any).unwrap().is_none());
        }
    });
}

#[test]
fn wildcard_receives_from_concurrent_senders_get_every_message_once() {
    const N: u32 = 150;
    common::run_peers(4, |c| {
        let me = c.rank();
        if me > 0 {
            for i in 0..N {
                let len = 8 + ((i as usize * 37 + me) % 3000);
                c.send_tagged(&body(me, i, len), 0, (i * 7 + me as u32) % 11)
                    .unwrap();
            }
        } else {
            let mut seen = HashSet::new();
            let mut last = [None::<u32>; 4];
            let mut buf = vec![0u8; 4096];
            for _ in 0..3 * N {
                let st = c.recv_tagged(&mut buf, Source::Any, TagSel::Any).unwrap();
                let (s, i) = parse(&buf);
                assert_eq!(st.source, s);
                assert_eq!(st.tag, (i * 7 + s as u32) % 11);
                assert_eq!(st.bytes, 8 + ((i as usize * 37 + s) % 3000));
                assert!(buf[8..st.bytes].iter().all(|&b| b == (i % 251) as u8));
                assert!(seen.insert((s, i)), "({s}, {i}) twice");
                assert!(last[s].is_none_or(|l| l < i));
                last[s] = Some(i);
            }
            assert_eq!(seen.len(), 3 * N as usize);
        }
    });
}

#[test]
fn probe_then_receive_a_message_of_unknown_size() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            c.barrier().unwrap();
            c.send_tagged(&body(0, 1, 12345), 1, 9).unwrap();
            c.send_tagged(&body(0, 2, 10), 1, 4).unwrap();
        } else {
            // Nothing is sent before the barrier.
            assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), None);
            c.barrier().unwrap();
            let st = c.probe(Source::Rank(0), TagSel::Tag(4)).unwrap();
            assert_eq!((st.source, st.tag, st.bytes), (0, 4, 10));
            let st = c.probe(Source::Any, TagSel::Any).unwrap();
            assert_eq!((st.source, st.tag, st.bytes), (0, 9, 12345));
            // Probing again finds the same message.
            assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), Some(st));
            let mut buf = vec![0u8; st.bytes];
            let got = c
                .recv_tagged(&mut buf, Source::Rank(st.source), TagSel::Tag(st.tag))
                .unwrap();
            assert_eq!(got, st);
            assert_eq!(buf, body(0, 1, 12345));
            let mut small = [0u8; 10];
            c.recv_tagged(&mut small, Source::Any, TagSel::Any).unwrap();
            assert_eq!(parse(&small), (0, 2));
        }
    });
}

#[test]
fn a_longer_message_is_a_truncation_error_and_is_consumed() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            c.send_tagged(&[1u8; 100], 1, 1).unwrap();
            c.send_tagged(&[2u8; 4], 1, 2).unwrap();
            c.barrier().unwrap();
            c.send_tagged(&[3u8; 5000], 1, 3).unwrap();
            c.send(&[4u8; 8], 1).unwrap();
        } else {
            let mut b = [0u8; 50];
            // Tag 2 first: tag 1 is buffered, then received (truncated) from the queue.
            let st = c
                .recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(2))
                .unwrap();
            assert_eq!(st.bytes, 4);
            assert_eq!(&b[..4], &[2u8; 4]);
            let e = c.recv_tagged(&mut b, Source::Any, TagSel::Any).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
            assert!(e.message().contains("100 bytes"), "{e}");
            assert_eq!(b, [1u8; 50]);
            c.barrier().unwrap();
            // Received as it arrives (straight from the connection).
            let e = c
                .recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(3))
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
            let mut p = [0u8; 8];
            c.recv(&mut p, 0).unwrap();
            assert_eq!(p, [4u8; 8]);
        }
    });
}

#[test]
fn unexpected_messages_over_the_bound_hold_the_sender_back_and_are_not_lost() {
    // 64 KiB of buffer; 40 messages of 256 KiB (10 MiB) sent before the receiver looks.
    run_with(2, 64 << 10, |c| {
        if c.rank() == 0 {
            for i in 0..40u32 {
                c.send_tagged(&body(0, i, 256 << 10), 1, i % 5).unwrap();
            }
            // Small ones within the bound, then a large one, then a small one.
            for t in 0..8u32 {
                c.send_tagged(&body(0, t, 1024), 1, t).unwrap();
            }
            c.send_tagged(&body(0, 99, 1 << 20), 1, 100).unwrap();
            c.send_tagged(&body(0, 7, 16), 1, 200).unwrap();
            c.send(&[5u8; 3], 1).unwrap();
        } else {
            std::thread::sleep(Duration::from_millis(300));
            let mut buf = vec![0u8; 256 << 10];
            for i in 0..40u32 {
                let st = c
                    .recv_tagged(&mut buf, Source::Rank(0), TagSel::Any)
                    .unwrap();
                assert_eq!((st.tag, st.bytes), (i % 5, 256 << 10));
                assert_eq!(buf, body(0, i, 256 << 10));
            }
            let mut small = vec![0u8; 1024];
            // Tag 7 first: 0..6 are buffered.
            c.recv_tagged(&mut small, Source::Rank(0), TagSel::Tag(7))
                .unwrap();
            assert_eq!(parse(&small), (0, 7));
            for t in (0..7u32).rev() {
                c.recv_tagged(&mut small, Source::Any, TagSel::Tag(t))
                    .unwrap();
                assert_eq!(parse(&small), (0, t));
            }
            let st = c.probe(Source::Any, TagSel::Any).unwrap();
            assert_eq!((st.tag, st.bytes), (100, 1 << 20));
            // The 1 MiB message is parked (over the bound): what is behind it cannot be received
            // first, and the receive says so at once instead of waiting for the timeout.
            let e = c.recv_tagged(&mut small, Source::Rank(0), TagSel::Tag(200));
            let e = e.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArg, "{e}");
            assert!(e.message().contains("unexpected-message buffer"), "{e}");
            let mut big = vec![0u8; 1 << 20];
            c.recv_tagged(&mut big, Source::Any, TagSel::Tag(100))
                .unwrap();
            assert_eq!(big, body(0, 99, 1 << 20));
            c.recv_tagged(&mut small, Source::Any, TagSel::Tag(200))
                .unwrap();
            let mut p = [0u8; 3];
            c.recv(&mut p, 0).unwrap();
            assert_eq!(p, [5u8; 3]);
        }
    });
}

#[test]
fn bad_input_gives_invalid_arg() {
    common::run_peers(2, |c| {
        let me = c.rank();
        let other = 1 - me;
        let mut b = [0u8; 4];
        assert_eq!(
            kind(c.send_tagged(&b, other, TAG_UB + 1)),
            ErrorKind::InvalidArg
        );
        assert_eq!(kind(c.send_tagged(&b, 2, 0)), ErrorKind::InvalidArg);
        assert_eq!(kind(c.send_tagged(&b, me, 0)), ErrorKind::InvalidArg);
        let big = TagSel::Tag(TAG_UB + 1);
        assert_eq!(
            kind(c.recv_tagged(&mut b, Source::Any, big)),
            ErrorKind::InvalidArg
        );
        let far = Source::Rank(7);
        assert_eq!(
            kind(c.recv_tagged(&mut b, far, TagSel::Any)),
            ErrorKind::InvalidArg
        );
        assert_eq!(
            kind(c.probe(Source::Rank(me), TagSel::Any)),
            ErrorKind::InvalidArg
        );
        assert_eq!(kind(c.iprobe(Source::Any, big)), ErrorKind::InvalidArg);
        let mut r = [0u8; 4];
        let e = c.sendrecv(&b, me, 0, &mut r, Source::Any, TagSel::Any);
        assert_eq!(kind(e), ErrorKind::InvalidArg);
        // The largest tag works.
        let st = c
            .sendrecv(
                &b,
                other,
                TAG_UB,
                &mut r,
                Source::Rank(other),
                TagSel::Tag(TAG_UB),
            )
            .unwrap();
        assert_eq!((st.source, st.tag, st.bytes), (other, TAG_UB, 4));
    });
}

#[test]
fn a_ring_of_large_sendrecvs_does_not_deadlock() {
    common::run_peers(3, |c| {
        let (me, n) = (c.rank(), c.size());
        let data = body(me, 0, 4 << 20);
        let mut buf = vec![0u8; 4 << 20];
        for round in 0..3u32 {
            let st = c
                .sendrecv(
                    &data,
                    (me + 1) % n,
                    round,
                    &mut buf,
                    Source::Any,
                    TagSel::Tag(round),
                )
                .unwrap();
            assert_eq!(st.source, (me + n - 1) % n);
            assert_eq!(buf, body(st.source, 0, 4 << 20));
        }
    });
}

#[test]
fn tagged_plain_and_collective_traffic_interleave() {
    common::run_peers(3, |c| {
        let (me, n) = (c.rank(), c.size());
        let (next, prev) = ((me + 1) % n, (me + n - 1) % n);
        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        for it in 0..20u32 {
            c.send_tagged(&body(me, it, 40), next, 5).unwrap();
            c.send(&body(me, it, 8), next).unwrap();
            c.send_tagged(&body(me, it, 24), next, it % 3).unwrap();
            let mine = (me as f64 + it as f64).to_le_bytes();
            let mut out = [0u8; 8];
            c.allreduce(&mine, &mut out, Datatype::Double, &sum)
                .unwrap();
            assert_eq!(f64::from_le_bytes(out), 3.0 + 3.0 * it as f64);
            // The plain message (tag 0) is behind tagged ones that went to the matcher.
            let mut p = [0u8; 8];
            c.recv(&mut p, prev).unwrap();
            assert_eq!(parse(&p), (prev, it));
            let mut b = [0u8; 64];
            let st = c
                .recv_tagged(&mut b, Source::Any, TagSel::Tag(it % 3))
                .unwrap();
            assert_eq!((st.source, st.bytes, parse(&b)), (prev, 24, (prev, it)));
            c.barrier().unwrap();
            let st = c
                .recv_tagged(&mut b, Source::Rank(prev), TagSel::Tag(5))
                .unwrap();
            assert_eq!((st.bytes, parse(&b)), (40, (prev, it)));
            let mut v = [it as u8; 4];
            c.bcast(&mut v, (it as usize) % n).unwrap();
        }
        assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), None);
    });
}

#[test]
fn a_receive_behind_a_collective_message_gets_its_message() {
    common::run_peers(2, |c| {
        let mut v = [0u8; 4];
        if c.rank() == 0 {
            v = [9, 8, 7, 6];
            c.bcast(&mut v, 0).unwrap();
            c.send_tagged(&[1, 2, 3], 1, 1).unwrap();
        } else {
            let mut b = [0u8; 3];
            // Peer 0's bcast message (a call this rank has not made yet) is ahead of the tagged
            // one: it is read ahead and kept for the bcast.
            c.recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(1))
                .unwrap();
            assert_eq!(b, [1, 2, 3]);
            c.bcast(&mut v, 0).unwrap();
            assert_eq!(v, [9, 8, 7, 6]);
        }
    });
}

#[test]
fn a_collective_message_over_the_bound_still_fails_at_once_and_recovers() {
    run_with(2, 16, |c| {
        let mut v = [0u8; 64];
        if c.rank() == 0 {
            c.bcast(&mut v, 0).unwrap();
            c.send_tagged(&[1, 2, 3], 1, 1).unwrap();
        } else {
            let start = std::time::Instant::now();
            let mut b = [0u8; 3];
            // 64 bytes do not fit a bound of 16: the bcast message stays ahead and the receive
            // cannot be served.
            let e = c
                .recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(1))
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArg, "{e}");
            assert!(e.message().contains("bcast"), "{e}");
            assert!(start.elapsed() < Duration::from_secs(5));
            c.bcast(&mut v, 0).unwrap();
            c.recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(1))
                .unwrap();
            assert_eq!(b, [1, 2, 3]);
        }
    });
}

#[test]
fn a_message_half_read_by_iprobe_is_still_the_next_one_received() {
    common::run_peers(2, |c| {
        let big = 48 << 20;
        if c.rank() == 0 {
            for round in 0..2u32 {
                c.send(&body(0, round, big), 1).unwrap();
                c.send_tagged(&body(0, 100 + round, 8), 1, 0).unwrap();
                c.barrier().unwrap();
            }
        } else {
            let mut buf = vec![0u8; big];
            let mut small = [0u8; 8];
            for round in 0..2u32 {
                // iprobe starts reading the large message into the unexpected queue, most likely
                // without finishing it.
                std::thread::sleep(Duration::from_millis(5));
                let _ = c.iprobe(Source::Any, TagSel::Tag(7)).unwrap();
                if round == 0 {
                    c.recv(&mut buf, 0).unwrap();
                } else {
                    let st = c
                        .recv_tagged(&mut buf, Source::Any, TagSel::Tag(0))
                        .unwrap();
                    assert_eq!(st.bytes, big);
                }
                assert_eq!(buf, body(0, round, big));
                let st = c
                    .recv_tagged(&mut small, Source::Rank(0), TagSel::Any)
                    .unwrap();
                assert_eq!((st.bytes, parse(&small)), (8, (0, 100 + round)));
                c.barrier().unwrap();
            }
        }
    });
}

#[test]
fn masked_tag_selectors_match_the_bits_under_the_mask_in_order() {
    // Bit 0 is a flag the selector ignores; bit 1 must be clear; the rest is the tag proper.
    let sel = |t: u32| TagSel::Masked {
        value: t << 2,
        mask: !1,
    };
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            for (i, tag) in [
                (5 << 2) | 1,
                5 << 2,
                (5 << 2) | 2,
                (6 << 2) | 1,
                (5 << 2) | 1,
            ]
            .into_iter()
            .enumerate()
            {
                c.send_tagged(&body(0, i as u32, 8), 1, tag).unwrap();
            }
        } else {
            let mut b = [0u8; 8];
            // Tag 5 with or without the flag, in the order sent; the message with bit 1 set
            // and the one of tag 6 stay for other selectors.
            for (want_i, want_tag) in [(0, (5 << 2) | 1), (1, 5 << 2), (4, (5 << 2) | 1)] {
                let st = c.recv_tagged(&mut b, Source::Rank(0), sel(5)).unwrap();
                assert_eq!((parse(&b).1, st.tag), (want_i, want_tag));
            }
            let st = c.recv_tagged(&mut b, Source::Any, sel(6)).unwrap();
            assert_eq!((parse(&b).1, st.tag), (3, (6 << 2) | 1));
            let st = c
                .recv_tagged(&mut b, Source::Any, TagSel::Tag((5 << 2) | 2))
                .unwrap();
            assert_eq!((parse(&b).1, st.tag), (2, (5 << 2) | 2));
            // A selector that can match no tag is refused.
            let bad = TagSel::Masked { value: 3, mask: 1 };
            assert_eq!(kind(c.iprobe(Source::Any, bad)), ErrorKind::InvalidArg);
        }
    });
}

#[test]
fn withdraw_takes_back_an_unmatched_receive_only() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            // Rank 1 has withdrawn its first receive when this arrives.
            let mut go = [0u8; 1];
            c.recv_tagged(&mut go, Source::Rank(1), TagSel::Tag(9))
                .unwrap();
            c.send_tagged(&body(0, 1, 8), 1, 3).unwrap();
            c.send_tagged(&body(0, 2, 8), 1, 4).unwrap();
        } else {
            let mut r = c.irecv(8, Source::Rank(0), TagSel::Tag(3)).unwrap();
            assert!(r.withdraw(), "nothing matched it yet");
            assert!(!r.is_active());
            c.send_tagged(&[1], 0, 9).unwrap();
            // The message it would have taken goes to the next receive, not lost.
            let mut b = [0u8; 8];
            c.recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(3))
                .unwrap();
            assert_eq!(parse(&b).1, 1);
            // A receive whose message has arrived (the probe waits for it) matches at once
            // and is not withdrawn: it completes.
            c.probe(Source::Rank(0), TagSel::Tag(4)).unwrap();
            let mut r = c.irecv(8, Source::Rank(0), TagSel::Tag(4)).unwrap();
            assert!(!r.withdraw(), "the message matched it");
            r.wait().unwrap();
            assert_eq!(parse(&r.take_buffer().unwrap()).1, 2);
        }
    });
}
