//! The point-to-point C tests (compiled once with MPICH's mpicc_abi) under fmirun with libfmi's
//! library over the store channels alone: a configuration enabling only Redis (the project's
//! redis-server harness), then only S3 (its moto_server harness).

// Both store harnesses include the shared peer helpers (tests/peers) as their own module.
#![allow(clippy::duplicate_mod)]

mod common;
#[path = "../../tests/redis_harness/mod.rs"]
mod redis_harness;
#[path = "../../tests/s3_harness/mod.rs"]
mod s3_harness;

use common::*;
use std::path::PathBuf;

/// The programs and process counts run on each channel.
const PROGRAMS: &[(&str, usize)] = &[
    ("p2p_blocking", 3),
    ("p2p_nonblocking", 2),
    ("p2p_probe", 3),
    ("p2p_cancel", 2),
    ("p2p_errors", 2),
];

fn write_config(name: &str, json: &str) -> PathBuf {
    let p = scratch().join(format!("{name}-{}.json", std::process::id()));
    std::fs::write(&p, json).expect("write the configuration");
    p
}

fn run_all(channel: &str, config: &std::path::Path) {
    let _one = serial();
    for &(name, n) in PROGRAMS {
        let exe = compile(&format!("tests/mpi/{name}.c"));
        let cfg = config.to_string_lossy().into_owned();
        // FMI_MPI_CHANNEL pins the channel (it is the only one enabled anyway).
        let run = run_fmi_with(
            &exe,
            n,
            &["--config", &cfg],
            &[],
            &[("FMI_MPI_CHANNEL", channel)],
        );
        let what = format!("{name} on {n} processes over {channel} only");
        assert!(run.ok, "{}", run.describe(&what));
        assert!(
            run.stdout.contains(&format!("PASS {name}")),
            "{}",
            run.describe(&what)
        );
    }
}

#[test]
fn point_to_point_over_redis_only() {
    let server = redis_harness::RedisServer::start();
    let cfg = write_config(
        "redis",
        &format!(
            r#"{{"backends": {{"Redis": {{"enabled": true, "host": "127.0.0.1", "port": {}}}}}}}"#,
            server.port()
        ),
    );
    run_all("redis", &cfg);
    let _ = std::fs::remove_file(cfg);
}

#[test]
fn point_to_point_over_s3_only() {
    let server = s3_harness::S3Server::start();
    let s3 = server.s3_config();
    let cfg = write_config(
        "s3",
        &format!(
            r#"{{"backends": {{"S3": {{"enabled": true, "bucket_name": "{}", "s3_region": "{}",
                "endpoint_url": "{}", "path_style": true, "timeout": 20, "max_timeout": 2000}}}}}}"#,
            s3.bucket_name,
            s3.s3_region,
            server.endpoint()
        ),
    );
    run_all("s3", &cfg);
    let _ = std::fs::remove_file(cfg);
}
