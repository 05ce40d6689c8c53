//! Allgather: ring, n-1 steps each passing one block to the right (bandwidth-optimal), and
//! Bruck, ceil(log2 n) steps that double the blocks held (latency-optimal); allgatherv: the
//! ring with blocks of any size.

use super::Ctx;
use crate::collective::buffer::split2;
use crate::collective::shape::Blocks;
use crate::error::Result;

/// Every rank's `send` block ends up in every rank's `recv` at offset rank*len.
pub fn ring(ctx: &mut Ctx, send: &[u8], recv: &mut [u8]) -> Result<()> {
    let n = ctx.size;
    let r = ctx.rank;
    let s = send.len();
    recv[r * s..(r + 1) * s].copy_from_slice(send);
    let right = (r + 1) % n;
    let left = (r + n - 1) % n;
    for step in 0..n.saturating_sub(1) {
        let sb = (r + n - step) % n;
        let rb = (r + 2 * n - step - 1) % n;
        let (data, into) = split2(recv, sb * s..(sb + 1) * s, rb * s..(rb + 1) * s);
        ctx.sendrecv(right, data, left, into)?;
    }
    Ok(())
}

/// Bruck's allgather: in step k (1, 2, 4, ...) each rank sends the blocks it holds (up to k) to
/// rank r-k and receives as many from rank r+k. Blocks are kept in rank-relative order in `recv`
/// (position i holds rank r+i's) and rotated into place at the end.
pub fn bruck(ctx: &mut Ctx, send: &[u8], recv: &mut [u8]) -> Result<()> {
    let n = ctx.size;
    let r = ctx.rank;
    let s = send.len();
    recv[..s].copy_from_slice(send);
    let mut k = 1;
    while k < n {
        let cnt = k.min(n - k);
        let to = (r + n - k) % n;
        let from = (r + k) % n;
        let (data, into) = split2(recv, 0..cnt * s, k * s..(k + cnt) * s);
        ctx.sendrecv(to, data, from, into)?;
        k *= 2;
    }
    recv[..n * s].rotate_right(r * s);
    Ok(())
}

/// Allgatherv: every rank's `send` ends up in block `rank` (`blocks`) of every rank's `recv`;
/// in step k each rank passes the block it received in step k-1 to the right.
pub fn ring_v(ctx: &mut Ctx, send: &[u8], recv: &mut [u8], blocks: Blocks) -> Result<()> {
    let n = ctx.size;
    let r = ctx.rank;
    recv[blocks.range(r)].copy_from_slice(send);
    let right = (r + 1) % n;
    let left = (r + n - 1) % n;
    for step in 0..n.saturating_sub(1) {
        let (sb, rb) = (
            blocks.range((r + n - step) % n),
            blocks.range((r + 2 * n - step - 1) % n),
        );
        // An empty block may lie anywhere, even inside another one.
        let (data, into): (&[u8], &mut [u8]) = if sb.is_empty() {
            (&[], &mut recv[rb])
        } else if rb.is_empty() {
            (&recv[sb], &mut [])
        } else {
            split2(recv, sb, rb)
        };
        ctx.sendrecv(right, data, left, into)?;
    }
    Ok(())
}
