//! Buffered sends: the buffer attached by `MPI_Buffer_attach` bounds the data of buffered
//! messages in flight (each takes its packed size plus `OVERHEAD` of the attached space until
//! its transfer completes); `MPI_Buffer_detach` waits until every buffered message is sent.
//! The bytes themselves travel in a copy the send owns, so the attached memory is only
//! accounted, never written.

use crate::engine::{Class, Error, Result};
use parking_lot::Mutex;

/// Space each buffered message takes besides its data (`MPI_BSEND_OVERHEAD` of the ABI).
pub const OVERHEAD: usize = 512;

struct Attached {
    addr: usize,
    size: usize,
    used: usize,
    /// Buffered sends in flight and the space each holds.
    flying: Vec<(usize, fmi::Request)>,
}

static ATTACHED: Mutex<Option<Attached>> = Mutex::new(None);

/// Space reserved for one buffered message.
pub struct Lease(usize);

/// `MPI_Buffer_attach`.
pub fn attach(addr: usize, size: usize) -> Result<()> {
    let mut a = ATTACHED.lock();
    if a.is_some() {
        return Err(Error::new(
            Class::Buffer,
            "a buffer is already attached (detach it first)",
        ));
    }
    *a = Some(Attached {
        addr,
        size,
        used: 0,
        flying: Vec::new(),
    });
    Ok(())
}

/// `MPI_Buffer_detach`: waits for the buffered messages in flight, then returns the buffer's
/// address and size; (0, 0) when none is attached (as MPICH answers).
pub fn detach() -> Result<(usize, usize)> {
    let mut a = ATTACHED.lock();
    let Some(mut att) = a.take() else {
        return Ok((0, 0));
    };
    let mut first_err = None;
    for (_, mut r) in att.flying.drain(..) {
        if let Err(e) = r.wait() {
            first_err.get_or_insert(e);
        }
    }
    match first_err {
        Some(e) => Err(Error::new(
            Class::Other,
            format!("a buffered send failed: {e}"),
        )),
        None => Ok((att.addr, att.size)),
    }
}

/// `MPI_Buffer_flush`: waits for the buffered messages in flight (the buffer stays attached).
pub fn flush() -> Result<()> {
    let flying = match ATTACHED.lock().as_mut() {
        Some(att) => std::mem::take(&mut att.flying),
        None => return Ok(()),
    };
    let mut first_err = None;
    for (n, mut r) in flying {
        if let Err(e) = r.wait() {
            first_err.get_or_insert(e);
        }
        if let Some(att) = ATTACHED.lock().as_mut() {
            att.used = att.used.saturating_sub(n);
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

fn reap(att: &mut Attached) {
    att.flying.retain_mut(|(n, r)| match r.test() {
        Ok(None) => true,
        _ => {
            att.used -= *n;
            false
        }
    });
}

/// Reserves room for a message of `bytes` bytes.
pub fn reserve(bytes: usize) -> Result<Lease> {
    let mut a = ATTACHED.lock();
    let att = a.as_mut().ok_or_else(|| {
        Error::new(
            Class::Buffer,
            "buffered send with no buffer attached (MPI_Buffer_attach)",
        )
    })?;
    reap(att);
    let need = bytes.saturating_add(OVERHEAD);
    if att.size - att.used < need {
        return Err(Error::new(
            Class::Buffer,
            format!(
                "buffered send of {bytes} bytes needs {need} bytes of the attached buffer; {} of {} are free",
                att.size - att.used,
                att.size
            ),
        ));
    }
    att.used += need;
    Ok(Lease(need))
}

/// Returns a reservation unused (a buffered message to oneself, queued by the endpoint: the
/// attached buffer is checked for room, as for any buffered send, but not held).
pub fn release(lease: Lease) {
    if let Some(att) = ATTACHED.lock().as_mut() {
        att.used = att.used.saturating_sub(lease.0);
    }
}

/// Keeps the send of a reserved message until it completes (its space is then free again).
pub fn hand_over(lease: Lease, r: fmi::Request) {
    let mut a = ATTACHED.lock();
    match a.as_mut() {
        Some(att) => att.flying.push((lease.0, r)),
        // Detached in between by another thread: nothing to account; the send still completes.
        None => r.free(),
    }
}
