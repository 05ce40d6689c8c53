//! Windows (one-sided communication): `tests/mpi/win_basic.c` compiled once with MPICH's
//! mpicc_abi, run under MPICH's mpiexec and under fmirun with libfmi's library at 1-4
//! processes (every result checked in the program: fence epochs with derived datatypes, a
//! passive-target counter and mutex, post/start/complete/wait, dynamic windows), and again
//! over Redis alone (the project's Redis harness, a real redis-server on loopback); and
//! `tests/mpi/win_timeout.c` under fmirun only (a lock not granted within libfmi's
//! `FMI_MPI_TIMEOUT` fails and is withdrawn, leaving the window usable).
mod common;
#[path = "../../tests/redis_harness/mod.rs"]
mod redis_harness;

use common::*;

/// One test: the program is compiled once, and a second test compiling it again could replace
/// it while this one runs it.
#[test]
fn windows_at_1_to_4_processes_and_over_redis_alone() {
    both("win_basic", &[1, 2, 3, 4], |_| vec![]);
    let server = redis_harness::RedisServer::start();
    let cfg = scratch().join(format!("win-redis-{}.json", std::process::id()));
    let json = format!(
        r#"{{"backends": {{"Redis": {{"enabled": true, "host": "127.0.0.1", "port": {}}}}}}}"#,
        server.port()
    );
    std::fs::write(&cfg, json).expect("write the configuration");
    let exe = compile("tests/mpi/win_basic.c");
    let _one = serial();
    let env = [("FMI_CONFIG", cfg.to_str().expect("utf-8 path"))];
    let run = run_fmi(&exe, 2, &[], &env);
    let what = "win_basic on 2 processes over Redis";
    assert!(run.ok, "{}", run.describe(what));
    assert!(
        run.stdout.contains("PASS win_basic"),
        "{}",
        run.describe(what)
    );
    let _ = std::fs::remove_file(&cfg);
}

#[test]
fn a_lock_not_granted_in_time_fails_and_is_withdrawn() {
    let exe = compile("tests/mpi/win_timeout.c");
    let _one = serial();
    let run = run_fmi(&exe, 2, &[], &[("FMI_MPI_TIMEOUT", "3")]);
    let what = "win_timeout on 2 processes";
    assert!(run.ok, "{}", run.describe(what));
    assert!(
        run.stdout.contains("PASS win_timeout"),
        "{}",
        run.describe(what)
    );
    assert!(
        run.stdout.contains("timed out as expected"),
        "{}",
        run.describe(what)
    );
}
