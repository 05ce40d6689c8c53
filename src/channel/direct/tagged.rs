//! Tagged point-to-point receives and probes on the direct channel, driven by the calling thread:
//! the matcher ([`super::matching`]) decides where each arriving message goes; this module moves
//! the bytes (headers, unexpected payloads into the matcher's queue, the matched payload straight
//! into the receive buffer) and waits in poll(2) until the call's deadline.
//!
//! Partial state survives between calls: bytes read ahead (a header's, and what arrived with
//! it) wait in the connection's `pending`, an
//! unexpected payload being read in its `stash`, a parked header in its `head`.

use super::conn::{Conn, Core};
use super::engine::{self, progress_send_any, progress_stash, read_vec, reader, Next, Spin, State};
use super::frame::{self, Header, Kind, HEADER_LEN};
use super::matching::{Arrival, Envelope, Matcher, Pattern, PostId, Posted};
use super::progress::{self, CoreGuard};
use super::requests::{received as finish, Requests};
use crate::channel::{MsgStatus, Source};
use crate::error::{Error, ErrorKind, Result};
use std::io::ErrorKind as IoKind;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// The connections and matching state of one transport, locked (the lock is released while a
/// call waits in poll(2), with the connections it reads or writes claimed, so that the
/// collectives worker's requests progress meanwhile; the caller holds the call lock).
pub(super) struct Io<'a, 'g> {
    pub g: &'a mut CoreGuard<'g>,
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

impl Io<'_, '_> {
    /// Claims the connections of `reads` for reading and `write` for writing (releasing the
    /// others) before the lock is released.
    fn claim(&mut self, reads: &[usize], write: Option<usize>) {
        for (p, c) in self.g.conns.iter_mut().enumerate() {
            if let Some(c) = c {
                c.call_reads = reads.contains(&p);
                c.call_writes = write == Some(p);
            }
        }
    }

    /// Releases every claim of this call; the driver, if any, looks again at what to wait for.
    fn release(&mut self) {
        let mut any = false;
        for c in self.g.conns.iter_mut().flatten() {
            any |= c.call_reads || c.call_writes;
            c.call_reads = false;
            c.call_writes = false;
        }
        if any {
            self.g.kick_driver();
        }
    }

    fn conn(&mut self, peer: usize, what: &str) -> Result<&mut Conn> {
        if peer == self.rank {
            return Err(Error::invalid(format!(
                "{what} {peer} is this rank (messages to self are not supported)"
            )));
        }
        match self.g.conns.get_mut(peer) {
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
            Source::Any => Ok((0..self.g.conns.len())
                .filter(|&p| matches!(&self.g.conns[p], Some(c) if c.broken.is_none()))
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
            // One read brings the header and whatever else has arrived (the payload, the next
            // messages), served from `pending` afterwards.
            match rx.pending.fill(&mut r) {
                Ok(0) => return Err(Error::new(ErrorKind::PeerLost, "connection closed by peer")),
                Ok(_) => moved = true,
                Err(e) if e.kind() == IoKind::WouldBlock => return Ok((Step::Open, moved)),
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => return Err(engine::io_error(e, "receive")),
            }
        }
        let mut hb = [0u8; HEADER_LEN];
        rx.pending.take_into(&mut hb, &mut []);
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
fn blocked_error(io: &Io<'_, '_>, peers: &[usize]) -> Error {
    if peers.is_empty() {
        return Error::invalid("no peer to receive from (a communicator of one rank)");
    }
    let why: Vec<String> = peers
        .iter()
        .map(|&p| match io.g.conns[p].as_ref().and_then(|c| c.head) {
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
/// non-blocking requests wait on is ready), or until `deadline`, with the lock released and the
/// connections `mine` (which this call reads) and `write` claimed.
fn wait(
    io: &mut Io<'_, '_>,
    read: &[usize],
    mine: &[usize],
    write: Option<usize>,
    deadline: Instant,
) -> Result<()> {
    let mut pfds: Vec<libc::pollfd> = Vec::with_capacity(read.len() + 1);
    let core: &Core = io.g;
    let fd = |p: usize| core.conns[p].as_ref().map(|c| c.stream.tcp().as_raw_fd());
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
    if !core.reqs.is_idle() {
        progress::pollfds(
            &core.conns,
            &core.matcher,
            &core.reqs,
            &|p| read.contains(&p) || mine.contains(&p),
            &mut pfds,
        );
    }
    io.claim(mine, write);
    io.g.unlocked(|| engine::poll_until(&mut pfds, deadline))?;
    // While the lock was released, a connection of this call may have failed.
    for &p in mine.iter().chain(write.iter()) {
        io.conn(p, "peer")?;
    }
    Ok(())
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
fn step_all(io: &mut Io<'_, '_>, peers: &[usize]) -> Result<Swept> {
    let mut moved = false;
    let mut open = Vec::with_capacity(peers.len());
    let core: &mut Core = io.g;
    for &p in peers {
        let conn = core.conns[p].as_mut().expect("sources() checked it");
        match step(conn, p, &mut core.matcher, &mut core.reqs) {
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
    io: &mut Io<'_, '_>,
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
    let mut posted = match io.g.matcher.post(pat) {
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
    io.release();
    if let Some(id) = posted {
        io.g.matcher.unpost(id);
    }
    if r.is_err() {
        if let Some(rd) = reading.filter(|rd| rd.got < rd.len) {
            if let Some(c) = io.g.conns[rd.env.src].as_mut() {
                c.broken = Some("a message was cut off by a failed receive".into());
            }
        }
        if let Some((s, o)) = &send {
            if !s.done() {
                if let Some(c) = io.g.conns[o.dest].as_mut() {
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
    io: &mut Io<'_, '_>,
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
        // The connections this receive reads; the others serve the non-blocking requests.
        let mine: Vec<usize> = match reading {
            Some(rd) => vec![rd.env.src],
            None if done.is_none() => peers.to_vec(),
            None => Vec::new(),
        };
        if !io.g.reqs.is_idle() {
            let core: &mut Core = io.g;
            moved |= progress::requests(&mut core.conns, &mut core.matcher, &mut core.reqs, &|p| {
                mine.contains(&p)
            });
        }
        if let Some((s, o)) = send.as_mut() {
            if !s.done() {
                // Frames go whole and in order: queued non-blocking sends to the peer first.
                if s.started() || !io.g.reqs.sends_to(o.dest) {
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
                    if let Some(u) = posted.and_then(|id| io.g.matcher.take_delivered(id)) {
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
                let c = io.g.conns[rd.env.src]
                    .as_mut()
                    .expect("a matched connection");
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
        let mine: Vec<usize> = match reading {
            Some(rd) => vec![rd.env.src],
            None if done.is_none() => peers.to_vec(),
            None => Vec::new(),
        };
        // A frame this call started must end before anyone else writes to its peer.
        let writing = send
            .as_ref()
            .filter(|(s, _)| s.started() && !s.done())
            .map(|(_, o)| o.dest);
        wait(io, &open, &mine, sending.or(writing), deadline)?;
    }
}

/// The oldest message matching `pat`, left for a receive: waits for one until `deadline`, or
/// (None) reads only what has arrived and answers at once.
pub(super) fn probe(
    io: &mut Io<'_, '_>,
    pat: Pattern,
    deadline: Option<Instant>,
) -> Result<Option<MsgStatus>> {
    let r = probe_claimed(io, pat, deadline);
    io.release();
    r
}

fn probe_claimed(
    io: &mut Io<'_, '_>,
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
        let moved_r = !io.g.reqs.is_idle() && moved_reqs(io, &peers);
        if let Some(found) = io.g.matcher.peek(&pat) {
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
            return Ok(io.g.matcher.peek(&pat).map(status));
        };
        if !moved && io.g.matcher.peek(&pat).is_none() && open.is_empty() {
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
        wait(io, &open, &peers, None, deadline)?;
    }
}

/// A step of the pending non-blocking requests on the connections other than `peers`.
fn moved_reqs(io: &mut Io<'_, '_>, peers: &[usize]) -> bool {
    let core: &mut Core = io.g;
    progress::requests(&mut core.conns, &mut core.matcher, &mut core.reqs, &|p| {
        peers.contains(&p)
    })
}

#[cfg(test)]
mod tests {
    use super::super::conn::{Conn, Core, Wire};
    use super::super::frame::{self, Header};
    use super::super::matching::Matcher;
    use super::super::progress;
    use super::super::requests::Requests;
    use crate::channel::request::RecvBuf;
    use crate::channel::{Link, Source, TagSel};
    use crate::rendezvous::tls::Stream;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    fn payload(i: usize) -> Vec<u8> {
        let len = [0, 1, 8, 23, 24, 25, 1024, 3000][i % 8] + i % 5;
        (0..len).map(|k| (i * 31 + k * 7) as u8).collect()
    }

    /// Many small frames sent back to back, cut into writes of odd sizes (headers split across
    /// reads, several frames in one read), taken by non-blocking receives posted before and after
    /// their messages arrive: every message arrives whole, once, in order, with its own bytes.
    #[test]
    fn small_frames_split_and_packed_arrive_whole_and_once() {
        const N: usize = 600;
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut tx = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (rx, _) = l.accept().unwrap();
        rx.set_nonblocking(true).unwrap();
        let mut wire = Vec::new();
        for i in 0..N {
            let p = payload(i);
            let tag = (i % 3) as u32;
            wire.extend_from_slice(&frame::encode(&Header::p2p(7, tag, p.len() as u64)));
            wire.extend_from_slice(&p);
        }
        let writer = std::thread::spawn(move || {
            let cuts = [1usize, 5, 23, 24, 25, 47, 3, 4096, 11, 70_000, 2];
            let (mut at, mut k) = (0, 0);
            while at < wire.len() {
                let n = cuts[k % cuts.len()].min(wire.len() - at);
                tx.write_all(&wire[at..at + n]).unwrap();
                tx.flush().unwrap();
                at += n;
                k += 1;
                if k % 4 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            tx
        });
        let conn = Conn::new(
            Wire {
                raw: Stream::Plain(rx),
                seal: None,
            },
            Link::Direct,
        );
        let mut core = Core {
            conns: vec![None, Some(conn)],
            matcher: Matcher::new(1 << 20),
            reqs: Requests::new(2),
            driving: false,
        };
        let mut bufs: Vec<Vec<u8>> = (0..N).map(|i| vec![0xEE; payload(i).len() + 3]).collect();
        let mut ids = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut posted = 0;
        let mut results = vec![None; N];
        while results.iter().any(Option::is_none) {
            assert!(Instant::now() < deadline, "messages did not arrive");
            // Receives posted in bursts: some messages arrive before theirs (unexpected).
            let upto = (posted + 37).min(N);
            for (i, b) in bufs.iter_mut().enumerate().take(upto).skip(posted) {
                // SAFETY: each buffer outlives its request (checked before the end of the test).
                let buf = unsafe { RecvBuf::new(b.as_mut_ptr(), b.len()) };
                let tag = TagSel::Tag((i % 3) as u32);
                ids.push(progress::post_recv(&mut core, 0, 7, buf, Source::Rank(1), tag).unwrap());
            }
            posted = upto;
            let Core {
                conns,
                matcher,
                reqs,
                ..
            } = &mut core;
            progress::requests(conns, matcher, reqs, &|_| false);
            for (i, id) in ids.iter().enumerate() {
                if results[i].is_none() {
                    results[i] = core.reqs.result(*id);
                }
            }
            assert!(core.conns[1].as_ref().unwrap().broken.is_none());
        }
        let _tx = writer.join().unwrap();
        for (i, r) in results.into_iter().enumerate() {
            let st = r.unwrap().unwrap();
            let p = payload(i);
            assert_eq!(
                (st.source, st.tag, st.bytes),
                (1, (i % 3) as u32, p.len()),
                "message {i}"
            );
            assert_eq!(&bufs[i][..p.len()], &p[..], "message {i}'s bytes");
            assert_eq!(
                &bufs[i][p.len()..],
                &[0xEE; 3],
                "message {i} wrote past its end"
            );
        }
        let c = core.conns[1].as_ref().unwrap();
        assert!(c.pending.is_empty() && c.stash.is_none() && c.head.is_none());
    }
}
