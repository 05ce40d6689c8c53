//! A non-blocking collective overlapped with blocking ones, in orders that differ between the
//! peers (MPI allows it: a started collective must progress whatever the caller does next).
//! Shared by the direct, Redis and S3 tests (`tests/overlap_*.rs`).
#![allow(dead_code)]

use fmi::channel::request::RecvBuf;
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp, Source, TagSel};
use std::time::{Duration, Instant};

/// Short enough that a stall fails the test quickly, long enough for a loaded machine.
const BOUND: Duration = Duration::from_secs(10);

fn sum_i64(c: &mut Communicator, v: i64) -> i64 {
    let mut b = v.to_le_bytes();
    c.allreduce_in_place(&mut b, Datatype::Int64, &ReduceOp::builtin(BuiltinOp::Sum))
        .unwrap();
    i64::from_le_bytes(b)
}

/// Even ranks start an ibarrier, wait for it, then dup; odd ranks start it, dup, then wait.
/// The odd ranks' dup needs the even ranks', which comes only after the ibarrier ended: the
/// barrier must progress while the odd ranks block in the dup.
pub fn ibarrier_then_dup_in_either_order(c: &mut Communicator) {
    c.set_timeout(BOUND).unwrap();
    let me = c.rank();
    for round in 0..3 {
        let t0 = Instant::now();
        let mut r = c.ibarrier().unwrap();
        let mut d = if me % 2 == 0 {
            r.wait()
                .unwrap_or_else(|e| panic!("rank {me} round {round}: ibarrier: {e}"));
            c.dup()
                .unwrap_or_else(|e| panic!("rank {me} round {round}: dup: {e}"))
        } else {
            let d = c
                .dup()
                .unwrap_or_else(|e| panic!("rank {me} round {round}: dup: {e}"));
            r.wait()
                .unwrap_or_else(|e| panic!("rank {me} round {round}: ibarrier: {e}"));
            d
        };
        assert!(
            t0.elapsed() < BOUND,
            "round {round} took {:?}",
            t0.elapsed()
        );
        let n = d.size() as i64;
        assert_eq!(sum_i64(&mut d, 1), n, "allreduce on the dup");
        d.free().unwrap();
    }
}

/// Even ranks start an iallreduce, wait for it, then run a blocking allreduce; odd ranks run the
/// blocking allreduce between the start and the wait. Both results are checked.
pub fn iallreduce_then_allreduce_in_either_order(c: &mut Communicator) {
    c.set_timeout(BOUND).unwrap();
    let (me, n) = (c.rank(), c.size() as i64);
    let op = ReduceOp::builtin(BuiltinOp::Sum);
    for round in 0..3i64 {
        let mut bg = (me as i64 + round).to_le_bytes();
        // SAFETY: `bg` is not touched until the request completed.
        let recv = unsafe { RecvBuf::new(bg.as_mut_ptr(), bg.len()) };
        let mut r = c.iallreduce(None, recv, Datatype::Int64, &op).unwrap();
        let blocking = if me % 2 == 0 {
            r.wait().unwrap();
            sum_i64(c, 10)
        } else {
            let s = sum_i64(c, 10);
            r.wait().unwrap();
            s
        };
        assert_eq!(blocking, 10 * n);
        assert_eq!(i64::from_le_bytes(bg), n * (n - 1) / 2 + round * n);
    }
}

/// Rank 0 starts an ibarrier, waits for it, then sends rank 1 a tagged message and probes for
/// its answer; rank 1 starts the ibarrier, probes and receives the message, answers, then waits
/// for the ibarrier: the barrier must progress while rank 1 blocks in its probe and receive.
/// Other ranks only take part in the barrier.
pub fn ibarrier_then_tagged_p2p_in_either_order(c: &mut Communicator) {
    c.set_timeout(BOUND).unwrap();
    let me = c.rank();
    for round in 0..3u8 {
        let mut r = c.ibarrier().unwrap();
        let msg = [round, 7, 7];
        let mut got = [0u8; 3];
        match me {
            0 => {
                r.wait().unwrap();
                c.send_tagged(&msg, 1, 5).unwrap();
                let st = c.probe(Source::Rank(1), TagSel::Tag(6)).unwrap();
                assert_eq!(st.bytes, 3);
                c.recv_tagged(&mut got, Source::Rank(1), TagSel::Tag(6))
                    .unwrap();
                assert_eq!(got, [round, 8, 8]);
            }
            1 => {
                let st = c.probe(Source::Any, TagSel::Any).unwrap();
                assert_eq!((st.source, st.tag), (0, 5));
                c.recv_tagged(&mut got, Source::Rank(0), TagSel::Tag(5))
                    .unwrap_or_else(|e| panic!("rank 1 round {round}: recv: {e}"));
                assert_eq!(got, msg);
                c.send_tagged(&[round, 8, 8], 0, 6).unwrap();
                r.wait().unwrap();
            }
            _ => {
                r.wait().unwrap();
            }
        }
    }
}
