//! Broadcast: binomial tree from the root.

use super::Ctx;
use crate::channel::Xfer;
use crate::collective::shape::{children, parent};
use crate::error::Result;

/// Binomial-tree broadcast of `buf` from `root` (ceil(log2 n) rounds, n-1 messages).
pub fn binomial(ctx: &mut Ctx, buf: &mut [u8], root: usize) -> Result<()> {
    let n = ctx.size;
    let t = ctx.rel(root);
    if t != 0 {
        let from = ctx.abs(parent(t), root);
        ctx.recv(from, buf)?;
    }
    let data: &[u8] = buf;
    let mut sends: Vec<Xfer> = children(t, n)
        .map(|(_, c)| Xfer::Send {
            peer: ctx.abs(c, root),
            data,
        })
        .collect();
    // Farthest child first: it roots the largest subtree.
    sends.reverse();
    ctx.exchange(&mut sends)
}
