//! Reduce-scatter: every rank sends block j of its contribution straight to rank j, all at
//! once, and folds the n blocks it receives strictly left to right (any operator).

use super::Ctx;
use crate::channel::Xfer;
use crate::collective::buffer::{blocks_mut, AlignedBuf};
use crate::collective::fold_blocks;
use crate::collective::shape::packed;
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;

/// Block i (`counts[i]` bytes, consecutive in `send`) of the reduction of every rank's `send`
/// into rank i's `recv`: v0 (+) v1 (+) ... (+) v(n-1), in rank order.
pub fn all_at_once(
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
    let s = counts[r];
    let mut all = AlignedBuf::new(n * s);
    {
        let mut parts: Vec<Option<&mut [u8]>> =
            blocks_mut(&mut all, s, n).into_iter().map(Some).collect();
        if let Some(own) = parts[r].take() {
            own.copy_from_slice(block(r));
        }
        let mut xfers = Vec::with_capacity(2 * n);
        for k in 1..n {
            let to = (r + k) % n;
            let from = (r + n - k) % n;
            xfers.push(Xfer::Send {
                peer: to,
                data: block(to),
            });
            let buf = parts[from].take().expect("one receive per peer");
            xfers.push(Xfer::Recv { peer: from, buf });
        }
        ctx.exchange(&mut xfers)?;
    }
    fold_blocks(&all, s, recv, t, op);
    Ok(())
}
