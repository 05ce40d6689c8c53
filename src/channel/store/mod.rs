//! Object-store transports (Redis, S3): the few primitives the store collectives
//! (`crate::collective::store`) are written against. An implementation never sees an algorithm,
//! and the algorithms never name a store.
//!
//! The model is a set of named FIFO queues of messages:
//! - [`StoreTransport::push`] appends messages; a message can be meant for several readers
//!   (write once, read many) and disappears after the last of them took it, so a clean run leaves
//!   nothing behind without any listing of keys.
//! - [`StoreTransport::pop`] takes one message from each of several queues, waiting (blocking in
//!   the store where it can, never by fixed sleeps) until all are there or the deadline passes.
//! - [`StoreTransport::pop_next`] takes the next message of a queue with several writers, the
//!   basis of tagged messages ([`inbox`]).
//! - [`StoreTransport::incr`] is an atomic counter, the basis of barriers.
//! - [`StoreTransport::delete`], [`StoreTransport::discard`] and
//!   [`StoreTransport::delete_prefix`] remove keys: the last two for clean-up after a failure.
//!
//! Every key is built by [`keys::Namespace`] and every key a transport writes expires after the
//! configured TTL, so a crashed run leaves nothing for long.

pub mod inbox;
pub mod join;
pub mod keys;
pub mod mailbox;

use crate::error::Result;
use std::time::{Duration, Instant};

/// How long a rank's claim ([`StoreTransport::claim`]) outlives its last renewal: the time after
/// which the ranks of a run that crashed (and so never released them) are free again. A live
/// transport renews its claim with its requests once half of this has passed.
pub const RANK_LEASE: Duration = Duration::from_secs(60);

/// One message for [`StoreTransport::push`].
pub struct Put<'a> {
    /// The queue to append to. A queue that receives messages larger than the store's inline
    /// limit must have a single writer (all keys built by [`keys::Namespace`] do).
    pub key: &'a str,
    pub data: &'a [u8],
    /// How many [`StoreTransport::pop`] calls will take this message (>= 1).
    pub readers: usize,
}

/// One message for [`StoreTransport::pop`].
pub struct Take<'a> {
    /// The queue to take the next message from.
    pub key: &'a str,
    /// The rank that writes it, for error messages (None: any or unknown).
    pub from: Option<usize>,
    /// Receives the message, whose size must equal `buf.len()`.
    pub buf: &'a mut [u8],
}

/// A store that holds messages for a group of peers.
pub trait StoreTransport: Send {
    /// Channel name for messages and statistics ("redis", ...).
    fn name(&self) -> &'static str;

    /// Appends every message, in order, to its queue. The messages carry `tag`, which the reader
    /// checks. Returns once the store has accepted them all.
    fn push(&mut self, tag: u32, puts: &[Put<'_>], deadline: Instant) -> Result<()>;

    /// Takes the next message of each queue in `takes` (in whatever order they arrive) into its
    /// buffer. A message with another tag or size is an error; a message of the wrong size is
    /// still consumed, so the queue stays usable. Fails with `ErrorKind::Timeout` at `deadline`.
    fn pop(&mut self, tag: u32, takes: &mut [Take<'_>], deadline: Instant) -> Result<()>;

    /// Takes the first message that is (or becomes) available on any of `keys`: returns the
    /// index of its key, its tag and its bytes (at most `max_len`). For protocols with several
    /// sources of small messages, such as agreeing on a run id.
    fn pop_any(
        &mut self,
        keys: &[&str],
        max_len: usize,
        deadline: Instant,
    ) -> Result<(usize, u32, Vec<u8>)>;

    /// Takes the next message of `key`, a queue with several writers whose messages are all
    /// inline (at most `max_len` bytes): its tag and bytes. With `wait`, waits for one until
    /// `deadline` (blocking in the store where it can) and answers None at the deadline;
    /// without, looks once (one request) and answers None when the queue is empty. Messages
    /// are taken in the order the store appended them.
    fn pop_next(
        &mut self,
        key: &str,
        max_len: usize,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<(u32, Vec<u8>)>>;

    /// Claims `key` for this transport (`owner`: an id unique to this process), atomically: of
    /// several claimants exactly one creates the key (Redis `SET NX`, S3 `If-None-Match: *`).
    /// The claim lasts [`RANK_LEASE`] after its last renewal; the transport renews it with its
    /// requests while in use and deletes it in [`StoreTransport::close`]. Returns None when
    /// claimed, else a description of the live claim that holds the key.
    fn claim(&mut self, key: &str, owner: u64, deadline: Instant) -> Result<Option<String>>;

    /// Adds `by` to the counter at `key` (created at 0) and returns the new value.
    fn incr(&mut self, key: &str, by: u64, deadline: Instant) -> Result<u64>;

    /// Deletes `keys` (and what a message stored under them refers to) now.
    fn delete(&mut self, keys: &[String], deadline: Instant) -> Result<()>;

    /// Deletes `keys` with the next request to the store (no extra round trip), at the latest in
    /// [`StoreTransport::delete`], [`StoreTransport::delete_prefix`] or [`StoreTransport::close`].
    fn discard(&mut self, keys: Vec<String>);

    /// Deletes every key that starts with `prefix` and returns how many there were. This lists
    /// keys, so it is meant for clean-up after a failure, not for every call.
    fn delete_prefix(&mut self, prefix: &str, deadline: Instant) -> Result<usize>;

    /// The collective call whose keys all start with `call_prefix` has ended (on this peer): a
    /// transport may drop per-queue state it keeps for those keys (the keys are never used
    /// again).
    fn call_done(&mut self, _call_prefix: &str) {}

    /// Sends what [`StoreTransport::discard`] queued (best effort) and closes the connection.
    /// Later calls fail.
    fn close(&mut self);
}
