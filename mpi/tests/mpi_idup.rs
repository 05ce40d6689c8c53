//! `MPI_Comm_idup` and `MPI_Comm_idup_with_info`: the C program `tests/mpi/comm_idup.c`,
//! compiled once with MPICH's mpicc_abi, run under MPICH's mpiexec and under fmirun with
//! libfmi's library, 1-4 processes, and over Redis alone (the context agreement's rounds then
//! run on the store; the project's Redis harness, a real redis-server on loopback). Every check
//! is in the program.
mod common;
#[path = "../../tests/redis_harness/mod.rs"]
mod redis_harness;

use common::*;

#[test]
fn idup_in_flight_with_other_non_blocking_collectives() {
    both("comm_idup", &[1, 2, 3, 4], |_| vec![]);
}

#[test]
fn idup_over_redis_alone() {
    let server = redis_harness::RedisServer::start();
    let cfg = scratch().join(format!("idup-redis-{}.json", std::process::id()));
    let json = format!(
        r#"{{"backends": {{"Redis": {{"enabled": true, "host": "127.0.0.1", "port": {}}}}}}}"#,
        server.port()
    );
    std::fs::write(&cfg, json).expect("write the configuration");
    let exe = compile("tests/mpi/comm_idup.c");
    let _one = serial();
    let env = [("FMI_CONFIG", cfg.to_str().expect("utf-8 path"))];
    let run = run_fmi(&exe, 3, &[], &env);
    let what = "comm_idup on 3 processes over Redis";
    assert!(run.ok, "{}", run.describe(what));
    assert!(
        run.stdout.contains("PASS comm_idup"),
        "{}",
        run.describe(what)
    );
    let _ = std::fs::remove_file(&cfg);
    assert!(server.scan("fmi:*").is_empty(), "keys left behind");
}
