//! Buffered sends: the buffer attached by `MPI_Buffer_attach` (the process's),
//! `MPI_Session_attach_buffer` (a session's, used for communicators derived from the session)
//! or `MPI_Comm_attach_buffer` (a communicator's, used first for sends on it) bounds the data of
//! buffered messages in flight (each takes its packed size plus `OVERHEAD` of the attached
//! space until its transfer completes); detaching waits until every buffered message of that
//! buffer is sent. The bytes themselves travel in a copy the send owns, so the attached memory
//! is only accounted, never written.

use crate::engine::{Class, Error, Result};
use parking_lot::Mutex;
use std::collections::BTreeMap;

/// Space each buffered message takes besides its data (`MPI_BSEND_OVERHEAD` of the ABI).
pub const OVERHEAD: usize = 512;

/// Whose buffer: the process's, one session's or one communicator's (by keys the endpoint
/// carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    Process,
    Comm(usize),
    Session(usize),
}

/// The buffers a communicator's buffered send may use besides the process's: its own and its
/// session's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keys {
    pub comm: Option<usize>,
    pub session: Option<usize>,
}

struct Attached {
    addr: usize,
    size: usize,
    used: usize,
    /// Buffered sends in flight and the space each holds.
    flying: Vec<(usize, fmi::Request)>,
}

static ATTACHED: Mutex<BTreeMap<Owner, Attached>> = Mutex::new(BTreeMap::new());

/// Space reserved for one buffered message in `Owner`'s buffer.
pub struct Lease(Owner, usize);

fn who(o: Owner) -> &'static str {
    match o {
        Owner::Process => "the process",
        Owner::Comm(_) => "the communicator",
        Owner::Session(_) => "the session",
    }
}

/// `MPI_Buffer_attach` / `MPI_Comm_attach_buffer`.
pub fn attach_to(owner: Owner, addr: usize, size: usize) -> Result<()> {
    let mut a = ATTACHED.lock();
    if a.contains_key(&owner) {
        return Err(Error::new(
            Class::Buffer,
            format!(
                "a buffer is already attached to {} (detach it first)",
                who(owner)
            ),
        ));
    }
    a.insert(
        owner,
        Attached {
            addr,
            size,
            used: 0,
            flying: Vec::new(),
        },
    );
    Ok(())
}

/// `MPI_Buffer_attach`.
pub fn attach(addr: usize, size: usize) -> Result<()> {
    attach_to(Owner::Process, addr, size)
}

fn wait_all(flying: Vec<(usize, fmi::Request)>, owner: Option<Owner>) -> Result<()> {
    let mut first_err = None;
    for (n, mut r) in flying {
        if let Err(e) = r.wait() {
            first_err.get_or_insert(e);
        }
        if let Some(o) = owner {
            if let Some(a) = ATTACHED.lock().get_mut(&o) {
                a.used = a.used.saturating_sub(n);
            }
        }
    }
    match first_err {
        Some(e) => Err(Error::new(
            Class::Other,
            format!("a buffered send failed: {e}"),
        )),
        None => Ok(()),
    }
}

/// Detaching: waits for the buffered messages in flight, then returns the buffer's address
/// and size; (0, 0) when none is attached (as MPICH answers).
pub fn detach_from(owner: Owner) -> Result<(usize, usize)> {
    let Some(mut att) = ATTACHED.lock().remove(&owner) else {
        return Ok((0, 0));
    };
    wait_all(std::mem::take(&mut att.flying), None)?;
    Ok((att.addr, att.size))
}

/// `MPI_Buffer_detach`.
pub fn detach() -> Result<(usize, usize)> {
    detach_from(Owner::Process)
}

/// `MPI_Buffer_flush` / `MPI_Comm_flush_buffer`: waits for the buffered messages in flight
/// (the buffer stays attached).
pub fn flush_of(owner: Owner) -> Result<()> {
    let flying = match ATTACHED.lock().get_mut(&owner) {
        Some(att) => std::mem::take(&mut att.flying),
        None => return Ok(()),
    };
    wait_all(flying, Some(owner))
}

/// Whether `owner`'s buffered messages have all been sent (`MPI_Buffer_iflush` tests this).
pub fn flushed(owner: Owner) -> bool {
    match ATTACHED.lock().get_mut(&owner) {
        Some(att) => {
            reap(att);
            att.flying.is_empty()
        }
        None => true,
    }
}

/// `MPI_Buffer_flush`.
pub fn flush() -> Result<()> {
    flush_of(Owner::Process)
}

fn reap(att: &mut Attached) {
    att.flying.retain_mut(|(n, r)| match r.test() {
        Ok(None) => true,
        _ => {
            att.used -= *n;
            false
        }
    });
}

/// Reserves room for a message of `bytes` bytes sent on the communicator with buffer keys
/// `keys`: in its own buffer if it has one, else in its session's, else in the process's
/// (MPI-4.1 §3.6.1).
pub fn reserve(keys: Keys, bytes: usize) -> Result<Lease> {
    let mut a = ATTACHED.lock();
    let owner = [keys.comm.map(Owner::Comm), keys.session.map(Owner::Session)]
        .into_iter()
        .flatten()
        .find(|o| a.contains_key(o))
        .unwrap_or(Owner::Process);
    let att = a.get_mut(&owner).ok_or_else(|| {
        Error::new(
            Class::Buffer,
            "buffered send with no buffer attached (MPI_Buffer_attach, MPI_Session_attach_buffer \
             or MPI_Comm_attach_buffer)",
        )
    })?;
    reap(att);
    let need = bytes.saturating_add(OVERHEAD);
    if att.size - att.used < need {
        return Err(Error::new(
            Class::Buffer,
            format!(
                "buffered send of {bytes} bytes needs {need} bytes of the attached buffer of {}; \
                 {} of {} are free",
                who(owner),
                att.size - att.used,
                att.size
            ),
        ));
    }
    att.used += need;
    Ok(Lease(owner, need))
}

/// Returns a reservation unused (a buffered message to oneself, queued by the endpoint: the
/// attached buffer is checked for room, as for any buffered send, but not held).
pub fn release(lease: Lease) {
    if let Some(att) = ATTACHED.lock().get_mut(&lease.0) {
        att.used = att.used.saturating_sub(lease.1);
    }
}

/// Keeps the send of a reserved message until it completes (its space is then free again).
pub fn hand_over(lease: Lease, r: fmi::Request) {
    match ATTACHED.lock().get_mut(&lease.0) {
        Some(att) => att.flying.push((lease.1, r)),
        // Detached in between by another thread: nothing to account; the send still completes.
        None => r.free(),
    }
}
