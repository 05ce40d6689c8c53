//! Running one operation: argument checks, the channel the policy picks, the call's tag and
//! deadline, the algorithm's context for the channel's family, counters and trace.

use super::channels::Held;
use super::Communicator;
use crate::channel::ChannelKind;
use crate::collective::{p2p, store};
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
use crate::model::trace;
use crate::model::Call;
use crate::tag::{make_tag, OpCode};
use std::time::Instant;

/// The context an algorithm runs in: one per channel family.
pub(super) enum Family<'c, 'a> {
    P2p(&'c mut p2p::Ctx<'a>),
    Store(&'c mut store::Ctx<'a>),
}

impl Communicator {
    pub(super) fn check_peer(&self, peer: usize, what: &str) -> Result<()> {
        if peer >= self.size {
            return Err(Error::invalid(format!(
                "{what} {peer} out of range for {} peers",
                self.size
            )));
        }
        Ok(())
    }

    pub(super) fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
        if got != want {
            return Err(Error::new(
                ErrorKind::SizeMismatch,
                format!("{what} has {got} bytes, expected {want}"),
            ));
        }
        Ok(())
    }

    pub(super) fn check_elems(len: usize, t: Datatype) -> Result<()> {
        if len % t.size() != 0 {
            return Err(Error::invalid(format!(
                "buffer of {len} bytes is not a whole number of {} elements",
                t.name()
            )));
        }
        Ok(())
    }

    /// Runs one operation on the channel the policy picks, with its tag and deadline, adding
    /// context to any error; counts it, and traces it when `FMI_TRACE` is set.
    pub(super) fn run<T>(&mut self, call: Call, f: impl FnOnce(Family) -> Result<T>) -> Result<T> {
        let (kind, estimate) = self.channels.pick(&call, self.hint);
        let start = Instant::now();
        let r = self.run_on(kind, call.op, call.bytes, f);
        let elapsed = start.elapsed();
        self.counters.record(kind, call.bytes, elapsed, r.is_ok());
        if let Some(t) = self.trace.as_mut() {
            let e = estimate.unwrap_or_else(|| self.channels.model.estimate(kind, &call));
            t.write(&trace::Line {
                time: trace::now(),
                comm: &self.name,
                rank: self.rank,
                peers: self.size,
                seq: self.seq,
                op: call.op.name(),
                bytes: call.bytes,
                channel: kind.name(),
                algorithm: call.algorithm.unwrap_or(e.algorithm),
                hint: self.hint.name(),
                pinned: self.channels.pinned.is_some(),
                predicted_s: e.seconds,
                measured_s: elapsed.as_secs_f64(),
                predicted_cost_usd: e.cost.total(),
                ok: r.is_ok(),
            });
        }
        r
    }

    /// The model's description of an operation of this communicator.
    pub(super) fn call(&self, op: OpCode, bytes: usize) -> Call<'static> {
        Call::new(op, bytes, self.size)
    }

    pub(super) fn run_on<T>(
        &mut self,
        kind: ChannelKind,
        op: OpCode,
        bytes: usize,
        f: impl FnOnce(Family) -> Result<T>,
    ) -> Result<T> {
        if op != OpCode::SendRecv {
            self.seq = self.seq.wrapping_add(1);
        }
        let start = Instant::now();
        let deadline = start + self.timeout;
        let tag = make_tag(op, self.seq as u32);
        let (rank, size, seq) = (self.rank, self.size, self.seq);
        let r = match self
            .channels
            .get(kind)
            .expect("the picked channel is connected")
        {
            Held::P2p(t) => f(Family::P2p(&mut p2p::Ctx::new(t.as_mut(), tag, deadline))),
            Held::Store(sc) => {
                let opname = if op == OpCode::SendRecv {
                    "p2p"
                } else {
                    op.name()
                };
                let r = f(Family::Store(&mut store::Ctx::new(
                    sc.t.as_mut(),
                    &sc.ns,
                    seq,
                    opname,
                    tag,
                    deadline,
                    rank,
                    size,
                )));
                sc.dirty |= r.is_err();
                if op != OpCode::SendRecv {
                    sc.t.call_done(&sc.ns.call(seq, opname).prefix());
                }
                r
            }
        };
        r.map_err(|e| {
            e.context(format!(
                "{} of {bytes} bytes on channel {} at rank {} of {} after {:.3} s",
                op.name(),
                kind.name(),
                self.rank,
                self.size,
                start.elapsed().as_secs_f64()
            ))
        })
    }

    /// The closing barrier of channel `kind` (a store channel also deletes the run's keys).
    pub(super) fn close_channel(&mut self, kind: ChannelKind) -> Result<()> {
        let dirty = match self.channels.get(kind) {
            Some(Held::Store(s)) => Some(s.dirty),
            _ => None,
        };
        self.run_on(kind, OpCode::Finalize, 0, |c| match c {
            Family::P2p(c) => p2p::barrier::dissemination(c),
            Family::Store(c) => store::finalize::close(c, dirty.unwrap_or(false)),
        })
    }
}
