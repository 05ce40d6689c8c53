//! The connected channels of a communicator, held generically by family, and the choice of the
//! channel for each operation (pin, else the only one, else the model's policy).

use super::view::{P2pView, RankMap, StoreView};
use super::Hint;
use crate::channel::request::{Pending, RecvBuf, SendBuf};
use crate::channel::store::inbox::Inbox;
use crate::channel::store::keys::Namespace;
use crate::channel::store::mailbox::{Completed, Mailbox};
use crate::channel::store::{join, StoreTransport};
use crate::channel::{
    self, ChannelKind, Member, MsgStatus, P2pTransport, Source, TagSel, TaggedSend, Transport,
    KINDS,
};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{self, Call, Model};
use std::sync::Arc;
use std::time::Instant;

/// A store channel: its transport, the key namespace of this communicator, the state of its
/// tagged messages, and whether an operation on it failed (then finalize deletes whatever the
/// failure left behind).
pub(super) struct StoreChannel {
    pub t: StoreView,
    pub ns: Namespace,
    /// Tagged messages: the inbox and the non-blocking receives.
    pub mail: Mailbox,
    pub dirty: bool,
}

impl StoreChannel {
    /// The channel of store view `t` in namespace `ns`, with `inbox` for its tagged messages.
    fn new(t: StoreView, ns: Namespace, inbox: Inbox) -> Result<StoreChannel> {
        let bg = Box::new(t.derive()?);
        Ok(StoreChannel {
            mail: Mailbox::new(inbox, ns.clone(), bg),
            t,
            ns,
            dirty: false,
        })
    }
}

/// The tagged point-to-point calls, as a channel of either family carries them (the
/// [`P2pTransport`] methods of the same names; on a store channel, its [`Inbox`]).
pub(super) trait Tagged {
    /// Channel name for messages.
    fn name(&self) -> &'static str;
    fn send_tagged(
        &mut self,
        ctx: u32,
        data: &[u8],
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<()>;
    fn recv_tagged(
        &mut self,
        ctx: u32,
        buf: &mut [u8],
        src: Source,
        tag: TagSel,
        send: Option<TaggedSend<'_>>,
        deadline: Instant,
    ) -> Result<MsgStatus>;
    /// With `wait`, waits for a match until `deadline`; without, only looks (by `deadline`).
    fn probe(
        &mut self,
        ctx: u32,
        src: Source,
        tag: TagSel,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<MsgStatus>>;
    /// Starts a send and returns at once ([`P2pTransport::isend`]); a store channel hands the
    /// message to the store first (by `deadline`).
    fn isend(
        &mut self,
        ctx: u32,
        data: SendBuf,
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<Box<dyn Pending>>;
    /// Posts a receive and returns at once ([`P2pTransport::irecv`]); on a store channel each
    /// store request made for it ends within the time left until `deadline`.
    fn irecv(
        &mut self,
        ctx: u32,
        buf: RecvBuf,
        src: Source,
        tag: TagSel,
        deadline: Instant,
    ) -> Result<Box<dyn Pending>>;
}

impl Tagged for P2pView {
    fn name(&self) -> &'static str {
        P2pTransport::name(self)
    }
    fn send_tagged(
        &mut self,
        ctx: u32,
        data: &[u8],
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<()> {
        P2pTransport::send_tagged(self, ctx, data, dest, tag, deadline)
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
        P2pTransport::recv_tagged(self, ctx, buf, src, tag, send, deadline)
    }
    fn probe(
        &mut self,
        ctx: u32,
        src: Source,
        tag: TagSel,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<MsgStatus>> {
        P2pTransport::probe(self, ctx, src, tag, wait.then_some(deadline))
    }
    fn isend(
        &mut self,
        ctx: u32,
        data: SendBuf,
        dest: usize,
        tag: u32,
        _deadline: Instant,
    ) -> Result<Box<dyn Pending>> {
        P2pTransport::isend(self, ctx, data, dest, tag)
    }
    fn irecv(
        &mut self,
        ctx: u32,
        buf: RecvBuf,
        src: Source,
        tag: TagSel,
        _deadline: Instant,
    ) -> Result<Box<dyn Pending>> {
        P2pTransport::irecv(self, ctx, buf, src, tag)
    }
}

/// On a store, a send never waits for its receiver, so a send-receive sends, then receives.
/// A failed call marks the channel dirty (finalize then deletes what it may have left).
impl Tagged for StoreChannel {
    fn name(&self) -> &'static str {
        self.t.name()
    }
    fn send_tagged(
        &mut self,
        ctx: u32,
        data: &[u8],
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<()> {
        let t = &mut self.t;
        let r = self
            .mail
            .with_inbox(false, |inbox, ns| {
                inbox.send(t, ns, ctx, data, dest, tag, deadline)
            })
            .expect("a send is never held back");
        self.dirty |= r.is_err();
        r
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
        if let Some(s) = send {
            self.send_tagged(ctx, s.data, s.dest, s.tag, deadline)?;
        }
        let t = &mut self.t;
        let r = match self.mail.with_inbox(true, |inbox, ns| {
            inbox.recv(t, ns, ctx, buf, src, tag, deadline)
        }) {
            Some(r) => r,
            None => {
                // Non-blocking receives are pending: this one goes behind them.
                // SAFETY: `buf` outlives the request, which is waited for or cancelled below.
                let b = unsafe { RecvBuf::new(buf.as_mut_ptr(), buf.len()) };
                let timeout = deadline.saturating_duration_since(Instant::now());
                let mut p = self.mail.irecv(ctx, b, src, tag, timeout)?;
                match p.wait(deadline) {
                    Some(r) => r,
                    None => p.cancel().unwrap_or_else(|| {
                        Err(Error::new(
                            ErrorKind::Timeout,
                            "timed out waiting for a matching message",
                        ))
                    }),
                }
            }
        };
        self.dirty |= r.as_ref().is_err_and(|e| e.kind() != ErrorKind::Truncated);
        r
    }
    fn probe(
        &mut self,
        ctx: u32,
        src: Source,
        tag: TagSel,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<MsgStatus>> {
        let t = &mut self.t;
        let r = self
            .mail
            .with_inbox(false, |inbox, ns| {
                inbox.probe(t, ns, ctx, src, tag, wait, deadline)
            })
            .expect("a probe is never held back");
        self.dirty |= r.is_err();
        r
    }
    /// A store accepts a send at once: the send is complete when the store has it.
    fn isend(
        &mut self,
        ctx: u32,
        data: SendBuf,
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<Box<dyn Pending>> {
        self.send_tagged(ctx, data.bytes(), dest, tag, deadline)?;
        let st = MsgStatus {
            source: dest,
            tag,
            bytes: data.len(),
        };
        Ok(Box::new(Completed(Some(Ok(st)))))
    }
    fn irecv(
        &mut self,
        ctx: u32,
        buf: RecvBuf,
        src: Source,
        tag: TagSel,
        deadline: Instant,
    ) -> Result<Box<dyn Pending>> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        self.mail.irecv(ctx, buf, src, tag, timeout)
    }
}

/// One connected channel, as this communicator sees it (the connection itself is shared with
/// the communicators derived from the same init: [`super::view`]).
pub(super) enum Held {
    P2p(P2pView),
    Store(StoreChannel),
}

/// The connected channels and the choice between them.
pub(super) struct Channels {
    /// The connected channels, in [`KINDS`] order.
    held: Vec<(ChannelKind, Held)>,
    pub pinned: Option<ChannelKind>,
    /// The channel-selection model (equal on every peer: checked at init).
    pub model: Model,
}

impl Channels {
    /// Connects every channel that `cfg` enables, in [`KINDS`] order; a store channel also joins
    /// the run of `me.job` (agreeing on its key namespace). On an error, what was connected is
    /// closed.
    pub fn connect(cfg: &Config, me: Member<'_>, model: Model, deadline: Instant) -> Result<Self> {
        let mut c = Channels {
            held: Vec::new(),
            pinned: None,
            model,
        };
        for kind in KINDS.into_iter().filter(|&k| cfg.enabled(k)) {
            let held = channel::connect(kind, cfg, me, deadline).and_then(|t| match t {
                Transport::P2p(t) => Ok(Held::P2p(P2pView::root(t))),
                Transport::Store(mut t) => {
                    let ns = match join::agree(t.as_mut(), me.job, me.rank, me.size, deadline) {
                        Ok(ns) => ns,
                        Err(e) => {
                            // Releases this rank's claim, if it was made.
                            t.close();
                            return Err(e);
                        }
                    };
                    let inbox = Inbox::new(me.rank, me.size, me.unexpected);
                    StoreChannel::new(StoreView::root(t), ns, inbox).map(Held::Store)
                }
            });
            match held {
                Ok(h) => c.held.push((kind, h)),
                Err(e) => {
                    c.close();
                    return Err(e);
                }
            }
        }
        Ok(c)
    }

    pub fn has(&self, k: ChannelKind) -> bool {
        self.held.iter().any(|(x, _)| *x == k)
    }

    /// The connected channel `k` (None when not connected).
    pub fn get(&mut self, k: ChannelKind) -> Option<&mut Held> {
        self.held.iter_mut().find(|(x, _)| *x == k).map(|(_, h)| h)
    }

    /// The peer-to-peer transport `k`, if connected and of that family.
    pub fn p2p(&self, k: ChannelKind) -> Option<&dyn P2pTransport> {
        self.held.iter().find_map(|(x, h)| match h {
            Held::P2p(t) if *x == k => Some(t as &dyn P2pTransport),
            _ => None,
        })
    }

    /// The connected channels, in [`KINDS`] order.
    pub fn enabled(&self) -> impl Iterator<Item = ChannelKind> + '_ {
        self.held.iter().map(|(k, _)| *k)
    }

    /// The channel of one operation: the pinned channel, else the only enabled one, else the one
    /// the model prefers under `hint` (with its estimate). Depends only on the call, the hint,
    /// the pin and the model, which every peer holds equal, so every peer picks the same channel.
    pub fn pick(&self, call: &Call, hint: Hint) -> (ChannelKind, Option<model::Estimate>) {
        if let Some(k) = self.pinned {
            return (k, None);
        }
        // On the stack: this runs for every operation.
        let mut enabled = [ChannelKind::Direct; KINDS.len()];
        let mut n = 0;
        for k in self.enabled() {
            enabled[n] = k;
            n += 1;
        }
        if n == 1 {
            return (enabled[0], None);
        }
        let (kind, e) = model::policy::choose(&self.model, call, hint, &enabled[..n]);
        (kind, Some(e))
    }

    /// The channel that carries agreements between peers: the first enabled one.
    pub fn control(&self) -> ChannelKind {
        self.enabled().next().expect("a communicator has a channel")
    }

    /// The channels of a communicator derived from this one, sharing its connections: with
    /// context id `ctx`, whose rank i is transport rank `map[i]` and where this process is
    /// `rank`; its store keys live under `label` in this communicator's namespace. The pin and
    /// the model are this one's.
    pub fn derive(&self, ctx: u32, map: &Arc<RankMap>, rank: usize, label: &str) -> Result<Self> {
        let mut held = Vec::with_capacity(self.held.len());
        for (k, h) in &self.held {
            held.push((
                *k,
                match h {
                    Held::P2p(v) => Held::P2p(v.derive(ctx, map.clone(), rank)?),
                    Held::Store(s) => Held::Store(StoreChannel::new(
                        s.t.derive()?,
                        s.ns.sub(label),
                        Inbox::new(rank, map.len(), s.mail.bound()),
                    )?),
                },
            ));
        }
        Ok(Channels {
            held,
            pinned: self.pinned,
            model: self.model.clone(),
        })
    }

    /// Notes that the stores may hold leftovers of failed operations (finalize then deletes
    /// every key of the namespace).
    pub fn mark_stores_dirty(&mut self) {
        for (_, h) in &mut self.held {
            if let Held::Store(s) = h {
                s.dirty = true;
            }
        }
    }

    /// Lets go of every channel (a connection closes when no communicator uses it any more).
    pub fn close(&mut self) {
        for (_, h) in &mut self.held {
            match h {
                Held::P2p(t) => t.close(),
                Held::Store(s) => s.t.close(),
            }
        }
    }
}
