//! Neighbourhood collectives on topology communicators: `MPI_Neighbor_allgather(v)`,
//! `MPI_Neighbor_alltoall(v/w)` and their `_c` forms. Block k of the send side goes to the k-th
//! out-neighbour, block k of the receive side comes from the k-th in-neighbour (a grid's are,
//! per dimension, the -1 then the +1 neighbour; `MPI_PROC_NULL` past a non-periodic edge: no
//! transfer). All blocks between two processes travel in one block of the core's `alltoallv`
//! (so the core's plan picks the algorithm and channel), in list order: a process that is a
//! neighbour twice gets its blocks matched in order, as MPICH does. The call is described as
//! the other collectives describe theirs (`crate::coll`), so the non-blocking and persistent
//! forms (`super::ineighbor`) run on the communicator's collectives worker like theirs.

use crate::cabi;
use crate::coll::{Coll, Input, Output, Region, Who};
use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::coll_request::CollOp;
use crate::objects::comm;
use crate::objects::datatype as dt;
use crate::objects::{request, topo};
use crate::types::{Named, Type};
use std::ffi::{c_int, c_void};
use std::sync::Arc;

/// `count` elements of `t` at `at` (one block of a neighbourhood collective).
pub(crate) struct Part {
    at: *mut u8,
    count: u64,
    t: Arc<Type>,
}

// SAFETY: the buffers belong to the program, which keeps them valid and untouched until the
// request completes (the MPI contract); only the thread in an MPI call uses them.
unsafe impl Send for Part {}

/// How a neighbourhood collective runs: now (blocking), as a request started now (`MPI_I*`),
/// or as a persistent request (`*_init`, inactive until `MPI_Start`).
pub(crate) enum Mode {
    Now,
    Start(*mut MPI_Request),
    Init(*mut MPI_Request),
}

/// Runs the exchange now, or makes the request of `mode`: the call is described as one core
/// `alltoallv` ([`describe`]) and run as the other collectives run theirs (`crate::coll`),
/// the request forms on the communicator's collectives worker (`CollOp`).
fn finish(c: MPI_Comm, sends: Vec<Part>, recvs: Vec<Part>, mode: Mode) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let (req, op) = match mode {
        Mode::Now => {
            let mut coll = describe(c, &sends, &recvs)?;
            obj.with(|k| coll.run(k))?;
            // SAFETY: the output buffers were valid for the call, which has just ended.
            unsafe { coll.finish() }?;
            return Ok(());
        }
        Mode::Start(r) => (r, CollOp::once(&obj, describe(c, &sends, &recvs)?)?),
        Mode::Init(r) => {
            let again = move |_: &Who| describe(c, &sends, &recvs);
            (r, CollOp::persistent(&obj, Box::new(again))?)
        }
    };
    if req.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let h = request::register(Box::new(op), Raise::Comm(c));
    // SAFETY: checked not NULL; the caller's out-parameter.
    unsafe { cabi::out(req, h, "request") }
}

/// The call as one core `alltoallv`: per peer one region, the blocks for (from) that peer in
/// list order (several blocks become one struct type over their addresses).
fn describe(c: MPI_Comm, sends: &[Part], recvs: &[Part]) -> Result<Coll, MpiError> {
    let size = comm::get(c)?.size;
    let (ins, outs) = neighbours(c)?;
    if sends.len() != outs.len() || recvs.len() != ins.len() {
        return Err(MpiError::new(
            MPI_ERR_INTERN,
            "the neighbour lists changed since the call was described",
        ));
    }
    let send = regions(size, sends, &outs)?;
    let recv = regions(size, recvs, &ins)?;
    // SAFETY: the regions are the program's buffers, valid until the call completes.
    unsafe {
        Ok(Coll::Alltoallv {
            send: Input::new(send)?,
            recv: Output::new(recv, false)?,
        })
    }
}

fn regions(size: usize, parts: &[Part], peers: &Ranks) -> Result<Vec<Region>, MpiError> {
    let mut by_peer: Vec<Vec<&Part>> = vec![Vec::new(); size];
    for (p, peer) in parts.iter().zip(peers) {
        p.t.check_committed()?;
        if let Some(r) = *peer {
            by_peer[r].push(p);
        }
    }
    by_peer
        .into_iter()
        .map(|ps| match ps[..] {
            [] => Ok(Region::new(std::ptr::null(), 0, Type::named(Named::Byte))),
            [p] => Ok(Region::new(p.at, p.count, p.t.clone())),
            _ => {
                let base = ps[0].at;
                let lens: Vec<i64> = ps.iter().map(|p| p.count as i64).collect();
                let disps: Vec<i64> = ps
                    .iter()
                    .map(|p| (p.at as isize).wrapping_sub(base as isize) as i64)
                    .collect();
                let types: Vec<Arc<Type>> = ps.iter().map(|p| p.t.clone()).collect();
                let t = Type::create_struct(&lens, &disps, &types, false)?;
                t.commit();
                Ok(Region::new(base, 1, t))
            }
        })
        .collect()
}

fn part(base: *const c_void, disp_bytes: i64, count: i64, t: &Arc<Type>) -> Result<Part, MpiError> {
    let count = u64::try_from(count)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("count {count} is negative")))?;
    Ok(Part {
        at: base
            .cast::<u8>()
            .cast_mut()
            .wrapping_offset(disp_bytes as isize),
        count,
        t: t.clone(),
    })
}

/// Ranks of neighbours in list order; None: `MPI_PROC_NULL`.
type Ranks = Vec<Option<usize>>;

/// The (in, out) neighbours of this process in `c`.
fn neighbours(c: MPI_Comm) -> Result<(Ranks, Ranks), MpiError> {
    let obj = comm::get(c)?;
    let t = topo::of(c).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_TOPOLOGY,
            "a neighbourhood collective needs a communicator with a topology",
        )
    })?;
    let (i, o) = t.neighbors(obj.rank as i64);
    let f = |v: Vec<Option<i64>>| v.into_iter().map(|x| x.map(|r| r as usize)).collect();
    Ok((f(i), f(o)))
}

fn extent_of(t: &Arc<Type>) -> i64 {
    t.extent()
}

fn in_place(p: *const c_void) -> Result<(), MpiError> {
    if p as usize == MPI_IN_PLACE {
        return Err(MpiError::arg(
            "MPI_IN_PLACE is not allowed in a neighbourhood collective",
        ));
    }
    Ok(())
}

/// Counts or displacements of `n` neighbours as 64-bit values.
fn vals<T: Copy + Into<i64>>(p: *const T, n: usize, what: &str) -> Result<Vec<i64>, MpiError> {
    // SAFETY: an array of one value per neighbour (the MPI contract).
    Ok(unsafe { cabi::slice(p, n, what)? }
        .iter()
        .map(|&v| v.into())
        .collect())
}

fn aints(p: *const MPI_Aint, n: usize, what: &str) -> Result<Vec<i64>, MpiError> {
    // SAFETY: as `vals`.
    Ok(unsafe { cabi::slice(p, n, what)? }
        .iter()
        .map(|&v| v as i64)
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn allgather_any(
    sbuf: *const c_void,
    scount: i64,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: i64,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    in_place(sbuf)?;
    let (ins, outs) = neighbours(c)?;
    let (st, rt) = (dt::get(stype)?, dt::get(rtype)?);
    let sends = (0..outs.len())
        .map(|_| part(sbuf, 0, scount, &st))
        .collect::<Result<_, _>>()?;
    let ext = extent_of(&rt);
    let recvs = (0..ins.len())
        .map(|k| part(rbuf, k as i64 * rcount * ext, rcount, &rt))
        .collect::<Result<_, _>>()?;
    finish(c, sends, recvs, mode)
}

#[allow(clippy::too_many_arguments)]
fn allgatherv_any(
    sbuf: *const c_void,
    scount: i64,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: Vec<i64>,
    displs: Vec<i64>,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    in_place(sbuf)?;
    let (_, outs) = neighbours(c)?;
    let (st, rt) = (dt::get(stype)?, dt::get(rtype)?);
    let sends = (0..outs.len())
        .map(|_| part(sbuf, 0, scount, &st))
        .collect::<Result<_, _>>()?;
    let ext = extent_of(&rt);
    let recvs = rcounts
        .iter()
        .zip(&displs)
        .map(|(&n, &d)| part(rbuf, d * ext, n, &rt))
        .collect::<Result<_, _>>()?;
    finish(c, sends, recvs, mode)
}

#[allow(clippy::too_many_arguments)]
fn alltoall_any(
    sbuf: *const c_void,
    scount: i64,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: i64,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    in_place(sbuf)?;
    let (ins, outs) = neighbours(c)?;
    let (st, rt) = (dt::get(stype)?, dt::get(rtype)?);
    let (se, re) = (extent_of(&st), extent_of(&rt));
    let sends = (0..outs.len())
        .map(|k| part(sbuf, k as i64 * scount * se, scount, &st))
        .collect::<Result<_, _>>()?;
    let recvs = (0..ins.len())
        .map(|k| part(rbuf, k as i64 * rcount * re, rcount, &rt))
        .collect::<Result<_, _>>()?;
    finish(c, sends, recvs, mode)
}

/// Alltoallv and alltoallw: per-neighbour counts, byte displacements and types.
#[allow(clippy::too_many_arguments)]
fn alltoallw_any(
    sbuf: *const c_void,
    scounts: Vec<i64>,
    sdispls: Vec<i64>,
    stypes: Vec<Arc<Type>>,
    rbuf: *mut c_void,
    rcounts: Vec<i64>,
    rdispls: Vec<i64>,
    rtypes: Vec<Arc<Type>>,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    in_place(sbuf)?;
    let sends = (0..scounts.len())
        .map(|k| part(sbuf, sdispls[k], scounts[k], &stypes[k]))
        .collect::<Result<_, _>>()?;
    let recvs = (0..rcounts.len())
        .map(|k| part(rbuf, rdispls[k], rcounts[k], &rtypes[k]))
        .collect::<Result<_, _>>()?;
    finish(c, sends, recvs, mode)
}

/// Alltoallv: displacements in extents of the one type, made byte displacements.
#[allow(clippy::too_many_arguments)]
fn alltoallv_any(
    sbuf: *const c_void,
    scounts: Vec<i64>,
    sdispls: Vec<i64>,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: Vec<i64>,
    rdispls: Vec<i64>,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    let (st, rt) = (dt::get(stype)?, dt::get(rtype)?);
    let (se, re) = (extent_of(&st), extent_of(&rt));
    let sd = sdispls.iter().map(|d| d * se).collect();
    let rd = rdispls.iter().map(|d| d * re).collect();
    let sts = vec![st; scounts.len()];
    let rts = vec![rt; rcounts.len()];
    alltoallw_any(sbuf, scounts, sd, sts, rbuf, rcounts, rd, rts, c, mode)
}

fn degrees(c: MPI_Comm) -> Result<(usize, usize), MpiError> {
    let (i, o) = neighbours(c)?;
    Ok((i.len(), o.len()))
}

fn types(p: *const MPI_Datatype, n: usize, what: &str) -> Result<Vec<Arc<Type>>, MpiError> {
    // SAFETY: one handle per neighbour (the MPI contract).
    unsafe { cabi::slice(p, n, what)? }
        .iter()
        .map(|&h| dt::get(h))
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_allgather_in(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    allgather_any(
        sbuf,
        scount.into(),
        stype,
        rbuf,
        rcount.into(),
        rtype,
        c,
        mode,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_allgather(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_allgather_in(sbuf, scount, stype, rbuf, rcount, rtype, c, Mode::Now)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_allgather_c_in(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    allgather_any(sbuf, scount, stype, rbuf, rcount, rtype, c, mode)
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_allgather_c(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_allgather_c_in(sbuf, scount, stype, rbuf, rcount, rtype, c, Mode::Now)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_allgatherv_in(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    displs: *const c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    let (ni, _) = degrees(c)?;
    let (rc, rd) = (
        vals(rcounts, ni, "recvcounts")?,
        vals(displs, ni, "displs")?,
    );
    allgatherv_any(sbuf, scount.into(), stype, rbuf, rc, rd, rtype, c, mode)
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_allgatherv(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    displs: *const c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_allgatherv_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcounts,
        displs,
        rtype,
        c,
        Mode::Now,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_allgatherv_c_in(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    displs: *const MPI_Aint,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    let (ni, _) = degrees(c)?;
    let (rc, rd) = (
        vals(rcounts, ni, "recvcounts")?,
        aints(displs, ni, "displs")?,
    );
    allgatherv_any(sbuf, scount, stype, rbuf, rc, rd, rtype, c, mode)
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_allgatherv_c(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    displs: *const MPI_Aint,
    rtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_allgatherv_c_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcounts,
        displs,
        rtype,
        c,
        Mode::Now,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_alltoall_in(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    alltoall_any(
        sbuf,
        scount.into(),
        stype,
        rbuf,
        rcount.into(),
        rtype,
        c,
        mode,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoall(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_alltoall_in(sbuf, scount, stype, rbuf, rcount, rtype, c, Mode::Now)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_alltoall_c_in(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    alltoall_any(sbuf, scount, stype, rbuf, rcount, rtype, c, mode)
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoall_c(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_alltoall_c_in(sbuf, scount, stype, rbuf, rcount, rtype, c, Mode::Now)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_alltoallv_in(
    sbuf: *const c_void,
    scounts: *const c_int,
    sdispls: *const c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    let (ni, no) = degrees(c)?;
    alltoallv_any(
        sbuf,
        vals(scounts, no, "sendcounts")?,
        vals(sdispls, no, "sdispls")?,
        stype,
        rbuf,
        vals(rcounts, ni, "recvcounts")?,
        vals(rdispls, ni, "rdispls")?,
        rtype,
        c,
        mode,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoallv(
    sbuf: *const c_void,
    scounts: *const c_int,
    sdispls: *const c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_alltoallv_in(
        sbuf,
        scounts,
        sdispls,
        stype,
        rbuf,
        rcounts,
        rdispls,
        rtype,
        c,
        Mode::Now,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_alltoallv_c_in(
    sbuf: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    let (ni, no) = degrees(c)?;
    alltoallv_any(
        sbuf,
        vals(scounts, no, "sendcounts")?,
        aints(sdispls, no, "sdispls")?,
        stype,
        rbuf,
        vals(rcounts, ni, "recvcounts")?,
        aints(rdispls, ni, "rdispls")?,
        rtype,
        c,
        mode,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoallv_c(
    sbuf: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_alltoallv_c_in(
        sbuf,
        scounts,
        sdispls,
        stype,
        rbuf,
        rcounts,
        rdispls,
        rtype,
        c,
        Mode::Now,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_alltoallw_in(
    sbuf: *const c_void,
    scounts: *const c_int,
    sdispls: *const MPI_Aint,
    stypes: *const MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const MPI_Aint,
    rtypes: *const MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    let (ni, no) = degrees(c)?;
    alltoallw_any(
        sbuf,
        vals(scounts, no, "sendcounts")?,
        aints(sdispls, no, "sdispls")?,
        types(stypes, no, "sendtypes")?,
        rbuf,
        vals(rcounts, ni, "recvcounts")?,
        aints(rdispls, ni, "rdispls")?,
        types(rtypes, ni, "recvtypes")?,
        c,
        mode,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoallw(
    sbuf: *const c_void,
    scounts: *const c_int,
    sdispls: *const MPI_Aint,
    stypes: *const MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const MPI_Aint,
    rtypes: *const MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_alltoallw_in(
        sbuf,
        scounts,
        sdispls,
        stypes,
        rbuf,
        rcounts,
        rdispls,
        rtypes,
        c,
        Mode::Now,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbor_alltoallw_c_in(
    sbuf: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    stypes: *const MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rtypes: *const MPI_Datatype,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    let (ni, no) = degrees(c)?;
    alltoallw_any(
        sbuf,
        vals(scounts, no, "sendcounts")?,
        aints(sdispls, no, "sdispls")?,
        types(stypes, no, "sendtypes")?,
        rbuf,
        vals(rcounts, ni, "recvcounts")?,
        aints(rdispls, ni, "rdispls")?,
        types(rtypes, ni, "recvtypes")?,
        c,
        mode,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoallw_c(
    sbuf: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    stypes: *const MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rtypes: *const MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    neighbor_alltoallw_c_in(
        sbuf,
        scounts,
        sdispls,
        stypes,
        rbuf,
        rcounts,
        rdispls,
        rtypes,
        c,
        Mode::Now,
    )
}
