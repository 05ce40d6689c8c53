//! Non-blocking point-to-point and collectives on the S3 channel (only S3 enabled), against a real
//! S3-compatible server (moto_server): the semantics of `store_nonblocking`, and nothing left.

mod s3_harness;
mod store_nonblocking;

use s3_harness::{run_peers, S3Server};
use store_nonblocking as nb;

#[test]
fn posted_receives_exchange_progress_and_timeouts() {
    let server = S3Server::start();
    run_peers(&server.config(), 3, nb::posted_receives_match_in_post_order);
    run_peers(&server.config(), 2, |c| {
        nb::exchange_and_background_progress(c);
        nb::a_timed_out_receive_takes_nothing(c);
        nb::bidirectional_64_mib(c);
    });
    run_peers(&server.config(), 3, |c| {
        nb::collectives_in_background(c, "s3")
    });
    run_peers(&server.config(), 4, nb::collectives_on_split_halves);
    let left = server.keys("fmi:");
    assert!(left.is_empty(), "objects left: {left:?}");
}
