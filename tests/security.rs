//! Security properties: secrets never printed, nothing outside DIR read, nothing made public.

use crate::util::{Capability, assert_exit, each_server, each_server_with, stderr, stdout};

const FAKE_TOKEN: &str = "FAKE-SESSION-TOKEN-must-never-be-printed";

#[test]
fn secrets_never_appear_in_output_logs_or_reports() {
    each_server("no-secrets", |t| {
        t.write("index.html", "<p>hi</p>");
        t.write("css/site.css", "body{}");
        let run = |secret: &str, args: &[&str]| {
            t.cmd()
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .env("AWS_SESSION_TOKEN", FAKE_TOKEN)
                .env("S3SITE_LOG", "trace")
                .arg("sync")
                .arg(t.site())
                .arg(t.url(""))
                .args(args)
                .arg("-v")
                .output()
        };
        let wrong = "WRONG-secret-key-must-never-be-printed";
        for (secret, args) in [
            (crate::util::SECRET_KEY, &[][..]),
            (crate::util::SECRET_KEY, &["--output", "json"][..]),
            // SeaweedFS rejects this one, so the error path is covered too.
            (wrong, &[][..]),
            (wrong, &["--output", "json"][..]),
        ] {
            let out = run(secret, args);
            let all = format!("{}{}", stdout(&out), stderr(&out));
            assert!(all.len() > 200, "trace logs were printed");
            for needle in [secret, FAKE_TOKEN] {
                assert!(!all.contains(needle), "{needle} printed with {args:?}");
            }
        }
    });
}

// Unix permissions and symlinks.
#[cfg(unix)]
#[test]
fn symlinks_leading_outside_dir_are_refused_unless_asked_for() {
    each_server("symlink-outside", |t| {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("id_rsa"), "PRIVATE").unwrap();
        std::fs::create_dir(outside.path().join("dir")).unwrap();
        std::fs::write(outside.path().join("dir/notes.txt"), "notes").unwrap();
        t.write("index.html", "<p>hi</p>");
        let sync = |args: &[&str]| t.sync("", args);

        std::os::unix::fs::symlink(outside.path().join("id_rsa"), t.site().join("key.txt"))
            .unwrap();
        let out = sync(&[]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("key.txt") && err.contains("leads outside the source folder"),
            "{err}"
        );
        assert!(t.proxy.requests().is_empty(), "refused before any request");

        std::fs::remove_file(t.site().join("key.txt")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("dir"), t.site().join("docs")).unwrap();
        let out = sync(&[]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains("docs"), "{}", stderr(&out));
        assert!(t.keys().is_empty());

        let out = sync(&["--follow-outside"]);
        assert_exit(&out, 0);
        assert_eq!(t.keys(), ["docs/notes.txt", "index.html"]);
    });
}

#[test]
fn uploads_make_nothing_public() {
    // SeaweedFS buckets are BucketOwnerEnforced: there are no object ACLs to check.
    each_server_with(Capability::HasAcls, "no-acl", |t| {
        t.write("index.html", "<p>hi</p>");
        assert_exit(&t.sync("", &[]), 0);
        let acl = t.acl("index.html");
        assert_eq!(acl.len(), 1, "{acl:?}");
        assert!(acl[0].ends_with(":FULL_CONTROL"), "only the owner: {acl:?}");
        assert!(!acl.iter().any(|g| g.contains("AllUsers")), "{acl:?}");
    });
}
