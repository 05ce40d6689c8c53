//! Scatter: binomial tree from the root, message sizes halving per round, or straight from the
//! root (flat); scatterv straight from the root.

use super::Ctx;
use crate::channel::Xfer;
use crate::collective::buffer::AlignedBuf;
use crate::collective::shape::{children, parent, subtree, Blocks};
use crate::error::Result;

/// The root sends every block straight from `send` to its rank, all at once; the others
/// receive straight into `recv`. For large blocks this moves each byte once, where the tree
/// forwards whole subtrees through the inner ranks (and a root other than 0 first rotates
/// `send` into a new buffer).
pub fn flat(ctx: &mut Ctx, send: Option<&[u8]>, recv: &mut [u8], root: usize) -> Result<()> {
    let s = recv.len();
    if ctx.rank != root {
        return ctx.recv(root, recv);
    }
    let send = send.expect("root has the send buffer");
    let mut sends: Vec<Xfer> = send
        .chunks(s)
        .enumerate()
        .filter(|&(peer, _)| peer != root)
        .map(|(peer, data)| Xfer::Send { peer, data })
        .collect();
    ctx.exchange(&mut sends)?;
    recv.copy_from_slice(&send[root * s..(root + 1) * s]);
    Ok(())
}

/// Sends block i of the root's `send` (size*len bytes) to rank i's `recv` (len bytes).
pub fn binomial(ctx: &mut Ctx, send: Option<&[u8]>, recv: &mut [u8], root: usize) -> Result<()> {
    let n = ctx.size;
    let s = recv.len();
    let t = ctx.rel(root);
    let sub = subtree(t, n);
    let owned: AlignedBuf;
    let data: &[u8] = if t == 0 {
        let send = send.expect("root has the send buffer");
        if root == 0 {
            send
        } else {
            // Relative order: block i goes to rank (i + root) % n.
            let mut rel = AlignedBuf::new(n * s);
            let split = (n - root) * s;
            rel[..split].copy_from_slice(&send[root * s..]);
            rel[split..].copy_from_slice(&send[..root * s]);
            owned = rel;
            &owned
        }
    } else if sub == 1 {
        let from = ctx.abs(parent(t), root);
        return ctx.recv(from, recv);
    } else {
        let mut sub_buf = AlignedBuf::new(sub * s);
        let from = ctx.abs(parent(t), root);
        ctx.recv(from, &mut sub_buf)?;
        owned = sub_buf;
        &owned
    };
    let mut sends: Vec<Xfer> = children(t, n)
        .map(|(m, c)| Xfer::Send {
            peer: ctx.abs(c, root),
            data: &data[m * s..(m + subtree(c, n)) * s],
        })
        .collect();
    sends.reverse();
    ctx.exchange(&mut sends)?;
    recv.copy_from_slice(&data[..s]);
    Ok(())
}

/// Scatterv: the root sends block i of `send` (`blocks`) straight to rank i, all at once; the
/// others receive straight into `recv`. Empty blocks are empty messages.
pub fn flat_v(
    ctx: &mut Ctx,
    send: Option<(&[u8], Blocks)>,
    recv: &mut [u8],
    root: usize,
) -> Result<()> {
    if ctx.rank != root {
        return ctx.recv(root, recv);
    }
    let (send, blocks) = send.expect("root has the send buffer");
    let mut sends: Vec<Xfer> = (0..ctx.size)
        .filter(|&peer| peer != root)
        .map(|peer| Xfer::Send {
            peer,
            data: &send[blocks.range(peer)],
        })
        .collect();
    ctx.exchange(&mut sends)?;
    recv.copy_from_slice(&send[blocks.range(root)]);
    Ok(())
}
