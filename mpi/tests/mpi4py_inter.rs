//! mpi4py's own tests of inter-communicators, unchanged, on libfmi's library under fmirun at 2
//! and 3 processes: `test_util_pkl5` (which makes one with `Intracomm.Create_intercomm` and runs
//! pkl5's point-to-point and collectives on it) and the `_inter` modules the yardstick leaves
//! out (`test_comm_inter`, `test_cco_buf_inter`, `test_cco_obj_inter`, `test_cco_vec_inter`).
//! mpi4py is built for the standard ABI against libfmi's `mpi.h` and its suite run by
//! `scripts/mpi4py.sh`; a build or run that fails fails the test.
mod common;

use common::*;
use std::process::Command;

const MODULES: [&str; 5] = [
    "test_util_pkl5",
    "test_comm_inter",
    "test_cco_buf_inter",
    "test_cco_obj_inter",
    "test_cco_vec_inter",
];

fn suite(n: usize) {
    let mut cmd = Command::new(repo().join("scripts/mpi4py.sh"));
    cmd.args(["suite", "fmi", "fmirun", &n.to_string()])
        .args(MODULES)
        .env("FMICC", repo().join("mpi/fmicc"))
        .env("FMI_MPI_LIBDIR", our_lib_dir())
        .env("FMIRUN", fmirun())
        // The yardstick's exclusions but the intercommunicator modules.
        .env(
            "FMI_MPI4PY_EXCLUDE",
            "test_(rma|win|io|file|dynproc|spawn|ulfm)",
        )
        .env("FMI_MPI4PY_TIMEOUT", "600")
        .env("FMI_MPI_TIMEOUT", "120")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("MPI4PY_LIBMPI");
    let out = cmd.output().expect("run scripts/mpi4py.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "mpi4py's intercommunicator tests on {n} processes failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // Every process ran them all (the five modules hold 207 tests) and reported OK (unittest
    // writes its summary to stderr, which fmirun passes on with the rank).
    let all = format!("{stdout}{stderr}");
    for r in 0..n {
        let ran = format!("[{r}] Ran 207 tests");
        assert!(all.contains(&ran), "no \"{ran}\" in:\n{all}");
    }
    assert_eq!(all.matches("] OK").count(), n, "{all}");
}

#[test]
fn mpi4py_intercommunicator_tests_at_2_and_3_processes() {
    for n in [2, 3] {
        suite(n);
    }
}
