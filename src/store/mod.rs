//! The object-storage boundary: a small trait and the crate-owned types that cross it.
//!
//! Owns: what s3site asks of a store (list, head, read the first bytes, put a file, rewrite an
//! object's headers in place, delete a batch) and the errors it branches on; the in-memory
//! store of the unit tests; listing in slices. Must not: know about AWS SDK types (those stay in
//! `s3`), or decide anything about what to upload (that is `plan`).

use crate::content::digest::Md5;
use crate::content::etag::ETag;
use std::future::Future;
use std::path::PathBuf;

pub use crate::content::header::ObjectHeaders;
pub use crate::content::placement::{Acl, Encryption, Grants, Placement};
pub use crate::content::website::{RoutingRule, Website};

pub mod keyspace;
pub mod listing;
#[cfg(test)]
pub mod memory;
pub mod s3;

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

/// A slice of a listing: the keys after `after` up to and including `through` (`None`: open on
/// that side), in S3's order (UTF-8 bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyRange {
    /// Keys after this one (exclusive), as ListObjectsV2's `start-after`.
    pub after: Option<String>,
    /// Keys up to this one (inclusive).
    pub through: Option<String>,
}

impl KeyRange {
    /// Whether `key` falls in the range.
    pub fn contains(&self, key: &str) -> bool {
        self.after.as_deref().is_none_or(|a| key > a)
            && self.through.as_deref().is_none_or(|t| key <= t)
    }
}

/// What listing one `KeyRange` read. A slice stops at the end of the page holding the first key
/// past `through`, which is only right on a store that lists in S3's byte order: `in_order` and
/// `beyond` let the caller check that (see `listing`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeListing {
    /// The objects in the range, in the order the store listed them.
    pub objects: Vec<RemoteObject>,
    /// Every key the store returned in strictly ascending byte order (after `range.after`).
    pub in_order: bool,
    /// Keys read past `through` (from the last page read), which ended the slice.
    pub beyond: Vec<String>,
}

impl RangeListing {
    /// An empty listing, in order so far.
    pub fn new() -> RangeListing {
        RangeListing {
            in_order: true,
            ..RangeListing::default()
        }
    }

    /// Takes one page of the listing of `range` (objects in the store's order); returns whether
    /// to ask for the next page. The whole page is taken before the slice may end, so the
    /// order check sees all of it.
    pub fn take_page(
        &mut self,
        range: &KeyRange,
        page: impl IntoIterator<Item = RemoteObject>,
    ) -> bool {
        for o in page {
            let last = self
                .beyond
                .last()
                .or(self.objects.last().map(|o| &o.key))
                .map(String::as_str)
                .or(range.after.as_deref());
            if last.is_some_and(|l| o.key.as_str() <= l) {
                self.in_order = false;
            }
            if range.after.as_deref().is_some_and(|a| o.key.as_str() <= a) {
                // Before the slice (a store that ignored start-after, or lists out of order):
                // another slice has it, or the caller falls back to a full listing.
                self.in_order = false;
            } else if range.through.as_deref().is_some_and(|t| o.key.as_str() > t) {
                self.beyond.push(o.key);
            } else {
                self.objects.push(o);
            }
        }
        // An open range is read to its last page, whatever the order: it is the listing that
        // does not depend on order.
        if *range == KeyRange::default() {
            return true;
        }
        // Past the end of the slice, or the slice ends on its last key: the next slice lists
        // the rest. Out of order: the caller lists again without slices.
        let ended = !self.beyond.is_empty()
            || (range.through.is_some()
                && self.objects.last().map(|o| &o.key) == range.through.as_ref());
        self.in_order && !ended
    }
}

/// One listing request: a page of the keys under `prefix`, after `start_after` (in the store's
/// order), grouped into common prefixes at the first `/` after `prefix` when `folders`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// The key prefix listed.
    pub prefix: String,
    /// ListObjectsV2's `start-after`: keys after this one in the store's order.
    pub start_after: Option<String>,
    /// Group keys with a `/` after the prefix into common prefixes (delimiter `/`).
    pub folders: bool,
    /// The continuation token of the previous page.
    pub token: Option<String>,
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The objects, in the store's order.
    pub objects: Vec<RemoteObject>,
    /// The common prefixes (each ending in `/`), when the request asked for folders.
    pub folders: Vec<String>,
    /// The token of the next page (`None`: this was the last).
    pub next: Option<String>,
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
    /// The headers the object is served with.
    pub headers: ObjectHeaders,
    /// `x-amz-storage-class`; `None` means STANDARD.
    pub storage_class: Option<String>,
    /// Whether a restored copy of an archived object is readable (`x-amz-restore` says the
    /// restore is done).
    pub restored: bool,
    /// `x-amz-archive-status` (Intelligent-Tiering archive tiers).
    pub archive_status: Option<String>,
    /// Server-side encryption.
    pub encryption: Encryption,
    /// `x-amz-tagging-count`.
    pub tag_count: u32,
    /// `x-amz-version-id`, when the bucket keeps versions.
    pub version_id: Option<String>,
}

/// Rewrite an object's headers in place (a copy onto itself that replaces the metadata), keeping
/// its bytes, tags, ACL, storage class and encryption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyInPlace {
    /// The key.
    pub key: String,
    /// The ETag the headers were read with: the copy happens only if the object still has it.
    pub if_match: ETag,
    /// The object's size (large objects are copied in parts).
    pub size: u64,
    /// The complete header set the object gets (everything not here is dropped).
    pub headers: ObjectHeaders,
    /// The storage class to keep (`None`: STANDARD).
    pub storage_class: Option<String>,
    /// The encryption to keep.
    pub encryption: Encryption,
    /// How many tags the object has (a multipart copy must re-send them).
    pub tag_count: u32,
}

/// A file to store under a key, streamed from `path`; `size`, `md5` and `multipart` describe
/// its bytes.
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
    /// The headers (always with a `Content-Type`).
    pub headers: ObjectHeaders,
    /// `Some` for a multipart upload: the part size and the MD5 of every part, in order.
    pub multipart: Option<Multipart>,
    /// The ACL, storage class, encryption and tags the object is stored with.
    pub placement: Placement,
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
    /// The bucket lives in another region than the one the request was signed for.
    #[error("bucket '{bucket}' is in another region{}", region.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    WrongRegion {
        /// The bucket.
        bucket: String,
        /// Its region, when the store said.
        region: Option<String>,
    },
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
    /// The store refused the request as malformed (HTTP 400); for a HEAD this usually means an
    /// object encrypted with a customer key (SSE-C).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The store kept asking to slow down (SlowDown, 503/429) through every retry.
    #[error("the store kept asking to slow down (throttled): {0}")]
    Throttled(String),
    /// The TLS handshake failed, or the CA bundle is unusable (the text names the endpoint or
    /// the file, and the fix).
    #[error("{0}")]
    Tls(String),
    /// The credentials expired during the run (ExpiredToken): every further request would
    /// fail too.
    #[error("the credentials expired: {0}")]
    Expired(String),
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
            StoreError::NoSuchBucket(_)
                | StoreError::AccessDenied(_)
                | StoreError::Credentials(_)
                | StoreError::Tls(_)
                | StoreError::Expired(_)
                | StoreError::WrongRegion { .. }
        )
    }
}

/// What s3site needs from an object store. Implemented for S3 (`s3::S3Store`) and, in unit tests,
/// by an in-memory store.
pub trait ObjectStore: Send + Sync {
    /// The objects under `prefix` whose keys are in `range` (all pages of it), in the store's
    /// order. With an open range, every page is read to the end (no early stop), so the result
    /// is complete whatever order the store lists in. Fails as a whole if any page fails: a
    /// partial listing must never be mistaken for the full one.
    fn list_range(
        &self,
        prefix: &str,
        range: &KeyRange,
    ) -> impl Future<Output = Result<RangeListing, StoreError>> + Send;

    /// Every object under `prefix` (all pages), sorted by key, whatever the store's order.
    fn list(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<RemoteObject>, StoreError>> + Send {
        async move {
            let mut all = self.list_range(prefix, &KeyRange::default()).await?.objects;
            all.sort_unstable_by(|a, b| a.key.cmp(&b.key));
            all.dedup_by(|a, b| a.key == b.key);
            Ok(all)
        }
    }

    /// One page of a listing (one request, retried like every request).
    fn list_one(&self, req: &PageRequest) -> impl Future<Output = Result<Page, StoreError>> + Send;

    /// Keys one listing request returns at most (S3's 1,000).
    fn list_page(&self) -> usize {
        1000
    }

    /// HEAD of `key`; with `part_number`, the head of that part (to learn a multipart part size).
    fn head(
        &self,
        key: &str,
        part_number: Option<u32>,
    ) -> impl Future<Output = Result<ObjectHead, StoreError>> + Send;

    /// The first `len` bytes of `key` (fewer if the object is shorter; `len` > 0 and the object
    /// must not be empty).
    fn read_prefix(
        &self,
        key: &str,
        len: u64,
    ) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    /// Rewrites an object's headers without re-sending its bytes, only if its ETag is still
    /// `if_match` (`PreconditionFailed` otherwise). Keeps what the request describes and, where
    /// the bucket uses ACLs, the object's ACL.
    fn copy_in_place(
        &self,
        copy: &CopyInPlace,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores a local file under its key with the given headers, streaming it from disk.
    fn put_file(&self, put: &PutFile) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The object's ACL as grants, when the bucket uses ACLs and the ACL is more than the
    /// owner's full control (`None` otherwise; a store without ACLs says `None`).
    fn acl(&self, _key: &str) -> impl Future<Output = Result<Option<Grants>, StoreError>> + Send {
        async { Ok(None) }
    }

    /// The object's tags as an `x-amz-tagging` value (`None`: no tags).
    fn tagging(
        &self,
        _key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        async { Ok(None) }
    }

    /// What the bucket encrypts objects uploaded without an encryption header with
    /// (GetBucketEncryption); `Encryption::None` for none, or a store with no such setting.
    fn default_encryption(&self) -> impl Future<Output = Result<Encryption, StoreError>> + Send {
        async { Ok(Encryption::None) }
    }

    /// The bucket's website configuration (`None`: the bucket is not a website).
    fn website(&self) -> impl Future<Output = Result<Option<Website>, StoreError>> + Send;

    /// Sets the bucket's website configuration.
    fn put_website(&self, website: &Website)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes up to 1,000 keys in one request; returns the keys that could not be deleted.
    fn delete_batch(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<DeleteFailure>, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objs(keys: &[&str]) -> Vec<RemoteObject> {
        keys.iter()
            .map(|k| RemoteObject {
                key: (*k).to_string(),
                size: 1,
                etag: ETag::Opaque("x".into()),
            })
            .collect()
    }

    #[test]
    fn a_slice_takes_whole_pages_and_notices_any_disorder() {
        let range = KeyRange {
            after: Some("b".into()),
            through: Some("d".into()),
        };
        // A sorted store: the slice ends on the page that reaches past "d".
        let mut l = RangeListing::new();
        assert!(!l.take_page(&range, objs(&["c", "d", "e", "f"])));
        assert!(l.in_order);
        assert_eq!(l.beyond, ["e", "f"]);
        assert_eq!(l.objects.len(), 2);
        // A store that ignored start-after, and one that lists out of order.
        for page in [
            &["a", "b", "c", "d"][..],
            &["c", "e", "d"][..],
            &["d", "c"][..],
        ] {
            let mut l = RangeListing::new();
            l.take_page(&range, objs(page));
            assert!(!l.in_order, "{page:?}");
        }
        // An open range is read to the end whatever the order.
        let mut l = RangeListing::new();
        assert!(l.take_page(&KeyRange::default(), objs(&["z", "a"])));
        assert!(!l.in_order);
        assert_eq!(l.objects.len(), 2);
    }

    #[test]
    fn wrong_region_says_which() {
        let e = StoreError::WrongRegion {
            bucket: "b".into(),
            region: Some("eu-west-1".into()),
        };
        assert_eq!(e.to_string(), "bucket 'b' is in another region (eu-west-1)");
        assert!(e.is_configuration());
        let unknown = StoreError::WrongRegion {
            bucket: "b".into(),
            region: None,
        };
        assert_eq!(unknown.to_string(), "bucket 'b' is in another region");
    }
}
