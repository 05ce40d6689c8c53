//! The non-blocking dup (`Communicator::idup`) on the direct channel: several in flight at once,
//! overlapping a blocking dup and split on the caller's thread (both allocate context ids at
//! once on every member), interleaved with other non-blocking collectives; every new
//! communicator has a context id of its own, the same on every member, and works.

mod common;

use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};
use std::collections::HashSet;
use std::time::Duration;

fn sum_i64(c: &mut Communicator, v: i64) -> i64 {
    let mut b = v.to_le_bytes();
    c.allreduce_in_place(&mut b, Datatype::Int64, &ReduceOp::builtin(BuiltinOp::Sum))
        .unwrap();
    i64::from_le_bytes(b)
}

/// Checks that `d` works and has the same context id on every member (its ids summed equal
/// size x own id), returns the id.
fn check(d: &mut Communicator, n: usize, parent_rank: usize) -> u32 {
    assert_eq!(d.size(), n);
    assert_eq!(d.rank(), parent_rank);
    let id = d.context_id();
    assert_eq!(sum_i64(d, i64::from(id)), n as i64 * i64::from(id));
    assert_eq!(sum_i64(d, d.rank() as i64), (n * (n - 1) / 2) as i64);
    id
}

#[test]
fn idups_in_flight_overlap_blocking_dup_and_split() {
    for n in [2usize, 3, 4] {
        common::run_peers(n, |c| {
            c.set_timeout(Duration::from_secs(30)).unwrap();
            let me = c.rank();
            let mut a = c.idup().unwrap();
            let mut bar = c.ibarrier().unwrap();
            let mut b = c.idup().unwrap();
            // While they run on the worker, a blocking dup and split allocate ids on this
            // thread (the same order on every member: on the direct channel a blocking receive
            // that waits for a peer still waiting for a non-blocking collective stalls both).
            let mut order = Vec::new();
            let mut blocking = c.dup().unwrap();
            let mut half = c.split((me % 2) as i32, 0).unwrap().unwrap();
            let mut z = c.idup().unwrap();
            a.request().wait().unwrap();
            bar.wait().unwrap();
            b.request().wait().unwrap();
            z.request().wait().unwrap();
            let mut da = c.finish_dup(a).unwrap();
            let mut db = c.finish_dup(b).unwrap();
            let mut dz = c.finish_dup(z).unwrap();
            for d in [&mut da, &mut db, &mut dz, &mut blocking] {
                order.push(check(d, n, me));
            }
            let h = half.size();
            assert_eq!(sum_i64(&mut half, 1), h as i64);
            order.push(half.context_id());
            let distinct: HashSet<u32> = order.iter().copied().collect();
            assert_eq!(distinct.len(), order.len(), "context ids {order:?}");
            assert!(!distinct.contains(&c.context_id()));
            // Traffic on one duplicate never matches a receive on another.
            let peer = (me + 1) % n;
            let from = (me + n - 1) % n;
            let tag = 7;
            da.send_tagged(&[1u8; 4], peer, tag).unwrap();
            db.send_tagged(&[2u8; 4], peer, tag).unwrap();
            let mut got = [0u8; 4];
            db.recv_tagged(&mut got, fmi::Source::Rank(from), fmi::TagSel::Tag(tag))
                .unwrap();
            assert_eq!(got, [2u8; 4]);
            da.recv_tagged(&mut got, fmi::Source::Rank(from), fmi::TagSel::Tag(tag))
                .unwrap();
            assert_eq!(got, [1u8; 4]);
            for d in [da, db, dz, blocking, half] {
                d.free().unwrap();
            }
            // Freed ids return: an idup after the frees gets one of them again.
            let mut again = c.idup().unwrap();
            again.request().wait().unwrap();
            let mut d = c.finish_dup(again).unwrap();
            assert!(distinct.contains(&check(&mut d, n, me)));
            d.free().unwrap();
        });
    }
}

#[test]
fn finish_dup_checks_its_input() {
    common::run_peers(2, |c| {
        let mut p = c.idup().unwrap();
        let other = c.dup().unwrap();
        p.request().wait().unwrap();
        let e = other.finish_dup(p).unwrap_err();
        assert_eq!(e.kind(), fmi::ErrorKind::InvalidArg, "{e}");
        // The dropped dup's id went back: the next idup gets the highest id again.
        let mut q = c.idup().unwrap();
        q.request().wait().unwrap();
        let mut d = c.finish_dup(q).unwrap();
        assert_eq!(d.context_id(), 2047);
        assert_eq!(sum_i64(&mut d, 1), 2);
        d.free().unwrap();
        other.free().unwrap();
    });
}
