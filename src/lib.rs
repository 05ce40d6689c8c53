//! libfmi: MPI-style message passing for serverless functions.
//!
//! Layers: [`ffi`] is the C API (handles, status codes, panic boundary); [`Communicator`] is the
//! safe Rust API; [`channel`] holds the transports; [`collective`] the algorithms, written against
//! the transport traits; [`rendezvous`] how peers find each other; [`config`] the FMI JSON config.

pub mod channel;
pub mod collective;
pub mod comm;
pub mod config;
pub mod datatype;
pub mod error;
pub mod ffi;
pub mod log;
pub mod op;
pub mod rendezvous;

pub use comm::{Communicator, Hint};
pub use config::Config;
pub use datatype::Datatype;
pub use error::{Error, ErrorKind, Result};
pub use op::{BuiltinOp, ReduceOp};
