//! The MPI point-to-point engine on real peers (direct channel, loopback rendezvous server):
//! tags and wildcards, non-contiguous datatypes, truncation, synchronous sends that complete
//! only when matched, buffered sends and the attached buffer, messages to oneself, probes and
//! matched probes, cancellation of receives, persistent requests.

#[path = "../../tests/common/mod.rs"]
mod common;

use mpi_abi::engine::Class;
use mpi_abi::p2p::{bsend, CommRef, Endpoint, From, Mode, Req};
use mpi_abi::types::{Named, Type};
use parking_lot::Mutex;
use std::sync::Arc;

/// Runs `f` on `n` peers, each with an MPI endpoint on a duplicate of its communicator.
fn run(n: usize, f: impl Fn(&CommRef, &Arc<Endpoint>) + Sync) {
    common::run_peers(n, |c| {
        let comm: CommRef = Arc::new(Mutex::new(c.dup().unwrap()));
        let ep = Arc::new(Endpoint::default());
        f(&comm, &ep);
    });
}

fn int() -> Arc<Type> {
    Type::named(Named::Int)
}

fn rank(c: &CommRef) -> usize {
    c.lock().rank()
}

fn send(ep: &Endpoint, c: &CommRef, v: &[i32], dest: usize, tag: i32, mode: Mode) {
    unsafe { ep.send(c, v.as_ptr() as _, v.len() as u64, &int(), dest, tag, mode) }.unwrap()
}

fn recv(
    ep: &Endpoint,
    c: &CommRef,
    n: usize,
    src: From,
    tag: Option<i32>,
) -> (Vec<i32>, mpi_abi::p2p::Status) {
    let mut v = vec![0i32; n];
    let st = unsafe { ep.recv(c, v.as_mut_ptr() as _, n as u64, &int(), src, tag) }.unwrap();
    v.truncate(st.bytes as usize / 4);
    (v, st)
}

#[test]
fn tags_wildcards_and_truncation() {
    run(3, |c, ep| {
        let me = rank(c);
        if me > 0 {
            send(ep, c, &[me as i32, 1], 0, 7, Mode::Standard);
            send(ep, c, &[me as i32, 2, 2], 0, 8, Mode::Ready);
            send(ep, c, &[1; 5], 0, 9, Mode::Standard);
        } else {
            // Tag 8 first from each: the tag-7 messages wait.
            for _ in 0..2 {
                let (v, st) = recv(ep, c, 4, From::Any, Some(8));
                assert_eq!((v.len(), st.tag, v[0] as usize), (3, 8, st.source));
            }
            // Any tag from one source: its oldest message (non-overtaking).
            for src in [2, 1] {
                let (v, st) = recv(ep, c, 4, From::Rank(src), None);
                assert_eq!((st.tag, v[1], st.source), (7, 1, src));
            }
            // Five ints into room for four: truncation, and the message is consumed.
            let mut small = [0i32; 4];
            let e = unsafe {
                ep.recv(
                    c,
                    small.as_mut_ptr() as _,
                    4,
                    &int(),
                    From::Rank(1),
                    Some(9),
                )
            }
            .unwrap_err();
            assert_eq!(e.class, Class::Truncate);
            let (v, _) = recv(ep, c, 5, From::Rank(2), Some(9));
            assert_eq!(v, vec![1; 5]);
            let e = unsafe {
                ep.recv(
                    c,
                    small.as_mut_ptr() as _,
                    4,
                    &int(),
                    From::Rank(3),
                    Some(9),
                )
            }
            .unwrap_err();
            assert_eq!(e.class, Class::Rank);
            let e = unsafe { ep.recv(c, small.as_mut_ptr() as _, 4, &int(), From::Any, Some(-2)) }
                .unwrap_err();
            assert_eq!(e.class, Class::Tag);
        }
    });
}

#[test]
fn non_contiguous_datatypes_are_packed_and_unpacked() {
    run(2, |c, ep| {
        // Every other int of 8: a vector of 4 blocks of 1, stride 2.
        let v = Type::vector(4, 1, 2, &int(), false).unwrap();
        v.commit();
        if rank(c) == 0 {
            let src: Vec<i32> = (0..8).collect();
            unsafe { ep.send(c, src.as_ptr() as _, 1, &v, 1, 0, Mode::Standard) }.unwrap();
            send(ep, c, &[10, 11, 12, 13], 1, 1, Mode::Standard);
        } else {
            let (got, st) = recv(ep, c, 4, From::Rank(0), Some(0));
            assert_eq!((got, st.bytes), (vec![0, 2, 4, 6], 16));
            let mut dst = [-1i32; 8];
            let st = unsafe { ep.recv(c, dst.as_mut_ptr() as _, 1, &v, From::Rank(0), Some(1)) }
                .unwrap();
            assert_eq!(st.bytes, 16);
            assert_eq!(dst, [10, -1, 11, -1, 12, -1, 13, -1]);
        }
    });
}

#[test]
fn a_synchronous_send_completes_only_when_matched() {
    run(2, |c, ep| {
        if rank(c) == 0 {
            let data = [5i32; 3];
            let mut r =
                unsafe { Req::isend(ep, c, data.as_ptr() as _, 3, &int(), 1, 4, Mode::Sync) }
                    .unwrap();
            // Rank 1 receives only after "go": until then the send cannot complete.
            for _ in 0..20 {
                assert!(
                    r.progress(false).unwrap().is_none(),
                    "issend completed before a receive matched it"
                );
                std::thread::yield_now();
            }
            send(ep, c, &[1], 1, 99, Mode::Standard);
            assert!(r.progress(true).unwrap().is_some());
            // Blocking ssend: returns once rank 1 took it.
            send(ep, c, &[6; 2], 1, 5, Mode::Sync);
        } else {
            recv(ep, c, 1, From::Rank(0), Some(99));
            assert_eq!(recv(ep, c, 3, From::Rank(0), Some(4)).0, vec![5; 3]);
            assert_eq!(recv(ep, c, 2, From::Any, None).0, vec![6; 2]);
        }
    });
}

#[test]
fn buffered_sends_use_the_attached_buffer() {
    run(2, |c, ep| {
        if rank(c) == 0 {
            let e = unsafe { ep.send(c, [1i32].as_ptr() as _, 1, &int(), 1, 0, Mode::Buffered) }
                .unwrap_err();
            assert_eq!(e.class, Class::Buffer, "no buffer attached");
            let space = vec![0u8; bsend::OVERHEAD + 64];
            bsend::attach(space.as_ptr() as usize, space.len()).unwrap();
            let big = [3i32; 17];
            let e = unsafe { ep.send(c, big.as_ptr() as _, 17, &int(), 1, 0, Mode::Buffered) }
                .unwrap_err();
            assert_eq!(e.class, Class::Buffer, "68 bytes do not fit 64");
            {
                let mut msg = [7i32; 16];
                unsafe { ep.send(c, msg.as_ptr() as _, 16, &int(), 1, 0, Mode::Buffered) }.unwrap();
                // The send completed: the user's buffer may change at once.
                msg.fill(0);
            }
            let (addr, size) = bsend::detach().unwrap();
            assert_eq!((addr, size), (space.as_ptr() as usize, space.len()));
            assert_eq!(bsend::detach().unwrap(), (0, 0));
        } else {
            assert_eq!(recv(ep, c, 16, From::Rank(0), Some(0)).0, vec![7; 16]);
        }
    });
}

#[test]
fn messages_to_oneself() {
    run(2, |c, ep| {
        let me = rank(c);
        // Queued, then received (also through a wildcard).
        send(ep, c, &[1, 2], me, 3, Mode::Standard);
        send(ep, c, &[4], me, 5, Mode::Standard);
        assert_eq!(recv(ep, c, 2, From::Any, Some(5)).0, vec![4]);
        let (v, st) = recv(ep, c, 2, From::Rank(me), None);
        assert_eq!((v, st.source, st.tag), (vec![1, 2], me, 3));
        // A receive from any source posted first takes a later message to oneself.
        let mut buf = [0i32; 2];
        let mut r =
            unsafe { Req::irecv(ep, c, buf.as_mut_ptr() as _, 2, &int(), From::Any, Some(6)) }
                .unwrap();
        send(ep, c, &[8, 9], me, 6, Mode::Sync);
        let st = r.progress(true).unwrap().unwrap();
        assert_eq!((st.source, buf), (me, [8, 9]));
        // A synchronous send to oneself nobody receives could never complete: an error.
        let e =
            unsafe { ep.send(c, [1i32].as_ptr() as _, 1, &int(), me, 0, Mode::Sync) }.unwrap_err();
        assert_eq!(e.class, Class::Other);
        // Its non-blocking form completes when the receive comes.
        let one = [42i32];
        let mut s =
            unsafe { Req::isend(ep, c, one.as_ptr() as _, 1, &int(), me, 1, Mode::Sync) }.unwrap();
        assert!(s.progress(false).unwrap().is_none());
        assert_eq!(recv(ep, c, 1, From::Rank(me), Some(1)).0, vec![42]);
        assert!(s.progress(false).unwrap().is_some());
        // The refused synchronous send left nothing behind.
        assert!(ep.probe(c, From::Rank(me), None, false).unwrap().is_none());
    });
}

#[test]
fn probes_matched_probes_and_cancel() {
    run(2, |c, ep| {
        if rank(c) == 0 {
            send(ep, c, &[1, 2, 3], 1, 11, Mode::Standard);
            send(ep, c, &[4, 5], 1, 12, Mode::Sync);
            send(ep, c, &[6], 1, 13, Mode::Standard);
        } else {
            let st = ep.probe(c, From::Any, Some(11), true).unwrap().unwrap();
            assert_eq!((st.source, st.tag, st.bytes), (0, 11, 12));
            // A matched probe takes the message out of matching: a receive of tag 12 cannot
            // get it, the Mrecv does.
            let m = ep
                .mprobe(c, From::Rank(0), Some(12), true)
                .unwrap()
                .unwrap();
            assert_eq!(m.status.bytes, 8);
            assert!(ep.probe(c, From::Any, Some(12), false).unwrap().is_none());
            let mut two = [0i32; 2];
            unsafe { m.receive(two.as_mut_ptr() as _, 2, &int()) }.unwrap();
            assert_eq!(two, [4, 5]);
            assert_eq!(recv(ep, c, 3, From::Any, Some(11)).0, vec![1, 2, 3]);
            // A posted receive nothing matched is cancelled; the message goes to the next one.
            let mut buf = [0i32; 1];
            let mut r = unsafe {
                Req::irecv(
                    ep,
                    c,
                    buf.as_mut_ptr() as _,
                    1,
                    &int(),
                    From::Rank(0),
                    Some(14),
                )
            }
            .unwrap();
            r.cancel();
            assert!(r.progress(true).unwrap().unwrap().cancelled);
            assert_eq!(recv(ep, c, 1, From::Rank(0), Some(13)).0, vec![6]);
        }
    });
}

#[test]
fn persistent_requests_start_again() {
    run(2, |c, ep| {
        let mut buf = [0i32; 2];
        let mut r = if rank(c) == 0 {
            Req::send_init(ep, c, buf.as_ptr() as _, 2, &int(), 1, 2, Mode::Standard).unwrap()
        } else {
            Req::recv_init(
                ep,
                c,
                buf.as_mut_ptr() as _,
                2,
                &int(),
                From::Rank(0),
                Some(2),
            )
            .unwrap()
        };
        assert!(!r.is_active());
        for round in 0..3 {
            if rank(c) == 0 {
                buf = [round, round * 10];
            }
            unsafe { r.start() }.unwrap();
            assert_eq!(unsafe { r.start() }.unwrap_err().class, Class::Request);
            r.progress(true).unwrap().unwrap();
            if rank(c) == 1 {
                assert_eq!(buf, [round, round * 10]);
            }
        }
        // An inactive persistent request completes at once.
        assert!(r.progress(true).unwrap().is_some());
    });
}
