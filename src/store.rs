//! The object-storage boundary: a small trait and the crate-owned types that cross it.
//!
//! Owns: what s3site asks of a store (list, head, put a file, delete a batch) and the errors it
//! branches on. Must not: know about AWS SDK types (those stay in `s3`), or decide anything about
//! what to upload (that is `plan`).

use crate::etag::{ETag, Md5};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;

#[cfg(test)]
pub mod memory;

/// One object as a listing shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteObject {
    /// The full S3 key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The ETag as listed.
    pub etag: ETag,
}

/// What a HEAD request tells about an object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectHead {
    /// `Content-Length` of the object, or of the requested part when a part number was asked for.
    pub content_length: u64,
    /// The object's ETag.
    pub etag: Option<ETag>,
    /// `x-amz-mp-parts-count`, when a part number was asked for and the object is multipart.
    pub parts_count: Option<u32>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// User metadata (`x-amz-meta-*`), keys lower-cased without the prefix.
    pub metadata: BTreeMap<String, String>,
}

/// A file to store under a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutFile {
    /// The target key.
    pub key: String,
    /// The local file that holds the body.
    pub path: PathBuf,
    /// Its size in bytes, as hashed.
    pub size: u64,
    /// Its MD5, as hashed: sent as `Content-MD5` so the store verifies the bytes.
    pub md5: Md5,
    /// The `Content-Type` header.
    pub content_type: String,
    /// User metadata to write (`x-amz-meta-*`).
    pub metadata: BTreeMap<String, String>,
    /// `Some` for a multipart upload: the part size and the MD5 of every part, in order.
    pub multipart: Option<Multipart>,
}

/// The layout of a multipart upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Multipart {
    /// Bytes per part (the last part may be shorter).
    pub part_size: u64,
    /// The MD5 of each part, sent as its `Content-MD5`.
    pub part_md5s: Vec<Md5>,
}

/// A key a batch delete could not delete, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteFailure {
    /// The key.
    pub key: String,
    /// The store's message.
    pub message: String,
}

/// The store errors callers branch on; everything else is `Other` with the store's message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The bucket does not exist.
    #[error("bucket '{0}' does not exist")]
    NoSuchBucket(String),
    /// The object does not exist.
    #[error("object not found")]
    NotFound,
    /// The credentials are not allowed to do this.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// No credentials could be found, or the store rejected them.
    #[error("no usable credentials: {0}")]
    Credentials(String),
    /// A precondition (if-match) failed: the object changed since it was read.
    #[error("precondition failed: the object changed since it was read")]
    PreconditionFailed,
    /// The store computed another MD5 than `Content-MD5` said: the bytes changed on the way
    /// (for instance, the file was modified while it was being uploaded).
    #[error(
        "the store rejected the body: its MD5 differs from the file's (was it modified during the upload?)"
    )]
    BadDigest,
    /// The store could not be reached or answered with something unusable.
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// Whether this error means the configuration or input is wrong (unknown bucket, denied,
    /// no credentials) rather than a failure at run time.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            StoreError::NoSuchBucket(_) | StoreError::AccessDenied(_) | StoreError::Credentials(_)
        )
    }
}

/// What s3site needs from an object store. Implemented for S3 (`s3::S3Store`) and, in unit tests,
/// by an in-memory store.
pub trait ObjectStore: Send + Sync {
    /// Every object under `prefix` (all pages). Fails as a whole if any page fails: a partial
    /// listing must never be mistaken for the full one.
    fn list(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<RemoteObject>, StoreError>> + Send;

    /// HEAD of `key`; with `part_number`, the head of that part (to learn a multipart part size).
    fn head(
        &self,
        key: &str,
        part_number: Option<u32>,
    ) -> impl Future<Output = Result<ObjectHead, StoreError>> + Send;

    /// Stores a local file under its key with the given headers, streaming it from disk.
    fn put_file(&self, put: &PutFile) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes up to 1,000 keys in one request; returns the keys that could not be deleted.
    fn delete_batch(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<DeleteFailure>, StoreError>> + Send;
}
