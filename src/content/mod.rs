//! Pure facts about content, true for every run: digests and ETags, the media-type table, body
//! codings, key limits and s3site's metadata names.
//!
//! Owns: knowledge that needs no file, no store and no settings. Must not: depend on any other
//! module of the crate, do I/O, or decide anything about a particular run.

pub mod coding;
pub mod digest;
pub mod etag;
pub mod header;
pub mod key;
pub mod media;
pub mod meta;
pub mod placement;
pub mod website;
