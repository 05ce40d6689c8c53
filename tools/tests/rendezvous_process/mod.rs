//! The real fmi-rendezvous binary as a child process on a free loopback port, stopped (and its
//! log kept) when dropped; and configurations of the direct channel that point at it.
#![allow(dead_code)]

use fmi::config::{CommOptions, Config, DirectConfig};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Rendezvous {
    child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Rendezvous {
    /// Starts fmi-rendezvous with `args` (besides --listen); panics (fails the test) if it does
    /// not accept connections within 10 s.
    pub fn start(args: &[&str]) -> Rendezvous {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log =
            std::env::temp_dir().join(format!("fmi-rendezvous-{}-{port}.log", std::process::id()));
        let child = Command::new(env!("CARGO_BIN_EXE_fmi-rendezvous"))
            .arg("--listen")
            .arg(addr.to_string())
            .args(args)
            .env("FMI_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("server log file"))
            .spawn()
            .expect("fmi-rendezvous starts");
        let start = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "fmi-rendezvous did not start on {addr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Rendezvous { child, addr, log }
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A direct-only configuration for this server; `relay_only` skips hole punching so every
    /// pair goes through the relay.
    pub fn config(&self, relay_only: bool, timeout: Duration) -> Config {
        Config {
            direct: Some(DirectConfig {
                host: "127.0.0.1".into(),
                port: self.addr.port(),
                punch: !relay_only,
                ..DirectConfig::default()
            }),
            redis: None,
            s3: None,
            comm: CommOptions {
                timeout,
                ..CommOptions::default()
            },
            ..Config::default()
        }
    }
}

impl Drop for Rendezvous {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
