//! The direct channel: TCP connections between every pair of peers, set up through the rendezvous
//! server with hole punching, carrying length-framed messages: collective messages (checked by
//! the call's tag) and point-to-point messages (matched by envelope, [`matching`]).

mod ahead;
mod background;
mod conn;
mod engine;
pub(crate) mod frame;
pub mod matching;
pub mod mesh;
mod progress;
pub mod punch;
mod requests;
pub(crate) mod seal;
mod tagged;

use super::request::{Pending, RecvBuf, SendBuf};
use super::{MsgStatus, P2pTransport, Source, TagSel, TaggedSend, Xfer};
use crate::config::DirectConfig;
use crate::error::{Error, ErrorKind, Result};
use conn::{Conn, Core};
use frame::Header;
use matching::{Matcher, Pattern};
use progress::{DirectPending, Shared};
use requests::Requests;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Direct TCP transport of one communicator.
///
/// Its state sits behind one lock, shared with the progress thread that advances non-blocking
/// requests while the caller is away (started with the first request). A blocking call holds
/// the call lock throughout, and the state lock except while it waits in poll(2) (with the
/// connections it uses claimed); it advances the pending requests itself.
pub struct DirectTransport {
    rank: usize,
    size: usize,
    spin: Duration,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The rendezvous session, kept open while the transport lives (it holds this rank's claim
    /// at the server).
    session: Option<mesh::Session>,
}

impl DirectTransport {
    /// Connects to all peers (collective: every rank of the job must call it). Up to
    /// `unexpected` bytes of point-to-point messages that arrive before their receive are
    /// buffered.
    pub fn connect(
        rank: usize,
        size: usize,
        job: &str,
        cfg: &DirectConfig,
        spin: Duration,
        unexpected: usize,
        deadline: Instant,
    ) -> Result<Self> {
        let (streams, session) = mesh::establish(rank, size, job, cfg, deadline)?;
        let mut conns = Vec::with_capacity(size);
        for s in streams {
            conns.push(match s {
                None => None,
                Some((stream, link)) => {
                    stream
                        .tcp()
                        .set_nonblocking(true)
                        .and_then(|_| stream.tcp().set_nodelay(true))
                        .map_err(|e| Error::channel(format!("socket setup: {e}")))?;
                    Some(Conn::new(stream, link))
                }
            });
        }
        let core = Core {
            conns,
            matcher: Matcher::new(unexpected),
            reqs: Requests::new(size),
            driving: false,
        };
        Ok(DirectTransport {
            rank,
            size,
            spin,
            shared: Arc::new(Shared::new(core, spin)?),
            thread: None,
            session,
        })
    }

    /// Runs `f` on the connections, matcher and requests, under the lock.
    fn with_io<T>(&self, f: impl FnOnce(&mut tagged::Io<'_, '_>) -> T) -> T {
        let mut guard = self.shared.lock();
        f(&mut tagged::Io {
            g: &mut guard,
            rank: self.rank,
            spin: self.spin,
        })
    }

    /// Hands request `id` to the caller: advances it once and, while it is pending, has the
    /// progress thread (started now if needed) advance it (nobody is woken for a request that
    /// completed in that first step, e.g. a small send written whole at once).
    fn pending(&mut self, id: requests::ReqId) -> Result<Box<dyn Pending>> {
        let (idle, driving, done) = {
            let mut guard = self.shared.lock();
            let Core {
                conns,
                matcher,
                reqs,
                driving,
            } = &mut *guard;
            progress::requests(conns, matcher, reqs, &|_| false);
            (reqs.is_idle(), *driving, reqs.has_result(id))
        };
        if !idle {
            if self.thread.is_none() {
                self.thread = Some(progress::spawn(self.shared.clone())?);
            }
            if !done {
                self.shared.started(driving);
            }
        }
        Ok(Box::new(DirectPending {
            shared: self.shared.clone(),
            id,
        }))
    }

    /// Stops the progress thread, if it runs.
    fn stop_thread(&mut self) {
        if let Some(h) = self.thread.take() {
            progress::stop(&self.shared, h);
        }
    }
}

impl Drop for DirectTransport {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// The header label of a call's messages in context `ctx`: tag 0 is a plain send/recv, a
/// point-to-point message with tag 0; any other tag a collective call's.
fn label(ctx: u32, tag: u32) -> Header {
    if tag == 0 {
        Header::p2p(ctx, 0, 0)
    } else {
        Header::collective(ctx, tag, 0)
    }
}

impl P2pTransport for DirectTransport {
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
        let _call = self.shared.call(deadline)?;
        let mut guard = self.shared.lock();
        let core = &mut *guard;
        if tag == 0 && !core.matcher.is_idle() {
            // A plain receive while unexpected messages wait or are being read: the oldest of its
            // source with tag 0 may be among them (non-overtaking), so it goes through the
            // matcher.
            if let [Xfer::Recv { peer, buf }] = xfers {
                let pat = Pattern {
                    ctx,
                    src: Source::Rank(*peer),
                    tag: TagSel::Tag(0),
                };
                let want = buf.len();
                let mut io = tagged::Io {
                    g: &mut guard,
                    rank: self.rank,
                    spin: self.spin,
                };
                let st = tagged::recv(&mut io, pat, buf, None, deadline).map_err(|e| {
                    if e.kind() == ErrorKind::Truncated {
                        Error::new(ErrorKind::SizeMismatch, e.message())
                    } else {
                        e
                    }
                })?;
                if st.bytes != want {
                    return Err(Error::new(
                        ErrorKind::SizeMismatch,
                        format!(
                            "message from peer {peer} has {} bytes, receive buffer has {want} bytes",
                            st.bytes
                        ),
                    ));
                }
                return Ok(());
            }
        }
        engine::run(&mut guard, label(ctx, tag), xfers, deadline, self.spin)
    }
    fn send_tagged(
        &mut self,
        ctx: u32,
        data: &[u8],
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<()> {
        let _call = self.shared.call(deadline)?;
        engine::run(
            &mut self.shared.lock(),
            Header::p2p(ctx, tag, 0),
            &mut [Xfer::Send { peer: dest, data }],
            deadline,
            self.spin,
        )
    }
    fn recv_tagged(
        &mut self,
        ctx: u32,
        buf: &mut [u8],
        src: Source,
        tag: TagSel,
        send: Option<TaggedSend<'_>>,
        deadline: Instant,
    ) -> Result<MsgStatus> {
        let out = send.map(|s| tagged::Out {
            label: Header::p2p(ctx, s.tag, 0),
            data: s.data,
            dest: s.dest,
        });
        let pat = Pattern { ctx, src, tag };
        let _call = self.shared.call(deadline)?;
        self.with_io(|io| tagged::recv(io, pat, buf, out, deadline))
    }
    fn probe(
        &mut self,
        ctx: u32,
        src: Source,
        tag: TagSel,
        deadline: Option<Instant>,
    ) -> Result<Option<MsgStatus>> {
        // Without a deadline the probe only reads what arrived; another thread's blocking call
        // ends by its own deadline.
        let _call = match deadline {
            Some(d) => self.shared.call(d)?,
            None => self.shared.call_unbounded(),
        };
        self.with_io(|io| tagged::probe(io, Pattern { ctx, src, tag }, deadline))
    }
    fn isend(
        &mut self,
        ctx: u32,
        data: SendBuf,
        dest: usize,
        tag: u32,
    ) -> Result<Box<dyn Pending>> {
        let id = progress::post_send(&mut self.shared.lock(), self.rank, ctx, data, dest, tag)?;
        self.pending(id)
    }
    fn irecv(
        &mut self,
        ctx: u32,
        buf: RecvBuf,
        src: Source,
        tag: TagSel,
    ) -> Result<Box<dyn Pending>> {
        let id = progress::post_recv(&mut self.shared.lock(), self.rank, ctx, buf, src, tag)?;
        self.pending(id)
    }
    fn background(&self) -> Option<Box<dyn P2pTransport>> {
        Some(Box::new(background::Background::new(
            self.shared.clone(),
            self.rank,
            self.size,
        )))
    }
    fn link(&self, peer: usize) -> Option<super::Link> {
        self.shared.lock().conns.get(peer)?.as_ref().map(|c| c.link)
    }
    /// A lost relayed connection may have been cut by a limit of the relay: the server says so.
    fn explain(&self, e: Error) -> Error {
        if e.kind() != ErrorKind::PeerLost {
            return e;
        }
        let Some(session) = &self.session else {
            return e;
        };
        // The relayed connections, broken ones first; at most four are asked about.
        let mut relayed: Vec<(bool, usize)> = self
            .shared
            .lock()
            .conns
            .iter()
            .enumerate()
            .filter_map(|(p, c)| match c {
                Some(c) if c.link == mesh::Link::Relayed => Some((c.broken.is_none(), p)),
                _ => None,
            })
            .collect();
        relayed.sort();
        let peers: Vec<usize> = relayed.into_iter().take(4).map(|(_, p)| p).collect();
        if peers.is_empty() {
            return e;
        }
        match session.circuit_limit(&peers, Duration::from_secs(2)) {
            Some(why) => Error::new(why.kind(), format!("{}; {}", e.message(), why.message())),
            None => e,
        }
    }
    fn close(&mut self) {
        self.stop_thread();
        self.session = None;
        let mut core = self.shared.lock();
        progress::fail_all(&mut core);
        for c in core.conns.iter_mut() {
            if let Some(c) = c.take() {
                let _ = c.stream.tcp().shutdown(std::net::Shutdown::Both);
            }
        }
    }
}
