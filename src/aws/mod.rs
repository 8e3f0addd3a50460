//! The AWS configuration chain the S3 and CloudFront adapters share: profile, region,
//! credentials, checked once before any request, and the TLS trust (`tls`).
//!
//! Owns: loading aws-config's default chain (environment, profiles, SSO, web identity,
//! instance roles, `AWS_ENDPOINT_URL_<SERVICE>`) and the one-line text of a credentials error.
//! Must not: let an SDK type out of the adapters that use it, or build a service client.

pub(crate) mod tls;

use aws_config::Region;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;

/// aws-config's chain with `profile` and `region` applied and the CA bundle of `ca_bundle` (or
/// `AWS_CA_BUNDLE`, or the profile's) trusted, once credentials are found; the error is one
/// line saying why none could be.
pub(crate) async fn load(
    profile: Option<&str>,
    region: Option<&str>,
    ca_bundle: Option<&std::path::Path>,
) -> Result<SdkConfig, LoadError> {
    let sdk = load_unchecked(profile, region, ca_bundle).await?;
    check_credentials(&sdk, profile).await?;
    Ok(sdk)
}

/// `load` without asking for credentials: it reads the environment, the config files and the
/// CA roots, and asks nothing of the network but instance metadata for a region when none is
/// set anywhere, so it can run while the site folder is walked.
pub(crate) async fn load_unchecked(
    profile: Option<&str>,
    region: Option<&str>,
    ca_bundle: Option<&std::path::Path>,
) -> Result<SdkConfig, LoadError> {
    let bundle = tls::ca_bundle(ca_bundle, profile).await;
    let mut loader = tls::with_trust(
        aws_config::defaults(BehaviorVersion::latest()),
        bundle.as_ref(),
    )
    .map_err(LoadError::Trust)?;
    if let Some(p) = profile {
        // An explicit profile is the only source of credentials: environment keys must not
        // silently win over it, and an unknown profile is an error.
        let creds = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(p)
            .build();
        loader = loader.profile_name(p).credentials_provider(creds);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    Ok(loader.load().await)
}

/// Asks `sdk`'s chain for credentials (which may call SSO, STS or instance metadata); the error
/// is one line saying why none could be found.
pub(crate) async fn check_credentials(
    sdk: &SdkConfig,
    profile: Option<&str>,
) -> Result<(), LoadError> {
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| LoadError::Credentials("no credentials provider configured".into()))?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| LoadError::Credentials(credentials_error(&e, profile)))?;
    Ok(())
}

/// Why no configuration could be loaded, on one line.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// No source had credentials (or the profile has none).
    Credentials(String),
    /// The CA bundle cannot be read or holds no certificate.
    Trust(String),
}

/// One line saying why no credentials could be loaded (the SDK's own text spans many lines).
fn credentials_error(e: &CredentialsError, profile: Option<&str>) -> String {
    match (e, profile) {
        (CredentialsError::CredentialsNotLoaded(_), Some(p)) => format!(
            "profile '{p}' was not found or holds no credentials (see ~/.aws/config and \
             ~/.aws/credentials, or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE)"
        ),
        (CredentialsError::CredentialsNotLoaded(_), None) => NONE_FOUND.to_string(),
        // The chain ends with the instance-metadata provider: its error ("IMDS is disabled",
        // "forbidden", a timeout) is what is left when no source had credentials.
        (_, None) if chain(e).contains("IMDS") => format!(
            "{NONE_FOUND}; the last source tried, instance metadata, said: {}",
            chain(e)
        ),
        (_, _) => chain(e),
    }
}

/// What to say when no source had credentials.
const NONE_FOUND: &str = "none found in the environment, AWS config files, SSO, web \
    identity, container or instance metadata (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
    or use --profile)";

/// An error and its sources on one line (the first line of each).
fn chain(e: &CredentialsError) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        msg.push_str(": ");
        msg.push_str(text.lines().next().unwrap_or_default());
        source = s.source();
    }
    msg
}
