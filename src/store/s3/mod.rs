//! The one place that speaks aws-sdk-s3: client setup and the `ObjectStore` implementation.
//!
//! Owns: the client (built in `connect`: aws-config's default chain, `--endpoint-url`,
//! `--path-style`, `--region`, `--profile`, checksums only when required, retries and
//! throttling), and the request shapes (Content-MD5 on every body, multipart with per-part MD5s, batch
//! deletes). Turning SDK errors into `StoreError` is `error`'s. Must not: let an SDK type escape
//! this module, or decide what to upload.

#[macro_use]
mod headers;
mod connect;
mod copy;
mod encryption;
mod error;
mod gate;
mod journal;
mod region;
mod website;

use crate::content::etag::{self, ETag};
use crate::store::{
    CopyInPlace, DeleteFailure, Encryption, KeyRange, ObjectHead, ObjectStore, Page, PageRequest,
    PutFile, RangeListing, RemoteObject, StoreError,
};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Delete, EncodingType, ObjectIdentifier,
    ServerSideEncryption,
};
pub use connect::Unchecked;
use futures::{StreamExt, TryStreamExt};
use std::sync::Arc;
use std::time::Duration;

/// Attempts per request, retries included.
const MAX_ATTEMPTS: u32 = 5;
/// When a request is still throttled after all its attempts, it is sent again (all attempts
/// anew) after a pause, up to this many more times: a throttled run slows down and finishes.
const THROTTLED_ROUNDS: u32 = 8;
/// The first pause before such a round; it doubles up to `THROTTLED_MAX_PAUSE`.
const THROTTLED_PAUSE: Duration = Duration::from_secs(1);
const THROTTLED_MAX_PAUSE: Duration = Duration::from_secs(20);
/// Parts of one multipart upload sent at once.
const PART_CONCURRENCY: usize = 4;
/// An unfinished multipart upload older than this is taken for one an interrupted run left
/// behind, and aborted before s3site uploads the same key; a younger one may be live.
const STALE_UPLOAD: Duration = Duration::from_secs(24 * 60 * 60);
/// Requests in flight at most until `set_concurrency` says otherwise.
const DEFAULT_CONCURRENCY: usize = 16;
/// Read size when streaming a file body.
const BODY_BUFFER: usize = 128 * 1024;

/// How to reach the store; every field is optional and falls back to aws-config's default chain
/// (environment, profiles, SSO, instance roles, `AWS_ENDPOINT_URL[_S3]`).
#[derive(Clone, Debug, Default)]
pub struct Connection {
    /// `--endpoint-url`, for S3-compatible stores.
    pub endpoint_url: Option<String>,
    /// `--path-style`: `http://host/bucket/key` instead of `http://bucket.host/key`.
    pub path_style: bool,
    /// `--region`.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--ca-bundle`: a PEM file of CAs to trust besides the system's.
    pub ca_bundle: Option<std::path::PathBuf>,
    /// Keys per listing request, when lower than S3's 1,000 (tests).
    pub list_page: Option<usize>,
    /// The largest object copied in one request, when lower than S3's 5 GiB (tests).
    pub max_single_copy: Option<u64>,
    /// Where the journal of multipart uploads in flight is kept (`None`: no journal).
    pub state_dir: Option<std::path::PathBuf>,
}

/// Objects larger than this are copied in parts (S3's CopyObject limit is 5 GiB);
/// `Connection::max_single_copy` lowers it, so tests can exercise the multipart copy.
const MAX_SINGLE_COPY: u64 = 5 * 1024 * 1024 * 1024;

/// Keys per listing request: S3's maximum. `Connection::list_page` lowers it, so tests can
/// list a few dozen keys in several pages and slices.
const LIST_PAGE: usize = 1000;

/// An S3 bucket as an `ObjectStore`.
#[derive(Clone, Debug)]
pub struct S3Store {
    /// The client, for the bucket's region once it is known (see `follow_region`).
    client: Arc<std::sync::RwLock<Client>>,
    /// How many times the client was switched to another region: a request sent before a
    /// switch is sent again without asking where the bucket is.
    region_switches: Arc<std::sync::atomic::AtomicUsize>,
    bucket: String,
    /// The endpoint, as messages name it.
    endpoint: String,
    max_single_copy: u64,
    list_page: usize,
    /// Whether the bucket honours object ACLs (asked once, on the first copy).
    uses_acls: Arc<tokio::sync::OnceCell<bool>>,
    /// Requests in flight, fewer while the store says SlowDown.
    gate: Arc<gate::Gate>,
    /// The multipart uploads this machine's runs have in flight.
    journal: journal::Journal,
}

impl S3Store {
    /// Sets the most requests in flight at once (the run's `--concurrency`); fewer are sent
    /// while the store says SlowDown.
    pub fn set_concurrency(&self, n: usize) {
        self.gate.set_max(n);
    }

    /// Runs `op` until it is not throttled: each round waits for a place in flight, a
    /// throttled round halves the places and pauses (with jitter) before the next; see
    /// `THROTTLED_ROUNDS`.
    async fn patiently<T, F, Fut>(&self, what: &str, op: F) -> Result<T, StoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let mut pause = THROTTLED_PAUSE;
        let mut round = 0;
        let mut followed = false;
        loop {
            let switches = self
                .region_switches
                .load(std::sync::atomic::Ordering::Acquire);
            let pass = self.gate.enter().await;
            let result = op().await;
            drop(pass);
            match result {
                Err(StoreError::WrongRegion { region, .. })
                    if !followed && self.follow_region(region.clone(), switches).await =>
                {
                    followed = true;
                }
                Err(StoreError::Throttled(m)) if round < THROTTLED_ROUNDS => {
                    round += 1;
                    if let Some(limit) = self.gate.throttled() {
                        tracing::info!(
                            limit,
                            "the store says slow down: at most {limit} requests at once"
                        );
                    }
                    let jitter = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_millis());
                    let wait = pause + Duration::from_millis(u64::from(jitter) % 500);
                    tracing::debug!(what, round, ms = wait.as_millis(), error = %m, "throttled; trying again");
                    tokio::time::sleep(wait).await;
                    pause = (pause * 2).min(THROTTLED_MAX_PAUSE);
                }
                other => {
                    if other.is_ok() {
                        self.gate.calm();
                    }
                    return other;
                }
            }
        }
    }

    async fn body(&self, put: &PutFile, offset: u64, len: u64) -> Result<ByteStream, StoreError> {
        if len == 0 {
            return Ok(ByteStream::from_static(b""));
        }
        ByteStream::read_from()
            .path(&put.path)
            .offset(offset)
            .length(Length::Exact(len))
            .buffer_size(BODY_BUFFER)
            .build()
            .await
            .map_err(|e| StoreError::Other(format!("reading {}: {e}", put.path.display())))
    }

    async fn put_single(&self, put: &PutFile) -> Result<(), StoreError> {
        let body = self.body(put, 0, put.size).await?;
        let req = self
            .client()
            .put_object()
            .bucket(&self.bucket)
            .key(&put.key)
            .body(body)
            .content_length(put.size as i64)
            .content_md5(etag::to_base64(&put.md5));
        let req = set_placement!(req, &put.placement);
        set_headers!(req, &put.headers, expires_of(put)?)
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(())
    }

    async fn put_multipart(
        &self,
        put: &PutFile,
        layout: &crate::store::Multipart,
    ) -> Result<(), StoreError> {
        self.abort_stale_uploads(&put.key).await;
        let req = self
            .client()
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&put.key);
        let req = set_placement!(req, &put.placement);
        let created = set_headers!(req, &put.headers, expires_of(put)?)
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        let upload_id = upload_id(created.upload_id())?;
        let running = self.journal.begin(&self.bucket, &put.key, &upload_id);
        let result = self.upload_parts(put, layout, &upload_id).await;
        if result.is_err()
            && self.abort(&put.key, &upload_id).await.is_err()
            && let Some(entry) = running
        {
            entry.leave_open();
        }
        result
    }

    /// Aborts the unfinished multipart uploads of exactly `key` that are provably stale: started
    /// by a run of this machine that is gone (killed, or cut off: see `journal`), or more than
    /// `STALE_UPLOAD` before now. Those are what interrupted runs left behind, which S3 keeps,
    /// and bills, until aborted. Any other upload may be another process's live one (two
    /// deploys at once), and aborting it would fail that run: it is left alone. Called before
    /// s3site starts its own upload of the key. Best effort: a store that cannot list uploads
    /// is not an error.
    async fn abort_stale_uploads(&self, key: &str) {
        let listed = self
            .client()
            .list_multipart_uploads()
            .bucket(&self.bucket)
            .prefix(key)
            .send()
            .await;
        let uploads = match listed {
            Ok(out) => out.uploads().to_vec(),
            Err(e) => {
                tracing::debug!(key, error = %DisplayErrorContext(&e), "cannot list multipart uploads");
                return;
            }
        };
        let now = std::time::SystemTime::now();
        for u in uploads.iter().filter(|u| u.key() == Some(key)) {
            let Some(id) = u.upload_id() else { continue };
            let started = u
                .initiated()
                .and_then(|t| std::time::SystemTime::try_from(*t).ok());
            let stale = self.journal.abandoned(&self.bucket, key, id)
                || started
                    .and_then(|t| now.duration_since(t).ok())
                    .is_some_and(|age| age > STALE_UPLOAD);
            if !stale {
                tracing::debug!(key, upload_id = id, "left a recent multipart upload alone");
                continue;
            }
            match self.abort(key, id).await {
                Ok(()) => tracing::info!(key, upload_id = id, "aborted a stale multipart upload"),
                Err(e) => {
                    tracing::warn!(key, error = %e, "could not abort a stale multipart upload")
                }
            }
        }
    }

    async fn upload_parts(
        &self,
        put: &PutFile,
        layout: &crate::store::Multipart,
        upload_id: &str,
    ) -> Result<(), StoreError> {
        let parts: Vec<CompletedPart> =
            futures::stream::iter(layout.part_md5s.iter().copied().enumerate())
                .map(|(i, md5)| async move {
                    let offset = i as u64 * layout.part_size;
                    let len = layout.part_size.min(put.size.saturating_sub(offset));
                    let number = i as i32 + 1;
                    let out = self
                        .client()
                        .upload_part()
                        .bucket(&self.bucket)
                        .key(&put.key)
                        .upload_id(upload_id)
                        .part_number(number)
                        .body(self.body(put, offset, len).await?)
                        .content_length(len as i64)
                        .content_md5(etag::to_base64(&md5))
                        .send()
                        .await
                        .map_err(|e| self.map_err(e))?;
                    Ok::<_, StoreError>(
                        CompletedPart::builder()
                            .set_e_tag(out.e_tag().map(str::to_string))
                            .part_number(number)
                            .build(),
                    )
                })
                .buffered(PART_CONCURRENCY)
                .try_collect()
                .await?;
        self.complete(&put.key, upload_id, parts, None).await
    }

    /// Completes multipart upload `upload_id` of `key` with its parts, in order; with
    /// `if_match` (an HTTP entity tag), only if the object still has that ETag.
    async fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
        if_match: Option<&str>,
    ) -> Result<(), StoreError> {
        self.client()
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .set_if_match(if_match.map(str::to_string))
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(())
    }

    /// Aborts multipart upload `upload_id` of `key`; the error, if any, with its context. After a
    /// failed upload or copy this is best effort (callers ignore the error): an upload left open
    /// is aborted by the next run that uploads the key (`abort_stale_uploads`).
    async fn abort(&self, key: &str, upload_id: &str) -> Result<(), String> {
        self.client()
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DisplayErrorContext(&e).to_string())
    }
}

/// A key from a listing with `encoding-type=url`: form-encoded (`+` is a space; a literal `+` is
/// `%2B`), as S3 and aws-cli do it.
fn decode_key(raw: &str) -> Result<String, StoreError> {
    crate::content::key::url_decode(raw).ok_or_else(|| {
        StoreError::Other(format!("the store listed a key that is not UTF-8: {raw}"))
    })
}

/// The `Expires` header of an upload as the SDK's date (a rule's value was checked to be an
/// HTTP date).
fn expires_of(put: &PutFile) -> Result<Option<aws_sdk_s3::primitives::DateTime>, StoreError> {
    use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
    put.headers
        .get(crate::content::header::Header::Expires)
        .map(|raw| {
            DateTime::from_str(raw, DateTimeFormat::HttpDate)
                .map_err(|_| StoreError::Other(format!("Expires '{raw}' is not an HTTP date")))
        })
        .transpose()
}

/// The upload id a CreateMultipartUpload answered with.
fn upload_id(id: Option<&str>) -> Result<String, StoreError> {
    id.map(str::to_string)
        .ok_or_else(|| StoreError::Other("the store returned no upload id".into()))
}

/// The crate's view of a HEAD response.
fn object_head(out: &HeadObjectOutput) -> ObjectHead {
    let encryption = if out.sse_customer_algorithm().is_some() {
        Encryption::Customer
    } else {
        match out.server_side_encryption() {
            None => Encryption::None,
            Some(ServerSideEncryption::Aes256) => Encryption::S3,
            Some(other) => Encryption::Kms {
                algorithm: other.as_str().to_string(),
                key_id: out.ssekms_key_id().map(str::to_string),
                bucket_key: out.bucket_key_enabled().unwrap_or(false),
            },
        }
    };
    ObjectHead {
        content_length: out.content_length().unwrap_or(0).max(0) as u64,
        etag: out.e_tag().map(ETag::parse),
        parts_count: out.parts_count().and_then(|n| u32::try_from(n).ok()),
        headers: headers::headers_of(out),
        storage_class: out
            .storage_class()
            .map(|c| c.as_str().to_string())
            .filter(|c| c != "STANDARD"),
        restored: restored(out.restore()),
        archive_status: out.archive_status().map(|a| a.as_str().to_string()),
        encryption,
        tag_count: out
            .tag_count()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        version_id: out
            .version_id()
            .filter(|v| !v.is_empty() && *v != "null")
            .map(str::to_string),
    }
}

/// Whether `x-amz-restore` says a restored copy of an archived object is readable: the restore
/// is done (`ongoing-request="false"`), not in progress.
fn restored(restore: Option<&str>) -> bool {
    restore.is_some_and(|r| r.contains("ongoing-request=\"false\""))
}

/// One round of each store operation; `ObjectStore` runs them `patiently`.
impl S3Store {
    async fn list_range_once(
        &self,
        prefix: &str,
        range: &KeyRange,
    ) -> Result<RangeListing, StoreError> {
        let mut out = RangeListing::new();
        // Keys travel URL-encoded: a key with a control character (legal in S3) cannot be
        // carried by XML 1.0, and one such object would otherwise make every listing fail.
        let mut pages = self
            .client()
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .encoding_type(EncodingType::Url)
            .set_start_after(range.after.clone())
            .set_max_keys((self.list_page < LIST_PAGE).then_some(self.list_page as i32))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.map_err(e))?;
            let encoded = page.encoding_type() == Some(&EncodingType::Url);
            let mut objects = Vec::with_capacity(page.contents().len());
            for o in page.contents() {
                let Some(raw) = o.key() else { continue };
                objects.push(RemoteObject {
                    key: if encoded {
                        decode_key(raw)?
                    } else {
                        raw.to_string()
                    },
                    size: o.size().unwrap_or(0).max(0) as u64,
                    etag: ETag::parse(o.e_tag().unwrap_or("")),
                });
            }
            if !out.take_page(range, objects) {
                break;
            }
        }
        Ok(out)
    }

    async fn list_one_once(&self, req: &PageRequest) -> Result<Page, StoreError> {
        let out = self
            .client()
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&req.prefix)
            .encoding_type(EncodingType::Url)
            .set_start_after(req.start_after.clone())
            .set_continuation_token(req.token.clone())
            .set_delimiter(req.folders.then(|| "/".to_string()))
            .set_max_keys((self.list_page < LIST_PAGE).then_some(self.list_page as i32))
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        let encoded = out.encoding_type() == Some(&EncodingType::Url);
        let decode = |raw: &str| {
            if encoded {
                decode_key(raw)
            } else {
                Ok(raw.to_string())
            }
        };
        let mut page = Page {
            objects: Vec::with_capacity(out.contents().len()),
            folders: Vec::with_capacity(out.common_prefixes().len()),
            next: out
                .next_continuation_token()
                .filter(|_| out.is_truncated() == Some(true))
                .map(str::to_string),
        };
        for o in out.contents() {
            let Some(raw) = o.key() else { continue };
            page.objects.push(RemoteObject {
                key: decode(raw)?,
                size: o.size().unwrap_or(0).max(0) as u64,
                etag: ETag::parse(o.e_tag().unwrap_or("")),
            });
        }
        for p in out.common_prefixes() {
            if let Some(raw) = p.prefix() {
                page.folders.push(decode(raw)?);
            }
        }
        Ok(page)
    }

    async fn head_once(
        &self,
        key: &str,
        part_number: Option<u32>,
    ) -> Result<ObjectHead, StoreError> {
        let out = self
            .client()
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .set_part_number(part_number.map(|n| n as i32))
            .send()
            .await;
        match out {
            Ok(out) => Ok(object_head(&out)),
            Err(e) => match self.map_err(e) {
                // A HEAD answer has no body, so a 400 carries no error code: an object
                // encrypted with a customer key, or credentials that expired, among others.
                // A one-byte GET gets the same refusal with its code.
                StoreError::BadRequest(m) => Err(self
                    .why_refused(key)
                    .await
                    .unwrap_or(StoreError::BadRequest(m))),
                other => Err(other),
            },
        }
    }

    /// The error a one-byte GET of `key` gets, if it gets one the caller must act on
    /// (credentials, access, throttling); `None` for anything else.
    async fn why_refused(&self, key: &str) -> Option<StoreError> {
        let err = self
            .client()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range("bytes=0-0")
            .send()
            .await
            .err()?;
        match self.map_err(err) {
            e @ (StoreError::Expired(_)
            | StoreError::Tls(_)
            | StoreError::Credentials(_)
            | StoreError::AccessDenied(_)
            | StoreError::Throttled(_)) => Some(e),
            _ => None,
        }
    }

    async fn read_prefix_once(&self, key: &str, len: u64) -> Result<Vec<u8>, StoreError> {
        let out = self
            .client()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", len.saturating_sub(1)))
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Other(format!("reading the body: {e}")))?;
        Ok(body.to_vec())
    }

    async fn copy_in_place_once(&self, copy: &CopyInPlace) -> Result<(), StoreError> {
        self.copy_object_in_place(copy).await
    }

    async fn put_file_once(&self, put: &PutFile) -> Result<(), StoreError> {
        match &put.multipart {
            Some(layout) => self.put_multipart(put, layout).await,
            None => self.put_single(put).await,
        }
    }

    async fn delete_batch_once(&self, keys: &[String]) -> Result<Vec<DeleteFailure>, StoreError> {
        // A key with a control character cannot be carried in DeleteObjects' XML body (and
        // would fail the whole batch): those are deleted one by one, the key in the path.
        let (xml_safe, single): (Vec<&String>, Vec<&String>) = keys
            .iter()
            .partition(|k| !k.chars().any(crate::content::key::xml_unsafe));
        let mut failures = Vec::new();
        for key in single {
            if let Err(e) = self
                .client()
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
            {
                let e = self.map_err(e);
                if e.is_configuration() {
                    return Err(e);
                }
                failures.push(DeleteFailure {
                    key: key.clone(),
                    message: e.to_string(),
                });
            }
        }
        if xml_safe.is_empty() {
            return Ok(failures);
        }
        let objects = xml_safe
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k.as_str()).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let out = self
            .client()
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        failures.extend(out.errors().iter().map(|e| DeleteFailure {
            key: e.key().unwrap_or_default().to_string(),
            message: format!(
                "{}: {}",
                e.code().unwrap_or("error"),
                e.message().unwrap_or("")
            ),
        }));
        Ok(failures)
    }
}

impl ObjectStore for S3Store {
    async fn list_range(&self, prefix: &str, range: &KeyRange) -> Result<RangeListing, StoreError> {
        self.patiently("listing", || self.list_range_once(prefix, range))
            .await
    }

    async fn list_one(&self, req: &PageRequest) -> Result<Page, StoreError> {
        self.patiently("listing", || self.list_one_once(req)).await
    }

    fn list_page(&self) -> usize {
        self.list_page
    }

    async fn head(&self, key: &str, part_number: Option<u32>) -> Result<ObjectHead, StoreError> {
        self.patiently(key, || self.head_once(key, part_number))
            .await
    }

    async fn read_prefix(&self, key: &str, len: u64) -> Result<Vec<u8>, StoreError> {
        self.patiently(key, || self.read_prefix_once(key, len))
            .await
    }

    async fn copy_in_place(&self, copy: &CopyInPlace) -> Result<(), StoreError> {
        self.patiently(&copy.key, || self.copy_in_place_once(copy))
            .await
    }

    async fn put_file(&self, put: &PutFile) -> Result<(), StoreError> {
        self.patiently(&put.key, || self.put_file_once(put)).await
    }

    async fn delete_batch(&self, keys: &[String]) -> Result<Vec<DeleteFailure>, StoreError> {
        self.patiently("deleting", || self.delete_batch_once(keys))
            .await
    }

    async fn default_encryption(&self) -> Result<crate::store::Encryption, StoreError> {
        self.patiently("reading the bucket's encryption", || {
            self.get_default_encryption()
        })
        .await
    }

    async fn website(&self) -> Result<Option<crate::store::Website>, StoreError> {
        self.patiently("reading the website configuration", || self.get_website())
            .await
    }

    async fn put_website(&self, website: &crate::store::Website) -> Result<(), StoreError> {
        self.patiently("setting the website configuration", || {
            self.set_website(website)
        })
        .await
    }

    async fn acl(&self, key: &str) -> Result<Option<crate::store::Grants>, StoreError> {
        self.patiently(key, || self.grants(key)).await
    }

    async fn tagging(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.patiently(key, || self.tags(key)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_counts_once_it_is_done() {
        assert!(restored(Some(
            "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\""
        )));
        assert!(!restored(Some("ongoing-request=\"true\"")));
        assert!(!restored(None));
    }
}
