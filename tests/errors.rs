//! Failure paths: every one ends with a clear error within the timeout, never a hang or a crash.

mod common;

use fmi::{Communicator, Datatype, ErrorKind};
use std::time::{Duration, Instant};

#[test]
fn recv_without_sender_times_out_naming_the_peer() {
    common::run_peers(2, |c| {
        c.set_timeout(Duration::from_millis(200)).unwrap();
        if c.rank() == 0 {
            let start = Instant::now();
            let mut b = [0u8; 4];
            let e = c.recv(&mut b, 1).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout);
            assert!(e.message().contains("peer 1"), "{}", e.message());
            assert!(start.elapsed() < Duration::from_secs(2));
        } else {
            // Stay silent past the peer's timeout before finalizing.
            std::thread::sleep(Duration::from_millis(600));
        }
        c.set_timeout(Duration::from_secs(30)).unwrap();
    });
}

#[test]
fn size_mismatch_is_reported_and_stream_stays_usable() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            c.send(&[1u8; 16], 1).unwrap();
            c.send(&[7u8; 4], 1).unwrap();
        } else {
            let mut small = [0u8; 12];
            let e = c.recv(&mut small, 0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::SizeMismatch);
            assert!(e.message().contains("16 bytes"), "{}", e.message());
            let mut next = [0u8; 4];
            c.recv(&mut next, 0).unwrap();
            assert_eq!(next, [7u8; 4]);
        }
    });
}

#[test]
fn mismatched_collectives_fail_instead_of_mixing_data() {
    common::run_peers_with(2, false, |c| {
        c.set_timeout(Duration::from_millis(500)).unwrap();
        let mut buf = [0u8; 8];
        let r = if c.rank() == 0 {
            c.bcast(&mut buf, 0)
        } else {
            c.barrier()
        };
        if c.rank() == 1 {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArg, "{e}");
            assert!(e.message().contains("different order"), "{}", e.message());
        }
    });
}

#[test]
fn lost_peer_is_reported_promptly() {
    let server = common::start_server();
    let cfg = common::config_for(&server);
    let name = common::unique_name("lost");
    std::thread::scope(|s| {
        let cfg1 = cfg.clone();
        let n1 = name.clone();
        s.spawn(move || {
            let c = Communicator::new(1, 2, cfg1, &n1, 0).unwrap();
            drop(c); // dies without finalize
        });
        let mut c = Communicator::new(0, 2, cfg, &name, 0).unwrap();
        let start = Instant::now();
        let mut b = [0u8; 8];
        let e = c.recv(&mut b, 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PeerLost, "{e}");
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn init_times_out_when_a_peer_never_comes() {
    let server = common::start_server();
    let mut cfg = common::config_for(&server);
    cfg.comm.timeout = Duration::from_millis(700);
    let start = Instant::now();
    let e = Communicator::new(0, 3, cfg, &common::unique_name("absent"), 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("never registered"), "{}", e.message());
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[test]
fn unreachable_rendezvous_server_is_a_channel_error() {
    // A port nobody listens on (bind, read the port, close).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = fmi::Config::default();
    cfg.direct.as_mut().unwrap().port = port;
    cfg.comm.timeout = Duration::from_millis(500);
    let start = Instant::now();
    let e = Communicator::new(0, 2, cfg, "nobody-home", 0).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Channel | ErrorKind::Timeout),
        "{e}"
    );
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[test]
fn bad_arguments_in_the_rust_api() {
    common::run_peers(2, |c| {
        assert_eq!(c.send(&[0u8], 5).unwrap_err().kind(), ErrorKind::InvalidArg);
        assert_eq!(
            c.send(&[0u8], c.rank()).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        assert_eq!(
            c.bcast(&mut [0u8], 2).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        let op = fmi::ReduceOp::builtin(fmi::BuiltinOp::BAnd);
        let mut out = [0u8; 4];
        assert_eq!(
            c.allreduce(&[0u8; 4], &mut out, Datatype::Float, &op)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArg
        );
        let sum = fmi::ReduceOp::builtin(fmi::BuiltinOp::Sum);
        assert_eq!(
            c.allreduce(&[0u8; 6], &mut [0u8; 6], Datatype::Int32, &sum)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArg
        );
        assert_eq!(
            c.allreduce(&[0u8; 4], &mut [0u8; 8], Datatype::Int32, &sum)
                .unwrap_err()
                .kind(),
            ErrorKind::SizeMismatch
        );
        assert!(c.set_timeout(Duration::ZERO).is_err());
        // The communicator still works after refused calls.
        c.barrier().unwrap();
    });
    assert_eq!(
        Communicator::new(3, 2, fmi::Config::default(), "x", 0)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArg
    );
    assert_eq!(
        Communicator::new(0, 0, fmi::Config::default(), "x", 0)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArg
    );
    assert_eq!(
        Communicator::new(0, 1, fmi::Config::default(), "has space", 0)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArg
    );
}

#[test]
fn concurrent_communicators_in_one_process() {
    // Two groups of 3 at the same time, each summing its own values.
    let results: Vec<Vec<i64>> = std::thread::scope(|s| {
        let a = s.spawn(|| sum_group(10));
        let b = s.spawn(|| sum_group(1000));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    assert_eq!(results[0], vec![33; 3]);
    assert_eq!(results[1], vec![3003; 3]);
}

fn sum_group(base: i64) -> Vec<i64> {
    common::run_peers(3, move |c| {
        let mut v = (base + c.rank() as i64).to_ne_bytes();
        let op = fmi::ReduceOp::builtin(fmi::BuiltinOp::Sum);
        for _ in 0..20 {
            c.barrier().unwrap();
        }
        c.allreduce_in_place(&mut v, Datatype::Int64, &op).unwrap();
        i64::from_ne_bytes(v)
    })
}

/// Bad layouts and in-place misuse of the v-collectives fail at once with InvalidArg (or
/// SizeMismatch), before anything is sent, and the communicator stays usable.
#[test]
fn bad_v_collective_arguments_are_refused() {
    use fmi::collective::shape::Blocks;
    use fmi::{BuiltinOp, ReduceOp};
    common::run_peers(2, |c| {
        let r = c.rank();
        let invalid = |e: fmi::Error, what: &str| {
            assert_eq!(e.kind(), ErrorKind::InvalidArg, "{what}: {e}");
            e.message().to_string()
        };
        let mut recv = [0u8; 8];
        // A displacement beyond the buffer.
        let e = c
            .allgatherv(&[1; 4], &mut recv, Blocks::new(&[4, 4], &[0, 6]))
            .unwrap_err();
        let m = invalid(e, "beyond");
        assert!(m.contains("block 1") && m.contains("beyond"), "{m}");
        // Overlapping receive blocks.
        let e = c
            .allgatherv(&[1; 4], &mut recv, Blocks::new(&[4, 4], &[0, 2]))
            .unwrap_err();
        assert!(invalid(e, "overlap").contains("overlap"));
        // A block that overflows usize.
        let e = c
            .allgatherv(&[1; 4], &mut recv, Blocks::new(&[4, usize::MAX], &[0, 4]))
            .unwrap_err();
        invalid(e, "overflow");
        // Counts of another length than the peer count.
        let e = c
            .allgatherv(&[1; 4], &mut recv, Blocks::new(&[4], &[0]))
            .unwrap_err();
        invalid(e, "counts");
        // The own block of another size than the send buffer.
        let e = c
            .allgatherv(&[1; 3], &mut recv, Blocks::new(&[4, 4], &[0, 4]))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::SizeMismatch, "{e}");
        // Send blocks may overlap (alltoallv), receive blocks may not.
        let mut out = [0u8; 4];
        let e = c
            .alltoallv(
                &[1; 2],
                Blocks::new(&[2, 2], &[0, 0]),
                &mut out,
                Blocks::new(&[2, 2], &[0, 1]),
            )
            .unwrap_err();
        assert!(invalid(e, "alltoallv overlap").contains("receive buffer"));
        // In-place gather and scatter are the root's forms.
        let other = 1 - r;
        let e = c.gather_in_place(&mut recv, other).unwrap_err();
        assert!(invalid(e, "gather in place").contains("root"));
        let e = c
            .scatterv_in_place(&[0; 8], Blocks::new(&[4, 4], &[0, 4]), other)
            .unwrap_err();
        invalid(e, "scatterv in place");
        // Reduce-scatter counts that are not whole elements, or do not add up to the buffer.
        let op = ReduceOp::builtin(BuiltinOp::Sum);
        let e = c
            .reduce_scatter(&[0; 8], &mut [0; 3], &[3, 5], Datatype::Int32, &op)
            .unwrap_err();
        invalid(e, "reduce_scatter elements");
        let e = c
            .reduce_scatter(&[0; 12], &mut [0; 4], &[4, 4], Datatype::Int32, &op)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::SizeMismatch, "{e}");
        // Still usable: a real allgatherv.
        c.allgatherv(&[r as u8 + 1; 4], &mut recv, Blocks::new(&[4, 4], &[4, 0]))
            .unwrap();
        assert_eq!(recv, [2, 2, 2, 2, 1, 1, 1, 1]);
    });
}
