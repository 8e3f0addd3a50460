//! What uploads keep and set besides the body: the ACL, storage class, encryption, tags and
//! website redirect of the object they replace; `--acl`, `--storage-class`, `--sse`; and
//! s3cmd's filters.

use crate::util::{Capability, assert_exit, each_server, each_server_with, stderr, stdout};
use aws_sdk_s3::types::{ObjectCannedAcl, ServerSideEncryption as Sse, StorageClass};

#[test]
fn a_replaced_object_keeps_its_acl_storage_class_encryption_tags_and_redirect() {
    // Storage class, SSE-S3 and tags on both servers; the ACL, SSE-KMS and the redirect where
    // the server has them (moto; see the README's table).
    each_server("keep-on-reupload", |t| {
        let (acls, kms) = (t.has(Capability::HasAcls), t.has(Capability::HasKms));
        let redirect = t.has(Capability::StoresWebsiteRedirect);
        t.put_with("index.html", b"<p>old</p>", |r| {
            let r = r
                .content_type("text/html")
                .storage_class(StorageClass::StandardIa)
                .tagging("team=web&env=prod")
                .website_redirect_location("/elsewhere/");
            let r = if acls {
                r.acl(ObjectCannedAcl::PublicRead)
            } else {
                r
            };
            if kms {
                r.server_side_encryption(Sse::AwsKms)
                    .ssekms_key_id("site-key")
            } else {
                r.server_side_encryption(Sse::Aes256)
            }
        });
        let acl_before = acls.then(|| t.acl("index.html"));
        if let Some(acl) = &acl_before {
            assert!(acl.iter().any(|g| g.contains("AllUsers")), "{acl:?}");
        }
        t.write("index.html", "<p>new</p>");
        t.write("new.html", "<p>brand new</p>");
        t.proxy.clear();
        assert_exit(&t.sync("", &[]), 0);
        assert_eq!(t.get("index.html"), b"<p>new</p>");
        if let Some(acl) = acl_before {
            assert_eq!(t.acl("index.html"), acl, "still public");
            assert!(!t.acl("new.html").iter().any(|g| g.contains("AllUsers")));
        }
        let h = t.head_full("index.html");
        assert_eq!(h.storage_class(), Some(&StorageClass::StandardIa));
        if kms {
            assert_eq!(h.server_side_encryption(), Some(&Sse::AwsKms));
            assert_eq!(h.ssekms_key_id(), Some("site-key"));
        } else {
            assert_eq!(h.server_side_encryption(), Some(&Sse::Aes256));
        }
        if redirect {
            assert_eq!(h.website_redirect_location(), Some("/elsewhere/"));
        }
        assert_eq!(t.tags("index.html"), ["env=prod", "team=web"]);
        // One HEAD, for the replaced object only: the new file costs nothing.
        let heads = t.proxy.requests().iter().filter(|s| s.is_head()).count();
        assert_eq!(heads, 1);

        // --no-keep: the upload gets the bucket's defaults.
        t.write("index.html", "<p>newer</p>");
        assert_exit(&t.sync("", &["--no-keep"]), 0);
        assert_eq!(t.head_full("index.html").storage_class(), None);
        if acls {
            assert!(!t.acl("index.html").iter().any(|g| g.contains("AllUsers")));
        }
    });
}

#[test]
fn a_no_op_makes_only_the_listing() {
    each_server("keep-no-op", |t| {
        t.copy_fixture_site();
        assert_exit(&t.sync("", &[]), 0);
        t.proxy.clear();
        assert_exit(&t.sync("", &[]), 0);
        let seen = t.proxy.requests();
        assert!(seen.iter().all(|s| s.is_list()), "{seen:?}");
    });
}

#[test]
fn acl_storage_class_and_sse_flags_apply_to_uploads() {
    each_server_with(Capability::HasAcls, "placement-flags", |t| {
        t.write("a.html", "<p>a</p>");
        t.write("b.css", "b{}");
        assert_exit(
            &t.sync(
                "",
                &["-P", "--storage-class", "STANDARD_IA", "--sse", "AES256"],
            ),
            0,
        );
        for key in ["a.html", "b.css"] {
            assert!(t.acl(key).iter().any(|g| g.contains("AllUsers")), "{key}");
            let h = t.head_full(key);
            assert_eq!(h.storage_class(), Some(&StorageClass::StandardIa), "{key}");
            assert_eq!(h.server_side_encryption(), Some(&Sse::Aes256), "{key}");
        }
        // A flag wins over what is kept.
        t.write("a.html", "<p>a2</p>");
        assert_exit(
            &t.sync("", &["--acl", "private", "--storage-class", "STANDARD"]),
            0,
        );
        assert!(!t.acl("a.html").iter().any(|g| g.contains("AllUsers")));
    });
}

#[test]
fn rules_set_acl_storage_class_and_expires_per_path() {
    each_server_with(Capability::HasAcls, "placement-rules", |t| {
        let config = t.site().parent().unwrap().join("rules.toml");
        std::fs::write(
            &config,
            "[[rule]]\nmatch = \"public/**\"\nacl = \"public-read\"\nstorage_class = \
             \"STANDARD_IA\"\nexpires = \"Wed, 21 Oct 2026 07:28:00 GMT\"\n",
        )
        .unwrap();
        t.write("public/a.html", "<p>a</p>");
        t.write("private/b.html", "<p>b</p>");
        let config = config.to_str().unwrap();
        assert_exit(&t.sync("", &["--config", config]), 0);
        assert!(
            t.acl("public/a.html")
                .iter()
                .any(|g| g.contains("AllUsers"))
        );
        assert!(
            !t.acl("private/b.html")
                .iter()
                .any(|g| g.contains("AllUsers"))
        );
        let h = t.head_full("public/a.html");
        assert_eq!(h.storage_class(), Some(&StorageClass::StandardIa));
        assert_eq!(h.expires_string(), Some("Wed, 21 Oct 2026 07:28:00 GMT"));
        let explain = t
            .cmd()
            .no_endpoint()
            .args(["explain", "public/a.html", "--config", config])
            .expect(0);
        assert!(
            stdout(&explain).contains("Expires: Wed, 21 Oct 2026 07:28:00 GMT (rule #1)"),
            "{}",
            stdout(&explain)
        );
    });
}

#[test]
fn filters_from_files_and_include_work_as_in_s3cmd() {
    each_server("filters", |t| {
        t.write("index.html", "<p>hi</p>");
        t.write("blog/a.html", "<p>a</p>");
        t.write("blog/a.psd", "layers");
        t.write("drafts/d.html", "<p>draft</p>");
        t.write("raw/x.bin", "x");
        let dir = t.site().parent().unwrap().to_path_buf();
        std::fs::write(
            dir.join("exclude.txt"),
            "# s3cmd style\n\n*.psd\ndrafts\nraw/*\n",
        )
        .unwrap();
        std::fs::write(dir.join("include.txt"), "raw/keep.bin\n").unwrap();
        t.write("raw/keep.bin", "kept");
        let out = t
            .sync_cmd("")
            .arg("--exclude-from")
            .arg(dir.join("exclude.txt"))
            .arg("--include-from")
            .arg(dir.join("include.txt"))
            .expect(0);
        assert_eq!(
            t.keys(),
            ["blog/a.html", "index.html", "raw/keep.bin"],
            "{}",
            stdout(&out)
        );
        // --exclude '*' --include '*.html': only the pages.
        t.put("stray.css", b"s");
        let out = t
            .sync_cmd("")
            .args(["--exclude", "*", "--include", "*.html", "--delete"])
            .expect(0);
        assert!(
            t.keys().contains(&"drafts/d.html".to_string()),
            "{}",
            stdout(&out)
        );
        assert!(
            t.keys().contains(&"stray.css".to_string()),
            "an excluded key is never deleted"
        );
    });
}

#[test]
fn bad_placement_and_filter_input_is_refused_before_any_request() {
    each_server("placement-bad-input", |t| {
        t.write("index.html", "<p>hi</p>");
        for (args, needle) in [
            (
                &["--acl", "world-writable"][..],
                "acl 'world-writable' is not one of",
            ),
            (
                &["--storage-class", "COLD"][..],
                "storage class 'COLD' is not one of",
            ),
            (
                &["--sse", "rot13"][..],
                "server-side encryption 'rot13' is not one of",
            ),
            (
                &["--sse-kms-key-id", "k"][..],
                "--sse-kms-key-id needs --sse aws:kms",
            ),
            (
                &["--exclude-from", "/nonexistent/list"][..],
                "--exclude-from: cannot read",
            ),
            (&["--include", "a["][..], "invalid --include glob 'a['"),
        ] {
            t.proxy.clear();
            let out = t.sync_cmd("").args(args).expect(2);
            let err = stderr(&out);
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(err.contains(needle), "{args:?}: {err}");
            assert!(
                t.proxy.requests().is_empty(),
                "{args:?}: {:?}",
                t.proxy.requests()
            );
        }
    });
}

#[test]
fn the_site_s_s3siteignore_excludes_in_gitignore_syntax_and_is_never_deleted() {
    each_server("s3siteignore", |t| {
        t.write(
            ".s3siteignore",
            "# not for the web\n/notes/\n*.log\n!public.log\n",
        );
        t.write("index.html", "<p>hi</p>");
        t.write("notes/todo.html", "<p>todo</p>");
        t.write("blog/notes/ok.html", "<p>ok</p>");
        t.write("debug.log", "x");
        t.write("public.log", "y");
        t.put("notes/remote.html", b"kept remotely");
        t.sync_cmd("").arg("--delete").expect(0);
        assert_eq!(
            t.keys(),
            [
                "blog/notes/ok.html",
                "index.html",
                "notes/remote.html",
                "public.log"
            ]
        );
    });
}

#[test]
fn an_s3cmd_flag_names_its_replacement() {
    each_server("s3cmd-flags", |t| {
        t.write("index.html", "<p>hi</p>");
        for (flag, needle) in [
            ("--delete-removed", "use --delete"),
            ("--cf-invalidate", "use --cloudfront DIST_ID"),
            ("--server-side-encryption", "use --sse AES256"),
            ("--add-header=Cache-Control:max-age=60", "s3site.toml"),
        ] {
            let out = t.sync_cmd("").arg(flag).expect(2);
            let err = stderr(&out);
            assert_eq!(err.lines().count(), 1, "{flag}: {err}");
            assert!(err.contains(needle), "{flag}: {err}");
            assert!(t.keys().is_empty());
        }
    });
}

/// Under a bucket's SSE-KMS default no ETag is the MD5 (the proxy gives the ETags AWS would;
/// moto's are the MD5): each upload stores its MD5, the next run decides each object with one
/// HEAD and remembers what it proved, and the run after makes only the LIST.
#[test]
fn a_kms_bucket_costs_one_head_per_object_once() {
    each_server_with(Capability::HasKms, "kms-default", |t| {
        t.sdk(async |c, b| {
            use aws_sdk_s3::types::{
                ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
                ServerSideEncryptionRule,
            };
            let by_default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(Sse::AwsKms)
                .build()
                .unwrap();
            let rule = ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .build();
            let conf = ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .unwrap();
            c.put_bucket_encryption()
                .bucket(b)
                .server_side_encryption_configuration(conf)
                .send()
                .await
                .unwrap();
        });
        t.proxy
            .fault(|_| true, crate::util::proxy::FaultKind::KmsEtags, None);
        t.write("index.html", "<p>home</p>");
        t.write("a.css", "body{}");
        // Old enough for the hash cache to remember them (not files changed in the last 2 s).
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("uploaded 2"), "{}", stdout(&out));
        let stored = t.head("a.css").unwrap().metadata.get("md5chksum").cloned();
        assert_eq!(
            stored,
            Some(s3site::content::etag::to_base64(
                &s3site::content::digest::md5_of(b"body{}")
            )),
            "the MD5 is stored: the ETag will not be it"
        );

        t.proxy.clear();
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        assert_eq!(
            t.proxy.writes(),
            [],
            "nothing re-uploaded: {}",
            stdout(&out)
        );
        assert!(stdout(&out).contains("unchanged 2"), "{}", stdout(&out));
        let heads = t.proxy.requests().iter().filter(|r| r.is_head()).count();
        assert_eq!(
            heads,
            2,
            "one HEAD per object decides: {:?}",
            t.proxy.requests()
        );

        t.proxy.clear();
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("unchanged 2"), "{}", stdout(&out));
        assert!(
            t.proxy.only_lists(),
            "what the HEADs proved is remembered: only the LIST: {:?}",
            t.proxy.requests()
        );
    });
}
