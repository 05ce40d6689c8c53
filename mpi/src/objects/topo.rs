//! Process topologies, kept beside the communicators they are attached to (by communicator
//! handle): Cartesian grids, graphs and distributed graphs, with the pure functions MPI defines
//! on them (coordinates, ranks, shifts, sub-grids, neighbour lists, `MPI_Dims_create`). No
//! C-ABI code here; `crate::api::topo` translates.

use crate::gen::abi::MPI_Comm;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// A topology attached to a communicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topo {
    Cart {
        dims: Vec<i64>,
        periods: Vec<bool>,
    },
    Graph {
        /// Cumulative neighbour counts (`index[i]`: neighbours of nodes 0..=i).
        index: Vec<i64>,
        edges: Vec<i64>,
    },
    DistGraph {
        sources: Vec<i64>,
        source_weights: Vec<i64>,
        dests: Vec<i64>,
        dest_weights: Vec<i64>,
        weighted: bool,
    },
}

static TOPOS: Mutex<Option<HashMap<usize, Arc<Topo>>>> = Mutex::new(None);

/// Attaches `t` to communicator `c`.
pub fn attach(c: MPI_Comm, t: Topo) {
    TOPOS
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert(c.0, Arc::new(t));
}

/// The topology of `c`, if it has one.
pub fn of(c: MPI_Comm) -> Option<Arc<Topo>> {
    TOPOS.lock().as_ref().and_then(|m| m.get(&c.0).cloned())
}

/// Forgets the topology of a freed communicator.
pub fn detach(c: MPI_Comm) {
    if let Some(m) = TOPOS.lock().as_mut() {
        m.remove(&c.0);
    }
}

/// Copies `from`'s topology to `to` (`MPI_Comm_dup`).
pub fn copy(from: MPI_Comm, to: MPI_Comm) {
    if let Some(t) = of(from) {
        attach(to, (*t).clone());
    }
}

impl Topo {
    /// Number of processes the topology places (the grid's size, the graph's nodes).
    pub fn nodes(&self) -> Option<i64> {
        match self {
            Topo::Cart { dims, .. } => Some(dims.iter().product()),
            Topo::Graph { index, .. } => Some(index.len() as i64),
            Topo::DistGraph { .. } => None,
        }
    }

    /// Cartesian coordinates of `rank` (row-major: the last dimension varies fastest).
    pub fn coords(dims: &[i64], rank: i64) -> Vec<i64> {
        let mut c = vec![0; dims.len()];
        let mut r = rank;
        for i in (0..dims.len()).rev() {
            c[i] = r % dims[i];
            r /= dims[i];
        }
        c
    }

    /// The rank at `coords`, periodic dimensions wrapped; Err(dimension) for a coordinate out
    /// of range in a non-periodic one.
    pub fn cart_rank(dims: &[i64], periods: &[bool], coords: &[i64]) -> Result<i64, usize> {
        let mut r = 0;
        for i in 0..dims.len() {
            let mut c = coords[i];
            if periods[i] {
                c = c.rem_euclid(dims[i]);
            } else if c < 0 || c >= dims[i] {
                return Err(i);
            }
            r = r * dims[i] + c;
        }
        Ok(r)
    }

    /// `MPI_Cart_shift`: (source, dest) of a shift by `disp` along `dim`; None: no process
    /// (`MPI_PROC_NULL`) past a non-periodic edge.
    pub fn shift(
        dims: &[i64],
        periods: &[bool],
        rank: i64,
        dim: usize,
        disp: i64,
    ) -> (Option<i64>, Option<i64>) {
        let me = Self::coords(dims, rank);
        let at = |d: i64| {
            let mut c = me.clone();
            c[dim] += d;
            Self::cart_rank(dims, periods, &c).ok()
        };
        (at(-disp), at(disp))
    }

    /// The neighbours of `rank` as (sources, destinations), in the order the neighbourhood
    /// collectives use: for a grid, per dimension the -1 then the +1 neighbour (None past a
    /// non-periodic edge); for a graph, its edges (both ways); for a distributed graph, its
    /// lists.
    pub fn neighbors(&self, rank: i64) -> (Vec<Option<i64>>, Vec<Option<i64>>) {
        match self {
            Topo::Cart { dims, periods } => {
                let mut v = vec![];
                for d in 0..dims.len() {
                    let (s, t) = Self::shift(dims, periods, rank, d, 1);
                    v.push(s);
                    v.push(t);
                }
                (v.clone(), v)
            }
            Topo::Graph { index, edges } => {
                let v: Vec<Option<i64>> = Self::graph_neighbors(index, edges, rank)
                    .iter()
                    .map(|&r| Some(r))
                    .collect();
                (v.clone(), v)
            }
            Topo::DistGraph { sources, dests, .. } => (
                sources.iter().map(|&r| Some(r)).collect(),
                dests.iter().map(|&r| Some(r)).collect(),
            ),
        }
    }

    /// The neighbours of node `rank` of a graph.
    pub fn graph_neighbors(index: &[i64], edges: &[i64], rank: i64) -> Vec<i64> {
        let r = rank as usize;
        if r >= index.len() {
            return vec![];
        }
        let lo = if r == 0 { 0 } else { index[r - 1] as usize };
        let hi = index[r] as usize;
        edges[lo.min(edges.len())..hi.min(edges.len())].to_vec()
    }
}

/// `MPI_Dims_create`: fills the zero entries of `dims` so that the product of all is `nnodes`,
/// as balanced as possible and in non-increasing order. Err: the fixed entries do not divide
/// `nnodes` (or one is negative).
pub fn dims_create(nnodes: i64, dims: &[i64]) -> Result<Vec<i64>, String> {
    if dims.iter().any(|&d| d < 0) {
        return Err("a fixed dimension is negative".into());
    }
    let fixed: i64 = dims.iter().filter(|&&d| d > 0).product();
    let free = dims.iter().filter(|&&d| d == 0).count();
    if fixed == 0 || nnodes % fixed != 0 {
        return Err(format!(
            "the fixed dimensions (product {fixed}) do not divide {nnodes} processes"
        ));
    }
    let m = nnodes / fixed;
    if free == 0 {
        return if m == 1 {
            Ok(dims.to_vec())
        } else {
            Err(format!(
                "the dimensions' product is {fixed}, not {nnodes} processes"
            ))
        };
    }
    let best = balanced(m, free);
    let mut it = best.into_iter();
    Ok(dims
        .iter()
        .map(|&d| if d == 0 { it.next().unwrap_or(1) } else { d })
        .collect())
}

/// `m` as a product of `k` factors in non-increasing order, as close to each other as
/// possible: the smallest difference between the largest and the smallest factor, and among
/// those the lexicographically smallest (MPICH 5.0.2 agrees on every case from 1 to 64
/// processes in 1 to 5 dimensions; for 360 in 3 it gives 10x6x6 where this gives 9x8x5, as
/// close by this measure).
fn balanced(m: i64, k: usize) -> Vec<i64> {
    type Best = Option<(i64, Vec<i64>)>;
    fn each(divs: &[i64], m: i64, k: usize, maxf: i64, cur: &mut Vec<i64>, best: &mut Best) {
        if k == 1 {
            if m <= maxf {
                cur.push(m);
                let spread = cur[0] - m;
                if best.as_ref().is_none_or(|(s, v)| (spread, &*cur) < (*s, v)) {
                    *best = Some((spread, cur.clone()));
                }
                cur.pop();
            }
            return;
        }
        // Divisors of m no larger than maxf, largest first.
        for &f in divs.iter().rev().filter(|&&f| f <= maxf && m % f == 0) {
            if let (Some(first), Some((s, _))) = (cur.first(), best.as_ref()) {
                // Every later factor is at most f: the spread is at least first - f.
                if first - f > *s {
                    break;
                }
            }
            cur.push(f);
            each(divs, m / f, k - 1, f, cur, best);
            cur.pop();
        }
    }
    let mut divs = vec![];
    let mut d = 1;
    while d * d <= m {
        if m % d == 0 {
            divs.push(d);
            if d * d != m {
                divs.push(m / d);
            }
        }
        d += 1;
    }
    divs.sort_unstable();
    let mut best = None;
    each(&divs, m, k, m, &mut Vec::new(), &mut best);
    best.map(|b| b.1).unwrap_or_else(|| vec![m])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_are_balanced_and_non_increasing() {
        assert_eq!(dims_create(12, &[0, 0]).unwrap(), vec![4, 3]);
        assert_eq!(dims_create(16, &[0, 0, 0]).unwrap(), vec![4, 2, 2]);
        assert_eq!(dims_create(20, &[0, 0, 0, 0]).unwrap(), vec![5, 2, 2, 1]);
        assert_eq!(dims_create(36, &[2, 0, 0]).unwrap(), vec![2, 6, 3]);
        assert_eq!(dims_create(1024, &[0; 5]).unwrap(), vec![4; 5]);
        assert_eq!(dims_create(49, &[0, 0, 0]).unwrap(), vec![7, 7, 1]);
        assert_eq!(dims_create(7, &[0, 0]).unwrap(), vec![7, 1]);
        assert_eq!(dims_create(24, &[0, 3, 0]).unwrap(), vec![4, 3, 2]);
        assert_eq!(dims_create(1, &[0, 0, 0]).unwrap(), vec![1, 1, 1]);
        assert!(dims_create(12, &[5, 0]).is_err());
        assert_eq!(dims_create(6, &[2, 3]).unwrap(), vec![2, 3]);
        assert!(dims_create(7, &[2, 3]).is_err());
    }

    #[test]
    fn cart_coords_ranks_and_shifts() {
        let dims = [2, 3];
        let per = [false, true];
        assert_eq!(Topo::coords(&dims, 4), vec![1, 1]);
        assert_eq!(Topo::cart_rank(&dims, &per, &[1, 1]), Ok(4));
        assert_eq!(Topo::cart_rank(&dims, &per, &[1, -1]), Ok(5));
        assert_eq!(Topo::cart_rank(&dims, &per, &[2, 0]), Err(0));
        // Along the non-periodic dimension 0 from rank 4 = (1,1): source (0,1) = 1, no dest.
        assert_eq!(Topo::shift(&dims, &per, 4, 0, 1), (Some(1), None));
        // Along the periodic dimension 1: source (1,0) = 3, dest (1,2) = 5.
        assert_eq!(Topo::shift(&dims, &per, 4, 1, 1), (Some(3), Some(5)));
        let t = Topo::Cart {
            dims: dims.to_vec(),
            periods: per.to_vec(),
        };
        let (s, d) = t.neighbors(4);
        assert_eq!(s, vec![Some(1), None, Some(3), Some(5)]);
        assert_eq!(s, d);
    }

    #[test]
    fn graph_neighbors_from_index_and_edges() {
        // A ring of 3: node i's neighbours are i-1 and i+1.
        let index = [2, 4, 6];
        let edges = [2, 1, 0, 2, 1, 0];
        assert_eq!(Topo::graph_neighbors(&index, &edges, 0), vec![2, 1]);
        assert_eq!(Topo::graph_neighbors(&index, &edges, 2), vec![1, 0]);
        assert!(Topo::graph_neighbors(&index, &edges, 3).is_empty());
    }
}
