//! Tagged point-to-point receives and probes on the direct channel, driven by the calling thread:
//! the matcher ([`super::matching`]) decides where each arriving message goes; this module moves
//! the bytes (headers, unexpected payloads into the matcher's queue, the matched payload straight
//! into the receive buffer) and waits in poll(2) until the call's deadline.
//!
//! Partial state survives between calls: header bytes wait in the connection's `pending`, an
//! unexpected payload being read in its `stash`, a parked header in its `head`.

use super::conn::Conn;
use super::engine::{self, progress_send_any, progress_stash, read_vec, reader, Next, Spin, State};
use super::frame::{self, Header, Kind, HEADER_LEN};
use super::matching::{Arrival, Envelope, Matcher, Pattern, PostId, Posted};
use super::progress;
use super::requests::{received as finish, Requests};
use crate::channel::{MsgStatus, Source};
use crate::error::{Error, ErrorKind, Result};
use std::io::{ErrorKind as IoKind, Read};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// The connections and matching state of one transport.
pub(super) struct Io<'a> {
    pub conns: &'a mut [Option<Conn>],
    pub matcher: &'a mut Matcher,
    pub reqs: &'a mut Requests,
    pub rank: usize,
    pub spin: Duration,
}

/// The send half of a send-receive: `data` to `dest` under `label`.
pub(super) struct Out<'d> {
    pub label: Header,
    pub data: &'d [u8],
    pub dest: usize,
}

/// A matched message whose payload is being read from its connection.
struct Reading {
    env: Envelope,
    len: usize,
    got: usize,
}

/// What one connection did in [`step`].
pub(super) enum Step {
    /// Nothing more to read now.
    Open,
    /// The header of the posted receive's message: its payload is next in the stream.
    Matched(Header),
    /// A buffered message was delivered to the posted receive.
    Delivered,
    /// A parked header stands at the front of the stream.
    Blocked,
}

impl Io<'_> {
    fn conn(&mut self, peer: usize, what: &str) -> Result<&mut Conn> {
        if peer == self.rank {
            return Err(Error::invalid(format!(
                "{what} {peer} is this rank (messages to self are not supported)"
            )));
        }
        match self.conns.get_mut(peer) {
            Some(Some(c)) => match &c.broken {
                Some(why) => Err(Error::new(
                    ErrorKind::PeerLost,
                    format!("connection to peer {peer} is unusable: {why}"),
                )),
                None => Ok(c),
            },
            _ => Err(Error::invalid(format!("no connection to peer {peer}"))),
        }
    }

    /// The peers a receive from `src` reads from.
    fn sources(&mut self, src: Source) -> Result<Vec<usize>> {
        match src {
            Source::Rank(r) => self.conn(r, "source").map(|_| vec![r]),
            Source::Any => Ok((0..self.conns.len())
                .filter(|&p| matches!(&self.conns[p], Some(c) if c.broken.is_none()))
                .collect()),
        }
    }
}

/// Reads what has arrived on one connection: finishes an unexpected payload, then reads headers
/// and hands point-to-point messages to the matcher until one is matched, a header is parked, or
/// nothing more has arrived. Returns what happened and whether any byte moved.
pub(super) fn step(
    conn: &mut Conn,
    src: usize,
    matcher: &mut Matcher,
    reqs: &mut Requests,
) -> Result<(Step, bool)> {
    let (stream, mut rx) = conn.split(matcher, reqs, src);
    let mut r = reader(stream);
    let mut moved = false;
    loop {
        if rx.stash.is_some() {
            let (complete, m) = progress_stash(&mut r, &mut rx)?;
            moved |= m;
            if !complete {
                return Ok((Step::Open, moved));
            }
            if rx.matcher.has_delivered() {
                return Ok((Step::Delivered, moved));
            }
        }
        if rx.head.is_some() {
            return Ok((Step::Blocked, moved));
        }
        while rx.pending.len() < HEADER_LEN {
            let mut tmp = [0u8; HEADER_LEN];
            let need = HEADER_LEN - rx.pending.len();
            match r.read(&mut tmp[..need]) {
                Ok(0) => return Err(Error::new(ErrorKind::PeerLost, "connection closed by peer")),
                Ok(n) => {
                    rx.pending.extend_from_slice(&tmp[..n]);
                    moved = true;
                }
                Err(e) if e.kind() == IoKind::WouldBlock => return Ok((Step::Open, moved)),
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => return Err(engine::io_error(e, "receive")),
            }
        }
        let mut hb = [0u8; HEADER_LEN];
        hb.copy_from_slice(&rx.pending[..HEADER_LEN]);
        rx.pending.drain(..HEADER_LEN);
        let h = frame::decode(&hb)
            .ok_or_else(|| Error::channel("corrupt message header (bad magic)"))?;
        if h.kind == Kind::Collective {
            // A collective this rank has not called yet (or another communicator's): read
            // ahead, so that the point-to-point messages behind it can be read.
            if engine::set_aside(&mut rx, h)? {
                continue;
            }
            return Ok((Step::Blocked, moved));
        }
        match engine::divert(&mut rx, h)? {
            // The one posted receive of a blocking call.
            Arrival::Matched(_) => return Ok((Step::Matched(h), moved)),
            Arrival::Park => return Ok((Step::Blocked, moved)),
            Arrival::Buffer => {}
        }
    }
}

/// Reads more of a matched payload into `buf`; bytes past `buf`'s end are discarded (the
/// receive then fails with a truncation). Returns whether any byte moved.
fn read_payload(conn: &mut Conn, rd: &mut Reading, buf: &mut [u8]) -> Result<bool> {
    let Conn {
        stream, pending, ..
    } = conn;
    let mut r = reader(stream);
    let mut moved = false;
    let mut sink = [0u8; 4096];
    while rd.got < rd.len {
        let res = if rd.got < buf.len() {
            let end = rd.len.min(buf.len());
            read_vec(&mut r, pending, &mut buf[rd.got..end], &mut [])
        } else {
            let n = (rd.len - rd.got).min(sink.len());
            read_vec(&mut r, pending, &mut sink[..n], &mut [])
        };
        match engine::payload_read(res)? {
            Some(n) => {
                rd.got += n;
                moved |= n > 0;
            }
            None => return Ok(moved),
        }
    }
    Ok(moved)
}

/// Why a receive or probe from `peers` can never complete: each one's stream is blocked.
fn blocked_error(io: &Io<'_>, peers: &[usize]) -> Error {
    if peers.is_empty() {
        return Error::invalid("no peer to receive from (a communicator of one rank)");
    }
    let why: Vec<String> = peers
        .iter()
        .map(|&p| match io.conns[p].as_ref().and_then(|c| c.head) {
            Some(h) if h.kind == Kind::Collective => format!(
                "peer {p} already sent its message of {} ({} bytes), which exceeds the \
                 unexpected-message buffer",
                crate::tag::describe_tag(h.tag),
                h.len
            ),
            Some(h) => format!(
                "peer {p} sent a message (tag {}, {} bytes) that does not match and exceeds the \
                 unexpected-message buffer",
                h.tag, h.len
            ),
            None => format!("peer {p} is blocked"),
        })
        .collect();
    Error::invalid(format!(
        "this call would wait forever: {}; peers called operations in a different order",
        why.join(", ")
    ))
}

/// Waits until one of `read` is readable or `write` is writable (or a connection that pending
/// non-blocking requests wait on is ready), or until `deadline`.
fn wait(io: &Io<'_>, read: &[usize], write: Option<usize>, deadline: Instant) -> Result<()> {
    let mut pfds: Vec<libc::pollfd> = Vec::with_capacity(read.len() + 1);
    let fd = |p: usize| io.conns[p].as_ref().map(|c| c.stream.tcp().as_raw_fd());
    for &p in read {
        if let Some(fd) = fd(p) {
            pfds.push(libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
        }
    }
    if let Some(fd) = write.and_then(fd) {
        pfds.push(libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        });
    }
    if !io.reqs.is_idle() {
        progress::pollfds(
            io.conns,
            io.matcher,
            io.reqs,
            &|p| read.contains(&p),
            &mut pfds,
        );
    }
    engine::poll_until(&mut pfds, deadline)
}

/// What [`step_all`] did.
struct Swept {
    /// Whether any byte moved.
    moved: bool,
    /// The peer and header of the posted receive's message.
    matched: Option<(usize, Header)>,
    /// A buffered message was delivered to the posted receive.
    delivered: bool,
    /// The peers whose connections are not blocked.
    open: Vec<usize>,
}

/// Steps every connection of `peers` that is not blocked.
fn step_all(io: &mut Io<'_>, peers: &[usize]) -> Result<Swept> {
    let mut moved = false;
    let mut open = Vec::with_capacity(peers.len());
    for &p in peers {
        let conn = io.conns[p].as_mut().expect("sources() checked it");
        match step(conn, p, io.matcher, io.reqs) {
            Ok((s, m)) => {
                moved |= m;
                match s {
                    Step::Open => open.push(p),
                    Step::Blocked => {}
                    Step::Matched(h) => {
                        return Ok(Swept {
                            moved: true,
                            matched: Some((p, h)),
                            delivered: false,
                            open: vec![p],
                        })
                    }
                    Step::Delivered => {
                        return Ok(Swept {
                            moved: true,
                            matched: None,
                            delivered: true,
                            open: vec![p],
                        })
                    }
                }
            }
            Err(e) => {
                conn.broken = Some(e.message().to_string());
                return Err(e.context(format!("peer {p}")));
            }
        }
    }
    Ok(Swept {
        moved,
        matched: None,
        delivered: false,
        open,
    })
}

/// Receives the oldest message matching `pat` into `buf` and, with `out`, sends concurrently.
pub(super) fn recv(
    io: &mut Io<'_>,
    pat: Pattern,
    buf: &mut [u8],
    out: Option<Out<'_>>,
    deadline: Instant,
) -> Result<MsgStatus> {
    let peers = io.sources(pat.src)?;
    if let Some(o) = &out {
        io.conn(o.dest, "destination")?;
    }
    let mut send = out.map(|o| (State::sending(&o.label, o.data.len()), o));
    let mut reading = None;
    let mut done = None;
    let mut posted = match io.matcher.post(pat) {
        Posted::Found(u) => {
            match u.payload {
                Some(d) => {
                    let n = d.len().min(buf.len());
                    buf[..n].copy_from_slice(&d[..n]);
                    done = Some(finish(u.env, u.len, buf.len()));
                }
                None => {
                    // Parked: its payload is next in the connection.
                    let c = io.conn(u.env.src, "source")?;
                    c.head = None;
                    reading = Some(Reading {
                        env: u.env,
                        len: u.len,
                        got: 0,
                    });
                }
            }
            None
        }
        Posted::Waiting(id) => Some(id),
    };
    let r = drive(
        io,
        &peers,
        buf,
        &mut send,
        &mut posted,
        &mut reading,
        &mut done,
        deadline,
    );
    if let Some(id) = posted {
        io.matcher.unpost(id);
    }
    if r.is_err() {
        if let Some(rd) = reading.filter(|rd| rd.got < rd.len) {
            if let Some(c) = io.conns[rd.env.src].as_mut() {
                c.broken = Some("a message was cut off by a failed receive".into());
            }
        }
        if let Some((s, o)) = &send {
            if !s.done() {
                if let Some(c) = io.conns[o.dest].as_mut() {
                    c.broken = Some("a message was cut off by a failed send".into());
                }
            }
        }
    }
    r?;
    done.expect("drive returns when the receive is done")
}

#[allow(clippy::too_many_arguments)]
fn drive(
    io: &mut Io<'_>,
    peers: &[usize],
    buf: &mut [u8],
    send: &mut Option<(State, Out<'_>)>,
    posted: &mut Option<PostId>,
    reading: &mut Option<Reading>,
    done: &mut Option<Result<MsgStatus>>,
    deadline: Instant,
) -> Result<()> {
    let mut spin = Spin::new(io.spin);
    loop {
        let mut moved = false;
        let mut sending = None;
        if !io.reqs.is_idle() {
            // The connections this receive does not read serve the non-blocking requests.
            let mine: &[usize] = match reading {
                Some(rd) => &[rd.env.src],
                None if done.is_none() => peers,
                None => &[],
            };
            moved |= progress::requests(io.conns, io.matcher, io.reqs, &|p| mine.contains(&p));
        }
        if let Some((s, o)) = send.as_mut() {
            if !s.done() {
                // Frames go whole and in order: queued non-blocking sends to the peer first.
                if s.started() || !io.reqs.sends_to(o.dest) {
                    let c = io.conn(o.dest, "destination")?;
                    moved |= progress_send_any(&mut c.stream, s, o.data)
                        .map_err(|e| e.context(format!("peer {}", o.dest)))?;
                }
                if !s.done() {
                    sending = Some(o.dest);
                }
            }
        }
        let mut open = Vec::new();
        if done.is_none() {
            if reading.is_none() {
                let sw = step_all(io, peers)?;
                moved |= sw.moved;
                open = sw.open;
                if sw.delivered {
                    if let Some(u) = posted.and_then(|id| io.matcher.take_delivered(id)) {
                        let d = u.payload.expect("a delivered message is buffered");
                        let n = d.len().min(buf.len());
                        buf[..n].copy_from_slice(&d[..n]);
                        *done = Some(finish(u.env, u.len, buf.len()));
                        *posted = None;
                    }
                }
                if let Some((p, h)) = sw.matched {
                    *posted = None;
                    *reading = Some(Reading {
                        env: Envelope {
                            ctx: h.ctx,
                            src: p,
                            tag: h.tag,
                        },
                        len: h.len as usize,
                        got: 0,
                    });
                }
            }
            if let Some(rd) = reading.as_mut() {
                let c = io.conns[rd.env.src].as_mut().expect("a matched connection");
                moved |= read_payload(c, rd, buf)
                    .map_err(|e| e.context(format!("peer {}", rd.env.src)))?;
                if rd.got == rd.len {
                    *done = Some(finish(rd.env, rd.len, buf.len()));
                } else {
                    open = vec![rd.env.src];
                }
            } else if open.is_empty() && !moved {
                return Err(blocked_error(io, peers));
            }
        }
        if done.is_some() && sending.is_none() {
            return Ok(());
        }
        match spin.next(moved, deadline) {
            Next::Again => continue,
            Next::Poll => {}
            Next::TimedOut => {
                let mut what = Vec::new();
                if let Some(p) = sending {
                    what.push(format!("send to peer {p}"));
                }
                if done.is_none() {
                    what.push(match reading {
                        Some(rd) => format!("the rest of a message from peer {}", rd.env.src),
                        None => "a matching message".to_string(),
                    });
                }
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("timed out waiting for {}", what.join(" and ")),
                ));
            }
        }
        wait(io, &open, sending, deadline)?;
    }
}

/// The oldest message matching `pat`, left for a receive: waits for one until `deadline`, or
/// (None) reads only what has arrived and answers at once.
pub(super) fn probe(
    io: &mut Io<'_>,
    pat: Pattern,
    deadline: Option<Instant>,
) -> Result<Option<MsgStatus>> {
    let peers = io.sources(pat.src)?;
    let status = |(env, len): (Envelope, usize)| MsgStatus {
        source: env.src,
        tag: env.tag,
        bytes: len,
    };
    let mut spin = Spin::new(io.spin);
    loop {
        let moved_r = !io.reqs.is_idle() && moved_reqs(io, &peers);
        if let Some(found) = io.matcher.peek(&pat) {
            return Ok(Some(status(found)));
        }
        let Swept {
            moved,
            matched,
            open,
            ..
        } = step_all(io, &peers)?;
        if matched.is_some() {
            return Err(Error::new(
                ErrorKind::Internal,
                "a probe found a posted receive",
            ));
        }
        let Some(deadline) = deadline else {
            return Ok(io.matcher.peek(&pat).map(status));
        };
        if !moved && io.matcher.peek(&pat).is_none() && open.is_empty() {
            return Err(blocked_error(io, &peers));
        }
        match spin.next(moved || moved_r, deadline) {
            Next::Again => continue,
            Next::Poll => {}
            Next::TimedOut => {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    "timed out waiting for a matching message",
                ))
            }
        }
        wait(io, &open, None, deadline)?;
    }
}

/// A step of the pending non-blocking requests on the connections other than `peers`.
fn moved_reqs(io: &mut Io<'_>, peers: &[usize]) -> bool {
    progress::requests(io.conns, io.matcher, io.reqs, &|p| peers.contains(&p))
}
