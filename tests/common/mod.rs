//! Test harness: a real rendezvous server on loopback and N peers as threads of this process.
#![allow(dead_code)]

use fmi::config::{Config, DirectConfig};
use fmi::rendezvous::server::{BackgroundServer, ServerConfig};
use fmi::Communicator;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique communicator name for this process.
pub fn unique_name(tag: &str) -> String {
    format!(
        "test-{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A configuration pointing at `server`.
pub fn config_for(server: &BackgroundServer) -> Config {
    Config {
        direct: Some(DirectConfig {
            host: "127.0.0.1".into(),
            port: server.addr().port(),
            punch_timeout: Duration::from_secs(10),
            ..DirectConfig::default()
        }),
        ..Config::default()
    }
}

pub fn start_server() -> BackgroundServer {
    BackgroundServer::start("127.0.0.1:0".parse().unwrap(), ServerConfig::default())
        .expect("rendezvous server starts on loopback")
}

/// Runs `f` on `n` peers (threads), each with its own communicator, then finalizes them.
/// Returns each rank's result in rank order.
pub fn run_peers<T: Send>(n: usize, f: impl Fn(&mut Communicator) -> T + Sync) -> Vec<T> {
    run_peers_with(n, true, f)
}

/// Like [`run_peers`]; with `strict_finalize` false a failing finalize (after a test broke the
/// communicator on purpose) is ignored.
pub fn run_peers_with<T: Send>(
    n: usize,
    strict_finalize: bool,
    f: impl Fn(&mut Communicator) -> T + Sync,
) -> Vec<T> {
    let server = start_server();
    let cfg = config_for(&server);
    let name = unique_name("peers");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|rank| {
                let cfg = cfg.clone();
                let name = name.clone();
                let f = &f;
                std::thread::Builder::new()
                    .name(format!("rank{rank}"))
                    .stack_size(8 << 20)
                    .spawn_scoped(s, move || {
                        let mut c = Communicator::new(rank as u32, n as u32, cfg, &name, 128)
                            .unwrap_or_else(|e| panic!("rank {rank}: init failed: {e}"));
                        let out = f(&mut c);
                        let fin = c.finalize();
                        if strict_finalize {
                            fin.unwrap_or_else(|e| panic!("rank {rank}: finalize failed: {e}"));
                        }
                        out
                    })
                    .unwrap()
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("peer thread panicked"))
            .collect()
    })
}
