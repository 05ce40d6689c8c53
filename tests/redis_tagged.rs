//! Tagged point-to-point messages on the Redis channel (only Redis enabled), against a real
//! redis-server: the MPI semantics of `store_tagged`, the unexpected-message bound, and
//! clean-up of messages never received.

mod redis_harness;
mod store_tagged;

use redis_harness::{run_named, run_peers, unique_name, RedisServer};
use store_tagged as st;

#[test]
fn non_overtaking_under_many_tags() {
    let server = RedisServer::start();
    run_peers(&server.config(), 4, |c| {
        st::non_overtaking_under_many_tags(c, 200, 7)
    });
    assert!(server.scan("fmi:*").is_empty());
}

#[test]
fn wildcard_receives_from_concurrent_senders_get_every_message_once() {
    let server = RedisServer::start();
    run_peers(&server.config(), 4, |c| {
        st::wildcard_receives_get_every_message_once(c, 150)
    });
}

#[test]
fn probe_truncation_bad_input_rings() {
    let server = RedisServer::start();
    run_peers(&server.config(), 2, |c| {
        st::probe_then_receive_a_message_of_unknown_size(c);
        st::a_longer_message_is_a_truncation_error_and_is_consumed(c);
        st::bad_input_gives_invalid_arg(c);
    });
    run_peers(&server.config(), 3, |c| st::rings_and_interleaving(c, 20));
    assert!(server.scan("fmi:*").is_empty());
}

#[test]
fn passed_over_messages_beyond_the_bound_stay_in_the_store() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.comm.unexpected_bytes = 1024;
    let spilled = || server.scan("fmi:*:spill:*").len();
    run_peers(&cfg, 2, |c| {
        st::passed_over_messages_beyond_the_bound_stay_in_the_store(c, 20, &spilled, true)
    });
    assert!(server.scan("fmi:*").is_empty());
}

#[test]
fn finalize_deletes_messages_never_received() {
    let server = RedisServer::start();
    let name = unique_name("tagged-left");
    run_named(
        &server.config(),
        &name,
        3,
        true,
        st::messages_never_received,
    );
    let left = server.scan("fmi:*");
    assert!(left.is_empty(), "keys left: {left:?}");
}
