//! The errors that stop a run, typed at the library boundary, and the exit code each maps to.
//!
//! Owns: `Error` and the documented exit codes. Must not: print anything (the binary prints the
//! error once, at the edge).

use crate::store::StoreError;
use std::path::PathBuf;

/// Everything went as planned.
pub const EXIT_OK: u8 = 0;
/// Some operation failed at run time; the summary says which. Nothing was deleted.
pub const EXIT_FAILED: u8 = 1;
/// Bad usage, configuration or input, detected before any write.
pub const EXIT_USAGE: u8 = 2;
/// Interrupted by Ctrl-C (SIGINT): requests in flight finished, nothing else started.
pub const EXIT_INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM (a CI cancel or timeout), handled like the first Ctrl-C.
pub const EXIT_TERMINATED: u8 = 143;

/// An error that ends a run before or instead of its work.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line value that makes no sense.
    #[error("{0}")]
    Usage(String),
    /// A bad `s3://` URL.
    #[error("invalid S3 URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A bad `--exclude` glob.
    #[error(transparent)]
    BadGlob(#[from] crate::settings::filter::BadGlob),
    /// A rules file that cannot be read or is not valid.
    #[error(transparent)]
    Config(#[from] crate::settings::rules::ConfigError),
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
    /// A store request that failed in a way that ends the run (listing, credentials...).
    #[error("{context}: {source}")]
    Store {
        /// What s3site was doing.
        context: String,
        /// The store's error.
        source: StoreError,
    },
}

/// A path for a one-line message: control characters escaped (`\u{1}`, `\n`).
fn shown(path: &std::path::Path) -> String {
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

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Store { source, .. } if !source.is_configuration() => EXIT_FAILED,
            _ => EXIT_USAGE,
        }
    }
}
