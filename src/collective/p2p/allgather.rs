//! Allgather: ring, n-1 steps each passing one block to the right.

use super::Ctx;
use crate::collective::buffer::split2;
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
