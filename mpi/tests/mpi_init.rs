//! Init, the world, error handlers, abort and unsupported procedures: C programs compiled
//! once with MPICH's mpicc_abi, run under MPICH's mpiexec and under fmirun with libfmi's
//! library, 1-4 processes.
mod common;

use common::*;

#[test]
fn init_and_the_world() {
    both("init", &[1, 2, 3, 4], |n| vec![n.to_string()]);
}

#[test]
fn a_program_started_alone_is_a_world_of_one() {
    let exe = compile("tests/mpi/init.c");
    let _one = serial();
    let run = run_alone(&exe, &["1"], &[]);
    assert!(
        run.ok && run.stdout.contains("PASS init"),
        "{}",
        run.describe("init alone")
    );
}

#[test]
fn error_handlers_classes_and_strings() {
    both("errhandler", &[1, 2, 4], |_| vec![]);
}

#[test]
fn errors_are_fatal_by_default_and_name_the_procedure() {
    let exe = compile("tests/mpi/fatal.c");
    let _one = serial();
    for n in [1, 3] {
        for (lib, run) in [
            ("MPICH", run_mpich(&exe, n, &[], &[])),
            ("libfmi", run_fmi(&exe, n, &[], &[])),
        ] {
            let what = format!("fatal on {n} with {lib}");
            assert!(!run.ok, "{}", run.describe(&what));
            assert!(!run.stdout.contains("survived"), "{}", run.describe(&what));
            if lib == "libfmi" {
                assert!(
                    run.stderr.contains("MPI_Comm_size") && run.stderr.contains("MPI_ERR_COMM"),
                    "{}",
                    run.describe(&what)
                );
            }
        }
    }
}

#[test]
fn abort_ends_the_job_with_a_non_zero_exit() {
    let exe = compile("tests/mpi/abort.c");
    let _one = serial();
    for n in [1, 3] {
        for (lib, run) in [
            ("MPICH", run_mpich(&exe, n, &[], &[])),
            ("libfmi", run_fmi(&exe, n, &[], &[])),
        ] {
            let what = format!("abort on {n} with {lib}");
            assert!(!run.ok && run.code.is_some(), "{}", run.describe(&what));
            assert!(!run.stdout.contains("survived"), "{}", run.describe(&what));
        }
    }
}

#[test]
fn an_unsupported_procedure_returns_its_class_and_names_itself() {
    let exe = compile("tests/mpi/unsupported.c");
    let _one = serial();
    let run = run_fmi(&exe, 2, &[], &[]);
    assert!(run.ok, "{}", run.describe("unsupported"));
    let want = format!("rc=error class={}", 55); // MPI_ERR_UNSUPPORTED_OPERATION
    for line in run.stdout.lines() {
        assert!(line.contains(&want), "{}", run.describe("unsupported"));
        assert!(line.contains("MPI_Comm_join is not implemented"), "{line}");
    }
    assert_eq!(
        run.stdout.lines().count(),
        2,
        "{}",
        run.describe("unsupported")
    );
    // MPICH implements MPI_Comm_join: on a bad descriptor it fails with another class.
    let run = run_mpich(&exe, 1, &[], &[]);
    assert!(
        run.ok && run.stdout.contains("rc=error"),
        "{}",
        run.describe("MPICH")
    );
}

#[test]
fn communicators() {
    both("comm", &[1, 2, 3, 4], |_| vec![]);
}

#[test]
fn groups() {
    both("group", &[1, 2, 3, 4], |_| vec![]);
}

#[test]
fn info_objects() {
    both("info", &[1, 2], |_| vec![]);
}

#[test]
fn collectives() {
    both("coll", &[1, 2, 3, 4], |_| vec![]);
}

/// MPICH 5.0.2's library crashes on MPI_T error paths, so only libfmi's run checks the
/// refusals (the argument `errors`, see tests/mpi/tool.c).
#[test]
fn the_tool_interface_answers_and_never_calls_an_error_handler() {
    let exe = compile("tests/mpi/tool.c");
    let _one = serial();
    for n in [1, 2] {
        for (lib, run) in [
            ("MPICH", run_mpich(&exe, n, &[], &[])),
            ("libfmi", run_fmi(&exe, n, &["errors"], &[])),
        ] {
            let what = format!("tool on {n} processes with {lib}'s library");
            assert!(
                run.ok && run.stdout.contains("PASS tool"),
                "{}",
                run.describe(&what)
            );
        }
    }
}
