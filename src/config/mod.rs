//! FMI-compatible JSON configuration: parsing, defaults, environment overrides, validation with key paths.
//!
//! Accepts the original FMI `config/fmi.json` layout unchanged (`backends` with `S3`/`Redis`/`Direct`,
//! and `model`). Values may be JSON numbers/booleans or strings holding them, as in the original.
//! Unknown keys and wrong types are errors that name the key path (e.g. `backends.Direct.port`).

mod reader;

use crate::channel::{ChannelKind, KINDS};
use crate::error::{Error, Result};
use reader::Obj;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Default time every blocking call may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole configuration of a communicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The direct TCP channel (rendezvous server + hole punching), when enabled.
    pub direct: Option<DirectConfig>,
    /// The Redis channel, when enabled.
    pub redis: Option<RedisConfig>,
    /// The S3 channel, when enabled.
    pub s3: Option<S3Config>,
    /// Performance/cost model parameters (units as in the original FMI: ms, MB/s, $).
    pub model: ModelConfig,
    /// Communicator-wide options.
    pub comm: CommOptions,
}

/// `communicator` section (libfmi extension).
#[derive(Debug, Clone, PartialEq)]
pub struct CommOptions {
    /// Bound of every blocking call (`timeout_ms`, default 30000).
    pub timeout: Duration,
    /// Allreduce: messages of at least this many bytes use the bandwidth-optimal ring (`ring_threshold_bytes`).
    pub ring_threshold: usize,
    /// Receive busy-poll before blocking (`spin_us`), trading CPU for latency.
    pub spin: Duration,
    /// Bytes of point-to-point messages that arrived before their receive that a peer buffers
    /// (`unexpected_buffer_bytes`, default 64 MiB); larger ones wait in the connection.
    pub unexpected_bytes: usize,
}

/// `backends.Direct`.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectConfig {
    /// Rendezvous server host (IPv4/IPv6 literal or name).
    pub host: String,
    /// Rendezvous server port.
    pub port: u16,
    /// Time allowed to punch one connection once the peer's endpoint is known (`max_timeout`, ms).
    pub punch_timeout: Duration,
    /// Per-job secret authenticating rendezvous requests and peer handshakes (`auth_token`,
    /// overridden by `FMI_AUTH_TOKEN`). None: the server must run without authentication.
    pub auth_token: Option<String>,
    /// Fall back to a relay through the rendezvous server when punching fails (`relay`).
    pub relay: bool,
    /// Set up the mesh one pair at a time instead of in parallel (`sequential_mesh`; for
    /// benchmarks comparing against the original FMI's pairing).
    pub sequential_mesh: bool,
    /// Try hole punching (`punch`); false sends every pair through the relay at once (for
    /// platforms that allow no inbound connections at all).
    pub punch: bool,
    /// TLS to the rendezvous server (`tls`), trusting the PEM certificates in `tls_ca`, with
    /// `tls_server_name` (default: `host`) as the expected name.
    pub tls: Option<TlsClientConfig>,
    /// Encrypt every peer link, direct and relayed (`encrypt`, default true): Noise with a key
    /// derived from `auth_token`, so it takes effect only with a job secret.
    pub encrypt: bool,
}

impl DirectConfig {
    /// Whether peer links are encrypted: `encrypt` and a job secret to derive the keys from.
    pub fn encrypts(&self) -> bool {
        self.encrypt && self.auth_token.is_some()
    }
}

/// `backends.Direct.tls*`.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsClientConfig {
    pub ca_file: std::path::PathBuf,
    pub server_name: String,
}

/// `backends.Redis`: the Redis channel.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    pub host: String,
    pub port: u16,
    /// `timeout` (ms): the original FMI's poll interval. libfmi blocks in the server instead of
    /// polling, so it is accepted and unused.
    pub timeout: Duration,
    /// `max_timeout` (ms): time allowed to connect to the server (and to reconnect), within the
    /// communicator timeout.
    pub max_timeout: Duration,
    pub username: Option<String>,
    pub password: Option<String>,
    pub database: u32,
    /// `rediss://` (needs the `redis-tls` cargo feature).
    pub tls: bool,
    /// `tls_ca`: PEM file of the certificates to trust for TLS (default: the system's roots).
    pub tls_ca: Option<std::path::PathBuf>,
    /// `ttl_ms`: every key of a run expires this long after its last write (default 15 min), so a
    /// crashed run leaves nothing behind. Messages must be received within it.
    pub ttl: Duration,
}

/// Default lifetime of the Redis keys of a run.
pub const DEFAULT_REDIS_TTL: Duration = Duration::from_secs(15 * 60);

/// `backends.S3`: the S3 channel.
#[derive(Debug, Clone, PartialEq)]
pub struct S3Config {
    /// An existing bucket (libfmi does not create buckets).
    pub bucket_name: String,
    pub s3_region: String,
    /// `timeout` (ms): the longest pause between two polls for a message (the back-off starts
    /// at 1 ms and doubles up to it).
    pub timeout: Duration,
    /// `max_timeout` (ms): how long requests that fail for transient reasons (unreachable
    /// server, 5xx, throttling) are retried, within the operation's deadline.
    pub max_timeout: Duration,
    /// An S3-compatible endpoint (`http://127.0.0.1:9000`); None: AWS S3 of the region.
    pub endpoint_url: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), for most S3-compatible servers.
    pub path_style: bool,
    /// Prepended to every object key.
    pub key_prefix: String,
}

/// `model` section. Units: overhead in milliseconds, bandwidth in MB/s (10^6 B/s), prices in US$
/// (per GB of 10^9 B, per request, per hour, per GiB-second); see `crate::model::params`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// `FaaS.gib_second_price`: $ per GiB-second of function time.
    pub gib_second_price: f64,
    /// `FaaS.reduce_bandwidth` (libfmi extension): MB/s at which a function folds one reduction
    /// operand into another (the compute term of reduce, allreduce and scan).
    pub reduce_bandwidth: f64,
    pub s3: StorageModel,
    pub redis: StorageModel,
    pub direct: DirectModel,
}

/// `model.S3` / `model.Redis`.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageModel {
    pub bandwidth: f64,
    pub bandwidth_multiple: f64,
    /// `large_message_bytes` (libfmi extension): bytes of one transfer from which `bandwidth_large`
    /// applies to the rest (0: never).
    pub large_message_bytes: f64,
    /// `bandwidth_large` (libfmi extension): MB/s beyond `large_message_bytes`.
    pub bandwidth_large: f64,
    pub overhead_ms: f64,
    pub transfer_price: f64,
    pub download_price: f64,
    pub upload_price: f64,
    pub instance_price: f64,
    pub requests_per_hour: f64,
    pub include_infrastructure_costs: bool,
}

/// `model.Direct`.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectModel {
    pub bandwidth: f64,
    /// As in [`StorageModel::large_message_bytes`].
    pub large_message_bytes: f64,
    /// As in [`StorageModel::bandwidth_large`].
    pub bandwidth_large: f64,
    pub overhead_ms: f64,
    pub transfer_price: f64,
    pub vm_price: f64,
    pub requests_per_hour: f64,
    pub include_infrastructure_costs: bool,
}

impl ModelConfig {
    /// The `model` section of store channel `kind` (None for a peer-to-peer channel).
    pub fn store(&self, kind: ChannelKind) -> Option<&StorageModel> {
        match kind {
            ChannelKind::Direct => None,
            ChannelKind::Redis => Some(&self.redis),
            ChannelKind::S3 => Some(&self.s3),
        }
    }

    /// [`ModelConfig::store`], to change.
    pub fn store_mut(&mut self, kind: ChannelKind) -> Option<&mut StorageModel> {
        match kind {
            ChannelKind::Direct => None,
            ChannelKind::Redis => Some(&mut self.redis),
            ChannelKind::S3 => Some(&mut self.s3),
        }
    }

    /// The `model` section of peer-to-peer channel `kind` (None for a store channel).
    pub fn p2p(&self, kind: ChannelKind) -> Option<&DirectModel> {
        match kind {
            ChannelKind::Direct => Some(&self.direct),
            ChannelKind::Redis | ChannelKind::S3 => None,
        }
    }

    /// [`ModelConfig::p2p`], to change.
    pub fn p2p_mut(&mut self, kind: ChannelKind) -> Option<&mut DirectModel> {
        match kind {
            ChannelKind::Direct => Some(&mut self.direct),
            ChannelKind::Redis | ChannelKind::S3 => None,
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            gib_second_price: 0.0000166667,
            reduce_bandwidth: 2000.0,
            s3: StorageModel {
                bandwidth: 50.0,
                bandwidth_multiple: 50.0,
                large_message_bytes: 0.0,
                bandwidth_large: 50.0,
                overhead_ms: 40.4,
                transfer_price: 0.0,
                download_price: 4.3e-7,
                upload_price: 5.4e-6,
                instance_price: 0.0,
                requests_per_hour: 1000.0,
                include_infrastructure_costs: false,
            },
            redis: StorageModel {
                bandwidth: 100.0,
                bandwidth_multiple: 400.0,
                large_message_bytes: 0.0,
                bandwidth_large: 100.0,
                overhead_ms: 5.2,
                transfer_price: 0.0,
                download_price: 0.0,
                upload_price: 0.0,
                instance_price: 0.0038,
                requests_per_hour: 1000.0,
                include_infrastructure_costs: true,
            },
            direct: DirectModel {
                bandwidth: 400.0,
                large_message_bytes: 0.0,
                bandwidth_large: 400.0,
                overhead_ms: 0.34,
                transfer_price: 0.0,
                vm_price: 0.0134,
                requests_per_hour: 1000.0,
                include_infrastructure_costs: true,
            },
        }
    }
}

impl Default for CommOptions {
    fn default() -> Self {
        CommOptions {
            timeout: DEFAULT_TIMEOUT,
            ring_threshold: 256 * 1024,
            spin: Duration::from_micros(50),
            unexpected_bytes: 64 << 20,
        }
    }
}

impl Default for Config {
    /// Direct channel only, rendezvous server at 127.0.0.1:10000 (the original's default).
    fn default() -> Self {
        Config {
            direct: Some(DirectConfig::default()),
            redis: None,
            s3: None,
            model: ModelConfig::default(),
            comm: CommOptions::default(),
        }
    }
}

impl Default for DirectConfig {
    fn default() -> Self {
        DirectConfig {
            host: "127.0.0.1".into(),
            port: 10000,
            punch_timeout: Duration::from_secs(10),
            auth_token: None,
            relay: true,
            sequential_mesh: false,
            punch: true,
            tls: None,
            encrypt: true,
        }
    }
}

impl Config {
    /// Whether channel `kind` is enabled (its `backends` section present and enabled).
    pub fn enabled(&self, kind: ChannelKind) -> bool {
        match kind {
            ChannelKind::Direct => self.direct.is_some(),
            ChannelKind::Redis => self.redis.is_some(),
            ChannelKind::S3 => self.s3.is_some(),
        }
    }

    /// How long a reader of channel `kind` waits between polls at most, seconds (S3:
    /// `backends.S3.timeout`, 0.1 s when S3 is not configured); 0 where readers block in the
    /// channel.
    pub fn poll_s(&self, kind: ChannelKind) -> f64 {
        match kind {
            ChannelKind::Direct | ChannelKind::Redis => 0.0,
            ChannelKind::S3 => self
                .s3
                .as_ref()
                .map_or(0.1, |s| s.timeout.as_secs_f64())
                .max(0.0),
        }
    }

    /// Reads and validates a configuration file.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        Config::from_json(&text).map_err(|e| e.context(format!("config file {}", path.display())))
    }

    /// Parses and validates configuration text.
    pub fn from_json(text: &str) -> Result<Config> {
        let root: Value = serde_json::from_str(text)
            .map_err(|e| Error::config(format!("malformed JSON: {e}")))?;
        let Value::Object(map) = &root else {
            return Err(Error::config("<root>: expected a JSON object"));
        };
        let mut top = Obj::new(String::new(), map);
        let mut cfg = Config {
            direct: None,
            redis: None,
            s3: None,
            model: ModelConfig::default(),
            comm: CommOptions::default(),
        };
        if let Some(mut b) = top.object("backends")? {
            if let Some(mut o) = b.object("Direct")? {
                cfg.direct = parse_direct(&mut o)?;
                o.finish()?;
            }
            if let Some(mut o) = b.object("Redis")? {
                cfg.redis = parse_redis(&mut o)?;
                o.finish()?;
            }
            if let Some(mut o) = b.object("S3")? {
                cfg.s3 = parse_s3(&mut o)?;
                o.finish()?;
            }
            b.finish()?;
        } else {
            return Err(Error::config(
                "backends: missing (at least one backend must be enabled)",
            ));
        }
        if let Some(mut m) = top.object("model")? {
            parse_model(&mut m, &mut cfg.model)?;
            m.finish()?;
        }
        if let Some(mut c) = top.object("communicator")? {
            if let Some(ms) = c.u64("timeout_ms")? {
                cfg.comm.timeout = positive_ms(ms, &c.path("timeout_ms"))?;
            }
            if let Some(b) = c.u64("ring_threshold_bytes")? {
                cfg.comm.ring_threshold = b as usize;
            }
            if let Some(us) = c.u64("spin_us")? {
                cfg.comm.spin = Duration::from_micros(us);
            }
            if let Some(b) = c.u64("unexpected_buffer_bytes")? {
                cfg.comm.unexpected_bytes = usize::try_from(b).unwrap_or(usize::MAX);
            }
            c.finish()?;
        }
        top.finish()?;
        if !KINDS.into_iter().any(|k| cfg.enabled(k)) {
            return Err(Error::config("backends: no backend is enabled"));
        }
        Ok(cfg)
    }

    /// Reads `path` (or takes the defaults when None), then applies the environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let mut cfg = match path {
            Some(p) => Config::from_file(p)?,
            None => Config::default(),
        };
        cfg.apply_env()?;
        Ok(cfg)
    }

    /// Applies `FMI_RENDEZVOUS=host:port` (direct channel endpoint), `FMI_AUTH_TOKEN`,
    /// `FMI_ENCRYPT` (1/0: `backends.Direct.encrypt`) and `FMI_TIMEOUT_MS`.
    pub fn apply_env(&mut self) -> Result<()> {
        if let Ok(v) = std::env::var("FMI_RENDEZVOUS") {
            let (host, port) = split_host_port(&v).ok_or_else(|| {
                Error::config(format!("FMI_RENDEZVOUS: expected host:port, got {v:?}"))
            })?;
            if let Some(d) = self.direct.as_mut() {
                d.host = host;
                d.port = port;
            }
        }
        if let Ok(token) = std::env::var("FMI_AUTH_TOKEN") {
            if let Some(d) = self.direct.as_mut() {
                d.auth_token = Some(token).filter(|t| !t.is_empty());
            }
        }
        if let Ok(v) = std::env::var("FMI_ENCRYPT") {
            let on = match v.trim() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => {
                    return Err(Error::config(format!(
                        "FMI_ENCRYPT: expected 1, 0, true or false, got {v:?}"
                    )))
                }
            };
            if let Some(d) = self.direct.as_mut() {
                d.encrypt = on;
            }
        }
        if let Ok(v) = std::env::var("FMI_TIMEOUT_MS") {
            let ms: u64 = v.trim().parse().map_err(|_| {
                Error::config(format!("FMI_TIMEOUT_MS: expected milliseconds, got {v:?}"))
            })?;
            self.comm.timeout = positive_ms(ms, "FMI_TIMEOUT_MS")?;
        }
        Ok(())
    }
}

/// Splits `host:port` (IPv6 as `[::1]:port`).
pub fn split_host_port(s: &str) -> Option<(String, u16)> {
    let (h, p) = s.rsplit_once(':')?;
    let port: u16 = p.parse().ok()?;
    let h = h.trim_start_matches('[').trim_end_matches(']');
    if h.is_empty() || port == 0 {
        return None;
    }
    Some((h.to_string(), port))
}

fn positive_ms(ms: u64, path: &str) -> Result<Duration> {
    if ms == 0 {
        return Err(Error::config(format!("{path}: must be greater than 0 ms")));
    }
    Ok(Duration::from_millis(ms))
}

fn parse_direct(o: &mut Obj) -> Result<Option<DirectConfig>> {
    let enabled = o.enabled()?;
    let host = o.string("host")?;
    let port = o.port("port")?;
    let max_timeout = o.u64("max_timeout")?;
    let _poll = o.u64("timeout")?; // accepted for symmetry with the storage backends; unused
    let auth_token = o.string("auth_token")?;
    let relay = o.bool("relay")?;
    let sequential_mesh = o.bool("sequential_mesh")?;
    let punch = o.bool("punch")?;
    let tls = o.bool("tls")?;
    let tls_ca = o.string("tls_ca")?;
    let tls_server_name = o.string("tls_server_name")?;
    let encrypt = o.bool("encrypt")?;
    if !enabled {
        return Ok(None);
    }
    let d = DirectConfig::default();
    if auth_token.as_deref() == Some("") {
        return Err(Error::config(format!(
            "{}: must not be empty",
            o.path("auth_token")
        )));
    }
    let host = host.unwrap_or(d.host);
    let tls = if tls.unwrap_or(false) {
        Some(TlsClientConfig {
            ca_file: o.required(tls_ca, "tls_ca")?.into(),
            server_name: tls_server_name.unwrap_or_else(|| host.clone()),
        })
    } else {
        None
    };
    if !punch.unwrap_or(true) && !relay.unwrap_or(true) {
        return Err(Error::config(format!(
            "{}: punch and relay cannot both be false",
            o.path("punch")
        )));
    }
    Ok(Some(DirectConfig {
        punch: punch.unwrap_or(d.punch),
        tls,
        encrypt: encrypt.unwrap_or(d.encrypt),
        auth_token,
        relay: relay.unwrap_or(d.relay),
        sequential_mesh: sequential_mesh.unwrap_or(d.sequential_mesh),
        host,
        port: port.unwrap_or(d.port),
        punch_timeout: match max_timeout {
            Some(ms) => positive_ms(ms, &o.path("max_timeout"))?,
            None => d.punch_timeout,
        },
    }))
}

fn parse_redis(o: &mut Obj) -> Result<Option<RedisConfig>> {
    let enabled = o.enabled()?;
    let host = o.string("host")?;
    let port = o.port("port")?;
    let timeout = o.u64("timeout")?;
    let max_timeout = o.u64("max_timeout")?;
    let username = o.string("username")?;
    let password = o.string("password")?;
    let database = o.u64("database")?;
    let tls = o.bool("tls")?;
    let tls_ca = o.string("tls_ca")?;
    let ttl = o.u64("ttl_ms")?;
    if !enabled {
        return Ok(None);
    }
    let database = u32::try_from(database.unwrap_or(0))
        .map_err(|_| Error::config(format!("{}: out of range", o.path("database"))))?;
    Ok(Some(RedisConfig {
        host: o.required(host, "host")?,
        port: o.required(port, "port")?,
        timeout: Duration::from_millis(timeout.unwrap_or(1)),
        max_timeout: positive_ms(max_timeout.unwrap_or(1000), &o.path("max_timeout"))?,
        username,
        password,
        database,
        tls: tls.unwrap_or(false),
        tls_ca: tls_ca.map(Into::into),
        ttl: match ttl {
            Some(ms) => positive_ms(ms, &o.path("ttl_ms"))?,
            None => DEFAULT_REDIS_TTL,
        },
    }))
}

impl RedisConfig {
    /// A server at `host:port` with the defaults of every other key.
    pub fn new(host: &str, port: u16) -> Self {
        RedisConfig {
            host: host.to_string(),
            port,
            timeout: Duration::from_millis(1),
            max_timeout: Duration::from_millis(1000),
            username: None,
            password: None,
            database: 0,
            tls: false,
            tls_ca: None,
            ttl: DEFAULT_REDIS_TTL,
        }
    }
}

fn parse_s3(o: &mut Obj) -> Result<Option<S3Config>> {
    let enabled = o.enabled()?;
    let bucket = o.string("bucket_name")?;
    let region = o.string("s3_region")?;
    let timeout = o.u64("timeout")?;
    let max_timeout = o.u64("max_timeout")?;
    let endpoint_url = o.string("endpoint_url")?;
    let path_style = o.bool("path_style")?;
    let key_prefix = o.string("key_prefix")?;
    if !enabled {
        return Ok(None);
    }
    Ok(Some(S3Config {
        bucket_name: o.required(bucket, "bucket_name")?,
        s3_region: o.required(region, "s3_region")?,
        timeout: Duration::from_millis(timeout.unwrap_or(100)),
        max_timeout: positive_ms(max_timeout.unwrap_or(1000), &o.path("max_timeout"))?,
        endpoint_url,
        path_style: path_style.unwrap_or(false),
        key_prefix: key_prefix.unwrap_or_default(),
    }))
}

fn parse_model(m: &mut Obj, model: &mut ModelConfig) -> Result<()> {
    if let Some(mut f) = m.object("FaaS")? {
        if let Some(v) = f.f64("gib_second_price")? {
            model.gib_second_price = v;
        }
        set_f64(&mut f, "reduce_bandwidth", &mut model.reduce_bandwidth)?;
        f.finish()?;
    }
    for kind in KINDS {
        let Some(mut o) = m.object(kind.config_key())? else {
            continue;
        };
        let include = if let Some(t) = model.store_mut(kind) {
            set_f64(&mut o, "bandwidth", &mut t.bandwidth)?;
            set_f64(&mut o, "bandwidth_single", &mut t.bandwidth)?;
            set_f64(&mut o, "bandwidth_multiple", &mut t.bandwidth_multiple)?;
            set_f64(&mut o, "large_message_bytes", &mut t.large_message_bytes)?;
            set_f64(&mut o, "bandwidth_large", &mut t.bandwidth_large)?;
            set_f64(&mut o, "overhead", &mut t.overhead_ms)?;
            set_f64(&mut o, "transfer_price", &mut t.transfer_price)?;
            set_f64(&mut o, "download_price", &mut t.download_price)?;
            set_f64(&mut o, "upload_price", &mut t.upload_price)?;
            set_f64(&mut o, "instance_price", &mut t.instance_price)?;
            set_f64(&mut o, "requests_per_hour", &mut t.requests_per_hour)?;
            &mut t.include_infrastructure_costs
        } else {
            let t = model.p2p_mut(kind).expect("a channel is p2p or a store");
            set_f64(&mut o, "bandwidth", &mut t.bandwidth)?;
            set_f64(&mut o, "large_message_bytes", &mut t.large_message_bytes)?;
            set_f64(&mut o, "bandwidth_large", &mut t.bandwidth_large)?;
            set_f64(&mut o, "overhead", &mut t.overhead_ms)?;
            set_f64(&mut o, "transfer_price", &mut t.transfer_price)?;
            set_f64(&mut o, "vm_price", &mut t.vm_price)?;
            set_f64(&mut o, "requests_per_hour", &mut t.requests_per_hour)?;
            &mut t.include_infrastructure_costs
        };
        if let Some(b) = o.bool("include_infrastructure_costs")? {
            *include = b;
        }
        o.finish()?;
    }
    Ok(())
}

fn set_f64(o: &mut Obj, key: &str, target: &mut f64) -> Result<()> {
    if let Some(v) = o.f64(key)? {
        *target = v;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = r#"{
      "backends": {
        "S3": {"enabled": "false", "bucket_name": "romanboe-uploadtest", "s3_region": "eu-central-1",
               "timeout": 100, "max_timeout": 1000},
        "Redis": {"enabled": false, "host": "127.0.0.1", "port": 6379, "timeout": 1, "max_timeout": 1000},
        "Direct": {"enabled": true, "host": "127.0.0.1", "port": "10000", "max_timeout": 1000}
      },
      "model": {
        "FaaS": {"gib_second_price": 0.0000166667},
        "S3": {"bandwidth": 50.0, "overhead": 40.4, "transfer_price": 0.0, "download_price": 0.00000043,
               "upload_price": 0.0000054},
        "Redis": {"bandwidth_single": 100.0, "bandwidth_multiple": 400.0, "overhead": 5.2,
                  "transfer_price": 0.0, "instance_price": 0.0038, "requests_per_hour": 1000,
                  "include_infrastructure_costs": true},
        "Direct": {"bandwidth": 400.0, "overhead": 0.34, "transfer_price": 0.0, "vm_price": 0.0134,
                   "requests_per_hour": 1000, "include_infrastructure_costs": true}
      }
    }"#;

    #[test]
    fn original_layout_parses() {
        let c = Config::from_json(ORIGINAL).unwrap();
        let d = c.direct.unwrap();
        assert_eq!((d.host.as_str(), d.port), ("127.0.0.1", 10000));
        assert_eq!(d.punch_timeout, Duration::from_millis(1000));
        assert!(c.redis.is_none() && c.s3.is_none());
        assert_eq!(c.model.redis.bandwidth, 100.0);
    }

    #[test]
    fn encrypt_key() {
        let d = |json: &str| Config::from_json(json).unwrap().direct.unwrap();
        let on = d(r#"{"backends":{"Direct":{"enabled":true,"auth_token":"s"}}}"#);
        assert!(on.encrypt && on.encrypts());
        let off = d(r#"{"backends":{"Direct":{"enabled":true,"auth_token":"s","encrypt":false}}}"#);
        assert!(!off.encrypt && !off.encrypts());
        let no_secret = d(r#"{"backends":{"Direct":{"enabled":true,"encrypt":"true"}}}"#);
        assert!(no_secret.encrypt && !no_secret.encrypts());
        let e = Config::from_json(r#"{"backends":{"Direct":{"enabled":true,"encrypt":1}}}"#)
            .unwrap_err();
        assert!(
            e.message().contains("backends.Direct.encrypt"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn unknown_key_names_path() {
        let e =
            Config::from_json(r#"{"backends":{"Direct":{"enabled":true,"bogus":1}}}"#).unwrap_err();
        assert!(
            e.message().contains("backends.Direct.bogus"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn wrong_type_names_path() {
        let e = Config::from_json(r#"{"backends":{"Direct":{"enabled":true,"port":"x"}}}"#)
            .unwrap_err();
        assert!(
            e.message().contains("backends.Direct.port"),
            "{}",
            e.message()
        );
        let e =
            Config::from_json(r#"{"backends":{"Redis":{"enabled":true,"port":1}}}"#).unwrap_err();
        assert!(
            e.message().contains("backends.Redis.host: missing"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn redis_keys() {
        let c = Config::from_json(
            r#"{"backends":{"Redis":{"enabled":true,"host":"h","port":"6380","timeout":1,
                "max_timeout":250,"password":"p","database":2,"ttl_ms":60000,"tls":true,
                "tls_ca":"/ca.pem"}}}"#,
        )
        .unwrap();
        let r = c.redis.unwrap();
        assert_eq!((r.host.as_str(), r.port, r.database), ("h", 6380, 2));
        assert_eq!(r.max_timeout, Duration::from_millis(250));
        assert_eq!(r.ttl, Duration::from_secs(60));
        assert_eq!(r.password.as_deref(), Some("p"));
        assert!(r.tls && r.tls_ca.is_some() && c.direct.is_none());
        let d = Config::from_json(r#"{"backends":{"Redis":{"enabled":true,"host":"h","port":1}}}"#)
            .unwrap()
            .redis
            .unwrap();
        assert_eq!(d, RedisConfig::new("h", 1));
        let e = Config::from_json(
            r#"{"backends":{"Redis":{"enabled":true,"host":"h","port":1,"ttl_ms":0}}}"#,
        )
        .unwrap_err();
        assert!(
            e.message().contains("backends.Redis.ttl_ms"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn nothing_enabled_is_an_error() {
        assert!(Config::from_json(r#"{"backends":{}}"#).is_err());
        assert!(Config::from_json("[1]").is_err());
        assert!(Config::from_json("{").is_err());
    }
}
