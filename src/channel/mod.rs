//! Transports: how bytes move between peers. Collective algorithms see only these traits.
//! [`kind`] lists the channels; [`connect`] is the one place that builds each.

pub mod direct;
pub mod kind;
pub mod redis;
pub mod request;
#[cfg(feature = "s3")]
pub mod s3;
/// The S3 channel's object format, kept apart from the SDK so that it builds without the `s3`
/// feature (the fuzz targets in `fuzz/` read it).
#[path = "s3/format.rs"]
pub mod s3_format;
pub mod store;
#[cfg(any(feature = "s3", feature = "redis-tls"))]
pub(crate) mod store_tls;

pub use kind::{ChannelKind, Family, KINDS};

use crate::config::Config;
use crate::error::{Error, Result};
use request::{Pending, RecvBuf, SendBuf};
use std::time::{Duration, Instant};
use store::StoreTransport;

/// One transfer of an [`P2pTransport::exchange`]: a whole message to or from one peer.
pub enum Xfer<'a> {
    /// Send `data` as one message to `peer`.
    Send { peer: usize, data: &'a [u8] },
    /// Receive one message from `peer`; its size must equal `buf.len()`.
    Recv { peer: usize, buf: &'a mut [u8] },
}

impl Xfer<'_> {
    pub fn peer(&self) -> usize {
        match self {
            Xfer::Send { peer, .. } | Xfer::Recv { peer, .. } => *peer,
        }
    }
}

/// The source a point-to-point receive or probe accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Any peer (`FMI_ANY_SOURCE`).
    Any,
    /// This rank only.
    Rank(usize),
}

/// The tags a point-to-point receive or probe accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagSel {
    /// Any tag (`FMI_ANY_TAG`).
    Any,
    /// This tag only (0..=[`TAG_UB`]).
    Tag(u32),
    /// Every tag whose bits under `mask` equal `value` (a layer above, such as the MPI layer,
    /// keeps flags in some bits of its tags and matches the rest).
    Masked { value: u32, mask: u32 },
}

impl TagSel {
    /// Whether a message with `tag` matches.
    pub fn accepts(self, tag: u32) -> bool {
        match self {
            TagSel::Any => true,
            TagSel::Tag(t) => t == tag,
            TagSel::Masked { value, mask } => tag & mask == value,
        }
    }

    /// For errors: "any tag", "tag 5", "tags 0x14 under mask 0xfffffffd".
    pub fn describe(self) -> String {
        match self {
            TagSel::Any => "any tag".to_string(),
            TagSel::Tag(t) => format!("tag {t}"),
            TagSel::Masked { value, mask } => format!("tags {value:#x} under mask {mask:#x}"),
        }
    }
}

/// The largest point-to-point tag (`FMI_TAG_UB`): tags are 0..=2^31-1.
pub const TAG_UB: u32 = i32::MAX as u32;

/// What a receive or probe found: the message's source, tag and size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgStatus {
    pub source: usize,
    pub tag: u32,
    pub bytes: usize,
}

/// How a communicator reaches one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// A connection straight to the peer (through NATs by hole punching where needed).
    Direct,
    /// Through the relay of the rendezvous server.
    Relayed,
}

/// A peer-to-peer transport: ordered, reliable, framed messages between any two ranks.
///
/// Messages between two peers arrive in the order they were sent. Each message carries a `tag`
/// that the receiver checks, so that peers that call operations in a different order get an error
/// instead of each other's data.
pub trait P2pTransport: Send {
    /// Channel name for messages and statistics ("direct", ...).
    fn name(&self) -> &'static str;
    fn rank(&self) -> usize;
    fn size(&self) -> usize;
    /// Runs all `xfers` concurrently until every one is complete, or fails at `deadline`.
    /// Several transfers to the same peer and direction complete in list order.
    fn exchange(&mut self, tag: u32, xfers: &mut [Xfer<'_>], deadline: Instant) -> Result<()> {
        self.exchange_ctx(0, tag, xfers, deadline)
    }
    /// [`P2pTransport::exchange`] for the communicator with context id `ctx` (0: the one made by
    /// init; a sub-communicator's view of the transport passes its own).
    fn exchange_ctx(
        &mut self,
        ctx: u32,
        tag: u32,
        xfers: &mut [Xfer<'_>],
        deadline: Instant,
    ) -> Result<()>;
    /// Sends `data` to `dest` as a point-to-point message with `tag` in matching context `ctx`,
    /// by `deadline` (blocks while the receiver's buffers are full).
    fn send_tagged(
        &mut self,
        ctx: u32,
        data: &[u8],
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<()> {
        let _ = (ctx, data, dest, tag, deadline);
        Err(self.untagged())
    }
    /// Receives the oldest matching point-to-point message into `buf` (a longer message is
    /// `Truncated`; a shorter one fills the front of `buf`); with `send`, also sends that message
    /// (ctx, data, dest, tag) concurrently.
    fn recv_tagged(
        &mut self,
        ctx: u32,
        buf: &mut [u8],
        src: Source,
        tag: TagSel,
        send: Option<TaggedSend<'_>>,
        deadline: Instant,
    ) -> Result<MsgStatus> {
        let _ = (ctx, buf, src, tag, send, deadline);
        Err(self.untagged())
    }
    /// The oldest matching point-to-point message without receiving it: waits for one until
    /// `deadline`, or (None) only looks at what has arrived.
    fn probe(
        &mut self,
        ctx: u32,
        src: Source,
        tag: TagSel,
        deadline: Option<Instant>,
    ) -> Result<Option<MsgStatus>> {
        let _ = (ctx, src, tag, deadline);
        Err(self.untagged())
    }
    /// Starts sending `data` to `dest` with `tag` in context `ctx` and returns at once; the
    /// message goes after every message this transport sent to `dest` before.
    fn isend(
        &mut self,
        ctx: u32,
        data: SendBuf,
        dest: usize,
        tag: u32,
    ) -> Result<Box<dyn Pending>> {
        let _ = (ctx, data, dest, tag);
        Err(self.untagged())
    }
    /// Posts a receive of the oldest message matching `src` and `tag` in context `ctx` into
    /// `buf` and returns at once. Receives match in the order they were posted (blocking ones
    /// included).
    fn irecv(
        &mut self,
        ctx: u32,
        buf: RecvBuf,
        src: Source,
        tag: TagSel,
    ) -> Result<Box<dyn Pending>> {
        let _ = (ctx, buf, src, tag);
        Err(self.untagged())
    }
    /// A second handle on the same connections, for collectives that run on another thread
    /// (non-blocking collectives): its exchanges travel as point-to-point messages in a context
    /// of their own, so they neither block calls on this handle nor are blocked by them. None
    /// when the transport has no such handle.
    fn background(&self) -> Option<Box<dyn P2pTransport>> {
        None
    }
    /// The error of a transport without tagged messages.
    fn untagged(&self) -> Error {
        Error::new(
            crate::error::ErrorKind::Unsupported,
            format!(
                "tags and wildcards are not yet supported on the {} channel",
                self.name()
            ),
        )
    }
    /// How `peer` is reached (None for our own rank or a closed connection).
    fn link(&self, peer: usize) -> Option<Link>;
    /// `e` with what the transport can learn about its cause (a relay limit that cut a
    /// connection, say); by default `e` unchanged.
    fn explain(&self, e: Error) -> Error {
        e
    }
    /// Closes every connection. Later calls fail.
    fn close(&mut self);
}

/// The send half of a tagged send-receive.
#[derive(Debug, Clone, Copy)]
pub struct TaggedSend<'a> {
    pub data: &'a [u8],
    pub dest: usize,
    pub tag: u32,
}

/// A connected channel's transport, as its family's algorithms see it.
pub enum Transport {
    P2p(Box<dyn P2pTransport>),
    Store(Box<dyn StoreTransport>),
}

/// Who connects: this rank of a group of `size` named `job`.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub rank: usize,
    pub size: usize,
    pub job: &'a str,
    /// How long a waiting peer busy-polls before it sleeps (`communicator.spin_us`).
    pub spin: Duration,
    /// Bytes of unexpected point-to-point messages a transport buffers
    /// (`communicator.unexpected_buffer_bytes`).
    pub unexpected: usize,
}

/// Connects channel `kind` as `cfg` configures it, by `deadline`. A kind that `cfg` does not
/// enable is an error, and so is one this build lacks. Errors name the channel and its endpoint.
pub fn connect(
    kind: ChannelKind,
    cfg: &Config,
    me: Member<'_>,
    deadline: Instant,
) -> Result<Transport> {
    let off = || {
        Error::config(format!(
            "backends.{} is not enabled in the configuration",
            kind.config_key()
        ))
    };
    let (r, endpoint) = match kind {
        ChannelKind::Direct => {
            let d = cfg.direct.as_ref().ok_or_else(off)?;
            let t = direct::DirectTransport::connect(
                me.rank,
                me.size,
                me.job,
                d,
                me.spin,
                me.unexpected,
                deadline,
            );
            (
                t.map(|t| Transport::P2p(Box::new(t))),
                format!("rendezvous {}:{}", d.host, d.port),
            )
        }
        ChannelKind::Redis => {
            let rc = cfg.redis.as_ref().ok_or_else(off)?;
            let t = redis::RedisTransport::connect(rc, deadline);
            (
                t.map(|t| Transport::Store(Box::new(t))),
                format!("server {}:{}", rc.host, rc.port),
            )
        }
        #[cfg(feature = "s3")]
        ChannelKind::S3 => {
            let sc = cfg.s3.as_ref().ok_or_else(off)?;
            let t = s3::S3Transport::connect(sc, deadline);
            (
                t.map(|t| Transport::Store(Box::new(t))),
                format!(
                    "bucket {:?} at {}",
                    sc.bucket_name,
                    sc.endpoint_url.as_deref().unwrap_or("AWS")
                ),
            )
        }
        #[cfg(not(feature = "s3"))]
        ChannelKind::S3 => {
            cfg.s3.as_ref().ok_or_else(off)?;
            return Err(Error::new(
                crate::error::ErrorKind::Unsupported,
                "backends.S3 is enabled but this libfmi was built without the s3 feature",
            ));
        }
    };
    r.map_err(|e| e.context(format!("channel {}, {endpoint}", kind.name())))
}
