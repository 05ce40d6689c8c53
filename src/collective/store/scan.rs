//! Inclusive scan: peer k gets v0 (+) ... (+) vk, folded strictly left to right.
//! Small messages: every peer reads the values below it at once and folds them (one round,
//! any operator). Large ones: a chain of partial prefixes (any operator) or, for commutative
//! and associative operators, recursive doubling over partial results (ceil(log2 n) rounds).
//! Exclusive scan (peer k gets v0 (+) ... (+) v(k-1); peer 0's buffer is left as it is): the
//! same fold of the values below at once for small messages, the chain for large ones.

use super::Ctx;
use crate::collective::buffer::{blocks_mut, AlignedBuf};
use crate::collective::fold_blocks;
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;

/// Peer k writes its value once for the n-1-k peers above it and reads the k values below.
pub fn fold_prefix(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let (n, r, s) = (ctx.size, ctx.rank, buf.len());
    let keys: Vec<String> = (0..n).map(|p| ctx.key("val", &[p])).collect();
    if r + 1 < n {
        ctx.put(&keys[r], buf, n - 1 - r)?;
    }
    if r == 0 {
        return Ok(());
    }
    let mut all = AlignedBuf::new((r + 1) * s);
    ctx.take_blocks(&keys, &mut all, r + 1, buf, r)?;
    fold_blocks(&all, s, buf, t, op);
    Ok(())
}

/// Peer k reads the prefix of peer k-1, folds its value in and writes the new prefix for k+1.
pub fn chain(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    if r > 0 {
        let mut prefix = AlignedBuf::new(buf.len());
        let key = ctx.key("prefix", &[r - 1]);
        ctx.get(&key, Some(r - 1), &mut prefix)?;
        op.apply(&mut prefix, buf, t);
        buf.copy_from_slice(&prefix);
    }
    if r + 1 < n {
        let key = ctx.key("prefix", &[r]);
        ctx.put(&key, buf, 1)?;
    }
    Ok(())
}

/// Hillis-Steele: in round d peer k publishes its partial result for k+d and folds in the one of
/// k-d (lower ranks on the left).
pub fn recursive_doubling(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    let mut tmp = AlignedBuf::new(buf.len());
    let mut d = 1;
    while d < n {
        if r + d < n {
            let key = ctx.key("round", &[d, r]);
            ctx.put(&key, buf, 1)?;
        }
        if r >= d {
            let key = ctx.key("round", &[d, r - d]);
            ctx.get(&key, Some(r - d), &mut tmp)?;
            op.apply(&mut tmp, buf, t);
            buf.copy_from_slice(&tmp);
        }
        d *= 2;
    }
    Ok(())
}

/// Exclusive [`fold_prefix`]: peer k writes its `send` once for the n-1-k peers above it and
/// folds the k values below into `recv`.
pub fn exclusive_fold_prefix(
    ctx: &mut Ctx,
    send: &[u8],
    recv: &mut [u8],
    t: Datatype,
    op: &ReduceOp,
) -> Result<()> {
    let (n, r, s) = (ctx.size, ctx.rank, send.len());
    let keys: Vec<String> = (0..n).map(|p| ctx.key("val", &[p])).collect();
    if r + 1 < n {
        ctx.put(&keys[r], send, n - 1 - r)?;
    }
    if r == 0 {
        return Ok(());
    }
    let mut all = AlignedBuf::new(r * s);
    ctx.take_each(&keys, blocks_mut(&mut all, s, r), r)?;
    fold_blocks(&all, s, recv, t, op);
    Ok(())
}

/// Exclusive [`chain`]: peer k reads the prefix of the peers below it into `recv`, folds its
/// `send` in and writes that for k+1.
pub fn exclusive_chain(
    ctx: &mut Ctx,
    send: &[u8],
    recv: &mut [u8],
    t: Datatype,
    op: &ReduceOp,
) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    if r > 0 {
        let key = ctx.key("prefix", &[r - 1]);
        ctx.get(&key, Some(r - 1), recv)?;
    }
    if r + 1 == n {
        return Ok(());
    }
    let key = ctx.key("prefix", &[r]);
    if r == 0 {
        return ctx.put(&key, send, 1);
    }
    let mut next = AlignedBuf::from_slice(recv);
    op.apply(&mut next, send, t);
    ctx.put(&key, &next, 1)
}
