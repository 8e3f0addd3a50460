//! Rewriting an object's headers in place: CopyObject onto itself with
//! `MetadataDirective=REPLACE`, or a multipart copy for objects over the single-copy limit.
//!
//! Owns: re-sending everything a REPLACE copy would otherwise lose (every header, user metadata,
//! the website redirect, the storage class, SSE-S3/SSE-KMS settings, the ACL where the bucket
//! uses ACLs, tags on a multipart copy), and the `if-match` that makes a copy of an object that
//! changed since it was read fail instead of clobbering it. Must not: decide which headers are
//! right (that is `plan::repair`).

use super::S3Store;
use crate::store::{Acl, CopyInPlace, Encryption, Grants, Placement, StoreError};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
use aws_sdk_s3::types::{
    CompletedPart, MetadataDirective, ObjectOwnership, Permission, TaggingDirective, Type,
};
use futures::{StreamExt, TryStreamExt};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters of a key kept as they are in `x-amz-copy-source` (RFC 3986 unreserved, and `/`).
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Part size of a multipart copy (the store copies parts itself; no bytes pass through s3site).
const COPY_PART_SIZE: u64 = 512 * 1024 * 1024;
/// Most parts of a multipart upload.
const MAX_PARTS: u64 = 10_000;
/// Parts copied at once.
const COPY_PART_CONCURRENCY: usize = 4;

pub(super) fn joined(v: &[String]) -> Option<String> {
    (!v.is_empty()).then(|| v.join(", "))
}

/// Applies the complete header set of `$copy`, with its storage class, encryption, the grants
/// and the tags, to a CopyObject or CreateMultipartUpload builder (what an upload's placement
/// sets, so `set_placement!` does it).
macro_rules! with_headers {
    ($builder:expr, $copy:expr, $expires:expr, $grants:expr, $tagging:expr) => {{
        let c: &CopyInPlace = $copy;
        let placement = Placement {
            acl: $grants.clone().map(Acl::Grants),
            storage_class: c.storage_class.clone(),
            encryption: c.encryption.clone(),
            tagging: $tagging,
        };
        let b = set_headers!($builder, &c.headers, $expires);
        set_placement!(b, &placement)
    }};
}

impl S3Store {
    /// `ObjectStore::copy_in_place` for S3.
    pub(super) async fn copy_object_in_place(&self, copy: &CopyInPlace) -> Result<(), StoreError> {
        if copy.encryption == Encryption::Customer {
            return Err(StoreError::Other(
                "encrypted with a customer key (SSE-C); s3site cannot copy it".into(),
            ));
        }
        let expires = match copy.headers.get(crate::content::header::Header::Expires) {
            None => None,
            Some(raw) => Some(
                DateTime::from_str(raw, DateTimeFormat::HttpDate).map_err(|_| {
                    StoreError::Other(format!(
                        "its Expires header '{raw}' is not an HTTP date, so it could not be kept"
                    ))
                })?,
            ),
        };
        let grants = self.grants(&copy.key).await?;
        if copy.size > self.max_single_copy {
            return self.copy_multipart(copy, expires, &grants).await;
        }
        let req = self
            .client()
            .copy_object()
            .bucket(&self.bucket)
            .key(&copy.key)
            .copy_source(self.copy_source(&copy.key))
            .copy_source_if_match(quoted(copy))
            .metadata_directive(MetadataDirective::Replace)
            .tagging_directive(TaggingDirective::Copy);
        with_headers!(req, copy, expires, &grants, None)
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(())
    }

    fn copy_source(&self, key: &str) -> String {
        format!("{}/{}", self.bucket, utf8_percent_encode(key, COPY_SOURCE))
    }

    /// Whether the bucket honours object ACLs: not when Object Ownership is
    /// `BucketOwnerEnforced` (then ACL headers are rejected). Asked once per run.
    async fn uses_acls(&self) -> bool {
        *self
            .uses_acls
            .get_or_init(|| async {
                match self
                    .client()
                    .get_bucket_ownership_controls()
                    .bucket(&self.bucket)
                    .send()
                    .await
                {
                    Ok(out) => !out.ownership_controls().is_some_and(|c| {
                        c.rules()
                            .iter()
                            .any(|r| r.object_ownership() == &ObjectOwnership::BucketOwnerEnforced)
                    }),
                    // No ownership controls (ACLs in use), or the call is not supported or
                    // allowed: read each object's ACL to keep it.
                    Err(e) => {
                        tracing::debug!(code = ?e.code(), "no bucket ownership controls");
                        true
                    }
                }
            })
            .await
    }

    /// The object's ACL as grant headers, or `None` when a copy keeps it without them (ACLs
    /// disabled, not supported, or the ACL is the default: the owner's full control only).
    pub(super) async fn grants(&self, key: &str) -> Result<Option<Grants>, StoreError> {
        if !self.uses_acls().await {
            return Ok(None);
        }
        let out = match self
            .client()
            .get_object_acl()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                if matches!(
                    e.code(),
                    Some("NotImplemented" | "AccessControlListNotSupported")
                ) || status == Some(501)
                {
                    return Ok(None);
                }
                return Err(match self.map_err(e) {
                    StoreError::AccessDenied(m) => StoreError::AccessDenied(format!(
                        "reading the object's ACL (to keep it through the copy): {m}"
                    )),
                    other => other,
                });
            }
        };
        let owner = out.owner().and_then(|o| o.id());
        let mut g = Grants::default();
        let mut only_owner = true;
        for grant in out.grants() {
            let (Some(grantee), Some(permission)) = (grant.grantee(), grant.permission()) else {
                continue;
            };
            let who = match grantee.r#type() {
                Type::CanonicalUser => grantee.id().map(|id| format!("id=\"{id}\"")),
                Type::Group => grantee.uri().map(|u| format!("uri=\"{u}\"")),
                Type::AmazonCustomerByEmail => grantee
                    .email_address()
                    .map(|m| format!("emailAddress=\"{m}\"")),
                _ => None,
            };
            let Some(who) = who else { continue };
            let is_owner_full = *permission == Permission::FullControl
                && grantee.id().is_some()
                && grantee.id() == owner;
            only_owner &= is_owner_full;
            match permission {
                Permission::Read => g.read.push(who),
                Permission::ReadAcp => g.read_acp.push(who),
                Permission::WriteAcp => g.write_acp.push(who),
                Permission::FullControl => g.full_control.push(who),
                _ => {}
            }
        }
        Ok((!only_owner).then_some(g))
    }

    /// The object's tags as a `x-amz-tagging` value (a multipart copy does not copy them).
    pub(super) async fn tags(&self, key: &str) -> Result<Option<String>, StoreError> {
        let out = self
            .client()
            .get_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        let enc = |s: &str| {
            utf8_percent_encode(s, COPY_SOURCE)
                .to_string()
                .replace('/', "%2F")
        };
        let pairs: Vec<String> = out
            .tag_set()
            .iter()
            .map(|t| format!("{}={}", enc(t.key()), enc(t.value())))
            .collect();
        Ok((!pairs.is_empty()).then(|| pairs.join("&")))
    }

    async fn copy_multipart(
        &self,
        copy: &CopyInPlace,
        expires: Option<DateTime>,
        grants: &Option<Grants>,
    ) -> Result<(), StoreError> {
        self.abort_stale_uploads(&copy.key).await;
        let tagging = if copy.tag_count > 0 {
            self.tags(&copy.key).await?
        } else {
            None
        };
        let req = self
            .client()
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&copy.key);
        let created = with_headers!(req, copy, expires, grants, tagging)
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        let upload_id = super::upload_id(created.upload_id())?;
        let running = self.journal.begin(&self.bucket, &copy.key, &upload_id);
        let result = self.copy_parts(copy, &upload_id).await;
        if result.is_err()
            && self.abort(&copy.key, &upload_id).await.is_err()
            && let Some(entry) = running
        {
            entry.leave_open();
        }
        result
    }

    async fn copy_parts(&self, copy: &CopyInPlace, upload_id: &str) -> Result<(), StoreError> {
        let part_size = COPY_PART_SIZE
            .min(self.max_single_copy)
            .max(copy.size.div_ceil(MAX_PARTS));
        let count = copy.size.div_ceil(part_size);
        let source = self.copy_source(&copy.key);
        let if_match = quoted(copy);
        let parts: Vec<CompletedPart> = futures::stream::iter(0..count)
            .map(|i| {
                let (source, if_match) = (&source, &if_match);
                async move {
                    let first = i * part_size;
                    let last = (first + part_size).min(copy.size) - 1;
                    let number = i as i32 + 1;
                    let out = self
                        .client()
                        .upload_part_copy()
                        .bucket(&self.bucket)
                        .key(&copy.key)
                        .upload_id(upload_id)
                        .part_number(number)
                        .copy_source(source)
                        .copy_source_range(format!("bytes={first}-{last}"))
                        .copy_source_if_match(if_match)
                        .send()
                        .await
                        .map_err(|e| self.map_err(e))?;
                    Ok::<_, StoreError>(
                        CompletedPart::builder()
                            .set_e_tag(
                                out.copy_part_result()
                                    .and_then(|r| r.e_tag())
                                    .map(str::to_string),
                            )
                            .part_number(number)
                            .build(),
                    )
                }
            })
            .buffered(COPY_PART_CONCURRENCY)
            .try_collect()
            .await?;
        // The parts were copied from the object as read (each with copy-source-if-match), but
        // completing writes the key: if the object changed meanwhile, completing would put
        // the old body back. S3 and SeaweedFS honour If-Match on the completion; the HEAD
        // first narrows the window on a store that ignores it.
        match self.head_etag(&copy.key).await? {
            Some(now) if now == copy.if_match => {}
            _ => return Err(StoreError::PreconditionFailed),
        }
        self.complete(&copy.key, upload_id, parts, Some(&if_match))
            .await
    }
}

impl S3Store {
    /// The object's current ETag (`None`: it is gone).
    async fn head_etag(&self, key: &str) -> Result<Option<crate::content::etag::ETag>, StoreError> {
        // Not through the gate: the copy that asks already holds a place in flight.
        match self.head_once(key, None).await {
            Ok(h) => Ok(h.etag),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The ETag as an HTTP entity tag, for `x-amz-copy-source-if-match`.
fn quoted(copy: &CopyInPlace) -> String {
    format!("\"{}\"", copy.if_match)
}
