//! The collective matrix (every operation at 1-16 peers and many sizes) (shared with the Redis channel, see
//! tests/store_matrix) with only the S3 channel enabled, against a real S3-compatible server:
//! sizes 0, 1, odd and 5 MiB, and 64 MiB through every large-message path (multipart uploads,
//! parallel ranged reads, objects for several readers). Each run must leave no object behind.
//! CI runs 1 to 5 and 8 peers. moto_server is one Python process that serves one request at a
//! time, so 6, 7, 9 and 16 peers (the rest of the core matrix's counts) are
//! `#[ignore]`d to keep CI under its time limit: `cargo test --release --test s3_matrix --
//! --ignored` runs them (here 6 and 7 took about 7 minutes, 9 about 6, 16 about 12 with 2
//! minutes allowed per operation: see docs/s3.md).

mod reference;
mod s3_harness;
mod store_matrix;
mod v_matrix;

use s3_harness::{run_peers, S3Server};
use store_matrix::{check_all, check_p2p, check_rooted};

fn full_matrix(server: &S3Server, n: usize) {
    let start = std::time::Instant::now();
    run_peers(&server.config(), n, |c| {
        check_p2p(c);
        check_rooted(c);
        check_all(c);
    });
    eprintln!("s3 matrix n={n}: {:.1} s", start.elapsed().as_secs_f64());
    let left = server.keys("fmi:");
    assert!(left.is_empty(), "objects left after n={n}: {left:?}");
}

#[test]
fn peers_1_to_3() {
    let server = S3Server::start();
    for n in 1..=3 {
        full_matrix(&server, n);
    }
}

#[test]
fn peers_4_and_5() {
    let server = S3Server::start();
    for n in 4..=5 {
        full_matrix(&server, n);
    }
}

#[test]
#[ignore = "about 7 minutes over moto_server; run with --ignored"]
fn peers_6_and_7() {
    let server = S3Server::start();
    for n in 6..=7 {
        full_matrix(&server, n);
    }
}

#[test]
fn peers_8() {
    let server = S3Server::start();
    full_matrix(&server, 8);
}

#[test]
#[ignore = "about 8 minutes over moto_server; run with --ignored"]
fn peers_9() {
    let server = S3Server::start();
    full_matrix(&server, 9);
}

#[test]
#[ignore = "16 peers saturate moto_server on 2 cores (operations time out); run with --ignored"]
fn peers_16() {
    let server = S3Server::start();
    // 16 pollers queue up behind moto's one-request-at-a-time server: allow each operation
    // 2 minutes instead of 30 s, so a slow server is told apart from a lost message.
    let mut cfg = server.config();
    cfg.comm.timeout = std::time::Duration::from_secs(120);
    let start = std::time::Instant::now();
    run_peers(&cfg, 16, |c| {
        check_p2p(c);
        check_rooted(c);
        check_all(c);
    });
    eprintln!("s3 matrix n=16: {:.1} s", start.elapsed().as_secs_f64());
    let left = server.keys("fmi:");
    assert!(left.is_empty(), "objects left after n=16: {left:?}");
}

#[test]
fn sixty_four_mib() {
    let server = S3Server::start();
    let cfg = server.config();
    let start = std::time::Instant::now();
    run_peers(&cfg, 2, store_matrix::sixty_four_mib_2);
    run_peers(&cfg, 3, store_matrix::sixty_four_mib_3);
    eprintln!("s3 64 MiB: {:.1} s", start.elapsed().as_secs_f64());
    let left = server.keys("fmi:");
    assert!(left.is_empty(), "objects left: {left:?}");
}

/// The v-collectives and in-place forms (tests/v_matrix) at 2 and 3 peers, uneven and zero
/// counts; nothing may be left behind.
#[test]
fn v_collectives_2_and_3() {
    let server = S3Server::start();
    for n in 2..=3 {
        let start = std::time::Instant::now();
        run_peers(&server.config(), n, |c| v_matrix::check_v(c, 1));
        eprintln!(
            "s3 v-collectives n={n}: {:.1} s",
            start.elapsed().as_secs_f64()
        );
        let left = server.keys("fmi:");
        assert!(left.is_empty(), "left after n={n}: {left:?}");
    }
}
