//! Non-blocking point-to-point on a store channel (Redis, S3), shared by `redis_nonblocking.rs`
//! and `s3_nonblocking.rs`: receives posted before the messages exist match in post order (with
//! wildcards, and ahead of a later blocking receive); a receive completes while its caller only
//! tests it (the progress thread reads the inbox); an exchange both ways of small and large
//! messages; a receive that times out is withdrawn and takes nothing.
#![allow(dead_code)]

use fmi::request::wait_all;
use fmi::{Communicator, ErrorKind, Source, TagSel};
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
