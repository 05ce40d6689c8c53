//! Reduce: binomial tree for commutative+associative operators, gather + strict left fold otherwise.

use super::{children, gather, parent, Ctx};
use crate::channel::Xfer;
use crate::collective::buffer::AlignedBuf;
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;

/// Binomial-tree reduce (operator must be commutative and associative). `recv` only at the root.
pub fn binomial(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<&mut [u8]>,
    t_: Datatype,
    op: &ReduceOp,
    root: usize,
) -> Result<()> {
    let n = ctx.size;
    let t = ctx.rel(root);
    let mut owned;
    let acc: &mut [u8] = match recv {
        Some(r) if t == 0 => r,
        _ => {
            owned = AlignedBuf::new(send.len());
            &mut owned
        }
    };
    acc.copy_from_slice(send);
    let kids: Vec<usize> = children(t, n).map(|(_, c)| ctx.abs(c, root)).collect();
    let mut bufs: Vec<AlignedBuf> = kids.iter().map(|_| AlignedBuf::new(send.len())).collect();
    {
        let mut recvs: Vec<Xfer> = kids
            .iter()
            .zip(bufs.iter_mut())
            .map(|(&peer, b)| Xfer::Recv { peer, buf: b })
            .collect();
        ctx.exchange(&mut recvs)?;
    }
    for b in &bufs {
        op.apply(acc, b, t_);
    }
    if t != 0 {
        let to = ctx.abs(parent(t), root);
        ctx.send(to, acc)?;
    }
    Ok(())
}

/// Reduce with the strict left-to-right fold v0 (+) v1 (+) ... in rank order: gather, then fold at the root.
pub fn ordered(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<&mut [u8]>,
    t_: Datatype,
    op: &ReduceOp,
    root: usize,
) -> Result<()> {
    let s = send.len();
    let all = gather::to_root_buffer(ctx, send, root)?;
    if let (Some(all), Some(out)) = (all, recv) {
        fold_blocks(&all, s, out, t_, op);
    }
    Ok(())
}

/// out = b0 (+) b1 (+) ... (+) b(k-1), left to right, over the consecutive blocks of `all`.
pub fn fold_blocks(all: &[u8], s: usize, out: &mut [u8], t: Datatype, op: &ReduceOp) {
    out.copy_from_slice(&all[..s]);
    if s == 0 {
        return;
    }
    for block in all.chunks_exact(s).skip(1) {
        op.apply(out, block, t);
    }
}
