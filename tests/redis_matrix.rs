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

/// On a store, as on the direct channel (tests/plan.rs), the objects the peers really wrote for
/// each new operation equal the messages of the model's pattern of the algorithm they recorded
/// (and an exscan over the flat limit gives the right prefixes).
#[test]
fn v_collective_messages_are_those_of_the_pattern() {
    use fmi::collective::shape::{packed, Blocks};
    use fmi::model::pattern::pattern;
    use fmi::plan::{plan, Call, Tuning};
    use fmi::tag::OpCode;
    use fmi::{BuiltinOp, Datatype, ReduceOp};
    let server = RedisServer::start();
    let n = 3;
    let counts = [4usize, 0, 8];
    let displs = packed(&counts);
    let total: usize = counts.iter().sum();
    // (operation, Call::bytes) of each call below
    let calls = [
        (OpCode::Gatherv, 0),
        (OpCode::Scatterv, 0),
        (OpCode::Allgatherv, total),
        (OpCode::Alltoallv, 0),
        (OpCode::ReduceScatter, total),
        (OpCode::ReduceScatterBlock, 4 * n),
        (OpCode::Exscan, 8),
        (OpCode::Exscan, 8 << 20),
    ];
    let per_rank = run_peers(&server.config(), n, |c| {
        let r = c.rank();
        let b = Blocks::new(&counts, &displs);
        let t = Datatype::Int32;
        let op = ReduceOp::builtin(BuiltinOp::Sum);
        let mut seen = Vec::new();
        for (i, &(code, bytes)) in calls.iter().enumerate() {
            c.reset_counters();
            let mut all = vec![0u8; total];
            let mut mine = vec![0u8; counts[r]];
            match i {
                0 => c.gatherv(&mine, (r == 0).then_some((&mut all[..], b)), 0),
                1 => c.scatterv((r == 0).then_some((&all[..], b)), &mut mine, 0),
                2 => c.allgatherv(&vec![1; counts[r]], &mut all, b),
                3 => {
                    let send = vec![2u8; counts[r] * n];
                    let sc = [counts[r]; 3];
                    let rc = counts;
                    c.alltoallv(
                        &send,
                        Blocks::new(&sc, &packed(&sc)),
                        &mut vec![0u8; total],
                        Blocks::new(&rc, &packed(&rc)),
                    )
                }
                4 => c.reduce_scatter(&all, &mut mine, &counts, t, &op),
                5 => c.reduce_scatter_block(&[0u8; 12], &mut [0u8; 4], t, &op),
                _ => {
                    // Every element of rank p is p + 1: rank r gets 1 + ... + r everywhere (the
                    // 8 MiB call runs the chain, over the flat limit).
                    let send: Vec<u8> = (0..bytes / 4)
                        .flat_map(|_| (r as i32 + 1).to_ne_bytes())
                        .collect();
                    let mut out = vec![0xAAu8; bytes];
                    let res = c.exscan(&send, &mut out, t, &op);
                    let want = (r * (r + 1) / 2) as i32;
                    let ok = out.chunks_exact(4).all(|e| {
                        let v = i32::from_ne_bytes(e.try_into().unwrap());
                        if r == 0 {
                            e == [0xAA; 4]
                        } else {
                            v == want
                        }
                    });
                    assert!(ok, "exscan of {bytes} bytes at rank {r}");
                    res
                }
            }
            .unwrap_or_else(|e| panic!("{code:?} at {r}: {e}"));
            let got = c.algorithm_counts();
            assert_eq!(got.len(), 1, "{code:?}: {got:?}");
            seen.push((got[0].0, got[0].1.messages));
        }
        seen
    });
    let tuning = Tuning {
        ring_threshold: 256 << 10,
    };
    for (i, &(code, bytes)) in calls.iter().enumerate() {
        let alg = per_rank[0][i].0;
        assert!(per_rank.iter().all(|v| v[i].0 == alg), "{code:?}");
        let call = Call::new(code, bytes, n).reduction(4, false);
        assert_eq!(plan(&call, alg.family(), &tuning).unwrap(), alg, "{code:?}");
        let sent: u64 = per_rank.iter().map(|v| v[i].1).sum();
        let p = pattern(alg, &call);
        assert_eq!(sent as f64, p.messages, "{code:?} ({alg}): sent {sent}");
    }
    let left = server.scan("fmi:*");
    assert!(left.is_empty(), "keys left: {left:?}");
}
