//! The errors that stop a run, typed at the library boundary, and the exit code each maps to.
//!
//! Owns: `Error`, which gathers each layer's own error, and which exit code each means. Must
//! not: print anything (the application prints the error once, at the edge).

use crate::report::ExitCode;
use crate::settings::SettingsError;
use crate::site::SiteError;
use crate::store::StoreError;

/// An error that ends a run before or instead of its work.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag, URL, glob or rules file that cannot be used.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A site folder that cannot be published as it is.
    #[error(transparent)]
    Site(#[from] SiteError),
    /// A store request that failed in a way that ends the run (listing, credentials...).
    #[error("{context}: {source}")]
    Store {
        /// What s3site was doing.
        context: String,
        /// The store's error.
        source: StoreError,
    },
    /// A CDN request that failed before any write (an unknown distribution, no permission).
    #[error("{context}: {source}")]
    Cdn {
        /// What s3site was doing.
        context: String,
        /// The CDN's error.
        source: crate::cdn::CdnError,
    },
    /// A task that panicked or could not start: a bug in s3site, not bad input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code for this error: `Usage` for bad input or configuration (nothing
    /// was written), `Failed` for a failure at run time or a bug.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Settings(_) => ExitCode::Usage,
            Error::Site(e) if e.is_input() => ExitCode::Usage,
            Error::Store { source, .. } if source.is_configuration() => ExitCode::Usage,
            Error::Cdn { source, .. } if !source.is_transient() => ExitCode::Usage,
            Error::Site(_) | Error::Store { .. } | Error::Cdn { .. } | Error::Internal(_) => {
                ExitCode::Failed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicked_task_is_internal_not_usage() {
        let e = Error::from(SiteError::Task("boom".into()));
        assert_eq!(e.exit_code(), ExitCode::Failed);
        assert_eq!(e.to_string(), "internal error: a hashing task failed: boom");
        let e = Error::from(SiteError::NotADir("x".into()));
        assert_eq!(e.exit_code(), ExitCode::Usage);
        let e = Error::Store {
            context: "listing".into(),
            source: StoreError::NoSuchBucket("b".into()),
        };
        assert_eq!(e.exit_code(), ExitCode::Usage);
        let e = Error::Store {
            context: "listing".into(),
            source: StoreError::Other("reset".into()),
        };
        assert_eq!(e.exit_code(), ExitCode::Failed);
    }
}
