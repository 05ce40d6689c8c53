//! Allgather and allgatherv: every peer writes its block once for all others and reads theirs.

use super::Ctx;
use crate::collective::buffer::split_many;
use crate::collective::shape::Blocks;
use crate::error::Result;

/// Block i of every rank's `recv` receives rank i's `send`.
pub fn write_once(ctx: &mut Ctx, send: &[u8], recv: &mut [u8]) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    let keys: Vec<String> = (0..n).map(|p| ctx.key("allgather", &[p])).collect();
    if n > 1 {
        ctx.put(&keys[r], send, n - 1)?;
    }
    ctx.take_blocks(&keys, recv, n, send, r)
}

/// Block i (`blocks`) of every rank's `recv` receives rank i's `send`.
pub fn write_once_v(ctx: &mut Ctx, send: &[u8], recv: &mut [u8], blocks: Blocks) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    let keys: Vec<String> = (0..n).map(|p| ctx.key("allgather", &[p])).collect();
    if n > 1 {
        ctx.put(&keys[r], send, n - 1)?;
    }
    let ranges: Vec<_> = (0..n).map(|p| blocks.range(p)).collect();
    let mut parts = split_many(recv, &ranges);
    parts[r].copy_from_slice(send);
    ctx.take_each(&keys, parts, r)
}
