//! Reduce: every contribution is written once; the root folds them strictly left to right in
//! rank order (any operator), or, for commutative and associative operators, a binomial tree of
//! partial results spreads the folding over the peers.

use super::Ctx;
use crate::collective::buffer::AlignedBuf;
use crate::collective::fold_blocks;
use crate::collective::shape::children;
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;

/// v0 (+) v1 (+) ... (+) v(n-1) at the root. The root reads all contributions in one round
/// (`at_once`: the plan's choice when they fit in `plan::FLAT_MAX` bytes), otherwise one after
/// the other, folding as they arrive.
pub fn flat_fold(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<&mut [u8]>,
    t: Datatype,
    op: &ReduceOp,
    root: usize,
    at_once: bool,
) -> Result<()> {
    let (n, r, s) = (ctx.size, ctx.rank, send.len());
    let keys: Vec<String> = (0..n).map(|p| ctx.key("reduce", &[p])).collect();
    if r != root {
        return ctx.put(&keys[r], send, 1);
    }
    let out = recv.expect("the root has a receive buffer");
    if at_once {
        let mut all = AlignedBuf::new(n * s);
        ctx.take_blocks(&keys, &mut all, n, send, root)?;
        fold_blocks(&all, s, out, t, op);
        return Ok(());
    }
    let mut tmp = AlignedBuf::new(s);
    for (p, key) in keys.iter().enumerate() {
        let v: &[u8] = if p == root {
            send
        } else {
            ctx.get(key, Some(p), &mut tmp)?;
            &tmp
        };
        if p == 0 {
            out.copy_from_slice(v);
        } else {
            op.apply(out, v, t);
        }
    }
    Ok(())
}

/// Binomial tree over ranks relative to the root (operator commutative and associative): each
/// peer folds its children's partial results into its own value and publishes one partial for
/// its parent, so no peer reads more than ceil(log2 n) messages.
pub fn tree(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<&mut [u8]>,
    t: Datatype,
    op: &ReduceOp,
    root: usize,
) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    let rel = (r + n - root) % n;
    let mut acc = AlignedBuf::from_slice(send);
    let mut tmp = AlignedBuf::new(send.len());
    for (_, c) in children(rel, n) {
        let child = (c + root) % n;
        let key = ctx.key("rtree", &[child]);
        ctx.get(&key, Some(child), &mut tmp)?;
        op.apply(&mut acc, &tmp, t);
    }
    if rel == 0 {
        recv.expect("the root has a receive buffer")
            .copy_from_slice(&acc);
        Ok(())
    } else {
        let key = ctx.key("rtree", &[r]);
        ctx.put(&key, &acc, 1)
    }
}
