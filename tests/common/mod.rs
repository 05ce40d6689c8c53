//! Test harness: a real rendezvous server on loopback and N peers as threads of this process.
#![allow(dead_code)]

#[path = "../peers/mod.rs"]
mod peers;
#[allow(unused_imports)]
pub use peers::run_named;

use fmi::config::{Config, DirectConfig};
use fmi::Communicator;
use fmi_tools::server::{BackgroundServer, ServerConfig};
use std::time::Duration;

/// A unique communicator name for this process.
pub fn unique_name(tag: &str) -> String {
    peers::unique_name(&format!("test-{tag}"))
}

/// The job secret of the harness's configurations: with it, peer links are encrypted (the
/// default whenever a secret is set), so every test through the harness runs on encrypted links.
pub const JOB_SECRET: &str = "harness-job-secret";

/// A configuration pointing at `server`, with the harness's job secret (so encrypted links).
pub fn config_for(server: &BackgroundServer) -> Config {
    Config {
        direct: Some(DirectConfig {
            host: "127.0.0.1".into(),
            port: server.addr().port(),
            punch_timeout: Duration::from_secs(10),
            auth_token: Some(JOB_SECRET.into()),
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
    run_named(&cfg, &unique_name("peers"), n, strict_finalize, f)
}
