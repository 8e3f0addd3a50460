//! s3site's own user-metadata names (`x-amz-meta-*`): the one place each is spelled.
//!
//! Owns: the metadata s3site writes and reads to compare objects across runs, and the prefix
//! that marks user metadata. Must not: decide when each is written (that is `plan`).

/// The prefix of user-metadata header names; metadata keys are kept without it, lower case.
pub const PREFIX: &str = "x-amz-meta-";

/// The prefix of every metadata name s3site owns; a rule may not set one.
pub const OWN_PREFIX: &str = "s3site-";

/// User-metadata key under which s3site (like rclone and hugo) stores the MD5 of the whole body
/// when the ETag is not one (multipart uploads).
pub const MD5_METADATA_KEY: &str = "md5chksum";

/// User-metadata key under which s3site stores the hex MD5 of the uncompressed source of an
/// object it uploaded compressed.
pub const SOURCE_MD5_KEY: &str = "s3site-source-md5";

/// User-metadata key s3site sets on a file the rules compress but that went up plain because
/// compressing it gains nothing; its value is `NO_GAIN`. Repair accepts such a plain object.
pub const PLAIN_MARKER_KEY: &str = "s3site-compress";
/// The value of `PLAIN_MARKER_KEY`.
pub const NO_GAIN: &str = "no-gain";

/// User-metadata key s3site sets on the zero-byte objects of `[redirects]`.
pub const REDIRECT_MARKER_KEY: &str = "s3site-redirect";

/// Whether a rule may not set the metadata `name` (lower case, without `PREFIX`): s3site's own.
pub fn is_reserved(name: &str) -> bool {
    name == MD5_METADATA_KEY || name.starts_with(OWN_PREFIX)
}

/// The header name of metadata key `name`: `x-amz-meta-NAME`.
pub fn header_name(name: &str) -> String {
    format!("{PREFIX}{name}")
}
