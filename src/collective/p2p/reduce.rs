//! Reduce: binomial tree for commutative+associative operators (or the tree pipelined in
//! pieces), gather + strict left fold otherwise.

use super::{gather, Ctx};
use crate::channel::Xfer;
use crate::collective::buffer::AlignedBuf;
use crate::collective::fold_blocks;
use crate::collective::shape::{children, parent, pieces};
use crate::datatype::Datatype;
use crate::error::Result;
use crate::op::ReduceOp;

/// Binomial-tree reduce (operator must be commutative and associative). `recv` only at the root.
pub fn binomial(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<&mut [u8]>,
    t_: Datatype,
    op: &ReduceOp,
    root: usize,
) -> Result<()> {
    let n = ctx.size;
    let t = ctx.rel(root);
    let mut owned;
    let acc: &mut [u8] = match recv {
        Some(r) if t == 0 => r,
        _ => {
            owned = AlignedBuf::new(send.len());
            &mut owned
        }
    };
    acc.copy_from_slice(send);
    let kids: Vec<usize> = children(t, n).map(|(_, c)| ctx.abs(c, root)).collect();
    let mut bufs: Vec<AlignedBuf> = kids.iter().map(|_| AlignedBuf::new(send.len())).collect();
    {
        let mut recvs: Vec<Xfer> = kids
            .iter()
            .zip(bufs.iter_mut())
            .map(|(&peer, b)| Xfer::Recv { peer, buf: b })
            .collect();
        ctx.exchange(&mut recvs)?;
    }
    for b in &bufs {
        op.apply(acc, b, t_);
    }
    if t != 0 {
        let to = ctx.abs(parent(t), root);
        ctx.send(to, acc)?;
    }
    Ok(())
}

/// The binomial tree of [`binomial`], pipelined: the buffer travels in pieces, and in round i a
/// rank receives piece i from each child while it sends its reduced piece i-1 to its parent, so
/// every level of the tree works at once instead of waiting for whole buffers. Each element is
/// combined as in [`binomial`] (own value, then the children nearest first), so the bits are
/// the same. Splitting the buffer is fine for the commutative and associative operators that
/// come here, which are element-wise (whole-vector operators are ordered and go to [`ordered`]).
/// Scratch: one piece per child and two reduced pieces (the root reduces straight into `recv`;
/// a leaf sends straight from `send`).
pub fn binomial_pipelined(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<&mut [u8]>,
    t_: Datatype,
    op: &ReduceOp,
    root: usize,
) -> Result<()> {
    let n = ctx.size;
    let t = ctx.rel(root);
    let kids: Vec<usize> = children(t, n).map(|(_, c)| ctx.abs(c, root)).collect();
    let up = (t != 0).then(|| ctx.abs(parent(t), root));
    let parts: Vec<_> = pieces(send.len(), t_.size()).collect();
    match (up, kids.is_empty()) {
        // A leaf: every piece to the parent, in order.
        (Some(up), true) => ctx.exchange(
            &mut parts
                .iter()
                .map(|r| Xfer::Send {
                    peer: up,
                    data: &send[r.clone()],
                })
                .collect::<Vec<_>>(),
        ),
        // A single rank.
        (None, true) => {
            let out = recv.expect("the root has the receive buffer");
            out.copy_from_slice(send);
            Ok(())
        }
        (Some(_), false) => reduce_rounds(ctx, send, &kids, up, None, &parts, t_, op),
        (None, false) => {
            let out = recv.expect("the root has the receive buffer");
            reduce_rounds(ctx, send, &kids, None, Some(out), &parts, t_, op)
        }
    }
}

/// The rounds of [`binomial_pipelined`] for a rank with children: round i receives piece i from
/// every child and sends piece i-1 up (to `up`, or keeps it in `out` at the root).
#[allow(clippy::too_many_arguments)]
fn reduce_rounds(
    ctx: &mut Ctx,
    send: &[u8],
    kids: &[usize],
    up: Option<usize>,
    mut out: Option<&mut [u8]>,
    parts: &[std::ops::Range<usize>],
    t_: Datatype,
    op: &ReduceOp,
) -> Result<()> {
    let piece = parts[0].len();
    let mut from_kids: Vec<AlignedBuf> = kids.iter().map(|_| AlignedBuf::new(piece)).collect();
    // Reduced pieces of a rank that sends them up: piece i is reduced while piece i-1 is sent.
    let mut reduced: Vec<AlignedBuf> = match up {
        Some(_) => vec![AlignedBuf::new(piece), AlignedBuf::new(piece)],
        None => Vec::new(),
    };
    for i in 0..=parts.len() {
        {
            let mut x: Vec<Xfer> = Vec::with_capacity(kids.len() + 1);
            if let Some(r) = parts.get(i) {
                for (&peer, b) in kids.iter().zip(from_kids.iter_mut()) {
                    x.push(Xfer::Recv {
                        peer,
                        buf: &mut b[..r.len()],
                    });
                }
            }
            if let (Some(peer), Some(prev)) = (up, i.checked_sub(1).map(|j| &parts[j])) {
                x.push(Xfer::Send {
                    peer,
                    data: &reduced[(i - 1) % 2][..prev.len()],
                });
            }
            ctx.exchange(&mut x)?;
        }
        let Some(r) = parts.get(i) else { break };
        let acc: &mut [u8] = match out.as_deref_mut() {
            Some(o) => &mut o[r.clone()],
            None => &mut reduced[i % 2][..r.len()],
        };
        op.apply_into(acc, &send[r.clone()], &from_kids[0][..r.len()], t_);
        for b in &from_kids[1..] {
            op.apply(acc, &b[..r.len()], t_);
        }
    }
    Ok(())
}

/// Reduce with the strict left-to-right fold v0 (+) v1 (+) ... in rank order: gather (binomial,
/// or flat when `flat_gather`), then fold at the root.
pub fn ordered(
    ctx: &mut Ctx,
    send: &[u8],
    recv: Option<&mut [u8]>,
    t_: Datatype,
    op: &ReduceOp,
    root: usize,
    flat_gather: bool,
) -> Result<()> {
    let s = send.len();
    let all = gather::to_root_buffer(ctx, send, root, flat_gather)?;
    if let (Some(all), Some(out)) = (all, recv) {
        fold_blocks(&all, s, out, t_, op);
    }
    Ok(())
}
