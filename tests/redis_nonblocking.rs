//! Non-blocking point-to-point and collectives on the Redis channel (only Redis enabled), against a real
//! redis-server: the semantics of `store_nonblocking`, and nothing left behind.

mod redis_harness;
mod store_nonblocking;

use redis_harness::{run_peers, RedisServer};
use store_nonblocking as nb;

#[test]
fn posted_receives_exchange_progress_and_timeouts() {
    let server = RedisServer::start();
    run_peers(&server.config(), 3, nb::posted_receives_match_in_post_order);
    run_peers(&server.config(), 2, |c| {
        nb::exchange_and_background_progress(c);
        nb::a_timed_out_receive_takes_nothing(c);
        nb::bidirectional_64_mib(c);
    });
    run_peers(&server.config(), 3, |c| {
        nb::collectives_in_background(c, "redis")
    });
    run_peers(&server.config(), 4, nb::collectives_on_split_halves);
    assert!(server.scan("fmi:*").is_empty());
}
