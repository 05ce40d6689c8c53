//! MPI collectives on a core communicator. A call is described once ([`Coll`]: its inputs and
//! outputs as the core sees them, `stage`, and for a reduction the core's element type and
//! operator from `reduce::Operator::core`), then run to completion ([`Coll::run`]) or handed to
//! the core's collectives worker ([`Coll::background`], the non-blocking and persistent forms,
//! whose requests `api::icoll`, `icollv` and `icollreduce` make); its
//! outputs are unpacked into the user's layout when it ends ([`Coll::finish`]). The in-place
//! forms are resolved when the call is described: the contribution is copied out of the
//! receive buffer first, so the core always gets separate send and receive bytes. The core's
//! plan picks every algorithm. No C-ABI code: `api/colldesc.rs` resolves handles and counts.

pub mod inter;
pub mod stage;

use crate::engine::Result;
use fmi::{Background, Communicator};
pub use stage::{Input, Output, Region};

/// The calling rank and the communicator's size: what describing a call needs.
#[derive(Debug, Clone, Copy)]
pub struct Who {
    pub rank: usize,
    pub size: usize,
}

impl Who {
    pub fn of(c: &crate::objects::comm::CommObj) -> Who {
        Who {
            rank: c.rank,
            size: c.size,
        }
    }
}

/// A reduction's element type and operator on the core.
#[derive(Clone)]
pub struct Red {
    pub t: fmi::Datatype,
    pub op: fmi::ReduceOp,
}

/// One collective call of this rank. `Option` outputs and inputs are the root's only.
pub enum Coll {
    Barrier,
    Bcast {
        buf: Output,
        root: usize,
    },
    Gather {
        send: Input,
        recv: Option<Output>,
        root: usize,
    },
    Scatter {
        send: Option<Input>,
        recv: Output,
        root: usize,
    },
    Allgather {
        send: Input,
        recv: Output,
    },
    Alltoall {
        send: Input,
        recv: Output,
    },
    /// The receive buffer's blocks are its regions.
    Gatherv {
        send: Input,
        recv: Option<Output>,
        root: usize,
    },
    Scatterv {
        send: Option<Input>,
        recv: Output,
        root: usize,
    },
    Allgatherv {
        send: Input,
        recv: Output,
    },
    /// Also alltoallw (a region, with its own datatype, per peer on both sides).
    Alltoallv {
        send: Input,
        recv: Output,
    },
    Reduce {
        send: Input,
        recv: Option<Output>,
        red: Red,
        root: usize,
    },
    Allreduce {
        send: Input,
        recv: Output,
        red: Red,
    },
    Scan {
        send: Input,
        recv: Output,
        red: Red,
    },
    Exscan {
        send: Input,
        recv: Output,
        red: Red,
    },
    /// `counts`: bytes of each rank's block of the result; `block`: all equal
    /// (reduce_scatter_block).
    ReduceScatter {
        send: Input,
        recv: Output,
        counts: Vec<usize>,
        red: Red,
        block: bool,
    },
}

impl Coll {
    /// Runs the call on `k` until it completes (then [`Coll::finish`] it).
    pub fn run(&mut self, k: &mut Communicator) -> fmi::Result<()> {
        match self {
            Coll::Barrier => k.barrier(),
            Coll::Bcast { buf, root } => k.bcast(buf.bytes_mut(), *root),
            Coll::Gather { send, recv, root } => {
                k.gather(send.bytes(), recv.as_mut().map(Output::bytes_mut), *root)
            }
            Coll::Scatter { send, recv, root } => {
                k.scatter(send.as_ref().map(Input::bytes), recv.bytes_mut(), *root)
            }
            Coll::Allgather { send, recv } => k.allgather(send.bytes(), recv.bytes_mut()),
            Coll::Alltoall { send, recv } => k.alltoall(send.bytes(), recv.bytes_mut()),
            Coll::Gatherv { send, recv, root } => {
                k.gatherv(send.bytes(), recv.as_mut().map(Output::parts), *root)
            }
            Coll::Scatterv { send, recv, root } => {
                let s = send.as_ref().map(|s| (s.bytes(), s.blocks()));
                k.scatterv(s, recv.bytes_mut(), *root)
            }
            Coll::Allgatherv { send, recv } => {
                let (buf, blocks) = recv.parts();
                k.allgatherv(send.bytes(), buf, blocks)
            }
            Coll::Alltoallv { send, recv } => {
                let (buf, rblocks) = recv.parts();
                k.alltoallv(send.bytes(), send.blocks(), buf, rblocks)
            }
            Coll::Reduce {
                send,
                recv,
                red,
                root,
            } => k.reduce(
                send.bytes(),
                recv.as_mut().map(Output::bytes_mut),
                red.t,
                &red.op,
                *root,
            ),
            Coll::Allreduce { send, recv, red } => {
                k.allreduce(send.bytes(), recv.bytes_mut(), red.t, &red.op)
            }
            Coll::Scan { send, recv, red } => {
                k.scan(send.bytes(), recv.bytes_mut(), red.t, &red.op)
            }
            Coll::Exscan { send, recv, red } => {
                k.exscan(send.bytes(), recv.bytes_mut(), red.t, &red.op)
            }
            Coll::ReduceScatter {
                send,
                recv,
                counts,
                red,
                block,
            } => {
                if *block {
                    k.reduce_scatter_block(send.bytes(), recv.bytes_mut(), red.t, &red.op)
                } else {
                    k.reduce_scatter(send.bytes(), recv.bytes_mut(), counts, red.t, &red.op)
                }
            }
        }
    }

    /// The same call for the core's collectives worker, on this description's buffers.
    ///
    /// # Safety
    /// `self` must outlive the collective and its outputs must not be used until it ends.
    pub unsafe fn background(&mut self) -> Background {
        use Background as B;
        match self {
            Coll::Barrier => B::Barrier,
            Coll::Bcast { buf, root } => B::Bcast {
                buf: buf.recv_buf(),
                root: *root,
            },
            Coll::Gather { send, recv, root } => B::Gather {
                send: send.send_buf(),
                recv: recv.as_mut().map(|r| r.recv_buf()),
                root: *root,
            },
            Coll::Scatter { send, recv, root } => B::Scatter {
                send: send.as_ref().map(|s| s.send_buf()),
                recv: recv.recv_buf(),
                root: *root,
            },
            Coll::Allgather { send, recv } => B::Allgather {
                send: send.send_buf(),
                recv: recv.recv_buf(),
            },
            Coll::Alltoall { send, recv } => B::Alltoall {
                send: send.send_buf(),
                recv: recv.recv_buf(),
            },
            Coll::Gatherv { send, recv, root } => B::Gatherv {
                send: send.send_buf(),
                recv: recv.as_mut().map(|r| (r.recv_buf(), r.block_list())),
                root: *root,
            },
            Coll::Scatterv { send, recv, root } => B::Scatterv {
                send: send.as_ref().map(|s| (s.send_buf(), s.block_list())),
                recv: recv.recv_buf(),
                root: *root,
            },
            Coll::Allgatherv { send, recv } => B::Allgatherv {
                send: send.send_buf(),
                blocks: recv.block_list(),
                recv: recv.recv_buf(),
            },
            Coll::Alltoallv { send, recv } => B::Alltoallv {
                send: send.send_buf(),
                sblocks: send.block_list(),
                rblocks: recv.block_list(),
                recv: recv.recv_buf(),
            },
            Coll::Reduce {
                send,
                recv,
                red,
                root,
            } => B::Reduce {
                send: send.send_buf(),
                recv: recv.as_mut().map(|r| r.recv_buf()),
                t: red.t,
                op: red.op.clone(),
                root: *root,
            },
            Coll::Allreduce { send, recv, red } => B::Allreduce {
                send: Some(send.send_buf()),
                recv: recv.recv_buf(),
                t: red.t,
                op: red.op.clone(),
            },
            Coll::Scan { send, recv, red } => B::Scan {
                send: send.send_buf(),
                recv: recv.recv_buf(),
                t: red.t,
                op: red.op.clone(),
            },
            Coll::Exscan { send, recv, red } => B::Exscan {
                send: send.send_buf(),
                recv: recv.recv_buf(),
                t: red.t,
                op: red.op.clone(),
            },
            Coll::ReduceScatter {
                send,
                recv,
                counts,
                red,
                block,
            } => B::ReduceScatter {
                send: send.send_buf(),
                recv: recv.recv_buf(),
                counts: counts.clone(),
                t: red.t,
                op: red.op.clone(),
                block: *block,
            },
        }
    }

    /// Unpacks the results into the user's buffers (after the call completed).
    ///
    /// # Safety
    /// The output buffers the call was described with must still be writable.
    pub unsafe fn finish(self) -> Result<()> {
        match self {
            Coll::Barrier => Ok(()),
            Coll::Bcast { buf, .. } => buf.finish(),
            Coll::Gather { recv, .. } | Coll::Gatherv { recv, .. } | Coll::Reduce { recv, .. } => {
                recv.map_or(Ok(()), |r| r.finish())
            }
            Coll::Scatter { recv, .. }
            | Coll::Scatterv { recv, .. }
            | Coll::Allgather { recv, .. }
            | Coll::Alltoall { recv, .. }
            | Coll::Allgatherv { recv, .. }
            | Coll::Alltoallv { recv, .. }
            | Coll::Allreduce { recv, .. }
            | Coll::Scan { recv, .. }
            | Coll::Exscan { recv, .. }
            | Coll::ReduceScatter { recv, .. } => recv.finish(),
        }
    }
}
