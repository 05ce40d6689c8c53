//! Gather: binomial tree towards the root, message sizes doubling per round, or straight to the
//! root (flat); gatherv straight to the root.

use super::Ctx;
use crate::channel::Xfer;
use crate::collective::buffer::{split_many, AlignedBuf};
use crate::collective::shape::{children, parent, subtree, Blocks};
use crate::error::Result;

/// Gathers every rank's `send` block into `recv` at the root, in order of rank relative to the
/// root (block i comes from rank (i + root) % size). `recv` is used only at the root and must hold
/// size*len bytes there.
pub fn binomial(ctx: &mut Ctx, send: &[u8], recv: Option<&mut [u8]>, root: usize) -> Result<()> {
    let n = ctx.size;
    let s = send.len();
    let t = ctx.rel(root);
    let sub = subtree(t, n);
    let mut owned;
    let tmp: &mut [u8] = match recv {
        Some(r) if t == 0 => r,
        _ => {
            owned = AlignedBuf::new(sub * s);
            &mut owned
        }
    };
    tmp[..s].copy_from_slice(send);
    {
        let mut rest = &mut tmp[s..sub * s];
        let mut recvs = Vec::new();
        for (_, c) in children(t, n) {
            let len = subtree(c, n) * s;
            let (chunk, r) = rest.split_at_mut(len);
            rest = r;
            recvs.push(Xfer::Recv {
                peer: ctx.abs(c, root),
                buf: chunk,
            });
        }
        ctx.exchange(&mut recvs)?;
    }
    if t != 0 {
        let to = ctx.abs(parent(t), root);
        return ctx.send(to, &tmp[..sub * s]);
    }
    Ok(())
}

/// Like [`binomial_rotating`] (or [`flat`] when `flat_gather`) but always returns the gathered
/// blocks at the root in rank order in a new buffer.
pub fn to_root_buffer(
    ctx: &mut Ctx,
    send: &[u8],
    root: usize,
    flat_gather: bool,
) -> Result<Option<AlignedBuf>> {
    let is_root = ctx.rank == root;
    let mut all = if is_root {
        Some(AlignedBuf::new(ctx.size * send.len()))
    } else {
        None
    };
    if flat_gather {
        flat(ctx, send, all.as_deref_mut(), root)?;
    } else {
        binomial_rotating(ctx, send, all.as_deref_mut(), root)?;
    }
    Ok(all)
}

/// Every rank sends its block straight to the root, which receives all of them at once, each
/// into its place in `recv` (rank order). The tree forwards whole subtrees through the inner
/// ranks (each byte copied through a socket up to log2(n) times, into freshly allocated
/// buffers); for large blocks this moves each byte once.
pub fn flat(ctx: &mut Ctx, send: &[u8], recv: Option<&mut [u8]>, root: usize) -> Result<()> {
    let s = send.len();
    if ctx.rank != root {
        return ctx.send(root, send);
    }
    let out = recv.expect("the root has the receive buffer");
    let (before, rest) = out.split_at_mut(root * s);
    let (own, after) = rest.split_at_mut(s);
    own.copy_from_slice(send);
    let mut recvs: Vec<Xfer> = before
        .chunks_mut(s)
        .enumerate()
        .chain(
            after
                .chunks_mut(s)
                .enumerate()
                .map(|(i, b)| (root + 1 + i, b)),
        )
        .map(|(peer, buf)| Xfer::Recv { peer, buf })
        .collect();
    ctx.exchange(&mut recvs)
}

/// [`binomial`] for any root: the root's relative-order buffer is rotated into rank order.
pub fn binomial_rotating(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<&mut [u8]>,
    root: usize,
) -> Result<()> {
    let n = ctx.size;
    let s = send.len();
    match recv {
        Some(out) if root != 0 => {
            let mut rel = AlignedBuf::new(n * s);
            binomial(ctx, send, Some(&mut rel), root)?;
            // In relative order, block i belongs to rank (i + root) % n.
            let split = (n - root) * s;
            out[root * s..].copy_from_slice(&rel[..split]);
            out[..root * s].copy_from_slice(&rel[split..]);
            Ok(())
        }
        other => binomial(ctx, send, other, root),
    }
}

/// Gatherv: every rank sends its block straight to the root, which receives all of them at
/// once, each into its own place (`blocks`) in `recv`. Empty blocks are empty messages.
pub fn flat_v(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<(&mut [u8], Blocks)>,
    root: usize,
) -> Result<()> {
    if ctx.rank != root {
        return ctx.send(root, send);
    }
    let (out, blocks) = recv.expect("the root has the receive buffer");
    let ranges: Vec<_> = (0..ctx.size).map(|p| blocks.range(p)).collect();
    let mut parts = split_many(out, &ranges);
    parts[root].copy_from_slice(send);
    let mut recvs: Vec<Xfer> = parts
        .into_iter()
        .enumerate()
        .filter(|&(peer, _)| peer != root)
        .map(|(peer, buf)| Xfer::Recv { peer, buf })
        .collect();
    ctx.exchange(&mut recvs)
}
