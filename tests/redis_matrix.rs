//! The collective matrix (every operation at 1-16 peers and many sizes), with only the Redis channel enabled, against a real
//! redis-server: peer counts 1..9 and 16; send/recv; every root for sizes 0, 1 and odd, and
//! roots 0 and n-1 for the large size; every datatype with every built-in op defined for it;
//! non-commutative (2x2 matrix product) and non-associative (subtraction) user ops that prove the
//! left-to-right order. The large size is 5 MiB (over one 4 MiB chunk, and over the 4 MiB flat
//! limit, so the chunked and partial-result algorithms run); 64 MiB runs in `sixty_four_mib`.

mod redis_harness;
mod reference;
mod store_matrix;
mod v_matrix;

use redis_harness::{run_peers, RedisServer};
use store_matrix::{check_all, check_p2p, check_rooted};

fn full_matrix(server: &RedisServer, n: usize) {
    let start = std::time::Instant::now();
    run_peers(&server.config(), n, |c| {
        check_p2p(c);
        check_rooted(c);
        check_all(c);
    });
    eprintln!("redis matrix n={n}: {:.1} s", start.elapsed().as_secs_f64());
    let left = server.scan("fmi:*");
    assert!(left.is_empty(), "keys left after n={n}: {left:?}");
}

#[test]
fn peers_1_to_3() {
    let server = RedisServer::start();
    for n in 1..=3 {
        full_matrix(&server, n);
    }
}

#[test]
fn peers_4_to_6() {
    let server = RedisServer::start();
    for n in 4..=6 {
        full_matrix(&server, n);
    }
}

#[test]
fn peers_7_to_9() {
    let server = RedisServer::start();
    for n in 7..=9 {
        full_matrix(&server, n);
    }
}

#[test]
fn peers_16() {
    let server = RedisServer::start();
    full_matrix(&server, 16);
}

/// 64 MiB through every kind of large-message path: one chunked stream (send/recv), one shared
/// object read by several peers (bcast), the segmented allreduce, the reduce tree, and the scan
/// chain with a non-associative operator.
#[test]
fn sixty_four_mib() {
    let server = RedisServer::start();
    let cfg = server.config();
    run_peers(&cfg, 2, store_matrix::sixty_four_mib_2);
    run_peers(&cfg, 3, store_matrix::sixty_four_mib_3);
    let left = server.scan("fmi:*");
    assert!(left.is_empty(), "keys left: {left:?}");
}

/// The v-collectives and in-place forms (tests/v_matrix) at 2 and 3 peers, uneven and zero
/// counts; nothing may be left behind.
#[test]
fn v_collectives_2_and_3() {
    let server = RedisServer::start();
    for n in 2..=3 {
        let start = std::time::Instant::now();
        run_peers(&server.config(), n, |c| v_matrix::check_v(c, 1));
        eprintln!(
            "redis v-collectives n={n}: {:.1} s",
            start.elapsed().as_secs_f64()
        );
        let left = server.scan("fmi:*");
        assert!(left.is_empty(), "left after n={n}: {left:?}");
    }
}
