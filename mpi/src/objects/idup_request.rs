//! Requests of `MPI_Comm_idup` and `MPI_Comm_idup_with_info`: the core's non-blocking dup
//! (`fmi::Communicator::idup`: the agreement on the new context runs on the parent's
//! collectives worker, in the order of its other non-blocking collectives). When it completes,
//! the new communicator is built and registered (attributes copied, info set) by the API's
//! `Adopt`, and its handle written to the program's `MPI_Comm` (which MPI says is valid only
//! after completion; it holds `MPI_COMM_NULL` until then).

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::request::Operation;
use crate::objects::status;
use crate::p2p::CommRef;

/// Builds and registers the new communicator from the core's, returns its handle.
pub type Adopt = Box<dyn FnOnce(fmi::Communicator) -> Result<MPI_Comm, MpiError> + Send>;

/// The program's `MPI_Comm *newcomm`.
struct Out(*mut MPI_Comm);

// SAFETY: the address is the program's output argument, which MPI requires to stay valid until
// the request completes; it is written only inside MPI calls on the request
// (MPI_THREAD_SERIALIZED).
unsafe impl Send for Out {}

pub struct IdupOp {
    /// The parent's core (held: the parent cannot be freed before the dup completed).
    core: CommRef,
    pending: Option<fmi::PendingDup>,
    adopt: Option<Adopt>,
    newcomm: Out,
}

impl IdupOp {
    /// Starts a dup of `core`; at completion `adopt` registers the new communicator, whose
    /// handle goes to `newcomm` (written `MPI_COMM_NULL` now).
    ///
    /// # Safety
    /// `newcomm` is valid for writes until the request completes.
    pub unsafe fn start(
        core: &CommRef,
        adopt: Adopt,
        newcomm: *mut MPI_Comm,
    ) -> Result<IdupOp, MpiError> {
        let pending = {
            let mut k = core.try_lock().ok_or_else(|| {
                MpiError::other(
                    "the communicator is in use by another thread (this library provides \
                     MPI_THREAD_SERIALIZED: one MPI call at a time)",
                )
            })?;
            k.idup()?
        };
        newcomm.write(MPI_COMM_NULL);
        Ok(IdupOp {
            core: core.clone(),
            pending: Some(pending),
            adopt: Some(adopt),
            newcomm: Out(newcomm),
        })
    }
}

impl Operation for IdupOp {
    fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError> {
        let Some(p) = self.pending.as_mut() else {
            return Ok(Some(status::empty(MPI_ANY_SOURCE)));
        };
        let done = if block {
            // On the worker, as a collective's wait (`coll_request.rs` says why).
            p.request().wait_on_worker().map(Some)
        } else {
            p.request().test()
        };
        match done {
            Ok(None) => Ok(None),
            Ok(Some(_)) => {
                let p = self.pending.take().expect("pending");
                let adopt = self.adopt.take().expect("adopt");
                let core = self.core.lock().finish_dup(p)?;
                let h = adopt(core)?;
                // SAFETY: see `Out`.
                unsafe { self.newcomm.0.write(h) };
                Ok(Some(status::empty(MPI_ANY_SOURCE)))
            }
            Err(e) => {
                // The agreement failed on this process (no id stays reserved).
                self.pending = None;
                Err(e.into())
            }
        }
    }
}
