//! Collectives on an inter-communicator, composed of the core's operations on the union of
//! both groups and on the local group (see `objects::intercomm`). Bytes in, bytes out: the
//! API packs and unpacks (`api::intercoll`).
//!
//! - barrier: the union's barrier;
//! - bcast: the root sends to the remote group's rank 0, which broadcasts in its group;
//! - gather(v) / scatter(v): the remote group's processes send to / receive from the root;
//! - allgather(v), alltoall(v, w): one all-to-all over the union, in which the blocks between
//!   processes of the same group are empty (allgather sends its one block to every remote
//!   process);
//! - reduce: the remote group reduces to its rank 0, which sends to the root;
//! - allreduce, reduce_scatter(_block): each group reduces its data to its rank 0, the two
//!   exchange, and each broadcasts (scatters) the other group's result in its group.
//!
//! The processes of the root's group other than the root (`MPI_PROC_NULL`) take no part.

use crate::coll::Red;
use fmi::collective::shape::Blocks;
use fmi::{Communicator, Error, ErrorKind, Result, Source, TagSel};

/// Core tags of the messages between the groups (on the union that only collectives use).
const BCAST: u32 = 1;
const GATHER: u32 = 2;
const SCATTER: u32 = 3;
const REDUCE: u32 = 4;
const EXCHANGE: u32 = 5;

/// The root argument of a rooted collective on an inter-communicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `MPI_ROOT`: this process is the root.
    Me,
    /// `MPI_PROC_NULL`: another process of this group is the root.
    Idle,
    /// The root is this rank of the remote group.
    Remote(usize),
}

/// The cores of one call: the union (ordered first group, second group) and the local group.
pub struct Sides<'a> {
    pub union: &'a mut Communicator,
    pub local: &'a mut Communicator,
    /// Union rank of local rank 0 and of remote rank 0.
    pub local_off: usize,
    pub remote_off: usize,
    pub remote_size: usize,
}

fn mismatch(what: &str, got: usize, want: usize) -> Error {
    Error::new(
        ErrorKind::SizeMismatch,
        format!(
            "{what}: {got} bytes arrived where this process expects {want} (the two groups' \
             counts and datatypes do not match)"
        ),
    )
}

/// Receives exactly `buf.len()` bytes from union rank `src`.
fn recv_exact(
    u: &mut Communicator,
    buf: &mut [u8],
    src: usize,
    tag: u32,
    what: &str,
) -> Result<()> {
    let st = u.recv_tagged(buf, Source::Rank(src), TagSel::Tag(tag))?;
    if st.bytes != buf.len() {
        return Err(mismatch(what, st.bytes, buf.len()));
    }
    Ok(())
}

pub fn barrier(s: Sides) -> Result<()> {
    s.union.barrier()
}

pub fn bcast(s: Sides, buf: &mut [u8], root: Root) -> Result<()> {
    match root {
        Root::Me => s.union.send_tagged(buf, s.remote_off, BCAST),
        Root::Idle => Ok(()),
        Root::Remote(r) => {
            if s.local.rank() == 0 {
                recv_exact(s.union, buf, s.remote_off + r, BCAST, "bcast")?;
            }
            s.local.bcast(buf, 0)
        }
    }
}

/// `recv`: the root's buffer with one block per remote rank.
pub fn gather(s: Sides, send: &[u8], recv: Option<(&mut [u8], Blocks)>, root: Root) -> Result<()> {
    match root {
        Root::Me => {
            let (buf, blocks) = recv.ok_or_else(|| Error::invalid("gather: no receive buffer"))?;
            for i in 0..s.remote_size {
                recv_exact(
                    s.union,
                    &mut buf[blocks.range(i)],
                    s.remote_off + i,
                    GATHER,
                    "gather",
                )?;
            }
            Ok(())
        }
        Root::Idle => Ok(()),
        Root::Remote(r) => s.union.send_tagged(send, s.remote_off + r, GATHER),
    }
}

/// `send`: the root's data with one block per remote rank.
pub fn scatter(s: Sides, send: Option<(&[u8], Blocks)>, recv: &mut [u8], root: Root) -> Result<()> {
    match root {
        Root::Me => {
            let (buf, blocks) = send.ok_or_else(|| Error::invalid("scatter: no send buffer"))?;
            for i in 0..s.remote_size {
                s.union
                    .send_tagged(&buf[blocks.range(i)], s.remote_off + i, SCATTER)?;
            }
            Ok(())
        }
        Root::Idle => Ok(()),
        Root::Remote(r) => recv_exact(s.union, recv, s.remote_off + r, SCATTER, "scatter"),
    }
}

/// Block i of `send` to remote rank i, block i of `recv` from it. Blocks are per remote rank.
pub fn alltoallv(s: Sides, send: &[u8], sb: Blocks, recv: &mut [u8], rb: Blocks) -> Result<()> {
    let n = s.union.size();
    let (mut sc, mut sd, mut rc, mut rd) = (vec![0; n], vec![0; n], vec![0; n], vec![0; n]);
    for i in 0..s.remote_size {
        let u = s.remote_off + i;
        (sc[u], sd[u]) = (sb.counts[i], sb.displs[i]);
        (rc[u], rd[u]) = (rb.counts[i], rb.displs[i]);
    }
    s.union
        .alltoallv(send, Blocks::new(&sc, &sd), recv, Blocks::new(&rc, &rd))
}

/// `send` to every remote rank; block i of `recv` from remote rank i.
pub fn allgather(s: Sides, send: &[u8], recv: &mut [u8], rb: Blocks) -> Result<()> {
    let counts = vec![send.len(); s.remote_size];
    let displs = vec![0; s.remote_size];
    alltoallv(s, send, Blocks::new(&counts, &displs), recv, rb)
}

pub fn reduce(s: Sides, send: &[u8], recv: Option<&mut [u8]>, red: &Red, root: Root) -> Result<()> {
    match root {
        Root::Me => {
            let buf = recv.ok_or_else(|| Error::invalid("reduce: no receive buffer"))?;
            recv_exact(s.union, buf, s.remote_off, REDUCE, "reduce")
        }
        Root::Idle => Ok(()),
        Root::Remote(r) => {
            if s.local.rank() == 0 {
                let mut acc = vec![0u8; send.len()];
                s.local.reduce(send, Some(&mut acc), red.t, &red.op, 0)?;
                s.union.send_tagged(&acc, s.remote_off + r, REDUCE)
            } else {
                s.local.reduce(send, None, red.t, &red.op, 0)
            }
        }
    }
}

/// The local group's reduction of `send` to its rank 0, exchanged there for the remote group's
/// (of `want` bytes); returned at local rank 0 only.
fn exchange(s: &mut Sides, send: &[u8], want: usize, red: &Red) -> Result<Option<Vec<u8>>> {
    if s.local.rank() != 0 {
        s.local.reduce(send, None, red.t, &red.op, 0)?;
        return Ok(None);
    }
    let mut acc = vec![0u8; send.len()];
    s.local.reduce(send, Some(&mut acc), red.t, &red.op, 0)?;
    let mut theirs = vec![0u8; want];
    let st = s.union.sendrecv(
        &acc,
        s.remote_off,
        EXCHANGE,
        &mut theirs,
        Source::Rank(s.remote_off),
        TagSel::Tag(EXCHANGE),
    )?;
    if st.bytes != want {
        return Err(mismatch(
            "the reduction of the remote group",
            st.bytes,
            want,
        ));
    }
    Ok(Some(theirs))
}

pub fn allreduce(mut s: Sides, send: &[u8], recv: &mut [u8], red: &Red) -> Result<()> {
    if let Some(theirs) = exchange(&mut s, send, recv.len(), red)? {
        recv.copy_from_slice(&theirs);
    }
    s.local.bcast(recv, 0)
}

/// `counts`: bytes of each local rank's block of the remote group's reduction (whose size is
/// their sum).
pub fn reduce_scatter(
    mut s: Sides,
    send: &[u8],
    recv: &mut [u8],
    counts: &[usize],
    red: &Red,
) -> Result<()> {
    let total: usize = counts.iter().sum();
    let theirs = exchange(&mut s, send, total, red)?;
    let displs = fmi::collective::shape::packed(counts);
    match theirs {
        Some(t) => s
            .local
            .scatterv(Some((&t, Blocks::new(counts, &displs))), recv, 0),
        None => s.local.scatterv(None, recv, 0),
    }
}
