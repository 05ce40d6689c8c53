//! The direct channel: TCP connections between every pair of peers, set up through the rendezvous
//! server with hole punching, carrying length-framed messages.

mod engine;
mod frame;
pub mod mesh;
pub mod punch;

use super::{P2pTransport, Xfer};
use crate::config::DirectConfig;
use crate::error::{Error, Result};
use engine::Conn;
use std::time::{Duration, Instant};

/// Direct TCP transport of one communicator.
pub struct DirectTransport {
    rank: usize,
    size: usize,
    conns: Vec<Option<Conn>>,
    spin: Duration,
}

impl DirectTransport {
    /// Connects to all peers (collective: every rank of the job must call it).
    pub fn connect(
        rank: usize,
        size: usize,
        job: &str,
        cfg: &DirectConfig,
        spin: Duration,
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
        })
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
    fn exchange(&mut self, tag: u32, xfers: &mut [Xfer<'_>], deadline: Instant) -> Result<()> {
        engine::run(&mut self.conns, tag, xfers, deadline, self.spin)
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
