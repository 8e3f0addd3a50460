//! TLS trust for every AWS client, as the AWS tools set it up, and why a handshake failed, on
//! one line.
//!
//! Owns: the roots that verify a store's certificate (the system's, including `SSL_CERT_FILE`
//! and `SSL_CERT_DIR`; else, when the system has none, as in a distroless or `scratch` image, the
//! Mozilla roots built in from webpki-root-certs), the extra CA bundle (`--ca-bundle`, else
//! `AWS_CA_BUNDLE`, else the profile's `ca_bundle`, as aws-cli reads them; it is added to the
//! roots, not put in their place), the HTTP client built on them, and the text of a certificate
//! failure. Must not: build a service client, or decide what a run does about a failure.

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use base64::Engine as _;
use rustls::CertificateError;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use std::path::{Path, PathBuf};

/// The CA bundle to add, and where its name came from (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CaBundle {
    /// The PEM file.
    pub path: PathBuf,
    /// `--ca-bundle`, `AWS_CA_BUNDLE` or `ca_bundle in profile 'P'`.
    pub from: String,
}

/// The bundle the AWS tools would use: `flag`, else `AWS_CA_BUNDLE`, else `ca_bundle` in the
/// selected profile (`profile`, else `AWS_PROFILE`, else `default`).
pub(crate) async fn ca_bundle(flag: Option<&Path>, profile: Option<&str>) -> Option<CaBundle> {
    if let Some(p) = flag {
        return Some(CaBundle {
            path: p.to_path_buf(),
            from: "--ca-bundle".into(),
        });
    }
    if let Some(p) = std::env::var_os("AWS_CA_BUNDLE").filter(|p| !p.is_empty()) {
        return Some(CaBundle {
            path: p.into(),
            from: "AWS_CA_BUNDLE".into(),
        });
    }
    // A broken or missing config file is the credentials chain's to report.
    let set = aws_config::profile::load(
        &aws_types::os_shim_internal::Fs::real(),
        &aws_types::os_shim_internal::Env::real(),
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        profile.map(|p| std::borrow::Cow::Owned(p.to_string())),
    )
    .await
    .ok()?;
    let path = set.get("ca_bundle").filter(|p| !p.is_empty())?;
    Some(CaBundle {
        path: expand_home(path),
        from: format!("ca_bundle in profile '{}'", set.selected_profile()),
    })
}

/// `~/x` as the AWS config files allow.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// `loader` with an HTTP client on rustls with AWS-LC, trusting the roots and `bundle`. An
/// unreadable bundle, or one with no usable certificate, is an error naming it.
pub(crate) fn with_trust(
    loader: aws_config::ConfigLoader,
    bundle: Option<&CaBundle>,
) -> Result<aws_config::ConfigLoader, String> {
    let mut pem = roots_pem().to_string();
    if let Some(b) = bundle {
        let certs = read_bundle(b)?;
        tracing::debug!(
            "TLS: and {} certificate(s) from {} ({})",
            certs.len(),
            b.path.display(),
            b.from
        );
        for der in &certs {
            push_pem(&mut pem, der);
        }
    }
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(pem.into_bytes());
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(context)
        .build_https();
    Ok(loader.http_client(client))
}

/// The usable roots as PEM, read once a run (the S3, CloudFront and inventory clients each
/// need them).
fn roots_pem() -> &'static str {
    static PEM: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PEM.get_or_init(|| {
        let mut pem = String::new();
        let mut usable = 0;
        let (roots, which) = roots();
        for der in roots.iter().filter(|d| is_anchor(d)) {
            usable += 1;
            push_pem(&mut pem, der);
        }
        tracing::debug!("TLS: trusting {usable} {which}");
        pem
    })
}

/// The system's roots, else the built-in ones, and which they are.
fn roots() -> (Vec<CertificateDer<'static>>, String) {
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::debug!("TLS: reading the system's roots: {e}");
    }
    if native.certs.is_empty() {
        let built_in = webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec();
        let which = "Mozilla roots built into s3site (webpki-root-certs): the system has none \
             (no /etc/ssl certificates, SSL_CERT_FILE or SSL_CERT_DIR)"
            .to_string();
        (built_in, which)
    } else {
        (native.certs, "system roots".to_string())
    }
}

/// Whether rustls takes `der` as a trust anchor (the SDK panics on one it cannot parse).
fn is_anchor(der: &CertificateDer<'_>) -> bool {
    rustls::RootCertStore::empty().add(der.clone()).is_ok()
}

/// The certificates of `bundle`, each one usable as a trust anchor.
fn read_bundle(b: &CaBundle) -> Result<Vec<CertificateDer<'static>>, String> {
    let name = || format!("CA bundle {} (from {})", b.path.display(), b.from);
    let bytes = std::fs::read(&b.path).map_err(|e| format!("{}: cannot read it: {e}", name()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not PEM certificates: {e}", name()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: holds no certificate (expected '-----BEGIN CERTIFICATE-----' blocks)",
            name()
        ));
    }
    if let Some(n) = certs.iter().position(|c| !is_anchor(c)) {
        return Err(format!(
            "{}: certificate {} of {} cannot be parsed",
            name(),
            n + 1,
            certs.len()
        ));
    }
    Ok(certs)
}

fn push_pem(out: &mut String, der: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
}

/// Why a request failed in its TLS handshake, on one line naming `endpoint` and the fix; `None`
/// when `err`'s chain holds no TLS error.
pub(crate) fn failure(err: &(dyn std::error::Error + 'static), endpoint: &str) -> Option<String> {
    let e = rustls_error(err)?;
    let (reason, fix) = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => (
                "its certificate is signed by a CA this machine does not trust",
                "pass the CA's PEM with --ca-bundle FILE or AWS_CA_BUNDLE",
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
                "its certificate has expired",
                "renew the server's certificate, or check this machine's clock",
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
                "its certificate is not valid yet",
                "check this machine's clock",
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                (
                    "its certificate was issued for another name",
                    "use the host name the certificate names in --endpoint-url",
                )
            }
            CertificateError::Other(o) if o.to_string().contains("CaUsedAsEndEntity") => (
                "it presents a CA certificate as its own",
                "give the server a leaf certificate signed by that CA, and trust the CA with \
                 --ca-bundle",
            ),
            _ => (
                "it presented a certificate rustls rejects",
                "see -v for details",
            ),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => (
            "it does not speak TLS there",
            "check the scheme and port of --endpoint-url (http:// or https://)",
        ),
        _ => ("the TLS handshake failed", "see -v for details"),
    };
    Some(format!("TLS: {endpoint}: {reason} ({e}); {fix}"))
}

/// The first rustls error in `err`'s chain, also inside an `io::Error` (whose `source` skips
/// the error it wraps).
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && let Some(r) = rustls_error(inner)
        {
            return Some(r);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loader() -> aws_config::ConfigLoader {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
    }

    fn io_wrapped(e: rustls::Error) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    #[test]
    fn certificate_failures_are_one_line_with_the_reason_and_the_fix() {
        let cases = [
            (
                CertificateError::UnknownIssuer,
                "does not trust",
                "--ca-bundle",
            ),
            (CertificateError::Expired, "expired", "clock"),
            (
                CertificateError::NotValidForName,
                "another name",
                "--endpoint-url",
            ),
        ];
        for (c, reason, fix) in cases {
            let err = io_wrapped(rustls::Error::InvalidCertificate(c));
            let text = failure(err.as_ref(), "https://s3.example:9000").unwrap();
            assert!(text.starts_with("TLS: https://s3.example:9000: "), "{text}");
            assert!(text.contains(reason) && text.contains(fix), "{text}");
            assert_eq!(text.lines().count(), 1);
        }
        let plain = std::io::Error::other("connection refused");
        assert_eq!(failure(&plain, "x"), None);
    }

    #[test]
    fn a_bundle_without_certificates_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let b = CaBundle {
            path: path.clone(),
            from: "AWS_CA_BUNDLE".into(),
        };
        let err = with_trust(loader(), Some(&b)).unwrap_err();
        assert!(err.contains("ca.pem (from AWS_CA_BUNDLE)"), "{err}");
        assert!(err.contains("holds no certificate"), "{err}");
        let missing = CaBundle {
            path: dir.path().join("gone.pem"),
            from: "--ca-bundle".into(),
        };
        assert!(
            with_trust(loader(), Some(&missing))
                .unwrap_err()
                .contains("cannot read it")
        );
    }

    #[test]
    fn the_built_in_roots_are_pem_the_sdk_reads_back() {
        let mut pem = String::new();
        for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
            push_pem(&mut pem, der);
        }
        let back = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(back.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(back.iter().all(is_anchor));
    }
}
