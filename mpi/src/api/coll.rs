//! Collectives onto the core: barrier, bcast, gather(v), scatter(v), allgather(v), alltoall(v),
//! reduce, allreduce, reduce_scatter(_block), scan, exscan, with their in-place forms.
//!
//! Buffers are described by (count, datatype) with contiguous predefined datatypes whose
//! reductions the core computes (see [`elem`]); other datatypes and operators return
//! MPI_ERR_UNSUPPORTED_OPERATION naming them, until the datatype engine (`crate::types`) and
//! the reduction engine (`crate::reduce`) are wired in. The non-blocking and persistent forms
//! need the request objects of the point-to-point layer and are unsupported here.

use crate::cabi::{count, slice};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm::{self, CommObj};
use fmi::collective::shape::Blocks;
use fmi::{BuiltinOp, Datatype, ReduceOp};
use std::ffi::{c_int, c_void};
use std::sync::Arc;

/// A predefined datatype the collectives handle: its size, and the core's element type for
/// reductions (None: moved, never reduced).
fn elem(dt: MPI_Datatype) -> Result<(usize, Option<Datatype>), MpiError> {
    use Datatype as D;
    let v = match dt {
        MPI_CHAR | MPI_SIGNED_CHAR | MPI_INT8_T => (1, Some(D::Int8)),
        MPI_UNSIGNED_CHAR | MPI_UINT8_T => (1, Some(D::UInt8)),
        MPI_BYTE => (1, Some(D::Byte)),
        MPI_PACKED | MPI_C_BOOL => (1, None),
        MPI_SHORT | MPI_INT16_T => (2, Some(D::Int16)),
        MPI_UNSIGNED_SHORT | MPI_UINT16_T => (2, Some(D::UInt16)),
        MPI_INT | MPI_INT32_T => (4, Some(D::Int32)),
        MPI_UNSIGNED | MPI_UINT32_T => (4, Some(D::UInt32)),
        MPI_WCHAR => (4, None),
        MPI_LONG | MPI_LONG_LONG | MPI_INT64_T | MPI_AINT | MPI_OFFSET | MPI_COUNT => {
            (8, Some(D::Int64))
        }
        MPI_UNSIGNED_LONG | MPI_UNSIGNED_LONG_LONG | MPI_UINT64_T => (8, Some(D::UInt64)),
        MPI_FLOAT => (4, Some(D::Float)),
        MPI_DOUBLE => (8, Some(D::Double)),
        MPI_DATATYPE_NULL => {
            return Err(MpiError::new(
                MPI_ERR_TYPE,
                "the datatype is MPI_DATATYPE_NULL",
            ))
        }
        other => {
            return Err(MpiError::unsupported(format!(
                "datatype {:#x}: the collectives handle contiguous predefined integer, floating \
                 point and byte datatypes so far (derived and pair datatypes come with the \
                 datatype engine)",
                other.0
            )))
        }
    };
    Ok(v)
}

fn op_of(op: MPI_Op, t: Option<Datatype>) -> Result<(ReduceOp, Datatype), MpiError> {
    let b = match op {
        MPI_SUM => BuiltinOp::Sum,
        MPI_PROD => BuiltinOp::Prod,
        MPI_MIN => BuiltinOp::Min,
        MPI_MAX => BuiltinOp::Max,
        MPI_BAND => BuiltinOp::BAnd,
        MPI_BOR => BuiltinOp::BOr,
        MPI_BXOR => BuiltinOp::BXor,
        MPI_LAND => BuiltinOp::LAnd,
        MPI_LOR => BuiltinOp::LOr,
        MPI_OP_NULL => return Err(MpiError::new(MPI_ERR_OP, "the operator is MPI_OP_NULL")),
        other => {
            return Err(MpiError::unsupported(format!(
                "operator {:#x}: the collectives reduce with MPI_SUM, _PROD, _MIN, _MAX, _BAND, \
                 _BOR, _BXOR, _LAND, _LOR so far (MPI_LXOR, MINLOC/MAXLOC and user operators come \
                 with the reduction engine)",
                other.0
            )))
        }
    };
    let t = t.ok_or_else(|| {
        MpiError::unsupported("this datatype cannot be reduced by the collectives yet")
    })?;
    Ok((ReduceOp::builtin(b), t))
}

fn is_in_place(p: *const c_void) -> bool {
    p as usize == MPI_IN_PLACE
}

fn root_of(obj: &CommObj, root: c_int) -> Result<usize, MpiError> {
    usize::try_from(root)
        .ok()
        .filter(|&r| r < obj.size)
        .ok_or_else(|| {
            MpiError::new(
                MPI_ERR_ROOT,
                format!(
                    "root {root} out of range for a communicator of {} (valid: 0..{})",
                    obj.size, obj.size
                ),
            )
        })
}

/// `count` elements of `dt` in bytes.
fn bytes(n: c_int, dt: MPI_Datatype, what: &str) -> Result<(usize, usize), MpiError> {
    let (size, _) = elem(dt)?;
    let n = count(n, what)?;
    n.checked_mul(size)
        .map(|b| (b, size))
        .ok_or_else(|| MpiError::new(MPI_ERR_COUNT, format!("{what} * datatype size overflows")))
}

unsafe fn src<'a>(p: *const c_void, n: usize, what: &str) -> Result<&'a [u8], MpiError> {
    if n > 0 && p.is_null() {
        return Err(MpiError::new(MPI_ERR_BUFFER, format!("{what} is NULL")));
    }
    slice(p.cast::<u8>(), n, what)
}

unsafe fn dst<'a>(p: *mut c_void, n: usize, what: &str) -> Result<&'a mut [u8], MpiError> {
    if n > 0 && p.is_null() {
        return Err(MpiError::new(MPI_ERR_BUFFER, format!("{what} is NULL")));
    }
    crate::cabi::slice_mut(p.cast::<u8>(), n, what)
}

fn get(c: MPI_Comm) -> Result<Arc<CommObj>, MpiError> {
    comm::get(c)
}

pub fn barrier(c: MPI_Comm) -> Result<(), MpiError> {
    get(c)?.with(|k| k.barrier())
}

pub unsafe fn bcast(
    buf: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let root = root_of(&obj, root)?;
    let (b, _) = bytes(n, dt, "count")?;
    let buf = dst(buf, b, "buffer")?;
    obj.with(|k| k.bcast(buf, root))
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let root = root_of(&obj, root)?;
    if obj.rank == root {
        let (rb, _) = bytes(recvcount, recvtype, "recvcount")?;
        let recv = dst(recvbuf, rb * obj.size, "recvbuf")?;
        if is_in_place(sendbuf) {
            return obj.with(|k| k.gather_in_place(recv, root));
        }
        let (sb, _) = bytes(sendcount, sendtype, "sendcount")?;
        let send = src(sendbuf, sb, "sendbuf")?;
        obj.with(|k| k.gather(send, Some(recv), root))
    } else {
        let (sb, _) = bytes(sendcount, sendtype, "sendcount")?;
        let send = src(sendbuf, sb, "sendbuf")?;
        obj.with(|k| k.gather(send, None, root))
    }
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatter(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let root = root_of(&obj, root)?;
    if obj.rank == root {
        let (sb, _) = bytes(sendcount, sendtype, "sendcount")?;
        let send = src(sendbuf, sb * obj.size, "sendbuf")?;
        if is_in_place(recvbuf) {
            return obj.with(|k| k.scatter_in_place(send, root));
        }
        let (rb, _) = bytes(recvcount, recvtype, "recvcount")?;
        let recv = dst(recvbuf, rb, "recvbuf")?;
        obj.with(|k| k.scatter(Some(send), recv, root))
    } else {
        let (rb, _) = bytes(recvcount, recvtype, "recvcount")?;
        let recv = dst(recvbuf, rb, "recvbuf")?;
        obj.with(|k| k.scatter(None, recv, root))
    }
}

pub unsafe fn allgather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let (rb, _) = bytes(recvcount, recvtype, "recvcount")?;
    let recv = dst(recvbuf, rb * obj.size, "recvbuf")?;
    if is_in_place(sendbuf) {
        return obj.with(|k| k.allgather_in_place(recv));
    }
    let (sb, _) = bytes(sendcount, sendtype, "sendcount")?;
    let send = src(sendbuf, sb, "sendbuf")?;
    obj.with(|k| k.allgather(send, recv))
}

pub unsafe fn alltoall(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let (rb, _) = bytes(recvcount, recvtype, "recvcount")?;
    let recv = dst(recvbuf, rb * obj.size, "recvbuf")?;
    if is_in_place(sendbuf) {
        return obj.with(|k| k.alltoall_in_place(recv));
    }
    let (sb, _) = bytes(sendcount, sendtype, "sendcount")?;
    let send = src(sendbuf, sb * obj.size, "sendbuf")?;
    obj.with(|k| k.alltoall(send, recv))
}

/// Per-rank counts and displacements (elements) as bytes, and the buffer length they span.
unsafe fn blocks(
    obj: &CommObj,
    counts: *const c_int,
    displs: *const c_int,
    size: usize,
    what: &str,
) -> Result<(Vec<usize>, Vec<usize>, usize), MpiError> {
    let cs = slice(counts, obj.size, &format!("{what}counts"))?;
    let ds = slice(displs, obj.size, &format!("{what}displs"))?;
    let mut c = Vec::with_capacity(obj.size);
    let mut d = Vec::with_capacity(obj.size);
    let mut end = 0usize;
    for i in 0..obj.size {
        let n = count(cs[i], &format!("{what}counts[{i}]"))? * size;
        let off = usize::try_from(ds[i]).map_err(|_| {
            MpiError::unsupported(format!(
                "{what}displs[{i}] = {} is negative (not supported by the core's v-collectives)",
                ds[i]
            ))
        })? * size;
        end = end.max(off + n);
        c.push(n);
        d.push(off);
    }
    Ok((c, d, end))
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gatherv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let root = root_of(&obj, root)?;
    if obj.rank != root {
        let (sb, _) = bytes(sendcount, sendtype, "sendcount")?;
        let send = src(sendbuf, sb, "sendbuf")?;
        return obj.with(|k| k.gatherv(send, None, root));
    }
    let (size, _) = elem(recvtype)?;
    let (cs, ds, end) = blocks(&obj, recvcounts, displs, size, "recv")?;
    let recv = dst(recvbuf, end, "recvbuf")?;
    let b = Blocks::new(&cs, &ds);
    if is_in_place(sendbuf) {
        return obj.with(|k| k.gatherv_in_place(recv, b, root));
    }
    let (sb, _) = bytes(sendcount, sendtype, "sendcount")?;
    let send = src(sendbuf, sb, "sendbuf")?;
    obj.with(|k| k.gatherv(send, Some((recv, b)), root))
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatterv(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    displs: *const c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let root = root_of(&obj, root)?;
    if obj.rank != root {
        let (rb, _) = bytes(recvcount, recvtype, "recvcount")?;
        let recv = dst(recvbuf, rb, "recvbuf")?;
        return obj.with(|k| k.scatterv(None, recv, root));
    }
    let (size, _) = elem(sendtype)?;
    let (cs, ds, end) = blocks(&obj, sendcounts, displs, size, "send")?;
    let send = src(sendbuf, end, "sendbuf")?;
    let b = Blocks::new(&cs, &ds);
    if is_in_place(recvbuf) {
        return obj.with(|k| k.scatterv_in_place(send, b, root));
    }
    let (rb, _) = bytes(recvcount, recvtype, "recvcount")?;
    let recv = dst(recvbuf, rb, "recvbuf")?;
    obj.with(|k| k.scatterv(Some((send, b)), recv, root))
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn allgatherv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    recvtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let (size, _) = elem(recvtype)?;
    let (cs, ds, end) = blocks(&obj, recvcounts, displs, size, "recv")?;
    let recv = dst(recvbuf, end, "recvbuf")?;
    let b = Blocks::new(&cs, &ds);
    if is_in_place(sendbuf) {
        return obj.with(|k| k.allgatherv_in_place(recv, b));
    }
    let (sb, _) = bytes(sendcount, sendtype, "sendcount")?;
    let send = src(sendbuf, sb, "sendbuf")?;
    obj.with(|k| k.allgatherv(send, recv, b))
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoallv(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sdispls: *const c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    rdispls: *const c_int,
    recvtype: MPI_Datatype,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let (rsize, _) = elem(recvtype)?;
    let (rc, rd, rend) = blocks(&obj, recvcounts, rdispls, rsize, "recv")?;
    let recv = dst(recvbuf, rend, "recvbuf")?;
    let rb = Blocks::new(&rc, &rd);
    if is_in_place(sendbuf) {
        return obj.with(|k| k.alltoallv_in_place(recv, rb));
    }
    let (ssize, _) = elem(sendtype)?;
    let (sc, sd, send_end) = blocks(&obj, sendcounts, sdispls, ssize, "send")?;
    let send = src(sendbuf, send_end, "sendbuf")?;
    let sb = Blocks::new(&sc, &sd);
    obj.with(|k| k.alltoallv(send, sb, recv, rb))
}

/// The reduction's byte length, core element type and operator.
fn reduction(
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
) -> Result<(usize, Datatype, ReduceOp), MpiError> {
    let (b, _) = bytes(n, dt, "count")?;
    let (_, t) = elem(dt)?;
    let (op, t) = op_of(op, t)?;
    Ok((b, t, op))
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let root = root_of(&obj, root)?;
    let (b, t, op) = reduction(n, dt, op)?;
    if obj.rank == root {
        let recv = dst(recvbuf, b, "recvbuf")?;
        if is_in_place(sendbuf) {
            return obj.with(|k| k.reduce_in_place(recv, t, &op, root));
        }
        let send = src(sendbuf, b, "sendbuf")?;
        obj.with(|k| k.reduce(send, Some(recv), t, &op, root))
    } else {
        let send = src(sendbuf, b, "sendbuf")?;
        obj.with(|k| k.reduce(send, None, t, &op, root))
    }
}

pub unsafe fn allreduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let (b, t, op) = reduction(n, dt, op)?;
    let recv = dst(recvbuf, b, "recvbuf")?;
    if is_in_place(sendbuf) {
        return obj.with(|k| k.allreduce_in_place(recv, t, &op));
    }
    let send = src(sendbuf, b, "sendbuf")?;
    obj.with(|k| k.allreduce(send, recv, t, &op))
}

pub unsafe fn scan(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let (b, t, op) = reduction(n, dt, op)?;
    let recv = dst(recvbuf, b, "recvbuf")?;
    if is_in_place(sendbuf) {
        return obj.with(|k| k.scan_in_place(recv, t, &op));
    }
    let send = src(sendbuf, b, "sendbuf")?;
    obj.with(|k| k.scan(send, recv, t, &op))
}

pub unsafe fn exscan(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let (b, t, op) = reduction(n, dt, op)?;
    let recv = dst(recvbuf, b, "recvbuf")?;
    if is_in_place(sendbuf) {
        return obj.with(|k| k.exscan_in_place(recv, t, &op));
    }
    let send = src(sendbuf, b, "sendbuf")?;
    obj.with(|k| k.exscan(send, recv, t, &op))
}

pub unsafe fn reduce_scatter_block(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcount: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let (b, t, op) = reduction(recvcount, dt, op)?;
    if is_in_place(sendbuf) {
        let buf = dst(recvbuf, b * obj.size, "recvbuf")?;
        return obj.with(|k| k.reduce_scatter_block_in_place(buf, t, &op));
    }
    let recv = dst(recvbuf, b, "recvbuf")?;
    let send = src(sendbuf, b * obj.size, "sendbuf")?;
    obj.with(|k| k.reduce_scatter_block(send, recv, t, &op))
}

pub unsafe fn reduce_scatter(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    let obj = get(c)?;
    let (_, t, op) = reduction(0, dt, op)?;
    let (size, _) = elem(dt)?;
    let cs = slice(recvcounts, obj.size, "recvcounts")?;
    let counts = cs
        .iter()
        .enumerate()
        .map(|(i, &n)| count(n, &format!("recvcounts[{i}]")).map(|n| n * size))
        .collect::<Result<Vec<usize>, MpiError>>()?;
    let total: usize = counts.iter().sum();
    if is_in_place(sendbuf) {
        let buf = dst(recvbuf, total, "recvbuf")?;
        return obj.with(|k| k.reduce_scatter_in_place(buf, &counts, t, &op));
    }
    let recv = dst(recvbuf, counts[obj.rank], "recvbuf")?;
    let send = src(sendbuf, total, "sendbuf")?;
    obj.with(|k| k.reduce_scatter(send, recv, &counts, t, &op))
}
