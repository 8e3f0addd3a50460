//! The one place that speaks aws-sdk-cloudfront: the `Cdn` trait for CloudFront.
//!
//! Owns: the client (aws-config's chain and `AWS_ENDPOINT_URL_CLOUDFRONT`, signed for
//! us-east-1, where CloudFront's API lives), the requests (GetDistribution, ListInvalidations,
//! GetInvalidation, CreateInvalidation) and turning their errors into `CdnError`. Must not: let
//! an SDK type out, or decide which paths to send.

use super::{Cdn, CdnError, Created, Distribution, Origin};
use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::config::Region;
use aws_sdk_cloudfront::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};

/// CloudFront as a `Cdn`.
#[derive(Clone, Debug)]
pub struct CloudFront {
    client: Client,
}

impl CloudFront {
    /// A client with the same profile as the store's; credentials were checked by then.
    pub async fn connect(
        profile: Option<&str>,
        ca_bundle: Option<&std::path::Path>,
    ) -> Result<CloudFront, CdnError> {
        let sdk = crate::aws::load(profile, None, ca_bundle)
            .await
            .map_err(|e| match e {
                crate::aws::LoadError::Credentials(m) => CdnError::AccessDenied(m),
                crate::aws::LoadError::Trust(m) => CdnError::Other(m),
            })?;
        let conf = aws_sdk_cloudfront::config::Builder::from(&sdk)
            .region(Region::new("us-east-1"))
            .build();
        Ok(CloudFront {
            client: Client::from_conf(conf),
        })
    }
}

/// The crate's view of a CloudFront error.
fn map_err<E>(err: SdkError<E, aws_sdk_cloudfront::config::http::HttpResponse>) -> CdnError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    tracing::debug!(error = %DisplayErrorContext(&err), "CloudFront request failed");
    let status = err.raw_response().map(|r| r.status().as_u16());
    if status.is_none() {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_CLOUDFRONT")
            .unwrap_or_else(|_| "https://cloudfront.amazonaws.com".into());
        if let Some(m) = crate::aws::tls::failure(&err, &endpoint) {
            return CdnError::Other(m);
        }
    }
    let message = match (err.code(), err.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => match status {
            Some(s) => format!("HTTP {s}"),
            None => DisplayErrorContext(&err).to_string(),
        },
    };
    match (err.code(), status) {
        (Some("NoSuchDistribution"), _) => CdnError::NoSuchDistribution(message),
        (Some("TooManyInvalidationsInProgress"), _) => CdnError::TooManyInProgress(message),
        (Some("Throttling" | "ThrottlingException" | "TooManyRequests"), _)
        | (_, Some(429 | 503)) => CdnError::Throttled(message),
        (Some("AccessDenied"), _) | (_, Some(403)) => CdnError::AccessDenied(message),
        _ => CdnError::Other(message),
    }
}

impl Cdn for CloudFront {
    async fn distribution(&self, id: &str) -> Result<Distribution, CdnError> {
        let out =
            self.client
                .get_distribution()
                .id(id)
                .send()
                .await
                .map_err(|e| match map_err(e) {
                    CdnError::NoSuchDistribution(_) => CdnError::NoSuchDistribution(id.to_string()),
                    other => other,
                })?;
        let origins = out
            .distribution()
            .and_then(|d| d.distribution_config())
            .and_then(|c| c.origins())
            .map(|o| o.items())
            .unwrap_or_default()
            .iter()
            .map(|o| Origin {
                id: o.id().to_string(),
                domain: o.domain_name().to_string(),
                path: o.origin_path().unwrap_or_default().to_string(),
            })
            .collect();
        Ok(Distribution {
            id: id.to_string(),
            origins,
        })
    }

    async fn wildcards_in_progress(&self, id: &str) -> Result<usize, CdnError> {
        let list = self
            .client
            .list_invalidations()
            .distribution_id(id)
            .send()
            .await
            .map_err(map_err)?;
        let in_progress: Vec<String> = list
            .invalidation_list()
            .map(|l| l.items())
            .unwrap_or_default()
            .iter()
            .filter(|i| i.status() != "Completed")
            .map(|i| i.id().to_string())
            .collect();
        let mut wildcards = 0;
        for inv in in_progress {
            let out = self
                .client
                .get_invalidation()
                .distribution_id(id)
                .id(&inv)
                .send()
                .await
                .map_err(map_err)?;
            wildcards += out
                .invalidation()
                .and_then(|i| i.invalidation_batch())
                .and_then(|b| b.paths())
                .map(|p| p.items())
                .unwrap_or_default()
                .iter()
                .filter(|p| p.ends_with('*'))
                .count();
        }
        Ok(wildcards)
    }

    async fn invalidate(
        &self,
        id: &str,
        paths: &[String],
        reference: &str,
    ) -> Result<Created, CdnError> {
        let paths = Paths::builder()
            .quantity(i32::try_from(paths.len()).unwrap_or(i32::MAX))
            .set_items(Some(paths.to_vec()))
            .build()
            .map_err(|e| CdnError::Other(e.to_string()))?;
        let batch = InvalidationBatch::builder()
            .paths(paths)
            .caller_reference(reference)
            .build()
            .map_err(|e| CdnError::Other(e.to_string()))?;
        let out = self
            .client
            .create_invalidation()
            .distribution_id(id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(map_err)?;
        let inv = out
            .invalidation()
            .ok_or_else(|| CdnError::Other("CloudFront returned no invalidation".into()))?;
        Ok(Created {
            id: inv.id().to_string(),
            status: inv.status().to_string(),
        })
    }

    async fn status(&self, id: &str, invalidation: &str) -> Result<String, CdnError> {
        let out = self
            .client
            .get_invalidation()
            .distribution_id(id)
            .id(invalidation)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out
            .invalidation()
            .map(|i| i.status().to_string())
            .unwrap_or_default())
    }
}
