use super::*;
use crate::content::etag::ETag;
use crate::store::ObjectHeaders;

fn copy(key: &str, ct: &str) -> CopyInPlace {
    CopyInPlace {
        key: key.into(),
        if_match: ETag::parse("\"0123456789abcdef0123456789abcdef\""),
        size: 10,
        headers: ObjectHeaders::default()
            .with(Header::ContentType, ct)
            .with(Header::CacheControl, "max-age=60"),
        storage_class: None,
        encryption: Encryption::None,
        tag_count: 0,
    }
}

fn target(r: Route) -> Target {
    match r {
        Route::Batch(t) => t,
        Route::Direct(why) => panic!("direct: {why}"),
    }
}

#[test]
fn equal_targets_group_and_any_difference_splits() {
    let a = target(route(&copy("a.css", "text/css"), None));
    let b = target(route(&copy("b.css", "text/css"), None));
    assert_eq!(a, b);
    let mut other = copy("c.css", "text/css");
    // Metadata many objects share (metadata of their own sends objects direct: see below).
    other.headers.metadata.insert("owner".into(), "web".into());
    assert_ne!(a, target(route(&other, None)));
    let mut ia = copy("d.css", "text/css");
    ia.storage_class = Some("STANDARD_IA".into());
    assert_ne!(a, target(route(&ia, None)));
    assert_ne!(a, target(route(&copy("e.css", "text/plain"), None)));
    let public = Acl::Canned("public-read".into());
    assert_ne!(a, target(route(&copy("f.css", "text/css"), Some(&public))));
}

#[test]
fn big_customer_key_and_granted_objects_go_direct() {
    let mut big = copy("big.bin", "application/octet-stream");
    big.size = MAX_BATCH_SIZE + 1;
    assert!(matches!(route(&big, None), Route::Direct(w) if w.contains("5 GB")));
    let mut c = copy("c.css", "text/css");
    c.encryption = Encryption::Customer;
    assert!(matches!(route(&c, None), Route::Direct(w) if w.contains("SSE-C")));
    let mut rr = copy("r.css", "text/css");
    rr.storage_class = Some("REDUCED_REDUNDANCY".into());
    assert!(matches!(route(&rr, None), Route::Direct(w) if w.contains("REDUCED_REDUNDANCY")));
    let mut attrs = copy("s.css", "text/css");
    attrs
        .headers
        .metadata
        .insert("s3cmd-attrs".into(), "mtime:1".into());
    assert!(
        matches!(route(&attrs, None), Route::Direct(w) if w.contains("s3cmd-attrs is its own"))
    );
    let grants = Acl::Grants(crate::content::placement::Grants::default());
    assert!(matches!(
        route(&copy("g.css", "text/css"), Some(&grants)),
        Route::Direct(_)
    ));
}

#[test]
fn manifest_keys_are_url_encoded_and_decode_back() {
    for key in [
        "a b.css",
        "c+d.js",
        "100%.html",
        "grüße/é.txt",
        "q,\"x\"\n.txt",
        "~u/_-.",
    ] {
        let row = manifest_row("b", key);
        let field = row.trim_end().strip_prefix("b,").expect("bucket");
        assert!(!field.contains([',', '"', '\n', ' ', '+']), "{field}");
        assert_eq!(crate::content::key::url_decode(field).as_deref(), Some(key));
    }
    assert_eq!(manifest_key("a b+c.css"), "a%20b%2Bc.css");
}

fn spec() -> JobSpec {
    JobSpec {
        account_id: "123456789012".into(),
        role_arn: "arn:aws:iam::123456789012:role/batch".into(),
        bucket: "site".into(),
        report_bucket: "ops".into(),
        report_prefix: "s3site/".into(),
        priority: 10,
        confirm: true,
        unmodified_since: "2026-12-02T01:00:00Z".into(),
    }
}

#[test]
fn the_job_replaces_the_whole_header_set_and_leaves_out_the_bogus_encoding() {
    let mut c = copy("a.css", "text/css; charset=utf-8");
    c.headers.set(
        Header::Expires,
        Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
    );
    c.headers.metadata.insert("owner".into(), "web".into());
    c.encryption = Encryption::Kms {
        algorithm: "aws:kms".into(),
        key_id: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
        bucket_key: true,
    };
    let t = target(route(&c, Some(&Acl::Canned("public-read".into()))));
    let job = create_job(&t, &spec(), "s3site/m.csv", "abc", 3, "tok");
    let op = &job["Operation"]["S3PutObjectCopy"];
    assert_eq!(op["MetadataDirective"], "REPLACE");
    let meta = &op["NewObjectMetadata"];
    assert_eq!(meta["ContentType"], "text/css; charset=utf-8");
    assert_eq!(meta["CacheControl"], "max-age=60");
    assert_eq!(meta["HttpExpiresDate"], "2015-10-21T07:28:00Z");
    assert_eq!(meta["UserMetadata"]["owner"], "web");
    assert_eq!(meta["SSEAlgorithm"], "KMS");
    assert!(meta.get("ContentEncoding").is_none());
    assert_eq!(op["BucketKeyEnabled"], true);
    assert_eq!(op["CannedAccessControlList"], "public-read");
    assert_eq!(op["UnModifiedSinceConstraint"], "2026-12-02T01:00:00Z");
    assert_eq!(op["TargetResource"], "arn:aws:s3:::site");
    assert_eq!(
        job["Manifest"]["Location"]["ObjectArn"],
        "arn:aws:s3:::ops/s3site/m.csv"
    );
    assert_eq!(job["ConfirmationRequired"], true);
}

#[test]
fn account_ids_come_from_role_arns_and_small_groups_cost_more_as_jobs() {
    assert_eq!(
        account_of_role("arn:aws:iam::123456789012:role/x"),
        Some("123456789012")
    );
    assert_eq!(account_of_role("arn:aws:iam::12:role/x"), None);
    assert!(job_cost(10) > direct_cost(10));
    assert!(
        (job_cost(1_000_000) - 6.25).abs() < 1e-9,
        "{}",
        job_cost(1_000_000)
    );
}

#[test]
fn times_are_rfc3339() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_445_412_480), "2015-10-21T07:28:00Z");
    assert_eq!(rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
}

#[test]
fn a_verified_object_has_exactly_the_job_s_headers() {
    let c = copy("a.css", "text/css; charset=utf-8");
    let t = target(route(&c, None));
    let op = operation(&t, &spec());
    let mut head = crate::store::ObjectHead {
        headers: c.headers.clone(),
        ..crate::store::ObjectHead::default()
    };
    assert!(differences(&op, &head).is_empty());
    head.headers
        .set(Header::ContentEncoding, Some("UTF-8".into()));
    head.headers.metadata.insert("x".into(), "y".into());
    let d = differences(&op, &head);
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d[0].starts_with("Content-Encoding: UTF-8"), "{d:?}");
}
