//! MPI point-to-point semantics on a core communicator: MPI tags and the flags kept in the
//! core's tag bits, the send modes (standard, synchronous with an acknowledgment, ready,
//! buffered), receives with wildcards and truncation, probes and matched probes, messages to
//! oneself, and requests (`request`). Data of non-contiguous datatypes goes through
//! pack/unpack (`types`). No C-ABI code: `api/` translates handles and statuses.
//!
//! Core tags: MPI tag `t` travels as `t << 2 | flag`; flag 1 asks the receiver for an
//! acknowledgment (a synchronous send), and an acknowledgment is a zero-byte message with tag
//! `t << 2 | 2`, which MPI receives never match (their selector requires bit 1 clear).

pub mod bsend;
pub mod request;

use crate::engine::{Class, Error, Result};
use crate::types::Type;
use fmi::{Communicator, ErrorKind, MsgStatus, Source, TagSel};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::{Arc, Weak};

pub use request::Req;

/// The largest MPI tag (`MPI_TAG_UB`).
pub const TAG_UB: i32 = (fmi::TAG_UB >> 2) as i32;
const SYNC: u32 = 1;
const ACK: u32 = 2;

/// A communicator shared by the MPI objects that use it (requests need it to acknowledge
/// synchronous messages when they complete).
pub type CommRef = Arc<Mutex<Communicator>>;

/// How a send completes (`MPI_Send`, `MPI_Ssend`, `MPI_Rsend`, `MPI_Bsend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Standard,
    /// Completes only when a receive has matched the message (acknowledged by the receiver).
    Sync,
    /// The receive is already posted (the program promises it); sent as a standard send.
    Ready,
    /// Copied into the attached buffer's space; completes at once.
    Buffered,
}

/// Which source a receive accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    Any,
    Rank(usize),
}

/// The envelope of a received or probed message, in MPI terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub source: usize,
    pub tag: i32,
    /// Bytes of data (packed).
    pub bytes: u64,
    pub cancelled: bool,
}

fn check_tag(tag: i32) -> Result<u32> {
    if !(0..=TAG_UB).contains(&tag) {
        return Err(Error::new(
            Class::Tag,
            format!("tag {tag} out of range (valid: 0..={TAG_UB})"),
        ));
    }
    Ok(tag as u32)
}

/// The core selector of MPI tag `tag` (None: `MPI_ANY_TAG`): every flag but the acknowledgment.
fn selector(tag: Option<i32>) -> Result<TagSel> {
    Ok(match tag {
        None => TagSel::Masked {
            value: 0,
            mask: ACK,
        },
        Some(t) => TagSel::Masked {
            value: check_tag(t)? << 2,
            mask: !SYNC,
        },
    })
}

fn status_of(s: MsgStatus) -> Status {
    Status {
        source: s.source,
        tag: (s.tag >> 2) as i32,
        bytes: s.bytes as u64,
        cancelled: false,
    }
}

/// A core error in MPI terms.
pub(crate) fn core_err(e: fmi::Error) -> Error {
    let class = match e.kind() {
        ErrorKind::Truncated | ErrorKind::SizeMismatch => Class::Truncate,
        ErrorKind::Timeout => Class::Other,
        ErrorKind::InvalidArg => Class::Arg,
        _ => Class::Other,
    };
    let mut msg = e.to_string();
    if e.kind() == ErrorKind::Timeout {
        msg.push_str(
            " (FMI_MPI_TIMEOUT seconds bound every blocking MPI call; a core tag is the MPI tag \
             times 4)",
        );
    }
    Error::new(class, msg)
}

/// The per-communicator state of the MPI point-to-point layer: messages a rank sent itself
/// and receives that may take them.
#[derive(Default)]
pub struct Endpoint {
    selfbox: Mutex<SelfBox>,
    /// The key of the communicator's own attached buffer (`bsend::Owner::Comm`), once set.
    buffer_key: std::sync::OnceLock<usize>,
    /// The session the communicator derives from (`bsend::Owner::Session`), if any.
    session_key: std::sync::OnceLock<usize>,
}

#[derive(Default)]
struct SelfBox {
    /// Messages to oneself not received yet, in the order sent.
    queue: VecDeque<SelfMsg>,
    /// Receives posted before a message to oneself could match them, in the order posted.
    posted: VecDeque<Weak<request::RecvSlot>>,
}

struct SelfMsg {
    tag: u32,
    data: Vec<u8>,
    /// Set when a receive takes it (a synchronous send to oneself waits for that).
    matched: Arc<std::sync::atomic::AtomicBool>,
}

/// The bytes to send: a view of the user's buffer (dense types) or a packed copy.
pub(crate) enum Outgoing {
    Borrowed(*const u8, usize),
    Packed(Vec<u8>),
}

impl Outgoing {
    /// # Safety
    /// `buf` holds `count` elements of `t`, valid while the result is used.
    pub(crate) unsafe fn new(buf: *const u8, count: u64, t: &Type) -> Result<Outgoing> {
        t.check_committed()?;
        let bytes = usize::try_from(t.bytes(count)?)
            .map_err(|_| Error::new(Class::Count, "message too large"))?;
        if let Some(disp) = t.dense() {
            return Ok(Outgoing::Borrowed(
                buf.wrapping_offset(disp as isize),
                bytes,
            ));
        }
        let mut v = vec![0u8; bytes];
        // SAFETY: the caller's guarantee.
        unsafe { t.pack(buf, count, &mut v)? };
        Ok(Outgoing::Packed(v))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: `Outgoing::new`'s caller keeps the buffer valid while this is used.
            Outgoing::Borrowed(p, n) if *n > 0 => unsafe { std::slice::from_raw_parts(*p, *n) },
            Outgoing::Borrowed(..) => &[],
            Outgoing::Packed(v) => v,
        }
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        match self {
            Outgoing::Packed(v) => v,
            b => b.bytes().to_vec(),
        }
    }
}

/// Where received data goes: `count` elements of `t` at `buf`.
#[derive(Clone)]
pub(crate) struct Target {
    pub buf: *mut u8,
    pub count: u64,
    pub t: Arc<Type>,
}

// SAFETY: the pointer is the user's receive buffer, which MPI hands to the library until the
// receive completes; it is only written by the thread that completes the receive.
unsafe impl Send for Target {}
unsafe impl Sync for Target {}

impl Target {
    pub(crate) fn room(&self) -> Result<usize> {
        self.t.check_committed()?;
        usize::try_from(self.t.bytes(self.count)?)
            .map_err(|_| Error::new(Class::Count, "receive buffer too large"))
    }

    /// The user's memory itself when the datatype is dense.
    pub(crate) fn direct(&self) -> Option<*mut u8> {
        self.t.dense().map(|d| self.buf.wrapping_offset(d as isize))
    }

    /// Copies a whole message into the buffer (truncation: an error, nothing written).
    pub(crate) fn fill(&self, data: &[u8]) -> Result<()> {
        if data.len() > self.room()? {
            return Err(Error::new(
                Class::Truncate,
                format!(
                    "message of {} bytes, receive buffer of {} bytes",
                    data.len(),
                    self.room()?
                ),
            ));
        }
        // SAFETY: the receive buffer holds `count` elements of the type (the MPI contract).
        unsafe { self.t.unpack(data, self.buf, self.count) }
    }
}

impl Endpoint {
    /// Names the communicator for its own attached buffer (`MPI_Comm_attach_buffer`).
    pub fn set_buffer_key(&self, key: usize) {
        let _ = self.buffer_key.set(key);
    }

    pub fn buffer_key(&self) -> Option<usize> {
        self.buffer_key.get().copied()
    }

    /// Names the session the communicator derives from (its buffer serves the communicator's
    /// buffered sends when the communicator has none of its own).
    pub fn set_session_key(&self, key: usize) {
        let _ = self.session_key.set(key);
    }

    pub fn session_key(&self) -> Option<usize> {
        self.session_key.get().copied()
    }

    /// Whose attached buffers a buffered send on the communicator may use.
    pub fn buffer_keys(&self) -> bsend::Keys {
        bsend::Keys {
            comm: self.buffer_key(),
            session: self.session_key(),
        }
    }
    /// `MPI_Send` and its modes to `dest` (the caller handles `MPI_PROC_NULL`).
    ///
    /// # Safety
    /// `buf` holds `count` elements of `t`.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn send(
        &self,
        comm: &CommRef,
        buf: *const u8,
        count: u64,
        t: &Type,
        dest: usize,
        tag: i32,
        mode: Mode,
    ) -> Result<()> {
        let ctag = check_tag(tag)? << 2;
        // SAFETY: the caller's guarantee.
        let out = unsafe { Outgoing::new(buf, count, t)? };
        let mut c = comm.lock();
        check_rank(&c, dest, "destination")?;
        if dest == c.rank() {
            drop(c);
            return self.send_self(ctag, out.into_vec(), mode, comm);
        }
        match mode {
            Mode::Standard | Mode::Ready => {
                c.send_tagged(out.bytes(), dest, ctag).map_err(core_err)
            }
            Mode::Sync => {
                c.send_tagged(out.bytes(), dest, ctag | SYNC)
                    .map_err(core_err)?;
                let mut ack = c
                    .irecv(0, Source::Rank(dest), TagSel::Tag(ctag | ACK))
                    .map_err(core_err)?;
                let limit = c.timeout();
                drop(c);
                request::wait_progressing(&mut ack, limit, || {
                    format!("waiting for rank {dest} to match a synchronous send (tag {tag})")
                })
                .map(|_| ())
            }
            Mode::Buffered => {
                drop(c);
                let lease = bsend::reserve(self.buffer_keys(), out.bytes().len())?;
                let data = out.into_vec();
                let r = comm.lock().isend(data, dest, ctag).map_err(core_err)?;
                bsend::hand_over(lease, r);
                Ok(())
            }
        }
    }

    /// A message to oneself: into the oldest posted receive it matches, else queued. A
    /// synchronous one with no receive to take it could never complete: an error.
    fn send_self(&self, ctag: u32, data: Vec<u8>, mode: Mode, comm: &CommRef) -> Result<()> {
        if mode == Mode::Buffered {
            bsend::release(bsend::reserve(self.buffer_keys(), data.len())?);
        }
        let me = comm.lock().rank();
        if self.deliver_posted(me, ctag, &data)? {
            return Ok(());
        }
        if mode == Mode::Sync {
            return Err(Error::new(
                Class::Other,
                "synchronous send to oneself with no matching receive posted: it could never complete (deadlock)",
            ));
        }
        self.selfbox.lock().queue.push_back(SelfMsg {
            tag: ctag,
            data,
            matched: Default::default(),
        });
        Ok(())
    }

    /// Offers a message to oneself to the posted receives, oldest first. True when one took it.
    fn deliver_posted(&self, me: usize, ctag: u32, data: &[u8]) -> Result<bool> {
        let mut sb = self.selfbox.lock();
        sb.posted.retain(|w| w.strong_count() > 0);
        let mut i = 0;
        while i < sb.posted.len() {
            let Some(slot) = sb.posted[i].upgrade() else {
                i += 1;
                continue;
            };
            match slot.offer(me, ctag, data) {
                request::Offer::Taken => {
                    sb.posted.remove(i);
                    return Ok(true);
                }
                request::Offer::Gone => {
                    sb.posted.remove(i);
                }
                request::Offer::NoMatch => i += 1,
            }
        }
        Ok(false)
    }

    /// Takes the oldest queued message to oneself that matches `sel`.
    fn take_self(&self, sel: TagSel) -> Option<(u32, Vec<u8>)> {
        let mut sb = self.selfbox.lock();
        let i = sb.queue.iter().position(|m| sel.accepts(m.tag))?;
        let m = sb.queue.remove(i)?;
        m.matched.store(true, std::sync::atomic::Ordering::Release);
        Some((m.tag, m.data))
    }

    fn peek_self(&self, sel: TagSel) -> Option<(u32, usize)> {
        let sb = self.selfbox.lock();
        sb.queue
            .iter()
            .find(|m| sel.accepts(m.tag))
            .map(|m| (m.tag, m.data.len()))
    }

    /// `MPI_Recv` from `src` with `tag` (None: `MPI_ANY_TAG`).
    ///
    /// # Safety
    /// `buf` has room for `count` elements of `t`.
    pub unsafe fn recv(
        &self,
        comm: &CommRef,
        buf: *mut u8,
        count: u64,
        t: &Arc<Type>,
        src: From,
        tag: Option<i32>,
    ) -> Result<Status> {
        let sel = selector(tag)?;
        let target = Target {
            buf,
            count,
            t: t.clone(),
        };
        let room = target.room()?;
        let mut c = comm.lock();
        let me = c.rank();
        if let From::Rank(r) = src {
            check_rank(&c, r, "source")?;
        }
        if src == From::Any || src == From::Rank(me) {
            if let Some((ctag, data)) = self.take_self(sel) {
                let st = status_of(MsgStatus {
                    source: me,
                    tag: ctag,
                    bytes: data.len(),
                });
                target.fill(&data)?;
                return Ok(st);
            }
            if src == From::Rank(me) {
                return Err(Error::new(
                    Class::Other,
                    "receive from oneself with no message sent to oneself: it could never complete (deadlock)",
                ));
            }
        }
        let source = match src {
            From::Any => Source::Any,
            From::Rank(r) => Source::Rank(r),
        };
        let st = if let Some(p) = target.direct() {
            // SAFETY: a dense type's data is `room` bytes from `p` (the caller's guarantee).
            let slice = unsafe { slice_mut(p, room) };
            c.recv_tagged(slice, source, sel).map_err(core_err)?
        } else {
            let mut scratch = vec![0u8; room];
            let st = c.recv_tagged(&mut scratch, source, sel).map_err(core_err)?;
            target.fill(&scratch[..st.bytes])?;
            st
        };
        if st.tag & SYNC != 0 {
            acknowledge(&mut c, st)?;
        }
        Ok(status_of(st))
    }

    /// `MPI_Probe` (`block`) and `MPI_Iprobe`.
    pub fn probe(
        &self,
        comm: &CommRef,
        src: From,
        tag: Option<i32>,
        block: bool,
    ) -> Result<Option<Status>> {
        let sel = selector(tag)?;
        let mut c = comm.lock();
        let me = c.rank();
        if let From::Rank(r) = src {
            check_rank(&c, r, "source")?;
        }
        if src == From::Any || src == From::Rank(me) {
            if let Some((ctag, n)) = self.peek_self(sel) {
                return Ok(Some(status_of(MsgStatus {
                    source: me,
                    tag: ctag,
                    bytes: n,
                })));
            }
            if src == From::Rank(me) {
                if block {
                    return Err(Error::new(
                        Class::Other,
                        "probe of oneself with no message sent to oneself: it could never complete (deadlock)",
                    ));
                }
                return Ok(None);
            }
        }
        let source = match src {
            From::Any => Source::Any,
            From::Rank(r) => Source::Rank(r),
        };
        let r = if block {
            c.probe(source, sel).map(Some)
        } else {
            c.iprobe(source, sel)
        };
        Ok(r.map_err(core_err)?.map(status_of))
    }

    /// `MPI_Mprobe`/`MPI_Improbe`: takes the matching message out of matching (its data is kept
    /// in the returned message until `MPI_Mrecv`).
    pub fn mprobe(
        &self,
        comm: &CommRef,
        src: From,
        tag: Option<i32>,
        block: bool,
    ) -> Result<Option<Message>> {
        let Some(st) = self.probe(comm, src, tag, block)? else {
            return Ok(None);
        };
        let mut c = comm.lock();
        if st.source == c.rank() {
            let sel = selector(tag)?;
            let (_, data) = self
                .take_self(sel)
                .ok_or_else(|| Error::new(Class::Other, "probed message to oneself vanished"))?;
            return Ok(Some(Message { status: st, data }));
        }
        // The oldest message of that source with exactly that core tag is the probed one.
        let mut data = vec![0u8; st.bytes as usize];
        let exact = c
            .iprobe(Source::Rank(st.source), selector(Some(st.tag))?)
            .map_err(core_err)?
            .ok_or_else(|| Error::new(Class::Other, "probed message vanished"))?;
        let got = c
            .recv_tagged(&mut data, Source::Rank(st.source), TagSel::Tag(exact.tag))
            .map_err(core_err)?;
        if got.tag & SYNC != 0 {
            acknowledge(&mut c, got)?;
        }
        Ok(Some(Message { status: st, data }))
    }
}

/// A message taken by a matched probe.
pub struct Message {
    pub status: Status,
    pub data: Vec<u8>,
}

impl Message {
    /// `MPI_Mrecv`: the message into `count` elements of `t` at `buf`.
    ///
    /// # Safety
    /// `buf` has room for `count` elements of `t`.
    pub unsafe fn receive(self, buf: *mut u8, count: u64, t: &Arc<Type>) -> Result<Status> {
        Target {
            buf,
            count,
            t: t.clone(),
        }
        .fill(&self.data)?;
        Ok(self.status)
    }
}

/// Sends the acknowledgment of a synchronous message received with core status `st`.
pub(crate) fn acknowledge(c: &mut Communicator, st: MsgStatus) -> Result<()> {
    let ack = (st.tag & !SYNC) | ACK;
    c.send_tagged(&[], st.source, ack).map_err(core_err)
}

fn check_rank(c: &Communicator, r: usize, what: &str) -> Result<()> {
    if r >= c.size() {
        return Err(Error::new(
            Class::Rank,
            format!(
                "{what} rank {r} out of range (communicator of {} ranks)",
                c.size()
            ),
        ));
    }
    Ok(())
}

/// # Safety
/// `p` is valid for `n` bytes of writes (or `n` is 0).
unsafe fn slice_mut<'a>(p: *mut u8, n: usize) -> &'a mut [u8] {
    if n == 0 {
        &mut []
    } else {
        // SAFETY: the caller's guarantee.
        unsafe { std::slice::from_raw_parts_mut(p, n) }
    }
}
