//! Scatter and scatterv: the root writes every block in one request; each peer reads its own.

use super::Ctx;
use crate::channel::store::Put;
use crate::collective::shape::Blocks;
use crate::error::Result;

/// Block i of the root's `send` (size*len bytes) goes to rank i's `recv` (len bytes).
pub fn flat(ctx: &mut Ctx, send: Option<&[u8]>, recv: &mut [u8], root: usize) -> Result<()> {
    let (n, r, s) = (ctx.size, ctx.rank, recv.len());
    if r != root {
        let key = ctx.key("scatter", &[r]);
        return ctx.get(&key, Some(root), recv);
    }
    let send = send.expect("the root has a send buffer");
    let keys: Vec<String> = (0..n).map(|p| ctx.key("scatter", &[p])).collect();
    let puts: Vec<Put> = (0..n)
        .filter(|&p| p != root)
        .map(|p| Put {
            key: &keys[p],
            data: &send[p * s..(p + 1) * s],
            readers: 1,
        })
        .collect();
    ctx.push(&puts)?;
    recv.copy_from_slice(&send[r * s..(r + 1) * s]);
    Ok(())
}

/// Block i (`blocks`) of the root's `send` goes to rank i's `recv`.
pub fn flat_v(
    ctx: &mut Ctx,
    send: Option<(&[u8], Blocks)>,
    recv: &mut [u8],
    root: usize,
) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    if r != root {
        let key = ctx.key("scatter", &[r]);
        return ctx.get(&key, Some(root), recv);
    }
    let (send, blocks) = send.expect("the root has a send buffer");
    let keys: Vec<String> = (0..n).map(|p| ctx.key("scatter", &[p])).collect();
    let puts: Vec<Put> = (0..n)
        .filter(|&p| p != root)
        .map(|p| Put {
            key: &keys[p],
            data: &send[blocks.range(p)],
            readers: 1,
        })
        .collect();
    ctx.push(&puts)?;
    recv.copy_from_slice(&send[blocks.range(root)]);
    Ok(())
}
