//! libfmi: MPI-style message passing for serverless functions.
//!
//! Layers: [`ffi`] is the C API (handles, status codes, panic boundary); [`Communicator`] is the
//! safe Rust API; [`channel`] holds the transports; [`collective`] the algorithms, written against
//! the transport traits; [`plan`] which algorithm runs for a call; [`rendezvous`] how peers find
//! each other; [`config`] the FMI JSON config.
//!
//! `cbindgen:ignore` marks every module but `ffi`: the C header is generated from `ffi` only.

/// cbindgen:ignore
pub mod channel;
/// cbindgen:ignore
pub mod collective;
/// cbindgen:ignore
pub mod comm;
/// cbindgen:ignore
pub mod config;
/// cbindgen:ignore
pub mod datatype;
/// cbindgen:ignore
pub mod error;
pub mod ffi;
/// cbindgen:ignore
#[doc(hidden)]
pub mod fuzzing;
/// cbindgen:ignore
pub mod log;
/// cbindgen:ignore
pub mod model;
/// cbindgen:ignore
pub mod op;
/// cbindgen:ignore
pub mod plan;
/// cbindgen:ignore
pub mod rendezvous;
/// cbindgen:ignore
pub mod request;
/// cbindgen:ignore
pub mod tag;

pub use channel::{MsgStatus, Source, TagSel, TAG_UB};
pub use comm::{Background, BlockList, Communicator, Group, Hint, PendingDup, UNDEFINED};
pub use config::Config;
pub use datatype::Datatype;
pub use error::{Error, ErrorKind, Result};
pub use op::{BuiltinOp, ReduceOp};
pub use request::Request;
