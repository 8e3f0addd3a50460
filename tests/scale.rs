//! `s3site repair` on buckets too large to hold: a streamed listing cut into folders, records
//! as NDJSON lines, keys from a file or an S3 Inventory report, `--max-objects` and
//! `--start-after`, and `--assume-utf8` — against real servers, checked with HEAD and with the
//! requests the proxy saw.

use crate::util::{TestEnv, assert_exit, each_server, stderr, stdout};
use std::collections::BTreeSet;
use std::io::Write as _;

/// Keys whose byte order and folder-first order differ (`a-1` < `a/1` in bytes; SeaweedFS lists
/// `a/` first), with spaces, `+` and non-ASCII.
const KEYS: &[&str] = &[
    "site/a-1.css",
    "site/a/1.css",
    "site/a/b-2.css",
    "site/a/b/3.css",
    "site/a0.css",
    "site/b 4.css",
    "site/c+d/5.css",
    "site/c/6.css",
    "site/grüße/7.css",
    "site/z.css",
];

fn seed(t: &TestEnv, keys: &[&str]) {
    for k in keys {
        t.put_with(k, b"a{}", |r| {
            r.content_type("text/plain").content_encoding("UTF-8")
        });
    }
    t.put_with("other/x.css", b"x{}", |r| {
        r.content_type("text/plain").content_encoding("UTF-8")
    });
}

/// The record lines and the last line of `--output ndjson`.
fn ndjson(out: &std::process::Output) -> (Vec<serde_json::Value>, serde_json::Value) {
    let mut lines: Vec<serde_json::Value> = stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let end = lines.pop().expect("a totals line");
    assert!(end.get("totals").is_some(), "{end}");
    (lines, end)
}

fn keys_of(records: &[serde_json::Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect()
}

fn fixed(t: &TestEnv, key: &str) -> bool {
    let h = t.head(key).unwrap();
    h.content_encoding.is_none() && h.content_type.as_deref() == Some("text/css; charset=utf-8")
}

#[test]
fn a_streamed_repair_lists_folders_at_once_and_misses_or_repeats_no_key() {
    each_server("stream-repair", |t| {
        seed(t, KEYS);
        let out = t.repair("site/", &["--output", "ndjson"]);
        assert_exit(&out, 0);
        let (records, end) = ndjson(&out);
        let got = keys_of(&records);
        let unique: BTreeSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "a key twice: {got:?}");
        assert_eq!(unique.into_iter().cloned().collect::<Vec<_>>(), KEYS);
        assert!(
            records
                .iter()
                .all(|r| r["result"] == "ok" && r["action"] == "repair")
        );
        assert_eq!(end["totals"]["repaired"], KEYS.len());
        assert_eq!(end["resume_after"], serde_json::Value::Null);
        assert!(KEYS.iter().all(|k| fixed(t, k)));
        assert!(!fixed(t, "other/x.css"));
        // One listing with a delimiter cut the prefix, then each folder was listed by itself.
        let lists: Vec<String> = t
            .proxy
            .requests()
            .iter()
            .filter(|r| r.is_list())
            .map(|r| r.query.clone())
            .collect();
        assert_eq!(
            lists.iter().filter(|q| q.contains("delimiter=")).count(),
            1,
            "{lists:?}"
        );
        assert_eq!(lists.len(), 1 + 4, "the cut and four folders: {lists:?}");
    });
}

#[test]
fn a_limited_run_goes_on_where_it_stopped_on_every_store_order() {
    each_server("max-objects", |t| {
        seed(t, KEYS);
        let mut seen: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        for round in 0..5 {
            let mut args = vec!["--output", "ndjson", "--max-objects", "3", "--dry-run"];
            if let Some(a) = &after {
                args.extend(["--start-after", a.as_str()]);
            }
            let out = t.repair("site/", &args);
            assert_exit(&out, 0);
            let (records, end) = ndjson(&out);
            seen.extend(keys_of(&records));
            match end["resume_after"].as_str() {
                Some(k) => after = Some(k.to_string()),
                None => break,
            }
            assert!(round < 4, "still not done: {seen:?}");
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), seen.len(), "a key checked twice: {seen:?}");
        assert_eq!(sorted, KEYS);
    });
}

#[test]
fn keys_from_a_file_are_the_only_ones_checked() {
    each_server("keys-from", |t| {
        seed(t, KEYS);
        let list = t.home().join("keys.csv");
        let mut f = std::fs::File::create(&list).unwrap();
        writeln!(f, "{},site/b%204.css,a reason", t.bucket).unwrap();
        writeln!(f, "{},site/gr%C3%BC%C3%9Fe/7.css", t.bucket).unwrap();
        drop(f);
        let out = t.repair("site/", &["--keys-from", list.to_str().unwrap()]);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("repaired 2, right 0"),
            "{}",
            stdout(&out)
        );
        let heads = t.proxy.requests().iter().filter(|r| r.is_head()).count();
        let lists = t.proxy.requests().iter().filter(|r| r.is_list()).count();
        assert_eq!((heads, lists), (2, 0));
        assert!(fixed(t, "site/b 4.css") && fixed(t, "site/grüße/7.css"));
        assert!(!fixed(t, "site/z.css"));
    });
}

#[test]
fn a_bad_keys_file_or_resume_point_stops_before_any_request() {
    each_server("keys-from-bad", |t| {
        let list = t.home().join("keys.txt");
        std::fs::write(&list, "site/a.css\nelsewhere/b.css\n").unwrap();
        let out = t
            .repair_cmd("site/")
            .args(["--keys-from", list.to_str().unwrap()])
            .expect(2);
        assert!(
            stderr(&out).contains("line 2: 'elsewhere/b.css' is not under 'site/'"),
            "{}",
            stderr(&out)
        );
        let out = t
            .repair_cmd("site/")
            .args(["--start-after", "x/y"])
            .expect(2);
        assert!(
            stderr(&out).contains("not under the prefix"),
            "{}",
            stderr(&out)
        );
        assert!(t.proxy.requests().is_empty(), "{:?}", t.proxy.requests());
    });
}

#[test]
fn assume_utf8_reads_no_body_and_the_summary_says_what_was_read() {
    each_server("assume-utf8", |t| {
        seed(t, KEYS);
        let out = t.repair("site/", &["--dry-run"]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains(", read 30 B in"), "{}", stdout(&out));
        let gets = |t: &TestEnv| {
            t.proxy
                .requests()
                .iter()
                // GetObject (`?acl` and `?ownershipControls` read no body).
                .filter(|r| r.method == "GET" && r.query.contains("x-id=GetObject"))
                .count()
        };
        assert_eq!(gets(t), KEYS.len());
        t.proxy.clear();
        let out = t.repair("site/", &["--assume-utf8"]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains(", read 0 B in"), "{}", stdout(&out));
        assert_eq!(gets(t), 0);
        assert!(KEYS.iter().all(|k| fixed(t, k)));
    });
}

/// Gzip'd CSV, as S3 Inventory writes its data files.
fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

#[test]
fn an_inventory_report_gives_the_keys_and_skips_what_a_copy_cannot_fix() {
    each_server("inventory", |t| {
        seed(t, KEYS);
        let b = &t.bucket;
        let rows = [
            format!(
                "\"{b}\",\"site/a-1.css\",\"\",\"true\",\"false\",\"3\",\"STANDARD\",\"NOT-SSE\""
            ),
            format!(
                "\"{b}\",\"site/b+4.css\",\"\",\"true\",\"false\",\"3\",\"STANDARD\",\"SSE-S3\""
            ),
            format!(
                "\"{b}\",\"site/a0.css\",\"\",\"true\",\"false\",\"3\",\"GLACIER\",\"NOT-SSE\""
            ),
            format!("\"{b}\",\"site/z.css\",\"\",\"true\",\"false\",\"3\",\"STANDARD\",\"SSE-C\""),
            format!(
                "\"{b}\",\"site/c/6.css\",\"v1\",\"false\",\"false\",\"3\",\"STANDARD\",\"NOT-SSE\""
            ),
            format!(
                "\"{b}\",\"other/x.css\",\"\",\"true\",\"false\",\"3\",\"STANDARD\",\"NOT-SSE\""
            ),
        ];
        let data = gzip(&(rows.join("\n") + "\n"));
        let data_key = "inv/data/part-0.csv.gz";
        t.put(data_key, &data);
        let manifest = serde_json::json!({
            "sourceBucket": b,
            "destinationBucket": format!("arn:aws:s3:::{b}"),
            "version": "2016-11-30",
            "fileFormat": "CSV",
            "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, StorageClass, EncryptionStatus",
            "files": [{"key": data_key, "size": data.len(), "MD5checksum": crate::util::md5_hex(&data)}],
        });
        t.put("inv/manifest.json", manifest.to_string().as_bytes());
        t.proxy.clear();
        let inv = format!("s3://{b}/inv/manifest.json");
        let out = t.repair("site/", &["--inventory", &inv, "--output", "ndjson"]);
        assert_exit(&out, 0);
        let (records, end) = ndjson(&out);
        let result = |k: &str| {
            records
                .iter()
                .find(|r| r["key"] == k)
                .map(|r| r["result"].as_str().unwrap().to_string())
        };
        assert_eq!(result("site/a-1.css").as_deref(), Some("ok"));
        assert_eq!(result("site/b 4.css").as_deref(), Some("ok"));
        assert_eq!(result("site/a0.css").as_deref(), Some("skipped"));
        assert_eq!(result("site/z.css").as_deref(), Some("skipped"));
        assert_eq!(result("site/c/6.css"), None, "not the current version");
        assert_eq!(result("other/x.css"), None, "not under the prefix");
        assert_eq!(end["totals"]["repaired"], 2);
        assert_eq!(end["totals"]["skipped"], 2);
        let heads: Vec<String> = t
            .proxy
            .requests()
            .iter()
            .filter(|r| r.is_head())
            .map(|r| r.path.clone())
            .collect();
        // The manifest, the data file, and the two objects to check; no LIST.
        assert_eq!(heads.len(), 4, "{heads:?}");
        assert!(!t.proxy.requests().iter().any(|r| r.is_list()));
        assert!(fixed(t, "site/a-1.css") && fixed(t, "site/b 4.css"));
        assert!(!fixed(t, "site/a0.css") && !fixed(t, "site/z.css"));
        // An inventory of another bucket is refused before any object is touched.
        let other = serde_json::json!({"sourceBucket": "elsewhere", "fileFormat": "CSV",
            "fileSchema": "Bucket, Key", "files": []});
        t.put("inv/other.json", other.to_string().as_bytes());
        let inv = format!("s3://{b}/inv/other.json");
        let out = t.repair_cmd("site/").args(["--inventory", &inv]).expect(1);
        assert!(
            stderr(&out).contains("it lists bucket 'elsewhere'"),
            "{}",
            stderr(&out)
        );
    });
}
