//! Broadcast: the root writes the message once; every other peer reads it.

use super::Ctx;
use crate::error::Result;

/// One write of `buf` by the root for n-1 readers; one read by each other peer.
pub fn write_once(ctx: &mut Ctx, buf: &mut [u8], root: usize) -> Result<()> {
    if ctx.size == 1 {
        return Ok(());
    }
    let key = ctx.key("bcast", &[root]);
    if ctx.rank == root {
        ctx.put(&key, buf, ctx.size - 1)
    } else {
        ctx.get(&key, Some(root), buf)
    }
}
