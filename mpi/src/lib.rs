//! libmpi_abi.so.1: the MPI 5.0 standard ABI implemented on libfmi's core.
//!
//! A program compiled once against the standard `mpi.h` (MPICH's `mpicc_abi`, or `fmicc` with
//! the project's own `include/mpi.h`) runs on this library unchanged, over whichever channel the
//! FMI configuration enables. Layers: the generated exports (every `MPI_*`/`PMPI_*` name of the
//! standard ABI) only translate and call the implementation modules; anything not implemented
//! returns `MPI_ERR_UNSUPPORTED_OPERATION` through the communicator's error handler.

pub mod engine;
pub mod p2p;
pub mod reduce;
pub mod types;
