//! Datatypes and operators (constructors, extents, pack/unpack, envelope/contents, names,
//! Reduce_local with predefined and user operators): a C program compiled once with MPICH's
//! mpicc_abi, run under MPICH's mpiexec and under fmirun with libfmi's library.
mod common;

use common::*;

#[test]
fn datatypes_and_reduce_local() {
    both("datatype", &[1, 2], |_| vec![]);
}
