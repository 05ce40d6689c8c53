//! Inclusive scan: recursive doubling (Hillis-Steele) for commutative+associative operators,
//! a left-to-right chain otherwise.

use super::Ctx;
use crate::channel::Xfer;
use crate::collective::buffer::AlignedBuf;
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;

/// `buf` holds this rank's value and receives v0 (+) ... (+) v(rank). ceil(log2 n) rounds.
pub fn recursive_doubling(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
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

/// Strict left-to-right scan: rank k receives the prefix of ranks < k, folds its value in, passes it on.
pub fn chain(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let r = ctx.rank;
    if r > 0 {
        let mut prefix = AlignedBuf::new(buf.len());
        ctx.recv(r - 1, &mut prefix)?;
        op.apply(&mut prefix, buf, t);
        buf.copy_from_slice(&prefix);
    }
    if r + 1 < ctx.size {
        ctx.send(r + 1, buf)?;
    }
    Ok(())
}
