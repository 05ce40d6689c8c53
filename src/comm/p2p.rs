//! Tagged point-to-point messages: send and receive with a tag, receives and probes with
//! wildcards ([`Source::Any`], [`TagSel::Any`]), and send-receive.
//!
//! Messages from one sender with matching tags are received in the order they were sent
//! (non-overtaking). A message that arrives before its receive is buffered up to
//! `communicator.unexpected_buffer_bytes`; beyond that it waits in the connection and its sender
//! is held back. The plain [`Communicator::send`] and [`Communicator::recv`] are tag 0 of the
//! same matching (a plain receive takes exactly its buffer's size).
//!
//! Non-blocking sends and receives ([`Communicator::isend`], [`Communicator::irecv`]) return a
//! [`Request`]; they match and order exactly as the blocking calls do, and progress in the
//! background (see [`crate::request`]).
//!
//! All tagged messages of a communicator run on one channel, so that the ordering holds: the
//! pinned channel, else the direct channel when it is enabled, else the control channel (the
//! first enabled one). On a store channel they go through its inbox
//! ([`crate::channel::store::inbox`]).

use super::channels::{Held, Tagged};
use super::Communicator;
use crate::channel::request::{RecvBuf, SendBuf};
use crate::channel::{ChannelKind, TaggedSend};
use crate::error::{Error, ErrorKind, Result};
use crate::plan::Call;
use crate::request::Request;
use std::time::Instant;

use crate::channel::{MsgStatus, Source, TagSel, TAG_UB};

/// The context passed to the transport: the communicator's view of it (`super::view`) replaces it
/// with the communicator's own context id.
const CTX: u32 = 0;

fn check_tag(tag: u32, what: &str) -> Result<()> {
    if tag > TAG_UB {
        return Err(Error::invalid(format!(
            "{what} {tag} out of range (valid: 0..={TAG_UB})"
        )));
    }
    Ok(())
}

fn describe(src: Source, tag: TagSel) -> String {
    let s = match src {
        Source::Any => "any source".to_string(),
        Source::Rank(r) => format!("peer {r}"),
    };
    format!("{s}, {}", tag.describe())
}

impl Communicator {
    fn check_dest(&self, dest: usize) -> Result<()> {
        self.check_peer(dest, "destination")?;
        if dest == self.rank {
            return Err(Error::invalid(
                "send to self is not supported (it would block)",
            ));
        }
        Ok(())
    }

    fn check_sel(&self, src: Source, tag: TagSel) -> Result<()> {
        if let Source::Rank(r) = src {
            self.check_peer(r, "source")?;
            if r == self.rank {
                return Err(Error::invalid(
                    "receive from self is not supported (it would block)",
                ));
            }
        }
        match tag {
            TagSel::Tag(t) => check_tag(t, "tag")?,
            TagSel::Masked { value, mask } if value & !mask != 0 || value > TAG_UB => {
                return Err(Error::invalid(format!(
                    "{} matches no valid tag (value outside the mask or above {TAG_UB})",
                    tag.describe()
                )))
            }
            _ => {}
        }
        Ok(())
    }

    /// The channel of tagged messages: the pinned one, else direct, else the control channel.
    fn tagged_kind(&self) -> ChannelKind {
        match self.channels.pinned {
            Some(k) => k,
            None if self.channels.has(ChannelKind::Direct) => ChannelKind::Direct,
            None => self.channels.control(),
        }
    }

    /// Whether a plain send or receive described by `call` is a tag-0 message of the inbox: when
    /// it runs on the channel of tagged messages and that is a store channel (as on the direct
    /// channel, plain messages are then tag 0 of the same matching).
    pub(super) fn plain_in_inbox(&mut self, call: &Call) -> bool {
        let (kind, _) = self.channels.pick(call, self.hint);
        kind == self.tagged_kind() && matches!(self.channels.get(kind), Some(Held::Store(_)))
    }

    /// A plain send as a tag-0 send to the inbox.
    pub(super) fn send_plain_in_inbox(&mut self, data: &[u8], dest: usize) -> Result<()> {
        let n = data.len();
        let what = move || format!("send/recv: send of {n} bytes to rank {dest}");
        self.tagged(what, data.len(), |t, deadline| {
            t.send_tagged(CTX, data, dest, 0, deadline)
        })
    }

    /// A plain receive as a tag-0 receive of the inbox: a message of another size than `buf` is
    /// `SizeMismatch` (and consumed).
    pub(super) fn recv_plain_in_inbox(&mut self, buf: &mut [u8], src: usize) -> Result<()> {
        let want = buf.len();
        let what = move || format!("send/recv: receive of {want} bytes from rank {src}");
        self.tagged(what, want, |t, deadline| {
            let r = t.recv_tagged(CTX, buf, Source::Rank(src), TagSel::Tag(0), None, deadline);
            match r {
                Ok(st) if st.bytes == want => Ok(()),
                Ok(st) => Err(Error::new(
                    ErrorKind::SizeMismatch,
                    format!(
                        "message from rank {src} has {} bytes, receive buffer has {want} bytes",
                        st.bytes
                    ),
                )),
                Err(e) if e.kind() == ErrorKind::Truncated => {
                    Err(Error::new(ErrorKind::SizeMismatch, e.message().to_string()))
                }
                Err(e) => Err(e),
            }
        })
    }

    /// Runs `f` on the channel of tagged messages (the pinned one, else direct, else the control
    /// channel), with the call's deadline; counts it and adds context to an error (`what` says
    /// what the call is: formatted only then, as most calls succeed).
    fn tagged<T>(
        &mut self,
        what: impl FnOnce() -> String,
        bytes: usize,
        f: impl FnOnce(&mut dyn Tagged, Instant) -> Result<T>,
    ) -> Result<T> {
        let kind = self.tagged_kind();
        let start = Instant::now();
        let deadline = start + self.timeout;
        let r = match self.channels.get(kind) {
            Some(Held::P2p(t)) => f(t, deadline),
            Some(Held::Store(s)) => f(s, deadline),
            None => Err(Error::new(
                ErrorKind::Internal,
                format!("channel {} is not connected", kind.name()),
            )),
        };
        self.counters
            .record(kind, bytes, start.elapsed(), r.is_ok());
        r.map_err(|e| {
            e.context(format!(
                "{} on channel {} at rank {} of {} after {:.3} s",
                what(),
                kind.name(),
                self.rank,
                self.size,
                start.elapsed().as_secs_f64()
            ))
        })
    }

    /// Sends `data` to `dest` with `tag` (0..=[`TAG_UB`]). Returns when the message is handed to
    /// the channel; blocks while the receiver's buffer for unexpected messages is full.
    pub fn send_tagged(&mut self, data: &[u8], dest: usize, tag: u32) -> Result<()> {
        self.check_dest(dest)?;
        check_tag(tag, "tag")?;
        let n = data.len();
        let what = move || format!("send of {n} bytes to peer {dest}, tag {tag}");
        self.tagged(what, data.len(), |t, deadline| {
            t.send_tagged(CTX, data, dest, tag, deadline)
        })
    }

    /// Receives the oldest message from `src` with `tag` (either may be a wildcard) into `buf`.
    /// `buf.len()` is an upper bound: a shorter message fills its front, a longer one is an
    /// `ErrorKind::Truncated` error (the message is consumed). Returns its source, tag and size.
    pub fn recv_tagged(&mut self, buf: &mut [u8], src: Source, tag: TagSel) -> Result<MsgStatus> {
        self.check_sel(src, tag)?;
        let n = buf.len();
        let what = move || format!("receive of up to {n} bytes from {}", describe(src, tag));
        self.tagged(what, n, |t, deadline| {
            t.recv_tagged(CTX, buf, src, tag, None, deadline)
        })
    }

    /// Waits for a message from `src` with `tag` and describes it without receiving it (the next
    /// matching receive gets this message).
    pub fn probe(&mut self, src: Source, tag: TagSel) -> Result<MsgStatus> {
        self.check_sel(src, tag)?;
        let what = move || format!("probe for {}", describe(src, tag));
        self.tagged(what, 0, |t, deadline| {
            t.probe(CTX, src, tag, true, deadline)?
                .ok_or_else(|| Error::new(ErrorKind::Internal, "a blocking probe returned nothing"))
        })
    }

    /// Like [`Communicator::probe`], but answers at once: None when no matching message has
    /// arrived yet.
    pub fn iprobe(&mut self, src: Source, tag: TagSel) -> Result<Option<MsgStatus>> {
        self.check_sel(src, tag)?;
        let what = move || format!("iprobe for {}", describe(src, tag));
        self.tagged(what, 0, |t, deadline| {
            t.probe(CTX, src, tag, false, deadline)
        })
    }

    /// Sends `data` to `dest` with `send_tag` and receives from `src` with `recv_tag` into `buf`
    /// concurrently (so that a ring of send-receives cannot deadlock). The receive is as in
    /// [`Communicator::recv_tagged`].
    pub fn sendrecv(
        &mut self,
        data: &[u8],
        dest: usize,
        send_tag: u32,
        buf: &mut [u8],
        src: Source,
        recv_tag: TagSel,
    ) -> Result<MsgStatus> {
        self.check_dest(dest)?;
        check_tag(send_tag, "send tag")?;
        self.check_sel(src, recv_tag)?;
        let (sn, rn) = (data.len(), buf.len());
        let what = move || {
            format!(
                "send-receive of {sn} bytes to peer {dest} (tag {send_tag}) and up to {rn} bytes \
                 from {}",
                describe(src, recv_tag)
            )
        };
        let send = TaggedSend {
            data,
            dest,
            tag: send_tag,
        };
        self.tagged(what, sn + rn, |t, deadline| {
            t.recv_tagged(CTX, buf, src, recv_tag, Some(send), deadline)
        })
    }

    /// Starts a send of `data` to `dest` with `tag` and returns at once; the request completes
    /// when the message is handed to the channel. The caller keeps `data` valid and unchanged
    /// until then ([`SendBuf`]'s contract).
    pub fn isend_buf(&mut self, data: SendBuf, dest: usize, tag: u32) -> Result<Request> {
        self.check_dest(dest)?;
        check_tag(tag, "tag")?;
        let n = data.len();
        let what = move || format!("isend of {n} bytes to peer {dest}, tag {tag}");
        let (op, ch) = self.tagged(what, n, |t, deadline| {
            t.isend(CTX, data, dest, tag, deadline)
                .map(|op| (op, t.name()))
        })?;
        Ok(self.request(op, what, ch))
    }

    /// Starts a receive into `buf` of the oldest message from `src` with `tag` (either may be a
    /// wildcard) and returns at once; completion gives the message's status, as
    /// [`Communicator::recv_tagged`] does. Receives match in the order they were posted. The
    /// caller leaves `buf` alone until the request completes ([`RecvBuf`]'s contract).
    pub fn irecv_buf(&mut self, buf: RecvBuf, src: Source, tag: TagSel) -> Result<Request> {
        self.check_sel(src, tag)?;
        let n = buf.len();
        let what = move || format!("irecv of up to {n} bytes from {}", describe(src, tag));
        let (op, ch) = self.tagged(what, n, |t, deadline| {
            t.irecv(CTX, buf, src, tag, deadline)
                .map(|op| (op, t.name()))
        })?;
        Ok(self.request(op, what, ch))
    }

    /// [`Communicator::isend_buf`] of a buffer the request owns.
    pub fn isend(&mut self, data: Vec<u8>, dest: usize, tag: u32) -> Result<Request> {
        // SAFETY: the request keeps `data` (its heap block does not move) until it is dropped,
        // and a dropped request that is still active is cancelled first.
        let b = unsafe { SendBuf::new(data.as_ptr(), data.len()) };
        Ok(self.isend_buf(b, dest, tag)?.owning(data))
    }

    /// [`Communicator::irecv_buf`] into a buffer of `len` bytes that the request owns
    /// ([`Request::take_buffer`] gives it back once the request is inactive).
    pub fn irecv(&mut self, len: usize, src: Source, tag: TagSel) -> Result<Request> {
        let mut buf = vec![0u8; len];
        // SAFETY: as in `isend`; nothing else touches the buffer while the request is active.
        let b = unsafe { RecvBuf::new(buf.as_mut_ptr(), len) };
        Ok(self.irecv_buf(b, src, tag)?.owning(buf))
    }

    /// The request of `op` on `channel`; `what` describes it (formatted only when an error or
    /// [`Request::describe`] needs the text).
    fn request(
        &self,
        op: Box<dyn crate::channel::request::Pending>,
        what: impl Fn() -> String + Send + 'static,
        channel: &'static str,
    ) -> Request {
        let (rank, size) = (self.rank, self.size);
        Request::described_later(
            op,
            move || format!("{} on channel {channel} at rank {rank} of {size}", what()),
            self.timeout,
        )
    }
}
