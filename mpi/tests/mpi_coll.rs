//! Collectives: C programs compiled once with MPICH's mpicc_abi, run under MPICH's mpiexec and
//! under fmirun with libfmi's library, 1-4 processes. Every result is checked exactly in the
//! programs (`tests/mpi/coll_*.c`): `coll_types` (blocking forms on every datatype and
//! operator) and `coll_nb` (non-blocking and persistent forms, and that they overlap); both
//! again over Redis alone (the project's Redis harness, a real redis-server on loopback).
mod common;
#[path = "../../tests/redis_harness/mod.rs"]
mod redis_harness;

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
