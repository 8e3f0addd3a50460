//! Pure decisions: what a sync uploads, leaves alone and deletes, and what a repair changes.
//!
//! Owns: every decision of a run, made from literal inputs (the local files, a listing, HEADs,
//! the rules) so that each is unit-tested without I/O. Must not: do I/O, read the clock, or
//! know about the S3 SDK.

pub mod batch;
pub mod cdn;
pub mod repair;
pub mod sync;
pub mod website;
