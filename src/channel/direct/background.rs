//! A second handle on a direct transport's connections, for collectives that run on another
//! thread (non-blocking collectives): each exchange posts its transfers as non-blocking
//! point-to-point messages in a context of their own and waits for them, holding the transport's
//! lock only while it moves bytes. So a collective in the background neither blocks the
//! caller's calls on the transport nor is blocked by them, and both see the same messages in
//! order.

use super::progress::{self, DirectPending, Shared};
use crate::channel::request::{Pending, RecvBuf, SendBuf};
use crate::channel::{P2pTransport, Source, TagSel, Xfer};
use crate::error::{Error, ErrorKind, Result};
use std::sync::Arc;
use std::time::Instant;

/// The context ids of background collectives: the communicator's id with the top bit set (user
/// contexts stay below it).
const BACKGROUND: u32 = 1 << 31;

pub(super) struct Background {
    shared: Arc<Shared>,
    rank: usize,
    size: usize,
}

impl Background {
    pub fn new(shared: Arc<Shared>, rank: usize, size: usize) -> Background {
        Background { shared, rank, size }
    }

    /// Posts every transfer; on an error, withdraws those already posted (their buffers are the
    /// caller's) and fails.
    fn post(&self, ctx: u32, tag: u32, xfers: &mut [Xfer<'_>]) -> Result<Vec<DirectPending>> {
        let mut core = self.shared.lock();
        let mut posted = Vec::with_capacity(xfers.len());
        for x in xfers.iter_mut() {
            let r = match x {
                Xfer::Send { peer, data } => {
                    // SAFETY: `data` outlives this exchange, which waits for (or cancels) the send.
                    let b = unsafe { SendBuf::new(data.as_ptr(), data.len()) };
                    progress::post_send(&mut core, self.rank, ctx, b, *peer, tag)
                }
                Xfer::Recv { peer, buf } => {
                    // SAFETY: as above; `buf` is not touched otherwise until then.
                    let b = unsafe { RecvBuf::new(buf.as_mut_ptr(), buf.len()) };
                    let (src, t) = (Source::Rank(*peer), TagSel::Tag(tag));
                    progress::post_recv(&mut core, self.rank, ctx, b, src, t)
                }
            };
            match r {
                Ok(id) => posted.push(DirectPending {
                    shared: self.shared.clone(),
                    id,
                }),
                Err(e) => {
                    drop(core);
                    for mut p in posted {
                        p.cancel();
                    }
                    return Err(e);
                }
            }
        }
        // A thread waiting in poll(2) for other requests (another communicator's worker, the
        // caller's wait) watches these sockets too from now on.
        core.kick_driver();
        Ok(posted)
    }
}

impl P2pTransport for Background {
    fn name(&self) -> &'static str {
        "direct"
    }
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn exchange_ctx(
        &mut self,
        ctx: u32,
        tag: u32,
        xfers: &mut [Xfer<'_>],
        deadline: Instant,
    ) -> Result<()> {
        let mut pending = self.post(BACKGROUND | ctx, tag, xfers)?;
        let mut first: Option<Error> = None;
        for (i, p) in pending.iter_mut().enumerate() {
            if first.is_some() {
                // Failed already: the rest are given up (their buffers are the caller's).
                p.cancel();
                continue;
            }
            let r = match p.wait(deadline) {
                Some(r) => r,
                None => {
                    p.cancel();
                    Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "timed out waiting for the transfer with peer {}",
                            xfers[i].peer()
                        ),
                    ))
                }
            };
            let r = r.and_then(|st| match &xfers[i] {
                Xfer::Recv { buf, peer } if st.bytes != buf.len() => Err(Error::new(
                    ErrorKind::SizeMismatch,
                    format!(
                        "message from peer {peer} has {} bytes, receive buffer has {} bytes",
                        st.bytes,
                        buf.len()
                    ),
                )),
                _ => Ok(()),
            });
            if let Err(e) = r {
                first = Some(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
    fn link(&self, peer: usize) -> Option<crate::channel::Link> {
        self.shared.lock().conns.get(peer)?.as_ref().map(|c| c.link)
    }
    fn close(&mut self) {
        // The connections belong to the transport this handle came from.
    }
}
