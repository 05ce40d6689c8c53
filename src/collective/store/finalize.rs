//! Closing a run: a counting barrier that also tells whether any peer saw an operation fail.
//! The last peer to arrive knows that every peer has finished every operation, so it can
//! delete what is left: after failures, every key of the run (listing them, only then);
//! otherwise nothing is left but the counter. Then it wakes the others, each with a message of
//! its own (a message for one reader is gone once read; one message for all would have to
//! outlive the writer's close on stores where the writer deletes what several read), and each
//! peer deletes its incoming send/recv queues (messages sent but never received).

use super::Ctx;
use crate::channel::store::Put;
use crate::error::{Error, Result};

const DIRTY: u64 = 1 << 32;

/// `dirty`: an operation of this peer failed, so the store may hold leftovers.
pub fn close(ctx: &mut Ctx, dirty: bool) -> Result<()> {
    let (n, r) = (ctx.size, ctx.rank);
    let count = ctx.key("count", &[]);
    let v = ctx.incr(&count, 1 + if dirty { DIRTY } else { 0 })?;
    let arrived = (v & (DIRTY - 1)) as usize;
    if arrived == n {
        if v >= DIRTY {
            let prefix = ctx.ns().prefix().to_string();
            let n = ctx.delete_prefix(&prefix)?;
            tracing::debug!("finalize: deleted {n} leftover keys of failed operations");
        } else {
            ctx.discard(vec![count]);
        }
        let wakes: Vec<String> = (0..n)
            .filter(|&p| p != r)
            .map(|p| ctx.key("wake", &[p]))
            .collect();
        let puts: Vec<Put> = wakes
            .iter()
            .map(|key| Put {
                key,
                data: &[],
                readers: 1,
            })
            .collect();
        ctx.push(&puts)?;
    } else if arrived < n {
        let wake = ctx.key("wake", &[r]);
        ctx.get(&wake, None, &mut [])?;
    } else {
        return Err(Error::channel(format!(
            "{arrived} peers arrived at the closing barrier of {n} (another job uses this communicator name?)"
        )));
    }
    let incoming: Vec<String> = (0..n)
        .filter(|&p| p != r)
        .map(|p| ctx.ns().p2p(p, r))
        .collect();
    ctx.delete(&incoming)
}
