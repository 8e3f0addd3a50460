//! s3site: deploy static sites to Amazon S3 and S3-compatible stores with correct headers.
//!
//! The layers, lowest first (a module uses only those before it):
//! `content` (pure facts: digests, ETags, media types, codings, headers, placement, website) →
//! `settings` (what is validated before the first request) and `aws` (the AWS config chain the
//! adapters share) → `site` (the local folder), `store` (the object-store trait, the in-memory
//! store, listing, and the S3 adapter) and `cdn` (the CDN trait and the CloudFront adapter) →
//! `plan` (pure decisions) → `report` (what a run did) → `error` → `run` (the I/O a plan asks
//! for) → `app` (the command line, where an error is printed once).

pub mod app;
mod aws;
pub mod cdn;
pub mod cli;
pub mod content;
pub mod error;
pub mod plan;
pub mod report;
pub mod run;
pub mod settings;
pub mod site;
pub mod store;

pub use error::Error;
