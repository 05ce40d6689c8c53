//! The collectives a communicator can hand to its collectives worker
//! ([`Communicator::istart`]): every collective, described with buffers the request keeps
//! ([`SendBuf`], [`RecvBuf`]: the caller promises them untouched until the request completes),
//! checked as the blocking form checks them, then run by the worker as the blocking form
//! runs, with the algorithm the plan picks for the channel's family.

use super::Communicator;
use crate::channel::request::{RecvBuf, SendBuf};
use crate::collective::shape::Blocks;
use crate::collective::Args;
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
use crate::op::ReduceOp;
use crate::plan::Call;
use crate::tag::OpCode;

/// Block i of a buffer: `counts[i]` bytes at byte offset `displs[i]` (an owned [`Blocks`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockList {
    pub counts: Vec<usize>,
    pub displs: Vec<usize>,
}

impl BlockList {
    pub fn blocks(&self) -> Blocks<'_> {
        Blocks::new(&self.counts, &self.displs)
    }
}

/// A collective to run in the background, as its blocking form takes it (an `Option` buffer is
/// the root's only; no in-place forms: the caller copies its contribution first).
pub enum Background {
    Barrier,
    Bcast {
        buf: RecvBuf,
        root: usize,
    },
    Gather {
        send: SendBuf,
        recv: Option<RecvBuf>,
        root: usize,
    },
    Scatter {
        send: Option<SendBuf>,
        recv: RecvBuf,
        root: usize,
    },
    Allgather {
        send: SendBuf,
        recv: RecvBuf,
    },
    Alltoall {
        send: SendBuf,
        recv: RecvBuf,
    },
    Gatherv {
        send: SendBuf,
        recv: Option<(RecvBuf, BlockList)>,
        root: usize,
    },
    Scatterv {
        send: Option<(SendBuf, BlockList)>,
        recv: RecvBuf,
        root: usize,
    },
    Allgatherv {
        send: SendBuf,
        recv: RecvBuf,
        blocks: BlockList,
    },
    Alltoallv {
        send: SendBuf,
        sblocks: BlockList,
        recv: RecvBuf,
        rblocks: BlockList,
    },
    Reduce {
        send: SendBuf,
        recv: Option<RecvBuf>,
        t: Datatype,
        op: ReduceOp,
        root: usize,
    },
    /// `send` None: in place (`recv` holds the contribution).
    Allreduce {
        send: Option<SendBuf>,
        recv: RecvBuf,
        t: Datatype,
        op: ReduceOp,
    },
    Scan {
        send: SendBuf,
        recv: RecvBuf,
        t: Datatype,
        op: ReduceOp,
    },
    Exscan {
        send: SendBuf,
        recv: RecvBuf,
        t: Datatype,
        op: ReduceOp,
    },
    /// `block`: every count is the same (reduce_scatter_block).
    ReduceScatter {
        send: SendBuf,
        recv: RecvBuf,
        counts: Vec<usize>,
        t: Datatype,
        op: ReduceOp,
        block: bool,
    },
}

impl Background {
    /// The arguments of the algorithm (the buffers borrowed from the request's own).
    pub(super) fn args(&mut self) -> Args<'_> {
        match self {
            Background::Barrier => Args::Barrier,
            Background::Bcast { buf, root } => Args::Bcast {
                buf: buf.bytes_mut(),
                root: *root,
            },
            Background::Gather { send, recv, root } => Args::Gather {
                send: send.bytes(),
                recv: recv.as_mut().map(RecvBuf::bytes_mut),
                root: *root,
            },
            Background::Scatter { send, recv, root } => Args::Scatter {
                send: send.as_ref().map(SendBuf::bytes),
                recv: recv.bytes_mut(),
                root: *root,
            },
            Background::Allgather { send, recv } => Args::Allgather {
                send: send.bytes(),
                recv: recv.bytes_mut(),
            },
            Background::Alltoall { send, recv } => Args::Alltoall {
                send: send.bytes(),
                recv: recv.bytes_mut(),
            },
            Background::Gatherv { send, recv, root } => Args::Gatherv {
                send: send.bytes(),
                recv: recv.as_mut().map(|(b, l)| (b.bytes_mut(), l.blocks())),
                root: *root,
            },
            Background::Scatterv { send, recv, root } => Args::Scatterv {
                send: send.as_ref().map(|(b, l)| (b.bytes(), l.blocks())),
                recv: recv.bytes_mut(),
                root: *root,
            },
            Background::Allgatherv { send, recv, blocks } => Args::Allgatherv {
                send: send.bytes(),
                recv: recv.bytes_mut(),
                blocks: blocks.blocks(),
            },
            Background::Alltoallv {
                send,
                sblocks,
                recv,
                rblocks,
            } => Args::Alltoallv {
                send: send.bytes(),
                sblocks: sblocks.blocks(),
                recv: recv.bytes_mut(),
                rblocks: rblocks.blocks(),
            },
            Background::Reduce {
                send,
                recv,
                t,
                op,
                root,
            } => Args::Reduce {
                send: send.bytes(),
                recv: recv.as_mut().map(RecvBuf::bytes_mut),
                t: *t,
                op,
                root: *root,
            },
            Background::Allreduce { send, recv, t, op } => Args::Allreduce {
                send: send.as_ref().map(SendBuf::bytes),
                buf: recv.bytes_mut(),
                t: *t,
                op,
            },
            // The contribution was copied into `recv` when the scan started.
            Background::Scan { recv, t, op, .. } => Args::Scan {
                buf: recv.bytes_mut(),
                t: *t,
                op,
            },
            Background::Exscan { send, recv, t, op } => Args::Exscan {
                send: send.bytes(),
                recv: recv.bytes_mut(),
                t: *t,
                op,
            },
            Background::ReduceScatter {
                send,
                recv,
                counts,
                t,
                op,
                ..
            } => Args::ReduceScatter {
                send: send.bytes(),
                recv: recv.bytes_mut(),
                counts,
                t: *t,
                op,
            },
        }
    }
}

impl Communicator {
    /// The root's buffer of a rooted collective: required at the root, where it must hold
    /// `want` bytes; dropped elsewhere (what `root_buf` checks for the blocking forms).
    fn root_side<B>(
        &self,
        root: usize,
        buf: &mut Option<B>,
        len: impl Fn(&B) -> usize,
        what: &str,
        want: usize,
    ) -> Result<()> {
        if self.rank != root {
            *buf = None;
            return Ok(());
        }
        let b = buf
            .as_ref()
            .ok_or_else(|| Error::new(ErrorKind::NullArg, format!("root needs a {what}")))?;
        Self::check_len(what, len(b), want)
    }

    /// Checks a background collective as its blocking form does and describes it for the plan.
    pub(super) fn prepare(&self, c: &mut Background) -> Result<Call<'static>> {
        let (rank, size) = (self.rank, self.size);
        Ok(match c {
            Background::Barrier => self.call(OpCode::Barrier, 0),
            Background::Bcast { buf, root } => {
                self.check_peer(*root, "root")?;
                self.call(OpCode::Bcast, buf.len())
            }
            Background::Gather { send, recv, root } => {
                self.check_peer(*root, "root")?;
                let want = send.len() * size;
                self.root_side(*root, recv, RecvBuf::len, "receive buffer", want)?;
                self.call(OpCode::Gather, send.len())
            }
            Background::Scatter { send, recv, root } => {
                self.check_peer(*root, "root")?;
                let want = recv.len() * size;
                self.root_side(*root, send, SendBuf::len, "send buffer", want)?;
                self.call(OpCode::Scatter, recv.len())
            }
            Background::Allgather { send, recv } => {
                Self::check_len("receive buffer", recv.len(), send.len() * size)?;
                self.call(OpCode::Allgather, send.len())
            }
            Background::Alltoall { send, recv } => {
                Self::check_len("receive buffer", recv.len(), send.len())?;
                if send.len() % size != 0 {
                    return Err(Error::invalid(
                        "alltoall buffer is not a whole number of blocks",
                    ));
                }
                self.call(OpCode::Alltoall, send.len())
            }
            Background::Gatherv { send, recv, root } => {
                self.check_peer(*root, "root")?;
                if rank == *root {
                    let (b, l) = recv.as_ref().ok_or_else(|| {
                        Error::new(ErrorKind::NullArg, "root needs a receive buffer")
                    })?;
                    self.check_blocks(&l.blocks(), b.len(), "receive buffer", true)?;
                    Self::check_len("send buffer", send.len(), l.counts[*root])?;
                } else {
                    *recv = None;
                }
                self.call(OpCode::Gatherv, 0)
            }
            Background::Scatterv { send, recv, root } => {
                self.check_peer(*root, "root")?;
                if rank == *root {
                    let (b, l) = send.as_ref().ok_or_else(|| {
                        Error::new(ErrorKind::NullArg, "root needs a send buffer")
                    })?;
                    self.check_blocks(&l.blocks(), b.len(), "send buffer", false)?;
                    Self::check_len("receive buffer", recv.len(), l.counts[*root])?;
                } else {
                    *send = None;
                }
                self.call(OpCode::Scatterv, 0)
            }
            Background::Allgatherv { send, recv, blocks } => {
                self.check_blocks(&blocks.blocks(), recv.len(), "receive buffer", true)?;
                Self::check_len("send buffer", send.len(), blocks.counts[rank])?;
                self.call(OpCode::Allgatherv, blocks.blocks().total())
            }
            Background::Alltoallv {
                send,
                sblocks,
                recv,
                rblocks,
            } => {
                self.check_blocks(&sblocks.blocks(), send.len(), "send buffer", false)?;
                self.check_blocks(&rblocks.blocks(), recv.len(), "receive buffer", true)?;
                if sblocks.counts[rank] != rblocks.counts[rank] {
                    return Err(Error::new(
                        ErrorKind::SizeMismatch,
                        format!(
                            "rank {rank} sends itself {} bytes but expects {}",
                            sblocks.counts[rank], rblocks.counts[rank]
                        ),
                    ));
                }
                self.call(OpCode::Alltoallv, 0)
            }
            Background::Reduce {
                send,
                recv,
                t,
                op,
                root,
            } => {
                self.check_peer(*root, "root")?;
                let call = self.reduction(OpCode::Reduce, send.len(), *t, op)?;
                self.root_side(*root, recv, RecvBuf::len, "receive buffer", send.len())?;
                call
            }
            Background::Allreduce { send, recv, t, op } => {
                if let Some(s) = send {
                    Self::check_len("receive buffer", recv.len(), s.len())?;
                }
                self.reduction(OpCode::Allreduce, recv.len(), *t, op)?
            }
            Background::Scan { send, recv, t, op } => {
                Self::check_len("receive buffer", recv.len(), send.len())?;
                let call = self.reduction(OpCode::Scan, recv.len(), *t, op)?;
                recv.bytes_mut().copy_from_slice(send.bytes());
                call
            }
            Background::Exscan { send, recv, t, op } => {
                Self::check_len("receive buffer", recv.len(), send.len())?;
                self.reduction(OpCode::Exscan, send.len(), *t, op)?
            }
            Background::ReduceScatter {
                send,
                recv,
                counts,
                t,
                op,
                block,
            } => {
                let code = if *block {
                    OpCode::ReduceScatterBlock
                } else {
                    OpCode::ReduceScatter
                };
                self.check_reduce_scatter(send.len(), recv.len(), counts, *t)?;
                self.reduction(code, send.len(), *t, op)?
            }
        })
    }
}
