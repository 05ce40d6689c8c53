//! MPI semantics of tagged point-to-point messages on a store channel (Redis, S3), shared by
//! `redis_tagged.rs` and `s3_tagged.rs`: non-overtaking under many tags, wildcard receives fed
//! by several senders at once (every message exactly once), probe then receive of an unknown
//! size, truncation, bad input, send-receive rings, interleaving with plain and collective
//! traffic, the unexpected-message bound (payloads written back to the store) and clean-up.
//! `n` scales the message counts (small on S3, where every request is slow and billed).
#![allow(dead_code)]

use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp, Source, TagSel, TAG_UB};
use std::collections::HashSet;

/// Over the inline limit of an envelope (64 KiB): travels in a queue of its own.
pub const LARGE: usize = 70_000;

/// A message body: sender, index, then filler up to `len` bytes (at least 8).
pub fn body(sender: usize, i: u32, len: usize) -> Vec<u8> {
    let mut v = vec![(i % 251) as u8; len.max(8)];
    v[0..4].copy_from_slice(&(sender as u32).to_le_bytes());
    v[4..8].copy_from_slice(&i.to_le_bytes());
    v
}

pub fn parse(b: &[u8]) -> (usize, u32) {
    (
        u32::from_le_bytes(b[0..4].try_into().unwrap()) as usize,
        u32::from_le_bytes(b[4..8].try_into().unwrap()),
    )
}

fn kind<T: std::fmt::Debug>(r: fmi::Result<T>) -> ErrorKind {
    r.unwrap_err().kind()
}

/// Message `i` of a sender: mostly small, every 7th one large.
fn len_of(i: u32) -> usize {
    if i % 7 == 3 {
        LARGE + i as usize
    } else {
        16 + (i as usize % 5) * 8
    }
}

/// 4 peers: ranks 0-2 send `n` messages each to rank 3 over `tags` tags; rank 3 receives tag by
/// tag in a scrambled order, alternately from a named source and from any source.
pub fn non_overtaking_under_many_tags(c: &mut Communicator, n: u32, tags: u32) {
    let me = c.rank();
    if me < 3 {
        for i in 0..n {
            c.send_tagged(&body(me, i, len_of(i)), 3, i % tags).unwrap();
        }
    } else {
        let mut order: Vec<u32> = (0..tags).collect();
        order.reverse();
        order.swap(0, tags as usize / 2);
        for (k, tag) in order.into_iter().enumerate() {
            let per_sender = (0..n).filter(|i| i % tags == tag).count();
            let mut last = [None::<u32>; 3];
            let mut buf = vec![0u8; 2 * LARGE];
            for j in 0..3 * per_sender {
                let src = if k % 2 == 1 {
                    Source::Rank(j / per_sender)
                } else {
                    Source::Any
                };
                let st = c.recv_tagged(&mut buf, src, TagSel::Tag(tag)).unwrap();
                let (s, i) = parse(&buf);
                assert_eq!((st.source, st.tag), (s, tag));
                assert_eq!(i % tags, tag);
                assert_eq!(st.bytes, len_of(i));
                assert_eq!(buf[..st.bytes], body(s, i, len_of(i))[..]);
                assert!(
                    last[s].is_none_or(|l| l < i),
                    "sender {s}: {i} after {last:?}"
                );
                last[s] = Some(i);
            }
        }
        assert!(c.iprobe(Source::Any, TagSel::Any).unwrap().is_none());
    }
    c.barrier().unwrap();
}

/// 4 peers: ranks 1-3 send `n` messages each to rank 0 at the same time; rank 0 receives them
/// all with (any source, any tag): each exactly once, each sender's in order.
pub fn wildcard_receives_get_every_message_once(c: &mut Communicator, n: u32) {
    let me = c.rank();
    if me > 0 {
        for i in 0..n {
            let len = if i % 9 == 4 {
                LARGE
            } else {
                8 + ((i as usize * 37 + me) % 3000)
            };
            c.send_tagged(&body(me, i, len), 0, (i * 7 + me as u32) % 11)
                .unwrap();
        }
    } else {
        let mut seen = HashSet::new();
        let mut last = [None::<u32>; 4];
        let mut buf = vec![0u8; LARGE];
        for _ in 0..3 * n {
            let st = c.recv_tagged(&mut buf, Source::Any, TagSel::Any).unwrap();
            let (s, i) = parse(&buf);
            assert_eq!(st.source, s);
            assert_eq!(st.tag, (i * 7 + s as u32) % 11);
            assert!(buf[8..st.bytes].iter().all(|&b| b == (i % 251) as u8));
            assert!(seen.insert((s, i)), "({s}, {i}) twice");
            assert!(last[s].is_none_or(|l| l < i));
            last[s] = Some(i);
        }
        assert_eq!(seen.len(), 3 * n as usize);
        assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), None);
    }
    c.barrier().unwrap();
}

/// 2 peers: probe (blocking and not) describes a message without taking it; the receive sized
/// by the probe gets it.
pub fn probe_then_receive_a_message_of_unknown_size(c: &mut Communicator) {
    if c.rank() == 0 {
        c.barrier().unwrap();
        c.send_tagged(&body(0, 1, LARGE + 345), 1, 9).unwrap();
        c.send_tagged(&body(0, 2, 10), 1, 4).unwrap();
    } else {
        // Nothing is sent before the barrier.
        assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), None);
        c.barrier().unwrap();
        let st = c.probe(Source::Rank(0), TagSel::Tag(4)).unwrap();
        assert_eq!((st.source, st.tag, st.bytes), (0, 4, 10));
        let st = c.probe(Source::Any, TagSel::Any).unwrap();
        assert_eq!((st.source, st.tag, st.bytes), (0, 9, LARGE + 345));
        // Probing again finds the same message.
        assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), Some(st));
        let mut buf = vec![0u8; st.bytes];
        let got = c
            .recv_tagged(&mut buf, Source::Rank(st.source), TagSel::Tag(st.tag))
            .unwrap();
        assert_eq!(got, st);
        assert_eq!(buf, body(0, 1, LARGE + 345));
        // A larger buffer takes a shorter message; the status tells its size.
        let mut big = [0u8; 100];
        let st = c.recv_tagged(&mut big, Source::Any, TagSel::Any).unwrap();
        assert_eq!(st.bytes, 10);
        assert_eq!(parse(&big), (0, 2));
        assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), None);
    }
    c.barrier().unwrap();
}

/// 2 peers: a message longer than the buffer (inline or in its own queue) is `Truncated` and
/// consumed; what follows is received normally.
pub fn a_longer_message_is_a_truncation_error_and_is_consumed(c: &mut Communicator) {
    if c.rank() == 0 {
        c.send_tagged(&[1u8; 100], 1, 1).unwrap();
        c.send_tagged(&[2u8; 4], 1, 2).unwrap();
        c.send_tagged(&[3u8; LARGE], 1, 3).unwrap();
        c.send(&[4u8; 8], 1).unwrap();
        c.send_tagged(&[5u8; 6], 1, 3).unwrap();
    } else {
        let mut b = [0u8; 50];
        // Tag 2 first: tag 1 is passed over, then received (truncated) from the local list.
        let st = c
            .recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(2))
            .unwrap();
        assert_eq!(st.bytes, 4);
        assert_eq!(&b[..4], &[2u8; 4]);
        let e = c.recv_tagged(&mut b, Source::Any, TagSel::Any).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
        assert!(e.message().contains("100 bytes"), "{e}");
        let e = c
            .recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(3))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
        assert!(e.message().contains(&format!("{LARGE} bytes")), "{e}");
        let mut p = [0u8; 8];
        c.recv(&mut p, 0).unwrap();
        assert_eq!(p, [4u8; 8]);
        let st = c
            .recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(3))
            .unwrap();
        assert_eq!((st.bytes, &b[..6]), (6, &[5u8; 6][..]));
    }
    c.barrier().unwrap();
}

/// 2 peers: bad arguments are `InvalidArg` before anything is sent; the largest tag works.
pub fn bad_input_gives_invalid_arg(c: &mut Communicator) {
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
    assert_eq!(
        kind(c.recv_tagged(&mut b, Source::Rank(7), TagSel::Any)),
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
    assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), None);
    c.barrier().unwrap();
}

/// Every peer: a ring of send-receives (small and large), then `rounds` rounds that interleave
/// tagged, plain and collective traffic, then plain and tagged messages matched as tag 0.
pub fn rings_and_interleaving(c: &mut Communicator, rounds: u32) {
    let (me, n) = (c.rank(), c.size());
    let (next, prev) = ((me + 1) % n, (me + n - 1) % n);
    for (round, len) in [(0u32, 40usize), (1, LARGE)] {
        let data = body(me, round, len);
        let mut buf = vec![0u8; len];
        let st = c
            .sendrecv(
                &data,
                next,
                round,
                &mut buf,
                Source::Any,
                TagSel::Tag(round),
            )
            .unwrap();
        assert_eq!((st.source, st.bytes), (prev, len));
        assert_eq!(buf, body(prev, round, len));
    }
    let sum = ReduceOp::builtin(BuiltinOp::Sum);
    for it in 0..rounds {
        c.send_tagged(&body(me, it, 40), next, 5).unwrap();
        c.send(&body(me, it, 8), next).unwrap();
        c.send_tagged(&body(me, it, 24), next, it % 3).unwrap();
        let mine = (me as f64 + it as f64).to_le_bytes();
        let mut out = [0u8; 8];
        c.allreduce(&mine, &mut out, Datatype::Double, &sum)
            .unwrap();
        let want: f64 = (0..n).map(|r| (r as u32 + it) as f64).sum();
        assert_eq!(f64::from_le_bytes(out), want);
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
    }
    // Plain messages are tag 0 of the same matching: a plain send is received by a tagged
    // receive, a tagged send of tag 0 by a plain receive (which takes exactly its size).
    c.send(&body(me, 500, 12), next).unwrap();
    c.send_tagged(&body(me, 501, 16), next, 0).unwrap();
    c.send_tagged(&body(me, 502, 16), next, 0).unwrap();
    let mut b = [0u8; 64];
    let st = c.recv_tagged(&mut b, Source::Any, TagSel::Any).unwrap();
    assert_eq!((st.source, st.tag, st.bytes), (prev, 0, 12));
    assert_eq!(parse(&b), (prev, 500));
    let mut p = [0u8; 16];
    c.recv(&mut p, prev).unwrap();
    assert_eq!(parse(&p), (prev, 501));
    let mut wrong = [0u8; 20];
    assert_eq!(kind(c.recv(&mut wrong, prev)), ErrorKind::SizeMismatch);
    assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), None);
    c.barrier().unwrap();
}

/// 2 peers, with an unexpected-message bound of 1 KiB: rank 1 passes over `n` messages of 600
/// bytes to find the last one, so all but one of them go back to the store (`spilled` counts
/// the receiver's spill keys in the store while it holds them); then it receives them all in
/// order. A large one passed over stays in the store as it is. With `deleted_at_once`, the
/// store holds no spilled payload once all are received.
pub fn passed_over_messages_beyond_the_bound_stay_in_the_store(
    c: &mut Communicator,
    n: u32,
    spilled: &(dyn Fn() -> usize + Sync),
    deleted_at_once: bool,
) {
    if c.rank() == 0 {
        c.send_tagged(&body(0, 1000, LARGE), 1, 1).unwrap();
        for i in 0..n {
            c.send_tagged(&body(0, i, 600), 1, 1).unwrap();
        }
        c.send_tagged(&body(0, 99, 8), 1, 2).unwrap();
        c.barrier().unwrap();
    } else {
        let mut b = vec![0u8; LARGE];
        let st = c.recv_tagged(&mut b, Source::Any, TagSel::Tag(2)).unwrap();
        assert_eq!((st.bytes, parse(&b)), (8, (0, 99)));
        let held = spilled();
        assert_eq!(held, n as usize - 1, "payloads written back to the store");
        let st = c
            .recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(1))
            .unwrap();
        assert_eq!(st.bytes, LARGE);
        assert_eq!(b, body(0, 1000, LARGE));
        for i in 0..n {
            let st = c.recv_tagged(&mut b, Source::Any, TagSel::Any).unwrap();
            assert_eq!((st.tag, st.bytes), (1, 600));
            assert_eq!(b[..600], body(0, i, 600)[..]);
        }
        if deleted_at_once {
            assert_eq!(spilled(), 0, "spilled payloads are deleted once received");
        }
        assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), None);
        c.barrier().unwrap();
    }
}

/// 3 peers: messages that are never received (small, large, passed over or never looked at)
/// are gone after finalize (the caller checks the store).
pub fn messages_never_received(c: &mut Communicator) {
    let me = c.rank();
    if me != 2 {
        c.send_tagged(&body(me, 0, 10), 2, 1).unwrap();
        c.send_tagged(&body(me, 1, LARGE), 2, 2).unwrap();
        c.send_tagged(&body(me, 2, 10), 2, 3).unwrap();
        c.send_tagged(&body(me, 3, LARGE), (me + 1) % 2, 4).unwrap();
    }
    c.barrier().unwrap();
    if me == 2 {
        let mut b = [0u8; 10];
        let st = c
            .recv_tagged(&mut b, Source::Rank(1), TagSel::Tag(3))
            .unwrap();
        assert_eq!(st.bytes, 10);
    }
}
