//! Non-blocking point-to-point on a store channel (Redis, S3), shared by `redis_nonblocking.rs`
//! and `s3_nonblocking.rs`: receives posted before the messages exist match in post order (with
//! wildcards, and ahead of a later blocking receive); a receive completes while its caller only
//! tests it (the progress thread reads the inbox); an exchange both ways of small and large
//! messages; a receive that times out is withdrawn and takes nothing. And the non-blocking
//! collectives on the store: every one at once, overlapping point-to-point and a blocking
//! collective, with the blocking results, on the communicator and on split halves at once,
//! counted when they end.
#![allow(dead_code)]

use fmi::channel::request::{RecvBuf, SendBuf};
use fmi::request::wait_all;
use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp, Source, TagSel};
use std::time::Duration;

/// Over the inline limit of an envelope (64 KiB): travels in a queue of its own.
const LARGE: usize = 70_000;

fn body(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
}

/// 3 peers: rank 0 posts four receives before anything is sent.
pub fn posted_receives_match_in_post_order(c: &mut Communicator) {
    let me = c.rank();
    if me == 0 {
        let mut reqs = vec![
            c.irecv(8, Source::Any, TagSel::Tag(1)).unwrap(),
            c.irecv(8, Source::Rank(2), TagSel::Any).unwrap(),
            c.irecv(8, Source::Rank(1), TagSel::Tag(1)).unwrap(),
        ];
        c.barrier().unwrap();
        // A blocking receive made while those are pending comes after them.
        let mut last = [0u8; 8];
        let st = c.recv_tagged(&mut last, Source::Any, TagSel::Any).unwrap();
        assert_eq!((st.source, last[0]), (2, b'd'));
        for r in wait_all(&mut reqs) {
            r.unwrap();
        }
        let got: Vec<u8> = reqs
            .iter_mut()
            .map(|r| r.take_buffer().unwrap()[0])
            .collect();
        assert_eq!(got, b"acb");
    } else if me == 1 {
        c.barrier().unwrap();
        c.send_tagged(b"a", 0, 1).unwrap();
        c.send_tagged(b"b", 0, 1).unwrap();
    } else {
        c.barrier().unwrap();
        c.send_tagged(b"c", 0, 3).unwrap();
        c.send_tagged(b"d", 0, 4).unwrap();
    }
}

/// 2 peers: each posts receives and sends small and large messages to the other, then waits for
/// all; then a receive completes while its caller only tests it.
pub fn exchange_and_background_progress(c: &mut Communicator) {
    let me = c.rank();
    let other = 1 - me;
    let mut reqs = vec![
        c.irecv(LARGE, Source::Rank(other), TagSel::Tag(7)).unwrap(),
        c.irecv(16, Source::Rank(other), TagSel::Tag(8)).unwrap(),
        c.isend(body(me as u8, LARGE), other, 7).unwrap(),
        c.isend(body(10 + me as u8, 16), other, 8).unwrap(),
    ];
    for r in wait_all(&mut reqs) {
        r.unwrap();
    }
    assert!(reqs[0].take_buffer().unwrap() == body(other as u8, LARGE));
    assert!(reqs[1].take_buffer().unwrap() == body(10 + other as u8, 16));
    if me == 0 {
        let mut r = c.irecv(4, Source::Any, TagSel::Any).unwrap();
        c.barrier().unwrap();
        // No other call: the progress thread must find the message.
        while r.test().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(r.take_buffer().unwrap(), b"done");
    } else {
        c.barrier().unwrap();
        c.send_tagged(b"done", 0, 2).unwrap();
    }
}

/// 2 peers: a receive that times out is withdrawn; the message sent later goes to the next one.
pub fn a_timed_out_receive_takes_nothing(c: &mut Communicator) {
    if c.rank() == 1 {
        c.set_timeout(Duration::from_millis(300)).unwrap();
        let mut r = c.irecv(4, Source::Rank(0), TagSel::Tag(5)).unwrap();
        assert_eq!(r.wait().unwrap_err().kind(), ErrorKind::Timeout);
        c.set_timeout(Duration::from_secs(30)).unwrap();
        c.barrier().unwrap();
        let mut b = [0u8; 4];
        let st = c
            .recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(5))
            .unwrap();
        assert_eq!((st.bytes, &b), (4, b"late"));
    } else {
        c.barrier().unwrap();
        c.send_tagged(b"late", 1, 5).unwrap();
    }
}

fn sbuf(v: &[u8]) -> SendBuf {
    // SAFETY: every test keeps its buffers until its requests completed.
    unsafe { SendBuf::new(v.as_ptr(), v.len()) }
}

fn rbuf(v: &mut [u8]) -> RecvBuf {
    // SAFETY: as above; the buffers are not touched while their request is active.
    unsafe { RecvBuf::new(v.as_mut_ptr(), v.len()) }
}

fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_i64s(b: &[u8]) -> Vec<i64> {
    b.chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// 2 peers: each isends 64 MiB to the other and irecvs the other's, then waits for both (the
/// issue's bidirectional exchange); then the receiver of a 64 MiB isend computes for a second
/// without calling libfmi before it waits.
pub fn bidirectional_64_mib(c: &mut Communicator) {
    const BIG: usize = 64 << 20;
    let me = c.rank();
    let other = 1 - me;
    let mut reqs = vec![
        c.irecv(BIG, Source::Rank(other), TagSel::Tag(64)).unwrap(),
        c.isend(body(me as u8, BIG), other, 64).unwrap(),
    ];
    for r in wait_all(&mut reqs) {
        r.unwrap();
    }
    assert!(reqs[0].take_buffer().unwrap() == body(other as u8, BIG));
    if me == 0 {
        let mut s = c.isend(body(3, BIG), 1, 65).unwrap();
        s.wait().unwrap();
    } else {
        let mut r = c.irecv(BIG, Source::Rank(0), TagSel::Tag(65)).unwrap();
        std::thread::sleep(Duration::from_secs(1));
        r.wait().unwrap();
        assert!(r.take_buffer().unwrap() == body(3, BIG));
    }
}

/// Every non-blocking collective at once (an allreduce over the inline limit), while a ring of
/// tagged messages and a blocking allreduce run; the results equal the blocking ones, and the
/// collectives count in the channel's and the algorithms' counters when they end.
pub fn collectives_in_background(c: &mut Communicator, channel: &str) {
    let (me, n) = (c.rank(), c.size());
    let sum = ReduceOp::builtin(BuiltinOp::Sum);
    c.reset_counters();
    let big: Vec<i64> = (0..(LARGE as i64 / 8 + 3))
        .map(|i| i * (me as i64 + 1))
        .collect();
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
        c.ibarrier().unwrap(),
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
    // Meanwhile: a ring of tagged messages and a blocking collective.
    let (right, left) = ((me + 1) % n, (me + n - 1) % n);
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
    let mut x = (me as i64).to_le_bytes();
    c.allreduce_in_place(&mut x, Datatype::Int64, &sum).unwrap();
    assert_eq!(i64::from_le_bytes(x), (0..n as i64).sum::<i64>());
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
    // Six non-blocking collectives, the blocking allreduce and the sendrecv.
    let k = c.counters(Some(channel)).unwrap();
    assert_eq!((k.operations, k.errors), (8, 0), "{k:?}");
    let algs: u64 = c.algorithm_counts().iter().map(|(_, k)| k.operations).sum();
    assert!(algs >= 7, "{:?}", c.algorithm_counts());
}

/// 4 peers: split halves and the whole communicator run an allreduce in the background at once;
/// the halves' keys stay apart from the whole's.
pub fn collectives_on_split_halves(c: &mut Communicator) {
    let me = c.rank();
    let sum = ReduceOp::builtin(BuiltinOp::Sum);
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
}
