//! Progress engine: drives several framed sends and receives on non-blocking sockets at once,
//! busy-polling briefly and then blocking in poll(2) until a deadline.

use super::ahead::Ahead;
use super::conn::{Conn, Core, Into, Stash};
use super::frame::{self, Header, Kind, HEADER_LEN};
use super::matching::{Arrival, Envelope, Matcher};
use super::progress::CoreGuard;
use super::requests::{received, Requests};
use crate::channel::Xfer;
use crate::error::{Error, ErrorKind, Result};
use std::collections::VecDeque;
use std::io::{ErrorKind as IoKind, Read};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

#[derive(Default)]
pub(super) struct State {
    done: bool,
    /// Send: bytes of header + payload written. Recv: payload bytes read.
    off: usize,
    hdr: [u8; HEADER_LEN],
    hdr_got: usize,
    /// Recv: payload length announced by the header.
    len: Option<usize>,
    /// Recv: the message had another size; its payload is being discarded.
    mismatch: bool,
    /// Recv: a parked point-to-point message is ahead of this receive's message in the stream.
    blocked: bool,
}

impl State {
    /// The state of a send of `len` payload bytes under `label` (whose length is ignored).
    pub(super) fn sending(label: &Header, len: usize) -> State {
        State {
            hdr: frame::encode(&Header {
                len: len as u64,
                ..*label
            }),
            ..State::default()
        }
    }
    pub(super) fn done(&self) -> bool {
        self.done
    }
    pub(super) fn started(&self) -> bool {
        self.off > 0 || self.hdr_got > 0
    }
}

/// How a progress loop waits: it busy-polls (yielding) for `spin` after the last progress, then
/// blocks in poll(2), until the deadline. The window restarts whenever a byte moves, so a long
/// transfer that stalls for a moment (a full socket buffer, a peer that was descheduled) spins
/// again instead of paying a blocking wake-up (~25 us on an idle vCPU) per stall.
pub(super) struct Spin {
    until: Instant,
    spin: Duration,
}

/// What a progress loop does next.
pub(super) enum Next {
    /// Try again at once (progress was made, or the spin window is still open).
    Again,
    /// Block in poll(2) until something can move or the deadline.
    Poll,
    /// The deadline passed.
    TimedOut,
}

impl Spin {
    pub(super) fn new(spin: Duration) -> Spin {
        Spin {
            until: Instant::now() + spin,
            spin,
        }
    }

    /// After a round that `progressed` or not: what to do next.
    pub(super) fn next(&mut self, progressed: bool, deadline: Instant) -> Next {
        let now = Instant::now();
        if progressed {
            self.until = now + self.spin;
            return Next::Again;
        }
        if now < self.until {
            std::thread::yield_now();
            return Next::Again;
        }
        if now >= deadline {
            return Next::TimedOut;
        }
        Next::Poll
    }
}

/// Runs `xfers` to completion on `core`'s connections (indexed by peer rank). Sends carry `label`
/// (a collective tag, or the point-to-point context and tag 0 of a plain send); a receive takes
/// the next message with that label. Point-to-point messages with another envelope that arrive
/// first go to the matcher (or to the non-blocking receive they match). Pending non-blocking
/// requests progress meanwhile; a send starts after the queued sends to its peer.
///
/// While it waits in poll(2) the lock is released (so the collectives worker can post and
/// advance its requests: a blocking call never holds up a non-blocking one), with the
/// connections it reads or is writing a frame on claimed ([`Conn::call_reads`],
/// [`Conn::call_writes`]); the caller holds the transport's call lock
/// ([`super::progress::Shared::call`]).
pub(super) fn run(
    g: &mut CoreGuard<'_>,
    label: Header,
    xfers: &mut [Xfer<'_>],
    deadline: Instant,
    spin: Duration,
) -> Result<()> {
    let r = run_claimed(g, label, xfers, deadline, spin);
    let mut released = false;
    for x in xfers.iter() {
        if let Some(Some(c)) = g.conns.get_mut(x.peer()) {
            released |= c.call_reads || c.call_writes;
            c.call_reads = false;
            c.call_writes = false;
        }
    }
    if released {
        g.kick_driver();
    }
    r
}

fn run_claimed(
    g: &mut CoreGuard<'_>,
    label: Header,
    xfers: &mut [Xfer<'_>],
    deadline: Instant,
    spin: Duration,
) -> Result<()> {
    let Core { conns, .. } = &mut **g;
    for x in xfers.iter() {
        let p = x.peer();
        match conns.get(p) {
            Some(Some(c)) => {
                if let Some(why) = &c.broken {
                    return Err(Error::new(
                        ErrorKind::PeerLost,
                        format!("connection to peer {p} is unusable: {why}"),
                    ));
                }
            }
            _ => return Err(Error::invalid(format!("no connection to peer {p}"))),
        }
    }
    let mut st: Vec<State> = xfers.iter().map(|_| State::default()).collect();
    for (s, x) in st.iter_mut().zip(xfers.iter()) {
        if let Xfer::Send { data, .. } = x {
            *s = State::sending(&label, data.len());
        }
    }
    let mut spin = Spin::new(spin);
    let mut first_err: Option<Error> = None;
    let mut pfds: Vec<libc::pollfd> = Vec::with_capacity(xfers.len());
    let mut active: Vec<usize> = Vec::with_capacity(xfers.len());
    loop {
        let Core {
            conns,
            matcher,
            reqs,
            ..
        } = &mut **g;
        // While the lock was released, a connection this call still uses may have failed.
        for (x, s) in xfers.iter().zip(&st) {
            let p = x.peer();
            if let Some(why) = conns[p].as_ref().and_then(|c| c.broken.clone()) {
                if !s.done {
                    mark_cut(conns, xfers, &st);
                    return Err(Error::new(
                        ErrorKind::PeerLost,
                        format!("connection to peer {p} is unusable: {why}"),
                    ));
                }
            }
        }
        let mut progressed = false;
        active.clear();
        if !reqs.is_idle() {
            let busy = |p: usize| receiving_from(xfers, &st, p);
            progressed |= super::progress::requests(conns, matcher, reqs, &busy);
        }
        for i in 0..xfers.len() {
            if st[i].done || blocked_by_earlier(xfers, &st, i) {
                continue;
            }
            if matches!(xfers[i], Xfer::Send { .. }) && reqs.sends_to(xfers[i].peer()) {
                // Frames go whole and in order: the queued sends to this peer first.
                continue;
            }
            active.push(i);
            let peer = xfers[i].peer();
            let conn = conns[peer].as_mut().expect("checked above");
            let res = match &mut xfers[i] {
                Xfer::Send { data, .. } => progress_send_any(&mut conn.stream, &mut st[i], data),
                Xfer::Recv { buf, .. } => {
                    let (stream, mut rx) = conn.split(&mut *matcher, &mut *reqs, peer);
                    progress_recv(&mut reader(stream), &mut rx, &mut st[i], buf, &label)
                }
            };
            match res {
                Ok(p) => progressed |= p,
                Err(e) => {
                    conn.broken = Some(e.message().to_string());
                    return Err(e.context(format!("peer {peer}")));
                }
            }
            if st[i].blocked {
                let e = blocked_error(&label, conns[peer].as_ref().and_then(|c| c.head), peer);
                mark_cut(conns, xfers, &st);
                return Err(e);
            }
            if st[i].done && st[i].mismatch && first_err.is_none() {
                first_err = Some(Error::new(
                    ErrorKind::SizeMismatch,
                    format!(
                        "message from peer {peer} has {} bytes, receive buffer has {} bytes",
                        st[i].len.unwrap_or(0),
                        xfer_len(&xfers[i])
                    ),
                ));
            }
        }
        if st.iter().all(|s| s.done) {
            return match first_err {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        match spin.next(progressed, deadline) {
            Next::Again => continue,
            Next::TimedOut => return Err(timeout_error(conns, xfers, &st)),
            Next::Poll => {}
        }
        pfds.clear();
        for &i in &active {
            if st[i].done {
                continue;
            }
            let c = conns[xfers[i].peer()].as_ref().expect("checked above");
            let events = match xfers[i] {
                Xfer::Send { .. } => libc::POLLOUT,
                Xfer::Recv { .. } => libc::POLLIN,
            };
            pfds.push(libc::pollfd {
                fd: c.stream.tcp().as_raw_fd(),
                events,
                revents: 0,
            });
        }
        if !reqs.is_idle() {
            let busy = |p: usize| receiving_from(xfers, &st, p);
            super::progress::pollfds(conns, matcher, reqs, &busy, &mut pfds);
        }
        claim(conns, xfers, &st);
        g.unlocked(|| poll_until(&mut pfds, deadline))?;
    }
}

/// Claims the connections this call reads (an unfinished receive) or writes a frame on (a
/// started, unfinished send), before it releases the lock.
fn claim(conns: &mut [Option<Conn>], xfers: &[Xfer<'_>], st: &[State]) {
    for x in xfers {
        if let Some(c) = conns[x.peer()].as_mut() {
            c.call_reads = false;
            c.call_writes = false;
        }
    }
    for (x, s) in xfers.iter().zip(st) {
        if s.done {
            continue;
        }
        let Some(c) = conns[x.peer()].as_mut() else {
            continue;
        };
        match x {
            Xfer::Recv { .. } => c.call_reads = true,
            Xfer::Send { .. } => c.call_writes |= s.started(),
        }
    }
}

/// Whether a receive of this call still reads from `peer` (it then also serves the
/// non-blocking requests' messages that arrive first).
fn receiving_from(xfers: &[Xfer<'_>], st: &[State], peer: usize) -> bool {
    xfers
        .iter()
        .zip(st)
        .any(|(x, s)| !s.done && x.peer() == peer && matches!(x, Xfer::Recv { .. }))
}

fn xfer_len(x: &Xfer<'_>) -> usize {
    match x {
        Xfer::Send { data, .. } => data.len(),
        Xfer::Recv { buf, .. } => buf.len(),
    }
}

/// Transfers to the same peer in the same direction complete in list order.
fn blocked_by_earlier(xfers: &[Xfer<'_>], st: &[State], i: usize) -> bool {
    let send = matches!(xfers[i], Xfer::Send { .. });
    let peer = xfers[i].peer();
    xfers[..i]
        .iter()
        .zip(st)
        .any(|(x, s)| !s.done && x.peer() == peer && matches!(x, Xfer::Send { .. }) == send)
}

/// The error of a receive that a parked point-to-point message stands in front of: the message
/// it waits for is behind it in the stream, and nothing in this call can take the parked one.
fn blocked_error(label: &Header, head: Option<Header>, peer: usize) -> Error {
    let want = match label.kind {
        Kind::Collective => crate::tag::describe_tag(label.tag),
        Kind::P2p => "send/recv".into(),
    };
    let ahead = match head {
        Some(h) if h.kind == Kind::Collective => format!(
            "a message of {} ({} bytes, communicator context {}) that this rank has not called yet",
            crate::tag::describe_tag(h.tag),
            h.len,
            h.ctx
        ),
        Some(h) => format!(
            "a point-to-point message (tag {}, {} bytes) that no receive has taken yet",
            h.tag, h.len
        ),
        None => "a message".into(),
    };
    Error::invalid(format!(
        "peer {peer} sent {ahead} and that exceeds the unexpected-message buffer; the {want} \
         message this call waits for is behind it (take that message first, or raise \
         communicator.unexpected_buffer_bytes)"
    ))
}

/// Marks the connections of unfinished, started transfers broken (a message was cut off).
fn mark_cut(conns: &mut [Option<Conn>], xfers: &[Xfer<'_>], st: &[State]) {
    for (x, s) in xfers.iter().zip(st) {
        if !s.done && s.started() {
            if let Some(c) = conns[x.peer()].as_mut() {
                c.broken = Some("a message was cut off by a timeout".into());
            }
        }
    }
}

fn timeout_error(conns: &mut [Option<Conn>], xfers: &[Xfer<'_>], st: &[State]) -> Error {
    let mut waiting = Vec::new();
    for (x, s) in xfers.iter().zip(st) {
        if s.done {
            continue;
        }
        let p = x.peer();
        waiting.push(match x {
            Xfer::Send { .. } => format!("send to peer {p}"),
            Xfer::Recv { .. } => format!("receive from peer {p}"),
        });
    }
    mark_cut(conns, xfers, st);
    Error::new(
        ErrorKind::Timeout,
        format!("timed out waiting for {}", waiting.join(", ")),
    )
}

/// What a receive sees of its connection besides the stream: bytes read ahead, a parked
/// header, an unexpected message being read, and the matcher those go to.
pub(super) struct Rx<'a> {
    pub pending: &'a mut Ahead,
    pub head: &'a mut Option<Header>,
    pub stash: &'a mut Option<Stash>,
    pub early: &'a mut VecDeque<(Header, Vec<u8>)>,
    pub matcher: &'a mut Matcher,
    pub reqs: &'a mut Requests,
    /// The peer at the other end.
    pub src: usize,
}

/// Reads more of the message in `rx.stash`; when it is complete, hands it to the matcher
/// (an unexpected message: it may complete a non-blocking receive posted meanwhile) or completes
/// its request. Returns (complete, whether any byte moved).
pub(super) fn progress_stash(stream: &mut impl Read, rx: &mut Rx<'_>) -> Result<(bool, bool)> {
    let mut moved = false;
    let Some(st) = rx.stash.as_mut() else {
        return Ok((true, false));
    };
    let mut sink = [0u8; 4096];
    while st.got < st.len {
        let target: &mut [u8] = match &mut st.into {
            Into::Queue(data) | Into::Collective(_, data) => &mut data[st.got..],
            Into::Request(r) if st.got < r.buf.len() => {
                let end = st.len.min(r.buf.len());
                &mut r.buf.bytes_mut()[st.got..end]
            }
            Into::Request(_) => {
                let n = (st.len - st.got).min(sink.len());
                &mut sink[..n]
            }
        };
        match payload_read(read_vec(stream, rx.pending, target, &mut []))? {
            Some(n) => {
                st.got += n;
                moved |= n > 0;
            }
            None => return Ok((false, moved)),
        }
    }
    let st = rx.stash.take().expect("checked above");
    match st.into {
        Into::Queue(data) => {
            // During a collective no blocking receive is posted; in a tagged receive the driver
            // checks for a delivery after each step. A non-blocking receive completes here.
            if let Some(id) = rx.matcher.buffered(st.env, data) {
                rx.reqs.deliver(rx.matcher, id);
            }
        }
        Into::Request(r) => {
            let cap = r.buf.len();
            rx.reqs.complete(r.id, received(st.env, st.len, cap));
        }
        Into::Collective(h, data) => rx.early.push_back((h, data)),
    }
    Ok((true, moved))
}

/// A point-to-point message `h` has arrived: the matcher gives it to a posted receive (the
/// caller reads its payload; for a non-blocking receive it is read into `rx.stash` next and the
/// answer is `Buffer`), buffers it (its payload is read into `rx.stash` next) or parks it (the
/// stream is not read further).
pub(super) fn divert(rx: &mut Rx<'_>, h: Header) -> Result<Arrival> {
    let len = usize::try_from(h.len).map_err(|_| Error::channel("message length overflows"))?;
    let env = Envelope {
        ctx: h.ctx,
        src: rx.src,
        tag: h.tag,
    };
    let a = rx.matcher.arrive(env, len);
    match a {
        Arrival::Buffer => *rx.stash = Some(Stash::queued(env, len)),
        Arrival::Park => {
            rx.matcher.parked(env, len);
            *rx.head = Some(h);
        }
        Arrival::Matched(id) => {
            if let Some(r) = rx.reqs.take_posted(id) {
                // A non-blocking receive: its payload is read like a stash, then the stream goes
                // on.
                *rx.stash = Some(Stash::request(env, len, r));
                return Ok(Arrival::Buffer);
            }
        }
    }
    Ok(a)
}

/// A collective message `h` that is not (or not yet) the current call's: read ahead into
/// `rx.early` when it fits the unexpected-message bound (its payload is read into `rx.stash`
/// next; returns true), else left at the head of the stream (false).
pub(super) fn set_aside(rx: &mut Rx<'_>, h: Header) -> Result<bool> {
    let len = usize::try_from(h.len).map_err(|_| Error::channel("message length overflows"))?;
    if !rx.matcher.reserve(len) {
        *rx.head = Some(h);
        return Ok(false);
    }
    *rx.stash = Some(Stash::collective(h, rx.src, len));
    Ok(true)
}

/// The current call's message among the collective messages read ahead, if it is there: its
/// header and payload (the reservation released). Messages of other contexts stay; a message of
/// this context with another tag means the peers called operations in a different order.
fn take_early(rx: &mut Rx<'_>, want: &Header) -> Result<Option<(Header, Vec<u8>)>> {
    let Some(i) = rx.early.iter().position(|(h, _)| h.ctx == want.ctx) else {
        return Ok(None);
    };
    let h = rx.early[i].0;
    if h.tag != want.tag {
        return Err(Error::invalid(format!(
            "peers called operations in a different order: received a message of {}, expected {}",
            crate::tag::describe_tag(h.tag),
            crate::tag::describe_tag(want.tag)
        )));
    }
    let (h, data) = rx.early.remove(i).expect("index from position");
    rx.matcher.release(data.len());
    Ok(Some((h, data)))
}

/// Reads as much of the expected message as is available from a non-blocking reader (which
/// answers WouldBlock when it has nothing). Returns whether any byte moved.
///
/// While the header is incomplete, header and payload are read with one vectored read into the
/// header and the receive buffer (one system call per small message). Should the header then
/// announce a shorter message than the buffer, the bytes read past its end belong to the next
/// messages and are kept in `pending`. A point-to-point message with another envelope goes to
/// the matcher (and its bytes read into the buffer back to `pending`).
fn progress_recv(
    stream: &mut impl Read,
    rx: &mut Rx<'_>,
    s: &mut State,
    buf: &mut [u8],
    want: &Header,
) -> Result<bool> {
    let mut moved = false;
    loop {
        let len = match s.len {
            Some(l) => l,
            None => {
                if rx.stash.is_some() {
                    let (complete, m) = progress_stash(stream, rx)?;
                    moved |= m;
                    if !complete {
                        return Ok(moved);
                    }
                }
                if want.kind == Kind::Collective && s.hdr_got == 0 {
                    if let Some((h, data)) = take_early(rx, want)? {
                        let l = data.len();
                        s.len = Some(l);
                        s.mismatch = l != buf.len();
                        if !s.mismatch {
                            buf.copy_from_slice(&data);
                        }
                        s.off = l;
                        debug_assert_eq!((h.ctx, h.tag), (want.ctx, want.tag));
                        continue;
                    }
                }
                let (h, mut early) = if let Some(h) = rx.head.take() {
                    (h, 0)
                } else {
                    let got = match read_vec(stream, rx.pending, &mut s.hdr[s.hdr_got..], buf) {
                        Ok(0) => {
                            return Err(Error::new(
                                ErrorKind::PeerLost,
                                "connection closed by peer",
                            ))
                        }
                        Ok(n) => n,
                        Err(e) if e.kind() == IoKind::WouldBlock => return Ok(moved),
                        Err(e) if e.kind() == IoKind::Interrupted => continue,
                        Err(e) => return Err(io_error(e, "receive")),
                    };
                    moved = true;
                    let h = got.min(HEADER_LEN - s.hdr_got);
                    s.hdr_got += h;
                    if s.hdr_got < HEADER_LEN {
                        continue;
                    }
                    let hd = frame::decode(&s.hdr)
                        .ok_or_else(|| Error::channel("corrupt message header (bad magic)"))?;
                    (hd, got - h)
                };
                let theirs = h.kind == Kind::P2p && (h.ctx, h.tag) != (want.ctx, want.tag);
                if h.kind == Kind::Collective && (want.kind == Kind::P2p || h.ctx != want.ctx) {
                    // A collective message of another call (a collective this rank has not
                    // called yet, or another communicator's): read it ahead, so that this call's
                    // message behind it can be read. Its bytes read into `buf` go back first.
                    rx.pending.unread(&buf[..early]);
                    s.hdr_got = 0;
                    if set_aside(rx, h)? {
                        continue;
                    }
                    s.blocked = true;
                    return Ok(moved);
                }
                if want.kind == Kind::Collective && h.kind == Kind::Collective && h.tag != want.tag
                {
                    return Err(Error::invalid(format!(
                        "peers called operations in a different order: received a message of {}, expected {}",
                        crate::tag::describe_tag(h.tag),
                        crate::tag::describe_tag(want.tag)
                    )));
                }
                if theirs || want.kind == Kind::Collective && h.kind == Kind::P2p {
                    // Not this call's message: its bytes read into `buf` go back to `pending`.
                    rx.pending.unread(&buf[..early]);
                    s.hdr_got = 0;
                    match divert(rx, h)? {
                        Arrival::Buffer => continue,
                        Arrival::Park => {
                            s.blocked = true;
                            return Ok(moved);
                        }
                        Arrival::Matched(_) => {
                            return Err(Error::new(
                                ErrorKind::Internal,
                                "a posted receive matched a message during another call",
                            ))
                        }
                    }
                }
                let l = usize::try_from(h.len)
                    .map_err(|_| Error::channel("message length overflows"))?;
                s.mismatch = l != buf.len();
                s.len = Some(l);
                if early > l {
                    // Read past a message shorter than the buffer: give the rest back.
                    rx.pending.unread(&buf[l..early]);
                    early = l;
                }
                s.off = early;
                l
            }
        };
        if s.off == len {
            s.done = true;
            return Ok(moved);
        }
        let r = if s.mismatch {
            let mut sink = [0u8; 16384];
            let want = (len - s.off).min(sink.len());
            read_vec(stream, rx.pending, &mut sink[..want], &mut [])
        } else {
            read_vec(stream, rx.pending, &mut buf[s.off..len], &mut [])
        };
        match payload_read(r)? {
            Some(n) => {
                s.off += n;
                moved |= n > 0;
            }
            None => return Ok(moved),
        }
    }
}

/// Plain socket I/O: poll, sendmsg, vectored reads, the readers over a connection.
mod io;
pub(super) use super::ahead::read_vec;
pub(super) use io::{
    io_error, payload_read, poll_until, progress_send_any, reader, send_nosignal, RawReader,
};

/// The same progress for TLS connections (relayed through a TLS rendezvous server): plaintext goes
/// through rustls' buffers, records through the non-blocking socket.
#[cfg(feature = "tls")]
mod tls;

/// The same progress for encrypted links: records sealed and opened around the socket.
mod noise;
