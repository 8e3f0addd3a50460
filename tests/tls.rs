//! TLS like the AWS tools: a store behind a private CA is reached with `--ca-bundle`,
//! `AWS_CA_BUNDLE` or the profile's `ca_bundle`; a certificate failure is one line naming the
//! endpoint, the reason and the fix, exit 2, and nothing is written.

use crate::util::*;
use std::path::PathBuf;
use std::process::Command;

/// The server's HTTPS endpoint and its CA's PEM file, as scripts/s3-server.sh made them.
fn tls_endpoint(t: &TestEnv, server_endpoint: &str) -> (String, PathBuf) {
    let port = server_endpoint.rsplit(':').next().unwrap();
    let out = Command::new(root().join("scripts/s3-server.sh"))
        .args(["tls", &t.server])
        .env("S3SITE_SEAWEEDFS_PORT", port)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (url, ca) = text.trim().split_once(' ').unwrap();
    (url.to_string(), PathBuf::from(ca))
}

#[test]
fn a_store_behind_a_private_ca_is_trusted_with_a_bundle_and_refused_with_one_line_without() {
    for server in servers()
        .into_iter()
        .filter(|s| has(&s.name, Capability::ServesHttps))
    {
        let t = TestEnv::new(&server, "tls");
        let (https, ca) = tls_endpoint(&t, &server.endpoint);
        t.write("index.html", "<p>over TLS</p>");
        let sync = || {
            t.cmd()
                .arg("sync")
                .arg(t.site())
                .arg(t.url(""))
                .endpoint(&https)
        };

        // No bundle: the CA is unknown.
        let out = sync().output();
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("TLS: {https}: "))
                && err.contains("does not trust")
                && err.contains("--ca-bundle FILE or AWS_CA_BUNDLE"),
            "{err}"
        );
        assert!(t.keys().is_empty());

        // The right CA, the wrong name: the leaf is for 127.0.0.1 only.
        let by_name = https.replace("127.0.0.1", "localhost");
        let out = t
            .cmd()
            .arg("sync")
            .arg(t.site())
            .arg(t.url(""))
            .arg("--ca-bundle")
            .arg(&ca)
            .endpoint(&by_name)
            .output();
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.lines().count() == 1 && err.contains("issued for another name"),
            "{err}"
        );

        // A bundle that is not one: exit 2, naming it and where it came from.
        let junk = t.home().join("junk.pem");
        std::fs::write(&junk, "nothing here\n").unwrap();
        let out = sync().env("AWS_CA_BUNDLE", &junk).output();
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.contains("junk.pem (from AWS_CA_BUNDLE)") && err.contains("holds no certificate"),
            "{err}"
        );

        // --ca-bundle: uploaded, and the object is there.
        let out = sync().arg("--ca-bundle").arg(&ca).arg("-v").output();
        assert_exit(&out, 0);
        assert_eq!(t.keys(), ["index.html"]);
        assert!(t.get("index.html").starts_with(b"<p>over TLS"));
        let err = stderr(&out);
        assert!(
            err.contains("TLS: trusting") && err.contains("system roots"),
            "-v says which roots: {err}"
        );
        assert!(err.contains("(--ca-bundle)"), "{err}");

        // AWS_CA_BUNDLE, and a changed file so a request is made beyond the listing.
        t.write("index.html", "<p>over TLS, again</p>");
        let out = sync().env("AWS_CA_BUNDLE", &ca).output();
        assert_exit(&out, 0);
        assert!(t.get("index.html").starts_with(b"<p>over TLS, again"));

        // ca_bundle in the profile (AWS_PROFILE picks it), with no system roots at all: the
        // roots built into s3site stand in.
        let config = t.home().join("aws-config");
        std::fs::write(
            &config,
            format!("[profile site]\nca_bundle = {}\n", ca.display()),
        )
        .unwrap();
        t.write("about.html", "<p>about</p>");
        let out = sync()
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_PROFILE", "site")
            .env("SSL_CERT_FILE", t.home().join("no-roots.pem"))
            .env("SSL_CERT_DIR", t.home().join("no-roots"))
            .arg("-v")
            .output();
        assert_exit(&out, 0);
        let err = stderr(&out);
        assert!(err.contains("Mozilla roots built into s3site"), "{err}");
        assert!(err.contains("ca_bundle in profile 'site'"), "{err}");
        assert_eq!(t.keys(), ["about.html", "index.html"]);
    }
    assert!(
        servers()
            .iter()
            .any(|s| has(&s.name, Capability::ServesHttps)),
        "no server in this run serves HTTPS: the TLS test proved nothing"
    );
}
