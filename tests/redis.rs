//! The Redis channel against a real redis-server: init with only Redis enabled (Rust and C API),
//! isolation of runs and names, clean-up, failures (server killed, unreachable, out of memory,
//! authentication, timeouts) and the channel pin. The collective matrix is in redis_matrix.rs.

mod redis_harness;

use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp};
use redis_harness::{run_named, run_peers, RedisServer};
use std::time::{Duration, Instant};

fn sum_i64(c: &mut Communicator, v: i64) -> i64 {
    let mut b = v.to_ne_bytes();
    c.allreduce_in_place(&mut b, Datatype::Int64, &ReduceOp::builtin(BuiltinOp::Sum))
        .unwrap();
    i64::from_ne_bytes(b)
}

/// How far past its deadline a call that times out may end: scheduling on a loaded 2-vCPU
/// machine, not a speed requirement. The bounds below check that the deadline ends the call
/// (instead of a hang or a later deadline), never how fast anything runs.
const SLACK: Duration = Duration::from_secs(2);
#[test]
fn smoke_send_recv_and_collectives() {
    let server = RedisServer::start();
    let cfg = server.config();
    let out = run_peers(&cfg, 3, |c| {
        assert_eq!(c.channel(), "redis");
        let r = c.rank();
        let mut got = [0u8; 4];
        c.send(&(r as u32).to_ne_bytes(), (r + 1) % 3).unwrap();
        c.recv(&mut got, (r + 2) % 3).unwrap();
        assert_eq!(u32::from_ne_bytes(got) as usize, (r + 2) % 3);
        c.barrier().unwrap();
        sum_i64(c, r as i64 + 1)
    });
    assert_eq!(out, vec![6, 6, 6]);
    assert!(
        server.scan("fmi:*").is_empty(),
        "{:?}",
        server.scan("fmi:*")
    );
}

#[test]
fn recv_without_sender_times_out_close_to_the_deadline() {
    let server = RedisServer::start();
    let cfg = server.config();
    run_peers(&cfg, 2, |c| {
        if c.rank() == 0 {
            for ms in [150u64, 400] {
                c.set_timeout(Duration::from_millis(ms)).unwrap();
                let start = Instant::now();
                let mut b = [0u8; 4];
                let e = c.recv(&mut b, 1).unwrap_err();
                let took = start.elapsed();
                assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
                assert!(e.message().contains("rank 1"), "{}", e.message());
                assert!(e.message().contains("channel redis"), "{}", e.message());
                assert!(took >= Duration::from_millis(ms), "{took:?}");
                // Ends at its deadline, not at a later one (the margin is for scheduling on a
                // loaded machine, not a speed requirement).
                assert!(
                    took < Duration::from_millis(ms) + SLACK,
                    "{took:?} for {ms} ms"
                );
            }
        }
        c.set_timeout(Duration::from_secs(30)).unwrap();
        c.barrier().unwrap();
    });
    assert!(
        server.scan("fmi:*").is_empty(),
        "{:?}",
        server.scan("fmi:*")
    );
}

/// `fmi_init` with a config file that enables only Redis (it used to be FMI_ERR_UNSUPPORTED).
#[test]
fn c_api_init_with_only_redis() {
    use fmi::ffi::collectives::fmi_allreduce;
    use fmi::ffi::comm::{fmi_finalize, fmi_init};
    use fmi::ffi::ops::FMI_OP_SUM;
    use fmi::ffi::status::fmi_status;
    use fmi::ffi::types::FMI_DOUBLE;
    use std::ffi::CString;

    let server = RedisServer::start();
    let path = std::env::temp_dir().join(format!("fmi-redis-only-{}.json", std::process::id()));
    std::fs::write(
        &path,
        format!(
            r#"{{"backends": {{
                 "Direct": {{"enabled": false}},
                 "Redis": {{"enabled": true, "host": "127.0.0.1", "port": {}, "timeout": 1, "max_timeout": 1000}}
               }}}}"#,
            server.port()
        ),
    )
    .unwrap();
    let cpath = CString::new(path.to_str().unwrap()).unwrap();
    let name = CString::new(redis_harness::unique_name("capi")).unwrap();
    let sums: Vec<f64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..3u32)
            .map(|rank| {
                let (cpath, name) = (&cpath, &name);
                s.spawn(move || unsafe {
                    let mut comm = std::ptr::null_mut();
                    let st = fmi_init(rank, 3, cpath.as_ptr(), name.as_ptr(), 0, &mut comm);
                    assert_eq!(st, fmi_status::FMI_SUCCESS, "fmi_init");
                    let mine = f64::from(rank) + 0.5;
                    let mut sum = 0.0f64;
                    let st = fmi_allreduce(
                        comm,
                        (&mine as *const f64).cast(),
                        (&mut sum as *mut f64).cast(),
                        1,
                        FMI_DOUBLE,
                        FMI_OP_SUM,
                    );
                    assert_eq!(st, fmi_status::FMI_SUCCESS, "fmi_allreduce");
                    assert_eq!(fmi_finalize(comm), fmi_status::FMI_SUCCESS, "fmi_finalize");
                    sum
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let _ = std::fs::remove_file(&path);
    assert_eq!(sums, vec![4.5; 3]);
    assert!(server.scan("fmi:*").is_empty());
}

/// Runs of one name one after the other, the first two crashing (no finalize) with messages and
/// a join left in the store: the next run reads none of it.
#[test]
fn same_name_runs_one_after_the_other_do_not_mix() {
    let server = RedisServer::start();
    let cfg = server.config();
    let name = redis_harness::unique_name("again");
    // Run 1 crashes after sending: its messages stay in the store (until their TTL).
    std::thread::scope(|s| {
        for rank in 0..2u32 {
            let (cfg, name) = (cfg.clone(), name.clone());
            s.spawn(move || {
                let mut c = Communicator::new(rank, 2, cfg, &name, 0).unwrap();
                if rank == 1 {
                    c.send(b"stale-1", 0).unwrap();
                    c.send(b"stale-2", 0).unwrap();
                }
                let mut b = [rank as u8; 8];
                c.bcast(&mut b, 1).unwrap();
                drop(c); // no finalize: a crash
            });
        }
    });
    assert!(
        !server.scan(&format!("fmi:{name}:*")).is_empty(),
        "run 1 left messages"
    );
    // Run 2: only rank 1 starts and gives up: its join stays behind.
    let mut short = cfg.clone();
    short.comm.timeout = Duration::from_millis(300);
    let e = Communicator::new(1, 2, short, &name, 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("rank 0 never answered"), "{e}");
    // Run 3 with the same name works and sees only its own data.
    let got = run_named(&cfg, &name, 2, true, |c| {
        if c.rank() == 1 {
            c.send(b"fresh-01", 0).unwrap();
            c.send(b"fresh-02", 0).unwrap();
        }
        let mut b = if c.rank() == 1 {
            *b"bcast-3!"
        } else {
            [0u8; 8]
        };
        c.bcast(&mut b, 1).unwrap();
        assert_eq!(&b, b"bcast-3!");
        let mut msgs = Vec::new();
        if c.rank() == 0 {
            for _ in 0..2 {
                let mut m = [0u8; 8];
                c.recv(&mut m, 1).unwrap();
                msgs.push(m);
            }
        }
        msgs
    });
    assert_eq!(got[0], vec![*b"fresh-01", *b"fresh-02"]);
    // Finalize removed run 3's keys (and rank 0 the answer to the stale join); run 1's messages
    // stay until their TTL.
    for k in server.scan(&format!("fmi:{name}:*")) {
        assert!(
            !k.contains(":welcome:") && !k.ends_with(":join"),
            "left: {k}"
        );
    }
}

/// Groups with different names (including names that would collide if they were pasted
/// together without separators) at the same time: no cross-talk.
#[test]
fn different_names_at_once_do_not_mix() {
    let server = RedisServer::start();
    let cfg = server.config();
    let names = ["job1", "job", "job:1", "job*"];
    let tag = redis_harness::unique_name("mix");
    let results: Vec<Vec<i64>> = std::thread::scope(|s| {
        let hs: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(g, n)| {
                let name = format!("{n}-{tag}");
                let cfg = &cfg;
                s.spawn(move || {
                    let base = 1000 * (g as i64 + 1);
                    run_named(cfg, &name, 3, true, move |c| {
                        let r = c.rank();
                        let mut total = 0;
                        for round in 0..20 {
                            let v = base + r as i64 + round;
                            c.send(&v.to_ne_bytes(), (r + 1) % 3).unwrap();
                            let mut got = [0u8; 8];
                            c.recv(&mut got, (r + 2) % 3).unwrap();
                            assert_eq!(
                                i64::from_ne_bytes(got),
                                base + ((r + 2) % 3) as i64 + round
                            );
                            total = sum_i64(c, v);
                            c.barrier().unwrap();
                        }
                        total
                    })
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (g, r) in results.iter().enumerate() {
        let base = 1000 * (g as i64 + 1);
        assert_eq!(r, &vec![3 * base + 3 + 3 * 19; 3]);
    }
    assert!(
        server.scan("fmi:*").is_empty(),
        "{:?}",
        server.scan("fmi:*")
    );
}

/// After finalize no key of the run is left (SCAN): every collective, a message that was never
/// received, a failed receive, and a failed collective (which make finalize list and delete the
/// run's keys).
#[test]
fn finalize_leaves_no_key() {
    let server = RedisServer::start();
    let cfg = server.config();
    let name = redis_harness::unique_name("clean");
    run_named(&cfg, &name, 4, true, |c| {
        let (r, n) = (c.rank(), c.size());
        let big = 5 << 20;
        let mut b = vec![r as u8; big];
        c.bcast(&mut b, 0).unwrap();
        let mut all = vec![0u8; 4 * n];
        c.allgather(&[r as u8; 4], &mut all).unwrap();
        let mut x = vec![1u8; big];
        c.allreduce_in_place(&mut x, Datatype::UInt8, &ReduceOp::builtin(BuiltinOp::Sum))
            .unwrap();
        // Never received: a small and a chunked message.
        c.send(b"orphan", (r + 1) % n).unwrap();
        c.send(&vec![7u8; big], (r + 1) % n).unwrap();
    });
    assert!(server.scan(&format!("fmi:{name}:*")).is_empty());
    let name = redis_harness::unique_name("dirty");
    run_named(&cfg, &name, 3, true, |c| {
        if c.rank() == 0 {
            c.set_timeout(Duration::from_millis(200)).unwrap();
            // Fails: rank 1 never sends. Its later message arrives after the failure.
            assert!(c.recv(&mut [0u8; 4], 1).is_err());
            // Fails: ranks 1 and 2 write their parts of a bcast rank 0 never joins... here a
            // gather that rank 0 gives up on leaves the others' contributions behind.
            assert!(c
                .gather(&[0u8; 1 << 20], Some(&mut vec![0u8; 3 << 20]), 0)
                .is_err());
            c.set_timeout(Duration::from_secs(30)).unwrap();
        } else {
            std::thread::sleep(Duration::from_millis(500));
            c.gather(&[9u8; 1 << 20], None, 0).unwrap();
        }
        c.barrier().unwrap();
    });
    let left = server.scan(&format!("fmi:{name}:*"));
    assert!(left.is_empty(), "{left:?}");
}

/// redis-server killed in the middle of a stream of allreduces: every peer's call returns a
/// channel error (or a timeout) within the timeout, and so does finalize.
#[test]
fn server_killed_during_allreduce() {
    let mut server = RedisServer::start();
    let mut cfg = server.config();
    cfg.comm.timeout = Duration::from_secs(3);
    let name = redis_harness::unique_name("killed");
    let started = std::sync::Barrier::new(5);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..4u32)
            .map(|rank| {
                let (cfg, name, started) = (cfg.clone(), name.clone(), &started);
                s.spawn(move || {
                    let mut c = Communicator::new(rank, 4, cfg, &name, 0).unwrap();
                    started.wait();
                    let op = ReduceOp::builtin(BuiltinOp::Sum);
                    let mut buf = vec![0u8; 2 << 20];
                    let err = loop {
                        let start = Instant::now();
                        match c.allreduce_in_place(&mut buf, Datatype::Float, &op) {
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
        std::thread::sleep(Duration::from_millis(300));
        server.kill();
        for (rank, h) in hs.into_iter().enumerate() {
            let ((e, took), fin, fin_took) = h.join().unwrap();
            assert!(
                matches!(e.kind(), ErrorKind::Channel | ErrorKind::Timeout),
                "rank {rank}: {e}"
            );
            assert!(e.message().contains("allreduce"), "rank {rank}: {e}");
            assert!(e.message().contains("redis"), "rank {rank}: {e}");
            assert!(took <= cfg.comm.timeout + SLACK, "rank {rank}: {took:?}");
            assert!(fin.is_err(), "rank {rank}: finalize without a server");
            assert!(
                fin_took <= cfg.comm.timeout + SLACK,
                "rank {rank}: {fin_took:?}"
            );
        }
    });
}

#[test]
fn unreachable_server_is_a_channel_error_at_init() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = fmi::Config {
        direct: None,
        redis: Some(fmi::config::RedisConfig::new("127.0.0.1", port)),
        ..fmi::Config::default()
    };
    cfg.comm.timeout = Duration::from_millis(500);
    let start = Instant::now();
    let e = Communicator::new(0, 2, cfg, "nobody-home", 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Channel, "{e}");
    assert!(e.message().contains("connection refused"), "{e}");
    assert!(e.message().contains("channel redis"), "{e}");
    assert!(start.elapsed() < Duration::from_millis(500) + SLACK);
}

/// A server out of memory (maxmemory with noeviction) refuses the write: FMI_ERR_CHANNEL with
/// the server's reason. Nothing of the refused message is left in the queue: once memory is
/// available again, the next message is received intact.
#[test]
fn out_of_memory_is_a_channel_error() {
    let server =
        RedisServer::start_with(&["--maxmemory", "3mb", "--maxmemory-policy", "noeviction"]);
    let cfg = server.config();
    let gate = std::sync::Barrier::new(2);
    run_peers(&cfg, 2, |c| {
        if c.rank() == 0 {
            let start = Instant::now();
            let e = c.send(&vec![1u8; 16 << 20], 1).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Channel, "{e}");
            assert!(e.message().contains("OOM"), "{e}");
            assert!(e.message().contains("send/recv"), "{e}");
            assert!(start.elapsed() < Duration::from_secs(5));
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("maxmemory")
                .arg("0")
                .query::<()>(&mut server.client())
                .unwrap();
            gate.wait();
            c.send(b"small", 1).unwrap();
        } else {
            gate.wait();
            let mut b = [0u8; 5];
            c.recv(&mut b, 0).unwrap();
            assert_eq!(&b, b"small");
        }
    });
}

#[test]
fn password_and_wrong_password() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"]);
    let mut cfg = server.config();
    cfg.comm.timeout = Duration::from_secs(2);
    let e = Communicator::new(0, 1, cfg.clone(), "auth", 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    cfg.redis.as_mut().unwrap().password = Some("wrong".into());
    let e = Communicator::new(0, 1, cfg.clone(), "auth", 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    cfg.redis.as_mut().unwrap().password = Some("s3cret".into());
    let out = run_peers(&cfg, 2, |c| sum_i64(c, 5));
    assert_eq!(out, vec![10, 10]);
}

#[test]
fn database_index_is_used() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.redis.as_mut().unwrap().database = 3;
    let name = redis_harness::unique_name("db");
    run_named(&cfg, &name, 2, true, |c| {
        c.send(b"x", 1 - c.rank()).unwrap();
        c.barrier().unwrap();
        if c.rank() == 0 {
            let mut db3 = server.client();
            redis::cmd("SELECT").arg(3).query::<()>(&mut db3).unwrap();
            let n: usize = redis::cmd("DBSIZE").query(&mut db3).unwrap();
            assert!(n >= 1, "keys in db 3");
            assert!(server.scan("fmi:*").is_empty(), "nothing in db 0");
        }
        c.barrier().unwrap();
        let mut b = [0u8];
        c.recv(&mut b, 1 - c.rank()).unwrap();
    });
}

#[test]
fn size_mismatch_is_reported_and_queue_stays_usable() {
    let server = RedisServer::start();
    run_peers(&server.config(), 2, |c| {
        let big = 9 << 20;
        if c.rank() == 0 {
            c.send(&[1u8; 16], 1).unwrap();
            c.send(&vec![2u8; big], 1).unwrap();
            c.send(&[7u8; 4], 1).unwrap();
        } else {
            let mut small = [0u8; 12];
            let e = c.recv(&mut small, 0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::SizeMismatch, "{e}");
            assert!(e.message().contains("16 bytes"), "{e}");
            let e = c.recv(&mut small, 0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::SizeMismatch, "{e}");
            let mut next = [0u8; 4];
            c.recv(&mut next, 0).unwrap();
            assert_eq!(next, [7u8; 4]);
        }
    });
}

#[test]
fn init_names_the_missing_ranks_and_refuses_other_sizes() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.comm.timeout = Duration::from_millis(400);
    let start = Instant::now();
    let e =
        Communicator::new(0, 3, cfg.clone(), &redis_harness::unique_name("absent"), 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("rank(s) 1, 2 never joined"), "{e}");
    assert!(start.elapsed() >= Duration::from_millis(400));
    assert!(start.elapsed() < Duration::from_millis(400) + SLACK);
    // A rank started with another num_peers is refused (rank 0 then times out waiting).
    let name = redis_harness::unique_name("sizes");
    std::thread::scope(|s| {
        let (c0, n0) = (cfg.clone(), name.clone());
        let h = s.spawn(move || Communicator::new(0, 2, c0, &n0, 0));
        let e = Communicator::new(1, 3, cfg.clone(), &name, 0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArg, "{e}");
        assert!(e.message().contains("rank 0 has 2 peers"), "{e}");
        assert!(h.join().unwrap().is_err());
    });
}

/// With Direct and Redis enabled, the model picks (Direct under `fast`, Redis for a small
/// barrier under the default `cheap`); a peer group can pin either by name.
#[test]
fn both_channels_and_pinning() {
    let rendezvous = fmi_tools::server::BackgroundServer::start(
        "127.0.0.1:0".parse().unwrap(),
        fmi_tools::server::ServerConfig::default(),
    )
    .unwrap();
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.direct = Some(fmi::config::DirectConfig {
        host: "127.0.0.1".into(),
        port: rendezvous.addr().port(),
        ..fmi::config::DirectConfig::default()
    });
    let out = run_peers(&cfg, 3, |c| {
        assert_eq!(c.channel_names(), vec!["direct", "redis"]);
        assert_eq!(c.channel(), "redis");
        c.set_hint(fmi::Hint::Fast).unwrap();
        assert_eq!(c.channel(), "direct");
        let a = sum_i64(c, 1);
        c.pin_channel("redis").unwrap();
        assert_eq!(c.channel(), "redis");
        let b = sum_i64(c, 10);
        let r = c.rank();
        c.send(&[r as u8], (r + 1) % 3).unwrap();
        let mut got = [0u8];
        c.recv(&mut got, (r + 2) % 3).unwrap();
        assert_eq!(got[0] as usize, (r + 2) % 3);
        assert!(c.pin_channel("s3").is_err());
        c.pin_channel("direct").unwrap();
        let d = sum_i64(c, 100);
        c.pin_channel("auto").unwrap();
        (a, b, d)
    });
    assert_eq!(out, vec![(3, 30, 300); 3]);
    assert!(server.scan("fmi:*").is_empty());
}
