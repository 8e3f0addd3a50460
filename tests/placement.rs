//! What uploads keep and set besides the body: the ACL, storage class, encryption, tags and
//! website redirect of the object they replace; `--acl`, `--storage-class`, `--sse`; and
//! s3cmd's filters.

use crate::util::{Capability, assert_exit, each_server, each_server_with, stderr, stdout};
use aws_sdk_s3::types::{ObjectCannedAcl, ServerSideEncryption as Sse, StorageClass};

#[test]
fn a_replaced_object_keeps_its_acl_storage_class_encryption_tags_and_redirect() {
    // moto keeps object ACLs and SSE-KMS; SeaweedFS has neither (see the README's table).
    each_server_with(Capability::HasAcls, "keep-on-reupload", |t| {
        t.put_with("index.html", b"<p>old</p>", |r| {
            r.content_type("text/html")
                .acl(ObjectCannedAcl::PublicRead)
                .storage_class(StorageClass::StandardIa)
                .tagging("team=web&env=prod")
                .server_side_encryption(Sse::AwsKms)
                .ssekms_key_id("site-key")
                .website_redirect_location("/elsewhere/")
        });
        let acl_before = t.acl("index.html");
        assert!(
            acl_before.iter().any(|g| g.contains("AllUsers")),
            "{acl_before:?}"
        );
        t.write("index.html", "<p>new</p>");
        t.write("new.html", "<p>brand new</p>");
        t.proxy.clear();
        assert_exit(&t.sync("", &[]), 0);
        assert_eq!(t.get("index.html"), b"<p>new</p>");
        assert_eq!(t.acl("index.html"), acl_before, "still public");
        let h = t.head_full("index.html");
        assert_eq!(h.storage_class(), Some(&StorageClass::StandardIa));
        assert_eq!(h.server_side_encryption(), Some(&Sse::AwsKms));
        assert_eq!(h.ssekms_key_id(), Some("site-key"));
        assert_eq!(h.website_redirect_location(), Some("/elsewhere/"));
        assert_eq!(t.tags("index.html"), ["env=prod", "team=web"]);
        // A new file keeps nothing: no ACL header, no extra request.
        assert!(!t.acl("new.html").iter().any(|g| g.contains("AllUsers")));
        let heads = t.proxy.requests().iter().filter(|s| s.is_head()).count();
        assert_eq!(heads, 1, "one HEAD, for the replaced object only");

        // --no-keep: the upload gets the bucket's defaults.
        t.write("index.html", "<p>newer</p>");
        assert_exit(&t.sync("", &["--no-keep"]), 0);
        assert!(!t.acl("index.html").iter().any(|g| g.contains("AllUsers")));
        assert_eq!(t.head_full("index.html").storage_class(), None);
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
