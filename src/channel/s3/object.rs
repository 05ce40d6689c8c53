//! Messages as S3 objects: a 16-byte head (magic, tag, reader count, writer nonce) followed by
//! the data (the bytes: [`crate::channel::s3_format`]).
//! Objects up to [`PART`] bytes travel in one request; larger ones are written with a multipart
//! upload and read with parallel ranged GETs. Also listing and batch deletion by key.

use super::client::{Fail, S3};
use crate::error::Error;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use bytes::{Bytes, BytesMut};
use std::sync::Arc;
use tokio::task::JoinSet;

use crate::channel::s3_format::{self as format, First};
pub use crate::channel::s3_format::{Head, Message, HEAD, PART};

/// Head + data as one buffer (one copy of the caller's data, made before the async part).
pub fn encode(head: Head, data: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(HEAD + data.len());
    b.extend_from_slice(&head.encode());
    b.extend_from_slice(data);
    b.freeze()
}

/// Writes `body` to `key`. With `only_new`, a single-request write fails with [`Fail::Exists`]
/// when the object exists (If-None-Match: *); multipart writes are for single-writer queues.
pub async fn put(
    s3: &Arc<S3>,
    key: String,
    body: Bytes,
    only_new: bool,
) -> std::result::Result<(), Fail> {
    if body.len() <= PART {
        return s3
            .retrying(&format!("writing {key}"), || {
                let mut req = s3
                    .client
                    .put_object()
                    .bucket(&s3.bucket)
                    .key(&key)
                    .body(ByteStream::from(body.clone()));
                if only_new {
                    req = req.if_none_match("*");
                }
                async move { req.send().await.map(|_| ()).map_err(|e| s3.classify(e)) }
            })
            .await;
    }
    let what = format!("multipart upload of {key}");
    let created = s3
        .retrying(&what, || async {
            s3.client
                .create_multipart_upload()
                .bucket(&s3.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| s3.classify(e))
        })
        .await?;
    let Some(upload_id) = created.upload_id().map(str::to_string) else {
        return Err(Fail::Fatal(Error::channel(format!(
            "{what}: S3 returned no upload id"
        ))));
    };
    let r = upload_parts(s3, &key, &upload_id, &body).await;
    let r = match r {
        Ok(parts) => {
            s3.retrying(&what, || async {
                s3.client
                    .complete_multipart_upload()
                    .bucket(&s3.bucket)
                    .key(&key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts.clone()))
                            .build(),
                    )
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| s3.classify(e))
            })
            .await
        }
        Err(e) => Err(e),
    };
    if r.is_err() {
        let _ = s3
            .client
            .abort_multipart_upload()
            .bucket(&s3.bucket)
            .key(&key)
            .upload_id(&upload_id)
            .send()
            .await;
    }
    r
}

async fn upload_parts(
    s3: &Arc<S3>,
    key: &str,
    upload_id: &str,
    body: &Bytes,
) -> std::result::Result<Vec<CompletedPart>, Fail> {
    let mut tasks = JoinSet::new();
    for (i, at) in (0..body.len()).step_by(PART).enumerate() {
        let part = body.slice(at..(at + PART).min(body.len()));
        let (s3, key, upload_id) = (s3.clone(), key.to_string(), upload_id.to_string());
        let number = i as i32 + 1;
        tasks.spawn(async move {
            let what = format!("uploading part {number} of {key}");
            let out = s3
                .retrying(&what, || async {
                    s3.client
                        .upload_part()
                        .bucket(&s3.bucket)
                        .key(&key)
                        .upload_id(&upload_id)
                        .part_number(number)
                        .body(ByteStream::from(part.clone()))
                        .send()
                        .await
                        .map_err(|e| s3.classify(e))
                })
                .await?;
            Ok::<_, Fail>(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .build(),
            )
        });
    }
    let mut parts = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(p)) => parts.push(p),
            Ok(Err(e)) => return Err(e),
            Err(e) => {
                return Err(Fail::Fatal(Error::channel(format!(
                    "upload task failed: {e}"
                ))))
            }
        }
    }
    parts.sort_by_key(|p| p.part_number());
    Ok(parts)
}

/// One GET of `key`, optionally of the byte range `range` (inclusive end). Returns the bytes and
/// the object's total size.
async fn get_range(
    s3: &Arc<S3>,
    key: &str,
    range: Option<(usize, usize)>,
) -> std::result::Result<(Bytes, usize), Fail> {
    get_one(s3, key, range).await.map(|g| (g.bytes, g.total))
}

/// What one GET returned.
struct Got {
    bytes: Bytes,
    /// The object's total size.
    total: usize,
    /// The object's ETag (its version, for If-Match).
    etag: String,
}

/// One GET of `key`, optionally of the byte range `range` (inclusive end).
async fn get_one(
    s3: &Arc<S3>,
    key: &str,
    range: Option<(usize, usize)>,
) -> std::result::Result<Got, Fail> {
    s3.retrying(&format!("reading {key}"), || async {
        let mut req = s3.client.get_object().bucket(&s3.bucket).key(key);
        if let Some((a, b)) = range {
            req = req.range(format!("bytes={a}-{b}"));
        }
        let out = req.send().await.map_err(|e| s3.classify(e))?;
        let total = format::total_size(key, out.content_range(), out.content_length())
            .map_err(Fail::Fatal)?;
        let etag = out.e_tag().unwrap_or("").to_string();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| Fail::Transient(format!("reading the body of {key}: {e}")))?
            .into_bytes();
        Ok(Got { bytes, total, etag })
    })
    .await
}

/// Reads the message at `key`, expecting `want` data bytes (None: any size, one request).
/// `Ok(None)`: the object does not exist (yet). A message of another size is returned with the
/// data it has (none when it would need more requests), for the caller to report.
pub async fn get(
    s3: &Arc<S3>,
    key: &str,
    want: Option<usize>,
) -> std::result::Result<Option<Message>, Fail> {
    let (bytes, total) = match get_range(s3, key, format::first_range(want)).await {
        Ok(x) => x,
        Err(Fail::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut assembly = match format::first(key, want, &bytes, total).map_err(Fail::Fatal)? {
        First::Done(m) => return Ok(Some(m)),
        First::More(a) => a,
    };
    let mut tasks = JoinSet::new();
    for (at, end) in assembly.ranges() {
        let (s3, key) = (s3.clone(), key.to_string());
        tasks.spawn(async move { (at, get_range(&s3, &key, Some((at, end))).await) });
    }
    while let Some(joined) = tasks.join_next().await {
        let (at, r) = joined
            .map_err(|e| Fail::Fatal(Error::channel(format!("download task failed: {e}"))))?;
        let (part, _) = match r {
            Err(Fail::NotFound) => {
                return Err(Fail::Fatal(Error::channel(format!(
                    "object {key} vanished while it was read"
                ))))
            }
            other => other?,
        };
        assembly.place(at, &part).map_err(Fail::Fatal)?;
    }
    assembly.finish().map(Some).map_err(Fail::Fatal)
}

/// The head of the message at `key` (`Ok(None)`: it does not exist).
pub async fn head_of(s3: &Arc<S3>, key: &str) -> std::result::Result<Option<Head>, Fail> {
    match get_range(s3, key, Some((0, HEAD - 1))).await {
        Ok((b, _)) => Head::decode(&b, key).map(Some).map_err(Fail::Fatal),
        Err(Fail::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every key that starts with `prefix` (all pages).
pub async fn list(s3: &Arc<S3>, prefix: &str) -> std::result::Result<Vec<String>, Fail> {
    list_from(s3, prefix, None).await
}

/// The keys that start with `prefix` and sort after `after`.
pub async fn list_after(
    s3: &Arc<S3>,
    prefix: &str,
    after: &str,
) -> std::result::Result<Vec<String>, Fail> {
    list_from(s3, prefix, Some(after)).await
}

async fn list_from(
    s3: &Arc<S3>,
    prefix: &str,
    after: Option<&str>,
) -> std::result::Result<Vec<String>, Fail> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = s3
            .retrying(&format!("listing {prefix}"), || async {
                s3.client
                    .list_objects_v2()
                    .bucket(&s3.bucket)
                    .prefix(prefix)
                    .set_start_after(after.map(str::to_string))
                    .set_continuation_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| s3.classify(e))
            })
            .await?;
        keys.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        match out.next_continuation_token() {
            Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => return Ok(keys),
        }
    }
}

/// Deletes `keys` (up to 1000 per request). Keys that do not exist are not an error.
pub async fn delete(s3: &Arc<S3>, keys: Vec<String>) -> std::result::Result<(), Fail> {
    for batch in keys.chunks(1000) {
        let ids: Vec<ObjectIdentifier> = batch
            .iter()
            .filter_map(|k| ObjectIdentifier::builder().key(k).build().ok())
            .collect();
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| Fail::Fatal(Error::channel(format!("cannot build a deletion: {e}"))))?;
        let out = s3
            .retrying(&format!("deleting {} objects", batch.len()), || async {
                s3.client
                    .delete_objects()
                    .bucket(&s3.bucket)
                    .delete(delete.clone())
                    .send()
                    .await
                    .map_err(|e| s3.classify(e))
            })
            .await?;
        if let Some(e) = out.errors().first() {
            return Err(Fail::Fatal(Error::channel(format!(
                "deleting {} failed: {} {}",
                e.key().unwrap_or("?"),
                e.code().unwrap_or(""),
                e.message().unwrap_or("")
            ))));
        }
    }
    Ok(())
}

/// The whole object at `key` (one request, for small objects) with its ETag (`Ok(None)`: it does
/// not exist).
pub async fn get_versioned(
    s3: &Arc<S3>,
    key: &str,
) -> std::result::Result<Option<(Bytes, String)>, Fail> {
    match get_one(s3, key, None).await {
        Ok(g) => Ok(Some((g.bytes, g.etag))),
        Err(Fail::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the object at `key` with `body` (one request, for small objects) only while it is
/// still the version `etag` (If-Match): of racing replacements exactly one succeeds, the others
/// fail with [`Fail::Exists`] ([`Fail::NotFound`] when the object is gone).
pub async fn replace(
    s3: &Arc<S3>,
    key: &str,
    body: Bytes,
    etag: &str,
) -> std::result::Result<(), Fail> {
    s3.retrying(&format!("replacing {key}"), || {
        let req = s3
            .client
            .put_object()
            .bucket(&s3.bucket)
            .key(key)
            .if_match(etag)
            .body(ByteStream::from(body.clone()));
        async move { req.send().await.map(|_| ()).map_err(|e| s3.classify(e)) }
    })
    .await
}

/// The whole object at `key` as raw bytes (`Ok(None)`: it does not exist).
pub async fn get_raw(s3: &Arc<S3>, key: &str) -> std::result::Result<Option<Bytes>, Fail> {
    match get_range(s3, key, None).await {
        Ok((b, _)) => Ok(Some(b)),
        Err(Fail::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
