//! Gather: every peer writes its block; the root reads them all at once.

use super::{blocks_mut, Ctx};
use crate::channel::store::Take;
use crate::error::Result;

/// Block i of the root's `recv` (size*len bytes) receives rank i's `send`.
pub fn flat(ctx: &mut Ctx, send: &[u8], recv: Option<&mut [u8]>, root: usize) -> Result<()> {
    let (n, r, s) = (ctx.size, ctx.rank, send.len());
    if r != root {
        let key = ctx.key("gather", &[r]);
        return ctx.put(&key, send, 1);
    }
    let recv = recv.expect("the root has a receive buffer");
    let keys: Vec<String> = (0..n).map(|p| ctx.key("gather", &[p])).collect();
    let mut takes: Vec<Take> = Vec::with_capacity(n);
    for (p, block) in blocks_mut(recv, s, n).into_iter().enumerate() {
        if p == root {
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
