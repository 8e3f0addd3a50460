//! What a person or a CI job sees beyond the records: shell completions and the man page
//! (generated from the command-line definition), GitHub Actions annotations and summaries, and
//! the progress bar on a terminal.

use crate::util::{assert_exit, s3site, stderr, stdout};

#[test]
fn completions_and_the_man_page_cover_every_command_and_flag() {
    let home = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_s3site()"),
        ("zsh", "#compdef s3site"),
        ("fish", "complete -c s3site"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = s3site(home.path()).args(["completions", shell]).output();
        assert_exit(&out, 0);
        let text = stdout(&out);
        assert!(text.contains(marker), "{shell}: {text}");
        for flag in ["batch-plan", "start-after", "cloudfront", "delete"] {
            assert!(text.contains(flag), "{shell} lacks {flag}");
        }
    }
    let out = s3site(home.path()).arg("man").output();
    assert_exit(&out, 0);
    let man = stdout(&out);
    assert!(
        man.starts_with(".ie") || man.contains(".TH s3site"),
        "{man}"
    );
    for word in ["sync", "repair", "explain"] {
        assert!(man.contains(word), "the man page lacks {word}");
    }
    let out = s3site(home.path()).args(["completions", "tcsh"]).output();
    assert_exit(&out, 2);
}

/// Under GitHub Actions: an `::error::` line per failed upload, and the run's summary appended
/// to `$GITHUB_STEP_SUMMARY`, with the failure in it.
#[test]
fn under_github_actions_failures_are_annotated_and_the_summary_is_appended() {
    crate::util::each_server("github-summary", |t| {
        t.write("index.html", "<p>home</p>");
        t.write("broken.css", "a{}");
        t.proxy.fault(
            |s| s.is_put_object() && s.path.ends_with("/broken.css"),
            crate::util::proxy::FaultKind::Error(403, "AccessDenied"),
            None,
        );
        let summary = t.home().join("summary.md");
        std::fs::write(&summary, "earlier step\n").unwrap();
        let out = t
            .sync_cmd("")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output();
        assert_exit(&out, 2);
        let err = crate::util::stderr(&out);
        assert!(
            err.contains("::error title=s3site upload::upload broken.css: "),
            "{err}"
        );
        let md = std::fs::read_to_string(&summary).unwrap();
        assert!(
            md.starts_with("earlier step\n### s3site sync s3://"),
            "{md}"
        );
        assert!(md.contains("- `broken.css` upload: access denied"), "{md}");
        // Outside GitHub Actions, neither.
        let out = t.sync_cmd("").env_remove("GITHUB_ACTIONS").output();
        assert!(!crate::util::stderr(&out).contains("::error"));
    });
}

/// Runs `cmd` on a pseudo-terminal (util-linux `script`), so stderr is a TTY; returns what the
/// terminal showed.
fn on_a_terminal(cmd: std::process::Command) -> String {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let mut line = quote(cmd.get_program());
    for a in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let mut script = std::process::Command::new("script");
    script.args(["-qec", &line, "/dev/null"]).env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        script.current_dir(dir);
    }
    let out = script
        .output()
        .expect("util-linux `script` runs a command on a pseudo-terminal");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn on_a_terminal_the_bar_shows_the_phase_bytes_rate_and_time_left() {
    crate::util::each_server("generated-progress", |t| {
        for i in 0..3 {
            t.write(&format!("media/{i}.bin"), vec![i as u8; 3 * 1024 * 1024]);
        }
        let cmd = t
            .sync_cmd("")
            .env("TERM", "xterm")
            .arg("--concurrency")
            .arg("1")
            .into_command();
        let screen = on_a_terminal(cmd);
        assert!(screen.contains("hashing 3 files and listing"), "{screen:?}");
        assert!(screen.contains("uploading"), "{screen:?}");
        assert!(
            screen.contains("/9.00 MiB"),
            "bytes of the total: {screen:?}"
        );
        assert!(
            screen.contains("MiB/s") && screen.contains("ETA"),
            "{screen:?}"
        );
        assert!(screen.contains("/3 files"), "{screen:?}");
        assert_eq!(t.keys().len(), 3);
        // Not on a terminal: no bar at all.
        t.write("media/0.bin", vec![9u8; 1024]);
        let out = t.sync("", &[]);
        assert!(!stderr(&out).contains("ETA") && !stdout(&out).contains("ETA"));
    });
}
