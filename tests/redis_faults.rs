//! A real redis-server restarted in the middle of a run (SIGTERM, then started again on the same
//! port and directory): with AOF on the run completes, every message delivered once; with
//! persistence off the queued messages are gone and the run fails with an error that says so,
//! at the next request; a receive blocked in the server while it restarts fails at once.

mod redis_harness;

use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp};
use redis_harness::{unique_name, RedisServer};
use std::sync::Barrier;
use std::time::{Duration, Instant};

fn sum(c: &mut Communicator, v: u64) -> fmi::Result<u64> {
    let mut out = [0u8; 8];
    c.allreduce(
        &v.to_ne_bytes(),
        &mut out,
        Datatype::UInt64,
        &ReduceOp::builtin(BuiltinOp::Sum),
    )?;
    Ok(u64::from_ne_bytes(out))
}

/// Two peers: each sends a small and a chunked (5 MiB) message to the other and sums, then the
/// server restarts while neither has a request under way, then each receives what was sent
/// before the restart, sends and receives one more, sums again and finalizes. Returns, per
/// rank, the result of the part after the restart and how long its first receive took.
fn run_across_a_restart(server: &mut RedisServer, tag: &str) -> Vec<(fmi::Result<u64>, Duration)> {
    let mut cfg = server.config();
    cfg.comm.timeout = Duration::from_secs(20);
    // Long enough for the server to come back (connections are refused meanwhile).
    cfg.redis.as_mut().unwrap().max_timeout = Duration::from_secs(10);
    let name = unique_name(tag);
    let pause = Barrier::new(3);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..2usize)
            .map(|rank| {
                let (cfg, name, pause) = (cfg.clone(), name.clone(), &pause);
                s.spawn(move || {
                    let mut c = Communicator::new(rank as u32, 2, cfg, &name, 0).unwrap();
                    let peer = 1 - rank;
                    let small = [rank as u8 + 1; 1000];
                    let big = vec![rank as u8 + 7; 5 << 20];
                    c.send(&small, peer).unwrap();
                    c.send(&big, peer).unwrap();
                    assert_eq!(sum(&mut c, 1).unwrap(), 2);
                    pause.wait(); // the server restarts
                    pause.wait();
                    let start = Instant::now();
                    let mut got = [0u8; 1000];
                    let first = c.recv(&mut got, peer);
                    let took = start.elapsed();
                    let rest = first.and_then(|()| {
                        assert_eq!(got, [peer as u8 + 1; 1000], "rank {rank}: small message");
                        let mut big_got = vec![0u8; 5 << 20];
                        c.recv(&mut big_got, peer)?;
                        assert!(big_got.iter().all(|&b| b == peer as u8 + 7), "big message");
                        c.send(&[rank as u8; 8], peer)?;
                        let mut last = [0u8; 8];
                        c.recv(&mut last, peer)?;
                        assert_eq!(last, [peer as u8; 8]);
                        sum(&mut c, rank as u64 + 10)
                    });
                    let fin = c.finalize();
                    if rest.is_ok() {
                        fin.unwrap();
                    }
                    (rest, took)
                })
            })
            .collect();
        pause.wait();
        server.restart();
        pause.wait();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn restart_with_aof_completes() {
    let mut server = RedisServer::start_with(&["--appendonly", "yes"]);
    let out = run_across_a_restart(&mut server, "aof");
    for (rank, (r, _)) in out.iter().enumerate() {
        assert_eq!(*r.as_ref().unwrap(), 21, "rank {rank}");
    }
    // Nothing left behind (the messages were each taken once, the markers deleted).
    assert!(
        server.scan("fmi:*").is_empty(),
        "{:?}",
        server.scan("fmi:*")
    );
    assert!(server.scan("fmi-conn:*").is_empty());
}

#[test]
fn restart_without_persistence_fails_clearly() {
    let mut server = RedisServer::start();
    let out = run_across_a_restart(&mut server, "no-persistence");
    for (rank, (r, took)) in out.iter().enumerate() {
        let e = r.as_ref().expect_err("the messages are gone");
        eprintln!("rank {rank}: detected in {took:?}: {e}");
        assert_eq!(e.kind(), ErrorKind::Channel, "rank {rank}: {e}");
        assert!(e.message().contains("lost the data of this run"), "{e}");
        assert!(e.message().contains("restarted without persistence"), "{e}");
        assert!(
            e.message()
                .contains(&format!("127.0.0.1:{}", server.port())),
            "{e}"
        );
        // Found at the first request, not by waiting for the timeout.
        assert!(*took < Duration::from_secs(20), "rank {rank}: {took:?}");
    }
}

#[test]
fn restart_during_a_blocking_receive_fails_clearly() {
    let mut server = RedisServer::start_with(&["--appendonly", "yes"]);
    let mut cfg = server.config();
    cfg.comm.timeout = Duration::from_secs(20);
    cfg.redis.as_mut().unwrap().max_timeout = Duration::from_secs(10);
    let name = unique_name("blocked");
    let ready = Barrier::new(3);
    let done = Barrier::new(2);
    std::thread::scope(|s| {
        let receiver = {
            let (cfg, name, ready, done) = (cfg.clone(), name.clone(), &ready, &done);
            s.spawn(move || {
                let mut c = Communicator::new(1, 2, cfg, &name, 0).unwrap();
                ready.wait();
                let start = Instant::now();
                let mut got = [0u8; 4];
                let r = c.recv(&mut got, 0);
                let took = start.elapsed();
                done.wait();
                let _ = c.finalize();
                (r, took)
            })
        };
        let sender = {
            let (cfg, name, ready, done) = (cfg.clone(), name.clone(), &ready, &done);
            s.spawn(move || {
                let c = Communicator::new(0, 2, cfg, &name, 0).unwrap();
                ready.wait();
                done.wait(); // sends nothing until the receiver gave up
                let _ = c.finalize();
            })
        };
        ready.wait();
        std::thread::sleep(Duration::from_millis(500));
        server.restart();
        let (r, took) = receiver.join().unwrap();
        sender.join().unwrap();
        let e = r.expect_err("the pop under way when the server went away");
        eprintln!("receiver: failed after {took:?}: {e}");
        assert_eq!(e.kind(), ErrorKind::Channel, "{e}");
        assert!(e.message().contains("blocking pop"), "{e}");
        assert!(e.message().contains("not repeated"), "{e}");
        assert!(took < Duration::from_secs(20), "{took:?}");
    });
}
