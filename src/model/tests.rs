//! The model against values computed by hand, with units.

use super::*;
use crate::config::Config;
use crate::model::policy::Hint;
use crate::tag::OpCode;

/// $ per GiB-second, MiB of the default function.
const P: f64 = 0.0000166667;
const MEM_GIB: f64 = 128.0 / 1024.0;

fn model() -> Model {
    Model::new(&Config::default(), 128.0).unwrap()
}

fn close(got: f64, want: f64) {
    assert!(
        ((got - want) / want).abs() < 1e-9,
        "got {got:e}, want {want:e}"
    );
}

#[test]
fn direct_send_of_100_mb_takes_a_quarter_second() {
    // 100 MB at 400 MB/s = 0.25 s, plus 0.34 ms overhead (the original C++ said 0.59 ms).
    let e = model().estimate(
        ChannelKind::Direct,
        &Call::new(OpCode::SendRecv, 100_000_000, 2),
    );
    close(e.seconds, 0.25 + 0.34e-3);
    // Function time of both ends: $/GiB-s x 0.125 GiB x 2 functions x s; plus the rendezvous
    // VM's $0.0134/h over 1000 operations/h.
    close(e.cost.function_time, P * MEM_GIB * 2.0 * 0.25034);
    close(e.cost.infrastructure, 0.0134 / 1000.0);
    assert_eq!(e.cost.requests, 0.0);
    assert_eq!(e.algorithm, "send");
}

#[test]
fn store_rounds() {
    let m = model();
    // Redis send of 8 B: 5.2 ms + (8 written + 8 read) B / 100 MB/s.
    let e = m.estimate(ChannelKind::Redis, &Call::new(OpCode::SendRecv, 8, 2));
    close(e.seconds, 5.2e-3 + 16.0 / 100e6);
    close(
        e.cost.total(),
        0.0038 / 1000.0 + P * MEM_GIB * 2.0 * e.seconds,
    );
    // Redis bcast of 1 MiB to 16 peers: the 15 reads (plus the write) go through the server's
    // 400 MB/s, which is slower than one function's 2 MiB at 100 MB/s.
    let mib = 1048576.0;
    let e = m.estimate(ChannelKind::Redis, &Call::new(OpCode::Bcast, 1 << 20, 16));
    close(e.seconds, 5.2e-3 + 16.0 * mib / 400e6);
    // S3 send of 1 MB: 40.4 ms + 2 MB / 50 MB/s = 80.4 ms; one PUT, one GET plus the polls of a
    // reader that polls after pauses of 1 ms doubling up to 100 ms (the S3 channel's schedule).
    let e = m.estimate(ChannelKind::S3, &Call::new(OpCode::SendRecv, 1_000_000, 2));
    close(e.seconds, 0.0804);
    // The reader polls after 1, 2, 4, ..., 64 ms (127 ms in all): 7 reads in vain by 80.4 ms.
    close(e.cost.requests, 5.4e-6 + 4.3e-7 * (1.0 + 7.0));
    close(e.cost.function_time, P * MEM_GIB * 2.0 * 0.0804);
    assert_eq!(e.cost.infrastructure, 0.0);
}

#[test]
fn direct_ring_allreduce() {
    // 16 MiB at 4 peers: ring, 2 x 3 steps in which every peer sends 4 MiB and receives 4 MiB
    // (two messages of 0.34 ms, 8 MiB at 400 MB/s), and three quarters of the buffer folded at
    // 2000 MB/s.
    let e = model().estimate(
        ChannelKind::Direct,
        &Call::new(OpCode::Allreduce, 16 << 20, 4).reduction(4, false),
    );
    assert_eq!(e.algorithm, "ring");
    close(
        e.seconds,
        6.0 * (2.0 * 0.34e-3 + 8388608.0 / 400e6) + 12582912.0 / 2000e6,
    );
    // The cost bills all 4 functions.
    close(e.cost.function_time, P * MEM_GIB * 4.0 * e.seconds);
}

#[test]
fn bandwidth_beyond_the_knee() {
    // Direct at 1000 MB/s up to 1 MiB, 250 MB/s beyond: a 4 MiB send is 1 MiB at 1000 MB/s and
    // 3 MiB at 250 MB/s.
    let mut c = Config::default();
    c.model.direct.bandwidth = 1000.0;
    c.model.direct.large_message_bytes = 1048576.0;
    c.model.direct.bandwidth_large = 250.0;
    let m = Model::new(&c, 128.0).unwrap();
    let e = m.estimate(
        ChannelKind::Direct,
        &Call::new(OpCode::SendRecv, 4 << 20, 2),
    );
    close(
        e.seconds,
        0.34e-3 + 1048576.0 / 1000e6 + 3.0 * 1048576.0 / 250e6,
    );
    let e = m.estimate(
        ChannelKind::Direct,
        &Call::new(OpCode::SendRecv, 1 << 20, 2),
    );
    close(e.seconds, 0.34e-3 + 1048576.0 / 1000e6);
}

#[test]
fn storage_scan_is_priced_as_money_not_latency() {
    // The original priced a storage scan with its latency function (~$230 at 16 peers).
    let e = model().estimate(
        ChannelKind::Redis,
        &Call::new(OpCode::Scan, 4, 16).reduction(4, false),
    );
    assert_eq!(e.algorithm, "fold_prefix");
    assert!(e.cost.total() < 1e-4, "{:?}", e.cost);
}

#[test]
fn memory_and_prices_scale_the_cost() {
    let mut c = Config::default();
    c.model.gib_second_price = 2.0 * P;
    let m2 = Model::new(&c, 1024.0).unwrap();
    let call = Call::new(OpCode::Bcast, 4096, 8);
    let a = model().estimate(ChannelKind::Direct, &call);
    let b = m2.estimate(ChannelKind::Direct, &call);
    close(a.seconds, b.seconds);
    // 2x the price, 8x the memory.
    close(b.cost.function_time, 16.0 * a.cost.function_time);
}

const ALL: [ChannelKind; 3] = [ChannelKind::Direct, ChannelKind::Redis, ChannelKind::S3];
const OPS: [OpCode; 17] = [
    OpCode::SendRecv,
    OpCode::Bcast,
    OpCode::Barrier,
    OpCode::Gather,
    OpCode::Scatter,
    OpCode::Reduce,
    OpCode::Allreduce,
    OpCode::Scan,
    OpCode::Allgather,
    OpCode::Alltoall,
    OpCode::Gatherv,
    OpCode::Scatterv,
    OpCode::Allgatherv,
    OpCode::Alltoallv,
    OpCode::ReduceScatterBlock,
    OpCode::ReduceScatter,
    OpCode::Exscan,
];

#[test]
fn fast_picks_direct_for_every_operation_and_size() {
    let m = model();
    for peers in [2, 3, 4, 5, 8] {
        for op in OPS {
            let mut s = 1usize;
            while s <= 1 << 30 {
                let call = Call::new(
                    op,
                    s * if matches!(
                        op,
                        OpCode::Alltoall
                            | OpCode::Allgatherv
                            | OpCode::ReduceScatter
                            | OpCode::ReduceScatterBlock
                    ) {
                        peers
                    } else {
                        1
                    },
                    peers,
                )
                .reduction(1, false);
                let (c, _) = policy::choose(&m, &call, Hint::Fast, &ALL);
                assert_eq!(c, ChannelKind::Direct, "{} {s} B {peers} peers", op.name());
                s *= 4;
            }
        }
    }
    // Not a law: above 64 KiB gathered per peer the direct allgather is the ring, n-1 rounds of
    // 0.34 ms, so at 64 peers an allgather of 2 KiB blocks is faster through Redis (one 5.2 ms
    // round), and the model says so; below it Bruck's log2(n) rounds keep direct ahead.
    let call = Call::new(OpCode::Allgather, 2 << 10, 64);
    assert_eq!(
        policy::choose(&m, &call, Hint::Fast, &ALL).0,
        ChannelKind::Redis
    );
    let call = Call::new(OpCode::Allgather, 8, 64);
    assert_eq!(
        policy::choose(&m, &call, Hint::Fast, &ALL).0,
        ChannelKind::Direct
    );
    let call = Call::new(OpCode::Allgather, 1 << 20, 64);
    assert_eq!(
        policy::choose(&m, &call, Hint::Fast, &ALL).0,
        ChannelKind::Direct
    );
}

/// Cost of a send of `s` bytes between two 128 MiB functions, by hand (default model):
/// function time of 2 functions + per-request and infrastructure prices.
fn send_cost(c: ChannelKind, s: f64) -> f64 {
    let f = P * MEM_GIB * 2.0;
    match c {
        ChannelKind::Direct => 1.34e-5 + f * (0.34e-3 + s / 400e6),
        ChannelKind::Redis => 3.8e-6 + f * (5.2e-3 + 2.0 * s / 100e6),
        ChannelKind::S3 => {
            let lat = 40.4e-3 + 2.0 * s / 50e6;
            // reads in vain while waiting `lat`: pauses of 1, 2, 4, ... ms, at most 100 ms
            let (mut waited, mut pause, mut polls) = (0.0, 1e-3, 0.0);
            while waited < lat - 1e-12 {
                waited += pause;
                polls += 1.0;
                pause = f64::min(pause * 2.0, 0.1);
            }
            5.4e-6 + 4.3e-7 * (1.0 + polls) + f * lat
        }
    }
}

#[test]
fn cheap_flips_where_the_hand_computed_costs_cross() {
    let m = model();
    let f = P * MEM_GIB * 2.0;
    // Redis vs Direct: 3.8e-6 + f (5.2e-3 + 2e-8 s) = 1.34e-5 + f (0.34e-3 + 0.25e-8 s)
    let redis_direct = (1.34e-5 - 3.8e-6 - f * (5.2e-3 - 0.34e-3)) / (f * (2e-8 - 0.25e-8));
    // S3 vs Direct (Redis disabled): the polls make the S3 cost a step function; bisect the
    // hand-computed costs of send_cost.
    let (mut lo, mut hi) = (1e6, 1e9);
    while hi - lo > 1.0 {
        let mid = (lo + hi) / 2.0;
        if send_cost(ChannelKind::S3, mid) < send_cost(ChannelKind::Direct, mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let s3_direct = hi;
    assert!((1.2e8..1.4e8).contains(&redis_direct), "{redis_direct}");
    assert!((1.2e7..1.7e7).contains(&s3_direct), "{s3_direct}");
    for (enabled, flip, below) in [
        (&ALL[..], redis_direct, ChannelKind::Redis),
        (
            &[ChannelKind::Direct, ChannelKind::S3][..],
            s3_direct,
            ChannelKind::S3,
        ),
    ] {
        for (s, want) in [(flip * 0.99, below), (flip * 1.01, ChannelKind::Direct)] {
            let call = Call::new(OpCode::SendRecv, s as usize, 2);
            let (c, e) = policy::choose(&m, &call, Hint::Cheap, enabled);
            assert_eq!(c, want, "{s} B among {enabled:?}");
            close(e.cost.total(), send_cost(want, (s as usize) as f64));
        }
    }
    // Small messages: Redis is the cheapest of the three, S3 the dearest.
    assert!(send_cost(ChannelKind::Redis, 8.0) < send_cost(ChannelKind::S3, 8.0));
    assert!(send_cost(ChannelKind::S3, 8.0) < send_cost(ChannelKind::Direct, 8.0));
    let (c, _) = policy::choose(&m, &Call::new(OpCode::SendRecv, 8, 2), Hint::Cheap, &ALL);
    assert_eq!(c, ChannelKind::Redis);
}

#[test]
fn digest_covers_parameters_and_channels() {
    let m = model();
    let d = m.digest(&[ChannelKind::Direct, ChannelKind::Redis]);
    assert_eq!(
        d,
        model().digest(&[ChannelKind::Direct, ChannelKind::Redis])
    );
    assert_ne!(d, m.digest(&[ChannelKind::Direct]));
    let mut c = Config::default();
    c.model.redis.overhead_ms = 5.3;
    assert_ne!(
        d,
        Model::new(&c, 128.0)
            .unwrap()
            .digest(&[ChannelKind::Direct, ChannelKind::Redis])
    );
    // The memory of one function is exchanged, not compared.
    assert_eq!(
        d,
        Model::new(&Config::default(), 2048.0)
            .unwrap()
            .digest(&[ChannelKind::Direct, ChannelKind::Redis])
    );
}
