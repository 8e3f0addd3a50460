//! Unit tests of the repair planner, from literal HEADs and first bytes.

use super::*;
use crate::content::digest::md5_of;
use crate::content::etag::ETag;
use crate::content::header::Header;
use crate::store::ObjectHeaders;
use std::collections::BTreeMap;

fn head(content_type: Option<&str>, encoding: Option<&str>, body: &[u8]) -> ObjectHead {
    ObjectHead {
        content_length: body.len() as u64,
        etag: Some(ETag::Md5(md5_of(body))),
        headers: headers(content_type, encoding),
        ..ObjectHead::default()
    }
}

fn headers(content_type: Option<&str>, encoding: Option<&str>) -> ObjectHeaders {
    let mut h = ObjectHeaders::default();
    h.set(Header::ContentType, content_type.map(str::to_string));
    h.set(Header::ContentEncoding, encoding.map(str::to_string));
    h
}

fn sniff(body: &[u8]) -> Sniff {
    Sniff::from_prefix(body.to_vec(), true)
}

/// The headers after the repair (`None` if nothing changes), sniffing only when asked to.
fn repaired(key: &str, h: &ObjectHead, body: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let s = needs_sniff(key, h, &Expect::default()).then(|| sniff(body));
    match assess(key, h, s.as_ref(), &Expect::default()) {
        Verdict::Right => None,
        Verdict::Fix { copy, .. } => {
            let h = &copy.headers;
            Some((
                h.content_type().map(str::to_string),
                h.content_encoding().map(str::to_string),
            ))
        }
        Verdict::Unfixable { reason, .. } => panic!("unfixable: {reason}"),
    }
}

const GZ: &[u8] = &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

#[test]
fn old_s3cmd_charset_encodings_are_removed() {
    for bogus in ["UTF-8", "ANSI_X3.4-1968", "US-ASCII", "ISO-8859-1", "utf-8"] {
        let h = head(Some("text/html; charset=utf-8"), Some(bogus), b"<p>hi</p>");
        assert_eq!(
            repaired("index.html", &h, b"<p>hi</p>"),
            Some((Some("text/html; charset=utf-8".into()), None)),
            "{bogus}"
        );
    }
}

#[test]
fn identity_aws_chunked_and_empty_are_removed() {
    for bogus in ["identity", "aws-chunked", "", " "] {
        let h = head(Some("image/png"), Some(bogus), b"\x89PNG");
        assert_eq!(
            repaired("a.png", &h, b"\x89PNG"),
            Some((Some("image/png".into()), None)),
            "{bogus:?}"
        );
    }
}

#[test]
fn gzip_is_kept_on_gzip_bytes_and_removed_on_plain_bytes() {
    let real = head(Some("text/css; charset=utf-8"), Some("gzip"), GZ);
    assert!(needs_sniff("s.css", &real, &Expect::default()));
    assert_eq!(repaired("s.css", &real, GZ), None);
    let fake = head(Some("text/css; charset=utf-8"), Some("gzip"), b"body{}");
    assert_eq!(
        repaired("s.css", &fake, b"body{}"),
        Some((Some("text/css; charset=utf-8".into()), None))
    );
    let zstd = [0x28, 0xb5, 0x2f, 0xfd, 0];
    let z = head(Some("application/wasm"), Some("zstd"), &zstd);
    assert_eq!(repaired("a.wasm", &z, &zstd), None);
    let not_z = head(Some("application/wasm"), Some("zstd"), b"\0asm");
    assert_eq!(
        repaired("a.wasm", &not_z, b"\0asm"),
        Some((Some("application/wasm".into()), None))
    );
}

#[test]
fn br_has_no_magic_and_is_kept_without_a_read() {
    let h = head(
        Some("text/javascript; charset=utf-8"),
        Some("br"),
        b"\x0b\x02",
    );
    assert!(!needs_sniff("a.js", &h, &Expect::default()));
    assert_eq!(assess("a.js", &h, None, &Expect::default()), Verdict::Right);
}

#[test]
fn gzip_on_an_empty_body_is_removed_without_a_read() {
    let h = head(Some("text/plain; charset=utf-8"), Some("gzip"), b"");
    assert!(!needs_sniff("e.txt", &h, &Expect::default()));
    assert_eq!(
        repaired("e.txt", &h, b""),
        Some((Some("text/plain; charset=utf-8".into()), None))
    );
}

#[test]
fn a_bogus_item_in_a_list_is_dropped() {
    let h = head(Some("image/png"), Some("gzip, UTF-8"), GZ);
    assert_eq!(
        repaired("a.png", &h, GZ),
        Some((Some("image/png".into()), Some("gzip".into())))
    );
}

#[test]
fn wrong_or_generic_types_for_known_extensions_are_fixed() {
    let css = b"body{}";
    for wrong in [
        "text/plain",
        "text/x-asm",
        "binary/octet-stream",
        "application/octet-stream",
        "",
    ] {
        let h = head(Some(wrong), None, css);
        assert_eq!(
            repaired("css/site.css", &h, css),
            Some((Some("text/css; charset=utf-8".into()), None)),
            "{wrong}"
        );
    }
    let h = head(None, None, css);
    assert_eq!(
        repaired("css/site.css", &h, css),
        Some((Some("text/css; charset=utf-8".into()), None))
    );
    let h = head(Some("binary/octet-stream"), None, b"wasm");
    assert_eq!(
        repaired("a.wasm", &h, b"wasm"),
        Some((Some("application/wasm".into()), None))
    );
}

#[test]
fn types_compare_case_insensitively_with_parameters() {
    for same in [
        "text/html; charset=utf-8",
        "TEXT/HTML; charset=UTF-8",
        "text/html;charset=\"utf-8\"",
        "text/html ;  Charset=utf-8",
    ] {
        let h = head(Some(same), None, b"<p>");
        assert!(!needs_sniff("a.html", &h, &Expect::default()), "{same}");
        assert_eq!(
            assess("a.html", &h, None, &Expect::default()),
            Verdict::Right,
            "{same}"
        );
    }
    let h = head(Some("application/json; charset=utf-8"), None, b"{}");
    assert_eq!(
        repaired("d.json", &h, b"{}"),
        Some((Some("application/json".into()), None))
    );
}

#[test]
fn charset_is_added_only_when_the_body_is_utf8() {
    let h = head(Some("text/html"), None, "<p>é</p>".as_bytes());
    assert!(needs_sniff("a.html", &h, &Expect::default()));
    assert_eq!(
        repaired("a.html", &h, "<p>é</p>".as_bytes()),
        Some((Some("text/html; charset=utf-8".into()), None))
    );
    // Latin-1 text keeps the type without a charset.
    let latin1 = b"caf\xe9";
    let h = head(Some("text/plain"), None, latin1);
    assert_eq!(repaired("legacy.txt", &h, latin1), None);
    // ...and keeps a charset it declares.
    let h = head(Some("text/x-asm; charset=iso-8859-1"), None, latin1);
    assert_eq!(
        repaired("legacy.css", &h, latin1),
        Some((Some("text/css; charset=iso-8859-1".into()), None))
    );
    // An ASCII label on UTF-8 text becomes utf-8 (old s3cmd wrote the locale's charset).
    let h = head(Some("text/html; charset=ANSI_X3.4-1968"), None, b"<p>");
    assert_eq!(
        repaired("a.html", &h, b"<p>"),
        Some((Some("text/html; charset=utf-8".into()), None))
    );
}

#[test]
fn without_a_sniff_a_charset_is_neither_added_nor_dropped() {
    let h = head(Some("text/plain"), None, b"x");
    assert_eq!(
        assess("a.txt", &h, None, &Expect::default()),
        Verdict::Right
    );
    let h = head(Some("text/plain; charset=windows-1252"), None, b"x");
    assert_eq!(
        assess("a.txt", &h, None, &Expect::default()),
        Verdict::Right
    );
}

#[test]
fn a_cut_character_at_the_end_of_a_prefix_is_not_invalid() {
    let text = "ééé".as_bytes();
    assert_eq!(
        Sniff::from_prefix(text[..3].to_vec(), false).utf8,
        Some(true)
    );
    assert_eq!(
        Sniff::from_prefix(text[..3].to_vec(), true).utf8,
        Some(false)
    );
    assert_eq!(
        Sniff::from_prefix(b"\xe9abc".to_vec(), false).utf8,
        Some(false)
    );
}

#[test]
fn no_extension_or_unknown_extension_keeps_any_type() {
    for key in ["CNAME", "LICENSE", "x.unknownext"] {
        let h = head(Some("text/plain"), None, b"x");
        assert_eq!(
            assess(key, &h, None, &Expect::default()),
            Verdict::Right,
            "{key}"
        );
    }
    let h = head(None, None, b"x");
    assert_eq!(
        repaired("CNAME", &h, b"x"),
        Some((Some(DEFAULT_CONTENT_TYPE.into()), None))
    );
}

#[test]
fn everything_else_is_kept_in_the_copy() {
    let body = b"body{}";
    let mut h = head(Some("text/plain"), Some("UTF-8"), body);
    h.headers
        .set(Header::CacheControl, Some("max-age=60".into()));
    h.headers
        .set(Header::ContentDisposition, Some("inline".into()));
    h.headers.set(Header::ContentLanguage, Some("de".into()));
    h.headers.set(
        Header::Expires,
        Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
    );
    h.headers.set(Header::WebsiteRedirect, Some("/new/".into()));
    h.headers.metadata = BTreeMap::from([("owner".into(), "web".into())]);
    h.storage_class = Some("STANDARD_IA".into());
    h.tag_count = 2;
    h.encryption = Encryption::Kms {
        algorithm: "aws:kms".into(),
        key_id: Some("arn:key".into()),
        bucket_key: true,
    };
    let Verdict::Fix { changes, copy, .. } =
        assess("s.css", &h, Some(&sniff(body)), &Expect::default())
    else {
        panic!("expected a fix");
    };
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[1].to_string(),
        "Content-Encoding: 'UTF-8' -> (none)"
    );
    let mut want = h.headers.clone();
    want.set(Header::ContentType, Some("text/css; charset=utf-8".into()));
    want.set(Header::ContentEncoding, None);
    assert_eq!(copy.headers, want);
    assert_eq!(copy.storage_class, h.storage_class);
    assert_eq!(copy.encryption, h.encryption);
    assert_eq!(copy.tag_count, 2);
    assert_eq!(copy.if_match, ETag::Md5(md5_of(body)));
    assert_eq!(copy.size, body.len() as u64);
}

#[test]
fn archived_and_customer_key_objects_are_not_touched() {
    let body = b"body{}";
    let mut h = head(Some("text/plain"), None, body);
    h.storage_class = Some("GLACIER".into());
    assert!(
        !needs_sniff("s.css", &h, &Expect::default()),
        "an archived body cannot be read"
    );
    assert!(matches!(
        assess("s.css", &h, None, &Expect::default()),
        Verdict::Unfixable { .. }
    ));
    assert!(matches!(
        assess("s.css", &h, Some(&sniff(body)), &Expect::default()),
        Verdict::Unfixable { .. }
    ));
    // A restored copy is readable (the S3 adapter reads that from `x-amz-restore`).
    h.restored = true;
    assert!(matches!(
        assess("s.css", &h, Some(&sniff(body)), &Expect::default()),
        Verdict::Fix { .. }
    ));
    h.restored = false;
    assert!(matches!(
        assess("s.css", &h, Some(&sniff(body)), &Expect::default()),
        Verdict::Unfixable { .. }
    ));
    let mut h = head(Some("text/plain"), None, body);
    h.archive_status = Some("DEEP_ARCHIVE_ACCESS".into());
    assert!(matches!(
        assess("s.css", &h, Some(&sniff(body)), &Expect::default()),
        Verdict::Unfixable { .. }
    ));
    let mut h = head(Some("text/plain"), None, body);
    h.encryption = Encryption::Customer;
    assert!(matches!(
        assess("s.css", &h, Some(&sniff(body)), &Expect::default()),
        Verdict::Unfixable { .. }
    ));
    // Right headers: nothing to say, whatever the storage.
    let mut h = head(Some("text/css; charset=utf-8"), None, body);
    h.storage_class = Some("DEEP_ARCHIVE".into());
    assert_eq!(
        assess("s.css", &h, None, &Expect::default()),
        Verdict::Right
    );
}

fn expect(text: &str, rel: &str) -> Expect {
    let c = crate::settings::rules::Config::parse(text, std::path::Path::new("s3site.toml"))
        .expect("rules parse");
    Expect::new(&c.rules, rel)
}

const RULES: &str = r#"
[[rule]]
match = "**"
cache_control = "max-age=60"
headers = { "x-amz-meta-owner" = "web" }
[[rule]]
match = "*.css"
compress = "gzip"
[[rule]]
match = "feed.xml"
content_type = "application/rss+xml; charset=utf-8"
"#;

#[test]
fn a_difference_from_the_rules_is_drift_fixed_in_place() {
    let body = b"<p>";
    let mut h = head(Some("text/html; charset=utf-8"), None, body);
    h.headers
        .set(Header::CacheControl, Some("max-age=0".into()));
    h.headers.set(Header::ContentLanguage, Some("en".into()));
    let e = expect(RULES, "index.html");
    let Verdict::Fix { changes, copy, .. } = assess("index.html", &h, None, &e) else {
        panic!("expected a fix");
    };
    let names: Vec<&str> = changes.iter().map(|c| c.header.as_str()).collect();
    assert_eq!(names, ["Cache-Control", "x-amz-meta-owner"]);
    assert_eq!(copy.headers.get(Header::CacheControl), Some("max-age=60"));
    assert_eq!(copy.headers.metadata["owner"], "web");
    assert_eq!(
        copy.headers.get(Header::ContentLanguage),
        Some("en"),
        "not in the rules: kept"
    );

    h.headers
        .set(Header::CacheControl, Some("max-age=60".into()));
    h.headers.metadata.insert("owner".into(), "web".into());
    h.headers.metadata.insert("other".into(), "x".into());
    assert_eq!(assess("index.html", &h, None, &e), Verdict::Right);
}

#[test]
fn a_rule_type_is_exact_and_compared_loosely() {
    let e = expect(RULES, "feed.xml");
    let mut h = head(Some("Application/RSS+XML;charset=UTF-8"), None, b"<rss/>");
    h.headers
        .set(Header::CacheControl, Some("max-age=60".into()));
    h.headers.metadata.insert("owner".into(), "web".into());
    assert!(!needs_sniff("feed.xml", &h, &e));
    assert_eq!(assess("feed.xml", &h, None, &e), Verdict::Right);
    h.headers.set(
        Header::ContentType,
        Some("application/xml; charset=utf-8".into()),
    );
    let Verdict::Fix { copy, .. } = assess("feed.xml", &h, None, &e) else {
        panic!("expected a fix");
    };
    assert_eq!(
        copy.headers.content_type(),
        Some("application/rss+xml; charset=utf-8")
    );
}

#[test]
fn compression_drift_needs_a_reupload_and_is_not_touched() {
    let e = expect(RULES, "s.css");
    let css = b"body{}";
    let mut h = head(Some("text/css; charset=utf-8"), None, css);
    h.headers
        .set(Header::CacheControl, Some("max-age=60".into()));
    h.headers.metadata.insert("owner".into(), "web".into());
    let v = assess("s.css", &h, Some(&sniff(css)), &e);
    let Verdict::Unfixable { changes, reason } = v else {
        panic!("expected unfixable: {v:?}");
    };
    assert!(
        reason.contains("stored plain") && reason.contains("sync"),
        "{reason}"
    );
    assert_eq!(changes[0].to_string(), "Content-Encoding: (none) -> 'gzip'");
    // ...unless s3site stored it plain because gzip did not shrink it.
    h.headers.metadata.insert(
        crate::content::meta::PLAIN_MARKER_KEY.into(),
        crate::content::meta::NO_GAIN.into(),
    );
    assert_eq!(assess("s.css", &h, Some(&sniff(css)), &e), Verdict::Right);

    // Real gzip where the rules say gzip: right.
    let mut g = head(Some("text/css; charset=utf-8"), Some("gzip"), GZ);
    g.headers
        .set(Header::CacheControl, Some("max-age=60".into()));
    g.headers.metadata.insert("owner".into(), "web".into());
    assert_eq!(assess("s.css", &g, Some(&sniff(GZ)), &e), Verdict::Right);
    // Real gzip where a file of rules that compress says nothing: a re-upload makes it plain.
    let js = expect(RULES, "a.js");
    let mut j = g.clone();
    j.headers.set(
        Header::ContentType,
        Some("text/javascript; charset=utf-8".into()),
    );
    assert!(matches!(
        assess("a.js", &j, Some(&sniff(GZ)), &js),
        Verdict::Unfixable { .. }
    ));
    // Without any compress rule, a real gzip object is fine (repair without rules).
    assert_eq!(
        assess("a.js", &j, Some(&sniff(GZ)), &Expect::default()),
        Verdict::Right
    );
}

/// An old-s3cmd object (charset as Content-Encoding, a generic type, stored plain) where the
/// rules gzip it: the copy still fixes what a copy can, and says what only a re-upload can.
#[test]
fn a_copy_fixes_what_it_can_even_where_the_rules_compress() {
    let e = expect(RULES, "s.css");
    let css = b"body{}";
    let mut h = head(Some("text/plain"), Some("UTF-8"), css);
    h.headers
        .set(Header::CacheControl, Some("max-age=60".into()));
    h.headers.metadata.insert("owner".into(), "web".into());
    let v = assess("s.css", &h, Some(&sniff(css)), &e);
    let Verdict::Fix {
        changes,
        copy,
        remains,
    } = v
    else {
        panic!("expected a fix: {v:?}");
    };
    assert_eq!(copy.headers.content_type(), Some("text/css; charset=utf-8"));
    assert_eq!(
        copy.headers.content_encoding(),
        None,
        "the bogus coding goes"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.to_string() == "Content-Encoding: 'UTF-8' -> (none)"),
        "{changes:?}"
    );
    let remains = remains.expect("the compression is left to a re-upload");
    assert!(
        remains.contains("stored plain") && remains.contains("run s3site sync"),
        "{remains}"
    );
}

#[test]
fn local_evidence_tells_the_charset_of_a_compressed_body() {
    let mut h = head(Some("text/css"), Some("gzip"), GZ);
    h.content_length = 100;
    let local = Sniff {
        prefix: GZ.to_vec(),
        utf8: Some(true),
        decoded: true,
    };
    let Verdict::Fix { copy, .. } = assess("s.css", &h, Some(&local), &Expect::default()) else {
        panic!("expected a fix");
    };
    assert_eq!(copy.headers.content_type(), Some("text/css; charset=utf-8"));
    assert_eq!(copy.headers.content_encoding(), Some("gzip"));
}
