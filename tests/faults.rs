//! Faults injected by the test proxy between s3site and real servers: transient errors are
//! retried, persistent ones fail the run without deleting anything, and a rerun converges.

use crate::util::proxy::FaultKind::{CutBody, Reset, Status};
use crate::util::proxy::Seen;
use crate::util::{
    Capability, TestEnv, assert_exit, each_server, each_server_with, files_under, md5_hex, stderr,
    stdout,
};

/// Asserts that the bucket (under `prefix`) holds exactly the site's files, byte for byte.
#[track_caller]
fn assert_matches_site(t: &TestEnv, prefix: &str) {
    let local: Vec<String> = files_under(&t.site())
        .into_iter()
        .filter(|k| k != ".DS_Store")
        .collect();
    let want: Vec<String> = local.iter().map(|k| format!("{prefix}{k}")).collect();
    let mut want = want;
    want.sort();
    assert_eq!(t.keys(), want);
    for rel in &local {
        let key = format!("{prefix}{rel}");
        let body = std::fs::read(t.site().join(rel)).unwrap();
        assert_eq!(
            md5_hex(&t.get(&key)),
            md5_hex(&body),
            "{key}: no partial content"
        );
    }
}

#[test]
fn transient_faults_are_retried_and_the_run_succeeds() {
    each_server("faults-transient", |t| {
        t.copy_fixture_site();
        let p = &t.proxy;
        p.fault(|s| s.is_list(), Status(503), Some(1));
        p.fault(|s| s.is_list(), CutBody, Some(1));
        p.fault(|s| s.is_put_object(), Status(500), Some(2));
        p.fault(|s| s.is_put_object(), Status(503), Some(2));
        p.fault(|s| s.is_put_object(), Reset, Some(2));
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        assert_eq!(p.injected(), 8, "every fault was hit");
        assert_matches_site(t, "");

        // Repairs: HEAD and COPY faults.
        t.put_with(
            "css/site.css",
            &std::fs::read(t.site().join("css/site.css")).unwrap(),
            |r| r.content_type("text/plain").content_encoding("UTF-8"),
        );
        p.clear_faults();
        p.fault(|s| s.is_head(), Status(500), Some(2));
        p.fault(|s| s.is_head(), Reset, Some(1));
        p.fault(|s| s.is_copy_object(), Status(503), Some(1));
        p.fault(|s| s.is_copy_object(), Reset, Some(1));
        let out = t.sync("", &["--repair"]);
        assert_exit(&out, 0);
        assert_eq!(p.injected(), 8 + 5);
        let h = t.head_full("css/site.css");
        assert_eq!(h.content_type(), Some("text/css; charset=utf-8"));
        assert_eq!(h.content_encoding(), None);
    });
}

#[test]
fn persistent_faults_fail_the_run_name_the_keys_delete_nothing_and_a_rerun_converges() {
    each_server("faults-persistent", |t| {
        t.copy_fixture_site();
        t.put("old/gone.html", b"<p>old</p>");
        let p = &t.proxy;
        p.fault(
            |s| s.is_put_object() && s.path.ends_with("/css/site.css"),
            Status(500),
            None,
        );
        let out = t.sync("", &["--delete"]);
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(err.contains("FAILED upload css/site.css"), "{err}");
        let text = stdout(&out);
        assert!(
            text.contains("not run: delete old/gone.html"),
            "nothing is deleted after a failed upload: {text}"
        );
        assert!(t.keys().contains(&"old/gone.html".to_string()));
        assert!(
            p.requests()
                .iter()
                .all(|r| r.method != "DELETE" && !r.query.contains("delete"))
        );
        // Pages were held back: no page is live whose stylesheet is missing.
        assert!(
            !t.keys().contains(&"index.html".to_string()),
            "{:?}",
            t.keys()
        );

        // The fault is gone: the rerun uploads only what did not make it, then deletes.
        p.clear_faults();
        p.clear();
        let uploaded_before = t.keys().len() - 1; // minus old/gone.html
        let out = t.sync("", &["--delete"]);
        assert_exit(&out, 0);
        let puts = p.requests().iter().filter(|r| r.is_put_object()).count();
        let local = files_under(&t.site())
            .into_iter()
            .filter(|k| k != ".DS_Store")
            .count();
        assert_eq!(
            puts,
            local - uploaded_before,
            "no file that made it is uploaded again"
        );
        assert_matches_site(t, "");
    });
}

#[test]
fn a_listing_that_fails_half_way_deletes_nothing() {
    each_server("faults-listing", |t| {
        // Two pages of listing: 1,001 objects that --delete would remove.
        t.sdk(async |c, bucket| {
            let puts = (0..1001).map(|i| {
                c.put_object()
                    .bucket(bucket)
                    .key(format!("old/{i:04}.html"))
                    .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
                    .send()
            });
            for r in futures::future::join_all(puts).await {
                r.unwrap();
            }
        });
        t.write("index.html", "<p>new</p>");
        t.proxy.fault(
            |s| s.is_list() && s.query.contains("continuation-token"),
            Status(500),
            None,
        );
        let out = t.sync("", &["--delete"]);
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(err.contains("listing"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(t.proxy.writes().is_empty(), "{:?}", t.proxy.writes());
        assert_eq!(t.keys().len(), 1001);
    });
}

#[test]
fn ctrl_c_finishes_what_is_in_flight_starts_nothing_else_and_exits_130() {
    each_server("faults-sigint", |t| {
        interrupt_mid_run(
            t,
            "-INT",
            130,
            "interrupted: finishing",
            "interrupted: uploaded",
        );
    });
}

/// CI systems send SIGTERM on cancel and timeout: the same as the first Ctrl-C, exit 143.
#[test]
fn sigterm_finishes_what_is_in_flight_deletes_nothing_and_exits_143() {
    each_server("faults-sigterm", |t| {
        interrupt_mid_run(
            t,
            "-TERM",
            143,
            "terminated (SIGTERM): finishing",
            "terminated (SIGTERM): uploaded",
        );
    });
}

/// Sends `signal` to a `sync --delete` in the middle of its uploads and checks that requests
/// in flight finished, nothing else started (no page, no delete), the summary was printed and
/// the exit code is `code`; then a rerun converges.
fn interrupt_mid_run(t: &TestEnv, signal: &str, code: i32, said: &str, summary: &str) {
    t.copy_fixture_site();
    for i in 0..30 {
        t.write(
            &format!("gen/{i:02}.css"),
            format!(".c{i} {{ color: red }}"),
        );
    }
    t.put("stray.txt", b"not in the site");
    // Slow uploads, so the run is surely in the middle when the signal comes.
    t.proxy.fault(
        |s| s.is_put_object(),
        crate::util::proxy::FaultKind::Delay(300),
        None,
    );
    let site = t.site();
    let url = t.url("");
    let args = [
        "sync",
        site.to_str().unwrap(),
        &url,
        "--concurrency",
        "2",
        "--delete",
    ];
    let out = t.signalled(&args, |r| r.is_put_object(), signal);
    assert_exit(&out, code);
    assert!(stderr(&out).contains(said), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("not run: upload"), "{text}");
    assert!(text.contains(summary), "{text}");
    let keys = t.keys();
    assert!(
        keys.len() < 26 + 30,
        "the run stopped early: {} keys",
        keys.len()
    );
    assert!(
        !keys.iter().any(|k| k.ends_with(".html")),
        "no page goes up after an interrupted asset phase: {keys:?}"
    );
    assert!(
        keys.iter().any(|k| k == "stray.txt"),
        "nothing deleted after the signal"
    );
    for k in keys.iter().filter(|k| *k != "stray.txt") {
        let body = std::fs::read(t.site().join(k)).unwrap();
        assert_eq!(md5_hex(&t.get(k)), md5_hex(&body), "{k}: complete");
    }
    t.proxy.clear_faults();
    assert_exit(&t.sync("", &["--delete"]), 0);
    assert_matches_site(t, "");
}

/// Multipart uploads still open in the test bucket.
fn open_uploads(t: &TestEnv) -> Vec<String> {
    t.sdk(async |c, bucket| {
        let out = c
            .list_multipart_uploads()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        out.uploads()
            .iter()
            .map(|u| u.key().unwrap_or("?").to_string())
            .collect()
    })
}

/// Starts `s3site ARGS` against the proxy and kills it with SIGKILL `ms` milliseconds after
/// the proxy first sees a request `after` accepts (from the start, with `None`).
fn kill_after(t: &TestEnv, args: &[&str], after: Option<fn(&Seen) -> bool>, ms: u64) {
    t.proxy.clear();
    let mut child = t
        .cmd()
        .args(args)
        .arg("-q")
        .into_command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    if let Some(seen) = after {
        let started = std::time::Instant::now();
        while !t.proxy.requests().iter().any(seen) {
            assert!(
                started.elapsed().as_secs() < 60,
                "the awaited request never came"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(ms));
    let _ = child.kill();
    let _ = child.wait();
}

fn is_part(s: &Seen) -> bool {
    s.method == "PUT" && s.query.contains("uploadId")
}

fn is_batch_delete(s: &Seen) -> bool {
    s.method == "POST" && s.query.contains("delete")
}

#[test]
fn kill_9_at_any_moment_then_a_rerun_converges_with_no_partial_object_and_no_open_upload() {
    each_server("faults-kill9", |t| {
        t.copy_fixture_site();
        // Over the multipart threshold (64 MiB): killed mid-way, it leaves an open upload.
        let big: Vec<u8> = (0..(65 * 1024 * 1024 + 4321u32))
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        t.write("media/big.bin", &big);
        let site = t.site();
        let url = t.url("");
        let sync: Vec<&str> = vec!["sync", site.to_str().unwrap(), &url];
        // Deterministic "random" moments (ms): a small LCG, seeded.
        let mut seed: u64 = 0x5eed_0001;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            150 + (seed >> 33) % 1200
        };
        // Slow parts, so a kill can land while the big file is being uploaded.
        t.proxy
            .fault(is_part, crate::util::proxy::FaultKind::Delay(150), None);
        let mut left_open = 0;
        for round in 0..4 {
            // Round 0 kills at a moment counted from the start (hashing, listing, uploading);
            // the others while the big file's parts are going up.
            let after = (round > 0).then_some(is_part as fn(&Seen) -> bool);
            let ms = next() % if round > 0 { 400 } else { 1500 };
            kill_after(t, &sync, after, ms);
            left_open += open_uploads(t).len();
            let out = t.sync("", &[]);
            assert_exit(&out, 0);
            assert_matches_site(t, "");
            assert_eq!(
                open_uploads(t),
                Vec::<String>::new(),
                "after a kill at {ms} ms"
            );
            // Start over from an empty bucket for the next moment.
            t.sdk(async |c, bucket| {
                for k in ["media/big.bin", "index.html", "css/site.css"] {
                    c.delete_object()
                        .bucket(bucket)
                        .key(k)
                        .send()
                        .await
                        .unwrap();
                }
            });
        }

        assert!(
            left_open > 0,
            "at least one kill landed mid-multipart (else the cleanup went untested)"
        );

        // Killed during a --delete run: the rerun finishes the deletes and loses nothing.
        assert_exit(&t.sync("", &[]), 0);
        t.sdk(async |c, bucket| {
            let puts = (0..600).map(|i| {
                c.put_object()
                    .bucket(bucket)
                    .key(format!("old/{i:04}.html"))
                    .body(aws_sdk_s3::primitives::ByteStream::from_static(b"old"))
                    .send()
            });
            for r in futures::future::join_all(puts).await {
                r.unwrap();
            }
        });
        t.proxy.clear_faults();
        t.proxy.fault(
            is_batch_delete,
            crate::util::proxy::FaultKind::Delay(400),
            None,
        );
        let mut delete: Vec<&str> = sync.clone();
        delete.extend(["--delete", "--concurrency", "1"]);
        for _ in 0..2 {
            kill_after(t, &delete, Some(is_batch_delete), next() % 400);
        }
        t.proxy.clear_faults();
        assert_exit(&t.sync("", &["--delete"]), 0);
        assert_matches_site(t, "");
    });
}

#[test]
fn a_file_changed_during_its_upload_is_rejected_and_never_stored_mixed() {
    // moto does not check Content-MD5, so it would store the mix: only a server that verifies
    // the body, as S3 does, can show the rejection.
    each_server_with(
        Capability::VerifiesContentMd5,
        "faults-changing-file",
        |t| {
            let old: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
            t.write("media/clip.mp4", &old);
            t.write("index.html", "<p>hi</p>");
            let path = t.site().join("media/clip.mp4");
            // Just as the upload starts, the build rewrites the end of the file (same size).
            t.proxy.before(
                |s| s.is_put_object() && s.path.ends_with("/media/clip.mp4"),
                move |_| {
                    use std::io::{Seek, SeekFrom, Write};
                    let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                    f.seek(SeekFrom::Start(12 * 1024 * 1024)).unwrap();
                    f.write_all(&vec![0xAB; 4 * 1024 * 1024]).unwrap();
                },
            );
            let out = t.sync("", &[]);
            assert_exit(&out, 1);
            let err = stderr(&out);
            assert!(
                err.contains("FAILED upload media/clip.mp4")
                    && err.contains("modified during the upload"),
                "{err}"
            );
            assert!(
                !t.keys().contains(&"media/clip.mp4".to_string()),
                "no mix stored"
            );
            assert!(
                !t.keys().contains(&"index.html".to_string()),
                "pages held back"
            );
            // The next run uploads the file as it is now.
            let out = t.sync("", &[]);
            assert_exit(&out, 0);
            assert_matches_site(t, "");
        },
    );
}

#[test]
fn a_bucket_in_another_region_is_followed_and_v_says_so() {
    each_server("faults-region", |t| {
        t.write("index.html", "<p>far away</p>");
        for i in 0..12 {
            t.write(&format!("page-{i:02}.html"), format!("<p>{i}</p>"));
        }
        t.put("old.html", b"old");
        // The bucket "is" in eu-west-1: whatever is signed for us-east-1 is redirected.
        let east = |s: &Seen| s.region.as_deref() == Some("us-east-1");
        t.proxy.fault(
            east,
            crate::util::proxy::FaultKind::WrongRegion("eu-west-1"),
            None,
        );
        // Two keys a page: the listing goes out in several slices at once, all signed for
        // us-east-1, and those refused after the first switch are sent again too.
        let out = t.sync_env("", &[("S3SITE_LIST_PAGE", "2")], &["--delete", "-v"]);
        assert_exit(&out, 0);
        let err = stderr(&out);
        assert!(
            err.contains("is in eu-west-1, not us-east-1: following it"),
            "{err}"
        );
        assert_eq!(
            t.keys(),
            files_under(&t.site()),
            "exactly the site; old.html deleted"
        );
        let seen = t.proxy.requests();
        let redirected = seen.iter().filter(|s| east(s)).count();
        // Only the first requests (the listing slices sent at once) went to the wrong region.
        assert!((1..=8).contains(&redirected), "{redirected}: {seen:?}");
        assert!(
            seen.iter()
                .filter(|s| s.is_write())
                .all(|s| s.region.as_deref() == Some("eu-west-1")),
            "{seen:?}"
        );

        // --region still sets it: no request goes astray.
        t.proxy.clear();
        t.write("index.html", "<p>far away, again</p>");
        let out = t.sync("", &["--region", "eu-west-1"]);
        assert_exit(&out, 0);
        assert!(!t.proxy.requests().iter().any(east));

        // A redirect that names no region, for a bucket GetBucketLocation places where the
        // request went: not followed, exit 2 with the flag that fixes it.
        t.proxy.clear_faults();
        t.proxy.fault(
            |s: &Seen| s.region.as_deref() == Some("us-east-1") && !s.query.contains("location"),
            crate::util::proxy::FaultKind::Error(301, "PermanentRedirect"),
            None,
        );
        let out = t.sync("", &[]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.contains("is in another region") && err.contains("--region"),
            "{err}"
        );
    });
}
