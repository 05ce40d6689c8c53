//! One synchronous connection to Redis: connect and reconnect, a deadline on every request,
//! errors that name the server, the request and the cause, deferred deletes that ride along with
//! the next request, and blocking pops that end at the deadline.
//!
//! A server that goes away and comes back (a restart): every request starts with an INCR of
//! this connection's marker key (created at connect, with the messages' TTL), so the marker
//! counts the requests the server carried out. When a connection breaks during a request, a
//! new one is made (a refused connection is retried for `max_timeout`) and the marker read:
//! - gone: the server lost its data (restarted without persistence, flushed), so the messages
//!   queued there are gone too; this and every later request fail with an error that says so;
//! - the count of requests carried out before: the request never started (it was sent on a
//!   connection the old server had closed; commands run in order, so a request whose first
//!   command did not run had no effect), and it is sent again;
//! - one more: the request started (a blocking pop waiting in the server when it stopped, say)
//!   and its effect is unknown; repeating it could deliver a message twice or lose one, so it
//!   fails at once.

use crate::channel::store::RANK_LEASE;
use crate::config::RedisConfig;
use crate::error::{Error, ErrorKind, Result};
use ::redis::{Commands, ConnectionAddr, ConnectionInfo, FromRedisValue, IntoConnectionInfo};
use std::time::{Duration, Instant};

/// Redis checks the timeouts of blocked clients about `1000 / hz` ms late (hz = 10 by default),
/// so a blocking pop asks the server for this much less than the time left ...
const SERVER_LATENESS: Duration = Duration::from_millis(110);
/// ... and the socket waits this much longer than the time left for a reply, so that the server's
/// own (slightly late) empty reply normally arrives and the connection stays in sync.
const READ_GRACE: Duration = Duration::from_millis(60);
/// In the last `SERVER_LATENESS` before the deadline, non-blocking pops this often.
const POLL_TICK: Duration = Duration::from_millis(2);
/// Keys per UNLINK.
const UNLINK_BATCH: usize = 1000;
/// Pause between attempts to connect to a server that refuses connections.
const RECONNECT_PAUSE: Duration = Duration::from_millis(20);
/// A claim's lease in milliseconds.
const LEASE_MS: u64 = RANK_LEASE.as_millis() as u64;
/// Renews a claim (KEYS[1]) for ARGV[2] ms if it still holds our value ARGV[1].
const RENEW_IF_OURS: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/// Deletes a claim (KEYS[1]) if it still holds our value ARGV[1].
const DELETE_IF_OURS: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     return redis.call('DEL', KEYS[1]) else return 0 end";

pub struct Conn {
    client: ::redis::Client,
    con: Option<::redis::Connection>,
    endpoint: String,
    connect_timeout: Duration,
    discards: Vec<String>,
    /// Keys this connection holds (rank claims): key, value, when to renew next.
    claims: Vec<(String, String, Instant)>,
    /// Socket timeouts last set (write, read), to skip setsockopt when they barely change.
    timeouts: (Duration, Duration),
    /// This connection's marker key (see the module doc), its TTL and when it was last renewed.
    marker: String,
    ttl: Duration,
    renewed: Instant,
    /// Requests the server carried out (the marker's value when all is well).
    done: u64,
    /// Set once the server lost the marker: the reason every request fails.
    lost: Option<String>,
    /// A connection was made before (the next one replaces it and checks the marker).
    connected_once: bool,
}

/// Socket timeouts are only updated when they move by more than this.
const TIMEOUT_SLACK: Duration = Duration::from_millis(2);

fn connection_info(cfg: &RedisConfig) -> Result<ConnectionInfo> {
    let addr = if cfg.tls {
        tls_addr(cfg)?
    } else {
        ConnectionAddr::Tcp(cfg.host.clone(), cfg.port)
    };
    let mut redis = ::redis::RedisConnectionInfo::default()
        .set_db(i64::from(cfg.database))
        .set_skip_set_lib_name();
    if let Some(u) = &cfg.username {
        redis = redis.set_username(u);
    }
    if let Some(p) = &cfg.password {
        redis = redis.set_password(p);
    }
    let info = addr
        .into_connection_info()
        .map_err(|e| Error::config(format!("backends.Redis: {e}")))?;
    Ok(info
        .set_redis_settings(redis)
        .set_tcp_settings(::redis::io::tcp::TcpSettings::default().set_nodelay(true)))
}

#[cfg(feature = "redis-tls")]
fn client(cfg: &RedisConfig, info: ConnectionInfo) -> Result<::redis::Client> {
    let r = match (&cfg.tls_ca, cfg.tls) {
        (Some(ca), true) => {
            let pem = crate::channel::store_tls::trusted_pem(ca, "backends.Redis.tls_ca")?;
            ::redis::Client::build_with_tls(
                info,
                ::redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                },
            )
        }
        _ => ::redis::Client::open(info),
    };
    r.map_err(|e| Error::config(format!("backends.Redis: {e}")))
}

#[cfg(not(feature = "redis-tls"))]
fn client(_cfg: &RedisConfig, info: ConnectionInfo) -> Result<::redis::Client> {
    ::redis::Client::open(info).map_err(|e| Error::config(format!("backends.Redis: {e}")))
}

#[cfg(feature = "redis-tls")]
fn tls_addr(cfg: &RedisConfig) -> Result<ConnectionAddr> {
    Ok(ConnectionAddr::TcpTls {
        host: cfg.host.clone(),
        port: cfg.port,
        insecure: false,
        tls_params: None,
    })
}

#[cfg(not(feature = "redis-tls"))]
fn tls_addr(_cfg: &RedisConfig) -> Result<ConnectionAddr> {
    Err(Error::new(
        ErrorKind::Unsupported,
        "backends.Redis.tls: this libfmi was built without TLS for Redis (cargo feature redis-tls)",
    ))
}

impl Conn {
    /// Connects (bounded by `deadline` and the configured `max_timeout`).
    pub fn open(cfg: &RedisConfig, deadline: Instant) -> Result<Self> {
        let info = connection_info(cfg)?;
        let client = client(cfg, info)?;
        let mut c = Conn {
            client,
            con: None,
            endpoint: format!(
                "{}://{}:{}/{}",
                if cfg.tls { "rediss" } else { "redis" },
                cfg.host,
                cfg.port,
                cfg.database
            ),
            connect_timeout: cfg.max_timeout,
            discards: Vec::new(),
            claims: Vec::new(),
            timeouts: (Duration::ZERO, Duration::ZERO),
            marker: format!("fmi-conn:{:016x}", crate::channel::store::join::random_id()),
            ttl: cfg.ttl.max(Duration::from_millis(1)),
            renewed: Instant::now(),
            done: 0,
            lost: None,
            connected_once: false,
        };
        // One round trip now: the server is there and accepts our credentials; the marker (made
        // by the pipeline's INCR) gets its TTL.
        let mut p = c.pipe();
        p.cmd("PING");
        p.cmd("PEXPIRE")
            .arg(&c.marker)
            .arg(c.ttl.as_millis() as u64)
            .ignore();
        let (_pong,): (String,) = c.query(&p, deadline, Duration::ZERO, "PING")?;
        Ok(c)
    }

    /// `redis://host:port/db`, for messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The connection: the open one, or a new one (which checks that the server still holds
    /// the marker when it replaces another).
    fn connection(&mut self, deadline: Instant) -> Result<&mut ::redis::Connection> {
        if let Some(why) = &self.lost {
            return Err(Error::channel(why.clone()));
        }
        if self.con.is_none() {
            let con = self.connect(deadline)?;
            self.con = Some(con);
            self.timeouts = (Duration::ZERO, Duration::ZERO);
            if std::mem::replace(&mut self.connected_once, true) {
                self.marker_count()?;
            }
        }
        Ok(self.con.as_mut().expect("connected"))
    }

    /// A new connection; refused connections are retried for `max_timeout` (a restarting
    /// server), within the deadline.
    fn connect(&mut self, deadline: Instant) -> Result<::redis::Connection> {
        let first = Instant::now();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("no time left to connect to redis at {}", self.endpoint),
                ));
            }
            match self
                .client
                .get_connection_with_timeout(left.min(self.connect_timeout))
            {
                Ok(con) => return Ok(con),
                Err(e)
                    if e.is_connection_refusal()
                        && first.elapsed() + RECONNECT_PAUSE < self.connect_timeout
                        && Instant::now() + RECONNECT_PAUSE < deadline =>
                {
                    std::thread::sleep(RECONNECT_PAUSE);
                }
                Err(e) => return Err(self.map_err(e, "connect")),
            }
        }
    }

    /// The marker's count on a new connection (which the caller compares with the requests
    /// carried out); when the server lost it, this and every later request fail.
    fn marker_count(&mut self) -> Result<u64> {
        let con = self.con.as_mut().expect("connected");
        match ::redis::cmd("GET")
            .arg(&self.marker)
            .query::<Option<u64>>(con)
        {
            Ok(Some(n)) => Ok(n),
            Ok(None) => {
                let why = format!(
                    "redis at {} lost the data of this run: it restarted without persistence or \
                     was flushed (or this peer was idle for longer than backends.Redis.ttl_ms), \
                     so messages queued there are gone",
                    self.endpoint
                );
                self.lost = Some(why.clone());
                Err(Error::channel(why))
            }
            Err(e) => Err(self.map_err(e, "reading the connection's marker (GET)")),
        }
    }

    /// Translates a client error; drops the connection when its state is unknown.
    fn map_err(&mut self, e: ::redis::RedisError, what: &str) -> Error {
        let ep = &self.endpoint;
        let text = e.to_string();
        let auth = e.kind() == ::redis::ErrorKind::AuthenticationFailed
            || ["NOAUTH", "WRONGPASS", "NOPERM"]
                .iter()
                .any(|c| e.code() == Some(c) || text.contains(c));
        if e.is_io_error() || e.is_timeout() || e.is_unrecoverable_error() {
            self.con = None;
        }
        #[cfg(feature = "redis-tls")]
        if let Some(tls) = crate::channel::store_tls::rustls_cause(&e) {
            return crate::channel::store_tls::error(
                ep,
                tls,
                "backends.Redis.tls_ca must hold the CA of the server's certificate, and \
                 backends.Redis.host must be a name in it",
            );
        }
        if auth {
            Error::new(
                ErrorKind::Auth,
                format!("redis at {ep} refused {what}: {e}"),
            )
        } else if e.is_timeout() {
            Error::new(
                ErrorKind::Timeout,
                format!("redis at {ep} did not answer {what} in time"),
            )
        } else if e.is_connection_refusal() {
            Error::channel(format!(
                "cannot reach redis at {ep} ({what}): connection refused"
            ))
        } else if e.is_io_error() || e.is_connection_dropped() {
            Error::channel(format!(
                "connection to redis at {ep} failed during {what} ({e}): the server went away \
                 (restarted?) or the network failed while the request was under way; its \
                 effect is unknown, so it is not repeated"
            ))
        } else {
            Error::channel(format!("redis at {ep} failed {what}: {e}"))
        }
    }

    /// A pipeline that starts with the deferred deletes and the renewals of claims that are due.
    pub fn pipe(&mut self) -> ::redis::Pipeline {
        let mut p = ::redis::pipe();
        p.cmd("INCR").arg(&self.marker).ignore();
        if self.renewed.elapsed() > self.ttl / 4 {
            p.cmd("PEXPIRE")
                .arg(&self.marker)
                .arg(self.ttl.as_millis() as u64)
                .ignore();
            self.renewed = Instant::now();
        }
        for batch in self.discards.chunks(UNLINK_BATCH) {
            p.cmd("UNLINK").arg(batch).ignore();
        }
        self.discards.clear();
        let now = Instant::now();
        for (key, value, due) in &mut self.claims {
            if now >= *due {
                p.cmd("EVAL")
                    .arg(RENEW_IF_OURS)
                    .arg(1)
                    .arg(&*key)
                    .arg(&*value)
                    .arg(LEASE_MS)
                    .ignore();
                *due = now + RANK_LEASE / 2;
            }
        }
        p
    }

    /// Claims `key` with `value` (`SET NX PX`): None when claimed, else what holds it and how
    /// long its lease still runs. A claim is renewed by later requests and released in `close`.
    pub fn claim(
        &mut self,
        key: &str,
        value: &str,
        deadline: Instant,
    ) -> Result<Option<(String, i64)>> {
        let mut p = self.pipe();
        p.cmd("SET")
            .arg(key)
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(LEASE_MS);
        p.cmd("GET").arg(key);
        p.cmd("PTTL").arg(key);
        let (set, holder, ttl): (Option<String>, Option<String>, i64) =
            self.query(&p, deadline, Duration::ZERO, "claiming a rank (SET NX)")?;
        if set.is_some() {
            self.claims.push((
                key.to_string(),
                value.to_string(),
                Instant::now() + RANK_LEASE / 2,
            ));
            return Ok(None);
        }
        Ok(Some((holder.unwrap_or_default(), ttl)))
    }

    /// Queues keys for deletion with the next request.
    pub fn discard(&mut self, keys: Vec<String>) {
        if self.discards.is_empty() {
            self.discards = keys;
        } else {
            self.discards.extend(keys);
        }
    }

    /// Runs `pipe`; the socket gives up `extra` after `deadline` (0 for requests that do not block
    /// in the server).
    pub fn query<T: FromRedisValue>(
        &mut self,
        pipe: &::redis::Pipeline,
        deadline: Instant,
        extra: Duration,
        what: &str,
    ) -> Result<T> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("deadline passed before {what}"),
            ));
        }
        loop {
            self.connection(deadline)?;
            let left = deadline.saturating_duration_since(Instant::now());
            let want = (left, left + extra);
            let r = self.set_timeouts(want).and_then(|_| {
                let con = self.con.as_mut().expect("connected");
                pipe.query::<T>(con)
            });
            let e = match r {
                Ok(v) => {
                    self.done += 1;
                    return Ok(v);
                }
                Err(e) => e,
            };
            let broken = e.is_io_error() || e.is_connection_dropped();
            let failed = self.map_err(e, what);
            if !broken || self.con.is_some() || Instant::now() >= deadline {
                return Err(failed);
            }
            // The connection broke: did the request start? (See the module doc.)
            let con = self.connect(deadline)?;
            self.con = Some(con);
            self.timeouts = (Duration::ZERO, Duration::ZERO);
            let count = self.marker_count()?;
            if count != self.done {
                return Err(failed);
            }
            tracing::debug!(
                "redis at {}: {what} was sent on a closed connection; sending it again",
                self.endpoint
            );
        }
    }

    /// Sets the socket's (write, read) timeouts unless they are within [`TIMEOUT_SLACK`] of the
    /// last ones (a bound that is a hair late is fine; a syscall per request is not free).
    fn set_timeouts(&mut self, want: (Duration, Duration)) -> ::redis::RedisResult<()> {
        let con = self.con.as_mut().expect("connected");
        let (w, r) = self.timeouts;
        if w.abs_diff(want.0) > TIMEOUT_SLACK {
            con.set_write_timeout(Some(want.0))?;
            self.timeouts.0 = want.0;
        }
        if r.abs_diff(want.1) > TIMEOUT_SLACK {
            con.set_read_timeout(Some(want.1))?;
            self.timeouts.1 = want.1;
        }
        Ok(())
    }

    /// Pops the first element of any of `keys`, blocking in the server; returns (key index,
    /// element) pairs, several when the last stretch is polled, none at the deadline. The server
    /// is asked to give up a little early (it is late by up to 1/hz), and the last stretch before
    /// the deadline is polled, so the call ends close to the deadline without dropping a
    /// connection on which a pop may still be served.
    pub fn blpop(&mut self, keys: &[&str], deadline: Instant) -> Result<Vec<(usize, Vec<u8>)>> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Vec::new());
            }
            if left > SERVER_LATENESS + POLL_TICK * 5 {
                let server = left - SERVER_LATENESS;
                let mut p = self.pipe();
                p.cmd("BLPOP").arg(keys).arg(server.as_secs_f64());
                let (r,): (Option<(String, Vec<u8>)>,) =
                    self.query(&p, deadline, READ_GRACE, "a blocking pop (BLPOP)")?;
                if let Some((key, v)) = r {
                    let i = keys.iter().position(|k| *k == key).ok_or_else(|| {
                        Error::channel(format!("BLPOP answered for unknown key {key}"))
                    })?;
                    return Ok(vec![(i, v)]);
                }
            } else {
                let mut p = self.pipe();
                for k in keys {
                    p.cmd("LPOP").arg(*k);
                }
                let got: Vec<Option<Vec<u8>>> =
                    self.query(&p, deadline, READ_GRACE, "a pop (LPOP)")?;
                let found: Vec<(usize, Vec<u8>)> = got
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, g)| g.map(|v| (i, v)))
                    .collect();
                if !found.is_empty() {
                    return Ok(found);
                }
                let left = deadline.saturating_duration_since(Instant::now());
                std::thread::sleep(POLL_TICK.min(left));
            }
        }
    }

    /// Deletes every key that starts with `prefix` (SCAN MATCH + UNLINK); returns the count.
    pub fn delete_prefix(&mut self, prefix: &str, deadline: Instant) -> Result<usize> {
        let pattern = format!("{}*", crate::channel::store::keys::glob_literal(prefix));
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::new(
                ErrorKind::Timeout,
                "deadline passed before SCAN",
            ));
        }
        let found: std::result::Result<Vec<String>, ::redis::RedisError> = (|| {
            let con = self.connection(deadline).map_err(|e| {
                ::redis::RedisError::from(std::io::Error::other(e.message().to_string()))
            })?;
            con.set_read_timeout(Some(left))?;
            con.set_write_timeout(Some(left))?;
            let opts = ::redis::ScanOptions::default()
                .with_pattern(pattern)
                .with_count(1000);
            con.scan_options::<String>(opts)?.collect()
        })();
        self.timeouts = (left, left);
        let keys = found.map_err(|e| self.map_err(e, "listing keys (SCAN)"))?;
        let n = keys.len();
        self.discard(keys);
        let p = self.pipe();
        self.query::<()>(&p, deadline, Duration::ZERO, "deleting keys (UNLINK)")?;
        Ok(n)
    }

    /// Sends the deferred deletes and releases the claims (best effort, bounded by `wait`), and
    /// drops the connection.
    pub fn close(&mut self, wait: Duration) {
        let marker = self.marker.clone();
        self.discards.push(marker);
        let claims = std::mem::take(&mut self.claims);
        if self.con.is_some() && self.lost.is_none() {
            let mut p = self.pipe();
            for (key, value, _) in &claims {
                p.cmd("EVAL")
                    .arg(DELETE_IF_OURS)
                    .arg(1)
                    .arg(key)
                    .arg(value)
                    .ignore();
            }
            let _ = self.query::<()>(&p, Instant::now() + wait, Duration::ZERO, "UNLINK");
        }
        self.con = None;
    }
}
