//! The target side of a window: its memory and how requests apply to it (under one lock per
//! window, so every put, get and accumulate is atomic with respect to the others: MPI's
//! element-wise accumulate atomicity, and more), its lock state (`MPI_Win_lock`'s shared and
//! exclusive locks, granted in arrival order), and the service thread that answers the other
//! ranks' requests without the program calling MPI (passive target).

use super::wire::{self, Kind, Msg};
use super::{TAG_REP, TAG_REQ};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::p2p::CommRef;
use crate::reduce::Op;
use crate::types::Named;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The lock state of one window at this process.
#[derive(Debug, Default)]
struct Locks {
    exclusive: bool,
    shared: usize,
    /// Remote origins waiting for a lock: (rank, exclusive, request number), in arrival
    /// order.
    queue: VecDeque<(usize, bool, u64)>,
}

impl Locks {
    fn compatible(&self, exclusive: bool) -> bool {
        !self.exclusive && (!exclusive || self.shared == 0)
    }
    fn take(&mut self, exclusive: bool) {
        if exclusive {
            self.exclusive = true;
        } else {
            self.shared += 1;
        }
    }
}

/// A window's memory at this process.
pub struct Memory {
    pub base: usize,
    pub size: usize,
    pub disp_unit: usize,
    /// A dynamic window: displacements are addresses in the attached regions.
    pub dynamic: bool,
    /// Attached regions of a dynamic window: (address, bytes).
    pub regions: Mutex<Vec<(usize, usize)>>,
    /// Held while a request reads or writes the memory.
    access: Mutex<()>,
    locks: Mutex<Locks>,
}

fn range_err(msg: String) -> MpiError {
    MpiError::new(MPI_ERR_RMA_RANGE, msg)
}

impl Memory {
    pub fn new(base: usize, size: usize, disp_unit: usize, dynamic: bool) -> Memory {
        Memory {
            base,
            size,
            disp_unit,
            dynamic,
            regions: Mutex::new(Vec::new()),
            access: Mutex::new(()),
            locks: Mutex::new(Locks::default()),
        }
    }

    /// The address of each block of `m`, after checking that every block lies in the window.
    fn addresses(&self, m: &Msg) -> Result<Vec<(usize, usize)>, MpiError> {
        let start: i128 = if self.dynamic {
            i128::from(m.disp)
        } else {
            if m.disp < 0 {
                return Err(range_err(format!(
                    "target displacement {} is negative",
                    m.disp
                )));
            }
            self.base as i128 + i128::from(m.disp) * self.disp_unit as i128
        };
        let regions: Vec<(usize, usize)> = if self.dynamic {
            self.regions.lock().clone()
        } else {
            vec![(self.base, self.size)]
        };
        let mut out = Vec::with_capacity(m.blocks.len());
        for &(off, len) in &m.blocks {
            let a = start + i128::from(off);
            let e = a + i128::from(len);
            let inside = regions
                .iter()
                .any(|&(b, n)| a >= b as i128 && e <= b as i128 + n as i128);
            if !inside && len > 0 {
                return Err(range_err(if self.dynamic {
                    format!(
                        "bytes {a:#x}..{e:#x} are not in a region attached to the dynamic window \
                         (MPI_Win_attach)"
                    )
                } else {
                    format!(
                        "the access (displacement {}, bytes {}..{} of the window) is outside the \
                         window of {} bytes",
                        m.disp,
                        a - self.base as i128,
                        e - self.base as i128,
                        self.size
                    )
                }));
            }
            out.push((a as usize, len as usize));
        }
        Ok(out)
    }

    /// Applies a data request (put, get, accumulates, compare-and-swap) and returns the data
    /// to send back (the target's previous contents for fetching requests).
    pub fn execute(&self, m: &Msg) -> Result<Vec<u8>, MpiError> {
        let addrs = self.addresses(m)?;
        let span: usize = addrs.iter().map(|a| a.1).sum();
        let _g = self.access.lock();
        let gather = || {
            let mut v = Vec::with_capacity(span);
            for &(a, n) in &addrs {
                // SAFETY: the block lies in the window's memory (checked above), which the
                // program keeps valid until MPI_Win_free / MPI_Win_detach.
                v.extend_from_slice(unsafe { std::slice::from_raw_parts(a as *const u8, n) });
            }
            v
        };
        let scatter = |data: &[u8]| {
            let mut at = 0;
            for &(a, n) in &addrs {
                // SAFETY: as in `gather`; `data` has `span` bytes (checked by the callers).
                unsafe { std::ptr::copy(data.as_ptr().add(at), a as *mut u8, n) };
                at += n;
            }
        };
        let check_len = |data: &[u8]| {
            if data.len() != span {
                return Err(MpiError::new(
                    MPI_ERR_TYPE,
                    format!(
                        "the origin sent {} bytes for {span} bytes of target data (the origin and \
                         target datatypes' signatures differ)",
                        data.len()
                    ),
                ));
            }
            Ok(())
        };
        match m.kind {
            Kind::Put => {
                check_len(&m.data)?;
                scatter(&m.data);
                Ok(Vec::new())
            }
            Kind::Get => Ok(gather()),
            Kind::Acc | Kind::GetAcc => {
                let (op, n) = op_and_type(m)?;
                let old = gather();
                if op != Op::NoOp {
                    check_len(&m.data)?;
                    if span % n.size().max(1) != 0 {
                        return Err(MpiError::new(
                            MPI_ERR_TYPE,
                            format!("{span} bytes are not whole elements of {}", n.name()),
                        ));
                    }
                    let mut cur = old.clone();
                    op.apply(n, &m.data, &mut cur);
                    scatter(&cur);
                }
                Ok(if m.kind == Kind::GetAcc {
                    old
                } else {
                    Vec::new()
                })
            }
            Kind::Cas => {
                check_len(&m.data)?;
                check_len(&m.compare)?;
                let old = gather();
                if old == m.compare {
                    scatter(&m.data);
                }
                Ok(old)
            }
            Kind::Lock | Kind::Unlock => Err(MpiError::new(
                MPI_ERR_INTERN,
                "a lock request reached the data path",
            )),
        }
    }

    /// Takes a lock for this process's own epoch, if it can be granted now (origins already
    /// waiting go first).
    pub fn try_lock_local(&self, exclusive: bool) -> bool {
        let mut l = self.locks.lock();
        if l.queue.is_empty() && l.compatible(exclusive) {
            l.take(exclusive);
            true
        } else {
            false
        }
    }

    /// A remote origin asks for a lock: true when granted now, else it waits in the queue.
    fn lock_remote(&self, origin: usize, exclusive: bool, seq: u64) -> bool {
        let mut l = self.locks.lock();
        if l.queue.is_empty() && l.compatible(exclusive) {
            l.take(exclusive);
            true
        } else {
            l.queue.push_back((origin, exclusive, seq));
            false
        }
    }

    /// Releases a lock.
    pub fn unlock(&self, exclusive: bool) -> Result<(), MpiError> {
        let mut l = self.locks.lock();
        if exclusive && l.exclusive {
            l.exclusive = false;
        } else if !exclusive && l.shared > 0 {
            l.shared -= 1;
        } else {
            return Err(MpiError::new(
                MPI_ERR_RMA_SYNC,
                "unlock of a lock this window does not hold",
            ));
        }
        Ok(())
    }

    /// An origin gave up waiting for its lock: drops its request from the queue, or releases
    /// the lock if it was granted meanwhile.
    fn withdraw(&self, origin: usize, exclusive: bool) -> Result<(), MpiError> {
        let mut l = self.locks.lock();
        if let Some(at) = l
            .queue
            .iter()
            .position(|&(o, x, _)| o == origin && x == exclusive)
        {
            l.queue.remove(at);
            return Ok(());
        }
        drop(l);
        self.unlock(exclusive)
    }

    /// Grants the waiting origins' locks that fit now, in order; returns their ranks and
    /// request numbers.
    fn grant_waiting(&self) -> Vec<(usize, u64)> {
        let mut l = self.locks.lock();
        let mut granted = Vec::new();
        while let Some(&(origin, exclusive, seq)) = l.queue.front() {
            if !l.compatible(exclusive) {
                break;
            }
            l.queue.pop_front();
            l.take(exclusive);
            granted.push((origin, seq));
        }
        granted
    }
}

/// The operator and element type of an accumulate request.
fn op_and_type(m: &Msg) -> Result<(Op, Named), MpiError> {
    let op = *Op::ALL
        .get(usize::from(m.op))
        .ok_or_else(|| MpiError::new(MPI_ERR_INTERN, "unknown operator in a request"))?;
    let n = *Named::ALL
        .get(usize::from(m.named))
        .ok_or_else(|| MpiError::new(MPI_ERR_INTERN, "unknown datatype in a request"))?;
    Ok((op, n))
}

/// The thread that answers the other ranks' requests on a window.
pub struct Service {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Service {
    pub fn start(comm: CommRef, mem: Arc<Memory>) -> Result<Service, MpiError> {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("fmi-mpi-window".into())
            .spawn(move || serve(&comm, &mem, &s))
            .map_err(|e| {
                MpiError::other(format!("cannot start the window's service thread: {e}"))
            })?;
        Ok(Service {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread (after the window's last collective: no request can still come).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.halt();
    }
}

const IDLE_MIN: Duration = Duration::from_micros(20);
const IDLE_MAX: Duration = Duration::from_millis(1);

fn serve(comm: &CommRef, mem: &Memory, stop: &AtomicBool) {
    let mut idle = IDLE_MIN;
    while !stop.load(Ordering::Acquire) {
        let mut busy = false;
        for (origin, seq) in mem.grant_waiting() {
            send_reply(comm, origin, &wire::reply_ok(seq, &[]));
            busy = true;
        }
        if let Some((origin, bytes)) = next_request(comm) {
            busy = true;
            if let Some(reply) = handle(mem, origin, &bytes) {
                send_reply(comm, origin, &reply);
            }
        }
        if !busy {
            std::thread::sleep(idle);
            idle = (idle * 2).min(IDLE_MAX);
            continue;
        }
        idle = IDLE_MIN;
    }
}

/// The next request of any origin, if one has arrived.
fn next_request(comm: &CommRef) -> Option<(usize, Vec<u8>)> {
    let mut c = comm.lock();
    let st = c
        .iprobe(fmi::Source::Any, fmi::TagSel::Tag(TAG_REQ))
        .ok()??;
    let mut buf = vec![0u8; st.bytes];
    c.recv_tagged(
        &mut buf,
        fmi::Source::Rank(st.source),
        fmi::TagSel::Tag(TAG_REQ),
    )
    .ok()?;
    Some((st.source, buf))
}

/// The reply to a request (None: a lock that waits; its reply goes when it is granted).
fn handle(mem: &Memory, origin: usize, bytes: &[u8]) -> Option<Vec<u8>> {
    let m = match Msg::decode(bytes) {
        Ok(m) => m,
        Err(e) => return Some(wire::reply_err(u64::MAX, &e)),
    };
    let r = match m.kind {
        Kind::Lock => {
            return if mem.lock_remote(origin, m.op == 1, m.seq) {
                Some(wire::reply_ok(m.seq, &[]))
            } else {
                None
            }
        }
        Kind::Unlock if m.op & super::origin::WITHDRAW != 0 => {
            mem.withdraw(origin, m.op & 1 == 1).map(|()| Vec::new())
        }
        Kind::Unlock => mem.unlock(m.op == 1).map(|()| Vec::new()),
        _ => mem.execute(&m),
    };
    Some(match r {
        Ok(data) => wire::reply_ok(m.seq, &data),
        Err(e) => wire::reply_err(m.seq, &e),
    })
}

/// Sends a reply; the origin waits for it with a receive it posted before its request, so a
/// failure here (the origin gone or timed out) leaves nothing to do but drop it.
fn send_reply(comm: &CommRef, origin: usize, reply: &[u8]) {
    let req = comm.lock().isend(reply.to_vec(), origin, TAG_REP);
    if let Ok(mut r) = req {
        let _ = r.wait();
    }
}
