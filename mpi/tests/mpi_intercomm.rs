//! Inter-communicators: a C program (tests/mpi/intercomm.c) compiled once with MPICH's
//! mpicc_abi, run at 1-4 processes under MPICH's mpiexec and under fmirun with libfmi's
//! library: creation from a split of the world, queries, point-to-point both ways, every
//! blocking collective with checked results, dup/split/create/compare, names, attributes,
//! merge, free.
mod common;

use common::*;

#[test]
fn intercommunicators() {
    both("intercomm", &[1, 2, 3, 4], |_| vec![]);
}
