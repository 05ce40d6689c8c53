//! The non-blocking dup ([`Communicator::idup`]): the agreement on the new communicator's
//! context id runs on the communicator's collectives worker, in the order of its other
//! non-blocking collectives, as rounds of an allreduce ([`context::agree`], which never holds
//! this process's lock across a round, so a blocking dup or split on the caller's thread may
//! run meanwhile). The id stays reserved until [`Communicator::finish_dup`] builds the new
//! communicator's view on the caller's thread (local: no traffic), or the [`PendingDup`] is
//! dropped.

use super::context::{self, Family, Pick};
use super::Communicator;
use crate::channel::store::join::random_id;
use crate::collective::buffer::AlignedBuf;
use crate::collective::Args;
use crate::datatype::Datatype;
use crate::error::{Error, Result};
use crate::op::{BuiltinOp, ReduceOp};
use crate::request::Request;
use crate::tag::OpCode;
use parking_lot::Mutex;
use std::sync::Arc;

/// A dup in progress: complete its [`PendingDup::request`], then get the new communicator
/// from [`Communicator::finish_dup`] on the same communicator.
pub struct PendingDup {
    request: Request,
    /// The agreed id and the nonce of the new communicator's rank 0 (set when the agreement
    /// succeeded; taken by `finish_dup`).
    outcome: Arc<Mutex<Option<(u32, u64)>>>,
    family: Arc<Family>,
    parent: u32,
}

impl PendingDup {
    /// The request that completes when every member agreed on the new communicator's context.
    pub fn request(&mut self) -> &mut Request {
        &mut self.request
    }
}

impl Drop for PendingDup {
    fn drop(&mut self) {
        // The agreement may still run (bounded by the timeout); an id it reserved and no
        // communicator got goes back to the free set.
        if self.request.is_active() {
            let _ = self.request.wait();
        }
        if let Some((id, _)) = self.outcome.lock().take() {
            if let Ok(mut ids) = self.family.ids(std::time::Instant::now() + TIMEOUT_RELEASE) {
                ids.release(id);
            }
        }
    }
}

/// How long a dropped [`PendingDup`] waits for the lock of the free set.
const TIMEOUT_RELEASE: std::time::Duration = std::time::Duration::from_secs(10);

impl Communicator {
    /// Starts a dup ([`Communicator::dup`]) in the background: every member calls it in the
    /// same order relative to its other non-blocking collectives on this communicator.
    pub fn idup(&mut self) -> Result<PendingDup> {
        let op = ReduceOp::builtin(BuiltinOp::BAnd);
        let t = Datatype::UInt64;
        // The free set and rank 0's nonce.
        let call = self.reduction(OpCode::Allreduce, (context::WORDS + 1) * 8, t, &op)?;
        let family = self.family.clone();
        let outcome: Arc<Mutex<Option<(u32, u64)>>> = Arc::default();
        let out = outcome.clone();
        let fam = family.clone();
        let (size, nonce) = (self.size, random_id());
        let key = context::key(self.ctx, true);
        let extra = [if self.rank == 0 { nonce } else { u64::MAX }];
        let request = self.start_rounds(call, move |rounds| {
            let deadline = rounds.deadline;
            let mut n = 0;
            let (id, words) =
                context::agree(&fam, deadline, Pick::Highest, true, key, &extra, |w| {
                    if size == 1 {
                        return Ok(());
                    }
                    let mut buf = AlignedBuf::new(w.len() * 8);
                    for (c, v) in buf.chunks_exact_mut(8).zip(w.iter()) {
                        c.copy_from_slice(&v.to_le_bytes());
                    }
                    rounds.round(n, |x| {
                        x.run(Args::Allreduce {
                            send: None,
                            buf: &mut buf,
                            t,
                            op: &op,
                        })
                    })?;
                    n += 1;
                    for (c, v) in buf.chunks_exact(8).zip(w.iter_mut()) {
                        *v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
                    }
                    Ok(())
                })?;
            *out.lock() = Some((id, words[0]));
            Ok(())
        })?;
        Ok(PendingDup {
            request,
            outcome,
            family,
            parent: self.ctx,
        })
    }

    /// The new communicator of `p` (an [`Communicator::idup`] of this communicator whose
    /// request completed successfully).
    pub fn finish_dup(&self, p: PendingDup) -> Result<Communicator> {
        if !Arc::ptr_eq(&p.family, &self.family) || p.parent != self.ctx {
            return Err(Error::invalid(
                "finish_dup on another communicator than the one that started the dup",
            ));
        }
        let Some((id, nonce)) = p.outcome.lock().take() else {
            return Err(Error::invalid(
                "finish_dup before the dup's request completed successfully",
            ));
        };
        let ranks: Vec<usize> = (0..self.size).collect();
        self.derive(&ranks, id, nonce)
            .inspect_err(|_| self.release_id(id))
    }
}
