//! Collective algorithms, written once per channel family: the families' files (`p2p` runs on
//! any [`crate::channel::P2pTransport`], `store` on any
//! [`crate::channel::store::StoreTransport`]), and what they share: the operation's buffers
//! ([`Args`]), the one-peer algorithm ([`local`]) and the left fold. [`run`] runs the algorithm
//! the plan chose ([`crate::plan`]).

pub mod buffer;
pub mod run;
pub mod shape;

/// Collective algorithms over a peer-to-peer transport ([`crate::channel::P2pTransport`]), one
/// algorithm family per file, written in the steps of [`p2p::Ctx`].
pub mod p2p {
    mod ctx;
    pub use ctx::Ctx;

    pub mod allgather;
    pub mod allreduce;
    pub mod alltoall;
    pub mod barrier;
    pub mod bcast;
    pub mod gather;
    pub mod reduce;
    pub mod reduce_scatter;
    pub mod scan;
    pub mod scatter;
}

/// Collective algorithms over an object store, written against
/// [`crate::channel::store::StoreTransport`] only (never naming Redis or S3), one algorithm
/// family per file, in the steps of [`store::Ctx`]. A store is a rendezvous point every peer
/// reaches in one round trip, so these algorithms are flat where the p2p ones are trees: data is
/// written once and read by everyone who needs it, and partial results are published for the
/// peers that combine them.
pub mod store {
    mod ctx;
    pub use ctx::Ctx;

    pub mod allgather;
    pub mod allreduce;
    pub mod alltoall;
    pub mod barrier;
    pub mod bcast;
    pub mod finalize;
    pub mod gather;
    pub mod reduce;
    pub mod reduce_scatter;
    pub mod scan;
    pub mod scatter;
}

use crate::datatype::Datatype;
use crate::error::{Error, Result};
use crate::op::ReduceOp;
use shape::Blocks;

/// The buffers and arguments of one operation, as the communicator checked them.
pub enum Args<'a> {
    Send {
        peer: usize,
        data: &'a [u8],
    },
    Recv {
        peer: usize,
        buf: &'a mut [u8],
    },
    Bcast {
        buf: &'a mut [u8],
        root: usize,
    },
    Barrier,
    /// `recv` at the root only.
    Gather {
        send: &'a [u8],
        recv: Option<&'a mut [u8]>,
        root: usize,
    },
    /// `send` at the root only.
    Scatter {
        send: Option<&'a [u8]>,
        recv: &'a mut [u8],
        root: usize,
    },
    Reduce {
        send: &'a [u8],
        recv: Option<&'a mut [u8]>,
        t: Datatype,
        op: &'a ReduceOp,
        root: usize,
    },
    /// `send` None: in place (`buf` holds the contribution).
    Allreduce {
        send: Option<&'a [u8]>,
        buf: &'a mut [u8],
        t: Datatype,
        op: &'a ReduceOp,
    },
    Scan {
        buf: &'a mut [u8],
        t: Datatype,
        op: &'a ReduceOp,
    },
    /// Also the agreement between peers (`OpCode::Agree`).
    Allgather {
        send: &'a [u8],
        recv: &'a mut [u8],
    },
    Alltoall {
        send: &'a [u8],
        recv: &'a mut [u8],
    },
    /// The closing barrier; `dirty`: an operation of this peer failed on the channel.
    Finalize {
        dirty: bool,
    },
    /// Rank i's `send` into block i of the root's `recv` (the receive buffer and its blocks
    /// at the root only).
    Gatherv {
        send: &'a [u8],
        recv: Option<(&'a mut [u8], Blocks<'a>)>,
        root: usize,
    },
    /// Block i of the root's `send` (with its blocks, at the root only) into rank i's `recv`.
    Scatterv {
        send: Option<(&'a [u8], Blocks<'a>)>,
        recv: &'a mut [u8],
        root: usize,
    },
    /// Rank i's `send` into block i of every rank's `recv`.
    Allgatherv {
        send: &'a [u8],
        recv: &'a mut [u8],
        blocks: Blocks<'a>,
    },
    /// Block j of `send` (`sblocks`) to rank j, block i of `recv` (`rblocks`) from rank i.
    Alltoallv {
        send: &'a [u8],
        sblocks: Blocks<'a>,
        recv: &'a mut [u8],
        rblocks: Blocks<'a>,
    },
    /// The reduction of every rank's `send` (consecutive blocks of `counts[i]` bytes), block i
    /// to rank i's `recv` (reduce_scatter and reduce_scatter_block).
    ReduceScatter {
        send: &'a [u8],
        recv: &'a mut [u8],
        counts: &'a [usize],
        t: Datatype,
        op: &'a ReduceOp,
    },
    /// Exclusive prefix reduction: rank k's `recv` gets v0 (+) ... (+) v(k-1); rank 0's `recv`
    /// is left as it is.
    Exscan {
        send: &'a [u8],
        recv: &'a mut [u8],
        t: Datatype,
        op: &'a ReduceOp,
    },
}

impl Args<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Args::Send { .. } => "send",
            Args::Recv { .. } => "recv",
            Args::Bcast { .. } => "bcast",
            Args::Barrier => "barrier",
            Args::Gather { .. } => "gather",
            Args::Scatter { .. } => "scatter",
            Args::Reduce { .. } => "reduce",
            Args::Allreduce { .. } => "allreduce",
            Args::Scan { .. } => "scan",
            Args::Allgather { .. } => "allgather",
            Args::Alltoall { .. } => "alltoall",
            Args::Finalize { .. } => "finalize",
            Args::Gatherv { .. } => "gatherv",
            Args::Scatterv { .. } => "scatterv",
            Args::Allgatherv { .. } => "allgatherv",
            Args::Alltoallv { .. } => "alltoallv",
            Args::ReduceScatter { .. } => "reduce_scatter",
            Args::Exscan { .. } => "exscan",
        }
    }
}

/// `buf` holding the contribution: `send` copied into it (out of place), or as it is.
pub fn filled<'b>(send: Option<&[u8]>, buf: &'b mut [u8]) -> &'b mut [u8] {
    if let Some(s) = send {
        buf.copy_from_slice(s);
    }
    buf
}

/// The error of a dispatch arm the plan never chooses (an algorithm for another operation).
pub fn not_planned(algorithm: &str, args: &Args) -> Error {
    Error::new(
        crate::error::ErrorKind::Internal,
        format!(
            "the plan chose {algorithm} for a {}, which has no such algorithm",
            args.name()
        ),
    )
}

/// One peer: every result is this peer's own contribution; nothing is sent.
pub fn local(args: Args) -> Result<()> {
    match args {
        Args::Bcast { .. }
        | Args::Barrier
        | Args::Scan { .. }
        | Args::Finalize { .. }
        | Args::Exscan { .. } => Ok(()),
        Args::Gather {
            send,
            recv: Some(out),
            ..
        }
        | Args::Reduce {
            send,
            recv: Some(out),
            ..
        }
        | Args::Scatter {
            send: Some(send),
            recv: out,
            ..
        }
        | Args::Allgather { send, recv: out }
        | Args::Alltoall { send, recv: out } => {
            out.copy_from_slice(send);
            Ok(())
        }
        Args::Allreduce { send, buf, .. } => {
            filled(send, buf);
            Ok(())
        }
        Args::Gatherv {
            send,
            recv: Some((out, b)),
            ..
        }
        | Args::Allgatherv {
            send,
            recv: out,
            blocks: b,
        } => {
            out[b.range(0)].copy_from_slice(send);
            Ok(())
        }
        Args::Scatterv {
            send: Some((send, b)),
            recv,
            ..
        } => {
            recv.copy_from_slice(&send[b.range(0)]);
            Ok(())
        }
        Args::Alltoallv {
            send,
            sblocks,
            recv,
            rblocks,
        } => {
            recv[rblocks.range(0)].copy_from_slice(&send[sblocks.range(0)]);
            Ok(())
        }
        Args::ReduceScatter { send, recv, .. } => {
            recv.copy_from_slice(send);
            Ok(())
        }
        other => Err(not_planned("local", &other)),
    }
}

/// out = b0 (+) b1 (+) ... (+) b(k-1), left to right, over the consecutive blocks of `all`.
pub fn fold_blocks(all: &[u8], s: usize, out: &mut [u8], t: Datatype, op: &ReduceOp) {
    out.copy_from_slice(&all[..s]);
    if s == 0 {
        return;
    }
    for block in all.chunks_exact(s).skip(1) {
        op.apply(out, block, t);
    }
}
