//! The bucket's default encryption in the SDK's terms: GetBucketEncryption.
//!
//! Owns: turning the bucket's first default-encryption rule into an `Encryption`. Must not:
//! decide what an upload does about it.

use super::S3Store;
use crate::store::{Encryption, StoreError};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::ServerSideEncryption;

impl S3Store {
    pub(super) async fn get_default_encryption(&self) -> Result<Encryption, StoreError> {
        let out = match self
            .client()
            .get_bucket_encryption()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => {
                return Ok(Encryption::None);
            }
            Err(e) => return Err(self.map_err(e)),
        };
        let Some(rule) = out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
        else {
            return Ok(Encryption::None);
        };
        let Some(default) = rule.apply_server_side_encryption_by_default() else {
            return Ok(Encryption::None);
        };
        Ok(match default.sse_algorithm() {
            ServerSideEncryption::Aes256 => Encryption::S3,
            other @ (ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse) => {
                Encryption::Kms {
                    algorithm: other.as_str().to_string(),
                    key_id: default.kms_master_key_id().map(str::to_string),
                    bucket_key: rule.bucket_key_enabled().unwrap_or(false),
                }
            }
            _ => Encryption::None,
        })
    }
}
