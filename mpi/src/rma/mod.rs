//! One-sided communication (MPI windows) on the core, no C-ABI code (`api/win.rs`,
//! `api/winsync.rs` and `api/rma.rs` translate to it).
//!
//! A window of more than one process has connections of its own: a core communicator that
//! its members join when they create it (as the world is joined at `MPI_Init`, under a name
//! the window's rank 0 picks), so its traffic never matches the program's messages and never
//! waits for the program's calls (a blocking call holds its communicator's connections while
//! it waits; the window's service must answer meanwhile, or a target in `MPI_Barrier` would
//! stall the origins it waits for). Every process of a window of more than one
//! rank runs a service thread ([`target::Service`]) that receives the other ranks' requests
//! (put, get, accumulates, compare-and-swap, lock, unlock) on it and applies them to the
//! window's memory under the window's lock, replying to each; the target need not call MPI.
//! The origin ([`origin`]) sends one request per operation and waits for its reply, so an
//! operation is complete at the target when it returns. Messages: [`wire`].

pub mod origin;
pub mod target;
pub mod wire;

/// Core tags on a window's communicator.
pub const TAG_REQ: u32 = 1;
pub const TAG_REP: u32 = 2;
pub const TAG_POST: u32 = 3;
pub const TAG_DONE: u32 = 4;
/// Barrier rounds use `TAG_SYNC + round`.
pub const TAG_SYNC: u32 = 16;
