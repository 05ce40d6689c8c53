//! The operations of a communicator: point-to-point messages and the collectives. Each checks
//! its arguments, describes its call for the plan and the model, and runs it (`dispatch`).

use super::Communicator;
use crate::collective::buffer::AlignedBuf;
use crate::collective::shape::Blocks;
use crate::collective::Args;
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
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

    /// The block of this rank in a buffer of `len` bytes split into one block per rank
    /// (`what`: "receive buffer", ...).
    fn own_block(&self, len: usize, what: &str) -> Result<std::ops::Range<usize>> {
        if len % self.size != 0 {
            return Err(Error::invalid(format!(
                "{what} of {len} bytes is not a whole number of blocks for {} peers",
                self.size
            )));
        }
        let s = len / self.size;
        Ok(self.rank * s..(self.rank + 1) * s)
    }

    /// An in-place call that only the root may make (MPI's rule).
    fn root_only(&self, root: usize, what: &str) -> Result<()> {
        self.check_peer(root, "root")?;
        if self.rank != root {
            return Err(Error::invalid(format!(
                "{what} in place is the root's form: rank {} is not the root {root} (it passes its own buffer)",
                self.rank
            )));
        }
        Ok(())
    }

    /// [`Communicator::gather`] at the root, whose contribution already is its block of `recv`
    /// (size blocks). Only the root calls it; the other ranks call `gather`.
    pub fn gather_in_place(&mut self, recv: &mut [u8], root: usize) -> Result<()> {
        self.root_only(root, "gather")?;
        let own = AlignedBuf::from_slice(&recv[self.own_block(recv.len(), "receive buffer")?]);
        self.gather(&own, Some(recv), root)
    }

    /// [`Communicator::scatter`] at the root, whose own block stays where it is in `send`
    /// (nothing is written). Only the root calls it; the other ranks call `scatter`.
    pub fn scatter_in_place(&mut self, send: &[u8], root: usize) -> Result<()> {
        self.root_only(root, "scatter")?;
        let mut own = AlignedBuf::new(self.own_block(send.len(), "send buffer")?.len());
        self.scatter(Some(send), &mut own, root)
    }

    /// [`Communicator::allgather`] where this rank's contribution already is its block of `buf`.
    pub fn allgather_in_place(&mut self, buf: &mut [u8]) -> Result<()> {
        let own = AlignedBuf::from_slice(&buf[self.own_block(buf.len(), "receive buffer")?]);
        self.allgather(&own, buf)
    }

    /// [`Communicator::alltoall`] where `buf` is both the blocks to send and the blocks received.
    pub fn alltoall_in_place(&mut self, buf: &mut [u8]) -> Result<()> {
        let own = AlignedBuf::from_slice(buf);
        self.alltoall(&own, buf)
    }

    /// Gathers every rank's `send` into block i (`blocks`: bytes and byte offsets) of the root's
    /// `recv` (None elsewhere, where the counts are not needed). Blocks of `recv` may not
    /// overlap; rank i's `send` must hold exactly the root's `blocks.counts[i]` bytes.
    pub fn gatherv(
        &mut self,
        send: &[u8],
        recv: Option<(&mut [u8], Blocks)>,
        root: usize,
    ) -> Result<()> {
        self.check_peer(root, "root")?;
        let recv = match recv {
            Some((buf, b)) if self.rank == root => {
                self.check_blocks(&b, buf.len(), "receive buffer", true)?;
                Self::check_len("send buffer", send.len(), b.counts[root])?;
                Some((buf, b))
            }
            None if self.rank == root => {
                return Err(Error::new(
                    ErrorKind::NullArg,
                    "root needs a receive buffer",
                ))
            }
            _ => None,
        };
        let call = self.call(OpCode::Gatherv, 0);
        self.run(call, Args::Gatherv { send, recv, root })
    }

    /// [`Communicator::gatherv`] at the root, whose contribution already is its block of `recv`.
    /// Only the root calls it; the other ranks call `gatherv`.
    pub fn gatherv_in_place(&mut self, recv: &mut [u8], blocks: Blocks, root: usize) -> Result<()> {
        self.root_only(root, "gatherv")?;
        self.check_blocks(&blocks, recv.len(), "receive buffer", true)?;
        let own = AlignedBuf::from_slice(&recv[blocks.range(root)]);
        self.gatherv(&own, Some((recv, blocks)), root)
    }

    /// Scatters block i (`blocks`: bytes and byte offsets) of the root's `send` (None elsewhere)
    /// to rank i's `recv`, which must hold exactly that many bytes. Blocks may overlap.
    pub fn scatterv(
        &mut self,
        send: Option<(&[u8], Blocks)>,
        recv: &mut [u8],
        root: usize,
    ) -> Result<()> {
        self.check_peer(root, "root")?;
        let send = match send {
            Some((buf, b)) if self.rank == root => {
                self.check_blocks(&b, buf.len(), "send buffer", false)?;
                Self::check_len("receive buffer", recv.len(), b.counts[root])?;
                Some((buf, b))
            }
            None if self.rank == root => {
                return Err(Error::new(ErrorKind::NullArg, "root needs a send buffer"))
            }
            _ => None,
        };
        let call = self.call(OpCode::Scatterv, 0);
        self.run(call, Args::Scatterv { send, recv, root })
    }

    /// [`Communicator::scatterv`] at the root, whose own block stays where it is in `send`.
    /// Only the root calls it; the other ranks call `scatterv`.
    pub fn scatterv_in_place(&mut self, send: &[u8], blocks: Blocks, root: usize) -> Result<()> {
        self.root_only(root, "scatterv")?;
        self.check_blocks(&blocks, send.len(), "send buffer", false)?;
        let mut own = AlignedBuf::new(blocks.counts[root]);
        self.scatterv(Some((send, blocks)), &mut own, root)
    }

    /// Every rank's `send` into block i (`blocks`: bytes and byte offsets, the same on every
    /// rank) of every rank's `recv`. Blocks may not overlap.
    pub fn allgatherv(&mut self, send: &[u8], recv: &mut [u8], blocks: Blocks) -> Result<()> {
        self.check_blocks(&blocks, recv.len(), "receive buffer", true)?;
        Self::check_len("send buffer", send.len(), blocks.counts[self.rank])?;
        let call = self.call(OpCode::Allgatherv, blocks.total());
        self.run(call, Args::Allgatherv { send, recv, blocks })
    }

    /// [`Communicator::allgatherv`] where this rank's contribution already is its block of `buf`.
    pub fn allgatherv_in_place(&mut self, buf: &mut [u8], blocks: Blocks) -> Result<()> {
        self.check_blocks(&blocks, buf.len(), "receive buffer", true)?;
        let own = AlignedBuf::from_slice(&buf[blocks.range(self.rank)]);
        self.allgatherv(&own, buf, blocks)
    }

    /// Block j of `send` (`sblocks`) goes to rank j; block i of `recv` (`rblocks`) comes from
    /// rank i and must have the size of rank i's block for this rank. Receive blocks may not
    /// overlap.
    pub fn alltoallv(
        &mut self,
        send: &[u8],
        sblocks: Blocks,
        recv: &mut [u8],
        rblocks: Blocks,
    ) -> Result<()> {
        self.check_blocks(&sblocks, send.len(), "send buffer", false)?;
        self.check_blocks(&rblocks, recv.len(), "receive buffer", true)?;
        let r = self.rank;
        if sblocks.counts[r] != rblocks.counts[r] {
            return Err(Error::new(
                ErrorKind::SizeMismatch,
                format!(
                    "rank {r} sends itself {} bytes but expects {}",
                    sblocks.counts[r], rblocks.counts[r]
                ),
            ));
        }
        let call = self.call(OpCode::Alltoallv, 0);
        let args = Args::Alltoallv {
            send,
            sblocks,
            recv,
            rblocks,
        };
        self.run(call, args)
    }

    /// [`Communicator::alltoallv`] where `buf` (laid out by `blocks`) is both the blocks to send
    /// and the blocks received.
    pub fn alltoallv_in_place(&mut self, buf: &mut [u8], blocks: Blocks) -> Result<()> {
        self.check_blocks(&blocks, buf.len(), "receive buffer", true)?;
        let own = AlignedBuf::from_slice(buf);
        self.alltoallv(&own, blocks, buf, blocks)
    }

    /// Reduces every rank's `send` (size blocks of `recv.len()` bytes) and gives block i of the
    /// result to rank i's `recv`.
    pub fn reduce_scatter_block(
        &mut self,
        send: &[u8],
        recv: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        let counts = vec![recv.len(); self.size];
        self.reduce_scatter_as(OpCode::ReduceScatterBlock, send, recv, &counts, t, op)
    }

    /// [`Communicator::reduce_scatter_block`] where `buf` (size blocks) is the contribution and
    /// its first block receives this rank's result.
    pub fn reduce_scatter_block_in_place(
        &mut self,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        let s = self.own_block(buf.len(), "buffer")?.len();
        let own = AlignedBuf::from_slice(buf);
        self.reduce_scatter_block(&own, &mut buf[..s], t, op)
    }

    /// Reduces every rank's `send` (consecutive blocks of `counts[i]` bytes, the same counts on
    /// every rank) and gives block i of the result to rank i's `recv` (`counts[i]` bytes).
    pub fn reduce_scatter(
        &mut self,
        send: &[u8],
        recv: &mut [u8],
        counts: &[usize],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        self.reduce_scatter_as(OpCode::ReduceScatter, send, recv, counts, t, op)
    }

    /// [`Communicator::reduce_scatter`] where `buf` is the contribution and its first
    /// `counts[rank]` bytes receive this rank's result.
    pub fn reduce_scatter_in_place(
        &mut self,
        buf: &mut [u8],
        counts: &[usize],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        let s = counts.get(self.rank).copied().unwrap_or(0).min(buf.len());
        let own = AlignedBuf::from_slice(buf);
        self.reduce_scatter(&own, &mut buf[..s], counts, t, op)
    }

    fn reduce_scatter_as(
        &mut self,
        code: OpCode,
        send: &[u8],
        recv: &mut [u8],
        counts: &[usize],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        self.check_reduce_scatter(send.len(), recv.len(), counts, t)?;
        let call = self.reduction(code, send.len(), t, op)?;
        let args = Args::ReduceScatter {
            send,
            recv,
            counts,
            t,
            op,
        };
        self.run(call, args)
    }

    /// Checks a reduce_scatter's buffers of `send` and `recv` bytes against its `counts`.
    pub(super) fn check_reduce_scatter(
        &self,
        send: usize,
        recv: usize,
        counts: &[usize],
        t: Datatype,
    ) -> Result<()> {
        if counts.len() != self.size {
            return Err(Error::invalid(format!(
                "{} counts for {} peers",
                counts.len(),
                self.size
            )));
        }
        for &c in counts {
            Self::check_elems(c, t)?;
        }
        let total = counts
            .iter()
            .try_fold(0usize, |a, &c| a.checked_add(c))
            .ok_or_else(|| Error::invalid("the counts add up to more bytes than a buffer has"))?;
        Self::check_len("send buffer", send, total)?;
        Self::check_len("receive buffer", recv, counts[self.rank])
    }

    /// Exclusive prefix reduction: rank k > 0 gets v0 (+) ... (+) v(k-1) in `recv`. Rank 0's
    /// result is undefined in MPI: its `recv` is left untouched.
    pub fn exscan(
        &mut self,
        send: &[u8],
        recv: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        let call = self.reduction(OpCode::Exscan, send.len(), t, op)?;
        self.run(call, Args::Exscan { send, recv, t, op })
    }

    /// [`Communicator::exscan`] where `buf` is both the contribution and the result (rank 0's
    /// is left untouched).
    pub fn exscan_in_place(&mut self, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        let own = AlignedBuf::from_slice(buf);
        self.exscan(&own, buf, t, op)
    }
}
