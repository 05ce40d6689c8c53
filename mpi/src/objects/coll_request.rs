//! Requests of the non-blocking and persistent collectives: a described call ([`Coll`])
//! running on the core's collectives worker, whose results are unpacked into the user's layout
//! when it completes. A persistent one describes its call again at each `MPI_Start` (the send
//! buffers' data then) and holds the core communicator for that.

use crate::coll::{Coll, Who};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm::CommObj;
use crate::objects::request::Operation;
use crate::objects::status;
use crate::p2p::CommRef;

/// Describes the call anew (a persistent collective's start).
pub type Describe = Box<dyn FnMut(&Who) -> Result<Coll, MpiError>>;

/// A `Describe` that may move to another thread with its request.
struct Again(Describe);

// SAFETY: the closure holds the program's buffer and array addresses, which MPI requires to
// stay valid until the persistent request is freed; it runs only inside MPI calls on the
// request (MPI_THREAD_SERIALIZED).
unsafe impl Send for Again {}

/// A running collective and its description (which owns the buffers it runs on).
struct Running {
    req: fmi::Request,
    coll: Coll,
}

pub struct CollOp {
    running: Option<Running>,
    /// Persistent: the communicator and how to describe the call at each start.
    again: Option<(CommRef, Who, Again)>,
}

/// Hands `coll` to the worker of `core`.
fn launch(core: &mut fmi::Communicator, mut coll: Coll) -> Result<Running, MpiError> {
    // SAFETY: `coll` is kept with the request until the collective ended (see `Drop`).
    let bg = unsafe { coll.background() };
    let req = core.istart(bg)?;
    Ok(Running { req, coll })
}

impl CollOp {
    /// `coll` started now on `obj` (`MPI_Ibcast`, ...).
    pub fn once(obj: &CommObj, coll: Coll) -> Result<CollOp, MpiError> {
        let r = {
            let (core, _) = obj.p2p()?;
            let mut k = core.try_lock().ok_or_else(busy)?;
            launch(&mut k, coll)?
        };
        Ok(CollOp {
            running: Some(r),
            again: None,
        })
    }

    /// A persistent collective on `obj`, inactive until started (`MPI_Bcast_init`, ...). The
    /// call is described once now, so bad arguments fail here.
    pub fn persistent(obj: &CommObj, mut describe: Describe) -> Result<CollOp, MpiError> {
        let who = Who::of(obj);
        describe(&who)?;
        let (core, _) = obj.p2p()?;
        Ok(CollOp {
            running: None,
            again: Some((core.clone(), who, Again(describe))),
        })
    }
}

fn busy() -> MpiError {
    MpiError::other(
        "the communicator is in use by another thread (this library provides \
         MPI_THREAD_SERIALIZED: one MPI call at a time)",
    )
}

impl Operation for CollOp {
    fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError> {
        let Some(r) = self.running.as_mut() else {
            return Ok(Some(status::empty(MPI_ANY_SOURCE)));
        };
        let done = if block {
            // The collective stays on the communicator's worker: run on this thread it would
            // hold up what other requests of the program need meanwhile (a synchronous send's
            // acknowledgment that only this process's MPI calls give), so two processes could
            // wait for each other until the timeout.
            r.req.wait_on_worker().map(Some)
        } else {
            r.req.test()
        };
        match done {
            Ok(None) => Ok(None),
            Ok(Some(_)) => {
                let r = self.running.take().expect("running");
                // SAFETY: the collective has ended; the user's buffers are valid until now.
                unsafe { r.coll.finish() }?;
                Ok(Some(status::empty(MPI_ANY_SOURCE)))
            }
            Err(e) => {
                // An error ends the collective (the core's request waited for its job).
                self.running = None;
                Err(e.into())
            }
        }
    }

    fn start(&mut self) -> Result<(), MpiError> {
        let Some((core, who, again)) = self.again.as_mut() else {
            return Err(MpiError::new(
                MPI_ERR_REQUEST,
                "MPI_Start of a request that is not persistent",
            ));
        };
        if self.running.is_some() {
            return Err(MpiError::new(
                MPI_ERR_REQUEST,
                "MPI_Start of an active persistent request",
            ));
        }
        let coll = (again.0)(who)?;
        let mut k = core.try_lock().ok_or_else(busy)?;
        self.running = Some(launch(&mut k, coll)?);
        Ok(())
    }

    fn is_persistent(&self) -> bool {
        self.again.is_some()
    }

    fn is_active(&self) -> bool {
        self.running.is_some()
    }
}

impl Drop for CollOp {
    fn drop(&mut self) {
        // The worker may still use the buffers of `coll`: wait for it (bounded by the
        // communicator's timeout) before they go.
        if let Some(mut r) = self.running.take() {
            let _ = r.req.wait_on_worker();
        }
    }
}
