//! Point-to-point and requests: C programs (`tests/mpi/p2p_*.c`) compiled once with MPICH's
//! mpicc_abi, run under MPICH's mpiexec and under fmirun with libfmi's library, 1-4 processes.
mod common;

use common::*;

#[test]
fn blocking_modes_and_sendrecv() {
    both("p2p_blocking", &[1, 2, 3], |_| vec![]);
}

#[test]
fn nonblocking_and_the_wait_test_family() {
    both("p2p_nonblocking", &[1, 2, 4], |_| vec![]);
}

#[test]
fn synchronous_sends_to_each_other_after_posted_receives_complete() {
    both("p2p_sync_progress", &[2, 3, 4], |_| vec![]);
}

#[test]
fn persistent_requests() {
    both("p2p_persistent", &[1, 3], |_| vec![]);
}

#[test]
fn probes_and_matched_probes() {
    both("p2p_probe", &[1, 3], |_| vec![]);
}

#[test]
fn wildcards_and_ordering() {
    both("p2p_order", &[2, 4], |_| vec![]);
}

#[test]
fn buffered_sends() {
    both("p2p_bsend", &[1, 2], |_| vec![]);
}

#[test]
fn cancel_and_statuses() {
    both("p2p_cancel", &[1, 2], |_| vec![]);
}

#[test]
fn partitioned_requests() {
    both("p2p_partitioned", &[1, 3], |_| vec![]);
}

#[test]
fn errors_return_their_class_and_name_the_call() {
    both("p2p_errors", &[1, 2], |_| vec![]);
    let exe = compile("tests/mpi/p2p_errors.c");
    let _one = serial();
    let run = run_fmi(&exe, 2, &[], &[]);
    assert!(run.ok, "{}", run.describe("p2p_errors"));
    let line = |what: &str| -> String {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!("MSG {what}:")))
            .unwrap_or_else(|| panic!("no MSG {what}: {}", run.describe("p2p_errors")))
            .to_string()
    };
    for (what, call, words) in [
        ("truncate", "MPI_Recv", &["MPI_ERR_TRUNCATE", "bytes"][..]),
        ("waitall", "MPI_Waitall", &["MPI_ERR_IN_STATUS"][..]),
        ("in_status", "MPI_Waitall", &["MPI_ERR_TRUNCATE"][..]),
        ("rank", "MPI_Send", &["rank 2", "out of range"][..]),
        ("negative_rank", "MPI_Send", &["-5"][..]),
        ("tag", "MPI_Send", &["tag -7"][..]),
        ("tag_ub", "MPI_Send", &["tag 536870912"][..]),
        ("count", "MPI_Send", &["count -1"][..]),
        ("comm", "MPI_Send", &["MPI_COMM_NULL"][..]),
        ("type", "MPI_Send", &["MPI_DATATYPE_NULL"][..]),
        ("uncommitted", "MPI_Send", &["not committed"][..]),
        ("start", "MPI_Start", &["not persistent"][..]),
    ] {
        let l = line(what);
        assert!(l.contains(call), "{what}: {l}");
        for w in words {
            assert!(l.contains(w), "{what}: {w:?} not in {l}");
        }
    }
}

#[test]
fn a_blocked_receive_ends_at_fmi_mpi_timeout_through_the_error_handler() {
    let exe = compile("tests/mpi/p2p_timeout.c");
    let _one = serial();
    let run = run_fmi(&exe, 2, &[], &[("FMI_MPI_TIMEOUT", "2")]);
    let what = run.describe("p2p_timeout under FMI_MPI_TIMEOUT=2");
    assert!(run.ok && run.stdout.contains("PASS p2p_timeout"), "{what}");
    for (n, call) in [(1, "MPI_Recv"), (2, "MPI_Wait")] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(&format!("HANDLER {n}:")))
            .unwrap_or_else(|| panic!("handler call {n} missing: {what}"));
        for w in [call, "peer 1", "timed out", "FMI_MPI_TIMEOUT"] {
            assert!(line.contains(w), "{w:?} not in {line}");
        }
    }
}

#[test]
fn a_second_thread_on_a_busy_communicator_gets_an_error_not_a_wait() {
    let exe = compile("tests/mpi/p2p_busy.c");
    let _one = serial();
    let run = run_fmi(&exe, 2, &[], &[]);
    let what = run.describe("p2p_busy");
    assert!(run.ok && run.stdout.contains("PASS p2p_busy"), "{what}");
    assert!(
        run.stdout
            .contains("BUSY: MPI_Iprobe: the communicator is in use by another thread"),
        "{what}"
    );
}
