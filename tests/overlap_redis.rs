//! A non-blocking collective overlapped with blocking ones in orders that differ between the
//! peers (`tests/overlap`), on the Redis channel (a real redis-server).

mod overlap;
mod redis_harness;

use redis_harness::{run_peers, RedisServer};

#[test]
fn redis_overlap() {
    let server = RedisServer::start();
    let cfg = server.config();
    run_peers(&cfg, 2, overlap::ibarrier_then_dup_in_either_order);
    run_peers(&cfg, 3, overlap::iallreduce_then_allreduce_in_either_order);
    assert!(server.scan("fmi:*").is_empty(), "keys left behind");
}
