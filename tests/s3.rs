//! The S3 channel against a real S3-compatible server (moto_server on loopback, started by the
//! harness): messages, clean-up after finalize, configuration and server failures.

mod s3_harness;

use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp};
use s3_harness::{run_named, run_peers, unique_name, S3Server};
use std::time::{Duration, Instant};

#[test]
fn send_recv_and_collectives() {
    let server = S3Server::start();
    let out = run_peers(&server.config(), 3, |c| {
        let (r, n) = (c.rank(), c.size());
        assert_eq!(c.channel_names(), vec!["s3"]);
        c.send(&[r as u8; 5], (r + 1) % n).unwrap();
        let mut got = [0u8; 5];
        c.recv(&mut got, (r + n - 1) % n).unwrap();
        assert_eq!(got, [((r + n - 1) % n) as u8; 5]);
        let mut b = if r == 1 {
            vec![9u8; 100]
        } else {
            vec![0u8; 100]
        };
        c.bcast(&mut b, 1).unwrap();
        assert_eq!(b, vec![9u8; 100]);
        c.barrier().unwrap();
        let mut sum = [0u8; 8];
        c.allreduce(
            &(r as u64 + 1).to_ne_bytes(),
            &mut sum,
            Datatype::UInt64,
            &ReduceOp::builtin(BuiltinOp::Sum),
        )
        .unwrap();
        u64::from_ne_bytes(sum)
    });
    assert_eq!(out, vec![6, 6, 6]);
}

/// After finalize the bucket holds no object of the run: every collective (objects for one
/// reader and for several), messages never received, a multipart message, and a failed
/// operation (which makes finalize list and delete the run's objects).
#[test]
fn finalize_leaves_no_object() {
    let server = S3Server::start();
    let cfg = server.config();
    let name = unique_name("clean");
    run_named(&cfg, &name, 4, true, |c| {
        let (r, n) = (c.rank(), c.size());
        let big = 9 << 20; // two parts
        let mut b = vec![r as u8; big];
        c.bcast(&mut b, 0).unwrap();
        let mut all = vec![0u8; 4 * n];
        c.allgather(&[r as u8; 4], &mut all).unwrap();
        let mut x = vec![1u8; 1 << 16];
        c.allreduce_in_place(&mut x, Datatype::UInt8, &ReduceOp::builtin(BuiltinOp::Sum))
            .unwrap();
        let mut s = [0u8; 4];
        c.scan(
            &[1u8; 4],
            &mut s,
            Datatype::UInt8,
            &ReduceOp::builtin(BuiltinOp::Sum),
        )
        .unwrap();
        c.barrier().unwrap();
        // Never received: a small and a multipart message.
        c.send(b"orphan", (r + 1) % n).unwrap();
        c.send(&vec![7u8; big], (r + 1) % n).unwrap();
    });
    let left = server.keys(&format!("fmi:{name}:"));
    assert!(left.is_empty(), "objects left: {left:?}");
    let name = unique_name("dirty");
    run_named(&cfg, &name, 3, true, |c| {
        if c.rank() == 0 {
            c.set_timeout(Duration::from_millis(300)).unwrap();
            assert!(c.recv(&mut [0u8; 4], 1).is_err());
            assert!(c
                .gather(&[0u8; 1 << 10], Some(&mut vec![0u8; 3 << 10]), 0)
                .is_err());
            c.set_timeout(Duration::from_secs(30)).unwrap();
        } else {
            std::thread::sleep(Duration::from_millis(800));
            c.gather(&[9u8; 1 << 10], None, 0).unwrap();
        }
        c.barrier().unwrap();
    });
    let left = server.keys(&format!("fmi:{name}:"));
    assert!(
        left.is_empty(),
        "objects left after a failed operation: {left:?}"
    );
    // The init protocol's objects (joins, answers) are gone too.
    let left = server.keys("fmi:");
    assert!(left.is_empty(), "objects left in the bucket: {left:?}");
}

/// Names ending in digits and concurrent communicators do not collide.
#[test]
fn names_and_concurrent_communicators() {
    let server = S3Server::start();
    let cfg = server.config();
    let base = unique_name("job");
    std::thread::scope(|s| {
        for (name, v) in [(format!("{base}1"), 1u8), (base.clone(), 2u8)] {
            let cfg = cfg.clone();
            s.spawn(move || {
                run_named(&cfg, &name, 2, true, |c| {
                    for _ in 0..3 {
                        let mut b = if c.rank() == 0 { [v; 16] } else { [0; 16] };
                        c.bcast(&mut b, 0).unwrap();
                        assert_eq!(b, [v; 16]);
                        c.send(&[v; 3], 1 - c.rank()).unwrap();
                        let mut got = [0u8; 3];
                        c.recv(&mut got, 1 - c.rank()).unwrap();
                        assert_eq!(got, [v; 3]);
                    }
                });
            });
        }
    });
}

/// Barriers back to back: every peer's counter increment is distinct (conditional writes), so
/// exactly one peer completes each barrier and wakes the others.
#[test]
fn barriers_in_a_row() {
    let server = S3Server::start();
    run_peers(&server.config(), 4, |c| {
        for _ in 0..25 {
            c.barrier().unwrap();
        }
    });
}

#[test]
fn wrong_size_and_order_are_reported() {
    let server = S3Server::start();
    run_peers(&server.config(), 2, |c| {
        if c.rank() == 0 {
            c.send(&[1u8; 10], 1).unwrap();
            c.send(&[2u8; 4], 1).unwrap();
        } else {
            let e = c.recv(&mut [0u8; 4], 0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::SizeMismatch, "{e}");
            // The queue stays usable: the next message arrives.
            let mut got = [0u8; 4];
            c.recv(&mut got, 0).unwrap();
            assert_eq!(got, [2u8; 4]);
        }
        c.barrier().unwrap();
    });
}

#[test]
fn missing_bucket_is_a_config_error() {
    let server = S3Server::start();
    let mut cfg = server.config();
    cfg.s3.as_mut().unwrap().bucket_name = "no-such-bucket-fmi".into();
    let t0 = Instant::now();
    let e = Communicator::new(0, 1, cfg, &unique_name("nobucket"), 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.message().contains("no-such-bucket-fmi"), "{e}");
    assert!(e.message().contains("NoSuchBucket"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[test]
fn unreachable_server_fails_within_the_timeout() {
    let mut server = S3Server::start();
    let mut cfg = server.config();
    server.kill();
    cfg.comm.timeout = Duration::from_secs(5);
    let t0 = Instant::now();
    let e = Communicator::new(0, 2, cfg, &unique_name("down"), 0).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Channel | ErrorKind::Timeout),
        "{e}"
    );
    assert!(e.message().contains("127.0.0.1"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(7), "{:?}", t0.elapsed());
}

/// The server stopped during a gather: every peer returns an error within the timeout, and so
/// does finalize.
#[test]
fn server_stopped_during_gather() {
    let mut server = S3Server::start();
    let mut cfg = server.config();
    cfg.comm.timeout = Duration::from_secs(4);
    let name = unique_name("stopped");
    let n = 4u32;
    let started = std::sync::Barrier::new(n as usize + 1);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|rank| {
                let (cfg, name, started) = (cfg.clone(), name.clone(), &started);
                s.spawn(move || {
                    let mut c = Communicator::new(rank, n, cfg, &name, 0).unwrap();
                    started.wait();
                    let mine = vec![rank as u8; 256 << 10];
                    let mut all = vec![0u8; (256 << 10) * n as usize];
                    let err = loop {
                        let start = Instant::now();
                        let r = c.gather(&mine, (rank == 0).then_some(&mut all[..]), 0);
                        match r {
                            Ok(()) => continue,
                            Err(e) => break (e, start.elapsed()),
                        }
                    };
                    let start = Instant::now();
                    let fin = c.finalize();
                    (err, fin, start.elapsed())
                })
            })
            .collect();
        started.wait();
        std::thread::sleep(Duration::from_millis(500));
        server.kill();
        for (rank, h) in hs.into_iter().enumerate() {
            let ((e, took), fin, fin_took) = h.join().unwrap();
            assert!(
                matches!(e.kind(), ErrorKind::Channel | ErrorKind::Timeout),
                "rank {rank}: {e}"
            );
            assert!(e.message().contains("gather"), "rank {rank}: {e}");
            assert!(took < Duration::from_secs(6), "rank {rank}: {took:?}");
            assert!(
                fin.is_err(),
                "rank {rank}: finalize succeeded without a server"
            );
            assert!(
                fin_took < Duration::from_secs(6),
                "rank {rank}: {fin_took:?}"
            );
        }
    });
}

/// A rank claim left by a run that crashed (its lease over) is taken over by the next process of
/// that rank, and of processes racing for it exactly one wins: the others are refused as for a
/// live claim (the takeover replaces only the lapsed version of the claim object).
#[test]
fn a_lapsed_rank_claim_is_taken_over_by_one_process() {
    let server = S3Server::start();
    let cfg = server.config();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // The claim body: owner, when claimed, when the lease ended (unix ms).
    let lapsed = format!(
        "{:016x} {} {}",
        0xdead_u64,
        now_ms - 120_000,
        now_ms - 60_000
    );
    for round in 0..4 {
        let name = unique_name(&format!("lapsed{round}"));
        server
            .admin()
            .put(&format!("fmi:{name}:rank:0"), lapsed.clone().into())
            .unwrap();
        // Eight processes start as rank 0 of a one-process communicator at once.
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    let (cfg, name) = (cfg.clone(), name.clone());
                    s.spawn(move || {
                        let r = Communicator::new(0, 1, cfg, &name, 128);
                        // Hold the rank until every contender has tried.
                        std::thread::sleep(Duration::from_millis(1500));
                        r.map(|c| c.finalize())
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {won} processes hold rank 0");
        for r in &results {
            match r {
                Ok(fin) => assert!(fin.is_ok(), "finalize: {fin:?}"),
                Err(e) => assert_eq!(e.kind(), ErrorKind::RankTaken, "{e}"),
            }
        }
    }
}
