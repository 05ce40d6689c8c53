//! The channel-selection model at work in live communicators with the direct channel (embedded
//! rendezvous server) and the Redis channel (a private redis-server) both enabled: which channel
//! every operation actually ran on (per-channel counters), where the cheap pick flips, the
//! FMI_TRACE lines, and disagreements between peers (errors, never hangs).
//!
//! S3 joins these tests when the S3 channel exists: `CHANNELS` below lists what is enabled.

mod redis_harness;

use fmi::collective::OpCode;
use fmi::config::{Config, DirectConfig};
use fmi::model::{policy, Call, Channel, Model};
use fmi::rendezvous::server::{BackgroundServer, ServerConfig};
use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, Hint, ReduceOp};
use redis_harness::{run_named, unique_name, RedisServer};
use std::time::{Duration, Instant};

/// The channels these tests enable.
const CHANNELS: [Channel; 2] = [Channel::Direct, Channel::Redis];

struct Servers {
    rendezvous: BackgroundServer,
    redis: RedisServer,
}

fn servers() -> Servers {
    Servers {
        rendezvous: BackgroundServer::start(
            "127.0.0.1:0".parse().unwrap(),
            ServerConfig::default(),
        )
        .expect("rendezvous server on loopback"),
        redis: RedisServer::start(),
    }
}

/// Direct and Redis enabled, default model.
fn both(s: &Servers) -> Config {
    let mut cfg = s.redis.config();
    cfg.direct = Some(DirectConfig {
        host: "127.0.0.1".into(),
        port: s.rendezvous.addr().port(),
        ..DirectConfig::default()
    });
    cfg.comm.timeout = Duration::from_secs(20);
    cfg
}

/// Every operation of the API once at `bytes` per peer (float32 sums): returns how many
/// operations this rank ran (a send and a receive count one each).
fn every_op(c: &mut Communicator, bytes: usize) -> u64 {
    let (r, n) = (c.rank(), c.size());
    let sum = ReduceOp::builtin(BuiltinOp::Sum);
    let one: Vec<u8> = (0..bytes / 4).flat_map(|_| 1.0f32.to_ne_bytes()).collect();
    let mut out = vec![0u8; bytes];
    let mut all = vec![0u8; bytes * n];
    // a ring of sends: even ranks send first
    let (next, prev) = ((r + 1) % n, (r + n - 1) % n);
    if r % 2 == 0 {
        c.send(&one, next).unwrap();
        c.recv(&mut out, prev).unwrap();
    } else {
        c.recv(&mut out, prev).unwrap();
        c.send(&one, next).unwrap();
    }
    let mut b = one.clone();
    c.bcast(&mut b, 0).unwrap();
    c.barrier().unwrap();
    c.gather(&one, (r == 0).then_some(&mut all[..]), 0).unwrap();
    c.scatter((r == 0).then_some(&all[..]), &mut out, 0)
        .unwrap();
    c.reduce(
        &one,
        (r == 0).then_some(&mut out[..]),
        Datatype::Float,
        &sum,
        0,
    )
    .unwrap();
    c.allreduce(&one, &mut out, Datatype::Float, &sum).unwrap();
    assert!(out
        .chunks_exact(4)
        .all(|x| f32::from_ne_bytes(x.try_into().unwrap()) == n as f32));
    c.scan(&one, &mut out, Datatype::Float, &sum).unwrap();
    c.allgather(&one, &mut all).unwrap();
    let send = vec![7u8; bytes * n];
    c.alltoall(&send, &mut all).unwrap();
    11
}

#[test]
fn fast_runs_everything_on_direct_and_cheap_follows_the_model() {
    let s = servers();
    let cfg = both(&s);
    let sizes = [8usize, 64 << 10, 1 << 20];
    let out = run_named(&cfg, &unique_name("fast-cheap"), 3, true, |c| {
        // The default model: every one of these is cheapest on Redis (the rendezvous VM's
        // amortised price is 3.5x the Redis instance's; see model::tests) and fastest on Direct.
        for &b in &sizes {
            for op in [OpCode::SendRecv, OpCode::Allreduce, OpCode::Alltoall] {
                let call = Call::new(op, b, 3).reduction(4, false);
                assert_eq!(
                    policy::choose(c.model(), &call, Hint::Cheap, &CHANNELS).0,
                    Channel::Redis
                );
                assert_eq!(
                    policy::choose(c.model(), &call, Hint::Fast, &CHANNELS).0,
                    Channel::Direct
                );
            }
        }
        c.set_hint(Hint::Fast).unwrap();
        c.reset_counters();
        let mut ops = 0;
        for &b in &sizes {
            ops += every_op(c, b);
        }
        let fast = (
            c.counters(Some("direct")).unwrap(),
            c.counters(Some("redis")).unwrap(),
        );
        c.set_hint(Hint::Cheap).unwrap();
        c.reset_counters();
        for &b in &sizes {
            every_op(c, b);
        }
        let cheap = (
            c.counters(Some("direct")).unwrap(),
            c.counters(Some("redis")).unwrap(),
        );
        (ops, fast, cheap)
    });
    for (rank, (ops, fast, cheap)) in out.into_iter().enumerate() {
        assert_eq!(
            (fast.0.operations, fast.1.operations),
            (ops, 0),
            "rank {rank} fast"
        );
        assert_eq!(
            (cheap.0.operations, cheap.1.operations),
            (0, ops),
            "rank {rank} cheap"
        );
        assert!(fast.0.time_ns > 0 && cheap.1.time_ns > 0 && fast.0.errors == 0);
        // bytes: per op as the call describes it (send and recv b each, barrier 0, the other
        // collectives b, alltoall its whole buffer of 3 blocks)
        let per_size: u64 = [8u64, 64 << 10, 1 << 20].iter().map(|b| 12 * b).sum();
        assert_eq!(fast.0.bytes, per_size, "rank {rank}");
    }
    assert!(s.redis.scan("fmi:*").is_empty());
}

/// The smallest size in `lo..=hi` at which `pick` differs from `pick(lo)` (bisection; the
/// model's costs are monotone in the size between algorithm switches).
fn flip(lo: usize, hi: usize, pick: impl Fn(usize) -> Channel) -> usize {
    let first = pick(lo);
    assert_ne!(first, pick(hi), "no flip in {lo}..={hi}");
    let (mut a, mut b) = (lo, hi);
    while b - a > 4 {
        let m = (a + b) / 2 / 4 * 4;
        if pick(m) == first {
            a = m;
        } else {
            b = m;
        }
    }
    b
}

#[test]
fn the_cheap_pick_flips_where_the_model_predicts() {
    let s = servers();
    let mut cfg = both(&s);
    // Prices that put the flip at a testable size: function time at $0.01 per GiB-s, cheap
    // Redis requests (0.05 ms, 100 MB/s) against a dearer but faster direct channel (0.01 ms,
    // 400 MB/s, $0.0134/h over 1000 operations against Redis' $0.0038/h).
    cfg.model.gib_second_price = 0.01;
    cfg.model.redis.overhead_ms = 0.05;
    cfg.model.direct.overhead_ms = 0.01;
    // By hand: a send costs 3.8e-6 + f (0.05e-3 + 2 s / 100e6) on Redis and
    // 1.34e-5 + f (0.01e-3 + s / 400e6) on Direct, with f = 0.01 $/GiB-s x 0.125 GiB x 2.
    let f = 0.01 * 0.125 * 2.0;
    let by_hand = ((1.34e-5 - 3.8e-6) / f - 0.04e-3) / (2.0 / 100e6 - 1.0 / 400e6);
    let model = Model::new(&cfg, 128.0).unwrap();
    let pick = |op: OpCode, b: usize| {
        let call = Call::new(op, b, 2).reduction(4, false);
        policy::choose(&model, &call, Hint::Cheap, &CHANNELS).0
    };
    let send_flip = flip(4, 64 << 20, |b| pick(OpCode::SendRecv, b));
    assert!(
        (send_flip as f64 - by_hand).abs() <= 4.0,
        "model {send_flip} B, by hand {by_hand} B"
    );
    let allreduce_flip = flip(4, 64 << 20, |b| pick(OpCode::Allreduce, b));
    println!(
        "cheap flips from redis to direct: send at {send_flip} B, allreduce at {allreduce_flip} B"
    );
    let below = |x: usize| (x * 2 / 3) / 4 * 4;
    let above = |x: usize| (x * 3 / 2) / 4 * 4;
    assert_eq!(pick(OpCode::SendRecv, below(send_flip)), Channel::Redis);
    let cases = [
        (OpCode::SendRecv, below(send_flip), "redis"),
        (OpCode::SendRecv, above(send_flip), "direct"),
        (
            OpCode::Allreduce,
            below(allreduce_flip),
            pick(OpCode::Allreduce, below(allreduce_flip)).name(),
        ),
        (
            OpCode::Allreduce,
            above(allreduce_flip),
            pick(OpCode::Allreduce, above(allreduce_flip)).name(),
        ),
    ];
    assert_ne!(cases[2].2, cases[3].2);
    let ran = run_named(&cfg, &unique_name("flip"), 2, true, |c| {
        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        let mut got = Vec::new();
        for &(op, b, _) in &cases {
            c.reset_counters();
            let mut buf = vec![0u8; b];
            match op {
                OpCode::SendRecv if c.rank() == 0 => c.send(&buf, 1).unwrap(),
                OpCode::SendRecv => c.recv(&mut buf, 0).unwrap(),
                _ => c
                    .allreduce_in_place(&mut buf, Datatype::Float, &sum)
                    .unwrap(),
            }
            let on = if c.counters(Some("direct")).unwrap().operations == 1 {
                "direct"
            } else {
                assert_eq!(c.counters(Some("redis")).unwrap().operations, 1);
                "redis"
            };
            got.push(on);
        }
        got
    });
    let want: Vec<&str> = cases.iter().map(|c| c.2).collect();
    assert_eq!(ran, vec![want; 2]);
}

#[test]
fn trace_has_one_line_per_operation() {
    let s = servers();
    let cfg = both(&s);
    let path = std::env::temp_dir().join(format!("fmi-trace-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    // Read at init; other tests of this binary may trace into it too (their lines have other
    // communicator names).
    std::env::set_var("FMI_TRACE", &path);
    let name = unique_name("trace");
    run_named(&cfg, &name, 2, true, |c| {
        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        let mut b = vec![0u8; 4096];
        c.allreduce_in_place(&mut b, Datatype::Float, &sum).unwrap();
        c.set_hint(Hint::Fast).unwrap();
        c.allreduce_in_place(&mut b, Datatype::Float, &sum).unwrap();
        c.pin_channel("redis").unwrap();
        c.barrier().unwrap();
        c.pin_channel("auto").unwrap();
    });
    std::env::remove_var("FMI_TRACE");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["comm"] == name.as_str())
        .collect();
    assert_eq!(lines.len(), 6, "{text}");
    for rank in 0..2 {
        let mine: Vec<&serde_json::Value> = lines.iter().filter(|v| v["rank"] == rank).collect();
        let summary: Vec<(String, String, String, String)> = mine
            .iter()
            .map(|v| {
                (
                    v["op"].as_str().unwrap().to_string(),
                    v["channel"].as_str().unwrap().to_string(),
                    v["hint"].as_str().unwrap().to_string(),
                    v["algorithm"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let t = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
        assert_eq!(
            summary,
            vec![
                t("allreduce", "redis", "cheap", "reduce_bcast"),
                t("allreduce", "direct", "fast", "recursive_doubling"),
                t("barrier", "redis", "fast", "counter"),
            ]
        );
        for v in mine {
            assert!(v["predicted_s"].as_f64().unwrap() > 0.0, "{v}");
            assert!(v["measured_s"].as_f64().unwrap() > 0.0, "{v}");
            assert!(v["predicted_cost_usd"].as_f64().unwrap() > 0.0, "{v}");
            assert_eq!(v["peers"], 2);
            assert_eq!(v["ok"], true);
        }
        assert_eq!(lines.iter().filter(|v| v["rank"] == rank).count(), 3);
    }
    assert_eq!(lines[0]["bytes"], 4096);
    let _ = std::fs::remove_file(&path);
}

/// Runs rank r with `cfgs[r]` and returns each rank's init result (finalizing the successes).
fn init_each(cfgs: &[Config], name: &str) -> Vec<fmi::Result<()>> {
    let n = cfgs.len();
    std::thread::scope(|sc| {
        let hs: Vec<_> = cfgs
            .iter()
            .enumerate()
            .map(|(r, cfg)| {
                let cfg = cfg.clone();
                sc.spawn(move || {
                    Communicator::new(r as u32, n as u32, cfg, name, 128).and_then(|c| c.finalize())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn peers_that_disagree_get_errors_not_hangs() {
    let s = servers();
    let cfg = both(&s);
    // A different model section on one peer: every peer fails at init, at once.
    let mut other = cfg.clone();
    other.model.redis.overhead_ms = 0.1;
    let t = Instant::now();
    let r = init_each(&[cfg.clone(), other], &unique_name("digest"));
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    for (rank, x) in r.iter().enumerate() {
        let e = x.as_ref().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Mismatch, "rank {rank}: {e}");
        assert!(e.message().contains("digest"), "{e}");
    }
    // Different memories are fine: they are exchanged and averaged.
    let r = init_each(&[cfg.clone(), cfg.clone()], &unique_name("same"));
    assert!(r.iter().all(|x| x.is_ok()), "{r:?}");

    let out = run_named(&cfg, &unique_name("settings"), 3, true, |c| {
        let r = c.rank();
        let t = Instant::now();
        let hint = c.set_hint(if r == 1 { Hint::Fast } else { Hint::Cheap });
        let pin = c.pin_channel(if r == 2 { "direct" } else { "redis" });
        let unknown = c.pin_channel(if r == 0 { "carrier-pigeon" } else { "redis" });
        let quick = t.elapsed() < Duration::from_secs(5);
        // nothing changed, and the communicator still works
        let unchanged = (c.hint(), c.pinned_channel());
        let mut v = [1u8];
        c.bcast(&mut v, 0).unwrap();
        (
            hint.unwrap_err().kind(),
            pin.unwrap_err().kind(),
            unknown.unwrap_err().kind(),
            quick,
            unchanged,
        )
    });
    for (r, (hint, pin, unknown, quick, unchanged)) in out.into_iter().enumerate() {
        assert_eq!(hint, ErrorKind::Mismatch, "rank {r}");
        assert_eq!(pin, ErrorKind::Mismatch, "rank {r}");
        let want = if r == 0 {
            ErrorKind::InvalidArg
        } else {
            ErrorKind::Mismatch
        };
        assert_eq!(unknown, want, "rank {r}");
        assert!(quick, "rank {r}");
        assert_eq!(unchanged, (Hint::Cheap, None), "rank {r}");
    }
}
