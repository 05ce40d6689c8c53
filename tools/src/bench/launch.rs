//! Self-launch: when fmi-bench is not started by `fmirun` (no `FMI_PEER_ID`), it starts an
//! embedded rendezvous server and N copies of itself as the peers of one job, as `fmirun` does.
//! Rank 0's standard output is passed through; every rank's standard error too.

use crate::server::{BackgroundServer, ServerConfig};
use fmi::rendezvous::auth;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// True when this process is a peer of a job (the launcher set `FMI_PEER_ID`).
pub fn is_peer() -> bool {
    std::env::var_os("FMI_PEER_ID").is_some()
}

fn stop(children: &mut [Child]) {
    for c in children.iter_mut() {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
    }
    let grace = Instant::now() + Duration::from_secs(2);
    while Instant::now() < grace
        && children
            .iter_mut()
            .any(|c| matches!(c.try_wait(), Ok(None)))
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    for c in children.iter_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Runs `n` peers of `exe args` with the job environment and returns the exit code: 0 when all
/// succeed, else the first failure's (the others are stopped). `config` becomes `FMI_CONFIG`.
pub fn run_local(
    n: u32,
    exe: &Path,
    args: &[std::ffi::OsString],
    config: Option<&Path>,
) -> Result<i32, String> {
    let token = auth::hex(&auth::random_bytes::<16>());
    let cfg = ServerConfig {
        tokens: vec![token.clone().into_bytes()],
        ..ServerConfig::default()
    };
    let server = BackgroundServer::start("127.0.0.1:0".parse().expect("addr"), cfg)
        .map_err(|e| format!("cannot start the rendezvous server: {e}"))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!("fmi-bench-{}-{nanos:x}", std::process::id());
    let mut children = Vec::new();
    for rank in 0..n {
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .env("FMI_PEER_ID", rank.to_string())
            .env("FMI_NUM_PEERS", n.to_string())
            .env("FMI_COMM_NAME", &name)
            .env("FMI_RENDEZVOUS", server.addr().to_string())
            .env("FMI_AUTH_TOKEN", &token)
            .stdin(Stdio::null())
            .stdout(if rank == 0 {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        if let Some(c) = config {
            cmd.env("FMI_CONFIG", c);
        }
        match cmd.spawn() {
            Ok(c) => children.push(c),
            Err(e) => {
                stop(&mut children);
                return Err(format!("cannot start {}: {e}", exe.display()));
            }
        }
    }
    let mut running: Vec<bool> = vec![true; children.len()];
    loop {
        let mut failure = None;
        for (i, c) in children.iter_mut().enumerate() {
            if !running[i] {
                continue;
            }
            if let Ok(Some(st)) = c.try_wait() {
                running[i] = false;
                if !st.success() {
                    failure = Some(st.code().unwrap_or(1).max(1));
                }
            }
        }
        if let Some(code) = failure {
            stop(&mut children);
            return Ok(code);
        }
        if running.iter().all(|r| !r) {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
