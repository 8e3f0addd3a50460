//! s3site: deploy static sites to Amazon S3 and S3-compatible stores with correct headers.
//!
//! The planning core (`plan` for sync, `drift` for repair, `headers`, `etag`, `filter`) is pure;
//! `local` reads the source folder, `s3` is the only module that speaks to S3, behind the
//! `store::ObjectStore` trait; `execute` runs a sync plan and `repair` a repair on any store;
//! `report` shows what happened; `app` ties them to the command line.

pub mod app;
pub mod cache;
pub mod cancel;
pub mod cli;
pub mod compress;
pub mod config;
pub mod digest;
pub mod drift;
pub mod error;
pub mod etag;
pub mod execute;
pub mod explain;
pub mod filter;
pub mod headers;
pub mod listing;
pub mod local;
pub mod output;
pub mod plan;
pub mod repair;
pub mod report;
pub mod rules;
pub mod s3;
pub mod store;
pub mod sync;

pub use error::Error;
