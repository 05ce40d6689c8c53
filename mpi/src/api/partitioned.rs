//! Partitioned point-to-point (MPI-4): Psend_init, Precv_init, Pready, Pready_range,
//! Pready_list, Parrived.
//!
//! A partitioned request moves the whole buffer (`partitions * count` elements) as one
//! message: the send starts when the last partition is marked ready, so `MPI_Parrived` is true
//! for every partition once the message has arrived. Each `MPI_Start` matches the next message
//! of that source and tag on the communicator (the init calls do not pair the requests).

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::request::{self, Operation};
use crate::objects::{comm, datatype, info, status};
use crate::p2p::{From, Mode, Req};
use std::ffi::{c_int, c_void};

/// A partitioned send: the persistent send of the whole buffer (None: to `MPI_PROC_NULL`),
/// started once every partition is ready.
struct PartSend {
    send: Option<Req>,
    ready: Vec<bool>,
    active: bool,
    sent: bool,
}

impl Operation for PartSend {
    fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError> {
        if !self.sent {
            if block {
                self.active = false;
                return Err(MpiError::new(
                    MPI_ERR_REQUEST,
                    format!(
                        "{} of {} partitions are not ready (MPI_Pready): the send could never \
                         complete",
                        self.ready.iter().filter(|r| !**r).count(),
                        self.ready.len()
                    ),
                ));
            }
            return Ok(None);
        }
        let r = match &mut self.send {
            Some(s) => s.progress(block)?.map(|st| status::of(&st)),
            None => Some(status::empty(MPI_PROC_NULL)),
        };
        if r.is_some() {
            self.active = false;
        }
        Ok(r)
    }
    fn start(&mut self) -> Result<(), MpiError> {
        if self.active {
            return Err(MpiError::new(
                MPI_ERR_REQUEST,
                "MPI_Start of an active partitioned request",
            ));
        }
        self.ready.iter_mut().for_each(|r| *r = false);
        self.active = true;
        self.sent = false;
        Ok(())
    }
    fn is_persistent(&self) -> bool {
        true
    }
    fn is_active(&self) -> bool {
        self.active
    }
    fn pready(&mut self, partitions: &[usize]) -> Result<(), MpiError> {
        if !self.active {
            return Err(MpiError::new(
                MPI_ERR_REQUEST,
                "MPI_Pready on a partitioned request that is not started (MPI_Start)",
            ));
        }
        for &p in partitions {
            let n = self.ready.len();
            let slot = self
                .ready
                .get_mut(p)
                .ok_or_else(|| MpiError::arg(format!("partition {p} out of range (0..{n})")))?;
            if *slot {
                return Err(MpiError::arg(format!(
                    "partition {p} is already ready (MPI_Pready once per partition and start)"
                )));
            }
            *slot = true;
        }
        if !self.sent && self.ready.iter().all(|r| *r) {
            if let Some(s) = &mut self.send {
                // SAFETY: MPI's contract: the buffer given to MPI_Psend_init stays valid while
                // the request exists.
                unsafe { s.start()? };
            }
            self.sent = true;
        }
        Ok(())
    }
}

/// A partitioned receive: the persistent receive of the whole buffer (None: from
/// `MPI_PROC_NULL`); a result found by `MPI_Parrived` is kept for the wait.
struct PartRecv {
    recv: Option<Req>,
    partitions: usize,
    active: bool,
    done: Option<Result<MPI_Status, MpiError>>,
}

impl PartRecv {
    fn poll(&mut self, block: bool) -> Result<bool, MpiError> {
        if self.done.is_some() {
            return Ok(true);
        }
        let r = match &mut self.recv {
            Some(q) => match q.progress(block) {
                Ok(None) => return Ok(false),
                Ok(Some(st)) => Ok(status::of(&st)),
                Err(e) => Err(MpiError::from(e)),
            },
            None => Ok(status::empty(MPI_PROC_NULL)),
        };
        self.done = Some(r);
        Ok(true)
    }
}

impl Operation for PartRecv {
    fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError> {
        if !self.poll(block)? {
            return Ok(None);
        }
        self.active = false;
        self.done.take().expect("polled").map(Some)
    }
    fn cancel(&mut self) -> Result<(), MpiError> {
        if let Some(q) = &mut self.recv {
            q.cancel();
        }
        Ok(())
    }
    fn start(&mut self) -> Result<(), MpiError> {
        if self.active {
            return Err(MpiError::new(
                MPI_ERR_REQUEST,
                "MPI_Start of an active partitioned request",
            ));
        }
        if let Some(q) = &mut self.recv {
            // SAFETY: MPI's contract: the buffer given to MPI_Precv_init stays valid while the
            // request exists.
            unsafe { q.start()? };
        }
        self.active = true;
        self.done = None;
        Ok(())
    }
    fn is_persistent(&self) -> bool {
        true
    }
    fn is_active(&self) -> bool {
        self.active
    }
    fn parrived(&mut self, partition: usize) -> Result<bool, MpiError> {
        if partition >= self.partitions {
            return Err(MpiError::arg(format!(
                "partition {partition} out of range (0..{})",
                self.partitions
            )));
        }
        if !self.active {
            return Ok(true);
        }
        self.poll(false)
    }
}

/// The element count of the whole buffer.
fn whole(partitions: c_int, count: MPI_Count) -> Result<u64, MpiError> {
    let p = u64::try_from(partitions)
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| {
            MpiError::new(
                MPI_ERR_COUNT,
                format!("partitions = {partitions} (at least 1)"),
            )
        })?;
    let c = u64::try_from(count)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("count {count} is negative")))?;
    p.checked_mul(c)
        .ok_or_else(|| MpiError::new(MPI_ERR_COUNT, "partitions times count overflows"))
}

fn tag_of(tag: c_int) -> Result<i32, MpiError> {
    if !(0..=crate::p2p::TAG_UB).contains(&tag) {
        return Err(MpiError::new(
            MPI_ERR_TAG,
            format!(
                "tag {tag} out of range (valid: 0..={}; no wildcards)",
                crate::p2p::TAG_UB
            ),
        ));
    }
    Ok(tag)
}

fn peer_of(r: c_int, what: &str) -> Result<Option<usize>, MpiError> {
    match r {
        MPI_PROC_NULL => Ok(None),
        r if r >= 0 => Ok(Some(r as usize)),
        r => Err(MpiError::new(
            MPI_ERR_RANK,
            format!("{what} rank {r} is invalid (a rank or MPI_PROC_NULL; no wildcards)"),
        )),
    }
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn psend_init(
    buf: *const c_void,
    partitions: c_int,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    info::entries_or_null(i)?;
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let n = whole(partitions, count)?;
    let t = datatype::committed(dt)?;
    let tag = tag_of(tag)?;
    let send = match peer_of(dest, "destination")? {
        None => None,
        Some(d) => {
            let (core, ep) = obj.p2p()?;
            Some(Req::send_init(
                ep,
                core,
                buf.cast(),
                n,
                &t,
                d,
                tag,
                Mode::Standard,
            )?)
        }
    };
    let op = PartSend {
        send,
        ready: vec![false; partitions as usize],
        active: false,
        sent: false,
    };
    *r = request::register(Box::new(op), crate::entry::Raise::Comm(c));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn precv_init(
    buf: *mut c_void,
    partitions: c_int,
    count: MPI_Count,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    info::entries_or_null(i)?;
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let n = whole(partitions, count)?;
    let t = datatype::committed(dt)?;
    let tag = tag_of(tag)?;
    let recv = match peer_of(source, "source")? {
        None => None,
        Some(s) => {
            let (core, ep) = obj.p2p()?;
            Some(Req::recv_init(
                ep,
                core,
                buf.cast(),
                n,
                &t,
                From::Rank(s),
                Some(tag),
            )?)
        }
    };
    let op = PartRecv {
        recv,
        partitions: partitions as usize,
        active: false,
        done: None,
    };
    *r = request::register(Box::new(op), crate::entry::Raise::Comm(c));
    Ok(())
}

fn partition(p: c_int) -> Result<usize, MpiError> {
    usize::try_from(p).map_err(|_| MpiError::arg(format!("partition {p} is negative")))
}

pub fn pready(p: c_int, r: MPI_Request) -> Result<(), MpiError> {
    let p = partition(p)?;
    request::get(r)?.with_op(|op| op.pready(&[p]))
}

pub fn pready_range(lo: c_int, hi: c_int, r: MPI_Request) -> Result<(), MpiError> {
    let (lo, hi) = (partition(lo)?, partition(hi)?);
    if lo > hi {
        return Err(MpiError::arg(format!(
            "partition_low {lo} > partition_high {hi}"
        )));
    }
    let all: Vec<usize> = (lo..=hi).collect();
    request::get(r)?.with_op(|op| op.pready(&all))
}

pub unsafe fn pready_list(n: c_int, list: *const c_int, r: MPI_Request) -> Result<(), MpiError> {
    let n = crate::cabi::count(n, "length")?;
    let list = crate::cabi::slice(list, n, "array_of_partitions")?;
    let all = list
        .iter()
        .map(|&p| partition(p))
        .collect::<Result<Vec<_>, _>>()?;
    request::get(r)?.with_op(|op| op.pready(&all))
}

pub unsafe fn parrived(r: MPI_Request, p: c_int, flag: *mut c_int) -> Result<(), MpiError> {
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    let p = partition(p)?;
    let got = request::get(r)?.with_op(|op| op.parrived(p))?;
    *flag = got as c_int;
    Ok(())
}
