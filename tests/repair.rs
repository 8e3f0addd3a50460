//! `s3site repair` and `sync --repair` against real servers: a bucket left the way old s3cmd
//! left it, checked with HEAD, GET, tags and ACLs before and after.

use crate::util::{
    Capability, TestEnv, assert_exit, each_server, each_server_with, files_under, md5_hex, stdout,
};
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ObjectCannedAcl, StorageClass};

const GZIP_CSS: &[u8] = &[
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0xca, 0x4f, 0xa9, 0xac, 0xae,
    0xad, 0x05, 0x00, 0x4d, 0x6b, 0x05, 0x3b, 0x06, 0x00, 0x00, 0x00,
];

/// Everything a repair must keep, from a HEAD: all but Content-Type and Content-Encoding.
fn kept(h: &HeadObjectOutput) -> String {
    format!(
        "etag={:?} len={:?} cache={:?} disp={:?} lang={:?} expires={:?} redirect={:?} meta={:?} \
         class={:?} tags={:?}",
        h.e_tag(),
        h.content_length(),
        h.cache_control(),
        h.content_disposition(),
        h.content_language(),
        h.expires_string(),
        h.website_redirect_location(),
        h.metadata()
            .map(|m| m.iter().collect::<std::collections::BTreeMap<_, _>>()),
        h.storage_class(),
        h.tag_count(),
    )
}

/// A bucket as old s3cmd and friends left it, under `blog/`, plus a neighbour `blog-old/`.
fn seed_old_s3cmd_bucket(t: &TestEnv) {
    t.put_with("blog/index.html", "<p>grüß</p>".as_bytes(), |r| {
        r.content_type("text/html")
            .content_encoding("UTF-8")
            .cache_control("public, max-age=60")
            .content_disposition("inline")
            .content_language("de")
            .expires(aws_sdk_s3::primitives::DateTime::from_secs(1_445_412_480))
            .website_redirect_location("/blog/new/")
            .metadata("owner", "web")
            .storage_class(StorageClass::StandardIa)
            .tagging("team=web&env=prod")
            .acl(ObjectCannedAcl::PublicRead)
    });
    t.put_with("blog/css/site.css", b"body{color:red}", |r| {
        r.content_type("text/x-asm")
            .content_encoding("ANSI_X3.4-1968")
            .cache_control("max-age=31536000")
    });
    t.put_with("blog/js/app.js", b"console.log(1)", |r| {
        r.content_type("binary/octet-stream")
    });
    t.put_with("blog/legacy.txt", b"caf\xe9", |r| {
        r.content_type("text/plain").content_encoding("UTF-8")
    });
    t.put_with("blog/fake.html", b"<p>plain</p>", |r| {
        r.content_type("text/html; charset=utf-8")
            .content_encoding("gzip")
    });
    t.put_with("blog/real.css", GZIP_CSS, |r| {
        r.content_type("text/css; charset=utf-8")
            .content_encoding("gzip")
    });
    t.put_with("blog/ok.css", b"a{}", |r| {
        r.content_type("text/css; charset=utf-8")
    });
    t.put_with("blog/CNAME", b"example.com", |r| {
        r.content_type("text/plain")
    });
    t.put_with("blog-old/site.css", b"old{}", |r| {
        r.content_type("text/plain").content_encoding("UTF-8")
    });
}

/// (key, Content-Type, Content-Encoding) after the repair.
const REPAIRED: &[(&str, &str, Option<&str>)] = &[
    ("blog/index.html", "text/html; charset=utf-8", None),
    ("blog/css/site.css", "text/css; charset=utf-8", None),
    ("blog/js/app.js", "text/javascript; charset=utf-8", None),
    // Latin-1 bytes: the bogus encoding goes, but no utf-8 charset is claimed.
    ("blog/legacy.txt", "text/plain", None),
    // A gzip claim on plain bytes fails the page in a browser: removed.
    ("blog/fake.html", "text/html; charset=utf-8", None),
    // Real gzip bytes: kept.
    ("blog/real.css", "text/css; charset=utf-8", Some("gzip")),
    ("blog/ok.css", "text/css; charset=utf-8", None),
    // No extension: the type it has is left alone.
    ("blog/CNAME", "text/plain", None),
];

const FIXED: &[&str] = &[
    "blog/css/site.css",
    "blog/fake.html",
    "blog/index.html",
    "blog/js/app.js",
    "blog/legacy.txt",
];

#[test]
fn repair_fixes_old_s3cmd_headers_in_place_and_keeps_everything_else() {
    each_server("repair-in-place", |t| {
        seed_old_s3cmd_bucket(t);
        let before: Vec<(String, String, Vec<u8>, Vec<String>)> = REPAIRED
            .iter()
            .map(|(k, ..)| (k.to_string(), kept(&t.head_full(k)), t.get(k), t.tags(k)))
            .collect();
        let acl_before = t.has(Capability::HasAcls).then(|| t.acl("blog/index.html"));
        let neighbour = kept(&t.head_full("blog-old/site.css"));

        let out = t.repair("blog", &[]);
        assert_exit(&out, 0);
        let text = stdout(&out);
        assert!(
            text.contains("repaired 5, right 3, skipped 0, failed 0"),
            "{text}"
        );

        for ((key, ctype, encoding), (_, kept_before, body, tags)) in REPAIRED.iter().zip(&before) {
            let h = t.head_full(key);
            assert_eq!(h.content_type(), Some(*ctype), "{key}");
            assert_eq!(h.content_encoding(), *encoding, "{key}");
            assert_eq!(&kept(&h), kept_before, "{key}: everything else is kept");
            assert_eq!(&t.get(key), body, "{key}: body");
            assert_eq!(&t.tags(key), tags, "{key}: tags");
        }
        let h = t.head_full("blog/index.html");
        assert_eq!(h.cache_control(), Some("public, max-age=60"));
        assert_eq!(h.storage_class(), Some(&StorageClass::StandardIa));
        assert_eq!(t.tags("blog/index.html"), ["env=prod", "team=web"]);
        if let Some(acl) = acl_before {
            // moto keeps object ACLs (SeaweedFS buckets are BucketOwnerEnforced: no ACLs).
            assert!(acl.iter().any(|g| g.contains("AllUsers:READ")), "{acl:?}");
            assert_eq!(
                t.acl("blog/index.html"),
                acl,
                "a public object stays public"
            );
        }
        // The neighbour prefix is not touched.
        assert_eq!(kept(&t.head_full("blog-old/site.css")), neighbour);
        assert_eq!(
            t.head_full("blog-old/site.css").content_encoding(),
            Some("UTF-8")
        );

        // Only copies of the objects to fix were written, one each; nothing was downloaded
        // whole (GETs are ranged reads of objects whose charset had to be checked).
        let mut copied: Vec<String> = t
            .proxy
            .writes()
            .iter()
            .map(|w| {
                assert!(w.is_copy_object(), "only CopyObject writes: {w:?}");
                w.path
                    .trim_start_matches(&format!("/{}/", t.bucket))
                    .to_string()
            })
            .collect();
        copied.sort();
        assert_eq!(copied, FIXED);

        // A second repair finds nothing to do and writes nothing.
        t.proxy.clear();
        let again = t.repair("blog", &[]);
        assert_exit(&again, 0);
        assert!(
            stdout(&again).contains("repaired 0, right 8"),
            "{}",
            stdout(&again)
        );
        assert!(t.proxy.writes().is_empty(), "{:?}", t.proxy.writes());
    });
}

#[test]
fn repair_dry_run_is_an_audit_that_writes_nothing() {
    each_server("repair-dry-run", |t| {
        seed_old_s3cmd_bucket(t);
        let out = t.repair("blog", &["--dry-run"]);
        assert_exit(&out, 0);
        let text = stdout(&out);
        assert!(
            text.contains(
                "repair blog/css/site.css (Content-Type: 'text/x-asm' -> 'text/css; \
                 charset=utf-8'; Content-Encoding: 'ANSI_X3.4-1968' -> (none))"
            ),
            "{text}"
        );
        assert!(
            text.contains("dry run, nothing written: would have repaired 5"),
            "{text}"
        );
        assert!(t.proxy.writes().is_empty(), "{:?}", t.proxy.writes());
        assert_eq!(
            t.head_full("blog/css/site.css").content_encoding(),
            Some("ANSI_X3.4-1968")
        );

        let guard = t.repair("blog", &["--dry-run", "--fail-on-drift"]);
        assert_exit(&guard, 1);

        let json = t.repair("blog", &["--dry-run", "--output", "json"]);
        assert_exit(&json, 0);
        let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(doc["command"], "repair");
        assert_eq!(doc["totals"]["repaired"], 5);
        let actions = doc["actions"].as_array().unwrap();
        let css = actions
            .iter()
            .find(|a| a["key"] == "blog/css/site.css")
            .unwrap();
        assert_eq!(css["action"], "repair");
        assert_eq!(css["result"], "planned");
        assert_eq!(
            css["changes"],
            serde_json::json!([
                {"header": "Content-Type", "before": "text/x-asm", "after": "text/css; charset=utf-8"},
                {"header": "Content-Encoding", "before": "ANSI_X3.4-1968", "after": null},
            ])
        );
        assert!(t.proxy.writes().is_empty());
    });
}

#[test]
fn repair_does_not_clobber_an_object_overwritten_after_it_was_read() {
    each_server_with(Capability::HonoursCopyIfMatch, "repair-race", |t| {
        t.put_with("site.css", b"body{}", |r| {
            r.content_type("text/plain").content_encoding("UTF-8")
        });
        // A writer replaces the object between s3site's HEAD and its copy.
        let writer = t.direct_client();
        let bucket = t.bucket.clone();
        t.proxy.before_copy(move |_| {
            tokio::runtime::Handle::current()
                .block_on(
                    writer
                        .put_object()
                        .bucket(&bucket)
                        .key("site.css")
                        .body(ByteStream::from_static(b"body{color:blue}"))
                        .content_type("text/css")
                        .send(),
                )
                .unwrap();
        });
        let out = t.repair("", &[]);
        assert_exit(&out, 0);
        let text = stdout(&out);
        assert!(text.contains("skipped: repair site.css"), "{text}");
        assert!(text.contains("changed since it was read"), "{text}");
        assert!(text.contains("skipped 1"), "{text}");
        assert_eq!(t.get("site.css"), b"body{color:blue}");
        let h = t.head_full("site.css");
        assert_eq!(
            h.content_type(),
            Some("text/css"),
            "the writer's headers stay"
        );
        assert_eq!(h.content_encoding(), None);
    });
}

#[test]
fn sync_repair_fixes_unchanged_objects_left_by_a_bad_uploader_in_one_run() {
    each_server("sync-repair", |t| {
        t.copy_fixture_site();
        // The same bytes, uploaded the old s3cmd way: charset as Content-Encoding, and types
        // from a host table.
        let files: Vec<String> = files_under(&t.site())
            .into_iter()
            .filter(|k| k != ".DS_Store")
            .collect();
        for rel in &files {
            let body = std::fs::read(t.site().join(rel)).unwrap();
            t.put_with(&format!("www/{rel}"), &body, |r| {
                r.content_type("text/plain").content_encoding("UTF-8")
            });
        }
        // Plain sync sees the same bytes everywhere and does nothing, so the bad headers stay.
        let plain = t.sync("www", &[]);
        assert_exit(&plain, 0);
        assert!(t.proxy.writes().is_empty());
        assert!(
            t.proxy.requests().iter().all(|r| r.is_list()),
            "no HEAD without --repair: {:?}",
            t.proxy.requests()
        );

        t.proxy.clear();
        let out = t.sync("www", &["--repair"]);
        assert_exit(&out, 0);
        let writes = t.proxy.writes();
        assert!(
            writes.iter().all(|w| w.is_copy_object()),
            "no upload, only copies: {writes:?}"
        );
        // Every object had a bogus encoding, so every one was copied once. CNAME keeps its
        // type (no extension), but loses the encoding.
        assert_eq!(writes.len(), files.len());
        for (rel, ctype) in crate::sync::FIXTURE_TYPES {
            let key = format!("www/{rel}");
            let h = t.head_full(&key);
            let want = if *rel == "CNAME" {
                "text/plain"
            } else {
                *ctype
            };
            assert_eq!(h.content_type(), Some(want), "{key}");
            assert_eq!(h.content_encoding(), None, "{key}");
            let body = std::fs::read(t.site().join(rel)).unwrap();
            assert_eq!(
                h.e_tag().unwrap().trim_matches('"'),
                md5_hex(&body),
                "{key}"
            );
        }

        t.proxy.clear();
        let again = t.sync("www", &["--repair"]);
        assert_exit(&again, 0);
        assert!(t.proxy.writes().is_empty(), "{:?}", t.proxy.writes());
    });
}

#[test]
fn repair_copies_large_objects_in_parts_and_keeps_their_tags() {
    each_server("repair-multipart", |t| {
        let body = crate::util::body_13mib(251);
        t.put_with("video.mp4", &body, |r| {
            r.content_type("binary/octet-stream")
                .content_encoding("UTF-8")
                .metadata("owner", "web")
                .cache_control("max-age=600")
                .tagging("kind=video")
        });
        let out = t.repair_in_parts();
        assert_exit(&out, 0);
        let part_copies = t
            .proxy
            .requests()
            .iter()
            .filter(|r| r.copy && r.query.contains("uploadId"))
            .count();
        assert_eq!(part_copies, 3, "13 MiB in 6 MiB parts");
        let h = t.head_full("video.mp4");
        assert_eq!(h.content_type(), Some("video/mp4"));
        assert_eq!(h.content_encoding(), None);
        assert_eq!(h.cache_control(), Some("max-age=600"));
        assert_eq!(
            h.metadata().unwrap().get("owner").map(String::as_str),
            Some("web")
        );
        assert_eq!(t.tags("video.mp4"), ["kind=video"]);
        assert_eq!(md5_hex(&t.get("video.mp4")), md5_hex(&body));
    });
}

/// An object overwritten while a repair copies it in parts: every part copy succeeded (they
/// read the old object), but completing would put the old body and headers back over the
/// newer object. The completion carries If-Match, so the writer's object stays.
#[test]
fn a_multipart_repair_never_overwrites_an_object_changed_during_the_copy() {
    each_server_with(
        Capability::HonoursCompleteIfMatch,
        "repair-multipart-race",
        |t| {
            let body = crate::util::body_13mib(251);
            t.put_with("video.mp4", &body, |r| {
                r.content_type("binary/octet-stream")
                    .content_encoding("UTF-8")
            });
            let writer = t.direct_client();
            let bucket = t.bucket.clone();
            t.proxy.before(
                |s| s.method == "POST" && s.query.contains("uploadId"),
                move |_| {
                    tokio::runtime::Handle::current()
                        .block_on(
                            writer
                                .put_object()
                                .bucket(&bucket)
                                .key("video.mp4")
                                .body(ByteStream::from_static(b"newer"))
                                .content_type("video/webm")
                                .send(),
                        )
                        .unwrap();
                },
            );
            let out = t.repair_in_parts();
            assert_exit(&out, 0);
            let text = stdout(&out);
            assert!(text.contains("skipped: repair video.mp4"), "{text}");
            assert!(text.contains("changed since it was read"), "{text}");
            assert!(text.contains("repaired 0"), "{text}");
            assert_eq!(t.get("video.mp4"), b"newer");
            assert_eq!(t.head_full("video.mp4").content_type(), Some("video/webm"));
            let open = t.sdk(async |c, b| {
                c.list_multipart_uploads()
                    .bucket(b)
                    .send()
                    .await
                    .unwrap()
                    .uploads()
                    .len()
            });
            assert_eq!(open, 0, "the copy's upload is aborted");
        },
    );
}

#[test]
fn repair_keeps_encryption_and_leaves_archived_objects_alone() {
    each_server("repair-sse-archive", |t| {
        use aws_sdk_s3::types::ServerSideEncryption as Sse;
        t.put_with("s3.css", b"a{}", |r| {
            r.content_type("text/plain")
                .server_side_encryption(Sse::Aes256)
        });
        // SeaweedFS has no KMS configured here (it answers 500 to aws:kms), so SSE-KMS is
        // checked on moto only.
        let kms = t.has(Capability::HasKms);
        if kms {
            t.put_with("kms.css", b"a{}", |r| {
                r.content_type("text/plain")
                    .server_side_encryption(Sse::AwsKms)
                    .ssekms_key_id("site-key")
                    .bucket_key_enabled(true)
            });
        }
        t.put_with("cold.css", b"a{}", |r| {
            r.content_type("text/plain")
                .storage_class(StorageClass::Glacier)
        });
        let out = t.repair("", &[]);
        assert_exit(&out, 0);
        let text = stdout(&out);
        assert!(
            text.contains("skipped: repair cold.css") && text.contains("archived in GLACIER"),
            "{text}"
        );
        let h = t.head_full("s3.css");
        assert_eq!(h.content_type(), Some("text/css; charset=utf-8"));
        assert_eq!(h.server_side_encryption(), Some(&Sse::Aes256));
        if kms {
            let h = t.head_full("kms.css");
            assert_eq!(h.content_type(), Some("text/css; charset=utf-8"));
            assert_eq!(h.server_side_encryption(), Some(&Sse::AwsKms));
            assert_eq!(h.ssekms_key_id(), Some("site-key"));
            assert_eq!(h.bucket_key_enabled(), Some(true));
        }
        assert_eq!(t.head_full("cold.css").content_type(), Some("text/plain"));
        let copied: Vec<String> = t.proxy.writes().iter().map(|w| w.path.clone()).collect();
        assert!(
            copied.iter().all(|p| !p.ends_with("/cold.css")),
            "an archived object is never written: {copied:?}"
        );
    });
}

#[test]
fn repair_in_a_versioned_bucket_says_old_versions_keep_old_headers() {
    each_server("repair-versions", |t| {
        use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
        t.sdk(async |c, bucket| {
            c.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        });
        t.put_with("index.html", b"<p>hi</p>", |r| {
            r.content_type("text/html").content_encoding("UTF-8")
        });
        let old = t.head_full("index.html").version_id().unwrap().to_string();
        let out = t.repair("", &[]);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("note: the bucket keeps versions"),
            "{}",
            stdout(&out)
        );
        let h = t.head_full("index.html");
        assert_eq!(h.content_encoding(), None);
        assert_ne!(
            h.version_id(),
            Some(old.as_str()),
            "the copy is a new version"
        );
        let old_encoding = t.sdk(async |c, bucket| {
            c.head_object()
                .bucket(bucket)
                .key("index.html")
                .version_id(&old)
                .send()
                .await
                .unwrap()
                .content_encoding()
                .map(str::to_string)
        });
        assert_eq!(old_encoding.as_deref(), Some("UTF-8"));
    });
}
