//! The operations of a communicator: point-to-point messages and the collectives. Each checks
//! its arguments, describes its call for the plan and the model, and runs it (`dispatch`).

use super::Communicator;
use crate::collective::buffer::AlignedBuf;
use crate::collective::Args;
use crate::datatype::Datatype;
use crate::error::{Error, Result};
use crate::op::ReduceOp;
use crate::tag::OpCode;

impl Communicator {
    /// Sends `data` to `dest`. The receiver must receive exactly `data.len()` bytes.
    pub fn send(&mut self, data: &[u8], dest: usize) -> Result<()> {
        self.check_other(dest, "destination", "send to self")?;
        let call = self.call(OpCode::SendRecv, data.len());
        if self.plain_in_inbox(&call) {
            return self.send_plain_in_inbox(data, dest);
        }
        self.run(call, Args::Send { peer: dest, data })
    }

    /// Receives one message from `src` into `buf`; a message of another size is an error.
    pub fn recv(&mut self, buf: &mut [u8], src: usize) -> Result<()> {
        self.check_other(src, "source", "receive from self")?;
        let call = self.call(OpCode::SendRecv, buf.len());
        if self.plain_in_inbox(&call) {
            return self.recv_plain_in_inbox(buf, src);
        }
        self.run(call, Args::Recv { peer: src, buf })
    }

    /// Broadcasts the root's `buf` into every rank's `buf`.
    pub fn bcast(&mut self, buf: &mut [u8], root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let call = self.call(OpCode::Bcast, buf.len());
        self.run(call, Args::Bcast { buf, root })
    }

    /// Returns when every rank has entered the barrier.
    pub fn barrier(&mut self) -> Result<()> {
        self.run(self.call(OpCode::Barrier, 0), Args::Barrier)
    }

    /// Gathers every rank's `send` into the root's `recv` (size * send.len() bytes; None elsewhere).
    pub fn gather(&mut self, send: &[u8], recv: Option<&mut [u8]>, root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let recv = self.root_buf(root, recv, "receive buffer", send.len() * self.size)?;
        let call = self.call(OpCode::Gather, send.len());
        self.run(call, Args::Gather { send, recv, root })
    }

    /// Scatters the root's `send` (size * recv.len() bytes; None elsewhere): block i to rank i.
    pub fn scatter(&mut self, send: Option<&[u8]>, recv: &mut [u8], root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let send = self.root_buf(root, send, "send buffer", recv.len() * self.size)?;
        let call = self.call(OpCode::Scatter, recv.len());
        self.run(call, Args::Scatter { send, recv, root })
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
        let call = self.reduction(OpCode::Reduce, send.len(), t, op)?;
        let recv = self.root_buf(root, recv, "receive buffer", send.len())?;
        self.run(
            call,
            Args::Reduce {
                send,
                recv,
                t,
                op,
                root,
            },
        )
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

    /// Allreduce of `send` (None: in place) into `buf`. The direct channel's ring and
    /// halving-doubling read `send` themselves (no full copy first); the others start from a copy.
    fn allreduce_from(
        &mut self,
        send: Option<&[u8]>,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        let call = self.reduction(OpCode::Allreduce, buf.len(), t, op)?;
        self.run(call, Args::Allreduce { send, buf, t, op })
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
        let n = buf.len();
        let call = self.reduction(OpCode::Allreduce, n, t, op)?;
        if algo == "segmented" && (op.ordered() || n / t.size() < self.size) {
            return Err(Error::invalid(
                "segmented allreduce needs a commutative and associative operator and at least one element per peer",
            ));
        }
        // The plan checks the name for the channel's family (when the operation runs).
        let call = call.forced(Some(algo));
        let args = Args::Allreduce {
            send: None,
            buf,
            t,
            op,
        };
        self.run(call, args)
    }

    /// Inclusive prefix reduction: rank k gets v0 (+) ... (+) vk.
    pub fn scan(&mut self, send: &[u8], recv: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        recv.copy_from_slice(send);
        self.scan_in_place(recv, t, op)
    }

    /// Scan where `buf` is both the contribution and the result.
    pub fn scan_in_place(&mut self, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        let call = self.reduction(OpCode::Scan, buf.len(), t, op)?;
        self.run(call, Args::Scan { buf, t, op })
    }

    /// Every rank's `send` into every rank's `recv` (size * send.len() bytes), in rank order.
    pub fn allgather(&mut self, send: &[u8], recv: &mut [u8]) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len() * self.size)?;
        let call = self.call(OpCode::Allgather, send.len());
        self.run(call, Args::Allgather { send, recv })
    }

    /// Block j of `send` goes to rank j, block i of `recv` comes from rank i (both size * block bytes).
    pub fn alltoall(&mut self, send: &[u8], recv: &mut [u8]) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        if send.len() % self.size != 0 {
            return Err(Error::invalid(
                "alltoall buffer is not a whole number of blocks",
            ));
        }
        let call = self.call(OpCode::Alltoall, send.len());
        self.run(call, Args::Alltoall { send, recv })
    }
}
