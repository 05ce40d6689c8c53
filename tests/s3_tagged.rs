//! Tagged point-to-point messages on the S3 channel (only S3 enabled), against a real
//! S3-compatible server (moto_server): the MPI semantics of `store_tagged` at small message
//! counts (every request is slow and billed), the unexpected-message bound, and clean-up.

mod s3_harness;
mod store_tagged;

use s3_harness::{run_named, run_peers, unique_name, S3Server};
use store_tagged as st;

#[test]
fn non_overtaking_and_wildcards_from_concurrent_senders() {
    let server = S3Server::start();
    run_peers(&server.config(), 4, |c| {
        st::non_overtaking_under_many_tags(c, 40, 4);
        st::wildcard_receives_get_every_message_once(c, 24);
    });
    let left = server.keys("fmi:");
    assert!(left.is_empty(), "objects left: {left:?}");
}

#[test]
fn probe_truncation_bad_input_rings() {
    let server = S3Server::start();
    run_peers(&server.config(), 2, |c| {
        st::probe_then_receive_a_message_of_unknown_size(c);
        st::a_longer_message_is_a_truncation_error_and_is_consumed(c);
        st::bad_input_gives_invalid_arg(c);
    });
    run_peers(&server.config(), 3, |c| st::rings_and_interleaving(c, 3));
    let left = server.keys("fmi:");
    assert!(left.is_empty(), "objects left: {left:?}");
}

#[test]
fn passed_over_messages_beyond_the_bound_and_clean_up() {
    let server = S3Server::start();
    let mut cfg = server.config();
    cfg.comm.unexpected_bytes = 1024;
    let spilled = || {
        server
            .keys("fmi:")
            .iter()
            .filter(|k| k.contains(":spill:"))
            .count()
    };
    run_peers(&cfg, 2, |c| {
        st::passed_over_messages_beyond_the_bound_stay_in_the_store(c, 6, &spilled, false)
    });
    let name = unique_name("tagged-left");
    run_named(
        &server.config(),
        &name,
        3,
        true,
        st::messages_never_received,
    );
    let left = server.keys("fmi:");
    assert!(left.is_empty(), "objects left: {left:?}");
}
