//! The bucket's website configuration and the `[redirects]` map, through the S3 API (moto);
//! what a browser gets from a website endpoint is checked against Garage where it runs.

use crate::util::{Capability, TestEnv, each_server_with, stderr, stdout};

const WEBSITE: &str = r#"
[website]
index_document = "index.html"
error_document = "404.html"

[[website.routing_rules]]
key_prefix_equals = "docs/"
replace_key_prefix_with = "documents/"
http_redirect_code = "301"

[redirects]
"old/about.html" = "/about/"
"feed.rss" = "https://example.com/feed.xml"
"#;

fn config(t: &TestEnv, text: &str) -> String {
    let path = t.site().parent().unwrap().join("s3site.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn sync(t: &TestEnv, config: &str, args: &[&str]) -> std::process::Output {
    t.sync_cmd("")
        .args(["--config", config])
        .args(args)
        .output()
}

#[test]
fn the_website_configuration_is_set_when_it_differs_and_only_then() {
    each_server_with(Capability::HasWebsiteConfig, "website-config", |t| {
        let c = config(t, WEBSITE);
        t.write("index.html", "<p>home</p>");
        t.write("404.html", "<p>not found</p>");
        // A dry run shows the difference and sets nothing.
        let out = sync(t, &c, &["--dry-run"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains(
                "website (bucket website configuration) (IndexDocument: (none) -> 'index.html'"
            ),
            "{text}"
        );
        assert!(t.website().is_none(), "a dry run sets nothing");
        // A sync sets it once.
        let out = sync(t, &c, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let w = t.website().expect("configured");
        assert_eq!(w.0.as_deref(), Some("index.html"));
        assert_eq!(w.1.as_deref(), Some("404.html"));
        assert_eq!(w.2, ["docs/ -> documents/ 301"]);
        t.proxy.clear();
        let out = sync(t, &c, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            !t.proxy.writes().iter().any(|w| w.query.contains("website")),
            "the same configuration is not set again: {:?}",
            t.proxy.writes()
        );
    });
}

#[test]
fn redirects_are_zero_byte_objects_that_follow_the_map() {
    each_server_with(
        Capability::StoresWebsiteRedirect,
        "website-redirects",
        |t| {
            let c = config(t, WEBSITE);
            t.write("index.html", "<p>home</p>");
            t.write("about/index.html", "<p>about</p>");
            let out = sync(t, &c, &[]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let h = t.head_full("old/about.html");
            assert_eq!(h.content_length(), Some(0));
            assert_eq!(h.website_redirect_location(), Some("/about/"));
            assert_eq!(
                t.head_full("feed.rss").website_redirect_location(),
                Some("https://example.com/feed.xml")
            );
            // Unchanged: no write. A changed target: one write. A redirect that left the map goes
            // with --delete, and a file's object never does.
            t.proxy.clear();
            let out = sync(t, &c, &["--delete"]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            assert!(t.proxy.writes().is_empty(), "{:?}", t.proxy.writes());
            let c = config(
                t,
                &WEBSITE
                    .replace("\"/about/\"", "\"/company/\"")
                    .replace("\"feed.rss\" = \"https://example.com/feed.xml\"\n", ""),
            );
            t.proxy.clear();
            let out = sync(t, &c, &["--delete"]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            assert_eq!(
                t.head_full("old/about.html").website_redirect_location(),
                Some("/company/")
            );
            assert_eq!(
                t.head("feed.rss").map(|h| h.content_length),
                None,
                "removed from the map"
            );
            assert!(t.head("about/index.html").is_some());
            // A map key that is also a file: exit 2, before any request.
            t.write("old/about.html", "<p>a file</p>");
            t.proxy.clear();
            let out = sync(t, &c, &[]);
            assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
            assert!(
                stderr(&out).contains("'old/about.html' is also a file"),
                "{}",
                stderr(&out)
            );
            assert!(t.proxy.requests().is_empty(), "{:?}", t.proxy.requests());
        },
    );
}

#[test]
fn a_bad_website_section_is_refused_before_any_request() {
    each_server_with(Capability::HasWebsiteConfig, "website-bad", |t| {
        t.write("index.html", "<p>home</p>");
        for (text, needle) in [
            (
                "[website]\nerror_document = \"404.html\"\n",
                "needs index_document",
            ),
            (
                "[website]\nindex_document = \"index.html\"\n[[website.routing_rules]]\nkey_prefix_equals = \"a/\"\nhttp_redirect_code = \"200\"\n",
                "not a 3xx",
            ),
            (
                "[redirects]\n\"a.html\" = \"elsewhere\"\n",
                "must start with '/'",
            ),
        ] {
            let c = config(t, text);
            t.proxy.clear();
            let out = sync(t, &c, &[]);
            assert_eq!(out.status.code(), Some(2), "{text}: {}", stderr(&out));
            assert!(stderr(&out).contains(needle), "{text}: {}", stderr(&out));
            assert!(t.proxy.requests().is_empty());
        }
    });
}

/// One HTTP/1.1 GET of `path` from the website endpoint at `port`, as the browser of `host`
/// sends it: the status, the headers (lower-case names) and the body.
fn browse(port: u16, host: &str, path: &str) -> (u16, Vec<(String, String)>, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAccept-Encoding: identity\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_real_website_endpoint_serves_the_index_the_error_page_and_the_redirects() {
    let server = crate::util::website_server();
    let t = TestEnv::new(&server, "website-garage");
    let c = config(&t, WEBSITE);
    t.write("index.html", "<p>home</p>");
    t.write("about/index.html", "<p>about us</p>");
    t.write("404.html", "<p>no such page</p>");
    t.write("documents/a.html", "<p>a document</p>");
    let out = sync(&t, &c, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let port: u16 = server
        .endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap();
    let (web, host) = (port + 2, format!("{}.web.garage.localhost", t.bucket));
    let (status, headers, body) = browse(web, &host, "/");
    assert_eq!((status, body.as_str()), (200, "<p>home</p>"), "{headers:?}");
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    let (status, _, body) = browse(web, &host, "/about/");
    assert_eq!((status, body.as_str()), (200, "<p>about us</p>"));
    let (status, _, body) = browse(web, &host, "/nowhere.html");
    assert_eq!((status, body.as_str()), (404, "<p>no such page</p>"));
    let (status, headers, _) = browse(web, &host, "/old/about.html");
    assert_eq!(status, 301, "{headers:?}");
    assert_eq!(header(&headers, "location"), Some("/about/"));
    let (status, headers, _) = browse(web, &host, "/docs/a.html");
    assert_eq!(status, 301, "{headers:?}");
    assert!(
        header(&headers, "location").is_some_and(|l| l.ends_with("/documents/a.html")),
        "{headers:?}"
    );
}

#[test]
fn strip_index_html_stores_a_folder_s_page_as_the_folder_and_migrates_back() {
    // SeaweedFS keeps a key ending in '/' as a folder, not an object.
    each_server_with(Capability::StoresFolderKeys, "strip-index", |t| {
        let rules = "[[rule]]\nmatch = \"**/*.html\"\ncache_control = \"no-cache\"\n";
        let on = config(t, &format!("strip_index_html = true\n{rules}"));
        t.write("index.html", "<p>home</p>");
        t.write("about/index.html", "<p>about</p>");
        t.write("about/team.html", "<p>team</p>");
        let out = sync(t, &on, &["--delete"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(t.keys(), ["about/", "about/team.html", "index.html"]);
        assert_eq!(t.get("about/"), b"<p>about</p>");
        let h = t.head_full("about/");
        assert_eq!(h.content_type(), Some("text/html; charset=utf-8"));
        assert_eq!(
            h.cache_control(),
            Some("no-cache"),
            "rules match it as about/index.html"
        );
        // Nothing to do the second time, and repair finds it right.
        t.proxy.clear();
        assert_eq!(sync(t, &on, &["--delete"]).status.code(), Some(0));
        let repaired = t.repair_cmd("").args(["--config", &on]).expect(0);
        assert!(
            t.proxy.writes().is_empty(),
            "{:?}\n{}",
            t.proxy.writes(),
            stdout(&repaired)
        );
        // Off again: the page goes back to its own key, the folder key goes only with --delete.
        let off = config(t, rules);
        assert_eq!(sync(t, &off, &[]).status.code(), Some(0));
        assert_eq!(
            t.keys(),
            [
                "about/",
                "about/index.html",
                "about/team.html",
                "index.html"
            ]
        );
        assert_eq!(sync(t, &off, &["--delete"]).status.code(), Some(0));
        assert_eq!(
            t.keys(),
            ["about/index.html", "about/team.html", "index.html"]
        );
    });
}
