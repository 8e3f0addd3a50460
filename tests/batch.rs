//! `s3site repair --batch-plan`: a seeded bucket with three kinds of wrong headers and objects
//! carrying old s3cmd's per-object attributes, planned into S3 Batch Operations jobs. The job
//! files are checked against the S3 Control API model (botocore), the manifests parsed back to
//! their keys, and the bucket must not have been written.

use crate::util::{assert_exit, each_server, root, stderr, stdout};
use std::collections::BTreeSet;

/// botocore's Python (moto's private virtualenv, installed by scripts/s3-server.sh).
fn botocore_python() -> std::path::PathBuf {
    let p = root().join(".tools/moto/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/s3-server.sh start moto",
        p.display()
    );
    p
}

#[test]
fn a_batch_plan_groups_shared_header_sets_and_leaves_the_rest_direct() {
    each_server("batch-plan", |t| {
        let mut css = BTreeSet::new();
        for i in 0..12 {
            let k = format!("site/css/{i:02} x+y.css");
            t.put_with(&k, b"a{}", |r| {
                r.content_type("text/plain").content_encoding("UTF-8")
            });
            css.insert(k);
        }
        for i in 0..8 {
            t.put_with(&format!("site/js/{i}.js"), b"f()", |r| {
                r.content_type("binary/octet-stream")
            });
        }
        for i in 0..6 {
            t.put_with(&format!("site/img/é{i}.png"), b"\x89PNG", |r| {
                r.content_type("text/plain")
                    .content_encoding("ANSI_X3.4-1968")
                    .cache_control("max-age=600")
            });
        }
        // Old s3cmd's attributes differ per object: groups of one, so direct.
        for i in 0..3 {
            t.put_with(&format!("site/old/{i}.css"), b"b{}", |r| {
                r.content_type("text/plain")
                    .metadata("s3cmd-attrs", format!("mtime:{i}|md5:{i}"))
            });
        }
        // Two objects in a group too small for a job.
        for i in 0..2 {
            t.put_with(&format!("site/fonts/{i}.woff2"), b"wOF2", |r| {
                r.content_type("text/plain").content_language("de")
            });
        }
        t.put_with("site/ok.css", b"c{}", |r| {
            r.content_type("text/css; charset=utf-8")
        });
        let dir = t.home().join("plan");
        let d = dir.to_str().unwrap();
        t.proxy.clear();
        let out = t.repair(
            "site/",
            &[
                "--batch-plan",
                d,
                "--batch-role",
                "arn:aws:iam::123456789012:role/s3site-batch",
                "--batch-report",
                "s3://ops-bucket/s3site/",
                "--batch-min-group",
                "5",
            ],
        );
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("3 job(s) for 26 objects, 5 objects in direct.csv"),
            "{}",
            stdout(&out)
        );
        assert!(
            !t.proxy.requests().iter().any(|r| r.is_write()),
            "{:?}",
            t.proxy.requests()
        );
        // The job files are valid CreateJob requests.
        let jobs: Vec<String> = (1..=3).map(|i| format!("{d}/job-{i:03}.json")).collect();
        let v = std::process::Command::new(botocore_python())
            .arg(root().join("scripts/validate-batch-job.py"))
            .args(&jobs)
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "{}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
        // Each manifest parses back to its keys, its MD5 is the ETag its job names.
        let mut planned = BTreeSet::new();
        for (i, job) in jobs.iter().enumerate() {
            let spec: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(job).unwrap()).unwrap();
            let csv_path = format!("{d}/job-{:03}.csv", i + 1);
            let bytes = std::fs::read(&csv_path).unwrap();
            assert_eq!(
                spec["Manifest"]["Location"]["ETag"],
                crate::util::md5_hex(&bytes)
            );
            assert_eq!(
                spec["Manifest"]["Location"]["ObjectArn"],
                format!("arn:aws:s3:::ops-bucket/s3site/job-{:03}.csv", i + 1)
            );
            let op = &spec["Operation"]["S3PutObjectCopy"];
            assert!(
                op["NewObjectMetadata"].get("ContentEncoding").is_none(),
                "{op}"
            );
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(&bytes[..]);
            for row in r.records() {
                let row = row.unwrap();
                assert_eq!(&row[0], t.bucket.as_str());
                let key = s3site::content::key::url_decode(&row[1]).unwrap();
                assert!(planned.insert(key));
            }
        }
        assert!(css.iter().all(|k| planned.contains(k)), "{planned:?}");
        assert_eq!(planned.len(), 26);
        let direct = std::fs::read_to_string(format!("{d}/direct.csv")).unwrap();
        assert_eq!(direct.lines().count(), 5, "{direct}");
        assert!(
            direct.contains("x-amz-meta-s3cmd-attrs is its own"),
            "{direct}"
        );
        let md = std::fs::read_to_string(format!("{d}/plan.md")).unwrap();
        assert!(
            md.contains("aws s3control create-job --cli-input-json file://"),
            "{md}"
        );
        assert!(md.contains("--keys-from"), "{md}");
        // The rest is repaired directly from direct.csv.
        let out = t.repair("site/", &["--keys-from", &format!("{d}/direct.csv")]);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("repaired 5, right 0"),
            "{}",
            stdout(&out)
        );
        // Before the jobs ran, --batch-verify finds their objects unchanged.
        let out = t.repair_cmd("site/").args(["--batch-verify", d]).expect(1);
        let text = stdout(&out);
        let unchanged = "objects sampled do not have the job's headers";
        assert_eq!(text.matches(unchanged).count(), 3, "{text}");
        assert!(
            text.contains("Content-Encoding: UTF-8 (the job sets (none))"),
            "{text}"
        );
        // What a job does, done here by the direct path from the same manifests.
        for i in 1..=3 {
            let m = format!("{d}/job-{i:03}.csv");
            assert_exit(&t.repair("site/", &["--keys-from", &m]), 0);
        }
        let out = t
            .repair_cmd("site/")
            .args(["--batch-verify", d, "--batch-sample", "5"])
            .expect(0);
        let text = stdout(&out);
        let right = "objects sampled, all have the job's headers";
        assert_eq!(text.matches(right).count(), 3, "{text}");
        assert!(text.contains("5 of 12 objects sampled"), "{text}");
        // A plan is written into a new folder only, before any request.
        t.proxy.clear();
        let out = t
            .repair_cmd("site/")
            .args([
                "--batch-plan",
                d,
                "--batch-role",
                "arn:aws:iam::123456789012:role/r",
                "--batch-report",
                "s3://ops/",
            ])
            .expect(2);
        assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
        assert!(t.proxy.requests().is_empty());
    });
}

/// A job with every field s3site can set (SSE-KMS, a canned ACL, Expires, a storage class, a
/// redirect, user metadata) is valid against the model too.
#[test]
fn every_field_a_job_can_carry_is_valid_against_the_api_model() {
    use s3site::content::header::Header;
    use s3site::content::placement::{Acl, Encryption};
    use s3site::plan::batch::{JobSpec, Route, create_job, route};
    let mut headers = s3site::content::header::ObjectHeaders::default()
        .with(Header::ContentType, "text/html; charset=utf-8")
        .with(Header::CacheControl, "max-age=60")
        .with(Header::ContentDisposition, "inline")
        .with(Header::ContentLanguage, "de")
        .with(Header::Expires, "Wed, 21 Oct 2015 07:28:00 GMT")
        .with(Header::WebsiteRedirect, "/new/");
    headers.metadata.insert("owner".into(), "web".into());
    let copy = s3site::store::CopyInPlace {
        key: "a.html".into(),
        if_match: s3site::content::etag::ETag::parse("\"0123456789abcdef0123456789abcdef\""),
        size: 10,
        headers,
        storage_class: Some("STANDARD_IA".into()),
        encryption: Encryption::Kms {
            algorithm: "aws:kms".into(),
            key_id: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            bucket_key: true,
        },
        tag_count: 0,
    };
    let Route::Batch(target) = route(&copy, Some(&Acl::Canned("public-read".into()))) else {
        panic!("direct");
    };
    let spec = JobSpec {
        account_id: "123456789012".into(),
        role_arn: "arn:aws:iam::123456789012:role/batch".into(),
        bucket: "site".into(),
        report_bucket: "ops".into(),
        report_prefix: String::new(),
        priority: 10,
        confirm: false,
        unmodified_since: "2026-12-02T01:00:00Z".into(),
    };
    let job = create_job(
        &target,
        &spec,
        "m.csv",
        "0123456789abcdef0123456789abcdef",
        1,
        "tok",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.json");
    std::fs::write(&path, job.to_string()).unwrap();
    let v = std::process::Command::new(botocore_python())
        .arg(root().join("scripts/validate-batch-job.py"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    // And the validator can fail: a value outside an enum.
    std::fs::write(&path, job.to_string().replace("\"KMS\"", "\"aws:kms\"")).unwrap();
    let v = std::process::Command::new(botocore_python())
        .arg(root().join("scripts/validate-batch-job.py"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        !v.status.success(),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
}
