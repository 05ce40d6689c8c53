//! Barrier: an atomic counter; the last peer to arrive deletes it and wakes the others, who
//! block on a wake-up queue (no polling). Nothing is left behind.

use super::Ctx;
use crate::error::{Error, Result};

pub fn counter(ctx: &mut Ctx) -> Result<()> {
    let n = ctx.size;
    if n == 1 {
        return Ok(());
    }
    let count = ctx.key("count", &[]);
    let wake = ctx.key("wake", &[]);
    let arrived = ctx.incr(&count, 1)? as usize;
    if arrived == n {
        ctx.discard(vec![count]);
        ctx.put(&wake, &[], n - 1)
    } else if arrived < n {
        ctx.get(&wake, None, &mut [])
    } else {
        Err(Error::channel(format!(
            "{arrived} peers arrived at a barrier of {n} (another job uses this communicator name?)"
        )))
    }
}
