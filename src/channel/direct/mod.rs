//! The direct channel: TCP connections between every pair of peers, set up through the rendezvous
//! server with hole punching, carrying length-framed messages: collective messages (checked by
//! the call's tag) and point-to-point messages (matched by envelope, [`matching`]).

mod engine;
mod frame;
pub mod matching;
pub mod mesh;
pub mod punch;
mod tagged;

use super::{MsgStatus, P2pTransport, Source, TagSel, TaggedSend, Xfer};
use crate::config::DirectConfig;
use crate::error::{Error, ErrorKind, Result};
use engine::Conn;
use frame::Header;
use matching::{Matcher, Pattern};
use std::time::{Duration, Instant};

/// Direct TCP transport of one communicator.
pub struct DirectTransport {
    rank: usize,
    size: usize,
    conns: Vec<Option<Conn>>,
    spin: Duration,
    matcher: Matcher,
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
        let streams = mesh::establish(rank, size, job, cfg, deadline)?;
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
        Ok(DirectTransport {
            rank,
            size,
            conns,
            spin,
            matcher: Matcher::new(unexpected),
        })
    }

    fn io(&mut self) -> tagged::Io<'_> {
        tagged::Io {
            conns: &mut self.conns,
            matcher: &mut self.matcher,
            rank: self.rank,
            spin: self.spin,
        }
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
        if tag == 0 && !self.matcher.is_idle() {
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
                let st = tagged::recv(&mut self.io(), pat, buf, None, deadline).map_err(|e| {
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
        engine::run(
            &mut self.conns,
            &mut self.matcher,
            label(ctx, tag),
            xfers,
            deadline,
            self.spin,
        )
    }
    fn send_tagged(
        &mut self,
        ctx: u32,
        data: &[u8],
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<()> {
        engine::run(
            &mut self.conns,
            &mut self.matcher,
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
        tagged::recv(&mut self.io(), pat, buf, out, deadline)
    }
    fn probe(
        &mut self,
        ctx: u32,
        src: Source,
        tag: TagSel,
        deadline: Option<Instant>,
    ) -> Result<Option<MsgStatus>> {
        tagged::probe(&mut self.io(), Pattern { ctx, src, tag }, deadline)
    }
    fn link(&self, peer: usize) -> Option<super::Link> {
        self.conns.get(peer)?.as_ref().map(|c| c.link)
    }
    fn close(&mut self) {
        for c in self.conns.iter_mut() {
            if let Some(c) = c.take() {
                let _ = c.stream.tcp().shutdown(std::net::Shutdown::Both);
            }
        }
    }
}
