//! Inclusive scan: recursive doubling (Hillis-Steele) for commutative+associative operators,
//! a left-to-right chain otherwise and for large buffers (pipelined in pieces).

use super::{pieces, Ctx, LARGE};
use crate::channel::Xfer;
use crate::collective::buffer::AlignedBuf;
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;

/// `buf` holds this rank's value and receives v0 (+) ... (+) v(rank). ceil(log2 n) rounds.
/// From [`LARGE`] bytes on, the pipelined [`chain`] instead: it sends each buffer once where
/// recursive doubling sends it up to log2(n) times (on shared cores the total work decides).
pub fn recursive_doubling(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    if buf.len() >= LARGE {
        return chain(ctx, buf, t, op);
    }
    let n = ctx.size;
    let r = ctx.rank;
    let mut tmp = AlignedBuf::new(buf.len());
    let mut d = 1;
    while d < n {
        let mut x = Vec::with_capacity(2);
        if r + d < n {
            x.push(Xfer::Send {
                peer: r + d,
                data: &*buf,
            });
        }
        let has_lower = r >= d;
        if has_lower {
            x.push(Xfer::Recv {
                peer: r - d,
                buf: &mut tmp,
            });
        }
        ctx.exchange(&mut x)?;
        drop(x);
        if has_lower {
            // Lower ranks' partial result is the left operand.
            op.apply(&mut tmp, buf, t);
            buf.copy_from_slice(&tmp);
        }
        d *= 2;
    }
    Ok(())
}

/// Strict left-to-right scan: rank k receives the prefix of ranks < k, folds its value in and
/// passes it on, piece by piece: in round i it receives piece i of the prefix while it sends its
/// piece i-1 on, so all ranks of the chain work at once (n - 1 + pieces rounds of one piece).
pub fn chain(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let (r, n) = (ctx.rank, ctx.size);
    let parts: Vec<_> = pieces(buf.len(), t.size()).collect();
    let Some(first) = parts.first() else {
        // Zero bytes: still one (empty) message along the chain.
        if r > 0 {
            ctx.recv(r - 1, &mut [])?;
        }
        if r + 1 < n {
            ctx.send(r + 1, &[])?;
        }
        return Ok(());
    };
    let mut prefix = AlignedBuf::new(if r > 0 { first.len() } else { 0 });
    for i in 0..=parts.len() {
        {
            let mut x: Vec<Xfer> = Vec::with_capacity(2);
            if let (true, Some(p)) = (r > 0, parts.get(i)) {
                x.push(Xfer::Recv {
                    peer: r - 1,
                    buf: &mut prefix[..p.len()],
                });
            }
            if let (true, Some(p)) = (r + 1 < n, i.checked_sub(1).map(|j| &parts[j])) {
                x.push(Xfer::Send {
                    peer: r + 1,
                    data: &buf[p.clone()],
                });
            }
            ctx.exchange(&mut x)?;
        }
        if let (true, Some(p)) = (r > 0, parts.get(i)) {
            // The prefix of lower ranks is the left operand.
            let pre = &mut prefix[..p.len()];
            op.apply(pre, &buf[p.clone()], t);
            buf[p.clone()].copy_from_slice(pre);
        }
    }
    Ok(())
}
