//! Command-line values turned into validated settings, before anything touches a store.
//!
//! Owns: parsing `s3://BUCKET[/PREFIX]`, bounds on numeric flags, compiling the exclusion globs.
//! Must not: perform I/O; every error here is a usage error (exit 2).

use crate::settings::SettingsError as Error;
use std::fmt;

/// Most requests in flight that `--concurrency` accepts.
pub const MAX_CONCURRENCY: usize = 512;

/// A parsed `s3://BUCKET[/PREFIX]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket name.
    pub bucket: String,
    /// The key prefix: empty, or ending with `/`.
    pub prefix: String,
}

impl S3Url {
    /// Parses and normalizes an S3 URL: `s3://b`, `s3://b/`, `s3://b/blog`, `s3://b/blog/`.
    /// A prefix with an empty segment (`s3://b//x`, `s3://b/a//c`) is refused: it would create
    /// keys no browser URL reaches.
    pub fn parse(url: &str) -> Result<S3Url, Error> {
        let bad = |reason: &str| Error::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("expected s3://BUCKET[/PREFIX]"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name"));
        }
        if bucket.len() > 255
            || !bucket
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(bad(
                "a bucket name has only letters, digits, '.', '-' and '_'",
            ));
        }
        let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
        if prefix.starts_with('/') || (!trimmed.is_empty() && trimmed.split('/').any(str::is_empty))
        {
            return Err(bad(
                "the prefix has an empty path segment ('//' or a leading '/')",
            ));
        }
        if !trimmed.is_empty() && trimmed.split('/').any(|seg| seg == "." || seg == "..") {
            return Err(bad(
                "the prefix has a '.' or '..' segment, which S3 keeps literally but browsers and \
                 some stores resolve",
            ));
        }
        if prefix.chars().any(crate::content::key::xml_unsafe) {
            return Err(bad(
                "the prefix holds a control character, which S3 listings cannot carry as XML",
            ));
        }
        let prefix = if trimmed.is_empty() {
            String::new()
        } else {
            format!("{trimmed}/")
        };
        if prefix.len() > crate::content::key::MAX_KEY_LEN {
            return Err(bad("the prefix is longer than an S3 key may be"));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix,
        })
    }
}

impl S3Url {
    /// `key` relative to the prefix (rules and exclusions match that); a key outside the prefix
    /// as it is.
    pub fn rel<'k>(&self, key: &'k str) -> &'k str {
        crate::content::key::relative(&self.prefix, key)
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Checks `--concurrency`.
pub fn concurrency(n: usize) -> Result<usize, Error> {
    if n == 0 || n > MAX_CONCURRENCY {
        return Err(Error::Usage(format!(
            "--concurrency must be between 1 and {MAX_CONCURRENCY}, not {n}"
        )));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> (String, String) {
        let u = S3Url::parse(url).unwrap();
        (u.bucket, u.prefix)
    }

    #[test]
    fn parses_and_normalizes() {
        assert_eq!(ok("s3://b"), ("b".into(), "".into()));
        assert_eq!(ok("s3://b/"), ("b".into(), "".into()));
        assert_eq!(ok("s3://b/blog"), ("b".into(), "blog/".into()));
        assert_eq!(ok("s3://b/blog/"), ("b".into(), "blog/".into()));
        assert_eq!(
            ok("s3://www.example.com/a/b"),
            ("www.example.com".into(), "a/b/".into())
        );
        assert_eq!(
            ok("s3://b/.well-known"),
            ("b".into(), ".well-known/".into())
        );
        assert_eq!(ok("s3://b/a..b/..c"), ("b".into(), "a..b/..c/".into()));
    }

    #[test]
    fn refuses_bad_urls() {
        for url in [
            "b",
            "s3:/b",
            "http://b/x",
            "s3://",
            "s3:///x",
            "s3://b//x",
            "s3://b//",
            "s3://b/a//c",
            "s3://bad bucket/x",
            "s3://b?x",
            "s3://b/../x",
            "s3://b/./x",
            "s3://b/a/..",
            "s3://b/.",
            "s3://b/a/./",
            "s3://b/a\u{1}b",
        ] {
            assert!(S3Url::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn concurrency_bounds() {
        assert!(concurrency(0).is_err());
        assert!(concurrency(1).is_ok());
        assert!(concurrency(MAX_CONCURRENCY + 1).is_err());
    }
}
