//! `fmi-bench` end to end with its non-blocking operations (`bibw`, `iallreduce`) at tiny sizes:
//! every operation and size gets a figure at 2 and 3 peers (rank 2 sits out bibw), bibw's MB/s
//! counts both directions of its window, and a channel without non-blocking calls skips them
//! with the reason instead of failing the run or leaving a rank waiting. No assertion about
//! speed.

#[path = "../../tests/redis_harness/mod.rs"]
mod redis_harness;

use fmi_tools::bench::report::Document;
use fmi_tools::bench::Record;
use std::path::PathBuf;
use std::process::Command;

const SIZES: [u64; 2] = [8, 1000];

/// A scratch file unique to this test process.
fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("fmi-bench-test-{}-{name}", std::process::id()))
}

/// Runs fmi-bench with a tiny budget and returns its JSON document.
fn bench(n: u32, extra: &[&str]) -> Document {
    let out = scratch(&format!("np{n}-{}.json", extra.len()));
    let run = Command::new(env!("CARGO_BIN_EXE_fmi-bench"))
        .args([
            "-n",
            &n.to_string(),
            "--sizes",
            "8,1000",
            "--budget-ms",
            "2",
        ])
        .args([
            "--iter-scale",
            "0.01",
            "--warmup-ms",
            "1",
            "--baseline",
            "none",
            "-q",
        ])
        .args(extra)
        .args(["--format", "json", "-o"])
        .arg(&out)
        .env("FMI_LOG", "warn")
        .output()
        .expect("fmi-bench runs");
    assert!(
        run.status.success(),
        "fmi-bench -n {n} {extra:?}: {}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("fmi-bench wrote its output");
    let _ = std::fs::remove_file(&out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn find<'a>(doc: &'a Document, op: &str, bytes: u64) -> Option<&'a Record> {
    doc.records
        .iter()
        .find(|r| r.is_libfmi() && r.op == op && r.bytes == bytes)
}

fn check_figure(r: &Record, n: u32) {
    assert_eq!(r.peers, n, "{r:?}");
    assert!(r.iters >= 1, "{r:?}");
    assert!(
        r.median_us > 0.0 && r.min_us <= r.median_us && r.median_us <= r.p90_us,
        "{r:?}"
    );
}

#[test]
fn bibw_and_iallreduce_at_two_and_three_peers() {
    for n in [2, 3] {
        let doc = bench(n, &["--ops", "bibw,iallreduce"]);
        assert!(doc.skipped.is_empty(), "{:?}", doc.skipped);
        assert_eq!(doc.records.len(), 2 * SIZES.len(), "{:?}", doc.records);
        for bytes in SIZES {
            let b = find(&doc, "bibw", bytes).unwrap_or_else(|| panic!("no bibw {bytes} B"));
            check_figure(b, n);
            assert_eq!(b.channel, "direct");
            assert_eq!(b.window, 64, "{b:?}");
            // Both directions: 2 x 64 messages per sample.
            let want = 2.0 * 64.0 * bytes as f64 / b.median_us;
            assert!((b.mbps - want).abs() <= 1e-9 * want, "{b:?}");
            let a = find(&doc, "iallreduce", bytes)
                .unwrap_or_else(|| panic!("no iallreduce {bytes} B"));
            check_figure(a, n);
            assert_eq!(a.window, 0, "{a:?}");
            assert_eq!(a.algo, "", "{a:?}");
        }
    }
}

/// On a channel with no non-blocking calls the operations are skipped with the reason, every
/// rank goes on (rank 2 takes no part in bibw, yet learns of the failure), and the blocking
/// allreduce after them is measured. Where the channel has them, they are measured instead.
#[test]
fn a_channel_without_nonblocking_calls_skips_them() {
    let redis = redis_harness::RedisServer::start();
    let cfg = scratch("redis.json");
    std::fs::write(
        &cfg,
        format!(
            r#"{{"backends": {{"Direct": {{"enabled": true}},
                "Redis": {{"enabled": true, "host": "127.0.0.1", "port": {}}}}},
                "communicator": {{"timeout_ms": 20000}}}}"#,
            redis.port()
        ),
    )
    .unwrap();
    let doc = bench(
        3,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--channel",
            "redis",
            "--ops",
            "bibw,iallreduce,allreduce",
        ],
    );
    let _ = std::fs::remove_file(&cfg);
    for op in ["bibw", "iallreduce"] {
        for bytes in SIZES {
            match find(&doc, op, bytes) {
                Some(r) => {
                    check_figure(r, 3);
                    assert_eq!(r.channel, "redis");
                }
                None => {
                    let why = format!("{op} {bytes} B on channel redis: ");
                    let s = doc
                        .skipped
                        .iter()
                        .find(|s| s.starts_with(&why))
                        .unwrap_or_else(|| panic!("{why} neither measured nor skipped: {doc:?}"));
                    assert!(s.to_lowercase().contains("support"), "{s}");
                }
            }
        }
    }
    for bytes in SIZES {
        let r = find(&doc, "allreduce", bytes).expect("the blocking allreduce is measured");
        check_figure(r, 3);
        assert_eq!(r.channel, "redis");
    }
}
