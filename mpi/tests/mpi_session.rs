//! MPI-4 sessions (process sets, their groups, communicators from groups, the session's info
//! and error handler) with MPI_Alloc_mem/MPI_Free_mem (tests/mpi/session.c), and generalized
//! requests with added error classes and codes (tests/mpi/grequest.c): compiled once with
//! MPICH's mpicc_abi, run under MPICH's mpiexec and under fmirun with libfmi's library.
mod common;

use common::*;

#[test]
fn sessions_process_sets_and_alloc_mem() {
    both("session", &[1, 2, 3], |_| vec![]);
}

#[test]
fn generalized_requests_and_added_error_classes() {
    both("grequest", &[1, 2], |_| vec![]);
}
