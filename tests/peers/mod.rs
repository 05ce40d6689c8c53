//! Peers as threads of the test process: N communicators of one configuration, each on its own
//! thread, finalized at the end. Shared by the store-channel harnesses.
#![allow(dead_code)]

use fmi::{Communicator, Config};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A communicator name unique to this process.
pub fn unique_name(tag: &str) -> String {
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `f` on `n` peers (threads) of communicator `name`, each with its own communicator,
/// then finalizes them (a failing finalize panics when `strict_finalize`). Returns each rank's
/// result in rank order.
pub fn run_named<T: Send>(
    cfg: &Config,
    name: &str,
    n: usize,
    strict_finalize: bool,
    f: impl Fn(&mut Communicator) -> T + Sync,
) -> Vec<T> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|rank| {
                let cfg = cfg.clone();
                let f = &f;
                std::thread::Builder::new()
                    .name(format!("rank{rank}"))
                    .stack_size(8 << 20)
                    .spawn_scoped(s, move || {
                        let mut c = Communicator::new(rank as u32, n as u32, cfg, name, 128)
                            .unwrap_or_else(|e| panic!("rank {rank}: init failed: {e}"));
                        let out = f(&mut c);
                        let fin = c.finalize();
                        if strict_finalize {
                            fin.unwrap_or_else(|e| panic!("rank {rank}: finalize failed: {e}"));
                        }
                        out
                    })
                    .unwrap()
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("peer thread panicked"))
            .collect()
    })
}

/// [`run_named`] with a fresh name and a strict finalize.
pub fn run_peers<T: Send>(
    cfg: &Config,
    n: usize,
    f: impl Fn(&mut Communicator) -> T + Sync,
) -> Vec<T> {
    run_named(cfg, &unique_name("peers"), n, true, f)
}
