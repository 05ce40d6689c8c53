//! The blocking collectives on an inter-communicator: the arguments in MPI's inter-communicator
//! terms (a root of `MPI_ROOT`, `MPI_PROC_NULL` or a remote rank; counts and blocks per remote
//! process; no `MPI_IN_PLACE`), run by `crate::coll::inter`. `api/coll.rs` hands a call on an
//! inter-communicator here. Scan and exscan are erroneous on inter-communicators
//! (MPI_ERR_COMM).

use crate::api::colldesc::{blocks, in_place, reduction, region, vblocks, Int};
use crate::coll::inter::{self, Root, Sides};
use crate::coll::{Coll, Input, Output, Who};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm::{self, CommObj};
use crate::objects::intercomm;
use std::ffi::{c_int, c_void};

type R = Result<(), MpiError>;

/// Whether a collective on `c` is an inter-communicator's (then it is run here).
pub(crate) fn applies(c: MPI_Comm) -> bool {
    intercomm::is_inter(c)
}

/// Runs `f` with the cores of inter-communicator `obj`.
fn with_sides(obj: &CommObj, f: impl FnOnce(Sides) -> fmi::Result<()>) -> R {
    let i = obj.inter.as_ref().ok_or_else(intercomm::not_inter)?;
    let (local_off, remote_off) = i.offsets(obj.size);
    let mut local = i
        .local
        .try_lock()
        .ok_or_else(|| MpiError::other("the inter-communicator is in use by another thread"))?;
    obj.with_core(|union| {
        f(Sides {
            union,
            local: &mut local,
            local_off,
            remote_off,
            remote_size: i.remote.len(),
        })
    })
}

fn remote_size(obj: &CommObj) -> usize {
    obj.inter.as_ref().map_or(0, |i| i.remote.len())
}

fn root_of(obj: &CommObj, root: c_int) -> Result<Root, MpiError> {
    let n = remote_size(obj);
    match root {
        MPI_ROOT => Ok(Root::Me),
        MPI_PROC_NULL => Ok(Root::Idle),
        r if r >= 0 && (r as usize) < n => Ok(Root::Remote(r as usize)),
        r => Err(MpiError::new(
            MPI_ERR_ROOT,
            format!(
                "root {r} is invalid on an inter-communicator (MPI_ROOT, MPI_PROC_NULL, or a \
                 rank of the remote group: 0..{n})"
            ),
        )),
    }
}

fn no_in_place(ps: &[*const c_void]) -> R {
    if ps.iter().any(|&p| in_place(p)) {
        return Err(MpiError::new(
            MPI_ERR_BUFFER,
            "MPI_IN_PLACE is not allowed on an inter-communicator",
        ));
    }
    Ok(())
}

/// Runs a non-rooted call described per remote process (`remote`) or per local process.
fn described(
    c: MPI_Comm,
    remote: bool,
    describe: impl FnOnce(&Who) -> Result<Coll, MpiError>,
) -> R {
    let obj = comm::get(c)?;
    let who = Who {
        rank: obj.rank,
        size: if remote { remote_size(&obj) } else { obj.size },
    };
    let mut coll = describe(&who)?;
    with_sides(&obj, |s| match &mut coll {
        Coll::Barrier => inter::barrier(s),
        Coll::Allgather { send, recv } | Coll::Allgatherv { send, recv } => {
            let (buf, b) = recv.parts();
            inter::allgather(s, send.bytes(), buf, b)
        }
        Coll::Alltoall { send, recv } | Coll::Alltoallv { send, recv } => {
            let (buf, b) = recv.parts();
            inter::alltoallv(s, send.bytes(), send.blocks(), buf, b)
        }
        Coll::Allreduce { send, recv, red } => {
            inter::allreduce(s, send.bytes(), recv.bytes_mut(), red)
        }
        Coll::ReduceScatter {
            send,
            recv,
            counts,
            red,
            ..
        } => inter::reduce_scatter(s, send.bytes(), recv.bytes_mut(), counts, red),
        _ => Err(fmi::Error::new(
            fmi::ErrorKind::Internal,
            "a rooted collective described as a non-rooted one",
        )),
    })?;
    // SAFETY: the output buffers were valid for the call, which has just ended.
    unsafe { coll.finish() }?;
    Ok(())
}

pub(crate) unsafe fn bcast_of(
    buf: *mut c_void,
    n: i64,
    dt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    let obj = comm::get(c)?;
    let root = root_of(&obj, root)?;
    match root {
        Root::Idle => with_sides(&obj, |s| inter::bcast(s, &mut [], Root::Idle)),
        Root::Me => {
            let send = Input::new(vec![region(buf, n, dt, "buffer")?])?;
            let mut data = send.bytes().to_vec();
            with_sides(&obj, |s| inter::bcast(s, &mut data, root))
        }
        Root::Remote(_) => {
            let mut out = Output::new(vec![region(buf, n, dt, "buffer")?], false)?;
            with_sides(&obj, |s| inter::bcast(s, out.bytes_mut(), root))?;
            Ok(out.finish()?)
        }
    }
}

/// Gather (`v`: the root's counts and displacements per remote process, else `rn` each).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gather_of<C: Int, D: Int>(
    sb: *const c_void,
    sn: i64,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: i64,
    v: Option<(*const C, *const D)>,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    no_in_place(&[sb, rb])?;
    let obj = comm::get(c)?;
    let root = root_of(&obj, root)?;
    match root {
        Root::Idle => Ok(()),
        Root::Remote(_) => {
            let send = Input::new(vec![region(sb, sn, st, "sendbuf")?])?;
            with_sides(&obj, |s| inter::gather(s, send.bytes(), None, root))
        }
        Root::Me => {
            let n = remote_size(&obj);
            let regions = match v {
                None => blocks(rb, rn, rt, n, "recvbuf")?,
                Some((counts, displs)) => {
                    let who = Who { rank: 0, size: n };
                    vblocks(&who, rb, counts, displs, rt, "recv")?
                }
            };
            let mut out = Output::new(regions, false)?;
            with_sides(&obj, |s| inter::gather(s, &[], Some(out.parts()), root))?;
            Ok(out.finish()?)
        }
    }
}

/// Scatter (`v`: the root's counts and displacements per remote process, else `sn` each).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn scatter_of<C: Int, D: Int>(
    sb: *const c_void,
    sn: i64,
    v: Option<(*const C, *const D)>,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: i64,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    no_in_place(&[sb, rb])?;
    let obj = comm::get(c)?;
    let root = root_of(&obj, root)?;
    match root {
        Root::Idle => Ok(()),
        Root::Remote(_) => {
            let mut out = Output::new(vec![region(rb, rn, rt, "recvbuf")?], false)?;
            with_sides(&obj, |s| inter::scatter(s, None, out.bytes_mut(), root))?;
            Ok(out.finish()?)
        }
        Root::Me => {
            let n = remote_size(&obj);
            let regions = match v {
                None => blocks(sb, sn, st, n, "sendbuf")?,
                Some((counts, displs)) => {
                    let who = Who { rank: 0, size: n };
                    vblocks(&who, sb, counts, displs, st, "send")?
                }
            };
            let send = Input::new(regions)?;
            with_sides(&obj, |s| {
                inter::scatter(s, Some((send.bytes(), send.blocks())), &mut [], root)
            })
        }
    }
}

pub(crate) unsafe fn reduce_of(
    sb: *const c_void,
    rb: *mut c_void,
    n: i64,
    dt: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    c: MPI_Comm,
) -> R {
    no_in_place(&[sb, rb])?;
    let obj = comm::get(c)?;
    let root = root_of(&obj, root)?;
    if root == Root::Idle {
        // The buffers, datatype and operator are not significant here.
        return Ok(());
    }
    let red = reduction(dt, op)?;
    match root {
        Root::Idle => Ok(()),
        Root::Remote(_) => {
            let send = Input::new(vec![region(sb, n, dt, "sendbuf")?])?;
            with_sides(&obj, |s| inter::reduce(s, send.bytes(), None, &red, root))
        }
        Root::Me => {
            let mut out = Output::new(vec![region(rb, n, dt, "recvbuf")?], false)?;
            with_sides(&obj, |s| {
                inter::reduce(s, &[], Some(out.bytes_mut()), &red, root)
            })?;
            Ok(out.finish()?)
        }
    }
}

/// A call described per remote process (allgather(v), alltoall(v, w)), without MPI_IN_PLACE.
pub(crate) fn per_remote(
    c: MPI_Comm,
    bufs: &[*const c_void],
    describe: impl FnOnce(&Who) -> Result<Coll, MpiError>,
) -> R {
    no_in_place(bufs)?;
    described(c, true, describe)
}

/// A call described per local process (allreduce, reduce_scatter(_block)), without
/// MPI_IN_PLACE.
pub(crate) fn per_local(
    c: MPI_Comm,
    bufs: &[*const c_void],
    describe: impl FnOnce(&Who) -> Result<Coll, MpiError>,
) -> R {
    no_in_place(bufs)?;
    described(c, false, describe)
}

/// Scan and exscan: erroneous on an inter-communicator.
pub(crate) fn scan_of(c: MPI_Comm, name: &str) -> R {
    comm::get(c)?;
    Err(MpiError::comm(format!(
        "{name} is erroneous on an inter-communicator (MPI defines it on intra-communicators only)"
    )))
}
