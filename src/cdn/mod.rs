//! The CDN boundary: what s3site asks of a content delivery network in front of the bucket
//! (CloudFront today), as a small trait with crate-owned types.
//!
//! Owns: the trait (read a distribution's origins, count the wildcard paths in progress, create
//! an invalidation, read its status), its types and the errors a run branches on; the in-memory
//! CDN of the unit tests. Must not: let SDK types out (they stay in `cloudfront`), or decide which
//! paths to invalidate (that is `plan::cdn`).

pub mod cloudfront;
#[cfg(test)]
pub mod memory;

use std::future::Future;

/// One origin of a distribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The origin's id in the distribution.
    pub id: String,
    /// Its host name (`BUCKET.s3.amazonaws.com`, a website endpoint, a custom domain).
    pub domain: String,
    /// `OriginPath`: the folder of the bucket the distribution serves (`/live`), or empty.
    pub path: String,
}

/// What s3site needs to know of a distribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    /// Its id.
    pub id: String,
    /// Its origins.
    pub origins: Vec<Origin>,
}

/// An invalidation the CDN accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// Its id.
    pub id: String,
    /// `InProgress` or `Completed`.
    pub status: String,
}

/// The CDN errors callers branch on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CdnError {
    /// No distribution has this id.
    #[error("distribution '{0}' does not exist")]
    NoSuchDistribution(String),
    /// Too many invalidations (or wildcard paths) in progress on the distribution.
    #[error("too many invalidations in progress: {0}")]
    TooManyInProgress(String),
    /// The CDN asked to slow down.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The credentials may not do this.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// Anything else, with the CDN's message.
    #[error("{0}")]
    Other(String),
}

impl CdnError {
    /// Whether waiting and asking again can help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CdnError::TooManyInProgress(_) | CdnError::Throttled(_)
        )
    }
}

/// What s3site asks of a CDN. Implemented for CloudFront (`cloudfront::CloudFront`) and, in unit
/// tests, by an in-memory CDN.
pub trait Cdn: Send + Sync {
    /// The distribution `id` and its origins.
    fn distribution(&self, id: &str)
    -> impl Future<Output = Result<Distribution, CdnError>> + Send;

    /// How many wildcard paths invalidations still in progress on `id` hold.
    fn wildcards_in_progress(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<usize, CdnError>> + Send;

    /// Invalidates `paths` (already encoded) on `id`. `reference` identifies the request: the
    /// same reference again is the same invalidation, never a second one.
    fn invalidate(
        &self,
        id: &str,
        paths: &[String],
        reference: &str,
    ) -> impl Future<Output = Result<Created, CdnError>> + Send;

    /// The status of invalidation `invalidation` on `id`.
    fn status(
        &self,
        id: &str,
        invalidation: &str,
    ) -> impl Future<Output = Result<String, CdnError>> + Send;
}
