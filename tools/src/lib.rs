//! libfmi's tools, kept out of the C library: the rendezvous server, the benchmark, and the
//! calibration that measures the channels and fits the model's parameters. The binaries in
//! `src/bin` (fmirun, fmi-rendezvous, fmi-bench, fmi-calibrate, fmi-selftest) are their
//! command lines.

pub mod bench;
pub mod calibrate;
pub mod fit;
pub mod mpi_lib;
pub mod server;
