//! Whole runs of `sync::run` on the in-memory store: what a user sees in the bucket, the records
//! and the report, from the walk to the last delete.

use super::*;
use crate::content::header::Header;
use crate::report::{ExitCode, Outcome};
use crate::run::cancel::Cancel;
use crate::settings::filter::Filter;
use crate::settings::rules::Config;
use crate::settings::url::S3Url;
use crate::store::memory::MemoryStore;
use std::path::Path;

const RULES: &str = r#"
[[rule]]
match = "**/*.{css,png,html}"
compress = "gzip"
cache_control = "max-age=60"
"#;

/// A site: a page, a stylesheet that compresses, one too small to shrink, and a PNG.
fn site(dir: &Path) {
    let write = |rel: &str, body: &[u8]| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, body).expect("write");
    };
    write("index.html", "<p>hello, world</p>\n".repeat(20).as_bytes());
    write(
        "css/site.css",
        "body { color: red }\n".repeat(50).as_bytes(),
    );
    write("css/tiny.css", b"a{}");
    write("img/a.png", b"\x89PNG\r\n\x1a\n not really a png");
}

fn options(dry_run: bool) -> SyncOptions {
    let config = Config::parse(RULES, Path::new("s3site.toml")).expect("rules");
    SyncOptions {
        // Set to the site folder by `sync`.
        source: Arc::new(Source::new(Path::new(""), "www/")),
        scope: Scope {
            url: S3Url::parse("s3://b/www/").expect("url"),
            dry_run,
            filter: Filter::new::<&str>(&[]).expect("filter"),
            rules: config.rules,
        },
        delete: true,
        max_delete: None,
        repair: false,
        cache: Arc::new(HashCache::disabled()),
        placement: Placement::default(),
        keep: true,
        keep_unchanged: true,
        website: None,
        redirects: BTreeMap::new(),
    }
}

async fn sync(store: &MemoryStore, dir: &Path, opts: &SyncOptions) -> (Report, Vec<Record>) {
    let opts = &SyncOptions {
        source: Arc::new(Source::new(dir, &opts.scope.url.prefix)),
        ..opts.clone()
    };
    let files =
        crate::site::walk::walk(&opts.source, &opts.scope.filter, false, false).expect("walk");
    let seen = std::sync::Mutex::new(Vec::new());
    let sink = |r: &Record| seen.lock().expect("lock").push(r.clone());
    let cancel = Cancel::default();
    let report = run(Runner::new(store, 4, &cancel, &sink), files, opts, |_| {})
        .await
        .expect("sync");
    let seen = seen.into_inner().expect("lock");
    (report, seen)
}

#[tokio::test]
async fn a_first_sync_uploads_assets_then_pages_then_deletes_with_the_rules_headers() {
    let dir = tempfile::tempdir().expect("tmp");
    site(dir.path());
    let store = MemoryStore::default();
    store.insert("www/old.html", b"gone");
    store.insert("other/keep.html", b"outside the prefix");
    let (report, seen) = sync(&store, dir.path(), &options(false)).await;

    let log = store.write_log();
    let page = log
        .iter()
        .position(|w| w == "put www/index.html")
        .expect("page");
    for asset in [
        "put www/css/site.css",
        "put www/css/tiny.css",
        "put www/img/a.png",
    ] {
        let at = log.iter().position(|w| w == asset).expect(asset);
        assert!(at < page, "{asset} before the page: {log:?}");
    }
    assert_eq!(log.last().map(String::as_str), Some("delete www/old.html"));
    assert!(store.body("other/keep.html").is_some());

    let css = store.headers("www/css/site.css").expect("css");
    assert_eq!(css.content_encoding(), Some("gzip"));
    assert_eq!(css.content_type(), Some("text/css; charset=utf-8"));
    assert_eq!(css.get(Header::CacheControl), Some("max-age=60"));
    let body = store.body("www/css/site.css").expect("body");
    assert_eq!(&body[..2], &[0x1f, 0x8b], "stored gzip");
    let tiny = store.headers("www/css/tiny.css").expect("tiny");
    assert_eq!(tiny.content_encoding(), None);
    assert_eq!(
        tiny.metadata.get("s3site-compress").map(String::as_str),
        Some("no-gain")
    );

    assert_eq!(
        report.notes,
        [
            "uploaded plain although a rule says compress: 1 already in a compressed format \
          (www/img/a.png); 1 that compressing would not shrink (www/css/tiny.css)"
        ]
    );
    let t = report.totals();
    assert_eq!((t.uploaded, t.deleted, t.unchanged, t.failed), (4, 1, 0, 0));
    assert_eq!(report.exit_code(), ExitCode::Ok);
    assert_eq!(seen, report.records, "the sink saw every record");

    // A second run finds everything unchanged (compressed bodies compared as uploaded).
    let (again, _) = sync(&store, dir.path(), &options(false)).await;
    assert_eq!(store.write_log().len(), log.len(), "nothing written");
    assert_eq!(again.totals().unchanged, 4);
    assert!(again.notes.is_empty(), "{:?}", again.notes);
}

#[tokio::test]
async fn a_dry_run_plans_every_action_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    site(dir.path());
    let store = MemoryStore::default();
    store.insert("www/old.html", b"gone");
    let (report, _) = sync(&store, dir.path(), &options(true)).await;
    assert!(store.write_log().is_empty(), "{:?}", store.write_log());
    assert!(
        report.records.iter().all(|r| r.outcome == Outcome::Planned),
        "{:?}",
        report.records
    );
    let doc = report.to_json();
    let results: Vec<&str> = doc["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["result"].as_str().expect("result"))
        .collect();
    assert_eq!(results, ["planned"; 5]);
    assert_eq!(doc["dry_run"], true);
    assert_eq!(report.totals().uploaded, 4);
    assert_eq!(report.exit_code(), ExitCode::Ok);
    assert!(
        report
            .summary()
            .starts_with("dry run, nothing written: would have uploaded 4")
    );
}
