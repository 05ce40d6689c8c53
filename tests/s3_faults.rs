//! An S3 endpoint that answers 500/503 for a while: a real fault-injecting HTTP proxy
//! (tests/s3_harness/fault_proxy.rs) in front of the real S3 server (moto_server). Half of the
//! faults are answered after S3 carried the request out (the answer is lost). A window shorter
//! than `backends.S3.max_timeout` is ridden out by retries, and every message arrives exactly
//! once; a longer one makes the call fail with an error that names the cause and the setting.

mod s3_harness;

use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp};
use s3_harness::fault_proxy::FaultProxy;
use s3_harness::{unique_name, S3Server};
use std::sync::Barrier;
use std::time::{Duration, Instant};

const MESSAGES: u64 = 12;

fn config(server: &S3Server, proxy: &FaultProxy, max_timeout: Duration) -> fmi::Config {
    let mut cfg = server.config();
    let s3 = cfg.s3.as_mut().unwrap();
    s3.endpoint_url = Some(proxy.endpoint());
    s3.max_timeout = max_timeout;
    cfg.comm.timeout = Duration::from_secs(60);
    cfg
}

#[test]
fn faults_within_max_timeout_are_retried_and_every_message_arrives_once() {
    let server = S3Server::start();
    let proxy = FaultProxy::start(server.port());
    let cfg = config(&server, &proxy, Duration::from_secs(10));
    let name = unique_name("faults-short");
    let started = Barrier::new(3);
    let out: Vec<u64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2usize)
            .map(|rank| {
                let (cfg, name, started) = (cfg.clone(), name.clone(), &started);
                s.spawn(move || {
                    let mut c = Communicator::new(rank as u32, 2, cfg, &name, 0).unwrap();
                    started.wait();
                    let peer = 1 - rank;
                    // Numbered messages, then an end mark: a message delivered twice would be
                    // received in place of the next number or of the mark.
                    for i in 0..=MESSAGES {
                        let v = if i == MESSAGES { u64::MAX } else { i };
                        c.send(
                            &[rank as u64 * 1000, v].map(u64::to_ne_bytes).concat(),
                            peer,
                        )
                        .unwrap();
                    }
                    for i in 0..=MESSAGES {
                        let mut got = [0u8; 16];
                        c.recv(&mut got, peer).unwrap();
                        let from = u64::from_ne_bytes(got[..8].try_into().unwrap());
                        let v = u64::from_ne_bytes(got[8..].try_into().unwrap());
                        let want = if i == MESSAGES { u64::MAX } else { i };
                        assert_eq!((from, v), (peer as u64 * 1000, want), "rank {rank}");
                    }
                    // Counters (conditional writes) and collectives through the faults too.
                    c.barrier().unwrap();
                    let mut sum = [0u8; 8];
                    c.allreduce(
                        &(rank as u64 + 1).to_ne_bytes(),
                        &mut sum,
                        Datatype::UInt64,
                        &ReduceOp::builtin(BuiltinOp::Sum),
                    )
                    .unwrap();
                    c.finalize().unwrap();
                    u64::from_ne_bytes(sum)
                })
            })
            .collect();
        started.wait();
        proxy.fail_for(Duration::from_millis(1500), &[500, 503]);
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(out, vec![3, 3]);
    let (before, after) = (
        proxy
            .failed_before
            .load(std::sync::atomic::Ordering::Relaxed),
        proxy
            .failed_after
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    eprintln!("faults injected: {before} before S3, {after} after S3 carried the request out");
    assert!(
        before > 0 && after > 0,
        "the proxy injected faults of both kinds"
    );
    // Finalize deleted everything, so nothing was written twice and left behind.
    assert!(server.keys("").is_empty(), "{:?}", server.keys(""));
}

#[test]
fn faults_past_max_timeout_fail_clearly() {
    let server = S3Server::start();
    let proxy = FaultProxy::start(server.port());
    let cfg = config(&server, &proxy, Duration::from_secs(1));
    let name = unique_name("faults-long");
    let (mut a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| Communicator::new(1, 2, cfg.clone(), &name, 0).unwrap());
        let a = Communicator::new(0, 2, cfg.clone(), &name, 0).unwrap();
        (a, h.join().unwrap())
    });
    proxy.fail_for(Duration::from_secs(300), &[503, 500]);
    let start = Instant::now();
    let e = a
        .send(&[1u8; 16], 1)
        .expect_err("S3 fails for longer than max_timeout");
    let took = start.elapsed();
    eprintln!("send failed after {took:?}: {e}");
    assert_eq!(e.kind(), ErrorKind::Channel, "{e}");
    let msg = e.message();
    assert!(msg.contains("backends.S3.max_timeout"), "{e}");
    assert!(
        msg.contains("SlowDown") || msg.contains("InternalError"),
        "{e}"
    );
    assert!(msg.contains(&proxy.endpoint()), "names the endpoint: {e}");
    // Bounded by max_timeout, not by the communicator's timeout (60 s).
    assert!(took < cfg.comm.timeout, "{took:?}");
    assert!(proxy.faults() > 1, "the send was retried");
    drop((a, b));
}
