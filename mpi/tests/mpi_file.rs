//! MPI-IO on local files (tests/mpi/file.c): open modes and their errors, a file shared by the
//! ranks of one machine, reads and writes at offsets and through the individual file pointer,
//! views, sizes, error handlers, delete on close; compiled once with MPICH's mpicc_abi, run
//! under MPICH's mpiexec and under fmirun with libfmi's library.
mod common;

use common::*;

#[test]
fn local_files_opened_read_written_and_deleted() {
    both("file", &[1, 2, 3], |_| vec![]);
}
