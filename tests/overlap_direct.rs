//! A non-blocking collective overlapped with blocking ones in orders that differ between the
//! peers (`tests/overlap`), on the direct channel.

mod common;
mod overlap;

#[test]
fn ibarrier_and_dup_in_either_order() {
    common::run_peers(2, overlap::ibarrier_then_dup_in_either_order);
    common::run_peers(3, overlap::ibarrier_then_dup_in_either_order);
}

#[test]
fn iallreduce_and_allreduce_in_either_order() {
    common::run_peers(2, overlap::iallreduce_then_allreduce_in_either_order);
    common::run_peers(4, overlap::iallreduce_then_allreduce_in_either_order);
}

#[test]
fn ibarrier_and_tagged_p2p_in_either_order() {
    common::run_peers(2, overlap::ibarrier_then_tagged_p2p_in_either_order);
    common::run_peers(3, overlap::ibarrier_then_tagged_p2p_in_either_order);
}
