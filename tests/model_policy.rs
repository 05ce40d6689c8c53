//! The channel-selection model at work in live communicators with the direct channel (embedded
//! rendezvous server), the Redis channel (a private redis-server) and the S3 channel (a private
//! moto_server) all enabled: which channel every operation actually ran on (per-channel
//! counters), where the cheap pick flips, the FMI_TRACE lines, and disagreements between peers
//! (errors, never hangs).

// Both harnesses include tests/peers/mod.rs (each is also used alone).
#![allow(clippy::duplicate_mod)]

mod redis_harness;
mod s3_harness;

use fmi::channel::ChannelKind;
use fmi::config::{Config, DirectConfig};
use fmi::model::counters::Counters;
use fmi::model::{policy, Call, Model};
use fmi::tag::OpCode;
use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, Hint, ReduceOp};
use fmi_tools::server::{BackgroundServer, ServerConfig};
use redis_harness::{run_named, unique_name, RedisServer};
use s3_harness::S3Server;
use std::time::{Duration, Instant};

/// The channels these tests enable.
const KINDS: [ChannelKind; 3] = [ChannelKind::Direct, ChannelKind::Redis, ChannelKind::S3];

struct Servers {
    rendezvous: BackgroundServer,
    redis: RedisServer,
    s3: S3Server,
}

fn servers() -> Servers {
    Servers {
        rendezvous: BackgroundServer::start(
            "127.0.0.1:0".parse().unwrap(),
            ServerConfig::default(),
        )
        .expect("rendezvous server on loopback"),
        redis: RedisServer::start(),
        s3: S3Server::start(),
    }
}

/// Direct, Redis and S3 enabled, default model.
fn all_three(s: &Servers) -> Config {
    let mut cfg = direct_redis(s);
    cfg.s3 = Some(s.s3.s3_config());
    cfg
}

/// Direct and Redis enabled, default model.
fn direct_redis(s: &Servers) -> Config {
    let mut cfg = s.redis.config();
    cfg.direct = Some(DirectConfig {
        host: "127.0.0.1".into(),
        port: s.rendezvous.addr().port(),
        ..DirectConfig::default()
    });
    cfg.comm.timeout = Duration::from_secs(30);
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
    let cfg = all_three(&s);
    let sizes = [8usize, 64 << 10, 1 << 20];
    const N: usize = 3;
    let out = run_named(&cfg, &unique_name("fast-cheap"), N, true, |c| {
        // The default model: every one of these is cheapest on Redis (the rendezvous VM's
        // amortised price is 3.5x the Redis instance's; see model::tests) and fastest on Direct.
        for &b in &sizes {
            for op in [OpCode::SendRecv, OpCode::Allreduce, OpCode::Alltoall] {
                let call = Call::new(op, b, N).reduction(4, false);
                assert_eq!(
                    policy::choose(c.model(), &call, Hint::Cheap, &KINDS).0,
                    ChannelKind::Redis
                );
                assert_eq!(
                    policy::choose(c.model(), &call, Hint::Fast, &KINDS).0,
                    ChannelKind::Direct
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
            c.counters(Some("s3")).unwrap(),
        );
        c.set_hint(Hint::Cheap).unwrap();
        c.reset_counters();
        for &b in &sizes {
            every_op(c, b);
        }
        let cheap = (
            c.counters(Some("direct")).unwrap(),
            c.counters(Some("redis")).unwrap(),
            c.counters(Some("s3")).unwrap(),
        );
        // S3 carries what is pinned to it.
        c.pin_channel("s3").unwrap();
        c.reset_counters();
        c.barrier().unwrap();
        let pinned = c.counters(Some("s3")).unwrap().operations;
        c.pin_channel("auto").unwrap();
        (ops, fast, cheap, pinned)
    });
    let n = |k: &(Counters, Counters, Counters)| (k.0.operations, k.1.operations, k.2.operations);
    for (rank, (ops, fast, cheap, pinned)) in out.into_iter().enumerate() {
        assert_eq!(n(&fast), (ops, 0, 0), "rank {rank} fast");
        assert_eq!(n(&cheap), (0, ops, 0), "rank {rank} cheap");
        assert_eq!(pinned, 1, "rank {rank} pinned to s3");
        assert!(fast.0.time_ns > 0 && cheap.1.time_ns > 0 && fast.0.errors == 0);
        // bytes: per op as the call describes it (send and recv b each, barrier 0, the other
        // collectives b, alltoall its whole buffer of N blocks)
        let per_size: u64 = [8u64, 64 << 10, 1 << 20]
            .iter()
            .map(|b| (9 + N as u64) * b)
            .sum();
        assert_eq!(fast.0.bytes, per_size, "rank {rank}");
    }
    assert!(s.redis.scan("fmi:*").is_empty());
}

/// The smallest size in `lo..=hi` at which `pick` differs from `pick(lo)` (bisection; the
/// model's costs are monotone in the size between algorithm switches).
fn flip(lo: usize, hi: usize, pick: impl Fn(usize) -> ChannelKind) -> usize {
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
    let mut cfg = all_three(&s);
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
        policy::choose(&model, &call, Hint::Cheap, &KINDS).0
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
    assert_eq!(pick(OpCode::SendRecv, below(send_flip)), ChannelKind::Redis);
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
    let cfg = all_three(&s);
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
    let cfg = all_three(&s);
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

/// Which channel one send of `bytes` from rank 0 to rank 1 ran on, on every rank.
fn channel_of_a_send(cfg: &Config, bytes: usize) -> Vec<&'static str> {
    run_named(cfg, &unique_name("one-send"), 2, true, |c| {
        let mut buf = vec![0u8; bytes];
        if c.rank() == 0 {
            c.send(&buf, 1).unwrap();
        } else {
            c.recv(&mut buf, 0).unwrap();
        }
        let ran: Vec<&'static str> = ["direct", "redis", "s3"]
            .into_iter()
            .filter(|ch| c.counters(Some(ch)).unwrap().operations == 1)
            .collect();
        assert_eq!(ran.len(), 1, "{ran:?}");
        ran[0]
    })
}

#[test]
fn the_cheap_pick_flips_from_s3_to_direct_where_the_model_predicts() {
    let s = servers();
    let mut cfg = all_three(&s);
    // A dear Redis instance ($0.1/h over 1000 operations), S3 requests of 0.05 ms at 100 MB/s
    // (its PUT and GETs are priced), Direct 0.01 ms at 400 MB/s, function time at $0.01/GiB-s.
    cfg.model.gib_second_price = 0.01;
    cfg.model.redis.instance_price = 0.1;
    cfg.model.s3.overhead_ms = 0.05;
    cfg.model.s3.bandwidth = 100.0;
    cfg.model.s3.bandwidth_multiple = 100.0;
    cfg.model.direct.overhead_ms = 0.01;
    let poll = cfg.s3.as_ref().unwrap().timeout.as_secs_f64();
    let f = 0.01 * 0.125 * 2.0;
    // By hand: reads in vain during `lat` with pauses of 1 ms doubling up to `poll`.
    let s3_cost = |s: f64| {
        let lat = 0.05e-3 + 2.0 * s / 100e6;
        let (mut waited, mut pause, mut polls) = (0.0, 1e-3, 0.0);
        while waited < lat - 1e-12 {
            waited += pause;
            polls += 1.0;
            pause = f64::min(pause * 2.0, poll);
        }
        5.4e-6 + 4.3e-7 * (1.0 + polls) + f * lat
    };
    let direct_cost = |s: f64| 1.34e-5 + f * (0.01e-3 + s / 400e6);
    let (mut lo, mut hi) = (4.0, 64e6);
    while hi - lo > 4.0 {
        let m = (lo + hi) / 2.0;
        if s3_cost(m) < direct_cost(m) {
            lo = m;
        } else {
            hi = m;
        }
    }
    let model = Model::new(&cfg, 128.0).unwrap();
    let pick = |b: usize| {
        let call = Call::new(OpCode::SendRecv, b, 2);
        policy::choose(&model, &call, Hint::Cheap, &KINDS).0
    };
    let flip_at = flip(4, 64 << 20, pick);
    assert!(
        (flip_at as f64 - hi).abs() <= 8.0,
        "model {flip_at} B, by hand {hi} B"
    );
    println!("cheap flips from s3 to direct: send at {flip_at} B");
    let below = (flip_at * 2 / 3) / 4 * 4;
    let above = (flip_at * 3 / 2) / 4 * 4;
    assert_eq!(
        (pick(below), pick(above)),
        (ChannelKind::S3, ChannelKind::Direct)
    );
    assert_eq!(channel_of_a_send(&cfg, below), vec!["s3"; 2]);
    assert_eq!(channel_of_a_send(&cfg, above), vec!["direct"; 2]);
}
