//! Test harness for the S3 channel: a private, real S3-compatible server (moto_server, installed
//! by scripts/install-deps.sh, run by `moto_atomic.py` so that its conditional writes are atomic
//! as on AWS S3) on a free loopback port, started as a child process and stopped on
//! drop, with a fresh bucket; and N peers as threads of this process with only the S3 channel
//! enabled. A server that cannot start fails the test; it never skips.
#![allow(dead_code)]

pub mod fault_proxy;
#[path = "../peers/mod.rs"]
mod peers;
#[allow(unused_imports)]
pub use peers::{run_named, run_peers};

use fmi::channel::s3::admin::Admin;
use fmi::config::{CommOptions, Config, ModelConfig, S3Config};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// A communicator name unique to this process.
pub fn unique_name(tag: &str) -> String {
    peers::unique_name(&format!("s3-{tag}"))
}

/// The Python of moto's venv: FMI_MOTO_PYTHON, else the venv of scripts/install-deps.sh
/// (FMI_MOTO_VENV or ~/.cache/fmi/moto-5.2.5).
fn moto_python() -> PathBuf {
    if let Some(p) = std::env::var_os("FMI_MOTO_PYTHON") {
        return p.into();
    }
    let venv = std::env::var_os("FMI_MOTO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/fmi/moto-5.2.5")
        });
    venv.join("bin/python3")
}

/// moto_server behind a lock that makes its conditional writes atomic, as on AWS S3.
/// (Found from the library's tests and from the tools crate's, which include this harness.)
fn moto_launcher() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let own = here.join("tests/s3_harness/moto_atomic.py");
    if own.exists() {
        return own;
    }
    here.join("../tests/s3_harness/moto_atomic.py")
}

/// Static test credentials through the standard chain (environment variables, as in Lambda),
/// and no instance-metadata lookups (nothing leaves loopback).
fn test_credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "fmi-test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "fmi-test-secret");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_SESSION_TOKEN");
    });
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .unwrap()
        .port()
}

/// A running moto_server with one bucket.
pub struct S3Server {
    child: Option<Child>,
    port: u16,
    bucket: String,
    /// `http://127.0.0.1`, or `https://{name}` when serving TLS.
    base: String,
    /// The PEM file of the CA to trust (TLS only).
    tls_ca: Option<PathBuf>,
}

impl S3Server {
    /// Starts moto_server on a free loopback port and creates a bucket. Panics (the test fails)
    /// if it cannot.
    pub fn start() -> Self {
        Self::launch(None)
    }

    /// Starts moto_server serving HTTPS only (moto's own TLS option) with the PEM certificate
    /// `cert` and key `key`, reached as `https://{name}:PORT`, trusting the CA in `ca`.
    pub fn start_tls(cert: &Path, key: &Path, ca: &Path, name: &str) -> Self {
        Self::launch(Some((cert, key, ca, name)))
    }

    fn launch(tls: Option<(&Path, &Path, &Path, &str)>) -> Self {
        test_credentials();
        let (python, launcher) = (moto_python(), moto_launcher());
        let mut last = String::new();
        'attempts: for _attempt in 0..3 {
            let port = free_port();
            let mut cmd = Command::new(&python);
            cmd.arg(&launcher)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            if let Some((cert, key, _, _)) = tls {
                cmd.arg("-c").arg(cert).arg("-k").arg(key);
            }
            let child = cmd
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let mut child = match child {
                Ok(c) => c,
                Err(e) => panic!(
                    "cannot start moto_server with {} ({e}): install it with scripts/install-deps.sh",
                    python.display()
                ),
            };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("moto_server exited with {status} on port {port}");
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let s = S3Server {
                        child: Some(child),
                        port,
                        bucket: format!("fmi-test-{}", std::process::id()),
                        base: match tls {
                            Some((_, _, _, name)) => format!("https://{name}"),
                            None => "http://127.0.0.1".into(),
                        },
                        tls_ca: tls.map(|(_, _, ca, _)| ca.to_path_buf()),
                    };
                    // The port may have answered for another process that took it between
                    // free_port() and moto's bind (tests start servers in parallel): then the
                    // bucket cannot be made, and the next attempt takes another port.
                    match s.admin().create_bucket() {
                        Ok(()) => return s,
                        Err(e) => {
                            last = format!("creating the test bucket on port {port}: {e}");
                            drop(s);
                            continue 'attempts;
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start: {last}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.base, self.port)
    }

    /// `backends.S3` for this server and bucket (path-style, region us-east-1).
    pub fn s3_config(&self) -> S3Config {
        S3Config {
            bucket_name: self.bucket.clone(),
            s3_region: "us-east-1".into(),
            timeout: Duration::from_millis(20),
            max_timeout: Duration::from_millis(2000),
            endpoint_url: Some(self.endpoint()),
            path_style: true,
            key_prefix: String::new(),
            tls_ca: self.tls_ca.clone(),
        }
    }

    /// An S3-only configuration for this server.
    pub fn config(&self) -> Config {
        Config {
            direct: None,
            redis: None,
            s3: Some(self.s3_config()),
            model: ModelConfig::default(),
            comm: CommOptions::default(),
        }
    }

    /// A client for checks (listing, creating buckets).
    pub fn admin(&self) -> Admin {
        Admin::new(&self.s3_config(), Duration::from_secs(20)).expect("S3 admin client")
    }

    /// Every key of the bucket under `prefix`.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        self.admin().list(prefix).expect("listing the test bucket")
    }

    /// Kills the server at once (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}
