//! Reduce-scatter: every peer writes block j of its contribution for peer j in one request,
//! reads the n-1 blocks written for it and folds them strictly left to right (any operator).

use super::Ctx;
use crate::channel::store::Put;
use crate::collective::buffer::{blocks_mut, AlignedBuf};
use crate::collective::fold_blocks;
use crate::collective::shape::packed;
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;

/// Block i (`counts[i]` bytes, consecutive in `send`) of the reduction of every rank's `send`
/// into rank i's `recv`: v0 (+) v1 (+) ... (+) v(n-1), in rank order.
pub fn direct(
    ctx: &mut Ctx,
    send: &[u8],
    recv: &mut [u8],
    counts: &[usize],
    t: Datatype,
    op: &ReduceOp,
) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    let offs = packed(counts);
    let block = |p: usize| &send[offs[p]..offs[p] + counts[p]];
    let outgoing: Vec<String> = (0..n).map(|j| ctx.key("part", &[r, j])).collect();
    let incoming: Vec<String> = (0..n).map(|p| ctx.key("part", &[p, r])).collect();
    let puts: Vec<Put> = (0..n)
        .filter(|&j| j != r)
        .map(|j| Put {
            key: &outgoing[j],
            data: block(j),
            readers: 1,
        })
        .collect();
    ctx.push(&puts)?;
    let s = counts[r];
    let mut all = AlignedBuf::new(n * s);
    let mut parts = blocks_mut(&mut all, s, n);
    parts[r].copy_from_slice(block(r));
    ctx.take_each(&incoming, parts, r)?;
    fold_blocks(&all, s, recv, t, op);
    Ok(())
}
