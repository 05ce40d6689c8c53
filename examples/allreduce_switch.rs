//! Measures where ring allreduce overtakes recursive doubling (the default switch point).
//! Run: cargo build --release --example allreduce_switch --bin fmirun &&
//!      target/release/fmirun -n 4 target/release/examples/allreduce_switch

use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};
use std::time::Instant;

/// Median over iterations of the slowest rank's time for one call, in microseconds.
fn measure(c: &mut Communicator, algo: &str, bytes: usize) -> f64 {
    let op = ReduceOp::builtin(BuiltinOp::Sum);
    let max = ReduceOp::builtin(BuiltinOp::Max);
    let mut buf = vec![0u8; bytes];
    let iters = (2_000_000 / bytes.max(1024)).clamp(5, 200);
    let mut samples = Vec::with_capacity(iters);
    for i in 0..iters + 2 {
        c.barrier().expect("barrier");
        let t = Instant::now();
        c.allreduce_with(algo, &mut buf, Datatype::Float, &op)
            .expect("allreduce");
        let mut us = (t.elapsed().as_secs_f64() * 1e6).to_ne_bytes();
        c.allreduce_in_place(&mut us, Datatype::Double, &max)
            .expect("max");
        if i >= 2 {
            samples.push(f64::from_ne_bytes(us));
        }
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

fn main() {
    let mut c = Communicator::from_env().unwrap_or_else(|e| panic!("init: {e}"));
    if c.rank() == 0 {
        println!(
            "allreduce f32 sum, {} peers: median of the slowest rank, us",
            c.size()
        );
        println!(
            "{:>10} {:>14} {:>10} {:>8}",
            "bytes", "rec.doubling", "ring", "ring/rd"
        );
    }
    let mut bytes = 1024;
    while bytes <= 16 << 20 {
        let rd = measure(&mut c, "recursive_doubling", bytes);
        let ring = measure(&mut c, "ring", bytes);
        if c.rank() == 0 {
            println!("{bytes:>10} {rd:>14.1} {ring:>10.1} {:>8.2}", ring / rd);
        }
        bytes *= 4;
    }
    c.finalize().expect("finalize");
}
