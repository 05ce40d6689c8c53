//! The v-collectives and in-place forms on the direct channel (see tests/v_matrix) at 1, 2, 3
//! and 5 peers with blocks of a few bytes, and at 3 peers with blocks of kilobytes.

mod common;
mod reference;
mod v_matrix;

#[test]
fn small_blocks_at_1_2_3_5_peers() {
    for n in [1, 2, 3, 5] {
        common::run_peers(n, |c| v_matrix::check_v(c, 1));
    }
}

#[test]
fn blocks_of_kilobytes_at_3_peers() {
    common::run_peers(3, |c| v_matrix::check_v(c, 4096));
}
