//! A non-blocking collective overlapped with blocking ones in orders that differ between the
//! peers (`tests/overlap`), on the Redis and the S3 channel (real servers).

// Both harnesses include the shared peer launcher (`tests/peers`) as a module of their own.
#![allow(clippy::duplicate_mod)]

mod overlap;
mod redis_harness;
mod s3_harness;

#[test]
fn redis_overlap() {
    let server = redis_harness::RedisServer::start();
    let cfg = server.config();
    redis_harness::run_peers(&cfg, 2, overlap::ibarrier_then_dup_in_either_order);
    redis_harness::run_peers(&cfg, 3, overlap::iallreduce_then_allreduce_in_either_order);
}

#[test]
fn s3_overlap() {
    let server = s3_harness::S3Server::start();
    let cfg = server.config();
    s3_harness::run_peers(&cfg, 2, overlap::ibarrier_then_dup_in_either_order);
    s3_harness::run_peers(&cfg, 3, overlap::iallreduce_then_allreduce_in_either_order);
}
