//! The S3 client of a communicator: built from `backends.S3` with the standard AWS credential
//! chain, and the classification of every S3 failure into "not there (yet)", "already there",
//! "try again" or a final libfmi error that carries the S3 error code.

use crate::config::S3Config;
use crate::error::{Error, ErrorKind, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use std::future::Future;
use std::time::{Duration, Instant};

/// Why one S3 request did not succeed.
#[derive(Debug)]
pub enum Fail {
    /// 404: the object (or upload) is not there.
    NotFound,
    /// 412/409 on a conditional write: the object already exists.
    Exists,
    /// The server could not be reached or answered 5xx/throttling: worth another attempt.
    Transient(String),
    /// Anything else (missing bucket, access denied, bad request): final.
    Fatal(Error),
}

/// A connected S3 channel endpoint: the SDK client, the bucket and how to name and wait.
pub struct S3 {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    /// `backends.S3.key_prefix`, prepended to every object key.
    pub prefix: String,
    /// The endpoint for messages: `endpoint_url` or "AWS S3 in {region}".
    pub endpoint: String,
    /// `backends.S3.timeout`: the longest pause between two polls for an object.
    pub poll_cap: Duration,
    /// `backends.S3.max_timeout`: how long failing requests (unreachable server, 5xx,
    /// throttling) are retried before the operation fails.
    pub retry_for: Duration,
}

impl S3 {
    /// Builds the client (no request is sent; see [`S3::check_bucket`]).
    pub async fn new(cfg: &S3Config) -> Result<S3> {
        let mut http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
        if let Some(ca) = &cfg.tls_ca {
            let store = tls::TrustStore::empty().with_pem_certificate(
                super::super::store_tls::trusted_pem(ca, "backends.S3.tls_ca")?,
            );
            let ctx = tls::TlsContext::builder()
                .with_trust_store(store)
                .build()
                .map_err(|e| Error::config(format!("backends.S3.tls_ca: {e}")))?;
            http = http.tls_context(ctx);
        }
        let http = http.build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(Region::new(cfg.s3_region.clone()))
            // Retries are ours (bounded by max_timeout and the operation's deadline).
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(cfg.max_timeout)
                    .build(),
            );
        if let Some(url) = cfg.endpoint_url.as_deref() {
            loader = loader.endpoint_url(url);
        }
        let shared = loader.load().await;
        let conf = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(cfg.path_style)
            .build();
        Ok(S3 {
            client: aws_sdk_s3::Client::from_conf(conf),
            bucket: cfg.bucket_name.clone(),
            prefix: cfg.key_prefix.clone(),
            endpoint: match cfg.endpoint_url.as_deref() {
                Some(u) => u.to_string(),
                None => format!("AWS S3 in {}", cfg.s3_region),
            },
            poll_cap: cfg.timeout.max(Duration::from_millis(1)),
            retry_for: cfg.max_timeout,
        })
    }

    /// Checks that the bucket exists and is reachable with these credentials (HeadBucket).
    pub async fn check_bucket(&self) -> Result<()> {
        let r = self
            .retrying("checking the bucket (HeadBucket)", || async {
                self.client
                    .head_bucket()
                    .bucket(&self.bucket)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| self.classify(e))
            })
            .await;
        match r {
            Ok(()) => Ok(()),
            Err(Fail::NotFound) => Err(Error::config(format!(
                "S3 bucket {:?} does not exist at {} (NoSuchBucket; create it, libfmi does not)",
                self.bucket, self.endpoint
            ))),
            Err(other) => Err(self.final_error(other, "checking the bucket (HeadBucket)")),
        }
    }

    /// The object key of `key` (with the configured prefix).
    pub fn object(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Sorts an SDK error into a [`Fail`].
    pub fn classify<E>(&self, e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Fail
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match &e {
            SdkError::ServiceError(se) => {
                let status = se.raw().status().as_u16();
                let code = se.err().code().unwrap_or("").to_string();
                let msg = se.err().message().unwrap_or("").to_string();
                let shown = if code.is_empty() {
                    format!("HTTP {status}")
                } else {
                    format!("{code}, HTTP {status}")
                };
                match (status, code.as_str()) {
                    (_, "NoSuchBucket") => Fail::Fatal(Error::config(format!(
                        "S3 bucket {:?} does not exist at {} ({shown})",
                        self.bucket, self.endpoint
                    ))),
                    (404, _) => Fail::NotFound,
                    (412, _) | (409, "ConditionalRequestConflict") => Fail::Exists,
                    (403, _)
                    | (_, "AccessDenied")
                    | (_, "InvalidAccessKeyId")
                    | (_, "SignatureDoesNotMatch")
                    | (_, "ExpiredToken") => Fail::Fatal(Error::config(format!(
                        "access to S3 bucket {:?} at {} denied ({shown}){}",
                        self.bucket,
                        self.endpoint,
                        if msg.is_empty() {
                            String::new()
                        } else {
                            format!(": {msg}")
                        }
                    ))),
                    (500..=599, _) | (_, "SlowDown") | (_, "RequestTimeout") => {
                        Fail::Transient(format!("S3 answered {shown} {msg}"))
                    }
                    _ => Fail::Fatal(Error::channel(format!(
                        "S3 at {} answered {shown}{}",
                        self.endpoint,
                        if msg.is_empty() {
                            String::new()
                        } else {
                            format!(": {msg}")
                        }
                    ))),
                }
            }
            SdkError::ConstructionFailure(_) => Fail::Fatal(Error::new(
                ErrorKind::Internal,
                format!("cannot build the S3 request: {}", DisplayErrorContext(&e)),
            )),
            _ => match super::super::store_tls::rustls_cause(&e) {
                Some(tls) => Fail::Fatal(super::super::store_tls::error(
                    &self.endpoint,
                    tls,
                    "backends.S3.tls_ca must hold the CA of the server's certificate, and \
                     the host of endpoint_url must be a name in it",
                )),
                None => Fail::Transient(format!("{}", DisplayErrorContext(&e))),
            },
        }
    }

    /// Runs `op` until it succeeds or fails for a reason other than [`Fail::Transient`];
    /// transient failures are retried with growing pauses for `retry_for`, then become
    /// `ErrorKind::Channel` errors naming the endpoint.
    pub async fn retrying<T, F, Fut>(&self, what: &str, mut op: F) -> std::result::Result<T, Fail>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, Fail>>,
    {
        let mut first_failure: Option<Instant> = None;
        let mut pause = Duration::from_millis(10);
        loop {
            match op().await {
                Err(Fail::Transient(why)) => {
                    let since = *first_failure.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.retry_for {
                        return Err(Fail::Fatal(Error::channel(format!(
                            "{what}: S3 at {} failing for {:.1} s (backends.S3.max_timeout): {why}",
                            self.endpoint,
                            since.elapsed().as_secs_f64()
                        ))));
                    }
                    tracing::debug!("{what}: {why}; retrying in {pause:?}");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(250));
                }
                other => return other,
            }
        }
    }

    /// Turns a failure that the caller did not expect into an error.
    pub fn final_error(&self, f: Fail, what: &str) -> Error {
        match f {
            Fail::Fatal(e) => e.context(what),
            Fail::NotFound => Error::channel(format!("{what}: not found at {}", self.endpoint)),
            Fail::Exists => Error::channel(format!("{what}: already exists")),
            Fail::Transient(why) => Error::channel(format!("{what}: {why}")),
        }
    }
}
