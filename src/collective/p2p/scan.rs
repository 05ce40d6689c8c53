//! Inclusive scan: recursive doubling (Hillis-Steele) or a chain pipelined in pieces for
//! commutative+associative operators, a left-to-right chain of whole buffers otherwise.
//! Exclusive scan: the left-to-right chain.

use super::Ctx;
use crate::channel::Xfer;
use crate::collective::buffer::AlignedBuf;
use crate::collective::shape::pieces;
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;

/// `buf` holds this rank's value and receives v0 (+) ... (+) v(rank). ceil(log2 n) rounds.
/// (For large buffers the plan runs [`chain_pipelined`]: it sends each buffer once where
/// recursive doubling sends it up to log2(n) times; on shared cores the total work decides.)
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

/// Strict left-to-right scan: rank k receives the prefix of ranks < k, folds its value in, passes
/// it on. Whole buffers: an ordered operator may combine whole vectors (`Function<std::vector>`
/// in fmi.hpp), so it must see the full buffer in one call.
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

/// [`chain`] piece by piece, for element-wise (commutative and associative) operators and
/// buffers of at least one piece: in round i a rank receives piece i of the prefix while it
/// sends its piece i-1 on, so all ranks of the chain work at once (n - 1 + pieces rounds of one
/// piece), with one piece of scratch.
pub fn chain_pipelined(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let (r, n) = (ctx.rank, ctx.size);
    let parts: Vec<_> = pieces(buf.len(), t.size()).collect();
    let mut prefix = AlignedBuf::new(if r > 0 { parts[0].len() } else { 0 });
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

/// Exclusive scan, strictly left to right: rank k receives the prefix of ranks < k into `recv`,
/// folds its `send` in and passes that on. Rank 0's `recv` is left as it is.
pub fn exclusive_chain(
    ctx: &mut Ctx,
    send: &[u8],
    recv: &mut [u8],
    t: Datatype,
    op: &ReduceOp,
) -> Result<()> {
    let (r, n) = (ctx.rank, ctx.size);
    if r > 0 {
        ctx.recv(r - 1, recv)?;
    }
    if r + 1 == n {
        return Ok(());
    }
    if r == 0 {
        return ctx.send(1, send);
    }
    let mut next = AlignedBuf::from_slice(recv);
    op.apply(&mut next, send, t);
    ctx.send(r + 1, &next)
}
