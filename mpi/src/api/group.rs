//! Groups (local operations): size, rank, incl, excl, range_incl/excl, union, intersection,
//! difference, translate_ranks, compare, free.

use crate::cabi::{count, out, read, slice, slice_mut};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm;
use crate::objects::group::{self, GroupObj, GROUPS};
use std::collections::HashSet;
use std::ffi::c_int;

pub unsafe fn group_size(g: MPI_Group, size: *mut c_int) -> Result<(), MpiError> {
    out(size, group::get(g)?.members.len() as c_int, "size")
}

fn my_world_rank() -> Result<usize, MpiError> {
    comm::world_rank().ok_or_else(|| MpiError::other("MPI is not initialized"))
}

pub unsafe fn group_rank(g: MPI_Group, rank: *mut c_int) -> Result<(), MpiError> {
    let grp = group::get(g)?;
    let r = grp
        .rank_of(my_world_rank()?)
        .map_or(MPI_UNDEFINED, |r| r as c_int);
    out(rank, r, "rank")
}

/// `n` distinct ranks of `grp`.
unsafe fn ranks_of(grp: &GroupObj, n: c_int, ranks: *const c_int) -> Result<Vec<usize>, MpiError> {
    let n = count(n, "n")?;
    let rs = slice(ranks, n, "ranks")?;
    let mut seen = HashSet::new();
    rs.iter()
        .enumerate()
        .map(|(i, &r)| {
            let u = usize::try_from(r)
                .ok()
                .filter(|&u| u < grp.members.len())
                .ok_or_else(|| {
                    MpiError::new(
                        MPI_ERR_RANK,
                        format!(
                            "ranks[{i}] = {r} out of range for a group of {}",
                            grp.members.len()
                        ),
                    )
                })?;
            if !seen.insert(u) {
                return Err(MpiError::new(
                    MPI_ERR_RANK,
                    format!("ranks[{i}] = {r} appears twice"),
                ));
            }
            Ok(u)
        })
        .collect()
}

unsafe fn new_group(members: Vec<usize>, newgroup: *mut MPI_Group) -> Result<(), MpiError> {
    if newgroup.is_null() {
        return Err(MpiError::arg("newgroup is NULL"));
    }
    out(newgroup, group::new(members), "newgroup")
}

pub unsafe fn group_incl(
    g: MPI_Group,
    n: c_int,
    ranks: *const c_int,
    newgroup: *mut MPI_Group,
) -> Result<(), MpiError> {
    let grp = group::get(g)?;
    let rs = ranks_of(&grp, n, ranks)?;
    new_group(rs.iter().map(|&r| grp.members[r]).collect(), newgroup)
}

pub unsafe fn group_excl(
    g: MPI_Group,
    n: c_int,
    ranks: *const c_int,
    newgroup: *mut MPI_Group,
) -> Result<(), MpiError> {
    let grp = group::get(g)?;
    let out_: HashSet<usize> = ranks_of(&grp, n, ranks)?.into_iter().collect();
    let keep = (0..grp.members.len())
        .filter(|r| !out_.contains(r))
        .map(|r| grp.members[r])
        .collect();
    new_group(keep, newgroup)
}

/// The ranks named by `n` triplets (first, last, stride).
unsafe fn range_ranks(
    grp: &GroupObj,
    n: c_int,
    ranges: *mut [c_int; 3],
) -> Result<Vec<usize>, MpiError> {
    let n = count(n, "n")?;
    let rs = slice(ranges.cast_const(), n, "ranges")?;
    let size = grp.members.len() as i64;
    let mut out_ = Vec::new();
    let mut seen = HashSet::new();
    for (i, &[first, last, stride]) in rs.iter().enumerate() {
        let (f, l, s) = (i64::from(first), i64::from(last), i64::from(stride));
        let bad = |why: &str| {
            MpiError::new(
                MPI_ERR_RANK,
                format!("ranges[{i}] = ({first}, {last}, {stride}): {why}"),
            )
        };
        if s == 0 {
            return Err(bad("stride 0"));
        }
        if !(0..size).contains(&f) || !(0..size).contains(&l) {
            return Err(bad(&format!("out of range for a group of {size}")));
        }
        if (s > 0 && f > l) || (s < 0 && f < l) {
            // An empty range is allowed only as a single rank.
            return Err(bad("the stride goes away from last"));
        }
        let mut r = f;
        while (s > 0 && r <= l) || (s < 0 && r >= l) {
            if !seen.insert(r) {
                return Err(bad(&format!("rank {r} appears twice")));
            }
            out_.push(r as usize);
            r += s;
        }
    }
    Ok(out_)
}

pub unsafe fn group_range_incl(
    g: MPI_Group,
    n: c_int,
    ranges: *mut [c_int; 3],
    newgroup: *mut MPI_Group,
) -> Result<(), MpiError> {
    let grp = group::get(g)?;
    let rs = range_ranks(&grp, n, ranges)?;
    new_group(rs.iter().map(|&r| grp.members[r]).collect(), newgroup)
}

pub unsafe fn group_range_excl(
    g: MPI_Group,
    n: c_int,
    ranges: *mut [c_int; 3],
    newgroup: *mut MPI_Group,
) -> Result<(), MpiError> {
    let grp = group::get(g)?;
    let out_: HashSet<usize> = range_ranks(&grp, n, ranges)?.into_iter().collect();
    let keep = (0..grp.members.len())
        .filter(|r| !out_.contains(r))
        .map(|r| grp.members[r])
        .collect();
    new_group(keep, newgroup)
}

/// The members of the first, then those of the second not in the first.
pub unsafe fn group_union(
    a: MPI_Group,
    b: MPI_Group,
    newgroup: *mut MPI_Group,
) -> Result<(), MpiError> {
    let (x, y) = (group::get(a)?, group::get(b)?);
    let mut m = x.members.clone();
    m.extend(y.members.iter().filter(|p| !x.members.contains(p)));
    new_group(m, newgroup)
}

/// The members of the first that are in the second, in the first's order.
pub unsafe fn group_intersection(
    a: MPI_Group,
    b: MPI_Group,
    newgroup: *mut MPI_Group,
) -> Result<(), MpiError> {
    let (x, y) = (group::get(a)?, group::get(b)?);
    let m = x
        .members
        .iter()
        .copied()
        .filter(|p| y.members.contains(p))
        .collect();
    new_group(m, newgroup)
}

/// The members of the first that are not in the second, in the first's order.
pub unsafe fn group_difference(
    a: MPI_Group,
    b: MPI_Group,
    newgroup: *mut MPI_Group,
) -> Result<(), MpiError> {
    let (x, y) = (group::get(a)?, group::get(b)?);
    let m = x
        .members
        .iter()
        .copied()
        .filter(|p| !y.members.contains(p))
        .collect();
    new_group(m, newgroup)
}

pub unsafe fn group_translate_ranks(
    a: MPI_Group,
    n: c_int,
    ranks1: *const c_int,
    b: MPI_Group,
    ranks2: *mut c_int,
) -> Result<(), MpiError> {
    let (x, y) = (group::get(a)?, group::get(b)?);
    let n = count(n, "n")?;
    let rs = slice(ranks1, n, "ranks1")?;
    let outs = slice_mut(ranks2, n, "ranks2")?;
    for (i, (&r, o)) in rs.iter().zip(outs.iter_mut()).enumerate() {
        if r == MPI_PROC_NULL {
            *o = MPI_PROC_NULL;
            continue;
        }
        let u = usize::try_from(r)
            .ok()
            .filter(|&u| u < x.members.len())
            .ok_or_else(|| {
                MpiError::new(
                    MPI_ERR_RANK,
                    format!(
                        "ranks1[{i}] = {r} out of range for a group of {}",
                        x.members.len()
                    ),
                )
            })?;
        *o = y
            .rank_of(x.members[u])
            .map_or(MPI_UNDEFINED, |v| v as c_int);
    }
    Ok(())
}

pub unsafe fn group_compare(
    a: MPI_Group,
    b: MPI_Group,
    result: *mut c_int,
) -> Result<(), MpiError> {
    let (x, y) = (group::get(a)?, group::get(b)?);
    let r = crate::api::comm::compare_members(&x.members, &y.members, MPI_IDENT);
    out(result, r, "result")
}

pub unsafe fn group_free(g: *mut MPI_Group) -> Result<(), MpiError> {
    let h = read(g, "group")?;
    if h != MPI_GROUP_EMPTY && GROUPS.remove(h.0).is_none() {
        return Err(MpiError::new(
            MPI_ERR_GROUP,
            format!("{:#x} is not a live group", h.0),
        ));
    }
    out(g, MPI_GROUP_NULL, "group")
}
