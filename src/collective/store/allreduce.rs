//! Allreduce: reduce to rank 0 and write the result once for everyone (any operator), or a
//! reduce-scatter + allgather through the store in which peer j folds segment j (commutative
//! and associative operators).

use super::{bcast, reduce, Ctx};
use crate::channel::store::{Put, Take};
use crate::collective::buffer::AlignedBuf;
use crate::collective::fold_blocks;
use crate::collective::shape::segment;
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;
use crate::plan::StoreReduce;

/// Reduce to rank 0 as the plan says (`how`: [`reduce::flat_fold`], or [`reduce::tree`] for
/// large messages with a commutative and associative operator), then [`bcast::write_once`].
/// Every peer gets the same bits; ordered operators are folded strictly left to right.
pub fn reduce_bcast(
    ctx: &mut Ctx,
    buf: &mut [u8],
    t: Datatype,
    op: &ReduceOp,
    how: StoreReduce,
) -> Result<()> {
    let own = AlignedBuf::from_slice(buf);
    let out = if ctx.rank == 0 { Some(&mut *buf) } else { None };
    match how {
        StoreReduce::FlatFold { at_once } => reduce::flat_fold(ctx, &own, out, t, op, 0, at_once)?,
        StoreReduce::Tree => reduce::tree(ctx, &own, out, t, op, 0)?,
    }
    bcast::write_once(ctx, buf, 0)
}

/// Reduce-scatter + allgather (operator commutative and associative, at least one element per
/// peer): segment j of every contribution goes to peer j, which folds them in rank order and
/// writes the result once for everyone. Each peer sends and receives about 2(n-1)/n of the
/// message and folds one segment; every peer gets the same bits.
pub fn segmented(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    if n == 1 {
        return Ok(());
    }
    let esize = t.size();
    let elems = buf.len() / esize;
    let seg = |i: usize| segment(i, n, elems, esize);
    // Segment j of this contribution, for peer j.
    let out_keys: Vec<String> = (0..n).map(|j| ctx.key("part", &[r, j])).collect();
    let puts: Vec<Put> = (0..n)
        .filter(|&j| j != r)
        .map(|j| Put {
            key: &out_keys[j],
            data: &buf[seg(j)],
            readers: 1,
        })
        .collect();
    ctx.push(&puts)?;
    // Segment r of every contribution, folded in rank order.
    let mine = seg(r);
    let sl = mine.len();
    let in_keys: Vec<String> = (0..n).map(|p| ctx.key("part", &[p, r])).collect();
    let mut parts = AlignedBuf::new(n * sl);
    {
        let mut takes: Vec<Take> = Vec::with_capacity(n);
        for (p, block) in parts.chunks_mut(sl).enumerate() {
            if p == r {
                block.copy_from_slice(&buf[mine.clone()]);
            } else {
                takes.push(Take {
                    key: &in_keys[p],
                    from: Some(p),
                    buf: block,
                });
            }
        }
        ctx.pop(&mut takes)?;
    }
    fold_blocks(&parts, sl, &mut buf[mine.clone()], t, op);
    drop(parts);
    // Every folded segment, to everyone.
    let sum_keys: Vec<String> = (0..n).map(|p| ctx.key("sum", &[p])).collect();
    ctx.put(&sum_keys[r], &buf[mine], n - 1)?;
    let mut takes: Vec<Take> = Vec::with_capacity(n);
    let mut rest: &mut [u8] = buf;
    for (p, key) in sum_keys.iter().enumerate() {
        let (block, tail) = rest.split_at_mut(seg(p).len());
        rest = tail;
        if p != r {
            takes.push(Take {
                key,
                from: Some(p),
                buf: block,
            });
        }
    }
    ctx.pop(&mut takes)
}
