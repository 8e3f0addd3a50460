//! The bucket's website configuration in the SDK's terms: GetBucketWebsite and
//! PutBucketWebsite.
//!
//! Owns: turning `Website` into the SDK's types and back. Must not: decide whether to apply one.

use super::S3Store;
use crate::store::{RoutingRule, StoreError, Website};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    Condition, ErrorDocument, IndexDocument, Protocol, Redirect, RoutingRule as SdkRule,
    WebsiteConfiguration,
};

impl S3Store {
    pub(super) async fn get_website(&self) -> Result<Option<Website>, StoreError> {
        let out = match self
            .client()
            .get_bucket_website()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchWebsiteConfiguration") => return Ok(None),
            // Garage answers a bucket with no website with 204 and no body.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 204) => {
                return Ok(None);
            }
            Err(e) => return Err(self.map_err(e)),
        };
        let rules = out
            .routing_rules()
            .iter()
            .map(|r| {
                let c = r.condition();
                let d = r.redirect();
                RoutingRule {
                    key_prefix_equals: c.and_then(|c| c.key_prefix_equals()).map(str::to_string),
                    http_error_code_returned_equals: c
                        .and_then(|c| c.http_error_code_returned_equals())
                        .map(str::to_string),
                    host_name: d.and_then(|d| d.host_name()).map(str::to_string),
                    protocol: d.and_then(|d| d.protocol()).map(|p| p.as_str().to_string()),
                    replace_key_prefix_with: d
                        .and_then(|d| d.replace_key_prefix_with())
                        .map(str::to_string),
                    replace_key_with: d.and_then(|d| d.replace_key_with()).map(str::to_string),
                    http_redirect_code: d.and_then(|d| d.http_redirect_code()).map(str::to_string),
                }
            })
            .collect();
        Ok(Some(Website {
            index_document: out.index_document().map(|i| i.suffix().to_string()),
            error_document: out.error_document().map(|e| e.key().to_string()),
            routing_rules: rules,
        }))
    }

    pub(super) async fn set_website(&self, w: &Website) -> Result<(), StoreError> {
        let bad = |e: aws_sdk_s3::error::BuildError| StoreError::Other(e.to_string());
        let mut config = WebsiteConfiguration::builder();
        if let Some(i) = &w.index_document {
            config =
                config.index_document(IndexDocument::builder().suffix(i).build().map_err(bad)?);
        }
        if let Some(e) = &w.error_document {
            config = config.error_document(ErrorDocument::builder().key(e).build().map_err(bad)?);
        }
        for r in &w.routing_rules {
            let condition = (r.key_prefix_equals.is_some()
                || r.http_error_code_returned_equals.is_some())
            .then(|| {
                Condition::builder()
                    .set_key_prefix_equals(r.key_prefix_equals.clone())
                    .set_http_error_code_returned_equals(r.http_error_code_returned_equals.clone())
                    .build()
            });
            let redirect = Redirect::builder()
                .set_host_name(r.host_name.clone())
                .set_protocol(r.protocol.as_deref().map(Protocol::from))
                .set_replace_key_prefix_with(r.replace_key_prefix_with.clone())
                .set_replace_key_with(r.replace_key_with.clone())
                .set_http_redirect_code(r.http_redirect_code.clone())
                .build();
            config = config.routing_rules(
                SdkRule::builder()
                    .set_condition(condition)
                    .redirect(redirect)
                    .build(),
            );
        }
        self.client()
            .put_bucket_website()
            .bucket(&self.bucket)
            .website_configuration(config.build())
            .send()
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(())
    }
}
