//! Where a non-blocking collective runs: on the thread that waits for it when it has not started
//! (`Request::wait`, `wait_all`), else on the communicator's worker; a collective nobody waits
//! for still progresses (asynchronous progress), and a wait that must return early (`wait_any`,
//! `wait_for`, `wait_on_worker`) never runs one.

mod common;

use fmi::request::{wait_all, wait_any};
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp, Source, TagSel};
use parking_lot::Mutex;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::Duration;

/// A sum of i64s that records the thread of every call.
fn recording_sum(seen: Arc<Mutex<Vec<ThreadId>>>) -> ReduceOp {
    let sum = ReduceOp::builtin(BuiltinOp::Sum);
    ReduceOp::user(
        Arc::new(move |acc: &mut [u8], next: &[u8], _n: usize, t: Datatype| {
            seen.lock().push(std::thread::current().id());
            sum.apply(acc, next, t);
        }),
        true,
        true,
    )
}

fn rbuf(v: &mut [u8]) -> fmi::channel::request::RecvBuf {
    // SAFETY: every request is completed before `v` goes; `v` is not touched until then.
    unsafe { fmi::channel::request::RecvBuf::new(v.as_mut_ptr(), v.len()) }
}

/// An allreduce of `me + 1` (as one i64, in place in `out`) with `op`, started now.
fn start_allreduce(c: &mut Communicator, op: &ReduceOp, out: &mut [u8; 8]) -> fmi::Request {
    *out = (c.rank() as i64 + 1).to_le_bytes();
    c.iallreduce(None, rbuf(out), Datatype::Int64, op).unwrap()
}

#[test]
fn a_collective_waited_for_at_once_runs_on_the_waiting_thread() {
    // The worker takes a job nobody claimed after a grace (1 ms): a caller that
    // is descheduled between the start and the wait leaves it to the worker (still correct).
    // So of 20 allreduces, at least one must have run here on every peer; before this change
    // none did (every one ran on the worker).
    const ROUNDS: usize = 20;
    let here = common::run_peers(2, |c| {
        let n = c.size() as i64;
        let mut inline = 0;
        for _ in 0..ROUNDS {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let op = recording_sum(seen.clone());
            let mut out = [0u8; 8];
            let mut r = start_allreduce(c, &op, &mut out);
            r.wait().unwrap();
            assert_eq!(i64::from_le_bytes(out), n * (n + 1) / 2);
            let seen = seen.lock();
            assert!(!seen.is_empty(), "the operator never ran on this peer");
            if seen.iter().all(|&t| t == std::thread::current().id()) {
                inline += 1;
            }
        }
        inline
    });
    assert!(
        here.iter().all(|&k| k > 0),
        "allreduces run on the waiting thread, of {ROUNDS} per peer: {here:?}"
    );
}

#[test]
fn wait_all_runs_the_queued_collectives_in_order_on_the_waiting_thread() {
    const ROUNDS: usize = 10;
    // Per peer: the rounds in which the operator ran here at all (at 3 peers a peer may only
    // send its contribution), and those in which it ran on the waiting thread only.
    let counts = common::run_peers(3, |c| {
        let n = c.size() as i64;
        let (mut ran, mut inline) = (0, 0);
        for _ in 0..ROUNDS {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let op = recording_sum(seen.clone());
            let mut outs = [[0u8; 8]; 3];
            let [a, b, d] = &mut outs;
            let mut reqs = vec![
                start_allreduce(c, &op, a),
                c.ibarrier().unwrap(),
                start_allreduce(c, &op, b),
                start_allreduce(c, &op, d),
            ];
            for r in wait_all(&mut reqs) {
                r.unwrap();
            }
            for o in outs {
                assert_eq!(i64::from_le_bytes(o), n * (n + 1) / 2);
            }
            let seen = seen.lock();
            if !seen.is_empty() {
                ran += 1;
                if seen.iter().all(|&t| t == std::thread::current().id()) {
                    inline += 1;
                }
            }
        }
        (ran, inline)
    });
    assert!(counts.iter().any(|&(ran, _)| ran > 0), "{counts:?}");
    assert!(
        counts.iter().all(|&(ran, inline)| ran == 0 || inline > 0),
        "(rounds in which the operator ran, of them on the waiting thread only), of {ROUNDS} per \
         peer: {counts:?}"
    );
}

#[test]
fn a_collective_nobody_waits_for_progresses_while_its_caller_blocks_on_the_same_communicator() {
    common::run_peers(2, |c| {
        let n = c.size() as i64;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let op = recording_sum(seen.clone());
        let mut out = [0u8; 8];
        if c.rank() == 0 {
            let mut r = start_allreduce(c, &op, &mut out);
            // The peer sends only after its allreduce ended, which needs this peer's part: the
            // worker must run it while this thread is blocked in the receive.
            let mut b = [0u8; 2];
            c.recv_tagged(&mut b, Source::Rank(1), TagSel::Tag(4))
                .unwrap();
            assert_eq!(&b, b"ok");
            r.wait().unwrap();
            let seen = seen.lock();
            assert!(!seen.is_empty());
            assert!(
                seen.iter().all(|&t| t != std::thread::current().id()),
                "the allreduce ran on the thread that was blocked in a receive"
            );
        } else {
            let mut r = start_allreduce(c, &op, &mut out);
            r.wait().unwrap();
            c.send_tagged(b"ok", 0, 4).unwrap();
        }
        assert_eq!(i64::from_le_bytes(out), n * (n + 1) / 2);
    });
}

#[test]
fn wait_any_over_a_barrier_and_a_receive_returns_with_the_receive() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            let mut reqs = vec![
                c.ibarrier().unwrap(),
                c.irecv(2, Source::Rank(1), TagSel::Tag(1)).unwrap(),
            ];
            // The peer enters the barrier only after the "go" below: a wait_any that ran the
            // barrier here would wait for it until the timeout.
            let (i, r) = wait_any(&mut reqs).unwrap();
            assert_eq!(i, 1);
            r.unwrap();
            c.send_tagged(b"go", 1, 2).unwrap();
            reqs[0].wait().unwrap();
        } else {
            c.send_tagged(b"hi", 0, 1).unwrap();
            let mut b = [0u8; 2];
            c.recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(2))
                .unwrap();
            c.ibarrier().unwrap().wait().unwrap();
        }
    });
}

#[test]
fn wait_for_and_wait_on_worker_leave_the_collective_to_the_worker() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            let mut r = c.ibarrier().unwrap();
            // The peer has not entered: a slice ends with the barrier still running.
            // (Run here, it would wait for the peer until the barrier's timeout, an error.)
            assert!(r.wait_for(Duration::from_millis(20)).unwrap().is_none());
            c.send_tagged(b"go", 1, 2).unwrap();
            r.wait().unwrap();
            // A wait on the worker gets the same result; the operator ran on the worker.
            let seen = Arc::new(Mutex::new(Vec::new()));
            let op = recording_sum(seen.clone());
            let mut out = [0u8; 8];
            let mut r = start_allreduce(c, &op, &mut out);
            r.wait_on_worker().unwrap();
            assert_eq!(i64::from_le_bytes(out), 3);
            assert!(seen
                .lock()
                .iter()
                .all(|&t| t != std::thread::current().id()));
        } else {
            let mut b = [0u8; 2];
            c.recv_tagged(&mut b, Source::Rank(0), TagSel::Tag(2))
                .unwrap();
            c.ibarrier().unwrap().wait().unwrap();
            let op = ReduceOp::builtin(BuiltinOp::Sum);
            let mut out = [0u8; 8];
            start_allreduce(c, &op, &mut out).wait().unwrap();
            assert_eq!(i64::from_le_bytes(out), 3);
        }
    });
}
