//! The calibration's plumbing, deterministically: a real (tiny) calibration on the direct
//! channel and on Redis, whose fitted `model` section must parse back through `Config`, hold
//! positive finite numbers, and predict every sample; then the on-machine check in a second
//! communicator with the fitted model. Nothing here asserts how fast anything runs or how close
//! a prediction comes: that depends on the machine and its load, and is a benchmark
//! (`fmi-calibrate --check`, docs/model.md). The fit itself is tested on synthetic measurements
//! in tools/src/fit.rs.

mod redis_harness;

use fmi::channel::ChannelKind;
use fmi::config::{Config, DirectConfig};
use fmi_tools::calibrate::{self, Plan, Sample};
use fmi_tools::fit;
use fmi_tools::server::{BackgroundServer, ServerConfig};
use redis_harness::{run_named, unique_name, RedisServer};
use serde_json::{json, Value};
use std::time::Duration;

/// Every number in a JSON value (prices may be 0; the fitted figures are checked by name).
fn numbers(v: &Value, path: &str, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Number(n) => out.push((path.to_string(), n.as_f64().unwrap())),
        Value::Object(m) => {
            for (k, x) in m {
                numbers(x, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn calibration_on_direct_and_redis_gives_a_model_section_that_parses_back() {
    let rendezvous =
        BackgroundServer::start("127.0.0.1:0".parse().unwrap(), ServerConfig::default()).unwrap();
    let redis = RedisServer::start();
    let mut cfg: Config = redis.config();
    cfg.direct = Some(DirectConfig {
        host: "127.0.0.1".into(),
        port: rendezvous.addr().port(),
        ..DirectConfig::default()
    });
    // Generous: a liveness bound on a loaded machine, not a speed requirement.
    cfg.comm.timeout = Duration::from_secs(60);
    let plan = Plan {
        sizes: vec![8, 1 << 10, 64 << 10],
        budget_s: 0.002,
        rounds: 1,
    };
    let out = run_named(&cfg, &unique_name("calibrate"), 2, true, |c| {
        let cal = calibrate::run(c, &plan).expect("calibration");
        let check = calibrate::check(c, &cal, &plan).expect("check");
        (cal, check)
    });
    // Every peer gets the same fit.
    assert_eq!(out[0].0.model, out[1].0.model);
    let (cal, check) = &out[0];

    // The samples: send and allreduce on both channels at every size, predicted.
    for samples in [&cal.samples, check] {
        assert_eq!(samples.len(), 2 * 2 * plan.sizes.len(), "{samples:#?}");
        for ch in [ChannelKind::Direct, ChannelKind::Redis] {
            for op in ["send", "allreduce"] {
                for &s in &plan.sizes {
                    let x: &Sample = samples
                        .iter()
                        .find(|x| x.channel == ch && x.op == op && x.bytes == s)
                        .unwrap_or_else(|| panic!("no {} {op} {s} B", ch.name()));
                    assert_eq!(x.peers, 2);
                    assert!(x.iterations >= 5, "{x:?}");
                    for v in [x.measured_s, x.predicted_s, x.ratio()] {
                        assert!(v.is_finite() && v > 0.0, "{x:?}");
                    }
                    assert!(!x.algorithm.is_empty(), "{x:?}");
                }
            }
        }
    }
    let table = calibrate::table(&cal.samples);
    assert_eq!(table.lines().count(), 2 + cal.samples.len(), "{table}");
    let (ok, of) = calibrate::within(check, 2.0);
    assert!(ok <= of && of == check.len(), "{ok} of {of}");

    // The fitted figures are positive and finite.
    let m = &cal.model;
    for (what, v) in [
        ("direct.overhead_ms", m.direct.overhead_ms),
        ("direct.bandwidth", m.direct.bandwidth),
        ("direct.bandwidth_large", m.direct.bandwidth_large),
        ("redis.overhead_ms", m.redis.overhead_ms),
        ("redis.bandwidth", m.redis.bandwidth),
        ("redis.bandwidth_large", m.redis.bandwidth_large),
        ("redis.bandwidth_multiple", m.redis.bandwidth_multiple),
        ("reduce_bandwidth", m.reduce_bandwidth),
    ] {
        assert!(v.is_finite() && v > 0.0, "{what} = {v}");
    }
    // No size of 1 MiB or more: bandwidth_multiple is not measured, and a note says so.
    assert!(
        cal.notes.iter().any(|n| n.contains("bandwidth_multiple")),
        "{:?}",
        cal.notes
    );

    // The section, as fmi-calibrate writes it, parses back to the same model.
    let section = fit::model_section(&cal.model);
    let mut all = Vec::new();
    numbers(&section, "model", &mut all);
    for (path, v) in &all {
        assert!(v.is_finite() && *v >= 0.0, "{path} = {v}");
    }
    let text = json!({"backends": {"Direct": {"enabled": true}}, "model": section});
    let parsed = Config::from_json(&text.to_string()).expect("the model section parses");
    // The same model, up to the last bit of a decimal round trip (serde_json parses floats to
    // within 1 ULP).
    let mut back = Vec::new();
    numbers(&fit::model_section(&parsed.model), "model", &mut back);
    assert_eq!(back.len(), all.len());
    for ((path, a), (_, b)) in all.iter().zip(&back) {
        assert!(
            (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
            "{path}: {a} != {b}"
        );
    }
    assert!(redis.scan("fmi:*").is_empty(), "{:?}", redis.scan("fmi:*"));
}
