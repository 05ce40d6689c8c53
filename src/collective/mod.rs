//! Collective algorithms, written once per channel family. `p2p` runs on any
//! [`crate::channel::P2pTransport`], `store` on any [`crate::channel::store::StoreTransport`];
//! each family's `run` runs the algorithm the plan chose ([`crate::plan`]). Shared here: the
//! operation's buffers ([`Args`]), the one-peer algorithm ([`local`]) and the left fold.

pub mod buffer;
pub mod p2p;
pub mod shape;
pub mod store;

use crate::datatype::Datatype;
use crate::error::{Error, Result};
use crate::op::ReduceOp;

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
        Args::Bcast { .. } | Args::Barrier | Args::Scan { .. } | Args::Finalize { .. } => Ok(()),
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
