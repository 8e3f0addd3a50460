//! Regression tests for the cases of the second reliability review: listings on stores that do
//! not sort, keys a store rewrites or cannot list, races with other writers and processes, and
//! how a run ends (signals, a closed stdout, throttling, expired credentials).

use crate::util::{
    Capability, TestEnv, assert_exit, each_server, each_server_with, stderr, stdout,
};
use std::process::Output;

/// `s3site sync SITE URL ARGS...` with `page`-key listing pages (so a few dozen files make
/// several slices).
fn sync_paged(t: &TestEnv, page: usize, args: &[&str]) -> Output {
    t.sync_env("", &[("S3SITE_LIST_PAGE", &page.to_string())], args)
}

/// SeaweedFS lists `a/0001` before `a-0001`: slices cut in byte order miss keys there. A no-op
/// must write nothing and `--delete` must find every stray, on every server.
#[test]
fn listing_out_of_byte_order_misses_no_key() {
    each_server("unsorted-listing", |t| {
        for i in 0..15 {
            t.write(&format!("a/{i:04}.txt"), format!("in a/ {i}"));
            t.write(&format!("a-{i:04}.txt"), format!("beside a/ {i}"));
        }
        assert_exit(&sync_paged(t, 5, &[]), 0);
        t.proxy.clear();
        let out = sync_paged(t, 5, &[]);
        assert_exit(&out, 0);
        assert!(t.proxy.writes().is_empty(), "{:?}", t.proxy.writes());
        assert!(stdout(&out).contains("unchanged 30"), "{}", stdout(&out));
        t.put("a/stray.txt", b"old");
        t.put("a-stray.txt", b"old");
        let out = sync_paged(t, 5, &["--delete"]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("deleted 2"), "{}", stdout(&out));
        assert_eq!(t.keys().len(), 30);
        assert!(!t.keys().iter().any(|k| k.contains("stray")));
    });
}

/// The site has no key that sorts differently (only `a-NNNN`), the bucket has strays under
/// `a/`: on SeaweedFS they come first and end the first slice at once.
#[test]
fn strays_a_store_lists_first_are_found_and_deleted() {
    each_server("unsorted-strays", |t| {
        for i in 0..15 {
            t.write(&format!("a-{i:04}.txt"), format!("file {i}"));
        }
        assert_exit(&sync_paged(t, 5, &[]), 0);
        t.put("a/old.txt", b"old");
        t.put("a/older.txt", b"old");
        t.proxy.clear();
        let out = sync_paged(t, 5, &["--delete", "-v"]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("unchanged 15"), "{}", stdout(&out));
        assert!(stdout(&out).contains("deleted 2"), "{}", stdout(&out));
        assert_eq!(t.keys().len(), 15, "{:?}", t.keys());
        if !t.has(Capability::ListsInByteOrder) {
            assert!(
                stderr(&out).contains("does not list keys in S3's byte order"),
                "{}",
                stderr(&out)
            );
        }
    });
}

/// A key with a control character cannot travel in a listing's XML: a bucket that holds one
/// (put there by another tool) still syncs, and `--delete` removes it; a file with one in its
/// name is refused before any request, naming it.
#[test]
fn control_characters_in_keys_never_break_the_bucket() {
    each_server("control-chars", |t| {
        t.write("index.html", "<p>hi</p>");
        t.put("ctl\u{1}x.txt", b"from another tool");
        // (A stored `\n` cannot be seeded: moto's HTTP server does not route %0A.)
        t.put("sp ace+plus%.txt", b"from another tool");
        let out = t.sync("", &["--delete"]);
        assert_exit(&out, 0);
        assert_eq!(t.keys(), ["index.html"], "{}", stdout(&out));
        assert!(stdout(&out).contains("deleted 2"), "{}", stdout(&out));

        t.write("bad\u{1}name.txt", "x");
        t.proxy.clear();
        let out = t.sync("", &[]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains("bad\\u{1}name.txt"), "{err}");
        assert!(err.contains("control character"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(t.proxy.requests().is_empty(), "{:?}", t.proxy.requests());
    });
}

/// SeaweedFS stores `back\slash.txt` as `back/slash.txt`. A `sync --delete` must never delete
/// what the site's file became, and must not upload it again on every run.
#[test]
fn a_key_the_store_rewrites_is_never_deleted_or_uploaded_forever() {
    each_server("rewritten-key", |t| {
        t.write("back\\slash.txt", "kept");
        t.write("index.html", "<p>hi</p>");
        assert_exit(&t.sync("", &["--delete"]), 0);
        let stored = if !t.has(Capability::KeepsKeysAsSent) {
            "back/slash.txt"
        } else {
            "back\\slash.txt"
        };
        for run in 0..2 {
            t.proxy.clear();
            let out = t.sync("", &["--delete"]);
            assert_exit(&out, 0);
            assert!(
                t.proxy.writes().is_empty(),
                "run {run}: {:?}\n{}",
                t.proxy.writes(),
                stdout(&out)
            );
            assert_eq!(t.get(stored), b"kept", "run {run}");
            if !t.has(Capability::KeepsKeysAsSent) {
                assert!(
                    stdout(&out).contains("the store keeps 'back\\slash.txt' as 'back/slash.txt'"),
                    "{}",
                    stdout(&out)
                );
            }
        }
    });
}

/// Two runs at once: another process is uploading the same key in parts. s3site's cleanup of
/// stale multipart uploads must not abort that live one (it is minutes, not a day, old).
#[test]
fn another_process_live_multipart_upload_is_not_aborted() {
    each_server_with(Capability::ReportsUploadStartTimes, "live-multipart", |t| {
        let body = crate::util::body_13mib(253);
        t.put_with("video.mp4", &body, |r| {
            r.content_type("binary/octet-stream")
        });
        let (id, part) = t.sdk(async |c, b| {
            let up = c
                .create_multipart_upload()
                .bucket(b)
                .key("video.mp4")
                .send()
                .await
                .unwrap();
            let id = up.upload_id().unwrap().to_string();
            let part = c
                .upload_part()
                .bucket(b)
                .key("video.mp4")
                .upload_id(&id)
                .part_number(1)
                .body(aws_sdk_s3::primitives::ByteStream::from_static(
                    b"other run",
                ))
                .send()
                .await
                .unwrap();
            (id, part.e_tag().unwrap().to_string())
        });
        // A repair copies it in parts (and first cleans up stale uploads of the key).
        let out = t.repair_in_parts();
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("repaired 1"), "{}", stdout(&out));
        // The other process can still finish its upload.
        t.sdk(async |c, b| {
            use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
            c.complete_multipart_upload()
                .bucket(b)
                .key("video.mp4")
                .upload_id(&id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .parts(CompletedPart::builder().part_number(1).e_tag(part).build())
                        .build(),
                )
                .send()
                .await
                .expect("the other process's upload is still live");
        });
        assert_eq!(t.get("video.mp4"), b"other run");
    });
}

/// `s3site sync … | head -1`: the reader is gone before s3site writes. The run must not
/// crash (it used to panic with exit 101 mid-upload): it finishes and exits with its own code.
#[test]
fn a_closed_stdout_never_stops_a_run() {
    each_server("closed-stdout", |t| {
        t.copy_fixture_site();
        let run = |args: &[&str]| {
            // The arguments name the endpoint themselves (or, for explain, none).
            let mut child = t.cmd().no_endpoint().args(args).spawn();
            drop(child.stdout.take());
            child.wait_with_output().unwrap()
        };
        let site = t.site();
        let url = t.url("");
        let sync = [
            "sync",
            site.to_str().unwrap(),
            &url,
            "--endpoint-url",
            &t.proxy.endpoint,
            "--path-style",
        ];
        let out = run(&sync);
        assert_exit(&out, 0);
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
        assert_eq!(t.keys().len(), 26);
        let mut json = sync.to_vec();
        json.extend(["--output", "json"]);
        assert_exit(&run(&json), 0);
        let out = run(&["explain", "index.html", "a.css", "b.js"]);
        assert_exit(&out, 0);
        assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    });
}

/// A store that answers half of all uploads with 503 SlowDown: every upload gets retried (the
/// SDK's retry quota used to run dry, so most later failures got one attempt) and the run
/// finishes with everything uploaded.
#[test]
fn a_throttled_run_slows_down_and_finishes() {
    each_server("throttled", |t| {
        for i in 0..300 {
            t.write(&format!("p/{i:03}.txt"), format!("page {i}"));
        }
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        t.proxy.fault(
            move |s| {
                s.is_put_object()
                    && n.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                        .is_multiple_of(2)
            },
            crate::util::proxy::FaultKind::Status(503),
            None,
        );
        let out = t.sync("", &["--concurrency", "16", "-v"]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("uploaded 300"), "{}", stdout(&out));
        assert!(t.proxy.injected() >= 300, "{} injected", t.proxy.injected());
        assert!(
            stderr(&out).contains("the store says slow down: at most"),
            "{}",
            stderr(&out)
        );
        assert_eq!(t.keys().len(), 300);
        // Throttled listing pages, in slices: a no-op still finishes, writing nothing.
        t.proxy.clear_faults();
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        t.proxy.fault(
            move |s| {
                s.is_list()
                    && n.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                        .is_multiple_of(2)
            },
            crate::util::proxy::FaultKind::Status(503),
            None,
        );
        t.proxy.clear();
        let out = t.sync_env("", &[("S3SITE_LIST_PAGE", "50")], &[]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("unchanged 300"), "{}", stdout(&out));
        assert!(t.proxy.writes().is_empty());
    });
}

/// Credentials that expire mid-run (ExpiredToken) fail every further request: the run halts
/// like on access denied (exit 2), with one line saying why, and deletes nothing.
#[test]
fn expired_credentials_halt_the_run() {
    each_server("expired-token", |t| {
        for i in 0..20 {
            t.write(&format!("p/{i:02}.txt"), format!("page {i}"));
        }
        t.put("stray.txt", b"old");
        t.proxy.fault(
            |s| s.is_put_object(),
            crate::util::proxy::FaultKind::Error(400, "ExpiredToken"),
            None,
        );
        let out = t.sync("", &["--delete", "--concurrency", "2"]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains("credentials expired"), "{err}");
        assert!(
            t.proxy
                .requests()
                .iter()
                .filter(|r| r.is_put_object())
                .count()
                < 20,
            "not every upload tried: {:?}",
            t.proxy.requests()
        );
        assert!(t.keys().contains(&"stray.txt".to_string()));
        for line in err.lines() {
            assert!(line.len() < 400, "one short line: {line}");
        }
        // A repair whose HEADs meet expired credentials halts too.
        for i in 0..5 {
            t.put(&format!("old/{i}.css"), b"a{}");
        }
        t.proxy.clear_faults();
        // (A HEAD's 400 has no body, so no code: s3site asks with a one-byte GET.)
        t.proxy.fault(
            |s| s.is_head() || (s.method == "GET" && !s.is_list()),
            crate::util::proxy::FaultKind::Error(400, "ExpiredToken"),
            None,
        );
        t.proxy.clear();
        let out = t.repair("", &["--concurrency", "1"]);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("credentials expired"),
            "{}",
            stderr(&out)
        );
        let heads = t.proxy.requests().iter().filter(|r| r.is_head()).count();
        assert!(
            heads < t.keys().len(),
            "{heads} HEADs: not every object tried"
        );
    });
}

/// A failed request is one line: the S3 error code, its message, the HTTP status and the key;
/// the SDK's whole chain only with -v.
#[test]
fn runtime_errors_are_one_short_line() {
    each_server("one-line-errors", |t| {
        t.write("a.css", "a{}");
        t.write("b.css", "b{}");
        t.proxy.fault(
            |s| s.is_put_object() && s.path.ends_with("/a.css"),
            crate::util::proxy::FaultKind::Status(500),
            None,
        );
        let out = t.sync("", &[]);
        assert_exit(&out, 1);
        let err = stderr(&out);
        let line = err
            .lines()
            .find(|l| l.contains("a.css"))
            .unwrap_or_else(|| panic!("{err}"));
        assert!(
            line.contains("InternalError: injected by the test proxy (HTTP 500)"),
            "{line}"
        );
        assert!(line.len() < 200, "{line}");
        assert!(
            !err.contains("ServiceError") && !err.contains("headers"),
            "{err}"
        );
        let verbose = t.sync("", &["-v"]);
        assert!(
            stderr(&verbose).contains("ServiceError"),
            "{}",
            stderr(&verbose)
        );
    });
}

/// The most detailed log shows no credential: not the secret or token (the SDK hides those),
/// and not the access key id either.
#[test]
fn trace_logs_show_no_credentials() {
    each_server("trace-log", |t| {
        t.write("a.txt", "a");
        let out = t.sync_env("", &[("S3SITE_LOG", "trace")], &[]);
        assert_exit(&out, 0);
        let log = stderr(&out);
        assert!(
            log.contains("redacted"),
            "the trace shows the credentials' place"
        );
        assert!(
            !log.contains(crate::util::ACCESS_KEY),
            "access key id in the log"
        );
    });
}

/// A page moved to a new name (the same bytes): s3site checks with one LIST that the new key
/// lists back under its own name (could the store have stored it under the old one?), then
/// deletes the old object.
#[test]
fn a_moved_page_is_still_deleted_after_one_check() {
    each_server("moved-page", |t| {
        t.write("old.html", "<p>the page</p>");
        t.write("index.html", "<p>home</p>");
        assert_exit(&t.sync("", &[]), 0);
        std::fs::rename(t.site().join("old.html"), t.site().join("new.html")).unwrap();
        t.proxy.clear();
        let out = t.sync("", &["--delete"]);
        assert_exit(&out, 0);
        assert_eq!(t.keys(), ["index.html", "new.html"], "{}", stdout(&out));
        let lists = t.proxy.requests().iter().filter(|r| r.is_list()).count();
        assert_eq!(
            lists,
            2,
            "the listing and one check: {:?}",
            t.proxy.requests()
        );
    });
}

/// SIGTERM in the middle of a repair: the copy in flight finishes, no other starts, exit 143,
/// and the summary says where to go on; going on from there repeats no HEAD and no copy.
#[test]
fn sigterm_stops_a_repair_after_the_copies_in_flight_and_it_goes_on_from_there() {
    each_server("repair-sigterm", |t| {
        let keys: Vec<String> = (0..20).map(|i| format!("d{}/{i:02}.css", i % 3)).collect();
        for k in &keys {
            t.put_with(k, b"a{}", |r| {
                r.content_type("text/plain").content_encoding("UTF-8")
            });
        }
        t.proxy.fault(
            |s| s.is_copy_object(),
            crate::util::proxy::FaultKind::Delay(300),
            None,
        );
        let url = t.url("");
        let args = ["repair", &url, "--concurrency", "1"];
        let out = t.signalled(&args, |r| r.is_copy_object(), "-TERM");
        assert_exit(&out, 143);
        let text = stdout(&out);
        assert!(text.contains("terminated (SIGTERM): repaired"), "{text}");
        let copied = |reqs: &[crate::util::proxy::Seen]| -> Vec<String> {
            reqs.iter()
                .filter(|r| r.is_copy_object() || r.is_head())
                .map(|r| format!("{} {}", r.method, r.path))
                .collect()
        };
        let first = copied(&t.proxy.requests());
        let copies = t
            .proxy
            .requests()
            .iter()
            .filter(|r| r.is_copy_object())
            .count();
        assert!(copies < 20, "{copies} copies: the run stopped early");
        let fixed: Vec<&String> = keys
            .iter()
            .filter(|k| t.head(k).unwrap().content_encoding.is_none())
            .collect();
        assert_eq!(fixed.len(), copies, "every copy that started finished");
        let through = text
            .split("everything through '")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("no resume point: {text}"));
        assert!(
            fixed.iter().any(|k| k.as_str() == through),
            "{through}: {text}"
        );
        // Going on: every object not fixed yet, and none of the others, is looked at.
        t.proxy.clear();
        t.proxy.clear_faults();
        let out = t.repair("", &["--start-after", through, "--concurrency", "1"]);
        assert_exit(&out, 0);
        let second = copied(&t.proxy.requests());
        for r in &second {
            assert!(!first.contains(r), "{r} was done by the first run too");
        }
        assert!(
            keys.iter()
                .all(|k| t.head(k).unwrap().content_encoding.is_none())
        );
        let again = stdout(&out);
        assert!(
            again.contains(&format!("repaired {}, right 0", 20 - copies)),
            "{again}"
        );
    });
}
