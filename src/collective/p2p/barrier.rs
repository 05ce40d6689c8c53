//! Barrier: dissemination algorithm, ceil(log2 n) rounds of empty messages.

use super::Ctx;
use crate::channel::Xfer;
use crate::error::Result;

pub fn dissemination(ctx: &mut Ctx) -> Result<()> {
    let n = ctx.size;
    let mut d = 1;
    while d < n {
        let to = (ctx.rank + d) % n;
        let from = (ctx.rank + n - d) % n;
        ctx.exchange(&mut [
            Xfer::Send {
                peer: to,
                data: &[],
            },
            Xfer::Recv {
                peer: from,
                buf: &mut [],
            },
        ])?;
        d *= 2;
    }
    Ok(())
}
