//! One connection's state in the direct channel: the stream and what was read from it apart
//! from the current call (bytes ahead, a parked header, a message being read, collective
//! messages read ahead), and the state one transport's lock guards ([`Core`]).

use super::ahead::Ahead;
use super::engine::Rx;
use super::frame::Header;
use super::matching::{Envelope, Matcher};
use super::requests::{PostedRecv, Requests};
use super::seal::Seal;
use crate::rendezvous::tls::Stream;
use std::collections::VecDeque;
use std::net::TcpStream;

/// The byte stream of a connection: the socket (plain TCP, or TLS to the rendezvous server's
/// relay) and, on an encrypted link, the Noise records every byte travels in.
pub struct Wire {
    pub raw: Stream,
    pub seal: Option<Box<Seal>>,
}

impl Wire {
    /// The TCP socket underneath (for poll, options and shutdown).
    pub fn tcp(&self) -> &TcpStream {
        self.raw.tcp()
    }
}

/// One established connection to a peer.
pub struct Conn {
    /// Plain TCP (direct or relayed), or TLS to the rendezvous server's relay; encrypted end to
    /// end when the link is.
    pub stream: Wire,
    /// How the connection was made.
    pub link: super::mesh::Link,
    /// Set when a failure left the byte stream in an unknown state; the connection is then unusable.
    pub broken: Option<String>,
    /// Bytes already read from the stream that belong to later messages (read ahead with a
    /// header, or past the end of a message that was shorter than its receive buffer); served
    /// before the stream.
    pub pending: Ahead,
    /// A header read whose payload is still in the stream: a collective message that did not
    /// fit the unexpected-message bound, or a point-to-point message parked by the matcher. The
    /// stream is not read further until a call consumes it.
    pub head: Option<Header>,
    /// A message whose payload is being read apart from the current call: unexpected, for a
    /// non-blocking receive, or a collective message read ahead of its call.
    pub stash: Option<Stash>,
    /// Collective messages read ahead of their call (so that the messages behind them could be
    /// read), oldest first; their bytes count in the matcher's bound until taken.
    pub early: VecDeque<(Header, Vec<u8>)>,
    /// A blocking call reads this connection itself (it has a receive from this peer to
    /// finish): while it waits with the lock released, nobody else reads the stream.
    pub call_reads: bool,
    /// A blocking call is in the middle of writing a frame on this connection: nobody else
    /// writes until it finished.
    pub call_writes: bool,
}

/// The payload of a point-to-point message being read apart from the current call: `got` of its
/// `len` bytes arrived.
pub struct Stash {
    pub env: Envelope,
    pub len: usize,
    pub got: usize,
    pub into: Into,
}

/// Where a [`Stash`] goes.
pub enum Into {
    /// An unexpected message: into the matcher's queue.
    Queue(Vec<u8>),
    /// The message of a posted non-blocking receive: into its buffer (bytes beyond the buffer
    /// are discarded and the receive fails with a truncation).
    Request(PostedRecv),
    /// A collective message read ahead of its call: into the connection's `early` list.
    Collective(Header, Vec<u8>),
}

impl Stash {
    /// An unexpected message of `len` bytes.
    pub fn queued(env: Envelope, len: usize) -> Stash {
        Stash {
            env,
            len,
            got: 0,
            into: Into::Queue(vec![0u8; len]),
        }
    }
    /// The collective message `h` (from `src`) of `len` bytes, read ahead of its call.
    pub fn collective(h: Header, src: usize, len: usize) -> Stash {
        Stash {
            env: Envelope {
                ctx: h.ctx,
                src,
                tag: h.tag,
            },
            len,
            got: 0,
            into: Into::Collective(h, vec![0u8; len]),
        }
    }
    /// The message of the non-blocking receive `r`.
    pub fn request(env: Envelope, len: usize, r: PostedRecv) -> Stash {
        Stash {
            env,
            len,
            got: 0,
            into: Into::Request(r),
        }
    }
}

/// The connections, the matching state and the non-blocking requests of one transport: what its
/// lock guards.
pub struct Core {
    pub conns: Vec<Option<Conn>>,
    pub matcher: Matcher,
    pub reqs: Requests,
    /// A thread waits in poll(2) for the requests' sockets with the lock released (the driver:
    /// the others wait for it to report completions).
    pub driving: bool,
}

impl Conn {
    /// The stream and the receive state of this connection to peer `src`, for one reader.
    pub(super) fn split<'a>(
        &'a mut self,
        matcher: &'a mut Matcher,
        reqs: &'a mut Requests,
        src: usize,
    ) -> (&'a mut Wire, Rx<'a>) {
        let rx = Rx {
            pending: &mut self.pending,
            head: &mut self.head,
            stash: &mut self.stash,
            early: &mut self.early,
            matcher,
            reqs,
            src,
        };
        (&mut self.stream, rx)
    }

    /// A connection ready for the engine.
    pub fn new(stream: Wire, link: super::mesh::Link) -> Conn {
        Conn {
            stream,
            link,
            broken: None,
            pending: Ahead::default(),
            head: None,
            stash: None,
            early: VecDeque::new(),
            call_reads: false,
            call_writes: false,
        }
    }
}
