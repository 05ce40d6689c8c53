//! C functions for the collectives with one block per peer of any size (gatherv, scatterv,
//! allgatherv, alltoallv), reduce-scatter and exscan. Counts and displacements are arrays of
//! `int` in elements of the datatype, one per peer, as MPI's (the `_c` forms: `int64_t` counts
//! and `ptrdiff_t` displacements, as MPI's large-count functions); every one is checked here (not
//! negative, not overflowing in bytes), and the communicator checks the layout (receive blocks
//! that do not overlap, the own block's size).

use super::collectives::{check_root, is_in_place, reduce_all, send_view, Whole};
use super::handle::{self, fmi_comm};
use super::ops::{self, fmi_op};
use super::status::fmi_status;
use super::types::{datatype, fmi_datatype};
use super::{byte_len, guard, in_buf, null, out_buf};
use crate::collective::shape::Blocks;
use crate::error::{Error, Result};
use std::ffi::{c_int, c_void};

/// An entry of a C count or displacement array: `int` (MPI's counts and displacements),
/// `int64_t` (`MPI_Count`) or `ptrdiff_t` (pointer-sized, as `MPI_Aint`).
pub(crate) trait Entry: Copy + TryInto<usize> + std::fmt::Display {}
impl Entry for c_int {}
impl Entry for i64 {}
impl Entry for isize {}

/// One C count or displacement (`name[i]`, in elements of `esize` bytes) in bytes.
fn bytes_of<T: Entry>(v: T, esize: usize, name: &str, i: usize) -> Result<usize> {
    let n: usize = v
        .try_into()
        .map_err(|_| Error::invalid(format!("{name}[{i}] is negative ({v})")))?;
    byte_len(n, esize, &format!("{name}[{i}]"))
}

/// The `n` entries of the C array `p` (`name`) in bytes.
///
/// # Safety
/// `p`, if not NULL, must point to `n` readable entries.
unsafe fn array_bytes<T: Entry>(
    p: *const T,
    n: usize,
    esize: usize,
    name: &str,
) -> Result<Vec<usize>> {
    if p.is_null() {
        return Err(null(name));
    }
    std::slice::from_raw_parts(p, n)
        .iter()
        .enumerate()
        .map(|(i, &v)| bytes_of(v, esize, name, i))
        .collect()
}

/// Counts and displacements of one block per peer, in bytes, with the bytes a buffer needs to
/// hold them all (the end of the last block).
struct Layout {
    counts: Vec<usize>,
    displs: Vec<usize>,
    extent: usize,
}

impl Layout {
    /// # Safety
    /// `counts` and `displs`, if not NULL, must point to `n` readable entries each.
    unsafe fn read<C: Entry, D: Entry>(
        counts: *const C,
        displs: *const D,
        n: usize,
        esize: usize,
        names: (&str, &str),
    ) -> Result<Layout> {
        let counts = array_bytes(counts, n, esize, names.0)?;
        let displs = array_bytes(displs, n, esize, names.1)?;
        let mut extent = 0usize;
        for (i, (&c, &d)) in counts.iter().zip(&displs).enumerate() {
            let end = d.checked_add(c).filter(|&e| e <= isize::MAX as usize);
            let end = end.ok_or_else(|| {
                Error::invalid(format!(
                    "block {i} ({} + {}) ends beyond any buffer",
                    names.1, names.0
                ))
            })?;
            extent = extent.max(end);
        }
        Ok(Layout {
            counts,
            displs,
            extent,
        })
    }

    fn blocks(&self) -> Blocks<'_> {
        Blocks::new(&self.counts, &self.displs)
    }
}

/// The body of `fmi_gatherv` and `fmi_gatherv_c`.
///
/// # Safety
/// As for `fmi_gatherv`.
#[allow(clippy::too_many_arguments)]
unsafe fn gatherv_impl<C: Entry, D: Entry>(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcount: usize,
    recvbuf: *mut c_void,
    recvcounts: *const C,
    displs: *const D,
    t: fmi_datatype,
    root: u32,
) -> Result<()> {
    let es = datatype(t)?.size();
    handle::with_comm(comm, |c| {
        let is_root = check_root(c, root)?;
        let root = root as usize;
        if !is_root {
            let n = byte_len(sendcount, es, "sendcount")?;
            return c.gatherv(in_buf(sendbuf, n, "sendbuf")?, None, root);
        }
        let l = Layout::read(recvcounts, displs, c.size(), es, ("recvcounts", "displs"))?;
        if is_in_place(sendbuf) {
            let recv = out_buf(recvbuf, l.extent, "recvbuf")?;
            return c.gatherv_in_place(recv, l.blocks(), root);
        }
        let n = byte_len(sendcount, es, "sendcount")?;
        let mut keep = Vec::new();
        let send = send_view(sendbuf, n, recvbuf, l.extent, &mut keep)?;
        let recv = out_buf(recvbuf, l.extent, "recvbuf")?;
        c.gatherv(send, Some((recv, l.blocks())), root)
    })
}

/// Gathers `sendcount` elements from every peer's `sendbuf` into `recvbuf` at `root`: peer i's
/// block is `recvcounts[i]` elements at element offset `displs[i]` (both arrays of num_peers
/// entries, read at the root only; ignored, may be NULL, with `recvbuf`, on other peers). Blocks
/// of `recvbuf` must not overlap, and `recvcounts[i]` must equal peer i's `sendcount`. At the
/// root, `sendbuf` may be `FMI_IN_PLACE`: its block already is in `recvbuf`.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, arrays for num_peers entries.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_gatherv(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcount: usize,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    t: fmi_datatype,
    root: u32,
) -> fmi_status {
    guard("fmi_gatherv", || {
        gatherv_impl(
            comm, sendbuf, sendcount, recvbuf, recvcounts, displs, t, root,
        )
    })
}

/// `fmi_gatherv` with large counts: counts as `int64_t` (`MPI_Count`) and displacements as
/// `ptrdiff_t` (pointer-sized, as `MPI_Aint`), as the `MPI_Gatherv_c` functions take them; the same checks.
///
/// # Safety
/// As for `fmi_gatherv`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_gatherv_c(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcount: usize,
    recvbuf: *mut c_void,
    recvcounts: *const i64,
    displs: *const isize,
    t: fmi_datatype,
    root: u32,
) -> fmi_status {
    guard("fmi_gatherv_c", || {
        gatherv_impl(
            comm, sendbuf, sendcount, recvbuf, recvcounts, displs, t, root,
        )
    })
}

/// The body of `fmi_scatterv` and `fmi_scatterv_c`.
///
/// # Safety
/// As for `fmi_scatterv`.
#[allow(clippy::too_many_arguments)]
unsafe fn scatterv_impl<C: Entry, D: Entry>(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcounts: *const C,
    displs: *const D,
    recvbuf: *mut c_void,
    recvcount: usize,
    t: fmi_datatype,
    root: u32,
) -> Result<()> {
    let es = datatype(t)?.size();
    handle::with_comm(comm, |c| {
        let is_root = check_root(c, root)?;
        let root = root as usize;
        if !is_root {
            let n = byte_len(recvcount, es, "recvcount")?;
            return c.scatterv(None, out_buf(recvbuf, n, "recvbuf")?, root);
        }
        let l = Layout::read(sendcounts, displs, c.size(), es, ("sendcounts", "displs"))?;
        if is_in_place(recvbuf) {
            let send = in_buf(sendbuf, l.extent, "sendbuf")?;
            return c.scatterv_in_place(send, l.blocks(), root);
        }
        let n = byte_len(recvcount, es, "recvcount")?;
        let mut keep = Vec::new();
        let send = send_view(sendbuf, l.extent, recvbuf, n, &mut keep)?;
        let recv = out_buf(recvbuf, n, "recvbuf")?;
        c.scatterv(Some((send, l.blocks())), recv, root)
    })
}

/// Scatters `root`'s `sendbuf`: block i (`sendcounts[i]` elements at element offset
/// `displs[i]`; blocks may overlap) goes to peer i's `recvbuf`, which holds `recvcount`
/// elements, equal to `sendcounts[i]`. `sendbuf`, `sendcounts` and `displs` are read at the root
/// only (ignored, may be NULL, on other peers). At the root, `recvbuf` may be `FMI_IN_PLACE`:
/// its block stays in `sendbuf`.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, arrays for num_peers entries.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_scatterv(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    displs: *const c_int,
    recvbuf: *mut c_void,
    recvcount: usize,
    t: fmi_datatype,
    root: u32,
) -> fmi_status {
    guard("fmi_scatterv", || {
        scatterv_impl(
            comm, sendbuf, sendcounts, displs, recvbuf, recvcount, t, root,
        )
    })
}

/// `fmi_scatterv` with large counts: counts as `int64_t` (`MPI_Count`) and displacements as
/// `ptrdiff_t` (pointer-sized, as `MPI_Aint`), as the `MPI_Scatterv_c` functions take them; the same checks.
///
/// # Safety
/// As for `fmi_scatterv`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_scatterv_c(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcounts: *const i64,
    displs: *const isize,
    recvbuf: *mut c_void,
    recvcount: usize,
    t: fmi_datatype,
    root: u32,
) -> fmi_status {
    guard("fmi_scatterv_c", || {
        scatterv_impl(
            comm, sendbuf, sendcounts, displs, recvbuf, recvcount, t, root,
        )
    })
}

/// The body of `fmi_allgatherv` and `fmi_allgatherv_c`.
///
/// # Safety
/// As for `fmi_allgatherv`.
#[allow(clippy::too_many_arguments)]
unsafe fn allgatherv_impl<C: Entry, D: Entry>(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcount: usize,
    recvbuf: *mut c_void,
    recvcounts: *const C,
    displs: *const D,
    t: fmi_datatype,
) -> Result<()> {
    let es = datatype(t)?.size();
    handle::with_comm(comm, |c| {
        let l = Layout::read(recvcounts, displs, c.size(), es, ("recvcounts", "displs"))?;
        if is_in_place(sendbuf) {
            let recv = out_buf(recvbuf, l.extent, "recvbuf")?;
            return c.allgatherv_in_place(recv, l.blocks());
        }
        let n = byte_len(sendcount, es, "sendcount")?;
        let mut keep = Vec::new();
        let send = send_view(sendbuf, n, recvbuf, l.extent, &mut keep)?;
        let recv = out_buf(recvbuf, l.extent, "recvbuf")?;
        c.allgatherv(send, recv, l.blocks())
    })
}

/// Gathers `sendcount` elements from every peer into every peer's `recvbuf`: peer i's block is
/// `recvcounts[i]` elements at element offset `displs[i]` (the same arrays on every peer; blocks
/// must not overlap). `sendbuf` may be `FMI_IN_PLACE`: this peer's block already is in
/// `recvbuf`.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, arrays for num_peers entries.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_allgatherv(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcount: usize,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    t: fmi_datatype,
) -> fmi_status {
    guard("fmi_allgatherv", || {
        allgatherv_impl(comm, sendbuf, sendcount, recvbuf, recvcounts, displs, t)
    })
}

/// `fmi_allgatherv` with large counts: counts as `int64_t` (`MPI_Count`) and displacements as
/// `ptrdiff_t` (pointer-sized, as `MPI_Aint`), as the `MPI_Allgatherv_c` functions take them; the same checks.
///
/// # Safety
/// As for `fmi_allgatherv`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_allgatherv_c(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcount: usize,
    recvbuf: *mut c_void,
    recvcounts: *const i64,
    displs: *const isize,
    t: fmi_datatype,
) -> fmi_status {
    guard("fmi_allgatherv_c", || {
        allgatherv_impl(comm, sendbuf, sendcount, recvbuf, recvcounts, displs, t)
    })
}

/// The body of `fmi_alltoallv` and `fmi_alltoallv_c`.
///
/// # Safety
/// As for `fmi_alltoallv`.
#[allow(clippy::too_many_arguments)]
unsafe fn alltoallv_impl<C: Entry, D: Entry>(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcounts: *const C,
    sdispls: *const D,
    recvbuf: *mut c_void,
    recvcounts: *const C,
    rdispls: *const D,
    t: fmi_datatype,
) -> Result<()> {
    let es = datatype(t)?.size();
    handle::with_comm(comm, |c| {
        let n = c.size();
        let rl = Layout::read(recvcounts, rdispls, n, es, ("recvcounts", "rdispls"))?;
        if is_in_place(sendbuf) {
            let buf = out_buf(recvbuf, rl.extent, "recvbuf")?;
            return c.alltoallv_in_place(buf, rl.blocks());
        }
        let sl = Layout::read(sendcounts, sdispls, n, es, ("sendcounts", "sdispls"))?;
        let mut keep = Vec::new();
        let send = send_view(sendbuf, sl.extent, recvbuf, rl.extent, &mut keep)?;
        let recv = out_buf(recvbuf, rl.extent, "recvbuf")?;
        c.alltoallv(send, sl.blocks(), recv, rl.blocks())
    })
}

/// Personalised exchange with blocks of any size: block j of `sendbuf` (`sendcounts[j]`
/// elements at element offset `sdispls[j]`) goes to peer j, and block i of `recvbuf`
/// (`recvcounts[i]` elements at `rdispls[i]`, equal to peer i's `sendcounts[me]`; blocks must
/// not overlap) comes from peer i. `sendbuf` may be `FMI_IN_PLACE`: `recvbuf`, laid out by
/// `recvcounts` and `rdispls`, holds the blocks to send and receives the blocks (`sendcounts`
/// and `sdispls` are then ignored, may be NULL).
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, arrays for num_peers entries.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_alltoallv(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sdispls: *const c_int,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    rdispls: *const c_int,
    t: fmi_datatype,
) -> fmi_status {
    guard("fmi_alltoallv", || {
        alltoallv_impl(
            comm, sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls, t,
        )
    })
}

/// `fmi_alltoallv` with large counts: counts as `int64_t` (`MPI_Count`) and displacements as
/// `ptrdiff_t` (pointer-sized, as `MPI_Aint`), as the `MPI_Alltoallv_c` functions take them; the same checks.
///
/// # Safety
/// As for `fmi_alltoallv`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_alltoallv_c(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    sendcounts: *const i64,
    sdispls: *const isize,
    recvbuf: *mut c_void,
    recvcounts: *const i64,
    rdispls: *const isize,
    t: fmi_datatype,
) -> fmi_status {
    guard("fmi_alltoallv_c", || {
        alltoallv_impl(
            comm, sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls, t,
        )
    })
}

/// Reduces num_peers*`recvcount` elements of every peer's `sendbuf` with `op` (folded left to
/// right in rank order) and gives block i (elements i*recvcount ..) of the result to peer i's
/// `recvbuf` (`recvcount` elements). `sendbuf` may be `FMI_IN_PLACE`: `recvbuf` holds the
/// num_peers*recvcount elements of the contribution and gets the result in its first block.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes.
#[no_mangle]
pub unsafe extern "C" fn fmi_reduce_scatter_block(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcount: usize,
    t: fmi_datatype,
    op: fmi_op,
) -> fmi_status {
    guard("fmi_reduce_scatter_block", || {
        let dt = datatype(t)?;
        let s = byte_len(recvcount, dt.size(), "recvcount")?;
        let op = ops::lookup(op)?;
        handle::with_comm(comm, |c| {
            let total = byte_len(s, c.size(), "recvcount")?;
            if is_in_place(sendbuf) {
                let buf = out_buf(recvbuf, total, "recvbuf")?;
                return c.reduce_scatter_block_in_place(buf, dt, &op);
            }
            let mut keep = Vec::new();
            let send = send_view(sendbuf, total, recvbuf, s, &mut keep)?;
            let recv = out_buf(recvbuf, s, "recvbuf")?;
            c.reduce_scatter_block(send, recv, dt, &op)
        })
    })
}

/// The body of `fmi_reduce_scatter` and `fmi_reduce_scatter_c`.
///
/// # Safety
/// As for `fmi_reduce_scatter`.
#[allow(clippy::too_many_arguments)]
unsafe fn reduce_scatter_impl<C: Entry>(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcounts: *const C,
    t: fmi_datatype,
    op: fmi_op,
) -> Result<()> {
    let dt = datatype(t)?;
    let op = ops::lookup(op)?;
    handle::with_comm(comm, |c| {
        let counts = array_bytes(recvcounts, c.size(), dt.size(), "recvcounts")?;
        let total = counts
            .iter()
            .try_fold(0usize, |a, &b| a.checked_add(b))
            .filter(|&s| s <= isize::MAX as usize)
            .ok_or_else(|| Error::invalid("recvcounts add up to more than any buffer"))?;
        let s = counts[c.rank()];
        if is_in_place(sendbuf) {
            let buf = out_buf(recvbuf, total, "recvbuf")?;
            return c.reduce_scatter_in_place(buf, &counts, dt, &op);
        }
        let mut keep = Vec::new();
        let send = send_view(sendbuf, total, recvbuf, s, &mut keep)?;
        let recv = out_buf(recvbuf, s, "recvbuf")?;
        c.reduce_scatter(send, recv, &counts, dt, &op)
    })
}

/// Reduces the sum of `recvcounts` elements of every peer's `sendbuf` with `op` (folded left to
/// right in rank order) and gives block i of the result (`recvcounts[i]` elements, the blocks
/// one after the other) to peer i's `recvbuf`. `recvcounts` has num_peers entries, the same on
/// every peer. `sendbuf` may be `FMI_IN_PLACE`: `recvbuf` holds the whole contribution and gets
/// the result in its first `recvcounts[me]` elements.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, `recvcounts` for num_peers entries.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_reduce_scatter(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    t: fmi_datatype,
    op: fmi_op,
) -> fmi_status {
    guard("fmi_reduce_scatter", || {
        reduce_scatter_impl(comm, sendbuf, recvbuf, recvcounts, t, op)
    })
}

/// `fmi_reduce_scatter` with large counts: counts as `int64_t` (`MPI_Count`) and displacements as
/// `ptrdiff_t` (pointer-sized, as `MPI_Aint`), as the `MPI_Reduce_scatter_c` functions take them; the same checks.
///
/// # Safety
/// As for `fmi_reduce_scatter`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fmi_reduce_scatter_c(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcounts: *const i64,
    t: fmi_datatype,
    op: fmi_op,
) -> fmi_status {
    guard("fmi_reduce_scatter_c", || {
        reduce_scatter_impl(comm, sendbuf, recvbuf, recvcounts, t, op)
    })
}

/// Exclusive prefix reduction: peer k > 0's `recvbuf` gets v0 (+) ... (+) v(k-1), folded left to
/// right. Peer 0's result is undefined in MPI: its `recvbuf` is left untouched. `sendbuf ==
/// recvbuf` and `sendbuf == FMI_IN_PLACE` are allowed.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes.
#[no_mangle]
pub unsafe extern "C" fn fmi_exscan(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    op: fmi_op,
) -> fmi_status {
    guard("fmi_exscan", || {
        reduce_all(comm, sendbuf, recvbuf, count, t, op, Whole::Exscan)
    })
}
