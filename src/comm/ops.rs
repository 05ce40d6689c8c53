//! The operations of a communicator: point-to-point messages and the collectives. Each checks
//! its arguments, describes its call for the model and runs on the channel the policy picks.

use super::dispatch::Family;
use super::Communicator;
use crate::collective::buffer::AlignedBuf;
use crate::collective::{p2p, store};
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
use crate::model::Call;
use crate::op::ReduceOp;
use crate::tag::OpCode;

impl Communicator {
    /// Sends `data` to `dest`. The receiver must receive exactly `data.len()` bytes.
    pub fn send(&mut self, data: &[u8], dest: usize) -> Result<()> {
        self.check_peer(dest, "destination")?;
        if dest == self.rank {
            return Err(Error::invalid(
                "send to self is not supported (it would block)",
            ));
        }
        self.run(self.call(OpCode::SendRecv, data.len()), |c| match c {
            Family::P2p(c) => c.send(dest, data),
            Family::Store(c) => c.send(dest, data),
        })
    }

    /// Receives one message from `src` into `buf`; a message of another size is an error.
    pub fn recv(&mut self, buf: &mut [u8], src: usize) -> Result<()> {
        self.check_peer(src, "source")?;
        if src == self.rank {
            return Err(Error::invalid(
                "receive from self is not supported (it would block)",
            ));
        }
        let n = buf.len();
        self.run(self.call(OpCode::SendRecv, n), |c| match c {
            Family::P2p(c) => c.recv(src, buf),
            Family::Store(c) => c.recv(src, buf),
        })
    }

    /// Broadcasts the root's `buf` into every rank's `buf`.
    pub fn bcast(&mut self, buf: &mut [u8], root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let n = buf.len();
        self.run(self.call(OpCode::Bcast, n), |c| match c {
            Family::P2p(c) => p2p::bcast::binomial(c, buf, root),
            Family::Store(c) => store::bcast::write_once(c, buf, root),
        })
    }

    /// Returns when every rank has entered the barrier.
    pub fn barrier(&mut self) -> Result<()> {
        self.run(self.call(OpCode::Barrier, 0), |c| match c {
            Family::P2p(c) => p2p::barrier::dissemination(c),
            Family::Store(c) => store::barrier::counter(c),
        })
    }

    /// Gathers every rank's `send` into the root's `recv` (size * send.len() bytes; None elsewhere).
    pub fn gather(&mut self, send: &[u8], recv: Option<&mut [u8]>, root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let recv = if self.rank == root {
            let r =
                recv.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a receive buffer"))?;
            Self::check_len("receive buffer", r.len(), send.len() * self.size)?;
            Some(r)
        } else {
            None
        };
        self.run(self.call(OpCode::Gather, send.len()), |c| match c {
            Family::P2p(c) => p2p::gather::binomial_rotating(c, send, recv, root),
            Family::Store(c) => store::gather::flat(c, send, recv, root),
        })
    }

    /// Scatters the root's `send` (size * recv.len() bytes; None elsewhere): block i to rank i.
    pub fn scatter(&mut self, send: Option<&[u8]>, recv: &mut [u8], root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let send = if self.rank == root {
            let s =
                send.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a send buffer"))?;
            Self::check_len("send buffer", s.len(), recv.len() * self.size)?;
            Some(s)
        } else {
            None
        };
        let n = recv.len();
        self.run(self.call(OpCode::Scatter, n), |c| match c {
            Family::P2p(c) => p2p::scatter::binomial(c, send, recv, root),
            Family::Store(c) => store::scatter::flat(c, send, recv, root),
        })
    }

    /// Reduces every rank's `send` into the root's `recv` (None elsewhere).
    pub fn reduce(
        &mut self,
        send: &[u8],
        recv: Option<&mut [u8]>,
        t: Datatype,
        op: &ReduceOp,
        root: usize,
    ) -> Result<()> {
        self.check_peer(root, "root")?;
        op.check(t)?;
        Self::check_elems(send.len(), t)?;
        let recv = if self.rank == root {
            let r =
                recv.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a receive buffer"))?;
            Self::check_len("receive buffer", r.len(), send.len())?;
            Some(r)
        } else {
            None
        };
        let flat = op.ordered() || send.len() * (self.size - 1) <= store::FLAT_MAX;
        let call = self
            .call(OpCode::Reduce, send.len())
            .reduction(t.size(), op.ordered());
        self.run(call, |c| match c {
            Family::P2p(c) if op.ordered() => p2p::reduce::ordered(c, send, recv, t, op, root),
            Family::P2p(c) => p2p::reduce::binomial(c, send, recv, t, op, root),
            Family::Store(c) if flat => store::reduce::flat_fold(c, send, recv, t, op, root),
            Family::Store(c) => store::reduce::tree(c, send, recv, t, op, root),
        })
    }

    /// [`Communicator::reduce`] where `buf` is the contribution and, at the root, the result.
    pub fn reduce_in_place(
        &mut self,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
        root: usize,
    ) -> Result<()> {
        let own = AlignedBuf::from_slice(buf);
        let recv = if self.rank == root { Some(buf) } else { None };
        self.reduce(&own, recv, t, op, root)
    }

    /// Reduces every rank's `send` into every rank's `recv`.
    pub fn allreduce(
        &mut self,
        send: &[u8],
        recv: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        self.allreduce_from(Some(send), recv, t, op)
    }

    /// Allreduce where `buf` is both the contribution and the result.
    pub fn allreduce_in_place(&mut self, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        self.allreduce_from(None, buf, t, op)
    }

    /// Allreduce of `send` (None: in place) into `buf`. The direct channel's large-message
    /// algorithms read `send` themselves (no full copy first); the others start from a copy.
    fn allreduce_from(
        &mut self,
        send: Option<&[u8]>,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        op.check(t)?;
        Self::check_elems(buf.len(), t)?;
        let n = buf.len();
        let split = n / t.size() >= self.size && !op.ordered();
        let ring = split && n >= self.config.comm.ring_threshold;
        let segmented = split && self.size > 1 && n >= store::allreduce::SEGMENTED_MIN;
        let src = send.map_or(p2p::allreduce::Src::InPlace, p2p::allreduce::Src::From);
        fn copied<'b>(send: Option<&[u8]>, buf: &'b mut [u8]) -> &'b mut [u8] {
            if let Some(s) = send {
                buf.copy_from_slice(s);
            }
            buf
        }
        let fill = |buf| copied(send, buf);
        let call = self
            .call(OpCode::Allreduce, n)
            .reduction(t.size(), op.ordered());
        self.run(call, |c| match c {
            Family::P2p(c) if ring => p2p::allreduce::large(c, src, buf, t, op),
            Family::P2p(c) if op.ordered() => p2p::allreduce::ordered(c, fill(buf), t, op),
            Family::P2p(c) => p2p::allreduce::recursive_doubling(c, fill(buf), t, op),
            Family::Store(c) if segmented => store::allreduce::segmented(c, fill(buf), t, op),
            Family::Store(c) => store::allreduce::reduce_bcast(c, fill(buf), t, op),
        })
    }

    /// Allreduce with an explicit algorithm (for benchmarks and tests): on the direct channel
    /// "ring", "recursive_doubling" or "ordered"; on a store channel "reduce_bcast" or
    /// "segmented" (which needs a commutative and associative operator and at least one element
    /// per peer).
    pub fn allreduce_with(
        &mut self,
        algo: &str,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        op.check(t)?;
        Self::check_elems(buf.len(), t)?;
        let n = buf.len();
        if algo == "segmented" && (op.ordered() || n / t.size() < self.size) {
            return Err(Error::invalid(
                "segmented allreduce needs a commutative and associative operator and at least one element per peer",
            ));
        }
        let call = Call::new(OpCode::Allreduce, n, self.size)
            .reduction(t.size(), op.ordered())
            .with_algorithm(Some(algo));
        self.run(call, |c| match (c, algo) {
            (Family::P2p(c), "ring") => p2p::allreduce::ring(c, buf, t, op),
            (Family::P2p(c), "halving_doubling") => p2p::allreduce::halving_doubling(c, buf, t, op),
            (Family::P2p(c), "recursive_doubling") => {
                p2p::allreduce::recursive_doubling(c, buf, t, op)
            }
            (Family::P2p(c), "ordered") => p2p::allreduce::ordered(c, buf, t, op),
            (Family::Store(c), "reduce_bcast") => store::allreduce::reduce_bcast(c, buf, t, op),
            (Family::Store(c), "segmented") => store::allreduce::segmented(c, buf, t, op),
            (_, other) => Err(Error::invalid(format!(
                "unknown allreduce algorithm {other:?} for this channel"
            ))),
        })
    }

    /// Inclusive prefix reduction: rank k gets v0 (+) ... (+) vk.
    pub fn scan(&mut self, send: &[u8], recv: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        recv.copy_from_slice(send);
        self.scan_in_place(recv, t, op)
    }

    /// Scan where `buf` is both the contribution and the result.
    pub fn scan_in_place(&mut self, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        op.check(t)?;
        Self::check_elems(buf.len(), t)?;
        let n = buf.len();
        let flat = n * (self.size - 1) <= store::FLAT_MAX;
        let call = self.call(OpCode::Scan, n).reduction(t.size(), op.ordered());
        self.run(call, |c| match c {
            Family::P2p(c) if op.ordered() => p2p::scan::chain(c, buf, t, op),
            Family::P2p(c) => p2p::scan::recursive_doubling(c, buf, t, op),
            Family::Store(c) if flat => store::scan::fold_prefix(c, buf, t, op),
            Family::Store(c) if op.ordered() => store::scan::chain(c, buf, t, op),
            Family::Store(c) => store::scan::recursive_doubling(c, buf, t, op),
        })
    }

    /// Every rank's `send` into every rank's `recv` (size * send.len() bytes), in rank order.
    pub fn allgather(&mut self, send: &[u8], recv: &mut [u8]) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len() * self.size)?;
        self.run(self.call(OpCode::Allgather, send.len()), |c| match c {
            Family::P2p(c) => p2p::allgather::ring(c, send, recv),
            Family::Store(c) => store::allgather::write_once(c, send, recv),
        })
    }

    /// Block j of `send` goes to rank j, block i of `recv` comes from rank i (both size * block bytes).
    pub fn alltoall(&mut self, send: &[u8], recv: &mut [u8]) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        if send.len() % self.size != 0 {
            return Err(Error::invalid(
                "alltoall buffer is not a whole number of blocks",
            ));
        }
        let n = send.len();
        self.run(self.call(OpCode::Alltoall, n), |c| match c {
            Family::P2p(c) => p2p::alltoall::all_at_once(c, send, recv),
            Family::Store(c) => store::alltoall::direct(c, send, recv),
        })
    }
}
