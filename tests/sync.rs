//! `s3site sync` against real servers, checked the way a browser or a user would check it.

use crate::util::{assert_exit, each_server, files_under, md5_hex, stderr, stdout};

/// What a browser must get for each fixture file: (key, Content-Type).
pub(crate) const FIXTURE_TYPES: &[(&str, &str)] = &[
    ("index.html", "text/html; charset=utf-8"),
    ("404.html", "text/html; charset=utf-8"),
    ("blog/index.html", "text/html; charset=utf-8"),
    ("blog/2024/hello/index.html", "text/html; charset=utf-8"),
    ("über-uns/index.html", "text/html; charset=utf-8"),
    ("css/site.css", "text/css; charset=utf-8"),
    ("js/main.js", "text/javascript; charset=utf-8"),
    ("js/app.mjs", "text/javascript; charset=utf-8"),
    ("js/main.js.map", "application/json"),
    ("data/posts.json", "application/json"),
    ("sitemap.xml", "application/xml; charset=utf-8"),
    ("feed.xml", "application/xml; charset=utf-8"),
    ("img/logo.svg", "image/svg+xml"),
    ("img/pixel.png", "image/png"),
    ("img/photo.webp", "image/webp"),
    ("img/hero.avif", "image/avif"),
    ("fonts/inter.woff2", "font/woff2"),
    ("wasm/app.wasm", "application/wasm"),
    ("site.webmanifest", "application/manifest+json"),
    ("robots.txt", "text/plain; charset=utf-8"),
    ("CNAME", "application/octet-stream"),
    ("file with space.txt", "text/plain; charset=utf-8"),
    ("c++/notes+more.txt", "text/plain; charset=utf-8"),
    ("100%.txt", "text/plain; charset=utf-8"),
    ("empty.txt", "text/plain; charset=utf-8"),
    ("legacy-latin1.txt", "text/plain"),
];

#[test]
fn first_sync_uploads_everything_with_correct_headers_and_no_content_encoding() {
    each_server("first-sync", |t| {
        t.copy_fixture_site();
        let out = t.sync("blog", &[]);
        assert_exit(&out, 0);
        let local: Vec<String> = files_under(&t.site())
            .into_iter()
            .filter(|k| k != ".DS_Store")
            .collect();
        assert_eq!(
            local.len(),
            FIXTURE_TYPES.len(),
            "fixture table covers the site"
        );
        let want_keys: Vec<String> = {
            let mut v: Vec<String> = local.iter().map(|k| format!("blog/{k}")).collect();
            v.sort();
            v
        };
        assert_eq!(
            t.keys(),
            want_keys,
            ".DS_Store is not uploaded, everything else is"
        );
        for (rel, ctype) in FIXTURE_TYPES {
            let key = format!("blog/{rel}");
            let head = t.head(&key).unwrap_or_else(|| panic!("{key} missing"));
            assert_eq!(head.content_type.as_deref(), Some(*ctype), "{key}");
            assert_eq!(
                head.content_encoding, None,
                "{key} must have no Content-Encoding"
            );
            let body = std::fs::read(t.site().join(rel)).unwrap();
            assert_eq!(head.etag, md5_hex(&body), "{key} ETag is the file's MD5");
            assert_eq!(t.get(&key), body, "{key} body");
        }
        assert!(
            stdout(&out).contains("upload blog/css/site.css (new)"),
            "{}",
            stdout(&out)
        );
        assert!(stdout(&out).contains("uploaded 26 "), "{}", stdout(&out));
        // Pages go up only after every asset: on the wire, no asset PUT follows a page PUT.
        let puts: Vec<String> = t
            .proxy
            .writes()
            .into_iter()
            .filter(|r| r.method == "PUT")
            .map(|r| r.path)
            .collect();
        assert_eq!(puts.len(), 26);
        let first_page = puts.iter().position(|p| p.ends_with(".html")).unwrap();
        assert!(
            puts[first_page..].iter().all(|p| p.ends_with(".html")),
            "assets before pages: {puts:?}"
        );
    });
}

#[cfg(unix)]
#[test]
fn symlinked_files_are_uploaded_with_their_target_bytes() {
    each_server("symlink", |t| {
        t.write("real/style.css", "a{color:blue}");
        std::os::unix::fs::symlink(t.site().join("real/style.css"), t.site().join("linked.css"))
            .unwrap();
        assert_exit(&t.sync("", &[]), 0);
        assert_eq!(t.get("linked.css"), b"a{color:blue}");
        assert_eq!(
            t.head("linked.css").unwrap().content_type.as_deref(),
            Some("text/css; charset=utf-8")
        );
    });
}

#[test]
fn second_sync_makes_one_list_request_and_nothing_else() {
    each_server("noop-sync", |t| {
        t.copy_fixture_site();
        assert_exit(&t.sync("", &[]), 0);
        t.proxy.clear();
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        let reqs = t.proxy.requests();
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        assert!(reqs[0].is_list(), "{reqs:?}");
        assert!(
            stdout(&out).contains("uploaded 0 (0 B), unchanged 26"),
            "{}",
            stdout(&out)
        );
    });
}

/// The listing is cut into slices at every k-th local key and the slices are listed at once
/// (shown here with 5-key pages): no key before, between or after the cuts is missed, and a
/// no-op still costs exactly ⌈N/page⌉ LIST requests.
#[test]
fn sliced_listing_misses_no_key_and_costs_no_extra_request() {
    each_server("sliced-listing", |t| {
        for i in 0..23 {
            t.write(&format!("p/{i:02}.html"), format!("<p>{i}</p>"));
        }
        let sync = |args: &[&str]| t.sync_env("site/", &[("S3SITE_LIST_PAGE", "5")], args);
        assert_exit(&sync(&[]), 0);
        t.proxy.clear();
        let out = sync(&[]);
        assert_exit(&out, 0);
        let reqs = t.proxy.requests();
        // 23 keys in 5-key pages: 5 slices of one page each, the last open-ended.
        assert_eq!(reqs.len(), 5, "{reqs:?}");
        assert!(reqs.iter().all(|r| r.is_list()), "{reqs:?}");
        assert!(stdout(&out).contains("unchanged 23"), "{}", stdout(&out));
        // Objects the site no longer has: before the first cut, at a slice's start, inside
        // slices, after the last local key; and a neighbour outside the prefix.
        let strays = [
            "site/a.html",
            "site/p/04a.html",
            "site/p/05.html~",
            "site/p/12x/deep.html",
            "site/p/22.htmlz",
            "site/zz/last.html",
        ];
        for k in strays {
            t.put(k, b"old");
        }
        t.put("sites/p/00.html", b"neighbour");
        let out = sync(&["--delete"]);
        assert_exit(&out, 0);
        let keys = t.keys();
        let mut want: Vec<String> = (0..23).map(|i| format!("site/p/{i:02}.html")).collect();
        want.push("sites/p/00.html".to_string());
        want.sort();
        assert_eq!(keys, want, "{}", stdout(&out));
        assert!(
            stdout(&out).contains(&format!("deleted {}", strays.len())),
            "{}",
            stdout(&out)
        );
    });
}

#[test]
fn rebuild_with_same_bytes_and_new_mtimes_uploads_nothing() {
    each_server("rebuild", |t| {
        t.copy_fixture_site();
        assert_exit(&t.sync("", &[]), 0);
        // A rebuild: every file rewritten with the same bytes, and an mtime an hour later.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        for rel in files_under(&t.site()) {
            let p = t.site().join(&rel);
            let bytes = std::fs::read(&p).unwrap();
            std::fs::write(&p, &bytes).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(later)
                .unwrap();
        }
        t.proxy.clear();
        assert_exit(&t.sync("", &[]), 0);
        assert_eq!(t.proxy.writes(), [], "no write after a rebuild");
    });
}

#[test]
fn same_size_edit_uploads_exactly_that_file() {
    each_server("same-size-edit", |t| {
        t.copy_fixture_site();
        assert_exit(&t.sync("", &[]), 0);
        let css = std::fs::read_to_string(t.site().join("css/site.css")).unwrap();
        let edited = css.replace("max-width:40em", "max-width:41em");
        assert_eq!(css.len(), edited.len());
        t.write("css/site.css", &edited);
        t.proxy.clear();
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        let writes = t.proxy.writes();
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0].method, "PUT");
        assert!(writes[0].path.ends_with("/css/site.css"), "{writes:?}");
        assert!(
            stdout(&out).contains("upload css/site.css (content changed)"),
            "{}",
            stdout(&out)
        );
        assert_eq!(t.get("css/site.css"), edited.as_bytes());
    });
}

/// 64 MiB and more: multipart with 16 MiB parts and a stored MD5; skipped on the next run
/// without any HEAD (its ETag is recomputed locally).
#[test]
fn large_file_is_uploaded_in_parts_once_then_skipped() {
    let body: Vec<u8> = (0..(64 * 1024 * 1024 + 12345u32))
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    each_server("multipart", |t| {
        t.write("video/big.mp4", &body);
        t.write("index.html", "<p>hi</p>");
        assert_exit(&t.sync("", &[]), 0);
        let head = t.head("video/big.mp4").unwrap();
        assert!(
            head.etag.ends_with("-5"),
            "multipart ETag, 5 parts: {}",
            head.etag
        );
        assert_eq!(head.content_type.as_deref(), Some("video/mp4"));
        assert_eq!(head.content_encoding, None);
        assert_eq!(head.content_length, body.len() as i64);
        assert_eq!(
            s3site::content::etag::parse_stored_md5(&head.metadata["md5chksum"]),
            Some(s3site::content::digest::md5_of(&body))
        );
        assert!(t.get("video/big.mp4") == body, "body round-trips");
        t.proxy.clear();
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        let reqs = t.proxy.requests();
        assert_eq!(reqs.len(), 1, "only the LIST: {reqs:?}");
        assert!(stdout(&out).contains("unchanged 2"), "{}", stdout(&out));
    });
}

/// An object uploaded by another tool with another part size and no stored MD5 is compared by
/// learning its part size (HEAD partNumber=1) and re-hashing, not re-uploaded; the next run
/// remembers what that HEAD proved and makes only the LIST.
#[test]
fn foreign_multipart_object_is_compared_without_reupload() {
    let body: Vec<u8> = (0..(12 * 1024 * 1024 + 7u32))
        .map(|i| (i % 253) as u8)
        .collect();
    each_server("foreign-multipart", |t| {
        t.write("data.bin", &body);
        t.put_multipart("data.bin", &body, 5 * 1024 * 1024);
        assert!(t.head("data.bin").unwrap().etag.ends_with("-3"));
        // Old enough for the hash cache to remember it (not a file changed in the last 2 s).
        std::thread::sleep(std::time::Duration::from_millis(2100));
        t.proxy.clear();
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        assert_eq!(t.proxy.writes(), [], "{}", stdout(&out));
        assert!(stdout(&out).contains("unchanged 1"), "{}", stdout(&out));
        assert!(
            t.proxy.requests().iter().any(|r| r.is_head()),
            "the first run asks the object's part size: {:?}",
            t.proxy.requests()
        );
        t.proxy.clear();
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("unchanged 1"), "{}", stdout(&out));
        assert!(
            t.proxy.only_lists(),
            "the proof is remembered: only the LIST, no HEAD: {:?}",
            t.proxy.requests()
        );
        // Same size, other bytes: now it is uploaded, as a changed file.
        let mut other = body.clone();
        other[6 * 1024 * 1024] ^= 0xff;
        t.write("data.bin", &other);
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("upload data.bin (content changed)"),
            "{}",
            stdout(&out)
        );
        assert_eq!(t.head("data.bin").unwrap().etag, md5_hex(&other));
    });
}

#[test]
fn delete_removes_only_what_the_source_no_longer_has() {
    each_server("delete", |t| {
        t.write("index.html", "<p>home</p>");
        t.write("old.html", "<p>old</p>");
        t.write("keep/me.txt", "kept");
        assert_exit(&t.sync("blog", &[]), 0);
        t.put("blog-old/index.html", b"neighbour prefix");
        t.put("outside.txt", b"outside the prefix");
        std::fs::remove_file(t.site().join("old.html")).unwrap();
        std::fs::remove_dir_all(t.site().join("keep")).unwrap();
        // Without --delete nothing goes.
        assert_exit(&t.sync("blog", &[]), 0);
        assert!(t.head("blog/old.html").is_some());
        // Excluded keys are never deleted.
        let out = t.sync("blog", &["--delete", "--exclude", "keep/**"]);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("delete blog/old.html"),
            "{}",
            stdout(&out)
        );
        assert_eq!(
            t.keys(),
            [
                "blog-old/index.html",
                "blog/index.html",
                "blog/keep/me.txt",
                "outside.txt"
            ]
        );
    });
}

#[test]
fn max_delete_refuses_all_deletes_above_the_limit() {
    each_server("max-delete", |t| {
        for i in 0..4 {
            t.write(&format!("p{i}.html"), format!("<p>{i}</p>"));
        }
        assert_exit(&t.sync("", &[]), 0);
        for i in 1..4 {
            std::fs::remove_file(t.site().join(format!("p{i}.html"))).unwrap();
        }
        t.proxy.clear();
        let out = t.sync("", &["--delete", "--max-delete", "2"]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("3 objects would be deleted, more than --max-delete 2"),
            "{}",
            stderr(&out)
        );
        assert_eq!(t.proxy.writes(), []);
        assert_eq!(t.keys().len(), 4);
        assert_exit(&t.sync("", &["--delete", "--max-delete", "3"]), 0);
        assert_eq!(t.keys(), ["p0.html"]);
    });
}

#[test]
fn empty_source_with_delete_deletes_nothing() {
    each_server("empty-source", |t| {
        t.put("index.html", b"live site");
        let out = t.sync("", &["--delete"]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("source folder holds no file"),
            "{}",
            stderr(&out)
        );
        assert_eq!(t.proxy.writes(), []);
        assert_eq!(t.keys(), ["index.html"]);
        // Without --delete an empty folder is simply nothing to do.
        assert_exit(&t.sync("", &[]), 0);
    });
}

#[test]
fn dry_run_writes_nothing_and_prints_the_plan() {
    each_server("dry-run", |t| {
        t.copy_fixture_site();
        t.put("stale.html", b"stale");
        let out = t.sync("", &["--dry-run", "--delete"]);
        assert_exit(&out, 0);
        assert_eq!(t.proxy.writes(), []);
        assert_eq!(t.keys(), ["stale.html"]);
        let s = stdout(&out);
        assert!(s.contains("upload index.html (new)"), "{s}");
        assert!(s.contains("delete stale.html"), "{s}");
        assert!(s.contains("dry run"), "{s}");
    });
}

#[test]
fn json_output_is_one_document_matching_the_run() {
    each_server("json", |t| {
        t.write("index.html", "<p>home</p>");
        t.write("css/a.css", "a{}");
        assert_exit(&t.sync("", &[]), 0);
        t.write("css/a.css", "a{color:red}");
        t.put("gone.txt", b"x");
        let out = t.sync("", &["--delete", "--output", "json"]);
        assert_exit(&out, 0);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
        assert_eq!(doc["command"], "sync");
        assert_eq!(doc["bucket"], t.bucket.as_str());
        assert_eq!(doc["exit_code"], 0);
        let actions = doc["actions"].as_array().unwrap();
        let find = |k: &str| actions.iter().find(|a| a["key"] == k).unwrap().clone();
        let css = find("css/a.css");
        assert_eq!(css["action"], "upload");
        assert_eq!(css["reason"], "size changed");
        assert_eq!(css["bytes"], 12);
        assert_eq!(css["content_type"], "text/css; charset=utf-8");
        assert_eq!(css["result"], "ok");
        assert_eq!(find("index.html")["action"], "skip");
        assert_eq!(find("gone.txt")["action"], "delete");
        assert_eq!(doc["totals"]["uploaded"], 1);
        assert_eq!(doc["totals"]["unchanged"], 1);
        assert_eq!(doc["totals"]["deleted"], 1);
        assert_eq!(doc["totals"]["failed"], 0);
    });
}

/// `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL` from aws-config's chain work without
/// `--endpoint-url`.
#[test]
fn endpoint_from_environment() {
    each_server("endpoint-env", |t| {
        t.write("index.html", "<p>env</p>");
        for var in ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
            t.proxy.clear();
            t.cmd()
                .no_endpoint()
                .env(var, &t.proxy.endpoint)
                .arg("sync")
                .arg(t.site())
                .arg(t.url(var))
                .arg("--path-style")
                .expect(0);
            assert!(t.head(&format!("{var}/index.html")).is_some(), "{var}");
            assert!(
                !t.proxy.requests().is_empty(),
                "{var}: requests went to the endpoint"
            );
        }
    });
}

#[test]
fn the_hash_cache_never_hides_a_change() {
    each_server("hash-cache", |t| {
        t.write("a.css", "body { color: red }");
        t.write("b.css", "body { color: tan }");
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        for f in ["a.css", "b.css"] {
            let file = std::fs::File::options()
                .write(true)
                .open(t.site().join(f))
                .unwrap();
            file.set_modified(old).unwrap();
        }
        // Files changed in the last 2 s are not cached; let them age.
        std::thread::sleep(std::time::Duration::from_millis(2100));
        assert_exit(&t.sync("", &[]), 0);
        assert_exit(&t.sync("", &[]), 0);
        let home = t.site().parent().unwrap().join("home/.cache/s3site");
        let cached = std::fs::read_dir(&home).unwrap().count();
        assert_eq!(cached, 1, "the cache file is kept outside the site");

        // Same size, old mtime again: only the change time tells. It must be uploaded.
        std::fs::write(t.site().join("a.css"), "body { color: RED }").unwrap();
        let file = std::fs::File::options()
            .write(true)
            .open(t.site().join("a.css"))
            .unwrap();
        file.set_modified(old).unwrap();
        t.proxy.clear();
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("upload a.css (content changed)"),
            "{}",
            stdout(&out)
        );
        assert_eq!(t.get("a.css"), b"body { color: RED }");
        assert_eq!(
            t.proxy
                .requests()
                .iter()
                .filter(|r| r.is_put_object())
                .count(),
            1
        );
    });
}
