//! The rules file against real servers: per-path headers, real gzip/br bodies, drift fixed in
//! place by `sync --repair`, compression drift left to a re-upload.

use crate::util::{TestEnv, assert_exit, each_server, md5_hex, stderr, stdout};
use std::io::Read;

const RULES: &str = r#"
exclude = ["drafts/**"]

[[rule]]
match = "**/*.html"
cache_control = "public, max-age=0, must-revalidate"

[[rule]]
match = ["css/**", "**/*.{woff2,avif}"]
cache_control = "public, max-age=31536000, immutable"

[[rule]]
match = "**/*.{html,css,js,mjs,json,svg,xml,txt,wasm}"
compress = "gzip"

[[rule]]
match = "js/*.js"
compress = "br"

[[rule]]
match = "downloads/*"
content_type = "application/vnd.ms-excel"
content_disposition = "attachment"
headers = { "x-amz-meta-owner" = "web" }
"#;

// `downloads/*` gets an explicit type other than application/octet-stream because SeaweedFS
// replaces a stored application/octet-stream with a type guessed from the extension.

/// Writes the rules file next to the site and returns its path.
fn write_rules(t: &TestEnv, text: &str) -> String {
    let p = t.site().parent().unwrap().join("s3site.toml");
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(b, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn local(t: &TestEnv, rel: &str) -> Vec<u8> {
    std::fs::read(t.site().join(rel)).unwrap()
}

/// About 300 KB of text that compresses, but not trivially (bodies over the encoders' 64 KiB
/// input pieces).
fn big_text(seed: u32) -> String {
    (0..12_000u32)
        .map(|i| {
            format!(
                ".c{} {{ margin: {}px }}\n",
                i.wrapping_mul(seed) % 977,
                i % 13
            )
        })
        .collect()
}

fn site_with_extras(t: &TestEnv) {
    t.copy_fixture_site();
    t.write("css/big.css", big_text(7));
    t.write("js/big.js", big_text(11));
    t.write("downloads/report.csv", "a,b\n1,2\n");
    t.write("drafts/secret.html", "<p>not yet</p>");
}

#[test]
fn sync_applies_the_rules_file_and_uploads_real_gzip_and_br() {
    each_server("rules-sync", |t| {
        site_with_extras(t);
        let config = write_rules(t, RULES);
        let out = t.sync("", &["--config", &config]);
        assert_exit(&out, 0);
        assert!(
            !t.keys().iter().any(|k| k.starts_with("drafts/")),
            "the file's exclude applies"
        );

        let revalidate = Some("public, max-age=0, must-revalidate");
        let immutable = Some("public, max-age=31536000, immutable");
        // (key, Cache-Control, Content-Encoding)
        let want = [
            ("index.html", revalidate, Some("gzip")),
            ("blog/2024/hello/index.html", revalidate, Some("gzip")),
            ("css/site.css", immutable, Some("gzip")),
            ("css/big.css", immutable, Some("gzip")),
            ("js/big.js", None, Some("br")),
            ("fonts/inter.woff2", immutable, None),
            ("img/hero.avif", immutable, None),
            ("js/main.js", None, Some("br")),
            // 42 bytes: gzip would make it larger, so it stays plain.
            ("js/app.mjs", None, None),
            ("img/logo.svg", None, Some("gzip")),
            ("img/pixel.png", None, None),
            ("sitemap.xml", None, Some("gzip")),
        ];
        for (key, cache, encoding) in want {
            let h = t.head_full(key);
            assert_eq!(h.cache_control(), cache, "{key}");
            assert_eq!(h.content_encoding(), encoding, "{key}");
            let body = t.get(key);
            assert_eq!(
                h.e_tag().unwrap().trim_matches('"'),
                md5_hex(&body),
                "{key}: the ETag is the MD5 of the stored bytes"
            );
            let decoded = match encoding {
                Some("gzip") => {
                    assert_eq!(&body[..2], &[0x1f, 0x8b], "{key}: real gzip bytes");
                    gunzip(&body)
                }
                Some("br") => unbrotli(&body),
                _ => body,
            };
            assert_eq!(decoded, local(t, key), "{key}: decodes to the local file");
            if encoding.is_some() {
                let meta = h.metadata().unwrap();
                assert_eq!(
                    meta.get("s3site-source-md5").map(String::as_str),
                    Some(md5_hex(&local(t, key)).as_str()),
                    "{key}"
                );
            }
        }
        // The type stays the table's, with its charset, under compression.
        assert_eq!(
            t.head_full("css/site.css").content_type(),
            Some("text/css; charset=utf-8")
        );
        // An empty file does not shrink: plain, and marked so.
        let empty = t.head_full("empty.txt");
        assert_eq!(empty.content_encoding(), None);
        assert_eq!(
            empty
                .metadata()
                .unwrap()
                .get("s3site-compress")
                .map(String::as_str),
            Some("no-gain")
        );
        let dl = t.head_full("downloads/report.csv");
        assert_eq!(dl.content_type(), Some("application/vnd.ms-excel"));
        assert_eq!(dl.content_disposition(), Some("attachment"));
        assert_eq!(
            dl.metadata().unwrap().get("owner").map(String::as_str),
            Some("web")
        );

        // Deterministic compression: the next run uploads nothing and asks nothing but LIST.
        t.proxy.clear();
        let again = t.sync("", &["--config", &config]);
        assert_exit(&again, 0);
        let reqs = t.proxy.requests();
        assert!(reqs.iter().all(|r| r.is_list()), "{reqs:?}");
        // ...and sync --repair finds every header right.
        t.proxy.clear();
        let repair = t.sync("", &["--config", &config, "--repair"]);
        assert_exit(&repair, 0);
        assert!(t.proxy.writes().is_empty(), "{:?}", t.proxy.writes());
    });
}

#[test]
fn a_changed_rule_is_applied_by_sync_repair_with_copies_only() {
    each_server("rules-change", |t| {
        site_with_extras(t);
        let config = write_rules(t, RULES);
        assert_exit(&t.sync("", &["--config", &config]), 0);
        let html: Vec<String> = t
            .keys()
            .into_iter()
            .filter(|k| k.ends_with(".html"))
            .collect();
        assert_eq!(html.len(), 5);

        let changed = RULES.replace("max-age=0, must-revalidate", "no-cache");
        write_rules(t, &changed);
        t.proxy.clear();
        let out = t.sync("", &["--config", &config, "--repair"]);
        assert_exit(&out, 0);
        let mut copied: Vec<String> = t
            .proxy
            .writes()
            .iter()
            .map(|w| {
                assert!(w.is_copy_object(), "only copies, no upload: {w:?}");
                let key = w.path.trim_start_matches(&format!("/{}/", t.bucket));
                percent_encoding::percent_decode_str(key)
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            })
            .collect();
        copied.sort();
        assert_eq!(copied, html);
        for key in &html {
            let h = t.head_full(key);
            assert_eq!(h.cache_control(), Some("public, no-cache"), "{key}");
            assert_eq!(
                h.content_encoding(),
                Some("gzip"),
                "{key}: the body is kept"
            );
            assert_eq!(gunzip(&t.get(key)), local(t, key), "{key}");
        }
    });
}

#[test]
fn repair_leaves_compression_drift_to_a_reupload() {
    each_server("rules-compress-drift", |t| {
        t.write("s.css", "body { color: red }\n".repeat(20));
        let body = local(t, "s.css");
        t.put_with("s.css", &body, |r| {
            r.content_type("text/css; charset=utf-8")
        });
        let config = write_rules(t, "[[rule]]\nmatch = \"*.css\"\ncompress = \"gzip\"\n");
        let out = t
            .cmd()
            .args(["repair", &t.url(""), "--config", &config])
            .expect(0);
        let text = stdout(&out);
        assert!(
            text.contains("skipped: repair s.css") && text.contains("run s3site sync"),
            "{text}"
        );
        assert!(t.proxy.writes().is_empty(), "{:?}", t.proxy.writes());
        // sync re-uploads it compressed.
        t.proxy.clear();
        let out = t.sync("", &["--config", &config]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("upload s.css"), "{}", stdout(&out));
        assert_eq!(t.head_full("s.css").content_encoding(), Some("gzip"));
        assert_eq!(gunzip(&t.get("s.css")), body);
    });
}

/// A team that gzips CSS by rule repairs its legacy bucket: the old s3cmd object (generic type,
/// charset as Content-Encoding, stored plain) gets the right type and loses the bogus coding by
/// a copy; the compression is reported as what only a re-upload can change, counted apart.
#[test]
fn repair_fixes_what_a_copy_can_where_the_rules_compress() {
    each_server("rules-compress-legacy", |t| {
        let body = b"body { color: red }\n".repeat(20);
        t.put_with("s.css", &body, |r| {
            r.content_type("text/plain").content_encoding("UTF-8")
        });
        // The rules file in the current folder, as a team keeps it.
        let home = t.site().parent().unwrap().join("home");
        std::fs::write(
            home.join("s3site.toml"),
            "[[rule]]\nmatch = \"**/*.css\"\ncompress = \"gzip\"\n",
        )
        .unwrap();
        let out = t.repair("", &["--dry-run"]);
        assert_exit(&out, 0);
        let text = stdout(&out);
        assert!(text.contains("repair s.css"), "{text}");
        assert!(text.contains("still to do: stored plain"), "{text}");
        assert!(
            text.contains("repaired 1,") && text.contains("1 repaired still need a re-upload"),
            "{text}"
        );
        let out = t.repair("", &["--output", "json"]);
        assert_exit(&out, 0);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["totals"]["repaired"], 1, "{doc}");
        assert_eq!(doc["totals"]["repaired_need_reupload"], 1, "{doc}");
        let remains = doc["actions"][0]["remains"].as_str().unwrap_or_default();
        assert!(remains.contains("run s3site sync"), "{doc}");
        let h = t.head_full("s.css");
        assert_eq!(h.content_type(), Some("text/css; charset=utf-8"));
        assert_eq!(h.content_encoding(), None);
        assert_eq!(t.get("s.css"), body, "a copy keeps the bytes");
        // What is left is a re-upload's: a second repair changes nothing.
        t.proxy.clear();
        let out = t.repair("", &[]);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("skipped: repair s.css"),
            "{}",
            stdout(&out)
        );
        assert!(t.proxy.writes().is_empty());
    });
}

#[test]
fn the_bucket_can_come_from_the_rules_file_and_explain_shows_the_result() {
    each_server("rules-bucket", |t| {
        t.write("index.html", "<p>hi</p>");
        t.write("about", "<p>pretty url</p>");
        let config = write_rules(
            t,
            &format!(
                "bucket = \"{}\"\ndefault_content_type = \"text/html; charset=utf-8\"\n\
                 [[rule]]\nmatch = \"*.html\"\ncache_control = \"no-cache\"\n",
                t.url("www")
            ),
        );
        t.cmd()
            .arg("sync")
            .arg(t.site())
            .args(["--config", &config])
            .expect(0);
        assert_eq!(t.keys(), ["www/about", "www/index.html"]);
        assert_eq!(
            t.head_full("www/about").content_type(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            t.head_full("www/index.html").cache_control(),
            Some("no-cache")
        );

        let explain = t
            .cmd()
            .no_endpoint()
            .args(["explain", "index.html", "about", "--config", &config])
            .expect(0);
        let text = stdout(&explain);
        assert!(text.contains("Cache-Control: no-cache (rule #1)"), "{text}");
        assert!(
            text.contains("text/html; charset=utf-8 (default_content_type: no extension)"),
            "{text}"
        );
    });
}

#[test]
fn a_named_target_with_variables_picks_the_destination_and_s3site_variables_set_flags() {
    each_server("rules-targets", |t| {
        t.write("index.html", "<p>staged</p>");
        std::fs::write(
            t.home().join("s3site.toml"),
            "bucket = \"s3://${SITE_BUCKET}/live\"\n\n[targets.staging]\n\
             bucket = \"s3://${SITE_BUCKET}/preview\"\nexclude = [\"*.map\"]\n",
        )
        .unwrap();
        t.write("app.js.map", "{}");
        let sync = || t.cmd().arg("sync").arg(t.site());

        // An unset variable: exit 2 naming it, before any request.
        let out = sync().arg("--target").arg("staging").output();
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("SITE_BUCKET is not set"),
            "{}",
            stderr(&out)
        );
        assert!(t.proxy.requests().is_empty());

        // S3SITE_DRY_RUN and S3SITE_TARGET: the plan names the target's prefix; nothing written.
        let out = sync()
            .env("SITE_BUCKET", &t.bucket)
            .env("S3SITE_TARGET", "staging")
            .env("S3SITE_DRY_RUN", "true")
            .output();
        assert_exit(&out, 0);
        assert!(t.keys().is_empty(), "dry run");

        // --target: into preview/, without the excluded map; S3SITE_OUTPUT=json is JSON.
        // Empty variables are unset, as CI leaves an undefined one.
        let out = sync()
            .env("SITE_BUCKET", &t.bucket)
            .env("S3SITE_DRY_RUN", "")
            .env("S3SITE_CLOUDFRONT", "")
            .env("S3SITE_OUTPUT", "json")
            .arg("--target")
            .arg("staging")
            .output();
        assert_exit(&out, 0);
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(doc["totals"]["uploaded"], 1, "{doc}");
        assert_eq!(t.keys(), ["preview/index.html"]);

        // An unknown target names the ones there are.
        let out = sync().env("S3SITE_TARGET", "prod").output();
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("has no [targets.prod] (it has: staging)"),
            "{}",
            stderr(&out)
        );
    });
}
