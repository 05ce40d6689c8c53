//! Collectives: C programs compiled once with MPICH's mpicc_abi, run under MPICH's mpiexec and
//! under fmirun with libfmi's library, 1-4 processes. Every result is checked exactly in the
//! programs (`tests/mpi/coll_*.c`): `coll_types` (blocking forms on every datatype and
//! operator) and `coll_nb` (non-blocking and persistent forms, and that they overlap).
mod common;

use common::*;

#[test]
fn every_datatype_and_operator() {
    both("coll_types", &[1, 2, 3, 4], |_| vec![]);
}

#[test]
fn non_blocking_and_persistent_collectives() {
    both("coll_nb", &[1, 2, 3, 4], |_| vec![]);
}
