//! Faults injected by the test proxy between s3site and real servers: transient errors are
//! retried, persistent ones fail the run without deleting anything, and a rerun converges.

use crate::util::proxy::FaultKind::{CutBody, Reset, Status};
use crate::util::{TestEnv, assert_exit, each_server, files_under, md5_hex, stderr, stdout};

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
        t.copy_fixture_site();
        for i in 0..30 {
            t.write(
                &format!("gen/{i:02}.css"),
                format!(".c{i} {{ color: red }}"),
            );
        }
        // Slow uploads, so the run is surely in the middle when the signal comes.
        t.proxy.fault(
            |s| s.is_put_object(),
            crate::util::proxy::FaultKind::Delay(300),
            None,
        );
        let child = t
            .cmd()
            .arg("sync")
            .arg(t.site())
            .arg(t.url(""))
            .args(["--concurrency", "2", "--delete"])
            .args(["--endpoint-url", &t.proxy.endpoint, "--path-style"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !t.proxy.requests().iter().any(|r| r.is_put_object()) {
            assert!(started.elapsed().as_secs() < 30, "no upload started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let kill = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let out = child.wait_with_output().unwrap();
        assert_exit(&out, 130);
        assert!(
            stderr(&out).contains("interrupted: finishing the requests in flight"),
            "{}",
            stderr(&out)
        );
        let text = stdout(&out);
        assert!(text.contains("not run: upload"), "{text}");
        assert!(text.contains("interrupted: uploaded"), "{text}");
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
        for k in &keys {
            let body = std::fs::read(t.site().join(k)).unwrap();
            assert_eq!(md5_hex(&t.get(k)), md5_hex(&body), "{k}: complete");
        }
        t.proxy.clear_faults();
        assert_exit(&t.sync("", &["--delete"]), 0);
        assert_matches_site(t, "");
    });
}
