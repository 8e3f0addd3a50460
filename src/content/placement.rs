//! Where and how S3 stores an object, as far as an upload sets it: the canned ACLs, the storage
//! classes and the server-side encryptions S3 knows.
//!
//! Owns: the valid values and the one-line error for any other, and the types an upload or a
//! copy carries them in (`Placement`, `Acl`, `Encryption`). Must not: decide which an
//! upload gets (that is `plan`).

/// S3's canned ACLs.
pub const CANNED_ACLS: &[&str] = &[
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];

/// S3's storage classes an upload may ask for.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "GLACIER_IR",
    "DEEP_ARCHIVE",
];

/// S3's server-side encryptions an upload may ask for (SSE-C needs a key s3site does not take).
pub const SSE: &[&str] = &["AES256", "aws:kms", "aws:kms:dsse"];

fn one_of(what: &str, v: &str, valid: &[&str]) -> Result<(), String> {
    if valid.contains(&v) {
        return Ok(());
    }
    Err(format!("{what} '{v}' is not one of {}", valid.join(", ")))
}

/// Checks a canned ACL.
pub fn check_acl(v: &str) -> Result<(), String> {
    one_of("acl", v, CANNED_ACLS)
}

/// Checks a storage class.
pub fn check_storage_class(v: &str) -> Result<(), String> {
    one_of("storage class", v, STORAGE_CLASSES)
}

/// Checks a server-side encryption.
pub fn check_sse(v: &str) -> Result<(), String> {
    one_of("server-side encryption", v, SSE)
}

/// How an object is encrypted at rest, as far as a copy must reproduce it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Encryption {
    /// No server-side encryption reported (or the bucket default applies).
    #[default]
    None,
    /// SSE-S3 (`AES256`).
    S3,
    /// SSE-KMS (`aws:kms`, or `aws:kms:dsse`), with its key and the bucket-key flag.
    Kms {
        /// `aws:kms` or `aws:kms:dsse`.
        algorithm: String,
        /// The KMS key id, when reported.
        key_id: Option<String>,
        /// Whether an S3 Bucket Key is used.
        bucket_key: bool,
    },
    /// SSE-C: the customer's key is needed to read or copy the object.
    Customer,
}

impl Encryption {
    /// Whether an object so encrypted has an ETag that is not its body's MD5 (SSE-KMS and
    /// SSE-C; SSE-S3 keeps the MD5).
    pub fn hides_md5(&self) -> bool {
        matches!(self, Encryption::Kms { .. } | Encryption::Customer)
    }
}

/// What an upload sets besides the body and its headers. Nothing set means the bucket's
/// defaults (and no ACL header, which some stores reject).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// The ACL: a canned one, or the grants of the object it replaces.
    pub acl: Option<Acl>,
    /// The storage class (`None`: the bucket's default, STANDARD).
    pub storage_class: Option<String>,
    /// Server-side encryption (`None`: the bucket's default).
    pub encryption: Encryption,
    /// Tags, as an `x-amz-tagging` value (`k=v&k2=v2`, URL-encoded).
    pub tagging: Option<String>,
}

/// An object ACL to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acl {
    /// A canned ACL (`public-read`...).
    Canned(String),
    /// Explicit grants (what another object had).
    Grants(Grants),
}

/// An ACL as the `x-amz-grant-*` headers carry it: grantees (`id="..."`, `uri="..."`) per
/// permission.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// READ.
    pub read: Vec<String>,
    /// READ_ACP.
    pub read_acp: Vec<String>,
    /// WRITE_ACP.
    pub write_acp: Vec<String>,
    /// FULL_CONTROL.
    pub full_control: Vec<String>,
}
