//! The local side of a sync: walk the site folder into keys, hash every file (and the body a
//! rule compresses it to), and remember the hashes between runs.
//!
//! Owns: reading the site folder. Must not: talk to a store or decide what to upload.

pub mod cache;
pub mod compress;
pub mod local;
