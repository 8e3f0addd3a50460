//! Following a bucket's region: the client every request is made with, switched to the region
//! S3 names in a redirect (or GetBucketLocation gives), as aws-cli and s3cmd do.
//!
//! Owns: the current client and the switch. Must not: retry anything itself (`patiently` makes
//! the request again), or decide a region the store did not name.

use super::S3Store;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;

impl S3Store {
    /// The client requests are made with now.
    pub(super) fn client(&self) -> Client {
        self.client
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Makes every later request for `region`, where S3 says the bucket is (the error's
    /// `x-amz-bucket-region`, else GetBucketLocation), as aws-cli and s3cmd do. `true` when the
    /// request that was refused should be sent again: the client was switched now, or after
    /// `switches` (what `region_switches` was when it was sent); `false` when the region
    /// cannot be found or requests already go there.
    pub(super) async fn follow_region(&self, said: Option<String>, switches: usize) -> bool {
        use std::sync::atomic::Ordering::{AcqRel, Acquire};
        if self.region_switches.load(Acquire) != switches {
            return true;
        }
        let region = match said {
            Some(r) => r,
            None => match self.bucket_location().await {
                Some(r) => r,
                None => return false,
            },
        };
        let mut client = self
            .client
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.region_switches.load(Acquire) != switches {
            return true;
        }
        let current = client.config().region().map(|r| r.to_string());
        if current.as_deref() != Some(region.as_str()) {
            tracing::info!(
                "bucket '{}' is in {region}, not {}: following it (--region {region} saves a \
                 request)",
                self.bucket,
                current.as_deref().unwrap_or("?")
            );
            let conf = client
                .config()
                .to_builder()
                .region(Region::new(region.clone()))
                .build();
            *client = Client::from_conf(conf);
            self.region_switches.fetch_add(1, AcqRel);
            return true;
        }
        false
    }

    /// The bucket's region from GetBucketLocation (asked of us-east-1, which answers for
    /// every bucket).
    async fn bucket_location(&self) -> Option<String> {
        let conf = self
            .client()
            .config()
            .to_builder()
            .region(Region::new("us-east-1"))
            .build();
        let out = Client::from_conf(conf)
            .get_bucket_location()
            .bucket(&self.bucket)
            .send()
            .await
            .ok()?;
        Some(match out.location_constraint().map(|c| c.as_str()) {
            None | Some("") => "us-east-1".to_string(),
            Some("EU") => "eu-west-1".to_string(),
            Some(r) => r.to_string(),
        })
    }
}
