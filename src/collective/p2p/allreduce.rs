//! Allreduce: recursive doubling (latency-optimal), ring or halving-doubling reduce-scatter +
//! allgather (bandwidth-optimal), and reduce + broadcast in strict rank order for operators that
//! are not commutative and associative.

use super::{bcast, reduce, Ctx};
use crate::channel::Xfer;
use crate::collective::buffer::{split2, AlignedBuf};
use crate::collective::shape::segment;
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
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

/// Piece size of the pipelined reduce steps: a received piece (and, out of place, the block of
/// the contribution it is reduced with) is still in cache when it is reduced, while the next
/// piece is already on its way (socket buffers hold it). Smaller pieces mean more
/// synchronisation between neighbours, which costs when peers share cores (measured: 256 KiB
/// was no better than 1 MiB at 8 peers on 2 vCPUs).
const PIECE: usize = 1 << 20;

fn piece_bytes(esize: usize) -> usize {
    (PIECE / esize).max(1) * esize
}

/// Where a rank's contribution is: already in `buf` (in place), or in a separate send buffer
/// whose blocks are read where they are reduced (saving the full copy of an out-of-place call;
/// each block is read once, while it is in cache).
#[derive(Clone, Copy)]
pub enum Src<'a> {
    InPlace,
    From(&'a [u8]),
}

/// Which blocks of one reduce step still hold only the fresh contribution (in `src` when the
/// call is out of place): the block sent, and the block reduced into.
#[derive(Clone, Copy)]
struct Fresh {
    send: bool,
    keep: bool,
}

/// Sends block `send` (from `src` when it is fresh, else from `buf`) to `to` and receives the
/// block `keep` from `from`, reducing it into `buf[keep]` (when fresh, `buf[keep]` becomes
/// `src[keep] (+) received` in one pass, with no copy of `src` first), in pieces of at most
/// `piece` bytes (one message each way per piece).
#[allow(clippy::too_many_arguments)]
fn exchange_reduce(
    ctx: &mut Ctx,
    to: usize,
    send: &Range<usize>,
    from: usize,
    keep: &Range<usize>,
    fresh: Fresh,
    src: Src,
    buf: &mut [u8],
    tmp: &mut [u8],
    piece: usize,
    t: Datatype,
    op: &ReduceOp,
) -> Result<()> {
    let count = |r: &Range<usize>| r.len().div_ceil(piece).max(1);
    let (ns, nk) = (count(send), count(keep));
    for i in 0..ns.max(nk) {
        let part = |r: &Range<usize>| {
            let a = (r.start + i * piece).min(r.end);
            a..(a + piece).min(r.end)
        };
        let (sp, kp) = (part(send), part(keep));
        let klen = kp.len();
        {
            let data: &[u8] = match src {
                Src::From(s) if fresh.send => &s[sp],
                _ => &buf[sp],
            };
            let mut x: Vec<Xfer> = Vec::with_capacity(2);
            if i < ns {
                x.push(Xfer::Send { peer: to, data });
            }
            if i < nk {
                x.push(Xfer::Recv {
                    peer: from,
                    buf: &mut tmp[..klen],
                });
            }
            ctx.exchange(&mut x)?;
        }
        if i < nk {
            match (src, fresh.keep) {
                // Out of place, block not written yet: buf = contribution (+) received, in one pass.
                (Src::From(s), true) => {
                    op.apply_into(&mut buf[kp.clone()], &s[kp], &tmp[..klen], t)
                }
                _ => op.apply(&mut buf[kp], &tmp[..klen], t),
            }
        }
    }
    Ok(())
}

/// Ring allreduce (bandwidth-optimal): reduce-scatter then allgather, 2(n-1) steps of size/n,
/// each reduce step pipelined in pieces. `buf` receives the result (and holds the contribution
/// when `src` is in place). Each segment is reduced once and then copied, so every rank gets the
/// same bits.
pub fn ring_from(
    ctx: &mut Ctx,
    src: Src,
    buf: &mut [u8],
    t: Datatype,
    op: &ReduceOp,
) -> Result<()> {
    let n = ctx.size;
    if n == 1 {
        if let Src::From(s) = src {
            buf.copy_from_slice(s);
        }
        return Ok(());
    }
    let r = ctx.rank;
    let esize = t.size();
    let elems = buf.len() / esize;
    let right = (r + 1) % n;
    let left = (r + n - 1) % n;
    let piece = piece_bytes(esize);
    let mut tmp = AlignedBuf::new(segment(0, n, elems, esize).len().min(piece));
    // Step 0 sends this rank's own block (fresh contribution); every later step forwards the
    // block reduced in the step before. Every block but this rank's own is reduced here once,
    // each into a part of `buf` not written before.
    for step in 0..n - 1 {
        let sseg = segment((r + n - step) % n, n, elems, esize);
        let rseg = segment((r + 2 * n - step - 1) % n, n, elems, esize);
        let fresh = Fresh {
            send: step == 0,
            keep: true,
        };
        exchange_reduce(
            ctx, right, &sseg, left, &rseg, fresh, src, buf, &mut tmp, piece, t, op,
        )?;
    }
    // Allgather: this rank owns block r+1; it receives every other one, its own block r included.
    for step in 0..n - 1 {
        let sseg = segment((r + 1 + n - step) % n, n, elems, esize);
        let rseg = segment((r + n - step) % n, n, elems, esize);
        let (data, into) = split2(buf, sseg, rseg);
        ctx.sendrecv(right, data, left, into)?;
    }
    Ok(())
}

/// Element range `[lo, hi)` split in two: the lower half and the upper half.
fn halves(lo: usize, hi: usize) -> (Range<usize>, Range<usize>) {
    let mid = lo + (hi - lo) / 2;
    (lo..mid, mid..hi)
}

/// Rabenseifner's allreduce for a power-of-two number of peers: reduce-scatter by recursive
/// halving, then allgather by recursive doubling. Each rank sends and receives about
/// 2 (n-1)/n of the buffer, as in the ring, but in 2 log2(n) steps instead of 2(n-1), so it
/// waits for a partner less often (which matters when peers share cores), at the price of larger
/// messages in the first steps. Each element is reduced once, by the rank that owns its block,
/// so every rank gets the same bits. Needs a power of two of at least 2 peers and an element per
/// peer (the plan runs [`ring_from`] otherwise).
pub fn halving_doubling_from(
    ctx: &mut Ctx,
    src: Src,
    buf: &mut [u8],
    t: Datatype,
    op: &ReduceOp,
) -> Result<()> {
    let n = ctx.size;
    let esize = t.size();
    let elems = buf.len() / esize;
    if n == 1 || !n.is_power_of_two() || elems < n {
        return Err(Error::new(
            ErrorKind::Internal,
            format!("halving-doubling of {elems} elements on {n} peers (the plan runs the ring)"),
        ));
    }
    let r = ctx.rank;
    let bytes = |e: &Range<usize>| e.start * esize..e.end * esize;
    let piece = piece_bytes(esize);
    let mut tmp = AlignedBuf::new((elems.div_ceil(2) * esize).min(piece));
    // ranges[k]: this rank's element range before the k-th halving step.
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let (mut lo, mut hi) = (0, elems);
    let mut mask = n / 2;
    while mask > 0 {
        let partner = r ^ mask;
        ranges.push(lo..hi);
        let (lower, upper) = halves(lo, hi);
        let (keep, give) = if r & mask == 0 {
            (lower, upper)
        } else {
            (upper, lower)
        };
        // The first step works on the fresh contribution; later ones on blocks reduced before.
        let first = mask == n / 2;
        let fresh = Fresh {
            send: first,
            keep: first,
        };
        exchange_reduce(
            ctx,
            partner,
            &bytes(&give),
            partner,
            &bytes(&keep),
            fresh,
            src,
            buf,
            &mut tmp,
            piece,
            t,
            op,
        )?;
        (lo, hi) = (keep.start, keep.end);
        mask /= 2;
    }
    let mut mask = 1;
    while mask < n {
        let partner = r ^ mask;
        let before = ranges.pop().expect("one range per halving step");
        let mine = lo..hi;
        let theirs = if mine.start == before.start {
            mine.end..before.end
        } else {
            before.start..mine.start
        };
        let (data, into) = split2(buf, bytes(&mine), bytes(&theirs));
        ctx.sendrecv(partner, data, partner, into)?;
        (lo, hi) = (before.start, before.end);
        mask *= 2;
    }
    Ok(())
}

/// Strict left-to-right allreduce: ordered reduce to rank 0 (its gather flat when
/// `flat_gather`), then broadcast.
pub fn ordered(
    ctx: &mut Ctx,
    buf: &mut [u8],
    t: Datatype,
    op: &ReduceOp,
    flat_gather: bool,
) -> Result<()> {
    let own = AlignedBuf::from_slice(buf);
    let is_root = ctx.rank == 0;
    reduce::ordered(
        ctx,
        &own,
        if is_root { Some(&mut *buf) } else { None },
        t,
        op,
        0,
        flat_gather,
    )?;
    bcast::binomial(ctx, buf, 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn halves_cover() {
        assert_eq!(super::halves(0, 5), (0..2, 2..5));
        assert_eq!(super::halves(4, 6), (4..5, 5..6));
    }
}
