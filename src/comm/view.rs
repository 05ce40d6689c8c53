//! A communicator's view of connected transports that it shares with its parent and its
//! sub-communicators: one set of connections per init, used by every communicator derived from
//! it, each with its own matching context.
//!
//! - [`P2pView`]: a [`P2pTransport`] over the shared peer-to-peer transport that speaks in the
//!   communicator's ranks (translated to and from the transport's ranks) and tags every message
//!   with the communicator's context id, so that traffic of one communicator never matches a
//!   receive of another.
//! - [`StoreView`]: a [`StoreTransport`] over the shared store connection (a store communicator
//!   needs no translation: its algorithms use its own ranks in its own key namespace).
//!
//! A transport is closed when the last view of it is dropped or closed, so closing a
//! communicator never closes connections that another communicator still uses.
//!
//! The views of one transport take turns: each call holds the transport until it returns. Calls
//! on a communicator and on one of its relatives from two threads at once therefore run one after
//! the other; a call that cannot get the transport before its deadline fails with a `Timeout`
//! that says so.

use crate::channel::request::{Pending, RecvBuf, SendBuf};
use crate::channel::store::{Put, StoreTransport, Take};
use crate::channel::{Link, MsgStatus, P2pTransport, Source, TagSel, TaggedSend, Xfer};
use crate::error::{Error, ErrorKind, Result};
use parking_lot::{Mutex, MutexGuard};
use std::sync::Arc;
use std::time::Instant;

/// A connected transport; closed when the last communicator using it lets it go.
struct Owned<T: ?Sized + Closable>(Box<T>);

trait Closable {
    fn close_now(&mut self);
}
impl Closable for dyn P2pTransport {
    fn close_now(&mut self) {
        self.close()
    }
}
impl Closable for dyn StoreTransport {
    fn close_now(&mut self) {
        self.close()
    }
}

impl<T: ?Sized + Closable> Drop for Owned<T> {
    fn drop(&mut self) {
        self.0.close_now();
    }
}

type Shared<T> = Arc<Mutex<Owned<T>>>;

fn closed(name: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArg,
        format!("the {name} channel of this communicator is closed (finalized or freed)"),
    )
}

/// Locks `shared` by `deadline` (None: waits for it).
fn lock<'a, T: ?Sized + Closable>(
    shared: &'a Option<Shared<T>>,
    name: &str,
    deadline: Option<Instant>,
) -> Result<MutexGuard<'a, Owned<T>>> {
    let s = shared.as_ref().ok_or_else(|| closed(name))?;
    match deadline {
        None => Ok(s.lock()),
        Some(d) => s.try_lock_until(d).ok_or_else(|| {
            Error::new(
                ErrorKind::Timeout,
                format!(
                    "the {name} channel was busy until the deadline with a call of another \
                     communicator of this process on another thread (a communicator and the \
                     communicators derived from it share their connections and take turns)"
                ),
            )
        }),
    }
}

/// The ranks of a sub-communicator in the transport's ranks, and back.
#[derive(Debug)]
pub(crate) struct RankMap {
    /// Transport rank of each communicator rank.
    to_base: Vec<usize>,
    /// Communicator rank of each transport rank (`usize::MAX`: not a member).
    from_base: Vec<usize>,
}

impl RankMap {
    /// The map of the members `to_base` (transport ranks, distinct, each below `base_size`).
    pub fn new(to_base: Vec<usize>, base_size: usize) -> RankMap {
        let mut from_base = vec![usize::MAX; base_size];
        for (i, &b) in to_base.iter().enumerate() {
            from_base[b] = i;
        }
        RankMap { to_base, from_base }
    }
    /// The number of members.
    pub fn len(&self) -> usize {
        self.to_base.len()
    }

    fn base(&self, r: usize) -> Result<usize> {
        self.to_base.get(r).copied().ok_or_else(|| {
            Error::invalid(format!(
                "rank {r} out of range for {} peers",
                self.to_base.len()
            ))
        })
    }
    fn sub(&self, b: usize) -> Result<usize> {
        match self.from_base.get(b) {
            Some(&r) if r != usize::MAX => Ok(r),
            _ => Err(Error::new(
                ErrorKind::Internal,
                format!("a message of this communicator's context came from transport rank {b}, which is not a member"),
            )),
        }
    }
}

/// A communicator's view of a shared peer-to-peer transport: its ranks and its context id.
pub(crate) struct P2pView {
    shared: Option<Shared<dyn P2pTransport>>,
    name: &'static str,
    /// None: the communicator's ranks are the transport's.
    map: Option<Arc<RankMap>>,
    ctx: u32,
    rank: usize,
    size: usize,
}

impl P2pView {
    /// The view of the communicator made by init: the transport's ranks, context 0. The view
    /// owns the transport (shared with the views derived from it).
    pub fn root(t: Box<dyn P2pTransport>) -> P2pView {
        let (name, rank, size) = (t.name(), t.rank(), t.size());
        P2pView {
            shared: Some(Arc::new(Mutex::new(Owned(t)))),
            name,
            map: None,
            ctx: 0,
            rank,
            size,
        }
    }

    /// A view of the same transport for the communicator of context `ctx` whose rank i is
    /// transport rank `map[i]`, where this process is rank `rank`. Fails when this view is closed.
    pub fn derive(&self, ctx: u32, map: Arc<RankMap>, rank: usize) -> Result<P2pView> {
        let shared = self.shared.clone().ok_or_else(|| closed(self.name))?;
        Ok(P2pView {
            shared: Some(shared),
            name: self.name,
            size: map.to_base.len(),
            map: Some(map),
            ctx,
            rank,
        })
    }

    fn to_base(&self, r: usize) -> Result<usize> {
        match &self.map {
            None => Ok(r),
            Some(m) => m.base(r),
        }
    }

    fn status(&self, mut st: MsgStatus) -> Result<MsgStatus> {
        if let Some(m) = &self.map {
            st.source = m.sub(st.source)?;
        }
        Ok(st)
    }

    fn source(&self, src: Source) -> Result<Source> {
        Ok(match src {
            Source::Any => Source::Any,
            Source::Rank(r) => Source::Rank(self.to_base(r)?),
        })
    }
}

impl P2pView {
    /// A request whose status names ranks of this communicator.
    fn mapped(&self, p: Box<dyn Pending>) -> Box<dyn Pending> {
        match &self.map {
            None => p,
            Some(m) => Box::new(Mapped {
                inner: p,
                map: m.clone(),
            }),
        }
    }
}

/// A request of a sub-communicator: its status's rank translated back.
struct Mapped {
    inner: Box<dyn Pending>,
    map: Arc<RankMap>,
}

impl Mapped {
    fn back(&self, r: Option<Result<MsgStatus>>) -> Option<Result<MsgStatus>> {
        r.map(|r| {
            r.and_then(|mut st| {
                st.source = self.map.sub(st.source)?;
                Ok(st)
            })
        })
    }
}

impl Pending for Mapped {
    fn test(&mut self) -> Option<Result<MsgStatus>> {
        let r = self.inner.test();
        self.back(r)
    }
    fn wait(&mut self, until: Instant) -> Option<Result<MsgStatus>> {
        let r = self.inner.wait(until);
        self.back(r)
    }
    fn wait_running(&mut self, until: Instant) -> Option<Result<MsgStatus>> {
        let r = self.inner.wait_running(until);
        self.back(r)
    }
    fn cancel(&mut self) -> Option<Result<MsgStatus>> {
        let r = self.inner.cancel();
        self.back(r)
    }
    fn withdraw(&mut self) -> bool {
        self.inner.withdraw()
    }
    fn detach(self: Box<Self>) {
        self.inner.detach()
    }
}

// Every call of a view runs in the view's context: the `ctx` its caller passes (0, as for any
// transport) is replaced by the communicator's.
impl P2pTransport for P2pView {
    fn name(&self) -> &'static str {
        self.name
    }
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn exchange_ctx(
        &mut self,
        _ctx: u32,
        tag: u32,
        xfers: &mut [Xfer<'_>],
        deadline: Instant,
    ) -> Result<()> {
        let mut t = lock(&self.shared, self.name, Some(deadline))?;
        let r = match &self.map {
            None => t.0.exchange_ctx(self.ctx, tag, xfers, deadline),
            Some(map) => {
                let mut base = translate(map, xfers)?;
                t.0.exchange_ctx(self.ctx, tag, &mut base, deadline)
            }
        };
        r.map_err(|e| t.0.explain(e))
    }
    fn send_tagged(
        &mut self,
        _ctx: u32,
        data: &[u8],
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<()> {
        let dest = self.to_base(dest)?;
        let mut t = lock(&self.shared, self.name, Some(deadline))?;
        t.0.send_tagged(self.ctx, data, dest, tag, deadline)
            .map_err(|e| t.0.explain(e))
    }
    fn recv_tagged(
        &mut self,
        _ctx: u32,
        buf: &mut [u8],
        src: Source,
        tag: TagSel,
        send: Option<TaggedSend<'_>>,
        deadline: Instant,
    ) -> Result<MsgStatus> {
        let src = self.source(src)?;
        let send = match send {
            None => None,
            Some(s) => Some(TaggedSend {
                dest: self.to_base(s.dest)?,
                ..s
            }),
        };
        let st = {
            let mut t = lock(&self.shared, self.name, Some(deadline))?;
            t.0.recv_tagged(self.ctx, buf, src, tag, send, deadline)
                .map_err(|e| t.0.explain(e))?
        };
        self.status(st)
    }
    fn probe(
        &mut self,
        _ctx: u32,
        src: Source,
        tag: TagSel,
        deadline: Option<Instant>,
    ) -> Result<Option<MsgStatus>> {
        let src = self.source(src)?;
        let st = {
            let mut t = lock(&self.shared, self.name, deadline)?;
            t.0.probe(self.ctx, src, tag, deadline)?
        };
        st.map(|s| self.status(s)).transpose()
    }
    fn background(&self) -> Option<Box<dyn P2pTransport>> {
        // The background handle gets a lock of its own: its collectives run beside the calls
        // of this view, not after them.
        let bg = self.shared.as_ref()?.lock().0.background()?;
        Some(Box::new(P2pView {
            shared: Some(Arc::new(Mutex::new(Owned(bg)))),
            name: self.name,
            map: self.map.clone(),
            ctx: self.ctx,
            rank: self.rank,
            size: self.size,
        }))
    }
    fn isend(
        &mut self,
        _ctx: u32,
        data: SendBuf,
        dest: usize,
        tag: u32,
    ) -> Result<Box<dyn Pending>> {
        let dest = self.to_base(dest)?;
        let p = lock(&self.shared, self.name, None)?
            .0
            .isend(self.ctx, data, dest, tag)?;
        Ok(self.mapped(p))
    }
    fn irecv(
        &mut self,
        _ctx: u32,
        buf: RecvBuf,
        src: Source,
        tag: TagSel,
    ) -> Result<Box<dyn Pending>> {
        let src = self.source(src)?;
        let p = lock(&self.shared, self.name, None)?
            .0
            .irecv(self.ctx, buf, src, tag)?;
        Ok(self.mapped(p))
    }
    fn link(&self, peer: usize) -> Option<Link> {
        let b = self.to_base(peer).ok()?;
        self.shared.as_ref()?.lock().0.link(b)
    }
    /// Lets go of the transport: it closes when no other communicator uses it.
    fn close(&mut self) {
        self.shared = None;
    }
}

/// `xfers` with the transport's ranks.
fn translate<'a>(map: &RankMap, xfers: &'a mut [Xfer<'_>]) -> Result<Vec<Xfer<'a>>> {
    let mut base = Vec::with_capacity(xfers.len());
    for x in xfers.iter_mut() {
        base.push(match x {
            Xfer::Send { peer, data } => Xfer::Send {
                peer: map.base(*peer)?,
                data,
            },
            Xfer::Recv { peer, buf } => Xfer::Recv {
                peer: map.base(*peer)?,
                buf,
            },
        });
    }
    Ok(base)
}

/// A communicator's view of a shared store connection.
pub(crate) struct StoreView {
    shared: Option<Shared<dyn StoreTransport>>,
    name: &'static str,
}

impl StoreView {
    /// The view of the communicator made by init, owning the connection (shared with the views
    /// derived from it).
    pub fn root(t: Box<dyn StoreTransport>) -> StoreView {
        let name = t.name();
        StoreView {
            shared: Some(Arc::new(Mutex::new(Owned(t)))),
            name,
        }
    }

    /// Another view of the same connection. Fails when this view is closed.
    pub fn derive(&self) -> Result<StoreView> {
        Ok(StoreView {
            shared: Some(self.shared.clone().ok_or_else(|| closed(self.name))?),
            name: self.name,
        })
    }

    fn lock(&self, deadline: Option<Instant>) -> Result<MutexGuard<'_, Owned<dyn StoreTransport>>> {
        lock(&self.shared, self.name, deadline)
    }
}

impl StoreTransport for StoreView {
    fn name(&self) -> &'static str {
        self.name
    }
    fn push(&mut self, tag: u32, puts: &[Put<'_>], deadline: Instant) -> Result<()> {
        self.lock(Some(deadline))?.0.push(tag, puts, deadline)
    }
    fn pop(&mut self, tag: u32, takes: &mut [Take<'_>], deadline: Instant) -> Result<()> {
        self.lock(Some(deadline))?.0.pop(tag, takes, deadline)
    }
    fn pop_any(
        &mut self,
        keys: &[&str],
        max_len: usize,
        deadline: Instant,
    ) -> Result<(usize, u32, Vec<u8>)> {
        self.lock(Some(deadline))?
            .0
            .pop_any(keys, max_len, deadline)
    }
    fn pop_next(
        &mut self,
        key: &str,
        max_len: usize,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<(u32, Vec<u8>)>> {
        self.lock(Some(deadline))?
            .0
            .pop_next(key, max_len, wait, deadline)
    }
    fn claim(&mut self, key: &str, owner: u64, deadline: Instant) -> Result<Option<String>> {
        self.lock(Some(deadline))?.0.claim(key, owner, deadline)
    }
    fn incr(&mut self, key: &str, by: u64, deadline: Instant) -> Result<u64> {
        self.lock(Some(deadline))?.0.incr(key, by, deadline)
    }
    fn delete(&mut self, keys: &[String], deadline: Instant) -> Result<()> {
        self.lock(Some(deadline))?.0.delete(keys, deadline)
    }
    fn discard(&mut self, keys: Vec<String>) {
        if let Ok(mut t) = self.lock(None) {
            t.0.discard(keys);
        }
    }
    fn delete_prefix(&mut self, prefix: &str, deadline: Instant) -> Result<usize> {
        self.lock(Some(deadline))?.0.delete_prefix(prefix, deadline)
    }
    fn call_done(&mut self, call_prefix: &str) {
        if let Ok(mut t) = self.lock(None) {
            t.0.call_done(call_prefix);
        }
    }
    /// Lets go of the connection: it closes when no other communicator uses it.
    fn close(&mut self) {
        self.shared = None;
    }
}
