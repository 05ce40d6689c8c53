//! Running one operation: argument checks, the channel the policy picks, the algorithm the
//! plan picks there, the call's tag and deadline, the family's dispatch, counters and trace.

use super::channels::Held;
use super::Communicator;
use crate::channel::store::StoreTransport;
use crate::channel::ChannelKind;
use crate::collective::shape::Blocks;
use crate::collective::{p2p, run, store, Args};
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
use crate::model::trace;
use crate::op::ReduceOp;
use crate::plan::{plan, Algorithm, Call, Tuning};
use crate::tag::{make_tag, OpCode};
use std::time::Instant;

/// What ran for one operation: the algorithm (None when the plan refused the call) and the
/// messages this peer sent.
#[derive(Debug, Default)]
pub(super) struct Ran {
    pub algorithm: Option<Algorithm>,
    pub messages: u64,
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

    /// `peer` is a rank of this communicator other than this one (`what`: "destination",
    /// "source"; `action`: "send to self", ...).
    pub(super) fn check_other(&self, peer: usize, what: &str, action: &str) -> Result<()> {
        self.check_peer(peer, what)?;
        if peer == self.rank {
            return Err(Error::invalid(format!(
                "{action} is not supported (it would block)"
            )));
        }
        Ok(())
    }

    /// The root's buffer of a rooted collective: required at the root, where it must hold
    /// `want` bytes (`what`: "receive buffer", "send buffer"); ignored (None) elsewhere.
    pub(super) fn root_buf<B: AsRef<[u8]>>(
        &self,
        root: usize,
        buf: Option<B>,
        what: &str,
        want: usize,
    ) -> Result<Option<B>> {
        if self.rank != root {
            return Ok(None);
        }
        let b =
            buf.ok_or_else(|| Error::new(ErrorKind::NullArg, format!("root needs a {what}")))?;
        Self::check_len(what, b.as_ref().len(), want)?;
        Ok(Some(b))
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

    /// `blocks` lays out one block per peer inside a buffer of `len` bytes (`what`: "receive
    /// buffer", ...): as many counts and displacements as peers, every block within the buffer,
    /// and, for a buffer written to (`disjoint`), no two non-empty blocks overlapping.
    pub(super) fn check_blocks(
        &self,
        blocks: &Blocks,
        len: usize,
        what: &str,
        disjoint: bool,
    ) -> Result<()> {
        let (counts, displs) = (blocks.counts, blocks.displs);
        if counts.len() != self.size || displs.len() != self.size {
            return Err(Error::invalid(format!(
                "{what}: {} counts and {} displacements for {} peers",
                counts.len(),
                displs.len(),
                self.size
            )));
        }
        for (i, (&c, &d)) in counts.iter().zip(displs).enumerate() {
            if d.checked_add(c).is_none_or(|end| end > len) {
                return Err(Error::invalid(format!(
                    "{what}: block {i} ({c} bytes at offset {d}) lies beyond the buffer of {len} bytes"
                )));
            }
        }
        if disjoint {
            let mut order: Vec<usize> = (0..self.size).filter(|&i| counts[i] > 0).collect();
            order.sort_by_key(|&i| displs[i]);
            for w in order.windows(2) {
                let (a, b) = (w[0], w[1]);
                if displs[a] + counts[a] > displs[b] {
                    return Err(Error::invalid(format!(
                        "{what}: blocks {a} and {b} overlap ({} bytes at offset {} and {} at {})",
                        counts[a], displs[a], counts[b], displs[b]
                    )));
                }
            }
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

    /// Runs one operation on the channel the policy picks, with the algorithm the plan picks,
    /// its tag and deadline, adding context to any error; counts it, and traces it when
    /// `FMI_TRACE` is set.
    pub(super) fn run(&mut self, call: Call, args: Args) -> Result<()> {
        let (kind, estimate) = self.channels.pick(&call, self.hint);
        let start = Instant::now();
        let (r, ran) = self.run_on(kind, &call, args);
        let elapsed = start.elapsed();
        self.counters.record(kind, call.bytes, elapsed, r.is_ok());
        if let Some(alg) = ran.algorithm {
            self.algorithms.record(alg, ran.messages, r.is_ok());
        }
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
                algorithm: ran.algorithm.map_or("none", Algorithm::name),
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

    /// The description of a reduction `code` of a buffer of `len` bytes, after checking that
    /// `op` applies to `t` and that the buffer is a whole number of elements.
    pub(super) fn reduction(
        &self,
        code: OpCode,
        len: usize,
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<Call<'static>> {
        op.check(t)?;
        Self::check_elems(len, t)?;
        Ok(self.call(code, len).reduction(t.size(), op.ordered()))
    }

    /// The description of an operation of this communicator.
    pub(super) fn call(&self, op: OpCode, bytes: usize) -> Call<'static> {
        Call::new(op, bytes, self.size)
    }

    /// The settings of the plan (from the configuration).
    pub(super) fn tuning(&self) -> Tuning {
        Tuning {
            ring_threshold: self.config.comm.ring_threshold,
        }
    }

    /// Runs `call` on channel `kind`: the algorithm the plan picks for the channel's family, on
    /// `args`. Returns the result and what ran.
    pub(super) fn run_on(
        &mut self,
        kind: ChannelKind,
        call: &Call,
        args: Args,
    ) -> (Result<()>, Ran) {
        let op = call.op;
        if op != OpCode::SendRecv {
            self.seq = self.seq.wrapping_add(1);
        }
        let start = Instant::now();
        let deadline = start + self.timeout;
        let tag = make_tag(op, self.seq as u32);
        let (rank, size, seq) = (self.rank, self.size, self.seq);
        let mut ran = Ran::default();
        let planned = plan(call, kind.family(), &self.tuning());
        let held = self
            .channels
            .get(kind)
            .expect("the picked channel is connected");
        let other = |alg: Algorithm| {
            Error::new(
                ErrorKind::Internal,
                format!(
                    "the plan chose {alg} of another family than channel {}",
                    kind.name()
                ),
            )
        };
        let r = match held {
            Held::P2p(t) => {
                let mut ctx = p2p::Ctx::new(t, tag, deadline);
                let r = planned.and_then(|a| match a {
                    Algorithm::P2p(alg) => {
                        ran.algorithm = Some(a);
                        run::p2p(alg, &mut ctx, args)
                    }
                    alg => Err(other(alg)),
                });
                ran.messages = ctx.sent();
                r
            }
            Held::Store(sc) => {
                let opname = if op == OpCode::SendRecv {
                    "p2p"
                } else {
                    op.name()
                };
                let mut ctx =
                    store::Ctx::new(&mut sc.t, &sc.ns, seq, opname, tag, deadline, rank, size);
                let r = planned.and_then(|a| match a {
                    Algorithm::Store(alg) => {
                        ran.algorithm = Some(a);
                        run::store(alg, &mut ctx, args)
                    }
                    alg => Err(other(alg)),
                });
                ran.messages = ctx.sent();
                sc.dirty |= r.is_err();
                if op != OpCode::SendRecv {
                    sc.t.call_done(&sc.ns.call(seq, opname).prefix());
                }
                r
            }
        };
        let r = r.map_err(|e| {
            e.context(format!(
                "{} of {} bytes on channel {} at rank {} of {} after {:.3} s",
                op.name(),
                call.bytes,
                kind.name(),
                self.rank,
                self.size,
                start.elapsed().as_secs_f64()
            ))
        });
        (r, ran)
    }

    /// The closing barrier of channel `kind` (a store channel also deletes the run's keys).
    pub(super) fn close_channel(&mut self, kind: ChannelKind) -> Result<()> {
        let dirty = match self.channels.get(kind) {
            Some(Held::Store(s)) => s.dirty,
            _ => false,
        };
        let call = self.call(OpCode::Finalize, 0);
        let r = self.run_on(kind, &call, Args::Finalize { dirty }).0;
        // After the closing barrier nobody sends: delete tagged messages never received.
        match (r, self.channels.get(kind)) {
            (Ok(()), Some(Held::Store(s))) => {
                let deadline = Instant::now() + self.timeout;
                s.mail.stop();
                let t = &mut s.t;
                s.mail
                    .with_inbox(false, |inbox, ns| inbox.close(t, ns, deadline))
                    .expect("a close is never held back")
                    .map_err(|e| e.context(format!("finalize on channel {}", kind.name())))
            }
            (r, _) => r,
        }
    }
}
