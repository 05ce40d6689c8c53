//! Alltoall and alltoallv: all n-1 sends and receives posted at once; the transport progresses
//! them together.

use super::Ctx;
use crate::channel::Xfer;
use crate::collective::buffer::split_many;
use crate::collective::shape::Blocks;
use crate::error::Result;

/// Block j of `send` goes to rank j; block i of `recv` comes from rank i.
pub fn all_at_once(ctx: &mut Ctx, send: &[u8], recv: &mut [u8]) -> Result<()> {
    let n = ctx.size;
    let r = ctx.rank;
    let s = send.len() / n;
    recv[r * s..(r + 1) * s].copy_from_slice(&send[r * s..(r + 1) * s]);
    let mut blocks: Vec<Option<&mut [u8]>> = if s == 0 {
        (0..n).map(|_| None).collect()
    } else {
        recv.chunks_mut(s).map(Some).collect()
    };
    let mut xfers = Vec::with_capacity(2 * n);
    for k in 1..n {
        let to = (r + k) % n;
        let from = (r + n - k) % n;
        xfers.push(Xfer::Send {
            peer: to,
            data: &send[to * s..(to + 1) * s],
        });
        let buf: &mut [u8] = blocks[from].take().unwrap_or(&mut []);
        xfers.push(Xfer::Recv { peer: from, buf });
    }
    ctx.exchange(&mut xfers)
}

/// Alltoallv: block j of `send` (`sblocks`) goes to rank j; block i of `recv` (`rblocks`) comes
/// from rank i. Empty blocks are empty messages.
pub fn all_at_once_v(
    ctx: &mut Ctx,
    send: &[u8],
    sblocks: Blocks,
    recv: &mut [u8],
    rblocks: Blocks,
) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    let ranges: Vec<_> = (0..n).map(|p| rblocks.range(p)).collect();
    let mut parts: Vec<Option<&mut [u8]>> =
        split_many(recv, &ranges).into_iter().map(Some).collect();
    if let Some(own) = parts[r].take() {
        own.copy_from_slice(&send[sblocks.range(r)]);
    }
    let mut xfers = Vec::with_capacity(2 * n);
    for k in 1..n {
        let to = (r + k) % n;
        let from = (r + n - k) % n;
        xfers.push(Xfer::Send {
            peer: to,
            data: &send[sblocks.range(to)],
        });
        let buf = parts[from].take().expect("one receive per peer");
        xfers.push(Xfer::Recv { peer: from, buf });
    }
    ctx.exchange(&mut xfers)
}
