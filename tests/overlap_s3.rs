//! A non-blocking collective overlapped with blocking ones in orders that differ between the
//! peers (`tests/overlap`), on the S3 channel (a real S3-compatible server).

mod overlap;
mod s3_harness;

use s3_harness::{run_peers, S3Server};

#[test]
fn s3_overlap() {
    let server = S3Server::start();
    let cfg = server.config();
    run_peers(&cfg, 2, overlap::ibarrier_then_dup_in_either_order);
    run_peers(&cfg, 3, overlap::iallreduce_then_allreduce_in_either_order);
    let left = server.keys("fmi:");
    assert!(left.is_empty(), "objects left: {left:?}");
}
