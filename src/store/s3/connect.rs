//! Building the S3 client: aws-config's chain, `--endpoint-url`, `--path-style`, `--region`,
//! `--profile`, checksums only when required, retries and throttling.
//!
//! Owns: the client's configuration, in two steps: building it (local: environment, config
//! files, CA roots) and asking for credentials (which may call SSO, STS or instance metadata).
//! A sync builds while it walks the site folder and asks once the walk found nothing wrong.
//! Must not: send a request to the store.

use super::{
    Connection, DEFAULT_CONCURRENCY, LIST_PAGE, MAX_ATTEMPTS, MAX_SINGLE_COPY, S3Store, gate,
    journal,
};
use crate::store::StoreError;
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use std::sync::Arc;
use std::time::Duration;

/// A client built, its credentials not asked for yet: `checked` asks, and only then is it an
/// `S3Store`.
#[derive(Debug)]
pub struct Unchecked {
    store: S3Store,
    sdk: SdkConfig,
    profile: Option<String>,
}

impl Unchecked {
    /// The store, once credentials can be found; the error says on one line why none could be.
    pub async fn checked(self) -> Result<S3Store, StoreError> {
        crate::aws::check_credentials(&self.sdk, self.profile.as_deref())
            .await
            .map_err(load_error)?;
        Ok(self.store)
    }
}

fn load_error(e: crate::aws::LoadError) -> StoreError {
    match e {
        crate::aws::LoadError::Credentials(m) => StoreError::Credentials(m),
        crate::aws::LoadError::Trust(m) => StoreError::Tls(m),
    }
}

impl S3Store {
    /// Builds a client for `bucket` and checks that credentials can be found, so a missing or
    /// unknown profile fails before any request.
    pub async fn connect(conn: &Connection, bucket: &str) -> Result<S3Store, StoreError> {
        S3Store::prepare(conn, bucket).await?.checked().await
    }

    /// Builds a client for `bucket` without asking for credentials yet (see `Unchecked`).
    pub async fn prepare(conn: &Connection, bucket: &str) -> Result<Unchecked, StoreError> {
        let sdk = crate::aws::load_unchecked(
            conn.profile.as_deref(),
            conn.region.as_deref(),
            conn.ca_bundle.as_deref(),
        )
        .await
        .map_err(load_error)?;
        let mut b = aws_sdk_s3::config::Builder::from(&sdk)
            // The SDK's adaptive retry: exponential backoff with jitter on 5xx, SlowDown,
            // timeouts and connection errors, and a client-side rate limit that slows every
            // request down when the store says SlowDown. Two more attempts than its default.
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(10)),
            )
            // Retries of throttled requests cost nothing from the retry quota: with the
            // default costs, a store throttling half the requests of a 3,000-file run used the
            // quota up and most later failures got no retry at all.
            .retry_partition(
                RetryPartition::custom("s3site")
                    .token_bucket(TokenBucket::builder().throttling_retry_cost(0).build())
                    .build(),
            )
            // The SDK's default CRC trailer makes the body aws-chunked, which some stores keep
            // as `Content-Encoding: aws-chunked` or store framed; Content-MD5 does the job.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .force_path_style(conn.path_style);
        if sdk.region().is_none() {
            b = b.region(Region::new("us-east-1"));
        }
        if let Some(u) = &conn.endpoint_url {
            b = b.endpoint_url(u);
        }
        // For messages only: the SDK resolves the real address.
        let endpoint = conn
            .endpoint_url
            .clone()
            .or_else(|| sdk.endpoint_url().map(str::to_string))
            .unwrap_or_else(|| {
                let region = sdk.region().map_or("us-east-1", |r| r.as_ref());
                format!("https://s3.{region}.amazonaws.com")
            });
        let max_single_copy = conn.max_single_copy.unwrap_or(MAX_SINGLE_COPY);
        let list_page = conn.list_page.map_or(LIST_PAGE, |n| n.clamp(1, LIST_PAGE));
        let store = S3Store {
            client: Arc::new(std::sync::RwLock::new(Client::from_conf(b.build()))),
            region_switches: Arc::default(),
            bucket: bucket.to_string(),
            endpoint,
            max_single_copy,
            list_page,
            uses_acls: Arc::default(),
            gate: Arc::new(gate::Gate::new(DEFAULT_CONCURRENCY)),
            journal: journal::Journal::new(conn.state_dir.as_deref()),
        };
        Ok(Unchecked {
            store,
            sdk,
            profile: conn.profile.clone(),
        })
    }
}
