//! What a transport's non-blocking operation is to its caller: the buffers it borrows until it
//! completes, and the [`Pending`] operation that is tested, waited for, cancelled or detached.

use super::MsgStatus;
use crate::error::Result;
use std::time::Instant;

/// The bytes a non-blocking send reads until it completes. The caller keeps them alive and
/// unchanged until then (MPI's rule for a send buffer).
#[derive(Debug, Clone, Copy)]
pub struct SendBuf {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the buffer is only read, by whichever thread progresses the request; the creator of a
// SendBuf promises it outlives the request.
unsafe impl Send for SendBuf {}

impl SendBuf {
    /// # Safety
    /// `ptr` must point to `len` readable bytes (or be anything when `len` is 0) that stay valid
    /// and unchanged until the operation using them completes, fails, or is cancelled.
    pub unsafe fn new(ptr: *const u8, len: usize) -> SendBuf {
        SendBuf { ptr, len }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: promised by the creator (see `new`).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// The bytes a non-blocking receive writes until it completes. The caller keeps them alive and
/// does not touch them until then (MPI's rule for a receive buffer).
#[derive(Debug)]
pub struct RecvBuf {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: written only by the thread that progresses the request, which holds the transport's
// lock; the creator promises the buffer outlives the request.
unsafe impl Send for RecvBuf {}

impl RecvBuf {
    /// # Safety
    /// `ptr` must point to `len` writable bytes (or be anything when `len` is 0) that stay valid
    /// and are not accessed otherwise until the operation using them completes, fails, or is
    /// cancelled.
    pub unsafe fn new(ptr: *mut u8, len: usize) -> RecvBuf {
        RecvBuf { ptr, len }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The bytes.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: promised by the creator (see `new`); `&mut self` keeps this the only view.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// A transport's non-blocking send or receive. It progresses in the background (a transport's
/// progress thread) and whenever any call of the same transport runs.
pub trait Pending: Send {
    /// Its result when it has completed (then it is finished: later calls answer the same
    /// way only once; the caller keeps the result), else None. Does not block.
    fn test(&mut self) -> Option<Result<MsgStatus>>;
    /// Waits until it completes (Some) or until `until` (None: still pending).
    fn wait(&mut self, until: Instant) -> Option<Result<MsgStatus>>;
    /// The same, for a caller that will wait until it completes anyway (a blocking wait for this
    /// very request, not a slice of a wait on several things): an operation that nothing runs yet
    /// may run on the calling thread (a non-blocking collective that has not started). Others
    /// wait as `wait` does.
    fn wait_running(&mut self, until: Instant) -> Option<Result<MsgStatus>> {
        self.wait(until)
    }
    /// Gives it up: a receive that has not matched is withdrawn, a transfer that has started cuts
    /// its connection (the stream is left in an unknown state). Afterwards its buffer is never
    /// touched. Returns the result instead when it had already completed.
    fn cancel(&mut self) -> Option<Result<MsgStatus>>;
    /// Withdraws a receive that no message has matched yet (true: it is then finished and its
    /// buffer never touched); anything else is left as it was (false), to complete as usual.
    /// Unlike `cancel`, it never cuts a transfer.
    fn withdraw(&mut self) -> bool {
        false
    }
    /// Lets it complete in the background with nobody waiting (its result is dropped); its buffer
    /// is used until then.
    fn detach(self: Box<Self>);
}
