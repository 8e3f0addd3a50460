//! Unit tests of the sync planner, from literal local files and listings.

use super::*;
use crate::content::coding::FirstBytes;
use crate::content::digest::md5_of;
use crate::content::header::Header;
use crate::site::hash::Parts;

fn file(key: &str, body: &[u8]) -> LocalFile {
    LocalFile {
        key: key.into(),
        index_stripped: false,
        size: body.len() as u64,
        md5: md5_of(body),
        is_utf8: std::str::from_utf8(body).is_ok(),
        first_bytes: FirstBytes::of(body),
        parts: None,
        compressed: None,
        not_compressed: None,
        compress: None,
        cache_stamp: None,
        proof: None,
    }
}

static SITE: std::sync::LazyLock<Source> =
    std::sync::LazyLock::new(|| Source::new(std::path::Path::new("/site"), ""));
static NO_RULES: std::sync::LazyLock<RuleSet> = std::sync::LazyLock::new(RuleSet::default);
static NO_KEYS: std::sync::LazyLock<HashSet<String>> = std::sync::LazyLock::new(HashSet::new);
static NO_PLACEMENT: std::sync::LazyLock<Placement> = std::sync::LazyLock::new(Placement::default);

fn obj(key: &str, body: &[u8]) -> RemoteObject {
    RemoteObject {
        key: key.into(),
        size: body.len() as u64,
        etag: ETag::Md5(md5_of(body)),
    }
}

fn opts(filter: &Filter) -> Options<'_> {
    Options {
        source: &SITE,
        delete: false,
        max_delete: None,
        filter,
        rules: &NO_RULES,
        placement: &NO_PLACEMENT,
        also_kept: &NO_KEYS,
    }
}

fn keys(ups: &[Upload]) -> Vec<(&str, UploadReason)> {
    ups.iter().map(|u| (u.put.key.as_str(), u.reason)).collect()
}

fn no_filter() -> Filter {
    Filter::new::<&str>(&[]).unwrap()
}

#[test]
fn new_changed_and_unchanged() {
    let f = no_filter();
    let local = [
        file("a.css", b"body{}"),
        file("b.js", b"let x=1"),
        file("c.png", b"PNG1"),
        file("index.html", b"<p>hi</p>"),
    ];
    let remote = [
        obj("a.css", b"body{}"),
        obj("b.js", b"let x=12"),
        obj("c.png", b"PNG2"),
    ];
    let p = plan(&local, &remote, &BTreeMap::new(), &opts(&f));
    assert_eq!(
        keys(&p.assets),
        [
            ("b.js", UploadReason::SizeChanged),
            ("c.png", UploadReason::ContentChanged)
        ]
    );
    assert_eq!(keys(&p.pages), [("index.html", UploadReason::New)]);
    assert_eq!(
        p.unchanged,
        [Unchanged {
            key: "a.css".into(),
            size: 6
        }]
    );
    assert!(p.deletes.is_empty());
}

#[test]
fn upload_headers_come_from_the_table_and_never_encode() {
    let f = no_filter();
    let local = [file("s.css", b"a{}"), file("l.txt", b"\xff\xfe")];
    let p = plan(&local, &[], &BTreeMap::new(), &opts(&f));
    let h = |i: usize| &p.assets[i].put.headers;
    assert_eq!(h(0).content_type(), Some("text/plain"));
    assert_eq!(h(1).content_type(), Some("text/css; charset=utf-8"));
    assert!(p.assets.iter().all(|u| u.put.headers.metadata.is_empty()));
    assert!(
        p.assets
            .iter()
            .all(|u| u.put.headers.content_encoding().is_none() && u.compress.is_none())
    );
}

#[test]
fn deletes_only_with_flag_and_never_excluded_or_outside_prefix() {
    let f = Filter::new(&["keep/**"]).unwrap();
    let local = [file("blog/index.html", b"x")];
    let remote = [
        obj("blog/index.html", b"x"),
        obj("blog/old.html", b"o"),
        obj("blog/keep/a", b"k"),
        obj("blog/.DS_Store", b"d"),
        obj("blog/", b""),
        obj("blog-old/x", b"x"),
    ];
    let mut o = opts(&f);
    let blog = Source::new(std::path::Path::new("/site"), "blog/");
    o.source = &blog;
    assert!(
        plan(&local, &remote, &BTreeMap::new(), &o)
            .deletes
            .is_empty()
    );
    o.delete = true;
    let p = plan(&local, &remote, &BTreeMap::new(), &o);
    assert_eq!(
        p.deletes,
        [Delete {
            key: "blog/old.html".into(),
            size: 1,
            recheck: None,
        }]
    );
    assert_eq!(p.delete_blocked, None);
}

#[test]
fn a_key_the_store_renamed_is_compared_with_its_object_and_never_deleted() {
    let f = no_filter();
    let mut o = opts(&f);
    o.delete = true;
    let local = [file("back\\slash.txt", b"x"), file("a.txt", b"a")];
    // SeaweedFS keeps `back\slash.txt` as `back/slash.txt`.
    let remote = [obj("back/slash.txt", b"x"), obj("a.txt", b"a")];
    let p = plan(&local, &remote, &BTreeMap::new(), &o);
    assert!(p.deletes.is_empty(), "{:?}", p.deletes);
    assert!(
        p.assets.is_empty(),
        "not re-uploaded: {:?}",
        keys(&p.assets)
    );
    assert_eq!(
        p.renamed,
        [("back\\slash.txt".to_string(), "back/slash.txt".to_string())]
    );
    // Changed bytes: uploaded again (the store writes it to the same object), not deleted.
    let remote = [obj("back/slash.txt", b"old"), obj("a.txt", b"a")];
    let p = plan(&local, &remote, &BTreeMap::new(), &o);
    assert!(p.deletes.is_empty());
    assert_eq!(
        keys(&p.assets),
        [("back\\slash.txt", UploadReason::SizeChanged)]
    );
    // A store that keeps the key as sent: the other object is a stray like any other.
    let remote = [obj("back\\slash.txt", b"x"), obj("back/slash.txt", b"x")];
    let p = plan(&local, &remote, &BTreeMap::new(), &o);
    assert_eq!(p.deletes.len(), 1);
    assert!(p.renamed.is_empty());
    // Both names are files: the one the store renames is not uploaded over the other.
    let local = [file("back\\slash.txt", b"x"), file("back/slash.txt", b"y")];
    let remote = [obj("back/slash.txt", b"y")];
    let p = plan(&local, &remote, &BTreeMap::new(), &o);
    assert!(p.assets.is_empty() && p.deletes.is_empty());
    assert_eq!(
        p.collisions,
        [("back\\slash.txt".to_string(), "back/slash.txt".to_string())]
    );
}

#[test]
fn a_stray_with_a_new_file_s_bytes_is_checked_before_it_is_deleted() {
    let f = no_filter();
    let mut o = opts(&f);
    o.delete = true;
    let local = [file("new.html", b"<p>page</p>"), file("kept.css", b"a{}")];
    let remote = [
        obj("old.html", b"<p>page</p>"),
        obj("gone.css", b"b{}"),
        obj("kept.css", b"a{}"),
    ];
    let p = plan(&local, &remote, &BTreeMap::new(), &o);
    let by_key = |k: &str| p.deletes.iter().find(|d| d.key == k).unwrap();
    assert_eq!(
        by_key("old.html").recheck,
        Some(Recheck {
            file: "new.html".into()
        })
    );
    assert_eq!(by_key("gone.css").recheck, None);
}

#[test]
fn empty_source_blocks_deletes() {
    let f = no_filter();
    let mut o = opts(&f);
    o.delete = true;
    let p = plan(&[], &[obj("a", b"a")], &BTreeMap::new(), &o);
    assert_eq!(p.deletes.len(), 1);
    assert_eq!(p.delete_blocked, Some(DeleteBlocked::EmptySource));
    // Nothing to delete: nothing to block.
    assert_eq!(plan(&[], &[], &BTreeMap::new(), &o).delete_blocked, None);
}

#[test]
fn max_delete_blocks_all_deletes_above_the_limit() {
    let f = no_filter();
    let mut o = opts(&f);
    o.delete = true;
    o.max_delete = Some(1);
    let local = [file("k", b"k")];
    let one = [obj("k", b"k"), obj("a", b"a")];
    assert_eq!(
        plan(&local, &one, &BTreeMap::new(), &o).delete_blocked,
        None
    );
    let two = [obj("k", b"k"), obj("a", b"a"), obj("b", b"b")];
    assert_eq!(
        plan(&local, &two, &BTreeMap::new(), &o).delete_blocked,
        Some(DeleteBlocked::TooMany { count: 2, max: 1 })
    );
}

fn big(key: &str, part_size: u64, parts: &[&[u8]]) -> LocalFile {
    let body: Vec<u8> = parts.concat();
    let mut l = file(key, &body);
    l.size = MULTIPART_THRESHOLD + 1; // pretend: only the layout matters here
    l.parts = Some(Box::new(Parts {
        part_size,
        md5s: parts.iter().map(|p| md5_of(p)).collect(),
    }));
    l
}

#[test]
fn own_multipart_etag_matches_without_evidence() {
    let f = no_filter();
    let l = big("v.mp4", PART_SIZE, &[b"one", b"two"]);
    let r = RemoteObject {
        key: "v.mp4".into(),
        size: l.size,
        etag: ETag::multipart(&[md5_of(b"one"), md5_of(b"two")]),
    };
    assert!(needing_evidence(std::slice::from_ref(&l), std::slice::from_ref(&r)).is_empty());
    let p = plan(&[l], &[r], &BTreeMap::new(), &opts(&f));
    assert_eq!(p.unchanged.len(), 1);
}

/// What an earlier run's HEAD proved stands in for the HEAD while the object lists with the
/// same ETag and size, for the bytes proved (not another coding of them).
#[test]
fn a_remembered_proof_decides_an_etag_that_is_not_the_md5_without_a_head() {
    let f = no_filter();
    let mut l = file("a.css", b"body{}");
    // An SSE-KMS object: 32 hex digits that are not the MD5; and a foreign multipart one.
    for etag in [
        ETag::Md5(md5_of(b"not the body")),
        ETag::multipart(&[md5_of(b"bo"), md5_of(b"dy{}")]),
    ] {
        let r = RemoteObject {
            key: "a.css".into(),
            size: l.size,
            etag: etag.clone(),
        };
        let proof = |etag: &ETag, size, coding| {
            Some(Box::new(crate::site::cache::Proof {
                etag: etag.clone(),
                size,
                coding,
            }))
        };
        let decide = |l: &LocalFile| {
            let need = needing_evidence(std::slice::from_ref(l), std::slice::from_ref(&r));
            let p = plan(
                std::slice::from_ref(l),
                std::slice::from_ref(&r),
                &BTreeMap::new(),
                &opts(&f),
            );
            (need.len(), p.unchanged.len())
        };
        l.proof = None;
        assert_eq!(decide(&l), (1, 0), "no proof: a HEAD decides");
        l.proof = proof(&etag, l.size, None);
        assert_eq!(decide(&l), (0, 1), "proved: no HEAD, unchanged");
        l.proof = proof(&ETag::Md5(md5_of(b"other")), l.size, None);
        assert_eq!(decide(&l), (1, 0), "the object changed since");
        l.proof = proof(&etag, l.size + 1, None);
        assert_eq!(decide(&l), (1, 0), "another size");
        l.proof = proof(&etag, l.size, Some(Coding::Gzip));
        assert_eq!(decide(&l), (1, 0), "proved of other bytes (gzip)");
    }
}

#[test]
fn foreign_multipart_etag_is_decided_by_evidence() {
    let f = no_filter();
    let l = big("v.mp4", PART_SIZE, &[b"one", b"two"]);
    let foreign = ETag::multipart(&[md5_of(b"on"), md5_of(b"et"), md5_of(b"wo")]);
    let r = RemoteObject {
        key: "v.mp4".into(),
        size: l.size,
        etag: foreign.clone(),
    };
    let need = needing_evidence(std::slice::from_ref(&l), std::slice::from_ref(&r));
    assert_eq!(need.len(), 1);
    let run = |ev: Option<Evidence>| {
        let mut m = BTreeMap::new();
        if let Some(e) = ev {
            m.insert("v.mp4".to_string(), e);
        }
        let p = plan(
            std::slice::from_ref(&l),
            std::slice::from_ref(&r),
            &m,
            &opts(&f),
        );
        p.assets.first().map(|u| u.reason)
    };
    assert_eq!(run(None), Some(UploadReason::EtagNotComparable));
    let same_md5 = Evidence {
        stored_md5: Some(l.md5),
        local_etag: None,
        ..Evidence::default()
    };
    assert_eq!(run(Some(same_md5)), None);
    let other_md5 = Evidence {
        stored_md5: Some(md5_of(b"other")),
        local_etag: None,
        ..Evidence::default()
    };
    assert_eq!(run(Some(other_md5)), Some(UploadReason::ContentChanged));
    let same_etag = Evidence {
        stored_md5: None,
        local_etag: Some(foreign.clone()),
        ..Evidence::default()
    };
    assert_eq!(run(Some(same_etag)), None);
    let other_etag = Evidence {
        stored_md5: None,
        local_etag: Some(ETag::multipart(&[md5_of(b"x")])),
        ..Evidence::default()
    };
    assert_eq!(run(Some(other_etag)), Some(UploadReason::ContentChanged));
}

#[test]
fn large_files_upload_in_parts_with_stored_md5() {
    let f = no_filter();
    let l = big("v.mp4", PART_SIZE, &[b"one", b"two"]);
    let p = plan(std::slice::from_ref(&l), &[], &BTreeMap::new(), &opts(&f));
    let put = &p.assets[0].put;
    assert_eq!(put.multipart.as_ref().unwrap().part_md5s.len(), 2);
    assert_eq!(put.headers.metadata["md5chksum"], etag::to_base64(&l.md5));
}

#[test]
fn size_change_wins_over_etag_kind() {
    let f = no_filter();
    let l = file("x", b"abc");
    let r = RemoteObject {
        key: "x".into(),
        size: 4,
        etag: ETag::Opaque("weird".into()),
    };
    let p = plan(&[l], &[r], &BTreeMap::new(), &opts(&f));
    assert_eq!(p.assets[0].reason, UploadReason::SizeChanged);
}

fn gz(l: &mut LocalFile, body: &[u8]) {
    l.compressed = Some(Box::new(crate::site::hash::Compressed {
        coding: Coding::Gzip,
        size: body.len() as u64,
        md5: md5_of(body),
        parts: None,
        first_bytes: FirstBytes::of(body),
    }));
}

#[test]
fn compressed_files_compare_their_compressed_bytes() {
    let f = no_filter();
    let mut l = file("a.css", b"body { color: red }");
    gz(&mut l, b"\x1f\x8bZIPPED");
    // The object holds the same compressed bytes: nothing to do, nothing to ask.
    let same = obj("a.css", b"\x1f\x8bZIPPED");
    assert!(needing_evidence(std::slice::from_ref(&l), std::slice::from_ref(&same)).is_empty());
    let p = plan(
        std::slice::from_ref(&l),
        &[same],
        &BTreeMap::new(),
        &opts(&f),
    );
    assert_eq!(p.unchanged.len(), 1);

    // Stored plain (the rule is new): asked about, then uploaded compressed.
    let plain = obj("a.css", b"body { color: red }");
    assert_eq!(
        needing_evidence(std::slice::from_ref(&l), std::slice::from_ref(&plain)).len(),
        1
    );
    let ev = BTreeMap::from([("a.css".to_string(), Evidence::default())]);
    let p = plan(std::slice::from_ref(&l), &[plain], &ev, &opts(&f));
    assert_eq!(keys(&p.assets), [("a.css", UploadReason::SizeChanged)]);
    let put = &p.assets[0].put;
    assert_eq!(p.assets[0].compress, Some(Coding::Gzip));
    assert_eq!(put.size, 8);
    assert_eq!(put.md5, md5_of(b"\x1f\x8bZIPPED"));
    assert_eq!(put.headers.content_encoding(), Some("gzip"));
    assert_eq!(put.headers.content_type(), Some("text/css; charset=utf-8"));
    assert_eq!(
        put.headers.metadata[crate::content::meta::SOURCE_MD5_KEY],
        hex::encode(l.md5)
    );
}

#[test]
fn a_changed_encoder_does_not_reupload_the_same_source() {
    let f = no_filter();
    let mut l = file("a.css", b"body { color: red }");
    gz(&mut l, b"\x1f\x8bNEWER");
    let older = obj("a.css", b"\x1f\x8bOLDER");
    let run = |ev: Evidence| {
        let ev = BTreeMap::from([("a.css".to_string(), ev)]);
        plan(
            std::slice::from_ref(&l),
            std::slice::from_ref(&older),
            &ev,
            &opts(&f),
        )
        .assets
        .first()
        .map(|u| u.reason)
    };
    let same_source = Evidence {
        source_md5: Some(l.md5),
        content_encoding: Some("gzip".into()),
        ..Evidence::default()
    };
    assert_eq!(run(same_source.clone()), None);
    let as_br = Evidence {
        content_encoding: Some("br".into()),
        ..same_source.clone()
    };
    assert_eq!(run(as_br), Some(UploadReason::EncodingChanged));
    let edited = Evidence {
        source_md5: Some(md5_of(b"old source")),
        ..same_source
    };
    assert_eq!(run(edited), Some(UploadReason::ContentChanged));
}

#[test]
fn upload_headers_come_from_the_rules() {
    let c = crate::settings::rules::Config::parse(
        r#"
default_content_type = "text/html; charset=utf-8"
[[rule]]
match = "**"
cache_control = "max-age=60"
[[rule]]
match = "downloads/*"
content_type = "application/octet-stream"
content_disposition = "attachment"
content_language = "de"
redirect = "/files/"
headers = { "x-amz-meta-owner" = "web" }
"#,
        std::path::Path::new("s3site.toml"),
    )
    .unwrap();
    let mut l = file("site/downloads/a.txt", b"text");
    let h = upload_headers(&l, "downloads/a.txt", &c.rules);
    assert_eq!(h.content_type(), Some("application/octet-stream"));
    assert_eq!(h.get(Header::CacheControl), Some("max-age=60"));
    assert_eq!(h.get(Header::ContentDisposition), Some("attachment"));
    assert_eq!(h.get(Header::ContentLanguage), Some("de"));
    assert_eq!(h.get(Header::WebsiteRedirect), Some("/files/"));
    assert_eq!(h.metadata["owner"], "web");
    assert_eq!(h.content_encoding(), None);
    let pretty = file("site/about", b"<p>");
    let h = upload_headers(&pretty, "about", &c.rules);
    assert_eq!(h.content_type(), Some("text/html; charset=utf-8"));
    // A file the rules compress that does not shrink is marked, so repair accepts it plain.
    l.not_compressed = Some(NotCompressed::NoGain);
    let h = upload_headers(&l, "downloads/a.txt", &c.rules);
    assert_eq!(
        h.metadata[crate::content::meta::PLAIN_MARKER_KEY],
        crate::content::meta::NO_GAIN
    );
}

/// An SSE-KMS object's ETag is 32 hex digits that are not its MD5: the stored MD5 decides
/// (one HEAD), so a bucket encrypted with KMS is not uploaded again on every run.
#[test]
fn a_kms_etag_that_is_not_the_md5_is_decided_by_the_stored_md5() {
    let f = Filter::new::<&str>(&[]).unwrap();
    let l = file("a.css", b"body{}");
    let kms = RemoteObject {
        etag: ETag::Md5(md5_of(b"an opaque kms etag")),
        ..obj("a.css", b"body{}")
    };
    assert_eq!(
        needing_evidence(std::slice::from_ref(&l), std::slice::from_ref(&kms)).len(),
        1
    );
    let proven = BTreeMap::from([(
        "a.css".to_string(),
        Evidence {
            stored_md5: Some(md5_of(b"body{}")),
            ..Evidence::default()
        },
    )]);
    let p = plan(
        std::slice::from_ref(&l),
        std::slice::from_ref(&kms),
        &proven,
        &opts(&f),
    );
    assert!(p.assets.is_empty() && p.unchanged.len() == 1, "{p:?}");
    // Without a stored MD5 it is a change, as before.
    let p = plan(
        std::slice::from_ref(&l),
        &[kms],
        &BTreeMap::new(),
        &opts(&f),
    );
    assert_eq!(keys(&p.assets), [("a.css", UploadReason::ContentChanged)]);
}

/// An upload whose ETag will not be its MD5 (SSE-KMS, flagged or kept) stores the MD5.
#[test]
fn a_kms_upload_stores_its_md5() {
    let f = Filter::new::<&str>(&[]).unwrap();
    let kms = Placement {
        encryption: Encryption::Kms {
            algorithm: "aws:kms".into(),
            key_id: None,
            bucket_key: false,
        },
        ..Placement::default()
    };
    let mut o = opts(&f);
    o.placement = &kms;
    let l = file("a.css", b"body{}");
    let p = plan(std::slice::from_ref(&l), &[], &BTreeMap::new(), &o);
    let stored = &p.assets[0].put.headers.metadata[crate::content::meta::MD5_METADATA_KEY];
    assert_eq!(etag::parse_stored_md5(stored), Some(md5_of(b"body{}")));
    // Kept from the object it replaces: the same.
    let p = plan(std::slice::from_ref(&l), &[], &BTreeMap::new(), &opts(&f));
    let mut put = p.assets[0].put.clone();
    assert!(
        !put.headers
            .metadata
            .contains_key(crate::content::meta::MD5_METADATA_KEY)
    );
    keep(
        &mut put,
        Kept {
            encryption: kms.encryption.clone(),
            ..Kept::default()
        },
    );
    assert!(
        put.headers
            .metadata
            .contains_key(crate::content::meta::MD5_METADATA_KEY)
    );
}

/// Under a bucket's SSE-KMS default no ETag is the MD5: each upload that sets no encryption of
/// its own stores its MD5, so the next run compares that instead of uploading again.
#[test]
fn uploads_to_a_kms_bucket_store_their_md5() {
    let f = no_filter();
    let stored = |default: &Encryption, own: Encryption| {
        let mut p = plan(
            &[file("a.css", b"body{}")],
            &[],
            &BTreeMap::new(),
            &opts(&f),
        );
        p.assets[0].put.placement.encryption = own;
        store_md5_under(&mut p, default);
        p.assets[0]
            .put
            .headers
            .metadata
            .get(crate::content::meta::MD5_METADATA_KEY)
            .cloned()
    };
    let kms = Encryption::Kms {
        algorithm: "aws:kms".into(),
        key_id: None,
        bucket_key: false,
    };
    assert_eq!(
        stored(&kms, Encryption::None),
        Some(etag::to_base64(&md5_of(b"body{}")))
    );
    assert_eq!(stored(&Encryption::S3, Encryption::None), None);
    assert_eq!(stored(&Encryption::None, Encryption::None), None);
    assert_eq!(
        stored(&kms, Encryption::S3),
        None,
        "its own SSE-S3: the ETag is the MD5"
    );
}
