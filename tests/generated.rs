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
