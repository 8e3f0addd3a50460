//! Puts the git revision in `--version` (`s3site 0.1.0 (3f2c1ab)`), when built from a clone;
//! a build from the published crate says only the version.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    println!("cargo:rerun-if-changed=.git/packed-refs");
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
