//! Communicator objects: the core's `fmi::Communicator` with what MPI attaches to it (error
//! handler, name, attributes, info hints) and the world ranks of its members (groups are lists
//! of world ranks, see [`crate::objects::group`]).
//!
//! `MPI_COMM_WORLD` and `MPI_COMM_SELF` sit at their ABI values from `MPI_Init` to
//! `MPI_Finalize` ([`crate::objects::world`]).

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::handles::Table;
use crate::objects::errhandler::{self, Handler};
use crate::p2p::{CommRef, Endpoint};
use parking_lot::Mutex;
use std::ffi::c_int;
use std::sync::Arc;

/// One communicator.
pub struct CommObj {
    /// The core, shared with the point-to-point requests that use it.
    core: CommRef,
    /// The point-to-point layer's state (messages to oneself).
    pub ep: Arc<Endpoint>,
    pub rank: usize,
    pub size: usize,
    /// The world rank of each rank of this communicator.
    pub members: Vec<usize>,
    pub errhandler: Mutex<(MPI_Errhandler, Arc<Handler>)>,
    pub name: Mutex<String>,
    /// Attribute values (`void *` as an integer) by keyval, in the order set.
    pub attrs: Mutex<Vec<(c_int, usize)>>,
    /// The info hints set on it (`MPI_Comm_set_info`), in the order set.
    pub info: Mutex<Vec<(String, String)>>,
    /// Set on an inter-communicator (then `core` is the union of both groups that its
    /// collectives use, and `rank`, `size` and `members` are the local group's).
    pub inter: Option<crate::objects::intercomm::Inter>,
}

fn busy() -> MpiError {
    MpiError::other(
        "the communicator is in use by another thread (this library provides \
         MPI_THREAD_SERIALIZED: one MPI call at a time)",
    )
}

/// The communicators by handle.
pub static COMMS: Table<CommObj> = Table::new("communicator");

impl CommObj {
    pub fn new(
        core: fmi::Communicator,
        members: Vec<usize>,
        errhandler: (MPI_Errhandler, Arc<Handler>),
        name: &str,
    ) -> CommObj {
        CommObj {
            rank: core.rank(),
            size: core.size(),
            core: Arc::new(Mutex::new(core)),
            ep: Arc::new(Endpoint::default()),
            members,
            errhandler: Mutex::new(errhandler),
            name: Mutex::new(name.to_string()),
            attrs: Mutex::new(Vec::new()),
            info: Mutex::new(Vec::new()),
            inter: None,
        }
    }

    /// Runs `f` on the core communicator. The library provides `MPI_THREAD_SERIALIZED`: a
    /// second thread inside a call on the same communicator is an error, never a hang.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut fmi::Communicator) -> fmi::Result<T>,
    ) -> Result<T, MpiError> {
        if self.inter.is_some() {
            return Err(crate::objects::intercomm::unsupported());
        }
        self.with_core(f)
    }

    /// As [`CommObj::with`], on an inter-communicator too (its union of both groups).
    pub fn with_core<T>(
        &self,
        f: impl FnOnce(&mut fmi::Communicator) -> fmi::Result<T>,
    ) -> Result<T, MpiError> {
        let mut core = self.core.try_lock().ok_or_else(busy)?;
        f(&mut core).map_err(MpiError::from)
    }

    /// The core and the point-to-point state, for the point-to-point layer (which locks the
    /// core for each call). A communicator busy in another thread is an error, never a wait.
    pub fn p2p(&self) -> Result<(&CommRef, &Arc<Endpoint>), MpiError> {
        if self.inter.is_some() {
            return Err(crate::objects::intercomm::unsupported());
        }
        if self.core.is_locked() {
            return Err(busy());
        }
        Ok((&self.core, &self.ep))
    }

    /// The core, the point-to-point state and the core rank for a send to rank `dest` (on an
    /// inter-communicator: of the remote group).
    pub fn p2p_to(&self, dest: usize) -> Result<(&CommRef, &Arc<Endpoint>, usize), MpiError> {
        match &self.inter {
            None => self.p2p().map(|(c, e)| (c, e, dest)),
            Some(i) => {
                let (core, d) = i.send_core(dest, self.size)?;
                if core.is_locked() {
                    return Err(busy());
                }
                Ok((core, &self.ep, d))
            }
        }
    }

    /// The core and the point-to-point state for a receive or probe from `src` (on an
    /// inter-communicator: a rank of the remote group, whose core ranks are its ranks).
    pub fn p2p_from(&self, src: crate::p2p::From) -> Result<(&CommRef, &Arc<Endpoint>), MpiError> {
        match &self.inter {
            None => self.p2p(),
            Some(i) => {
                let core = i.recv_core(src)?;
                if core.is_locked() {
                    return Err(busy());
                }
                Ok((core, &self.ep))
            }
        }
    }

    /// Takes the core communicator out (free, finalize): the object is gone from the table.
    /// Fails while persistent or pending requests still use it.
    pub fn into_core(self) -> Result<fmi::Communicator, MpiError> {
        let users = Arc::strong_count(&self.core) - 1;
        Arc::try_unwrap(self.core)
            .map(Mutex::into_inner)
            .map_err(|_| {
                MpiError::other(format!(
                    "{users} request(s) still use the communicator: complete and free them first"
                ))
            })
    }

    /// How many requests hold the core besides this object.
    pub fn users(&self) -> usize {
        Arc::strong_count(&self.core) - 1 + self.inter.as_ref().map_or(0, |i| i.users())
    }
}

/// The communicator behind `c`.
pub fn get(c: MPI_Comm) -> Result<Arc<CommObj>, MpiError> {
    if c == MPI_COMM_NULL {
        return Err(MpiError::comm("the communicator is MPI_COMM_NULL"));
    }
    COMMS.get(c.0).ok_or_else(|| {
        if !crate::objects::world::initialized() {
            MpiError::other("MPI is not initialized (call MPI_Init first)")
        } else if crate::objects::world::finalized() {
            MpiError::other("MPI is finalized")
        } else {
            MpiError::comm(format!(
                "{:#x} is not a live communicator (freed, or not a communicator)",
                c.0
            ))
        }
    })
}

/// Registers a new communicator; it inherits `parent`'s error handler (as MPI's dup and split
/// do) and the session `parent` derives from.
pub fn register(core: fmi::Communicator, members: Vec<usize>, parent: &CommObj) -> MPI_Comm {
    let eh = parent.errhandler.lock().clone();
    let h = COMMS.insert(CommObj::new(core, members, eh, ""));
    if let Some(o) = COMMS.get(h) {
        o.ep.set_buffer_key(h);
        // A communicator derived from a session's communicator derives from the session.
        if let Some(sk) = parent.ep.session_key() {
            o.ep.set_session_key(sk);
        }
    }
    MPI_Comm(h)
}

/// The error handler of `c`, if it is a live communicator.
pub fn errhandler_of(c: MPI_Comm) -> Option<(MPI_Errhandler, Arc<Handler>)> {
    COMMS.get(c.0).map(|o| o.errhandler.lock().clone())
}

/// The error handler `h` for attaching to a communicator.
pub fn errhandler_for_comm(h: MPI_Errhandler) -> Result<(MPI_Errhandler, Arc<Handler>), MpiError> {
    errhandler::for_kind(h, errhandler::Kind::Comm)
}

/// This process's rank in MPI_COMM_WORLD, once initialized.
pub fn world_rank() -> Option<usize> {
    COMMS.get(MPI_COMM_WORLD.0).map(|w| w.rank)
}

/// The group of all processes of the init (made at MPI_Init), for converting lists of world
/// ranks to the core's groups.
static WORLD_GROUP: Mutex<Option<fmi::Group>> = Mutex::new(None);

pub fn set_world_group(g: Option<fmi::Group>) {
    *WORLD_GROUP.lock() = g;
}

/// The core's group of the processes with these world ranks (in this order).
pub fn core_group(world_ranks: &[usize]) -> Result<fmi::Group, MpiError> {
    let w = WORLD_GROUP.lock();
    let w = w
        .as_ref()
        .ok_or_else(|| MpiError::other("MPI is not initialized"))?;
    Ok(w.incl(world_ranks)?)
}

/// The world rank of each rank of a communicator the core made.
pub fn world_ranks(core: &fmi::Communicator) -> Result<Vec<usize>, MpiError> {
    let w = WORLD_GROUP.lock();
    let w = w
        .as_ref()
        .ok_or_else(|| MpiError::other("MPI is not initialized"))?;
    let all: Vec<usize> = (0..core.size()).collect();
    core.group()
        .translate_ranks(&all, w)?
        .into_iter()
        .map(|r| r.ok_or_else(|| MpiError::new(MPI_ERR_INTERN, "a member outside the world")))
        .collect()
}

/// Removes `h` from the table and returns its object (MPI_Comm_free).
pub fn take(h: MPI_Comm) -> Result<CommObj, MpiError> {
    let obj = COMMS
        .remove(h.0)
        .ok_or_else(|| MpiError::comm(format!("{:#x} is not a live communicator", h.0)))?;
    Arc::try_unwrap(obj).map_err(|obj| {
        COMMS.insert_arc_at(h.0, obj);
        MpiError::other("the communicator is in use by another thread")
    })
}

/// Drops a communicator without the collective close (a failed dup).
pub fn forget(h: MPI_Comm) {
    COMMS.remove(h.0);
}
