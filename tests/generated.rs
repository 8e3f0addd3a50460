//! What is generated from the command-line definition: shell completions and the man page.

use crate::util::{assert_exit, s3site, stdout};

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
