//! fmi-rendezvous: the rendezvous server of libfmi's direct channel.

use clap::Parser;
use fmi_tools::server::{serve, RelayLimits, ServerConfig, Stats};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Pairs libfmi peers by name and tells each the other's public endpoint (for TCP hole punching).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address and port to listen on.
    #[arg(long, default_value = "0.0.0.0:10000")]
    listen: SocketAddr,
    /// Seconds a client may stay silent before it is disconnected and its pending pairings dropped.
    #[arg(long, default_value_t = 120)]
    idle_timeout: u64,
    /// Seconds a new client has to send its hello.
    #[arg(long, default_value_t = 5)]
    hello_timeout: u64,
    /// Most simultaneous connections.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Most pending pairings per connection.
    #[arg(long, default_value_t = 4096)]
    max_pending_per_conn: usize,
    /// Most simultaneous connections from one IP address.
    #[arg(long, default_value_t = 1024)]
    max_connections_per_ip: usize,
    /// Most relayed circuits (pairs) one job may have open at once; more are refused with
    /// FMI_ERR_LIMIT (code relay_job_circuits). 0: unlimited.
    #[arg(long, default_value_t = 4096)]
    relay_circuits_per_job: usize,
    /// Most relayed circuit ends one IP address may hold at once (code relay_ip_circuits).
    /// 0: unlimited.
    #[arg(long, default_value_t = 1024)]
    relay_circuits_per_ip: usize,
    /// Most bytes a circuit forwards in each direction; a side that sends more has its circuit
    /// cut (code relay_circuit_bytes). 0: unlimited.
    #[arg(long, default_value_t = 64 << 30)]
    relay_bytes_per_circuit: u64,
    /// Seconds a circuit may stay open before it is cut (code relay_circuit_duration).
    /// 0: unlimited.
    #[arg(long, default_value_t = 3600)]
    relay_circuit_secs: u64,
    /// File with one job secret per line: every request must be authenticated with one of them,
    /// and peers are paired only with peers holding the same secret. The environment variable
    /// FMI_AUTH_TOKEN adds one more. Without either, the server accepts unauthenticated peers.
    #[arg(long)]
    auth_token_file: Option<std::path::PathBuf>,
    /// Serve TLS with this PEM certificate chain (needs --tls-key); clients set
    /// backends.Direct.tls and tls_ca.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let filter = std::env::var("FMI_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
    let mut tokens: Vec<Vec<u8>> = Vec::new();
    if let Some(path) = &args.auth_token_file {
        match std::fs::read_to_string(path) {
            Ok(text) => tokens.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(|l| l.as_bytes().to_vec()),
            ),
            Err(e) => {
                eprintln!("fmi-rendezvous: cannot read {}: {e}", path.display());
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    if let Ok(t) = std::env::var("FMI_AUTH_TOKEN") {
        if !t.is_empty() {
            tokens.push(t.into_bytes());
        }
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => match fmi::rendezvous::tls::server_config(c, k) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("fmi-rendezvous: cannot load TLS certificate/key: {e}");
                return std::process::ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    let cfg = ServerConfig {
        tls,
        hello_timeout: Duration::from_secs(args.hello_timeout.max(1)),
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        max_pending_per_conn: args.max_pending_per_conn,
        max_connections: args.max_connections,
        max_connections_per_ip: args.max_connections_per_ip,
        relay: RelayLimits {
            circuits_per_job: Some(args.relay_circuits_per_job).filter(|&n| n > 0),
            circuits_per_ip: Some(args.relay_circuits_per_ip).filter(|&n| n > 0),
            bytes_per_circuit: Some(args.relay_bytes_per_circuit).filter(|&n| n > 0),
            circuit_duration: Some(args.relay_circuit_secs)
                .filter(|&n| n > 0)
                .map(Duration::from_secs),
        },
        tokens,
        ..ServerConfig::default()
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fmi-rendezvous: cannot start runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("fmi-rendezvous: cannot listen on {}: {e}", args.listen);
                return std::process::ExitCode::FAILURE;
            }
        };
        tracing::info!(
            "fmi-rendezvous listening on {} ({}, {})",
            args.listen,
            if cfg.tokens.is_empty() {
                "no authentication".to_string()
            } else {
                format!("{} job secret(s)", cfg.tokens.len())
            },
            if cfg.tls.is_some() {
                "TLS"
            } else {
                "plain TCP"
            }
        );
        serve(listener, cfg, Arc::new(Stats::default())).await;
        std::process::ExitCode::SUCCESS
    })
}
