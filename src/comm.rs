//! The communicator: owns the channel of a group of peers, its deadlines and call sequence, checks
//! arguments, and dispatches each operation to the algorithm that fits it.

use crate::channel::direct::DirectTransport;
use crate::channel::P2pTransport;
use crate::collective::buffer::AlignedBuf;
use crate::collective::p2p::{self, Ctx};
use crate::collective::{make_tag, OpCode};
use crate::config::Config;
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
use crate::op::ReduceOp;
use crate::rendezvous::protocol::valid_name;
use std::time::{Duration, Instant};

/// Channel-selection hint: minimise modelled latency or modelled cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    Fast,
    Cheap,
}

/// A group of `size` peers that exchange messages and run collectives.
///
/// All peers must call collective operations in the same order with matching arguments.
/// Every blocking call ends within [`Communicator::timeout`].
pub struct Communicator {
    rank: usize,
    size: usize,
    name: String,
    timeout: Duration,
    hint: Hint,
    faas_memory_mib: u32,
    config: Config,
    p2p: Box<dyn P2pTransport>,
    seq: u32,
}

impl std::fmt::Debug for Communicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Communicator")
            .field("rank", &self.rank)
            .field("size", &self.size)
            .field("name", &self.name)
            .field("channel", &self.p2p.name())
            .finish()
    }
}

impl Communicator {
    /// Joins the group `name` as `rank` of `size` (collective: every rank must call it).
    /// `faas_memory_mib` (0 = 128) feeds the cost model.
    pub fn new(
        rank: u32,
        size: u32,
        config: Config,
        name: &str,
        faas_memory_mib: u32,
    ) -> Result<Self> {
        if size == 0 {
            return Err(Error::invalid("num_peers must be at least 1"));
        }
        if rank >= size {
            return Err(Error::invalid(format!(
                "peer_id {rank} out of range for {size} peers (valid: 0..{})",
                size - 1
            )));
        }
        if !valid_name(name) {
            return Err(Error::invalid(format!(
                "comm_name {name:?} must be 1..=256 printable ASCII characters without spaces"
            )));
        }
        let Some(direct) = config.direct.as_ref() else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "this release implements only the Direct channel: enable backends.Direct \
                 (the Redis and S3 channels are not available yet)",
            ));
        };
        if config.redis.is_some() || config.s3.is_some() {
            tracing::warn!("Redis/S3 backends are enabled but not implemented yet; using the Direct channel only");
        }
        let start = Instant::now();
        let deadline = start + config.comm.timeout;
        let p2p = DirectTransport::connect(
            rank as usize,
            size as usize,
            name,
            direct,
            config.comm.spin,
            deadline,
        )
        .map_err(|e| {
            e.context(format!(
                "init of {name:?} (rank {rank} of {size}, channel direct, rendezvous {}:{}, after {:.3} s)",
                direct.host,
                direct.port,
                start.elapsed().as_secs_f64()
            ))
        })?;
        tracing::debug!(
            "rank {rank}/{size} of {name:?} connected in {:?}",
            start.elapsed()
        );
        Ok(Communicator {
            rank: rank as usize,
            size: size as usize,
            name: name.to_string(),
            timeout: config.comm.timeout,
            hint: Hint::Cheap,
            faas_memory_mib: if faas_memory_mib == 0 {
                128
            } else {
                faas_memory_mib
            },
            config,
            p2p: Box::new(p2p),
            seq: 0,
        })
    }

    /// Joins the group described by the environment (as set by `fmirun`): `FMI_PEER_ID`,
    /// `FMI_NUM_PEERS`, `FMI_COMM_NAME` (required), `FMI_CONFIG`, `FMI_FAAS_MEMORY` (optional),
    /// and the overrides `FMI_RENDEZVOUS`, `FMI_TIMEOUT_MS`.
    pub fn from_env() -> Result<Self> {
        fn num(key: &str, required: bool) -> Result<u32> {
            match std::env::var(key) {
                Ok(v) => v.trim().parse().map_err(|_| {
                    Error::config(format!("{key}: expected a non-negative integer, got {v:?}"))
                }),
                Err(_) if required => Err(Error::config(format!("{key} is not set"))),
                Err(_) => Ok(0),
            }
        }
        let rank = num("FMI_PEER_ID", true)?;
        let size = num("FMI_NUM_PEERS", true)?;
        let mem = num("FMI_FAAS_MEMORY", false)?;
        let name = std::env::var("FMI_COMM_NAME")
            .map_err(|_| Error::config("FMI_COMM_NAME is not set"))?;
        let path = std::env::var_os("FMI_CONFIG").filter(|s| !s.is_empty());
        let cfg = Config::load(path.as_deref().map(std::path::Path::new))?;
        Communicator::new(rank, size, cfg, &name, mem)
    }

    pub fn rank(&self) -> usize {
        self.rank
    }
    pub fn size(&self) -> usize {
        self.size
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    pub fn hint(&self) -> Hint {
        self.hint
    }
    pub fn faas_memory_mib(&self) -> u32 {
        self.faas_memory_mib
    }
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How `peer` is reached: None for this rank itself.
    pub fn peer_link(&self, peer: usize) -> Result<Option<crate::channel::Link>> {
        self.check_peer(peer, "peer")?;
        Ok(self.p2p.link(peer))
    }

    /// Sets the bound of every later blocking call (must be > 0).
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<()> {
        if timeout.is_zero() {
            return Err(Error::invalid("timeout must be greater than 0"));
        }
        self.timeout = timeout;
        Ok(())
    }

    /// Sets the channel-selection hint. With one channel (this release) it does not change the choice.
    pub fn set_hint(&mut self, hint: Hint) {
        self.hint = hint;
    }

    fn check_peer(&self, peer: usize, what: &str) -> Result<()> {
        if peer >= self.size {
            return Err(Error::invalid(format!(
                "{what} {peer} out of range for {} peers",
                self.size
            )));
        }
        Ok(())
    }

    fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
        if got != want {
            return Err(Error::new(
                ErrorKind::SizeMismatch,
                format!("{what} has {got} bytes, expected {want}"),
            ));
        }
        Ok(())
    }

    fn check_elems(len: usize, t: Datatype) -> Result<()> {
        if len % t.size() != 0 {
            return Err(Error::invalid(format!(
                "buffer of {len} bytes is not a whole number of {} elements",
                t.name()
            )));
        }
        Ok(())
    }

    /// Runs one operation with its tag and deadline, adding context to any error.
    fn run<T>(
        &mut self,
        op: OpCode,
        bytes: usize,
        f: impl FnOnce(&mut Ctx) -> Result<T>,
    ) -> Result<T> {
        if op != OpCode::SendRecv {
            self.seq = self.seq.wrapping_add(1);
        }
        let start = Instant::now();
        let mut ctx = Ctx::new(
            self.p2p.as_mut(),
            make_tag(op, self.seq),
            start + self.timeout,
        );
        f(&mut ctx).map_err(|e| {
            e.context(format!(
                "{} of {bytes} bytes on channel {} at rank {} of {} after {:.3} s",
                op.name(),
                self.p2p.name(),
                self.rank,
                self.size,
                start.elapsed().as_secs_f64()
            ))
        })
    }

    /// Sends `data` to `dest`. The receiver must receive exactly `data.len()` bytes.
    pub fn send(&mut self, data: &[u8], dest: usize) -> Result<()> {
        self.check_peer(dest, "destination")?;
        if dest == self.rank {
            return Err(Error::invalid(
                "send to self is not supported (it would block)",
            ));
        }
        self.run(OpCode::SendRecv, data.len(), |c| c.send(dest, data))
    }

    /// Receives one message from `src` into `buf`; a message of another size is an error.
    pub fn recv(&mut self, buf: &mut [u8], src: usize) -> Result<()> {
        self.check_peer(src, "source")?;
        if src == self.rank {
            return Err(Error::invalid(
                "receive from self is not supported (it would block)",
            ));
        }
        let n = buf.len();
        self.run(OpCode::SendRecv, n, |c| c.recv(src, buf))
    }

    /// Broadcasts the root's `buf` into every rank's `buf`.
    pub fn bcast(&mut self, buf: &mut [u8], root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let n = buf.len();
        self.run(OpCode::Bcast, n, |c| p2p::bcast::binomial(c, buf, root))
    }

    /// Returns when every rank has entered the barrier.
    pub fn barrier(&mut self) -> Result<()> {
        self.run(OpCode::Barrier, 0, p2p::barrier::dissemination)
    }

    /// Gathers every rank's `send` into the root's `recv` (size * send.len() bytes; None elsewhere).
    pub fn gather(&mut self, send: &[u8], recv: Option<&mut [u8]>, root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let recv = if self.rank == root {
            let r =
                recv.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a receive buffer"))?;
            Self::check_len("receive buffer", r.len(), send.len() * self.size)?;
            Some(r)
        } else {
            None
        };
        self.run(OpCode::Gather, send.len(), |c| {
            p2p::gather::binomial_rotating(c, send, recv, root)
        })
    }

    /// Scatters the root's `send` (size * recv.len() bytes; None elsewhere): block i to rank i.
    pub fn scatter(&mut self, send: Option<&[u8]>, recv: &mut [u8], root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let send = if self.rank == root {
            let s =
                send.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a send buffer"))?;
            Self::check_len("send buffer", s.len(), recv.len() * self.size)?;
            Some(s)
        } else {
            None
        };
        let n = recv.len();
        self.run(OpCode::Scatter, n, |c| {
            p2p::scatter::binomial(c, send, recv, root)
        })
    }

    /// Reduces every rank's `send` into the root's `recv` (None elsewhere).
    pub fn reduce(
        &mut self,
        send: &[u8],
        recv: Option<&mut [u8]>,
        t: Datatype,
        op: &ReduceOp,
        root: usize,
    ) -> Result<()> {
        self.check_peer(root, "root")?;
        op.check(t)?;
        Self::check_elems(send.len(), t)?;
        let recv = if self.rank == root {
            let r =
                recv.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a receive buffer"))?;
            Self::check_len("receive buffer", r.len(), send.len())?;
            Some(r)
        } else {
            None
        };
        self.run(OpCode::Reduce, send.len(), |c| {
            if op.ordered() {
                p2p::reduce::ordered(c, send, recv, t, op, root)
            } else {
                p2p::reduce::binomial(c, send, recv, t, op, root)
            }
        })
    }

    /// [`Communicator::reduce`] where `buf` is the contribution and, at the root, the result.
    pub fn reduce_in_place(
        &mut self,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
        root: usize,
    ) -> Result<()> {
        let own = AlignedBuf::from_slice(buf);
        let recv = if self.rank == root { Some(buf) } else { None };
        self.reduce(&own, recv, t, op, root)
    }

    /// Reduces every rank's `send` into every rank's `recv`.
    pub fn allreduce(
        &mut self,
        send: &[u8],
        recv: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        recv.copy_from_slice(send);
        self.allreduce_in_place(recv, t, op)
    }

    /// Allreduce where `buf` is both the contribution and the result.
    pub fn allreduce_in_place(&mut self, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        op.check(t)?;
        Self::check_elems(buf.len(), t)?;
        let n = buf.len();
        let ring = n >= self.config.comm.ring_threshold && n / t.size() >= self.size;
        self.run(OpCode::Allreduce, n, |c| {
            if op.ordered() {
                p2p::allreduce::ordered(c, buf, t, op)
            } else if ring {
                p2p::allreduce::ring(c, buf, t, op)
            } else {
                p2p::allreduce::recursive_doubling(c, buf, t, op)
            }
        })
    }

    /// Allreduce with an explicit algorithm (for benchmarks and tests): "ring" or "recursive_doubling".
    pub fn allreduce_with(
        &mut self,
        algo: &str,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        op.check(t)?;
        Self::check_elems(buf.len(), t)?;
        let n = buf.len();
        match algo {
            "ring" => self.run(OpCode::Allreduce, n, |c| {
                p2p::allreduce::ring(c, buf, t, op)
            }),
            "recursive_doubling" => self.run(OpCode::Allreduce, n, |c| {
                p2p::allreduce::recursive_doubling(c, buf, t, op)
            }),
            "ordered" => self.run(OpCode::Allreduce, n, |c| {
                p2p::allreduce::ordered(c, buf, t, op)
            }),
            other => Err(Error::invalid(format!(
                "unknown allreduce algorithm {other:?}"
            ))),
        }
    }

    /// Inclusive prefix reduction: rank k gets v0 (+) ... (+) vk.
    pub fn scan(&mut self, send: &[u8], recv: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        recv.copy_from_slice(send);
        self.scan_in_place(recv, t, op)
    }

    /// Scan where `buf` is both the contribution and the result.
    pub fn scan_in_place(&mut self, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        op.check(t)?;
        Self::check_elems(buf.len(), t)?;
        let n = buf.len();
        self.run(OpCode::Scan, n, |c| {
            if op.ordered() {
                p2p::scan::chain(c, buf, t, op)
            } else {
                p2p::scan::recursive_doubling(c, buf, t, op)
            }
        })
    }

    /// Every rank's `send` into every rank's `recv` (size * send.len() bytes), in rank order.
    pub fn allgather(&mut self, send: &[u8], recv: &mut [u8]) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len() * self.size)?;
        self.run(OpCode::Allgather, send.len(), |c| {
            p2p::allgather::ring(c, send, recv)
        })
    }

    /// Block j of `send` goes to rank j, block i of `recv` comes from rank i (both size * block bytes).
    pub fn alltoall(&mut self, send: &[u8], recv: &mut [u8]) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        if send.len() % self.size != 0 {
            return Err(Error::invalid(
                "alltoall buffer is not a whole number of blocks",
            ));
        }
        let n = send.len();
        self.run(OpCode::Alltoall, n, |c| {
            p2p::alltoall::all_at_once(c, send, recv)
        })
    }

    /// Collective close: waits for every peer (so none loses data still in flight), then releases
    /// the connections. The communicator is consumed even when the closing barrier fails.
    pub fn finalize(mut self) -> Result<()> {
        let r = self.run(OpCode::Finalize, 0, p2p::barrier::dissemination);
        self.p2p.close();
        r
    }
}

impl Drop for Communicator {
    fn drop(&mut self) {
        self.p2p.close();
    }
}
