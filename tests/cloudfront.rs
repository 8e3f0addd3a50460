//! CloudFront invalidation against moto's CloudFront, reached through the recording proxy with
//! `AWS_ENDPOINT_URL_CLOUDFRONT`: exactly the paths a run changed, under the origin path.

use crate::util::proxy::FaultKind;
use crate::util::{Capability, TestEnv, each_server_with, stderr, stdout};

/// `s3site sync SITE s3://BUCKET/live/ --cloudfront DIST ARGS...`, CloudFront through the proxy.
fn sync(t: &TestEnv, dist: &str, args: &[&str]) -> std::process::Output {
    t.sync_cmd("live/")
        .env("AWS_ENDPOINT_URL_CLOUDFRONT", &t.proxy.endpoint)
        .env("S3SITE_CDN_RETRY_MS", "10")
        .args(["--cloudfront", dist])
        .args(args)
        .output()
}

fn site(t: &TestEnv) {
    t.write("index.html", "<p>home</p>");
    t.write("blog/index.html", "<p>blog</p>");
    t.write("blog/myindex.html", "<p>not an index</p>");
    t.write("css/a b.css", "a{}");
    t.write("über.html", "<p>ü</p>");
    t.write("x+y~z.txt", "plus tilde");
    t.write("100%.txt", "percent");
    t.write("q#a?.txt", "hash and question mark");
}

#[test]
fn a_sync_invalidates_exactly_what_it_changed_under_the_origin_path() {
    each_server_with(Capability::HasCloudFront, "cf-sync", |t| {
        let dist = t.create_distribution("/live");
        site(t);
        let out = sync(t, &dist, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let first = [
            "/",
            "/100%25.txt",
            "/blog/",
            "/blog/index.html",
            "/blog/myindex.html",
            "/css/a%20b.css",
            "/index.html",
            "/q%23a%3F.txt",
            "/x+y~z.txt",
            "/%C3%BCber.html",
        ];
        let mut first: Vec<String> = first.iter().map(|p| p.to_string()).collect();
        first.sort();
        assert_eq!(t.invalidations(&dist), [first.clone()]);
        assert!(
            stdout(&out).contains("invalidated 10 path(s) on CloudFront distribution"),
            "{}",
            stdout(&out)
        );

        // An edit and a delete: those two paths (and the edited index's folder), nothing else.
        t.write("blog/index.html", "<p>blog, edited</p>");
        std::fs::remove_file(t.site().join("css/a b.css")).unwrap();
        let out = sync(t, &dist, &["--delete", "--output", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let inv = &doc["invalidations"];
        assert_eq!(inv.as_array().unwrap().len(), 1, "{doc}");
        assert_eq!(inv[0]["distribution"], dist.as_str());
        assert!(inv[0]["id"].is_string(), "{inv}");
        assert_eq!(
            inv[0]["paths"],
            serde_json::json!(["/blog/", "/blog/index.html", "/css/a%20b.css"])
        );
        assert_eq!(t.invalidations(&dist).len(), 2);
        assert_eq!(
            t.invalidations(&dist)[1],
            ["/blog/", "/blog/index.html", "/css/a%20b.css"]
        );

        // A no-op invalidates nothing; a dry run says what it would and sends nothing.
        let out = sync(t, &dist, &["--delete"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(!stdout(&out).contains("invalidat"), "{}", stdout(&out));
        t.write("index.html", "<p>home, edited</p>");
        t.proxy.clear();
        let out = sync(t, &dist, &["--dry-run"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("invalidate /index.html\n") && text.contains("invalidate /\n"),
            "{text}"
        );
        assert_eq!(t.invalidations(&dist).len(), 2, "a dry run sends nothing");
        assert!(
            t.proxy
                .writes()
                .iter()
                .all(|w| !w.path.contains("invalidation")),
            "{:?}",
            t.proxy.writes()
        );
    });
}

#[test]
fn beyond_the_budget_a_folder_wildcard_replaces_its_paths() {
    each_server_with(Capability::HasCloudFront, "cf-budget", |t| {
        let dist = t.create_distribution("/live");
        for i in 0..6 {
            t.write(&format!("docs/p{i}.html"), format!("<p>{i}</p>"));
        }
        t.write("about.html", "<p>about</p>");
        let out = sync(t, &dist, &["--cloudfront-max-paths", "3"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(t.invalidations(&dist), [["/about.html", "/docs/*"]]);
    });
}

#[test]
fn an_unknown_distribution_stops_the_run_before_any_write() {
    each_server_with(Capability::HasCloudFront, "cf-unknown", |t| {
        site(t);
        let out = sync(t, "ENOSUCHDIST1", &[]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("ENOSUCHDIST1") && err.contains("does not exist"),
            "{err}"
        );
        assert!(t.proxy.writes().is_empty(), "{:?}", t.proxy.writes());
        assert!(t.keys().is_empty());
        // A distribution whose origins do not serve this prefix: the same, naming its origins.
        let dist = t.create_distribution("/other");
        let out = sync(t, &dist, &[]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("api.example.com"), "{}", stderr(&out));
        assert!(t.keys().is_empty());
    });
}

#[test]
fn a_busy_cloudfront_is_retried_into_one_invalidation() {
    each_server_with(Capability::HasCloudFront, "cf-busy", |t| {
        let dist = t.create_distribution("/live");
        t.write("index.html", "<p>home</p>");
        t.proxy.fault(
            |s| s.method == "POST" && s.path.ends_with("/invalidation"),
            FaultKind::CloudFrontError(400, "TooManyInvalidationsInProgress"),
            Some(2),
        );
        let out = sync(t, &dist, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(t.proxy.injected(), 2);
        assert_eq!(t.invalidations(&dist), [["/", "/index.html"]]);
        // Busy for good: the content is live, the run exits 1 and says which paths may be stale.
        t.write("index.html", "<p>home, edited</p>");
        t.proxy.fault(
            |s| s.method == "POST" && s.path.ends_with("/invalidation"),
            FaultKind::CloudFrontError(400, "TooManyInvalidationsInProgress"),
            None,
        );
        let out = sync(t, &dist, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("the content is live"),
            "{}",
            stderr(&out)
        );
        assert_eq!(t.get("live/index.html"), b"<p>home, edited</p>");
        assert_eq!(t.invalidations(&dist).len(), 1);
    });
}

#[test]
fn a_repair_invalidates_the_objects_whose_headers_it_fixed() {
    each_server_with(Capability::HasCloudFront, "cf-repair", |t| {
        let dist = t.create_distribution("/live");
        t.put_with("live/s.css", b"body{}", |r| {
            r.content_type("text/css").content_encoding("UTF-8")
        });
        t.put_with("live/ok.css", b"a{}", |r| {
            r.content_type("text/css; charset=utf-8")
        });
        let out = t
            .repair_cmd("live/")
            .env("AWS_ENDPOINT_URL_CLOUDFRONT", &t.proxy.endpoint)
            .args(["--cloudfront", &dist])
            .output();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(t.invalidations(&dist), [["/s.css"]]);
    });
}
