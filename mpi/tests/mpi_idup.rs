//! `MPI_Comm_idup` and `MPI_Comm_idup_with_info`: the C program `tests/mpi/comm_idup.c`,
//! compiled once with MPICH's mpicc_abi, run under MPICH's mpiexec and under fmirun with
//! libfmi's library, 1-4 processes (every check is in the program).
mod common;

use common::*;

#[test]
fn idup_in_flight_with_other_non_blocking_collectives() {
    both("comm_idup", &[1, 2, 3, 4], |_| vec![]);
}
