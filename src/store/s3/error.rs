//! Turning SDK errors into `StoreError`s: the codes and statuses s3site branches on, and one
//! line for people (the SDK's whole chain goes to the debug log).
//!
//! Owns: which S3 error code means what (throttled, expired, denied, precondition...), and the
//! one-line texts of request errors. Must not: decide what a run does about
//! an error (that is the caller's, through `StoreError`).

use super::S3Store;
use crate::store::StoreError;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

impl S3Store {
    pub(super) fn map_err<E>(
        &self,
        err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_string);
        // One line for people; the SDK's whole chain (headers, XML, type names) with -v only.
        tracing::debug!(error = %DisplayErrorContext(&err), "request failed");
        let message = || one_line(&err, status);
        let bucket_region = err
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_string);
        if status.is_none()
            && let Some(m) = crate::aws::tls::failure(&err, &self.endpoint)
        {
            return StoreError::Tls(m);
        }
        match (code.as_deref(), status) {
            (Some("NoSuchBucket"), _) => StoreError::NoSuchBucket(self.bucket.clone()),
            (Some("PermanentRedirect" | "AuthorizationHeaderMalformed"), _) | (_, Some(301)) => {
                StoreError::WrongRegion {
                    bucket: self.bucket.clone(),
                    region: bucket_region,
                }
            }
            (Some("NoSuchKey" | "NotFound"), _) | (None, Some(404)) => StoreError::NotFound,
            (Some("InvalidAccessKeyId" | "SignatureDoesNotMatch"), _) => {
                StoreError::Credentials(err.message().unwrap_or("rejected").to_string())
            }
            (
                Some(
                    "ExpiredToken"
                    | "ExpiredTokenException"
                    | "TokenRefreshRequired"
                    | "InvalidToken",
                ),
                _,
            ) => StoreError::Expired(message()),
            (
                Some(
                    "SlowDown"
                    | "Throttling"
                    | "ThrottlingException"
                    | "ThrottledException"
                    | "RequestThrottled"
                    | "RequestThrottledException"
                    | "RequestLimitExceeded"
                    | "BandwidthLimitExceeded"
                    | "TooManyRequests"
                    | "TooManyRequestsException"
                    | "ServiceUnavailable",
                ),
                _,
            )
            | (_, Some(429 | 503)) => StoreError::Throttled(message()),
            (Some("AccessDenied"), _) | (_, Some(403)) => {
                StoreError::AccessDenied(err.message().unwrap_or("forbidden").to_string())
            }
            (Some("PreconditionFailed"), _) | (_, Some(412)) => StoreError::PreconditionFailed,
            (Some("BadDigest" | "InvalidDigest"), _) => StoreError::BadDigest,
            (_, Some(400)) => StoreError::BadRequest(message()),
            _ => StoreError::Other(message()),
        }
    }
}

/// An SDK error on one line: the store's error code, message and HTTP status when it answered;
/// otherwise what went wrong on the way (timeout, connection), each cause's first line.
fn one_line<E>(
    err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    status: Option<u16>,
) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let http = status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
    if let Some(code) = err.code() {
        return match err.message().filter(|m| !m.is_empty()) {
            Some(m) => format!("{code}: {m}{http}"),
            None => format!("{code}{http}"),
        };
    }
    if let Some(s) = status {
        return format!("HTTP {s} with no S3 error code");
    }
    let mut msg = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default();
        if !first.is_empty() && !msg.contains(first) {
            msg.push_str(": ");
            msg.push_str(first);
        }
        source = e.source();
    }
    const MAX: usize = 300;
    if msg.len() > MAX {
        let cut = (0..=MAX)
            .rev()
            .find(|&i| msg.is_char_boundary(i))
            .unwrap_or(0);
        msg.truncate(cut);
        msg.push_str("...");
    }
    msg
}
