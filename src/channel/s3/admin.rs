//! Blocking S3 helpers outside the message protocol: creating a bucket, listing and deleting
//! keys, and one bare PutObject/GetObject (the baseline of `fmi-bench --channel s3`). Used by
//! tools and tests; communicators never call these.

use super::client::{Fail, S3};
use super::{object, runtime};
use crate::config::S3Config;
use crate::error::Result;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A client for the bucket of an S3 configuration.
pub struct Admin {
    s3: Arc<S3>,
    timeout: Duration,
}

impl Admin {
    /// Builds the client (no request yet); every call is bounded by `timeout`.
    pub fn new(cfg: &S3Config, timeout: Duration) -> Result<Admin> {
        let cfg = cfg.clone();
        let s3 = runtime::run(
            async move { Ok(Arc::new(S3::new(&cfg).await?)) },
            Instant::now() + timeout,
            "building the S3 client",
        )?;
        Ok(Admin { s3, timeout })
    }

    fn run<T: Send + 'static>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = std::result::Result<T, Fail>> + Send + 'static,
    ) -> Result<T> {
        let s3 = self.s3.clone();
        let label = what.to_string();
        runtime::run(
            async move { f.await.map_err(|e| s3.final_error(e, &label)) },
            Instant::now() + self.timeout,
            what,
        )
    }

    /// Creates the bucket (an existing bucket of the same owner is fine).
    pub fn create_bucket(&self) -> Result<()> {
        let s3 = self.s3.clone();
        self.run("creating the bucket", async move {
            let r = s3.client.create_bucket().bucket(&s3.bucket).send().await;
            match r {
                Ok(_) => Ok(()),
                Err(e) => {
                    let code =
                        aws_sdk_s3::error::ProvideErrorMetadata::code(&e).map(str::to_string);
                    if code.as_deref() == Some("BucketAlreadyOwnedByYou") {
                        Ok(())
                    } else {
                        Err(s3.classify(e))
                    }
                }
            }
        })
    }

    /// Every key under `prefix` (the configured key prefix is added), sorted.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let (s3, p) = (self.s3.clone(), self.s3.object(prefix));
        let mut keys = self.run("listing keys", async move { object::list(&s3, &p).await })?;
        keys.sort();
        Ok(keys)
    }

    /// Deletes every key under `prefix` and returns how many there were.
    pub fn delete_prefix(&self, prefix: &str) -> Result<usize> {
        let (s3, p) = (self.s3.clone(), self.s3.object(prefix));
        self.run("deleting keys", async move {
            let keys = object::list(&s3, &p).await?;
            let n = keys.len();
            object::delete(&s3, keys).await?;
            Ok(n)
        })
    }

    /// One PutObject of `data` at `key`.
    pub fn put(&self, key: &str, data: Bytes) -> Result<()> {
        let (s3, k) = (self.s3.clone(), self.s3.object(key));
        self.run("PutObject", async move {
            s3.client
                .put_object()
                .bucket(&s3.bucket)
                .key(k)
                .body(ByteStream::from(data))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| s3.classify(e))
        })
    }

    /// One GetObject of `key`.
    pub fn get(&self, key: &str) -> Result<Bytes> {
        let (s3, k) = (self.s3.clone(), self.s3.object(key));
        self.run("GetObject", async move {
            let out = s3
                .client
                .get_object()
                .bucket(&s3.bucket)
                .key(k)
                .send()
                .await
                .map_err(|e| s3.classify(e))?;
            out.body
                .collect()
                .await
                .map(|b| b.into_bytes())
                .map_err(|e| Fail::Transient(format!("reading a body: {e}")))
        })
    }
}
