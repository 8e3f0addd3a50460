//! Planning S3 Batch Operations jobs from an audit, pure: which objects a Batch copy may repair,
//! grouped by the complete header set each must get (one `NewObjectMetadata` per job), and the
//! files that describe a job: the CSV manifest and the CreateJob request.
//!
//! Owns: the grouping key (every header, the user metadata, the redirect, the storage class,
//! the encryption and the ACL), what must stay on the direct path (over 5 GB, SSE-C, archived,
//! an ACL a job cannot state, user metadata of its own), the manifest's encoding, the job's
//! JSON in the shape `aws s3control create-job --cli-input-json` takes, and the cost estimate. Must not: do I/O or
//! decide what is wrong with an object (that is `plan::repair`).
//!
//! A Batch copy has no ETag condition: the job's `UnModifiedSinceConstraint` is the audit's
//! start, so an object rewritten after the audit began is skipped by the job. That is weaker
//! than the direct path's if-match: an object rewritten in the same second as the audit began,
//! or whose Last-Modified is set back, is not caught.

use crate::content::header::Header;
use crate::content::meta;
use crate::content::placement::{Acl, Encryption};
use crate::store::CopyInPlace;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The largest object a Batch copy takes (5 GB, as CopyObject).
pub const MAX_BATCH_SIZE: u64 = 5_000_000_000;

/// The job fee and the per-object fee (USD), and S3's price of a COPY request, for the plan's
/// estimate (us-east-1 list prices; see the S3 pricing page).
pub const JOB_FEE: f64 = 0.25;
/// Per million objects a job processes.
pub const PER_MILLION_OBJECTS: f64 = 1.00;
/// Per 1,000 COPY (PUT-class) requests.
pub const PER_THOUSAND_COPIES: f64 = 0.005;

/// User metadata that differs per object (old s3cmd's attributes, MD5s): such objects form
/// groups of one, so they go direct at once.
pub const PER_OBJECT_METADATA: &[&str] =
    &["s3cmd-attrs", meta::MD5_METADATA_KEY, meta::SOURCE_MD5_KEY];

/// The storage classes a Batch copy can set (the S3 Control API's `S3StorageClass`).
pub const BATCH_STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "GLACIER",
    "INTELLIGENT_TIERING",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

/// The canned ACLs a Batch copy can set (`S3CannedAccessControlList`).
pub const BATCH_CANNED_ACLS: &[&str] = &[
    "private",
    "public-read",
    "public-read-write",
    "aws-exec-read",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];

/// Everything a Batch copy sets on an object: objects with equal targets share one job.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    /// The headers, by name, as the copy gives them.
    pub headers: Vec<(Header, String)>,
    /// User metadata (`x-amz-meta-*`, names without the prefix).
    pub metadata: BTreeMap<String, String>,
    /// The storage class (`None`: STANDARD).
    pub storage_class: Option<String>,
    /// `AES256`, `aws:kms` (with the key and the bucket-key flag), or none.
    pub sse: Option<(String, Option<String>, bool)>,
    /// A canned ACL, when the bucket uses ACLs and the object's ACL is one.
    pub canned_acl: Option<String>,
}

/// Where one object's repair goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// A Batch job can make it.
    Batch(Target),
    /// The direct path must (`s3site repair --keys-from direct.csv`), for this reason.
    Direct(String),
}

/// Where the repair `copy` goes; `acl` is the object's ACL where the bucket uses ACLs
/// (`None`: no ACL beyond the owner's, or ACLs disabled).
pub fn route(copy: &CopyInPlace, acl: Option<&Acl>) -> Route {
    if copy.size > MAX_BATCH_SIZE {
        return Route::Direct("over 5 GB: Batch copies do not take it".into());
    }
    let own = PER_OBJECT_METADATA
        .iter()
        .find(|m| copy.headers.metadata.contains_key(**m));
    if let Some(m) = own {
        return Route::Direct(format!("its x-amz-meta-{m} is its own"));
    }
    let sse = match &copy.encryption {
        Encryption::None => None,
        Encryption::S3 => Some(("AES256".to_string(), None, false)),
        Encryption::Kms {
            algorithm,
            key_id,
            bucket_key,
        } if algorithm == "aws:kms" => Some((algorithm.clone(), key_id.clone(), *bucket_key)),
        Encryption::Kms { algorithm, .. } => {
            return Route::Direct(format!(
                "{algorithm} encryption: a Batch copy cannot keep it"
            ));
        }
        Encryption::Customer => {
            return Route::Direct("encrypted with a customer key (SSE-C)".into());
        }
    };
    if let Some(c) = copy
        .storage_class
        .as_deref()
        .filter(|c| !BATCH_STORAGE_CLASSES.contains(c))
    {
        return Route::Direct(format!("storage class {c}: a Batch copy cannot keep it"));
    }
    let canned_acl = match acl {
        None => None,
        Some(Acl::Canned(c)) if BATCH_CANNED_ACLS.contains(&c.as_str()) => Some(c.clone()),
        Some(Acl::Canned(c)) => {
            return Route::Direct(format!("ACL {c}: a Batch copy cannot set it"));
        }
        Some(Acl::Grants(_)) => {
            return Route::Direct("its ACL has grants: the direct path copies them".into());
        }
    };
    Route::Batch(Target {
        headers: copy
            .headers
            .iter()
            .map(|(h, v)| (h, v.to_string()))
            .collect(),
        metadata: copy.headers.metadata.clone(),
        storage_class: copy.storage_class.clone(),
        sse,
        canned_acl,
    })
}

/// A key as a Batch Operations CSV manifest carries it: URL-encoded (a space is `%20`, `+` is
/// `%2B`), so commas, quotes and newlines in keys cannot break the CSV.
pub fn manifest_key(key: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(key, KEEP).to_string()
}

/// One manifest row (`bucket,key`, no header row).
pub fn manifest_row(bucket: &str, key: &str) -> String {
    format!("{bucket},{}\n", manifest_key(key))
}

/// What a job is given besides its group.
#[derive(Clone, Debug)]
pub struct JobSpec {
    /// The account that runs the job.
    pub account_id: String,
    /// The role the job assumes (`arn:aws:iam::…:role/…`).
    pub role_arn: String,
    /// The bucket being repaired.
    pub bucket: String,
    /// Where the manifests are uploaded and the completion reports go: bucket and prefix.
    pub report_bucket: String,
    /// The prefix there (ends in `/` or is empty).
    pub report_prefix: String,
    /// The job's priority.
    pub priority: i32,
    /// Whether a person must confirm the job before it runs.
    pub confirm: bool,
    /// The audit's start, RFC 3339: the job skips objects modified since.
    pub unmodified_since: String,
}

/// `Expires` as the store returns it, an IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`), as
/// the RFC 3339 time `HttpExpiresDate` takes (`2015-10-21T07:28:00Z`).
fn expires_rfc3339(v: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut p = v.split_whitespace().skip(1);
    let (day, month, year, time) = (p.next()?, p.next()?, p.next()?, p.next()?);
    let m = MONTHS.iter().position(|x| *x == month)? + 1;
    let day: u32 = day.parse().ok()?;
    let year: u32 = year.parse().ok()?;
    (time.len() == 8).then(|| format!("{year:04}-{m:02}-{day:02}T{time}Z"))
}

/// The `S3PutObjectCopy` operation that gives every object of a group `target`.
pub fn operation(target: &Target, spec: &JobSpec) -> Value {
    let mut meta = serde_json::Map::new();
    for (h, v) in &target.headers {
        let (name, value) = match h {
            Header::ContentType => ("ContentType", json!(v)),
            Header::ContentEncoding => ("ContentEncoding", json!(v)),
            Header::CacheControl => ("CacheControl", json!(v)),
            Header::ContentDisposition => ("ContentDisposition", json!(v)),
            Header::ContentLanguage => ("ContentLanguage", json!(v)),
            Header::Expires => match expires_rfc3339(v) {
                Some(t) => ("HttpExpiresDate", json!(t)),
                None => continue,
            },
            Header::WebsiteRedirect => continue,
        };
        meta.insert(name.into(), value);
    }
    if !target.metadata.is_empty() {
        meta.insert("UserMetadata".into(), json!(target.metadata));
    }
    let mut copy = serde_json::Map::new();
    copy.insert(
        "TargetResource".into(),
        json!(format!("arn:aws:s3:::{}", spec.bucket)),
    );
    copy.insert("MetadataDirective".into(), json!("REPLACE"));
    copy.insert("NewObjectMetadata".into(), Value::Object(meta));
    copy.insert(
        "UnModifiedSinceConstraint".into(),
        json!(spec.unmodified_since),
    );
    let redirect = target
        .headers
        .iter()
        .find(|(h, _)| *h == Header::WebsiteRedirect);
    if let Some((_, r)) = redirect {
        copy.insert("RedirectLocation".into(), json!(r));
    }
    if let Some(c) = &target.storage_class {
        copy.insert("StorageClass".into(), json!(c));
    }
    if let Some(acl) = &target.canned_acl {
        // The S3 Control API spells canned ACLs as S3 does (`public-read`).
        copy.insert("CannedAccessControlList".into(), json!(acl));
    }
    match &target.sse {
        Some((alg, key, bucket_key)) if alg == "aws:kms" => {
            if let Some(k) = key {
                copy.insert("SSEAwsKmsKeyId".into(), json!(k));
            }
            copy.insert("BucketKeyEnabled".into(), json!(bucket_key));
            meta_sse(&mut copy, "KMS");
        }
        Some(_) => meta_sse(&mut copy, "AES256"),
        None => {}
    }
    json!({ "S3PutObjectCopy": Value::Object(copy) })
}

fn meta_sse(copy: &mut serde_json::Map<String, Value>, alg: &str) {
    if let Some(Value::Object(m)) = copy.get_mut("NewObjectMetadata") {
        m.insert("SSEAlgorithm".into(), json!(alg));
    }
}

/// The CreateJob request for one group, as `aws s3control create-job --cli-input-json` takes
/// it: the manifest is `manifest_key` in the report bucket with `manifest_etag` (the MD5 of its
/// bytes, what a single-part upload returns), and `token` is the idempotency token.
pub fn create_job(
    target: &Target,
    spec: &JobSpec,
    manifest_key: &str,
    manifest_etag: &str,
    objects: u64,
    token: &str,
) -> Value {
    json!({
        "AccountId": spec.account_id,
        "ConfirmationRequired": spec.confirm,
        "Operation": operation(target, spec),
        "Report": {
            "Bucket": format!("arn:aws:s3:::{}", spec.report_bucket),
            "Format": "Report_CSV_20180820",
            "Enabled": true,
            "Prefix": format!("{}reports", spec.report_prefix),
            "ReportScope": "AllTasks",
        },
        "ClientRequestToken": token,
        "Manifest": {
            "Spec": {
                "Format": "S3BatchOperations_CSV_20180820",
                "Fields": ["Bucket", "Key"],
            },
            "Location": {
                "ObjectArn": format!("arn:aws:s3:::{}/{manifest_key}", spec.report_bucket),
                "ETag": manifest_etag,
            },
        },
        "Description": format!("s3site repair of {objects} objects in {}", spec.bucket),
        "Priority": spec.priority,
        "RoleArn": spec.role_arn,
    })
}

/// `secs` after the Unix epoch as an RFC 3339 UTC time (`2026-12-02T01:13:29Z`).
pub fn rfc3339(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm), for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The account id in an IAM role ARN (`arn:aws:iam::123456789012:role/name`).
pub fn account_of_role(arn: &str) -> Option<&str> {
    let account = arn.strip_prefix("arn:")?.split(':').nth(3)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// The estimated cost (USD) of one job over `objects` objects: its fee, the per-object fee and
/// the copies.
pub fn job_cost(objects: u64) -> f64 {
    JOB_FEE + objects as f64 * (PER_MILLION_OBJECTS / 1e6 + PER_THOUSAND_COPIES / 1e3)
}

/// What the same objects cost repaired directly: the copies only (the HEADs are paid by the
/// audit either way).
pub fn direct_cost(objects: u64) -> f64 {
    objects as f64 * PER_THOUSAND_COPIES / 1e3
}

/// How an object's HEAD differs from what the job's operation (`Operation` of a CreateJob
/// request) sets: one line per header, empty when the job's headers are all there. `Expires`
/// is not compared (the job states it as a time, the HEAD as an HTTP date).
pub fn differences(operation: &Value, head: &crate::store::ObjectHead) -> Vec<String> {
    let copy = &operation["S3PutObjectCopy"];
    let meta = &copy["NewObjectMetadata"];
    let mut out = Vec::new();
    for (field, h) in [
        ("ContentType", Header::ContentType),
        ("ContentEncoding", Header::ContentEncoding),
        ("CacheControl", Header::CacheControl),
        ("ContentDisposition", Header::ContentDisposition),
        ("ContentLanguage", Header::ContentLanguage),
    ] {
        let want = meta.get(field).and_then(Value::as_str);
        let have = head.headers.get(h);
        let same = match (want, have) {
            (Some(w), Some(v)) => h.same(w, v),
            (None, None) => true,
            _ => false,
        };
        if !same {
            out.push(format!(
                "{}: {} (the job sets {})",
                h.name(),
                have.unwrap_or("(none)"),
                want.unwrap_or("(none)")
            ));
        }
    }
    let want_meta: BTreeMap<String, String> = meta
        .get("UserMetadata")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default();
    if want_meta != head.headers.metadata {
        out.push(format!(
            "user metadata: {:?} (the job sets {want_meta:?})",
            head.headers.metadata
        ));
    }
    let want_class = copy["StorageClass"].as_str().filter(|c| *c != "STANDARD");
    if want_class != head.storage_class.as_deref() {
        out.push(format!(
            "storage class: {} (the job sets {})",
            head.storage_class.as_deref().unwrap_or("STANDARD"),
            want_class.unwrap_or("STANDARD")
        ));
    }
    out
}

#[cfg(test)]
mod tests;
