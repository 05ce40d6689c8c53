//! Test harness for the Redis channel: a private, real redis-server on a free loopback port
//! (started as a child process, stopped on drop), and N peers as threads of this process with
//! only the Redis channel enabled. A server that cannot start fails the test; it never skips.
#![allow(dead_code)]

#[path = "../peers/mod.rs"]
mod peers;
#[allow(unused_imports)]
pub use peers::{run_named, run_peers};

use fmi::config::{CommOptions, Config, ModelConfig, RedisConfig};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A communicator name unique to this process.
pub fn unique_name(tag: &str) -> String {
    peers::unique_name(&format!("redis-{tag}"))
}

/// A running redis-server.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    /// How it was started (for [`RedisServer::restart`]).
    extra: Vec<String>,
    tls: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .unwrap()
        .port()
}

impl RedisServer {
    /// Starts `redis-server` on a free loopback port, without persistence, with `extra`
    /// arguments (e.g. `["--requirepass", "x"]`). Panics (the test fails) if it cannot.
    pub fn start_with(extra: &[&str]) -> Self {
        Self::launch(extra, false)
    }

    /// Starts a TLS-only redis-server (`--port 0 --tls-port P`) with the PEM files `cert`,
    /// `key` and `ca`; clients are not asked for certificates.
    pub fn start_tls(cert: &std::path::Path, key: &std::path::Path, ca: &std::path::Path) -> Self {
        let (cert, key, ca) = (
            cert.to_str().unwrap(),
            key.to_str().unwrap(),
            ca.to_str().unwrap(),
        );
        Self::launch(
            &[
                "--tls-cert-file",
                cert,
                "--tls-key-file",
                key,
                "--tls-ca-cert-file",
                ca,
                "--tls-auth-clients",
                "no",
            ],
            true,
        )
    }

    fn launch(extra: &[&str], tls: bool) -> Self {
        let mut last = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "fmi-redis-test-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).expect("create the server's directory");
            let mut s = RedisServer {
                child: None,
                port,
                dir,
                extra: extra.iter().map(|a| a.to_string()).collect(),
                tls,
            };
            match s.run() {
                Ok(()) => return s,
                Err(why) => last = why,
            }
        }
        panic!("redis-server did not start: {last}");
    }

    /// Starts the server process on this port and directory; Err when it exits or does not
    /// accept connections in time.
    fn run(&mut self) -> Result<(), String> {
        let port = self.port;
        let port_args = if self.tls {
            [
                "--port".to_string(),
                "0".to_string(),
                "--tls-port".to_string(),
                port.to_string(),
            ]
        } else {
            [
                "--port".to_string(),
                port.to_string(),
                "--tls-port".to_string(),
                "0".to_string(),
            ]
        };
        let child = Command::new("redis-server")
            .args(&port_args)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                panic!("cannot start redis-server ({e}): install it with scripts/install-deps.sh")
            }
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("redis-server exited with {status} on port {port}"));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                self.child = Some(child);
                // Ready when it answers (a TLS server: when it accepts connections).
                if self.tls || self.ping_until(Duration::from_secs(5)) {
                    return Ok(());
                }
                panic!("redis-server on port {port} does not answer PING");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!(
            "redis-server did not accept connections on port {port}"
        ))
    }

    /// Stops the server as an operator would (SIGTERM: with AOF on it writes its log out; with
    /// persistence off its data is gone) and starts it again on the same port and directory.
    pub fn restart(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
            let _ = c.wait();
        }
        if let Err(why) = self.run() {
            panic!("redis-server did not restart: {why}");
        }
    }

    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// True once the server answers PING (with PONG, or NOAUTH when it wants a password).
    fn ping_until(&self, within: Duration) -> bool {
        use std::io::{Read, Write};
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(mut t) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = t.set_read_timeout(Some(Duration::from_secs(1)));
                let mut reply = [0u8; 1];
                if t.write_all(b"PING\r\n").is_ok()
                    && t.read_exact(&mut reply).is_ok()
                    && (reply[0] == b'+' || reply[0] == b'-')
                {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn try_client(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?
            .get_connection_with_timeout(Duration::from_secs(2))
    }

    /// A plain client connection (for checks such as SCAN).
    pub fn client(&self) -> redis::Connection {
        self.try_client().expect("connect to the test redis-server")
    }

    /// Every key that matches `pattern` (SCAN, not KEYS).
    pub fn scan(&self, pattern: &str) -> Vec<String> {
        use redis::Commands;
        let mut c = self.client();
        let mut keys: Vec<String> = c
            .scan_match::<_, String>(pattern)
            .expect("SCAN")
            .collect::<redis::RedisResult<Vec<String>>>()
            .expect("SCAN results");
        keys.sort();
        keys
    }

    /// A Redis-only configuration for this server.
    pub fn config(&self) -> Config {
        Config {
            direct: None,
            redis: Some(RedisConfig::new("127.0.0.1", self.port)),
            s3: None,
            model: ModelConfig::default(),
            comm: CommOptions::default(),
        }
    }

    /// Kills the server at once (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
