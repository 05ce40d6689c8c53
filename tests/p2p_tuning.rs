//! Checks for the direct channel's tuned paths: the allreduce algorithms around the
//! pipelining piece size (256 KiB) and with uneven segments, halving-doubling's fallbacks, and
//! the receive path that reads header and payload in one call (a message shorter than its
//! receive buffer must not swallow the next messages).

mod common;

use fmi::{BuiltinOp, Datatype, ErrorKind, ReduceOp};

fn floats(r: usize, count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| (((r * 5 + i * 3) % 7) as f32).to_ne_bytes())
        .collect()
}

fn expected(n: usize, count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| {
            let mut acc = 0f32;
            for r in 0..n {
                acc += ((r * 5 + i * 3) % 7) as f32;
            }
            acc.to_ne_bytes()
        })
        .collect()
}

#[test]
fn allreduce_algorithms_around_piece_boundaries() {
    // Elements: below and above one 256 KiB piece, uneven segments, several pieces.
    let counts = [
        1usize,
        3,
        37,
        65_535,
        65_536,
        65_537,
        3 * 65_536 + 7,
        1 << 20,
    ];
    for n in [1usize, 2, 3, 4, 5, 8] {
        common::run_peers(n, |c| {
            let r = c.rank();
            let op = ReduceOp::builtin(BuiltinOp::Sum);
            for &count in &counts {
                let want = expected(n, count);
                for algo in ["ring", "halving_doubling", "recursive_doubling"] {
                    let mut buf = floats(r, count);
                    c.allreduce_with(algo, &mut buf, Datatype::Float, &op)
                        .unwrap();
                    assert!(buf == want, "{algo} n={n} count={count} rank {r}");
                }
                let mut out = vec![0u8; count * 4];
                c.allreduce(&floats(r, count), &mut out, Datatype::Float, &op)
                    .unwrap();
                assert!(out == want, "auto n={n} count={count} rank {r}");
            }
        });
    }
}

#[test]
fn short_message_into_long_buffer_keeps_the_next_ones() {
    common::run_peers(2, |c| {
        if c.rank() == 0 {
            // Sent back to back, so they arrive together and one read can take all of them.
            c.send(&[1u8; 5], 1).unwrap();
            c.send(&[2u8; 3], 1).unwrap();
            c.send(&[3u8; 70_000], 1).unwrap();
            c.send(&[], 1).unwrap();
            c.send(&[4u8; 8], 1).unwrap();
        } else {
            std::thread::sleep(std::time::Duration::from_millis(50));
            let mut big = [0u8; 64];
            let e = c.recv(&mut big, 0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::SizeMismatch, "{e}");
            let mut three = [0u8; 3];
            c.recv(&mut three, 0).unwrap();
            assert_eq!(three, [2u8; 3]);
            let mut large = vec![0u8; 70_000];
            c.recv(&mut large, 0).unwrap();
            assert!(large.iter().all(|&b| b == 3));
            let mut huge = vec![0u8; 100_000];
            let e = c.recv(&mut huge, 0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::SizeMismatch, "{e}");
            let mut eight = [0u8; 8];
            c.recv(&mut eight, 0).unwrap();
            assert_eq!(eight, [4u8; 8]);
        }
        c.barrier().unwrap();
    });
}
