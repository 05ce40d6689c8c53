//! The origin side: each operation is one request to the target's service and its reply
//! (operations to oneself apply directly), so an operation is complete at the target when its
//! call returns: flushes have nothing left to wait for, an unlock only releases the lock, and a
//! fence is a barrier. Every wait is bounded by `FMI_MPI_TIMEOUT` and waits without holding
//! the window's connection, so this process's own service thread keeps answering meanwhile.

use super::wire::{self, Kind, Msg};
use super::{TAG_DONE, TAG_POST, TAG_REP, TAG_REQ, TAG_SYNC};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::win::WinObj;
use crate::types::Type;
use fmi::{Source, TagSel};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Room for a reply's error message beyond the data expected.
const ERROR_ROOM: usize = 1024;

/// Sends `m` to `target` and returns the reply's data (`expect` bytes at most on success).
pub fn request(w: &WinObj, target: usize, m: &Msg, expect: usize) -> Result<Vec<u8>, MpiError> {
    exchange(w, target, m, expect)?
}

/// [`request`], telling apart no reply (the outer error: a timeout or a broken connection)
/// and the target's error (the inner one).
fn exchange(
    w: &WinObj,
    target: usize,
    m: &Msg,
    expect: usize,
) -> Result<Result<Vec<u8>, MpiError>, MpiError> {
    if target == w.rank {
        return match m.kind {
            Kind::Lock | Kind::Unlock => Err(MpiError::new(
                MPI_ERR_INTERN,
                "a lock of one's own window goes through lock_local",
            )),
            _ => Ok(w.mem.execute(m)),
        };
    }
    let mut m = m.clone();
    m.seq = w.next_seq.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + w.timeout;
    let room = 9 + expect + ERROR_ROOM;
    let mut reply = w
        .link()?
        .lock()
        .irecv(room, Source::Rank(target), TagSel::Tag(TAG_REP))?;
    let mut sent = w.link()?.lock().isend(m.encode(), target, TAG_REQ)?;
    sent.wait()?;
    loop {
        let st = reply.wait()?;
        let buf = reply.take_buffer().unwrap_or_default();
        let buf = &buf[..st.bytes.min(buf.len())];
        let seq = wire::reply_seq(buf)?;
        // A reply to an earlier request that timed out here (u64::MAX: a request the target
        // could not read, answered with an error for the oldest one outstanding) is dropped.
        if seq == m.seq || seq == u64::MAX {
            return Ok(wire::parse_reply(buf, target).map(<[u8]>::to_vec));
        }
        if Instant::now() >= deadline {
            return Err(MpiError::other(format!(
                "no reply from target rank {target} within {:.0} s (FMI_MPI_TIMEOUT)",
                w.timeout.as_secs_f64()
            )));
        }
        reply = w
            .link()?
            .lock()
            .irecv(room, Source::Rank(target), TagSel::Tag(TAG_REP))?;
    }
}

/// Takes a lock on this process's own window (waiting, up to the timeout, for the origins
/// that hold or wait for it).
pub fn lock_local(w: &WinObj, exclusive: bool) -> Result<(), MpiError> {
    let deadline = Instant::now() + w.timeout;
    let mut pause = Duration::from_micros(20);
    while !w.mem.try_lock_local(exclusive) {
        if Instant::now() >= deadline {
            return Err(MpiError::other(format!(
                "MPI_Win_lock of this process's own window: not granted within {:.0} s (FMI_MPI_TIMEOUT)",
                w.timeout.as_secs_f64()
            )));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
    Ok(())
}

/// Takes a lock at `target`.
pub fn lock(w: &WinObj, target: usize, exclusive: bool) -> Result<(), MpiError> {
    if target == w.rank {
        return lock_local(w, exclusive);
    }
    match exchange(w, target, &Msg::control(Kind::Lock, exclusive as u8), 0) {
        Ok(r) => r.map(drop),
        Err(e) => {
            // No grant in time: the request is withdrawn (the target drops it from its queue,
            // or releases the lock if it granted it meanwhile), so the lock is not left held.
            let _ = request(
                w,
                target,
                &Msg::control(Kind::Unlock, WITHDRAW | exclusive as u8),
                0,
            );
            Err(e)
        }
    }
}

/// The flag of an unlock request that withdraws a lock request.
pub const WITHDRAW: u8 = 2;

/// Releases a lock at `target`.
pub fn unlock(w: &WinObj, target: usize, exclusive: bool) -> Result<(), MpiError> {
    if target == w.rank {
        return w.mem.unlock(exclusive);
    }
    request(w, target, &Msg::control(Kind::Unlock, exclusive as u8), 0).map(drop)
}

/// Waits for every request, failing with the first error.
fn wait_all(reqs: Vec<fmi::Request>) -> Result<(), MpiError> {
    let mut first = None;
    for mut r in reqs {
        if let Err(e) = r.wait() {
            first.get_or_insert(MpiError::from(e));
        }
    }
    first.map_or(Ok(()), Err)
}

/// A barrier of the window's ranks over its own connection (dissemination: ceil(log2 n)
/// rounds), waiting without holding the connection.
pub fn barrier(w: &WinObj) -> Result<(), MpiError> {
    let n = w.size;
    let mut dist = 1;
    let mut round = 0;
    while dist < n {
        let to = (w.rank + dist) % n;
        let from = (w.rank + n - dist) % n;
        let tag = TAG_SYNC + round;
        let recv = w
            .link()?
            .lock()
            .irecv(1, Source::Rank(from), TagSel::Tag(tag))?;
        let send = w.link()?.lock().isend(vec![0], to, tag)?;
        wait_all(vec![send, recv])?;
        dist *= 2;
        round += 1;
    }
    Ok(())
}

/// `MPI_Win_post`: tells each origin of the group that its access may start.
pub fn post(w: &WinObj, origins: &[usize]) -> Result<(), MpiError> {
    let mut reqs = Vec::new();
    for &o in origins.iter().filter(|&&o| o != w.rank) {
        reqs.push(w.link()?.lock().isend(vec![0], o, TAG_POST)?);
    }
    wait_all(reqs)
}

/// `MPI_Win_start`: waits until each target of the group has posted.
pub fn start(w: &WinObj, targets: &[usize]) -> Result<(), MpiError> {
    let mut reqs = Vec::new();
    for &t in targets.iter().filter(|&&t| t != w.rank) {
        reqs.push(
            w.link()?
                .lock()
                .irecv(1, Source::Rank(t), TagSel::Tag(TAG_POST))?,
        );
    }
    wait_all(reqs)
}

/// `MPI_Win_complete`: tells each target that this origin's operations are done (they are:
/// each completed when it returned).
pub fn complete(w: &WinObj, targets: &[usize]) -> Result<(), MpiError> {
    let mut reqs = Vec::new();
    for &t in targets.iter().filter(|&&t| t != w.rank) {
        reqs.push(w.link()?.lock().isend(vec![0], t, TAG_DONE)?);
    }
    wait_all(reqs)
}

/// `MPI_Win_test`'s step: receives the completions that have arrived; returns the origins
/// still to complete.
pub fn arrived(w: &WinObj, origins: &[usize], block: bool) -> Result<Vec<usize>, MpiError> {
    let mut left = Vec::new();
    for &o in origins.iter().filter(|&&o| o != w.rank) {
        if block {
            let mut r = w
                .link()?
                .lock()
                .irecv(1, Source::Rank(o), TagSel::Tag(TAG_DONE))?;
            r.wait()?;
            continue;
        }
        let mut c = w.link()?.lock();
        if c.iprobe(Source::Rank(o), TagSel::Tag(TAG_DONE))?.is_some() {
            let mut b = [0u8; 1];
            c.recv_tagged(&mut b, Source::Rank(o), TagSel::Tag(TAG_DONE))?;
        } else {
            left.push(o);
        }
    }
    Ok(left)
}

/// The data blocks of `count` elements of `t`, as (byte offset, length), adjacent ones merged.
pub fn layout(t: &Type, count: u64) -> Result<Vec<(i64, u64)>, MpiError> {
    let bytes = t.bytes(count)?;
    let mut v: Vec<(i64, u64)> = Vec::new();
    t.walk(count, bytes, |mem, _, len| {
        if let Some(last) = v.last_mut() {
            if last.0 + last.1 as i64 == mem {
                last.1 += len as u64;
                return;
            }
        }
        v.push((mem, len as u64));
    });
    Ok(v)
}

/// The packed data of `count` elements of `t` at `buf`.
///
/// # Safety
/// `buf` holds `count` elements of `t`.
pub unsafe fn pack(buf: *const u8, count: u64, t: &Type) -> Result<Vec<u8>, MpiError> {
    let n = usize::try_from(t.bytes(count)?)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, "the data does not fit this machine"))?;
    let mut v = vec![0u8; n];
    if n > 0 {
        t.pack(buf, count, &mut v)?;
    }
    Ok(v)
}
