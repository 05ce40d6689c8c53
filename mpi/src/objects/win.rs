//! Window objects: the window's own connections (a core communicator of its own, shared with
//! its service thread; none for a window of one process), its memory at this process ([`crate::rma::target::Memory`]), and what MPI attaches to it (error
//! handler, name, attributes, info hints, the synchronisation epochs in progress).

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::handles::Table;
use crate::objects::attr::Attrs;
use crate::objects::errhandler::{self, Handler};
use crate::p2p::CommRef;
use crate::rma::target::{Memory, Service};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::ffi::c_int;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// The epochs this process has open on a window.
#[derive(Debug, Default)]
pub struct Epochs {
    /// Locks held (`MPI_Win_lock`): target rank -> exclusive.
    pub locks: BTreeMap<usize, bool>,
    /// `MPI_Win_lock_all` is in effect.
    pub lock_all: bool,
    /// The targets of an access epoch opened by `MPI_Win_start`.
    pub access: Option<Vec<usize>>,
    /// The origins of an exposure epoch opened by `MPI_Win_post` not yet completed.
    pub exposure: Option<Vec<usize>>,
}

/// Memory MPI allocated for a window.
#[derive(Debug, Clone, Copy)]
pub enum Alloc {
    /// From `calloc` (`MPI_Win_allocate`, or a shared window of one process).
    Heap(usize),
    /// A shared mapping of `len` bytes (`MPI_Win_allocate_shared` on several processes).
    Mapped { addr: usize, len: usize },
}

/// One window.
pub struct WinObj {
    /// The window's own connections (None: a window of one process).
    pub comm: Option<CommRef>,
    pub rank: usize,
    pub size: usize,
    /// The world rank of each rank of the window.
    pub members: Vec<usize>,
    pub mem: Arc<Memory>,
    pub flavor: c_int,
    /// Memory MPI allocated for the window (freed with it).
    pub allocated: Option<Alloc>,
    /// A shared window's memory of every rank: (address here, bytes, displacement unit).
    pub shared: Vec<(usize, usize, usize)>,
    pub service: Mutex<Option<Service>>,
    pub timeout: Duration,
    /// The number of this process's next request on the window.
    pub next_seq: AtomicU64,
    pub errhandler: Mutex<(MPI_Errhandler, Arc<Handler>)>,
    pub name: Mutex<String>,
    pub attrs: Attrs,
    pub info: Mutex<Vec<(String, String)>>,
    pub epochs: Mutex<Epochs>,
    /// The values the predefined attributes point to.
    pub size_attr: Box<MPI_Aint>,
    pub disp_attr: Box<c_int>,
    pub flavor_attr: Box<c_int>,
    pub model_attr: Box<c_int>,
}

pub static WINS: Table<WinObj> = Table::new("window");

/// The window behind `w`.
pub fn get(w: MPI_Win) -> Result<Arc<WinObj>, MpiError> {
    if w == MPI_WIN_NULL {
        return Err(MpiError::new(MPI_ERR_WIN, "the window is MPI_WIN_NULL"));
    }
    WINS.get(w.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_WIN,
            format!("{:#x} is not a live window (freed, or not a window)", w.0),
        )
    })
}

/// The error handler of `w`, if it is a live window.
pub fn errhandler_of(w: MPI_Win) -> Option<(MPI_Errhandler, Arc<Handler>)> {
    WINS.get(w.0).map(|o| o.errhandler.lock().clone())
}

/// The error handler `h` for attaching to a window.
pub fn errhandler_for_win(h: MPI_Errhandler) -> Result<(MPI_Errhandler, Arc<Handler>), MpiError> {
    errhandler::for_kind(h, errhandler::Kind::Win)
}

impl WinObj {
    /// The window's connections (a window of more than one process has them).
    pub fn link(&self) -> Result<&CommRef, MpiError> {
        self.comm
            .as_ref()
            .ok_or_else(|| MpiError::new(MPI_ERR_INTERN, "a window of one process has no peers"))
    }
}

/// Releases what a window holds at this process once it is out of the table: stops its
/// service thread and frees the memory MPI allocated.
pub fn dismantle(obj: &WinObj) {
    if let Some(s) = obj.service.lock().take() {
        s.stop();
    }
    match obj.allocated {
        // SAFETY: allocated by MPI_Win_allocate with calloc; nothing uses it any more.
        Some(Alloc::Heap(p)) => unsafe { libc::free(p as *mut libc::c_void) },
        // SAFETY: mapped by MPI_Win_allocate_shared; nothing uses it any more.
        Some(Alloc::Mapped { addr, len }) => unsafe {
            libc::munmap(addr as *mut libc::c_void, len);
        },
        None => {}
    }
}

/// Windows the program did not free, at MPI_Finalize: their service threads stop (before the
/// connections close) and their memory is released.
pub fn release_all() {
    for (_, w) in WINS.clear() {
        dismantle(&w);
    }
}
