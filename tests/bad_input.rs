//! Bad input: each gets one clear line naming the problem, the documented exit code, and no
//! write request (most get no request at all: checked with a recording proxy in front of an
//! address nothing listens on).
//!
//! | bad input | exit | test |
//! |---|---|---|
//! | DIR missing | 2 | `missing_dir` |
//! | DIR is a file | 2 | `dir_is_a_file` |
//! | unreadable file / unreadable folder | 2 | `unreadable_file_or_folder` |
//! | file name not UTF-8 | 2 | `non_utf8_file_name` |
//! | symlink loop / broken symlink | 2 | `symlink_loop`, `broken_symlink` |
//! | symlink leading outside DIR | 2 | `security::symlinks_leading_outside_dir_are_refused_unless_asked_for` |
//! | invalid URL (no bucket, bad characters, `s3:/x`, `http://`, `//`, a leading `/`, `.` or `..` in PREFIX) | 2 | `bad_urls`, `repair_bad_input` |
//! | file name with a control character | 2 | `reliability::control_characters_in_keys_never_break_the_bucket` |
//! | a flag error with `--output json` | 2, JSON on stdout | `flag_errors_with_json_output_are_json` |
//! | unknown bucket | 2 | `unknown_bucket`, `repair_unknown_bucket` |
//! | bucket in another region | followed (0); 2 when S3 names no region and GetBucketLocation does not help | `faults::a_bucket_in_another_region_is_followed_and_v_says_so` (the proxy redirects what is signed for us-east-1), `app::tests::a_bucket_in_another_region_says_which_flag_fixes_it` |
//! | CA bundle unreadable or not PEM; certificate not trusted, expired, for another name | 2 | `tls::a_store_behind_a_private_ca_is_trusted_with_a_bundle_and_refused_with_one_line_without` |
//! | `--target` naming no `[targets.NAME]`; `${VAR}` unset | 2 | `rules::a_named_target_with_variables_picks_the_destination_and_s3site_variables_set_flags` |
//! | access denied on the listing / on uploads | 2 | `access_denied_on_list_or_on_put` |
//! | no credentials / unknown profile | 2 | `no_credentials`, `unknown_profile` |
//! | bad `--concurrency` (0, huge, not a number) | 2 | `bad_concurrency` |
//! | bad `--max-delete`, conflicting or unknown flags | 2 | `bad_or_conflicting_flags` |
//! | bad `--exclude` glob | 2 | `bad_glob` |
//! | bad rules file, missing `--config` file | 2 | `bad_rules_file` |
//! | no destination (no URL, no `bucket` in the rules file) | 2 | `no_destination_anywhere` |
//! | key longer than 1,024 bytes | 2 | `key_longer_than_1024_bytes` |
//! | empty DIR without `--delete` | 0 | `empty_dir_without_delete_is_fine` |
//! | empty DIR with `--delete` | 1 | `sync::empty_source_with_delete_deletes_nothing` |

use crate::util::proxy::Proxy;
use crate::util::{Capability, assert_exit, each_server, each_server_with, s3site, stderr, stdout};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

/// Runs `s3site sync DIR URL EXTRA...` against a proxy whose upstream is closed, and checks that
/// no request reached it.
fn run_offline(dir: &Path, url: &str, extra: &[&str]) -> Output {
    let mut args = vec!["sync".as_ref(), dir.as_os_str(), url.as_ref()];
    args.extend(extra.iter().map(OsStr::new));
    offline(&args)
}

/// Runs `s3site ARGS...` against a proxy whose upstream is closed, and checks that no request
/// reached it.
fn offline(args: &[&OsStr]) -> Output {
    let proxy = Proxy::start("http://127.0.0.1:9");
    let home = tempfile::tempdir().unwrap();
    let out = s3site(home.path())
        .args(args)
        .endpoint(&proxy.endpoint)
        .output();
    assert_eq!(proxy.requests(), [], "bad input must not cost a request");
    out
}

#[track_caller]
fn assert_one_line_error(out: &Output, code: i32, needle: &str) {
    assert_exit(out, code);
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("s3site: error: "), "{err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
}

#[test]
fn missing_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("public");
    let out = run_offline(&dir, "s3://bucket", &[]);
    assert_one_line_error(&out, 2, &format!("'{}' does not exist", dir.display()));
}

#[test]
fn dir_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("index.html");
    std::fs::write(&file, "x").unwrap();
    let out = run_offline(&file, "s3://bucket", &[]);
    assert_one_line_error(&out, 2, "is not a folder");
}

#[test]
fn bad_glob() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_offline(tmp.path(), "s3://bucket", &["--exclude", "a[b"]);
    assert_one_line_error(&out, 2, "invalid --exclude glob 'a[b'");
}

#[test]
fn bad_urls() {
    let tmp = tempfile::tempdir().unwrap();
    for url in [
        "bucket",
        "s3:/bucket",
        "http://bucket/x",
        "s3://",
        "s3://b//x",
        "s3://b/a//b",
        "s3://bad bucket",
        "s3://b/../x",
        "s3://b/./x",
        "s3://b/a/..",
    ] {
        let out = run_offline(tmp.path(), url, &[]);
        assert_one_line_error(&out, 2, &format!("invalid S3 URL '{url}'"));
    }
}

/// A CI step that asked for JSON gets JSON for a flag error too, on stdout.
#[test]
fn flag_errors_with_json_output_are_json() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (&["--output", "json", "--max-delete", "5"][..], "--delete"),
        (
            &["--output", "json", "--no-such-flag"][..],
            "--no-such-flag",
        ),
        (
            &["--output=json", "--concurrency", "many"][..],
            "--concurrency",
        ),
        (
            &["--output", "json", "--concurrency", "0"][..],
            "--concurrency",
        ),
    ] {
        let out = run_offline(tmp.path(), "s3://bucket", args);
        assert_exit(&out, 2);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&out)));
        assert_eq!(doc["exit_code"], 2, "{doc}");
        let error = doc["error"].as_str().unwrap_or_default();
        assert!(error.contains(needle), "{args:?}: {doc}");
        assert!(!error.contains('\n'), "one line: {doc}");
    }
}

#[test]
fn bad_concurrency() {
    let tmp = tempfile::tempdir().unwrap();
    for n in ["0", "100000"] {
        let out = run_offline(tmp.path(), "s3://bucket", &["--concurrency", n]);
        assert_one_line_error(&out, 2, "--concurrency must be between 1 and");
    }
    let out = run_offline(tmp.path(), "s3://bucket", &["--concurrency", "many"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--concurrency"), "{}", stderr(&out));
}

/// clap's own usage errors: exit 2, naming the flag, and no request.
#[test]
fn bad_or_conflicting_flags() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (&["--delete", "--max-delete", "-1"][..], "--max-delete"),
        (&["--delete", "--max-delete", "lots"][..], "--max-delete"),
        (&["--max-delete", "5"][..], "--delete"),
        (&["-q", "-v"][..], "--quiet"),
        (&["--output", "xml"][..], "--output"),
        (&["--no-such-flag"][..], "--no-such-flag"),
    ] {
        let out = run_offline(tmp.path(), "s3://bucket", args);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn key_longer_than_1024_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut dir = tmp.path().to_path_buf();
    for i in 0..5 {
        dir.push(format!("{i}{}", "d".repeat(220)));
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("page.html"), "x").unwrap();
    let out = run_offline(tmp.path(), "s3://bucket", &[]);
    assert_one_line_error(&out, 2, "S3 keys are at most 1024 bytes");
}

#[test]
fn empty_dir_without_delete_is_fine() {
    each_server("empty-dir", |t| {
        let out = t.sync("", &[]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("uploaded 0 (0 B), unchanged 0, deleted 0, failed 0"));
        assert_eq!(t.proxy.writes(), []);
    });
}

#[cfg(unix)]
#[test]
fn non_utf8_file_name() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.html");
    std::fs::write(tmp.path().join(name), "x").unwrap();
    let out = run_offline(tmp.path(), "s3://bucket", &[]);
    assert_one_line_error(&out, 2, "not valid UTF-8");
    assert!(
        stderr(&out).contains("caf"),
        "names the file: {}",
        stderr(&out)
    );
}

#[cfg(unix)]
#[test]
fn symlink_loop() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("a")).unwrap();
    std::os::unix::fs::symlink(tmp.path(), tmp.path().join("a/back")).unwrap();
    let out = run_offline(tmp.path(), "s3://bucket", &[]);
    assert_one_line_error(&out, 2, "symbolic link loop");
    assert!(stderr(&out).contains("a/back"), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn broken_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(tmp.path().join("gone.css"), tmp.path().join("style.css")).unwrap();
    let out = run_offline(tmp.path(), "s3://bucket", &[]);
    assert_one_line_error(&out, 2, "broken symbolic link");
    assert!(stderr(&out).contains("style.css"), "{}", stderr(&out));
}

/// The client is built while the site folder is walked, but credentials are asked for only
/// after it: a broken site folder is what the one line names, even with an unknown profile.
#[cfg(unix)]
#[test]
fn the_site_folder_is_checked_before_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(tmp.path().join("gone.css"), tmp.path().join("style.css")).unwrap();
    let out = run_offline(tmp.path(), "s3://bucket", &["--profile", "nope"]);
    assert_one_line_error(&out, 2, "broken symbolic link");
}

#[test]
fn no_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("index.html"), "x").unwrap();
    let proxy = Proxy::start("http://127.0.0.1:9");
    let home = tempfile::tempdir().unwrap();
    let out = s3site(home.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .arg("sync")
        .arg(tmp.path())
        .arg("s3://bucket")
        .endpoint(&proxy.endpoint)
        .output();
    assert_eq!(proxy.requests(), []);
    assert_one_line_error(&out, 2, "no usable credentials: none found");
}

#[test]
fn unknown_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let proxy = Proxy::start("http://127.0.0.1:9");
    let home = tempfile::tempdir().unwrap();
    let out = s3site(home.path())
        .arg("sync")
        .arg(tmp.path())
        .arg("s3://bucket")
        .args(["--profile", "nope"])
        .endpoint(&proxy.endpoint)
        .output();
    assert_eq!(proxy.requests(), []);
    assert_one_line_error(&out, 2, "nope");
}

#[test]
fn unknown_bucket() {
    each_server("unknown-bucket", |t| {
        t.write("index.html", "x");
        let out = t
            .cmd()
            .arg("sync")
            .arg(t.site())
            .arg(format!("s3://{}-missing", t.bucket))
            .arg("--delete")
            .output();
        assert_one_line_error(
            &out,
            2,
            &format!("bucket '{}-missing' does not exist", t.bucket),
        );
        assert_eq!(t.proxy.writes(), []);
    });
}

/// The counterpart of `unknown_profile`: a profile that exists is used, even with no keys in the
/// environment.
#[test]
fn named_profile_from_credentials_file() {
    each_server("profile", |t| {
        t.write("index.html", "x");
        let home = tempfile::tempdir().unwrap();
        let creds = home.path().join("credentials");
        std::fs::write(
            &creds,
            format!(
                "[deploy]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                crate::util::ACCESS_KEY,
                crate::util::SECRET_KEY
            ),
        )
        .unwrap();
        t.cmd()
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .arg("sync")
            .arg(t.site())
            .arg(t.url(""))
            .args(["--profile", "deploy"])
            .expect(0);
        assert!(t.head("index.html").is_some());
    });
}

#[test]
fn repair_bad_input() {
    let repair = |extra: &[&str]| {
        let mut args = vec![OsStr::new("repair")];
        args.extend(extra.iter().map(OsStr::new));
        offline(&args)
    };
    assert_one_line_error(&repair(&["s3:/b"]), 2, "invalid S3 URL 's3:/b'");
    assert_one_line_error(&repair(&["s3://bucket", "--exclude", "a/{b"]), 2, "a/{b");
    assert_one_line_error(
        &repair(&["s3://bucket", "--concurrency", "0"]),
        2,
        "concurrency",
    );
    // --fail-on-drift only means something for the audit.
    let out = repair(&["s3://bucket", "--fail-on-drift"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--dry-run"), "{}", stderr(&out));
}

#[test]
fn repair_unknown_bucket() {
    each_server("repair-unknown-bucket", |t| {
        let out = t
            .cmd()
            .args(["repair", &format!("s3://{}-missing", t.bucket)])
            .output();
        assert_one_line_error(
            &out,
            2,
            &format!("bucket '{}-missing' does not exist", t.bucket),
        );
        assert_eq!(t.proxy.writes(), []);
    });
}

#[test]
fn bad_rules_file() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("s3site.toml");
    let cases = [
        ("colour = \"red\"\n", "line 1: unknown field `colour`"),
        (
            "\n[[rule]]\nmatch = \"a/{b\"\n",
            "line 2: rule 1: invalid glob 'a/{b'",
        ),
        (
            "[[rule]]\nmatch = \"*\"\nheaders = { \"X-Frame-Options\" = \"DENY\" }\n",
            "header 'X-Frame-Options' cannot be set here",
        ),
        (
            "[[rule]]\nmatch = \"*\"\ncompress = \"zip\"\n",
            "compress = 'zip' is not one of",
        ),
        ("exclude = \"x\"\n", "line 1"),
    ];
    for (text, needle) in cases {
        std::fs::write(&config, text).unwrap();
        let c = config.to_str().unwrap();
        for cmd in [
            vec![
                OsStr::new("sync"),
                tmp.path().as_os_str(),
                OsStr::new("s3://b"),
            ],
            vec![OsStr::new("repair"), OsStr::new("s3://b")],
        ] {
            let mut args = cmd.clone();
            args.extend([OsStr::new("--config"), OsStr::new(c)]);
            assert_one_line_error(&offline(&args), 2, needle);
        }
    }
    let missing = tmp.path().join("nope.toml");
    let out = offline(&[
        OsStr::new("repair"),
        OsStr::new("s3://b"),
        OsStr::new("--config"),
        missing.as_os_str(),
    ]);
    assert_one_line_error(&out, 2, "cannot read config file");
}

#[test]
fn no_destination_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let out = offline(&[OsStr::new("sync"), tmp.path().as_os_str()]);
    assert_one_line_error(&out, 2, "no destination");
}

#[test]
fn access_denied_on_list_or_on_put() {
    // moto accepts any credentials; SeaweedFS has restricted identities (see
    // scripts/s3-server.sh) to deny with.
    each_server_with(Capability::HasIdentities, "access-denied", |t| {
        for i in 0..40 {
            t.write(&format!("css/{i:02}.css"), "a{}");
        }
        t.write("index.html", "<p>hi</p>");
        let run = |key: &str, secret: &str| {
            t.cmd()
                .env("AWS_ACCESS_KEY_ID", key)
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .arg("sync")
                .arg(t.site())
                .arg(t.url(""))
                .args(["--delete", "--concurrency", "4"])
                .output()
        };
        // No list permission: the listing fails, nothing is written.
        let out = run("s3site-nolist", "s3site-nolist-secret");
        assert_one_line_error(&out, 2, "access denied");
        assert!(stderr(&out).contains("listing"), "{}", stderr(&out));
        assert_eq!(t.proxy.writes(), []);

        // Read-only: the first refused upload stops the run; no page, no delete is tried.
        t.proxy.clear();
        let out = run("s3site-reader", "s3site-reader-secret");
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.lines()
                .last()
                .is_some_and(|l| l.starts_with("s3site: error: stopped: uploading")
                    && l.contains("access denied")),
            "{err}"
        );
        let writes = t.proxy.writes();
        assert!(
            writes.len() <= 4,
            "stopped after the uploads in flight: {writes:?}"
        );
        assert!(
            writes
                .iter()
                .all(|w| w.is_put_object() && !w.path.ends_with(".html"))
        );
        assert!(t.keys().is_empty());
    });
}

/// Runs `s3site sync DIR s3://bucket` without the right to read what `chmod 000` locked:
/// directly when not root, else as user `nobody` through `setpriv` (root reads anything).
#[cfg(unix)]
fn run_unprivileged(dir: &Path) -> Output {
    let proxy = Proxy::start("http://127.0.0.1:9");
    let home = tempfile::tempdir().unwrap();
    let root = std::process::Command::new("id").arg("-u").output().unwrap();
    let mut c = s3site(home.path())
        .arg("sync")
        .arg(dir)
        .arg("s3://bucket")
        .endpoint(&proxy.endpoint)
        .into_command();
    if String::from_utf8_lossy(&root.stdout).trim() == "0" {
        let mut wrapped = std::process::Command::new("setpriv");
        wrapped
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(c.get_program())
            .args(c.get_args());
        for (k, v) in c.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        wrapped
            .env_remove("HOME")
            .env("HOME", "/tmp")
            .current_dir("/tmp");
        c = wrapped;
    }
    let out = c.output().unwrap();
    // The listing may start while files are hashed; nothing is ever written.
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
    out
}

// Unix permissions and symlinks.
#[cfg(unix)]
#[test]
fn unreadable_file_or_folder() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let site = tmp.path().join("site");
    std::fs::create_dir_all(site.join("private")).unwrap();
    std::fs::write(site.join("index.html"), "<p>hi</p>").unwrap();
    std::fs::write(site.join("secret.txt"), "x").unwrap();
    std::fs::set_permissions(&site, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        site.join("index.html"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();

    std::fs::set_permissions(
        site.join("secret.txt"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::fs::set_permissions(site.join("private"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_unprivileged(&site);
    assert_one_line_error(&out, 2, "secret.txt");
    assert!(
        stderr(&out).contains("ermission denied"),
        "{}",
        stderr(&out)
    );

    std::fs::set_permissions(
        site.join("secret.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(site.join("private"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = run_unprivileged(&site);
    assert_one_line_error(&out, 2, "private");
    assert!(
        stderr(&out).contains("ermission denied"),
        "{}",
        stderr(&out)
    );
    std::fs::set_permissions(site.join("private"), std::fs::Permissions::from_mode(0o755)).unwrap();
}
