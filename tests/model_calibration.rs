//! Calibration on this machine: fit the model to short measurements of send/recv on every
//! enabled channel, then measure send and allreduce again in a communicator that uses the fitted
//! model, and compare with its predictions for 8 B to 16 MiB (2 peers, float32 sums). Prints the
//! table (`cargo test --release --test model_calibration -- --nocapture`; the README shows one).
//!
//! Asserted: every measured latency is within 2x of the prediction (each point is the lowest
//! median of 2 sweeps, as in the fit; a point outside is measured again, at most 4 times,
//! because this shared 2-vCPU VM has slow phases that last seconds, see the baselines), and
//! the pick: under `fast` the communicator runs each operation on the channel the model picks,
//! and no channel was measured more than 2x faster than it; under `cheap` with the default
//! prices, Redis. Channels: Direct, Redis (redis-server) and S3 (moto_server), all on loopback.

// Both harnesses include tests/peers/mod.rs (each is also used alone).
#![allow(clippy::duplicate_mod)]

mod redis_harness;
mod s3_harness;

use fmi::channel::ChannelKind;
use fmi::config::{Config, DirectConfig};
use fmi::model::Model;
use fmi::tag::OpCode;
use fmi::{BuiltinOp, Communicator, Datatype, Hint, ReduceOp};
use fmi_tools::calibrate::{self, Plan, Sample};
use fmi_tools::server::{BackgroundServer, ServerConfig};
use redis_harness::{run_named, unique_name, RedisServer};
use s3_harness::S3Server;
use std::time::Duration;

const SIZES: [usize; 7] = [8, 1 << 10, 16 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20];

/// Within 2x of the prediction (send and allreduce; the stores' alltoall feeds the fit and is
/// reported, not asserted).
fn within_2x(x: &Sample) -> bool {
    x.op == "alltoall" || (0.5..=2.0).contains(&x.ratio())
}

#[test]
fn calibrated_model_predicts_send_and_allreduce_within_2x() {
    let rendezvous =
        BackgroundServer::start("127.0.0.1:0".parse().unwrap(), ServerConfig::default()).unwrap();
    let redis = RedisServer::start();
    let s3 = S3Server::start();
    let mut cfg: Config = redis.config();
    cfg.s3 = Some(s3.s3_config());
    cfg.direct = Some(DirectConfig {
        host: "127.0.0.1".into(),
        port: rendezvous.addr().port(),
        ..DirectConfig::default()
    });
    cfg.comm.timeout = Duration::from_secs(60);
    let plan = Plan {
        sizes: SIZES.to_vec(),
        budget_s: 0.1,
        rounds: 2,
    };
    let name = unique_name("calibrate");
    let checked = format!("{name}-checked");
    let out = run_named(&cfg, &name, 2, true, |c| {
        let cal = calibrate::run(c, &plan).expect("calibration");
        // A communicator with the fitted model (every peer has the same fit).
        let mut fitted = c.config().clone();
        fitted.model = cal.model.clone();
        let mut v = Communicator::new(c.rank() as u32, 2, fitted, &checked, 128).unwrap();
        let model: Model = v.model().clone();
        let mut check = calibrate::measure(&mut v, &plan, None).unwrap();
        calibrate::predict(&model, &mut check);
        for _retry in 0..4 {
            // Every peer sees the same samples, so every peer re-measures the same points.
            let bad: Vec<usize> = (0..check.len())
                .filter(|&i| !within_2x(&check[i]))
                .collect();
            if bad.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
            for i in bad {
                let x = check[i].clone();
                let one = Plan {
                    sizes: vec![x.bytes],
                    budget_s: plan.budget_s,
                    rounds: 1,
                };
                let mut again = calibrate::measure(&mut v, &one, Some(x.channel)).unwrap();
                calibrate::predict(&model, &mut again);
                // As in the fit: the lowest median of the sweeps.
                let y = again.into_iter().find(|y| y.op == x.op).unwrap();
                if y.measured_s < x.measured_s {
                    check[i] = y;
                }
            }
        }
        // The pick under fast, and where each operation ran.
        v.set_hint(Hint::Fast).unwrap();
        let sum = ReduceOp::builtin(BuiltinOp::Sum);
        let mut ran = Vec::new();
        for &s in &SIZES {
            for op in [OpCode::SendRecv, OpCode::Allreduce] {
                let picked = v.channel_for(op, s);
                v.reset_counters();
                let mut buf = vec![0u8; s];
                match op {
                    OpCode::SendRecv if v.rank() == 0 => v.send(&buf, 1).unwrap(),
                    OpCode::SendRecv => v.recv(&mut buf, 0).unwrap(),
                    _ => v
                        .allreduce_in_place(&mut buf, Datatype::Float, &sum)
                        .unwrap(),
                }
                let on: Vec<&str> = ["direct", "redis", "s3"]
                    .into_iter()
                    .filter(|ch| v.counters(Some(ch)).unwrap().operations == 1)
                    .collect();
                assert_eq!(on.len(), 1, "{on:?}");
                let on = on[0];
                ran.push((op, s, picked, on));
            }
        }
        v.set_hint(Hint::Cheap).unwrap();
        let cheap: Vec<&str> = SIZES
            .iter()
            .flat_map(|&s| {
                [
                    v.channel_for(OpCode::SendRecv, s),
                    v.channel_for(OpCode::Allreduce, s),
                ]
            })
            .collect();
        v.finalize().unwrap();
        (cal, check, ran, cheap)
    });
    let (cal, check, ran, cheap) = &out[0];
    println!(
        "fitted on this machine (2 peers):\n{}",
        calibrate::table(&cal.samples)
    );
    println!(
        "checked in a second communicator with the fitted model:\n{}",
        calibrate::table(check)
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&fmi_tools::fit::model_section(&cal.model)).unwrap()
    );
    let bad: Vec<&Sample> = check.iter().filter(|x| !within_2x(x)).collect();
    assert!(bad.is_empty(), "outside 2x: {bad:#?}");
    // send and allreduce on 3 channels; alltoall (for the stores' aggregate) from 1 MiB
    let large = SIZES.iter().filter(|&&s| s >= 1 << 20).count();
    assert_eq!(check.len(), 3 * 2 * SIZES.len() + 2 * large);
    // The pick: the communicator ran where the model said, and that is the faster channel
    // wherever the measurements tell them apart by more than 2x.
    for &(op, s, picked, on) in ran {
        assert_eq!(picked, on, "{} {s} B", op.name());
        let name = if op == OpCode::SendRecv {
            "send"
        } else {
            "allreduce"
        };
        let t = |ch: ChannelKind| {
            check
                .iter()
                .find(|x| x.channel == ch && x.op == name && x.bytes == s)
                .unwrap()
                .measured_s
        };
        // The picked channel is not measured slower by more than 2x than any other.
        let mine = t(ChannelKind::from_name(picked).unwrap());
        for other in [ChannelKind::Direct, ChannelKind::Redis, ChannelKind::S3] {
            let theirs = t(other);
            assert!(
                mine <= 2.0 * theirs,
                "{name} {s} B: picked {picked} ({mine} s), {} took {theirs} s",
                other.name()
            );
        }
    }
    // Cheap with the default prices: Redis' instance is amortised at $3.8e-6 per operation,
    // the rendezvous VM at $1.34e-5, and no operation here runs long enough to make up for it.
    assert!(cheap.iter().all(|&c| c == "redis"), "{cheap:?}");
    assert!(redis.scan("fmi:*").is_empty());
}
