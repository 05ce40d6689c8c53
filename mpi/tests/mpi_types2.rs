//! Datatypes mpi4py decodes and packs (subarray, darray, Fortran 90 types, match_size,
//! value_index, external32, datatype attributes, handle conversion, removed MPI-1 names): a C
//! program compiled once with MPICH's mpicc_abi, run under MPICH's mpiexec and under fmirun
//! with libfmi's library.
mod common;

use common::*;

#[test]
fn subarray_darray_f90_external32_attributes() {
    both("types2", &[1], |_| vec![]);
}
