//! Alltoall and alltoallv: every peer writes its n-1 outgoing blocks in one request, then
//! reads its n-1 incoming ones.

use super::Ctx;
use crate::channel::store::{Put, Take};
use crate::collective::buffer::{blocks_mut, split_many};
use crate::collective::shape::Blocks;
use crate::error::Result;

/// Block j of `send` goes to rank j; block i of `recv` comes from rank i.
pub fn direct(ctx: &mut Ctx, send: &[u8], recv: &mut [u8]) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    let s = send.len() / n;
    let outgoing: Vec<String> = (0..n).map(|j| ctx.key("alltoall", &[r, j])).collect();
    let incoming: Vec<String> = (0..n).map(|p| ctx.key("alltoall", &[p, r])).collect();
    let puts: Vec<Put> = (0..n)
        .filter(|&j| j != r)
        .map(|j| Put {
            key: &outgoing[j],
            data: &send[j * s..(j + 1) * s],
            readers: 1,
        })
        .collect();
    ctx.push(&puts)?;
    let mut takes: Vec<Take> = Vec::with_capacity(n);
    for (p, block) in blocks_mut(recv, s, n).into_iter().enumerate() {
        if p == r {
            block.copy_from_slice(&send[r * s..(r + 1) * s]);
        } else {
            takes.push(Take {
                key: &incoming[p],
                from: Some(p),
                buf: block,
            });
        }
    }
    ctx.pop(&mut takes)
}

/// Block j of `send` (`sblocks`) goes to rank j; block i of `recv` (`rblocks`) comes from rank i.
pub fn direct_v(
    ctx: &mut Ctx,
    send: &[u8],
    sblocks: Blocks,
    recv: &mut [u8],
    rblocks: Blocks,
) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    let outgoing: Vec<String> = (0..n).map(|j| ctx.key("alltoall", &[r, j])).collect();
    let incoming: Vec<String> = (0..n).map(|p| ctx.key("alltoall", &[p, r])).collect();
    let puts: Vec<Put> = (0..n)
        .filter(|&j| j != r)
        .map(|j| Put {
            key: &outgoing[j],
            data: &send[sblocks.range(j)],
            readers: 1,
        })
        .collect();
    ctx.push(&puts)?;
    let ranges: Vec<_> = (0..n).map(|p| rblocks.range(p)).collect();
    let mut parts = split_many(recv, &ranges);
    parts[r].copy_from_slice(&send[sblocks.range(r)]);
    ctx.take_each(&incoming, parts, r)
}
