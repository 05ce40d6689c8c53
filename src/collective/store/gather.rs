//! Gather and gatherv: every peer writes its block; the root reads them all at once.

use super::Ctx;
use crate::collective::buffer::split_many;
use crate::collective::shape::Blocks;
use crate::error::Result;

/// Block i of the root's `recv` (size*len bytes) receives rank i's `send`.
pub fn flat(ctx: &mut Ctx, send: &[u8], recv: Option<&mut [u8]>, root: usize) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    if r != root {
        let key = ctx.key("gather", &[r]);
        return ctx.put(&key, send, 1);
    }
    let recv = recv.expect("the root has a receive buffer");
    let keys: Vec<String> = (0..n).map(|p| ctx.key("gather", &[p])).collect();
    ctx.take_blocks(&keys, recv, n, send, root)
}

/// Block i (`blocks`) of the root's `recv` receives rank i's `send`.
pub fn flat_v(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<(&mut [u8], Blocks)>,
    root: usize,
) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    if r != root {
        let key = ctx.key("gather", &[r]);
        return ctx.put(&key, send, 1);
    }
    let (out, blocks) = recv.expect("the root has a receive buffer");
    let keys: Vec<String> = (0..n).map(|p| ctx.key("gather", &[p])).collect();
    let ranges: Vec<_> = (0..n).map(|p| blocks.range(p)).collect();
    let mut parts = split_many(out, &ranges);
    parts[root].copy_from_slice(send);
    ctx.take_each(&keys, parts, root)
}
