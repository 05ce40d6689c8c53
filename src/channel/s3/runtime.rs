//! The process's one small tokio runtime for the S3 channel: created on first use, two worker
//! threads, shared by every communicator. Callers are synchronous: [`run`] hands a future to the
//! runtime and waits for its result on a channel, so it never calls `block_on` inside a caller's
//! own runtime (which would panic) and never nests runtimes.

use crate::error::{Error, ErrorKind, Result};
use once_cell::sync::OnceCell;
use std::future::Future;
use std::time::Instant;
use tokio::runtime::{Builder, Runtime};

static RUNTIME: OnceCell<Runtime> = OnceCell::new();

/// The runtime, created on first use.
pub fn get() -> Result<&'static Runtime> {
    RUNTIME.get_or_try_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fmi-s3")
            .enable_all()
            .build()
            .map_err(|e| Error::channel(format!("cannot start the S3 channel's runtime: {e}")))
    })
}

/// Runs `fut` on the runtime and waits for its result until `deadline`. At the deadline the
/// future is dropped (cancelling its requests) and the call fails with `ErrorKind::Timeout`,
/// naming `what`.
pub fn run<T, F>(fut: F, deadline: Instant, what: &str) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let rt = get()?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let at = tokio::time::Instant::from_std(deadline);
    rt.spawn(async move {
        let r = match tokio::time::timeout_at(at, fut).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(ErrorKind::Timeout, "timed out")),
        };
        let _ = tx.send(r);
    });
    // The task always answers (its timeout fires at the deadline); the extra second only covers a
    // runtime too overloaded to run it.
    let wait =
        deadline.saturating_duration_since(Instant::now()) + std::time::Duration::from_secs(1);
    match rx.recv_timeout(wait) {
        Ok(r) => r.map_err(|e| e.context(what)),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!("{what}: the S3 runtime did not answer in time"),
        )),
    }
}

/// Starts `fut` on the runtime without waiting (background clean-up).
pub fn spawn<F>(fut: F) -> Option<tokio::task::JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    get().ok().map(|rt| rt.spawn(fut))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn runs_and_times_out() {
        let soon = Instant::now() + Duration::from_secs(5);
        assert_eq!(run(async { Ok(7) }, soon, "seven").unwrap(), 7);
        let t0 = Instant::now();
        let e = run(
            async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok(())
            },
            Instant::now() + Duration::from_millis(50),
            "sleeping",
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(e.message().contains("sleeping"));
        assert!(t0.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn works_inside_a_callers_runtime() {
        let caller = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let v = caller.block_on(async {
            run(
                async { Ok(3) },
                Instant::now() + Duration::from_secs(5),
                "x",
            )
        });
        assert_eq!(v.unwrap(), 3);
    }
}
