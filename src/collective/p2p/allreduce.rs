//! Allreduce: recursive doubling for small messages, ring reduce-scatter + allgather for large ones,
//! and reduce + broadcast in strict rank order for operators that are not commutative and associative.

use super::{bcast, reduce, Ctx};
use crate::collective::buffer::{split2, AlignedBuf};
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;
use std::ops::Range;

/// Recursive doubling (latency-optimal). `buf` holds this rank's value and receives the result.
/// Partial results are always combined as lower ranks (+) higher ranks, so every rank gets the
/// same bits.
pub fn recursive_doubling(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let n = ctx.size;
    let r = ctx.rank;
    let p = 1usize << (usize::BITS - 1 - n.leading_zeros());
    let rem = n - p;
    let mut tmp = AlignedBuf::new(buf.len());
    let newrank = if r < 2 * rem {
        if r % 2 == 0 {
            ctx.send(r + 1, buf)?;
            None
        } else {
            ctx.recv(r - 1, &mut tmp)?;
            combine_lower_first(&mut tmp, buf, t, op);
            Some(r / 2)
        }
    } else {
        Some(r - rem)
    };
    if let Some(nr) = newrank {
        let mut mask = 1;
        while mask < p {
            let np = nr ^ mask;
            let partner = if np < rem { np * 2 + 1 } else { np + rem };
            ctx.sendrecv(partner, buf, partner, &mut tmp)?;
            if partner < r {
                combine_lower_first(&mut tmp, buf, t, op);
            } else {
                op.apply(buf, &tmp, t);
            }
            mask <<= 1;
        }
    }
    if r < 2 * rem {
        if r % 2 == 0 {
            ctx.recv(r + 1, buf)?;
        } else {
            ctx.send(r - 1, buf)?;
        }
    }
    Ok(())
}

/// buf = lower (+) buf, using `lower` as scratch.
fn combine_lower_first(lower: &mut [u8], buf: &mut [u8], t: Datatype, op: &ReduceOp) {
    op.apply(lower, buf, t);
    buf.copy_from_slice(lower);
}

/// Byte range of segment `i` when `elems` elements are split into `n` near-equal segments.
fn segment(i: usize, n: usize, elems: usize, esize: usize) -> Range<usize> {
    let base = elems / n;
    let extra = elems % n;
    let start = i * base + i.min(extra);
    let len = base + usize::from(i < extra);
    start * esize..(start + len) * esize
}

/// Ring allreduce (bandwidth-optimal): reduce-scatter then allgather, 2(n-1) steps of size/n.
/// Each segment is reduced once and then copied, so every rank gets the same bits.
pub fn ring(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let n = ctx.size;
    if n == 1 {
        return Ok(());
    }
    let r = ctx.rank;
    let esize = t.size();
    let elems = buf.len() / esize;
    let right = (r + 1) % n;
    let left = (r + n - 1) % n;
    let mut tmp = AlignedBuf::new(segment(0, n, elems, esize).len());
    for step in 0..n - 1 {
        let sseg = segment((r + n - step) % n, n, elems, esize);
        let rseg = segment((r + 2 * n - step - 1) % n, n, elems, esize);
        let rlen = rseg.len();
        ctx.sendrecv(right, &buf[sseg], left, &mut tmp[..rlen])?;
        op.apply(&mut buf[rseg], &tmp[..rlen], t);
    }
    for step in 0..n - 1 {
        let sseg = segment((r + 1 + n - step) % n, n, elems, esize);
        let rseg = segment((r + n - step) % n, n, elems, esize);
        let (data, into) = split2(buf, sseg, rseg);
        ctx.sendrecv(right, data, left, into)?;
    }
    Ok(())
}

/// Strict left-to-right allreduce: ordered reduce to rank 0, then broadcast.
pub fn ordered(ctx: &mut Ctx, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
    let own = AlignedBuf::from_slice(buf);
    let is_root = ctx.rank == 0;
    reduce::ordered(
        ctx,
        &own,
        if is_root { Some(&mut *buf) } else { None },
        t,
        op,
        0,
    )?;
    bcast::binomial(ctx, buf, 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_cover_everything() {
        for n in 1..10 {
            for elems in 0..30 {
                let mut next = 0;
                for i in 0..n {
                    let s = super::segment(i, n, elems, 4);
                    assert_eq!(s.start, next);
                    next = s.end;
                }
                assert_eq!(next, elems * 4);
            }
        }
    }
}
