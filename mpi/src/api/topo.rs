//! Process topologies: Cartesian (`MPI_Cart_*`, `MPI_Dims_create`), graph (`MPI_Graph_*`) and
//! distributed graph (`MPI_Dist_graph_*`) communicators, `MPI_Topo_test`. A topology
//! communicator is a split of the old one (ranks kept: `reorder` is allowed to be ignored)
//! with its topology attached beside it (`crate::objects::topo`).

use super::comm::comm_split;
use crate::cabi::{self, out};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm;
use crate::objects::topo::{self, Topo};
use std::ffi::c_int;
use std::sync::Arc;

fn topo_err(msg: impl Into<String>) -> MpiError {
    MpiError::new(MPI_ERR_TOPOLOGY, msg)
}

fn ints(p: *const c_int, n: usize, what: &str) -> Result<Vec<i64>, MpiError> {
    // SAFETY: an array of `n` ints (the MPI contract).
    Ok(unsafe { cabi::slice(p, n, what)? }
        .iter()
        .map(|&v| v.into())
        .collect())
}

fn write_ints(p: *mut c_int, v: &[i64], what: &str) -> Result<(), MpiError> {
    // SAFETY: room for `v.len()` ints (checked against the caller's max by the callers).
    let dst = unsafe { cabi::slice_mut(p, v.len(), what)? };
    for (d, &x) in dst.iter_mut().zip(v) {
        *d = x as c_int;
    }
    Ok(())
}

fn count(n: c_int, what: &str) -> Result<usize, MpiError> {
    cabi::count(n, what)
}

/// The members of `c` with rank below `nodes` get a new communicator (same order) with `t`
/// attached; the others `MPI_COMM_NULL`.
unsafe fn make(c: MPI_Comm, nodes: i64, t: Topo, newcomm: *mut MPI_Comm) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    if nodes > obj.size as i64 {
        return Err(topo_err(format!(
            "the topology places {nodes} processes but the communicator has {}",
            obj.size
        )));
    }
    let color = if (obj.rank as i64) < nodes {
        0
    } else {
        MPI_UNDEFINED
    };
    let mut h = MPI_COMM_NULL;
    comm_split(c, color, obj.rank as c_int, &mut h)?;
    if h != MPI_COMM_NULL {
        topo::attach(h, t);
    }
    out(newcomm, h, "newcomm")
}

/// The topology of `c` (an error when it has none).
fn topology(c: MPI_Comm) -> Result<Arc<Topo>, MpiError> {
    comm::get(c)?;
    topo::of(c).ok_or_else(|| topo_err("the communicator has no topology"))
}

fn cart(c: MPI_Comm) -> Result<(Vec<i64>, Vec<bool>), MpiError> {
    match &*topology(c)? {
        Topo::Cart { dims, periods } => Ok((dims.clone(), periods.clone())),
        _ => Err(topo_err("the communicator's topology is not Cartesian")),
    }
}

fn graph(c: MPI_Comm) -> Result<(Vec<i64>, Vec<i64>), MpiError> {
    match &*topology(c)? {
        Topo::Graph { index, edges } => Ok((index.clone(), edges.clone())),
        _ => Err(topo_err("the communicator's topology is not a graph")),
    }
}

fn cart_args(
    ndims: c_int,
    dims: *const c_int,
    periods: *const c_int,
) -> Result<(Vec<i64>, Vec<bool>), MpiError> {
    let n = count(ndims, "ndims")?;
    let d = ints(dims, n, "dims")?;
    if let Some(x) = d.iter().find(|&&x| x < 1) {
        return Err(MpiError::new(
            MPI_ERR_DIMS,
            format!("a dimension is {x} (each must be positive)"),
        ));
    }
    let p = ints(periods, n, "periods")?;
    Ok((d, p.iter().map(|&x| x != 0).collect()))
}

pub unsafe fn cart_create(
    c: MPI_Comm,
    ndims: c_int,
    dims: *const c_int,
    periods: *const c_int,
    _reorder: c_int,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    let (dims, periods) = cart_args(ndims, dims, periods)?;
    let nodes = dims.iter().try_fold(1i64, |a, &d| a.checked_mul(d));
    let nodes = nodes.ok_or_else(|| MpiError::new(MPI_ERR_DIMS, "the grid is too large"))?;
    make(c, nodes, Topo::Cart { dims, periods }, newcomm)
}

pub unsafe fn cart_map(
    c: MPI_Comm,
    ndims: c_int,
    dims: *const c_int,
    periods: *const c_int,
    newrank: *mut c_int,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let (dims, _) = cart_args(ndims, dims, periods)?;
    let nodes: i64 = dims.iter().product();
    if nodes > obj.size as i64 {
        return Err(topo_err(format!(
            "the grid has {nodes} processes but the communicator {}",
            obj.size
        )));
    }
    let r = if (obj.rank as i64) < nodes {
        obj.rank as c_int
    } else {
        MPI_UNDEFINED
    };
    out(newrank, r, "newrank")
}

pub unsafe fn cartdim_get(c: MPI_Comm, ndims: *mut c_int) -> Result<(), MpiError> {
    let (dims, _) = cart(c)?;
    out(ndims, dims.len() as c_int, "ndims")
}

pub unsafe fn cart_get(
    c: MPI_Comm,
    maxdims: c_int,
    dims: *mut c_int,
    periods: *mut c_int,
    coords: *mut c_int,
) -> Result<(), MpiError> {
    let (d, p) = cart(c)?;
    if count(maxdims, "maxdims")? < d.len() {
        return Err(MpiError::arg(format!(
            "maxdims is {maxdims} but the grid has {} dimensions",
            d.len()
        )));
    }
    let rank = comm::get(c)?.rank as i64;
    write_ints(dims, &d, "dims")?;
    let pi: Vec<i64> = p.iter().map(|&x| x as i64).collect();
    write_ints(periods, &pi, "periods")?;
    write_ints(coords, &Topo::coords(&d, rank), "coords")
}

pub unsafe fn cart_rank(
    c: MPI_Comm,
    coords: *const c_int,
    rank: *mut c_int,
) -> Result<(), MpiError> {
    let (d, p) = cart(c)?;
    let co = ints(coords, d.len(), "coords")?;
    let r = Topo::cart_rank(&d, &p, &co).map_err(|i| {
        MpiError::new(
            MPI_ERR_ARG,
            format!(
                "coordinate {} of dimension {i} is outside 0..{} (not periodic)",
                co[i], d[i]
            ),
        )
    })?;
    out(rank, r as c_int, "rank")
}

pub unsafe fn cart_coords(
    c: MPI_Comm,
    rank: c_int,
    maxdims: c_int,
    coords: *mut c_int,
) -> Result<(), MpiError> {
    let (d, _) = cart(c)?;
    let size = comm::get(c)?.size;
    if rank < 0 || rank as usize >= size {
        return Err(MpiError::new(
            MPI_ERR_RANK,
            format!("rank {rank} is not in 0..{size}"),
        ));
    }
    if count(maxdims, "maxdims")? < d.len() {
        return Err(MpiError::arg(format!(
            "maxdims is {maxdims} but the grid has {} dimensions",
            d.len()
        )));
    }
    write_ints(coords, &Topo::coords(&d, rank.into()), "coords")
}

pub unsafe fn cart_shift(
    c: MPI_Comm,
    direction: c_int,
    disp: c_int,
    source: *mut c_int,
    dest: *mut c_int,
) -> Result<(), MpiError> {
    let (d, p) = cart(c)?;
    let dim = usize::try_from(direction)
        .ok()
        .filter(|&x| x < d.len())
        .ok_or_else(|| {
            MpiError::arg(format!(
                "direction {direction} is not in 0..{} (the grid's dimensions)",
                d.len()
            ))
        })?;
    let rank = comm::get(c)?.rank as i64;
    let (s, t) = Topo::shift(&d, &p, rank, dim, disp.into());
    let f = |x: Option<i64>| x.map_or(MPI_PROC_NULL, |r| r as c_int);
    out(source, f(s), "rank_source")?;
    out(dest, f(t), "rank_dest")
}

pub unsafe fn cart_sub(
    c: MPI_Comm,
    remain: *const c_int,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    let (d, p) = cart(c)?;
    let keep: Vec<bool> = ints(remain, d.len(), "remain_dims")?
        .iter()
        .map(|&x| x != 0)
        .collect();
    let obj = comm::get(c)?;
    let me = Topo::coords(&d, obj.rank as i64);
    // The processes with the same coordinates in the dropped dimensions form one sub-grid.
    let mut color = 0i64;
    for i in 0..d.len() {
        if !keep[i] {
            color = color * d[i] + me[i];
        }
    }
    let color = c_int::try_from(color).map_err(|_| MpiError::arg("the grid is too large"))?;
    let mut h = MPI_COMM_NULL;
    comm_split(c, color, obj.rank as c_int, &mut h)?;
    let dims = (0..d.len()).filter(|&i| keep[i]).map(|i| d[i]).collect();
    let periods = (0..d.len()).filter(|&i| keep[i]).map(|i| p[i]).collect();
    topo::attach(h, Topo::Cart { dims, periods });
    out(newcomm, h, "newcomm")
}

/// `MPI_Dims_create`: the zero entries of `dims` get a balanced factorisation.
pub unsafe fn dims_create(nnodes: c_int, ndims: c_int, dims: *mut c_int) -> Result<(), MpiError> {
    let n = count(ndims, "ndims")?;
    if nnodes < 1 {
        return Err(MpiError::arg(format!(
            "nnodes is {nnodes} (must be positive)"
        )));
    }
    let cur = ints(dims, n, "dims")?;
    let filled =
        topo::dims_create(nnodes.into(), &cur).map_err(|m| MpiError::new(MPI_ERR_DIMS, m))?;
    write_ints(dims, &filled, "dims")
}

fn graph_args(
    nnodes: c_int,
    index: *const c_int,
    edges: *const c_int,
) -> Result<(Vec<i64>, Vec<i64>), MpiError> {
    let n = count(nnodes, "nnodes")?;
    let index = ints(index, n, "index")?;
    let mut prev = 0;
    for (i, &x) in index.iter().enumerate() {
        if x < prev {
            return Err(MpiError::arg(format!(
                "index[{i}] = {x} is below index[{}] = {prev} (index is cumulative)",
                i.saturating_sub(1)
            )));
        }
        prev = x;
    }
    let edges = ints(edges, prev as usize, "edges")?;
    if let Some(e) = edges.iter().find(|&&e| e < 0 || e >= n as i64) {
        return Err(MpiError::arg(format!("edge to node {e}: not in 0..{n}")));
    }
    Ok((index, edges))
}

pub unsafe fn graph_create(
    c: MPI_Comm,
    nnodes: c_int,
    index: *const c_int,
    edges: *const c_int,
    _reorder: c_int,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    let (index, edges) = graph_args(nnodes, index, edges)?;
    make(c, index.len() as i64, Topo::Graph { index, edges }, newcomm)
}

pub unsafe fn graph_map(
    c: MPI_Comm,
    nnodes: c_int,
    index: *const c_int,
    edges: *const c_int,
    newrank: *mut c_int,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let (index, _) = graph_args(nnodes, index, edges)?;
    if index.len() > obj.size {
        return Err(topo_err(format!(
            "the graph has {} nodes but the communicator {} processes",
            index.len(),
            obj.size
        )));
    }
    let r = if obj.rank < index.len() {
        obj.rank as c_int
    } else {
        MPI_UNDEFINED
    };
    out(newrank, r, "newrank")
}

pub unsafe fn graphdims_get(
    c: MPI_Comm,
    nnodes: *mut c_int,
    nedges: *mut c_int,
) -> Result<(), MpiError> {
    let (index, edges) = graph(c)?;
    out(nnodes, index.len() as c_int, "nnodes")?;
    out(nedges, edges.len() as c_int, "nedges")
}

pub unsafe fn graph_get(
    c: MPI_Comm,
    maxindex: c_int,
    maxedges: c_int,
    index: *mut c_int,
    edges: *mut c_int,
) -> Result<(), MpiError> {
    let (ix, ed) = graph(c)?;
    if count(maxindex, "maxindex")? < ix.len() || count(maxedges, "maxedges")? < ed.len() {
        return Err(MpiError::arg(format!(
            "maxindex {maxindex} / maxedges {maxedges} below the graph's {} nodes / {} edges",
            ix.len(),
            ed.len()
        )));
    }
    write_ints(index, &ix, "index")?;
    write_ints(edges, &ed, "edges")
}

fn graph_rank(c: MPI_Comm, rank: c_int) -> Result<i64, MpiError> {
    let size = comm::get(c)?.size;
    if rank < 0 || rank as usize >= size {
        return Err(MpiError::new(
            MPI_ERR_RANK,
            format!("rank {rank} is not in 0..{size}"),
        ));
    }
    Ok(rank.into())
}

pub unsafe fn graph_neighbors_count(
    c: MPI_Comm,
    rank: c_int,
    n: *mut c_int,
) -> Result<(), MpiError> {
    let (ix, ed) = graph(c)?;
    let r = graph_rank(c, rank)?;
    out(
        n,
        Topo::graph_neighbors(&ix, &ed, r).len() as c_int,
        "nneighbors",
    )
}

pub unsafe fn graph_neighbors(
    c: MPI_Comm,
    rank: c_int,
    max: c_int,
    neighbors: *mut c_int,
) -> Result<(), MpiError> {
    let (ix, ed) = graph(c)?;
    let r = graph_rank(c, rank)?;
    let v = Topo::graph_neighbors(&ix, &ed, r);
    if count(max, "maxneighbors")? < v.len() {
        return Err(MpiError::arg(format!(
            "maxneighbors is {max} but rank {rank} has {} neighbours",
            v.len()
        )));
    }
    write_ints(neighbors, &v, "neighbors")
}

/// The weights argument: None for `MPI_UNWEIGHTED`; `MPI_WEIGHTS_EMPTY` is weighted, empty.
fn weights(p: *const c_int, n: usize, what: &str) -> Result<Option<Vec<i64>>, MpiError> {
    match p as usize {
        MPI_UNWEIGHTED => Ok(None),
        MPI_WEIGHTS_EMPTY => {
            if n > 0 {
                Err(MpiError::arg(format!(
                    "{what} is MPI_WEIGHTS_EMPTY for {n} edges"
                )))
            } else {
                Ok(Some(vec![]))
            }
        }
        _ => Ok(Some(ints(p, n, what)?)),
    }
}

fn check_ranks(v: &[i64], size: usize, what: &str) -> Result<(), MpiError> {
    match v.iter().find(|&&r| r < 0 || r >= size as i64) {
        Some(r) => Err(MpiError::new(
            MPI_ERR_RANK,
            format!("{what}: rank {r} is not in 0..{size}"),
        )),
        None => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn dist_graph_create_adjacent(
    c: MPI_Comm,
    indegree: c_int,
    sources: *const c_int,
    sourceweights: *const c_int,
    outdegree: c_int,
    dests: *const c_int,
    destweights: *const c_int,
    _info: MPI_Info,
    _reorder: c_int,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    let size = comm::get(c)?.size;
    let (ni, no) = (count(indegree, "indegree")?, count(outdegree, "outdegree")?);
    let s = ints(sources, ni, "sources")?;
    let d = ints(dests, no, "destinations")?;
    check_ranks(&s, size, "sources")?;
    check_ranks(&d, size, "destinations")?;
    let sw = weights(sourceweights, ni, "sourceweights")?;
    let dw = weights(destweights, no, "destweights")?;
    let weighted = sw.is_some() && dw.is_some();
    let t = Topo::DistGraph {
        sources: s,
        source_weights: sw.unwrap_or_default(),
        dests: d,
        dest_weights: dw.unwrap_or_default(),
        weighted,
    };
    make(c, size as i64, t, newcomm)
}

/// `MPI_Dist_graph_create`: every process gives some edges; each learns its own in- and
/// out-edges (all edges are gathered: ordered by the giving rank, then as given).
#[allow(clippy::too_many_arguments)]
pub unsafe fn dist_graph_create(
    c: MPI_Comm,
    n: c_int,
    sources: *const c_int,
    degrees: *const c_int,
    dests: *const c_int,
    weights_p: *const c_int,
    _info: MPI_Info,
    _reorder: c_int,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let n = count(n, "n")?;
    let src = ints(sources, n, "sources")?;
    let deg = ints(degrees, n, "degrees")?;
    if let Some(x) = deg.iter().find(|&&x| x < 0) {
        return Err(MpiError::arg(format!("a degree is {x}")));
    }
    let total: i64 = deg.iter().sum();
    let dst = ints(dests, total as usize, "destinations")?;
    check_ranks(&src, obj.size, "sources")?;
    check_ranks(&dst, obj.size, "destinations")?;
    let w = weights(weights_p, total as usize, "weights")?;
    let weighted = w.is_some();
    // This process's edges as (source, dest, weight) triples of 32-bit integers.
    let mut mine = Vec::with_capacity(total as usize * 12);
    let mut k = 0usize;
    for (i, &s) in src.iter().enumerate() {
        for _ in 0..deg[i] {
            let wt = w.as_ref().map_or(1, |w| w[k]);
            for v in [s, dst[k], wt] {
                mine.extend_from_slice(&(v as i32).to_le_bytes());
            }
            k += 1;
        }
    }
    let mut counts = vec![0u8; 8 * obj.size];
    obj.with(|core| core.allgather(&(mine.len() as u64).to_le_bytes(), &mut counts))?;
    let counts: Vec<usize> = counts
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .collect();
    let displs: Vec<usize> = counts
        .iter()
        .scan(0, |acc, &x| {
            let d = *acc;
            *acc += x;
            Some(d)
        })
        .collect();
    let mut all = vec![0u8; counts.iter().sum()];
    obj.with(|core| {
        core.allgatherv(
            &mine,
            &mut all,
            fmi::collective::shape::Blocks::new(&counts, &displs),
        )
    })?;
    let me = obj.rank as i64;
    let (mut ins, mut iw, mut outs, mut ow) = (vec![], vec![], vec![], vec![]);
    for e in all.chunks_exact(12) {
        let v = |i: usize| i32::from_le_bytes(e[4 * i..4 * i + 4].try_into().expect("4")) as i64;
        let (s, d, wt) = (v(0), v(1), v(2));
        if d == me {
            ins.push(s);
            iw.push(wt);
        }
        if s == me {
            outs.push(d);
            ow.push(wt);
        }
    }
    let t = Topo::DistGraph {
        sources: ins,
        source_weights: if weighted { iw } else { vec![] },
        dests: outs,
        dest_weights: if weighted { ow } else { vec![] },
        weighted,
    };
    make(c, obj.size as i64, t, newcomm)
}

fn dist(c: MPI_Comm) -> Result<Arc<Topo>, MpiError> {
    let t = topology(c)?;
    Ok(t)
}

pub unsafe fn dist_graph_neighbors_count(
    c: MPI_Comm,
    indegree: *mut c_int,
    outdegree: *mut c_int,
    weighted: *mut c_int,
) -> Result<(), MpiError> {
    let t = dist(c)?;
    let rank = comm::get(c)?.rank as i64;
    let (i, o, w) = match &*t {
        Topo::DistGraph {
            sources,
            dests,
            weighted,
            ..
        } => (sources.len(), dests.len(), *weighted),
        other => {
            let (s, d) = other.neighbors(rank);
            (s.len(), d.len(), false)
        }
    };
    out(indegree, i as c_int, "indegree")?;
    out(outdegree, o as c_int, "outdegree")?;
    out(weighted, w as c_int, "weighted")
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn dist_graph_neighbors(
    c: MPI_Comm,
    maxin: c_int,
    sources: *mut c_int,
    sourceweights: *mut c_int,
    maxout: c_int,
    dests: *mut c_int,
    destweights: *mut c_int,
) -> Result<(), MpiError> {
    let t = dist(c)?;
    let rank = comm::get(c)?.rank as i64;
    let nul = |v: Vec<Option<i64>>| -> Vec<i64> {
        v.into_iter()
            .map(|x| x.unwrap_or(MPI_PROC_NULL as i64))
            .collect()
    };
    let (s, sw, d, dw, weighted) = match &*t {
        Topo::DistGraph {
            sources,
            source_weights,
            dests,
            dest_weights,
            weighted,
        } => (
            sources.clone(),
            source_weights.clone(),
            dests.clone(),
            dest_weights.clone(),
            *weighted,
        ),
        other => {
            let (s, d) = other.neighbors(rank);
            (nul(s), vec![], nul(d), vec![], false)
        }
    };
    if count(maxin, "maxindegree")? < s.len() || count(maxout, "maxoutdegree")? < d.len() {
        return Err(MpiError::arg(format!(
            "maxindegree {maxin} / maxoutdegree {maxout} below the {} / {} neighbours",
            s.len(),
            d.len()
        )));
    }
    write_ints(sources, &s, "sources")?;
    write_ints(dests, &d, "destinations")?;
    if weighted {
        let skip = |p: *mut c_int| matches!(p as usize, MPI_UNWEIGHTED | MPI_WEIGHTS_EMPTY);
        if !skip(sourceweights) {
            write_ints(sourceweights, &sw, "sourceweights")?;
        }
        if !skip(destweights) {
            write_ints(destweights, &dw, "destweights")?;
        }
    }
    Ok(())
}

pub unsafe fn topo_test(c: MPI_Comm, status: *mut c_int) -> Result<(), MpiError> {
    comm::get(c)?;
    let s = match topo::of(c).as_deref() {
        Some(Topo::Cart { .. }) => MPI_CART,
        Some(Topo::Graph { .. }) => MPI_GRAPH,
        Some(Topo::DistGraph { .. }) => MPI_DIST_GRAPH,
        None => MPI_UNDEFINED,
    };
    out(status, s, "status")
}
