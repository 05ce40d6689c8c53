//! Collectives: C programs compiled once with MPICH's mpicc_abi, run under MPICH's mpiexec and
//! under fmirun with libfmi's library, 1-4 processes. Every result is checked exactly in the
//! programs (`tests/mpi/coll_*.c`): `coll_types` (blocking forms on every datatype and
//! operator) and `coll_nb` (non-blocking and persistent forms, and that they overlap); both
//! again over Redis alone (the project's Redis harness, a real redis-server on loopback), and
//! all three (`coll` too) over S3 alone (the project's S3 harness, a real moto_server on
//! loopback).

// Both store harnesses include the shared peer helpers (tests/peers) as their own module.
#![allow(clippy::duplicate_mod)]

mod common;
#[path = "../../tests/redis_harness/mod.rs"]
mod redis_harness;
#[path = "../../tests/s3_harness/mod.rs"]
mod s3_harness;

use common::*;

#[test]
fn every_datatype_and_operator() {
    both("coll_types", &[1, 2, 3, 4], |_| vec![]);
}

#[test]
fn non_blocking_and_persistent_collectives() {
    both("coll_nb", &[1, 2, 3, 4], |_| vec![]);
}

#[test]
fn user_operators_and_non_blocking_collectives_over_redis_alone() {
    let server = redis_harness::RedisServer::start();
    let cfg = scratch().join(format!("coll-redis-{}.json", std::process::id()));
    let json = format!(
        r#"{{"backends": {{"Redis": {{"enabled": true, "host": "127.0.0.1", "port": {}}}}}}}"#,
        server.port()
    );
    std::fs::write(&cfg, json).expect("write the configuration");
    for name in ["coll_types", "coll_nb"] {
        let exe = compile(&format!("tests/mpi/{name}.c"));
        let _one = serial();
        let env = [("FMI_CONFIG", cfg.to_str().expect("utf-8 path"))];
        let run = run_fmi(&exe, 3, &[], &env);
        let what = format!("{name} on 3 processes over Redis");
        assert!(run.ok, "{}", run.describe(&what));
        assert!(
            run.stdout.contains(&format!("PASS {name}")),
            "{}",
            run.describe(&what)
        );
    }
    let _ = std::fs::remove_file(&cfg);
    assert!(server.scan("fmi:*").is_empty(), "keys left behind");
}

/// Every collective (`coll`: the basic forms; `coll_types`: every blocking form on derived
/// datatypes and user operators; `coll_nb`: every non-blocking and persistent form) over S3
/// alone, pinned with FMI_MPI_CHANNEL, on 3 processes (an odd count: uneven trees).
#[test]
fn every_collective_over_s3_alone() {
    let server = s3_harness::S3Server::start();
    let s3 = server.s3_config();
    let cfg = scratch().join(format!("coll-s3-{}.json", std::process::id()));
    let json = format!(
        r#"{{"backends": {{"S3": {{"enabled": true, "bucket_name": "{}", "s3_region": "{}",
            "endpoint_url": "{}", "path_style": true, "timeout": 20, "max_timeout": 2000}}}}}}"#,
        s3.bucket_name,
        s3.s3_region,
        server.endpoint()
    );
    std::fs::write(&cfg, json).expect("write the configuration");
    let cfg_arg = cfg.to_str().expect("utf-8 path").to_string();
    for name in ["coll", "coll_types", "coll_nb"] {
        let exe = compile(&format!("tests/mpi/{name}.c"));
        let _one = serial();
        let run = run_fmi_with(
            &exe,
            3,
            &["--config", &cfg_arg],
            &[],
            &[("FMI_MPI_CHANNEL", "s3")],
        );
        let what = format!("{name} on 3 processes over S3 only");
        assert!(run.ok, "{}", run.describe(&what));
        assert!(
            run.stdout.contains(&format!("PASS {name}")),
            "{}",
            run.describe(&what)
        );
    }
    let _ = std::fs::remove_file(&cfg);
}
