//! The local side of a sync: walk the site folder into keys, hash every file (and the body a
//! rule compresses it to), and remember the hashes between runs.
//!
//! Owns: reading the site folder. Must not: talk to a store or decide what to upload.

pub mod cache;
pub mod compress;
pub mod hash;
pub mod walk;

use std::path::{Path, PathBuf};

/// Why the site folder cannot be published as it is: the run stops before any request.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The source folder does not exist.
    #[error("source folder '{}' does not exist", .0.display())]
    MissingDir(PathBuf),
    /// The source is not a folder.
    #[error("source '{}' is not a folder", .0.display())]
    NotADir(PathBuf),
    /// A file or folder under the source that cannot be used.
    #[error("cannot use '{}': {reason}", shown(path))]
    BadEntry {
        /// The path.
        path: PathBuf,
        /// Why (loop, broken link, permission, non-UTF-8 name...).
        reason: String,
    },
    /// A key that S3 cannot store.
    #[error("key for '{}' is {len} bytes long; S3 keys are at most 1024 bytes", path.display())]
    KeyTooLong {
        /// The file.
        path: PathBuf,
        /// The key's length in bytes.
        len: usize,
    },
    /// A hashing task that panicked or was cancelled: a bug, not bad input.
    #[error("internal error: a hashing task failed: {0}")]
    Task(String),
}

impl SiteError {
    /// Whether the site itself is at fault (exit 2), rather than s3site (exit 1).
    pub fn is_input(&self) -> bool {
        !matches!(self, SiteError::Task(_))
    }
}

/// A path for a one-line message: control characters escaped (`\u{1}`, `\n`).
fn shown(path: &Path) -> String {
    path.display()
        .to_string()
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
