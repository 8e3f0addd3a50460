//! Puts the git revision in `--version` (`s3site 0.1.0 (3f2c1ab)`), when built from a clone;
//! a build from the published crate says only the version.

use std::process::Command;

fn main() {
    // Only paths that exist: a missing one would run this again, and rebuild the crate, on
    // every build.
    println!("cargo:rerun-if-changed=build.rs");
    for p in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if std::path::Path::new(p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    let version = env!("CARGO_PKG_VERSION");
    let rev = Command::new("git")
        .args(["rev-parse", "--short=9", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let full = match rev {
        Some(r) => format!("{version} ({r})"),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=S3SITE_VERSION={full}");
}
