//! Allgather: every peer writes its block once for all others and reads theirs.

use super::{blocks_mut, Ctx};
use crate::channel::store::Take;
use crate::error::Result;

/// Block i of every rank's `recv` receives rank i's `send`.
pub fn write_once(ctx: &mut Ctx, send: &[u8], recv: &mut [u8]) -> Result<()> {
    let (n, r, s) = (ctx.size, ctx.rank, send.len());
    let keys: Vec<String> = (0..n).map(|p| ctx.key("allgather", &[p])).collect();
    if n > 1 {
        ctx.put(&keys[r], send, n - 1)?;
    }
    let mut takes: Vec<Take> = Vec::with_capacity(n);
    for (p, block) in blocks_mut(recv, s, n).into_iter().enumerate() {
        if p == r {
            block.copy_from_slice(send);
        } else {
            takes.push(Take {
                key: &keys[p],
                from: Some(p),
                buf: block,
            });
        }
    }
    ctx.pop(&mut takes)
}
