//! The header table (`content::header`) in the SDK's terms: which setter sends each header on a
//! PutObject, CopyObject or CreateMultipartUpload, and which getter reads it from a HEAD.
//!
//! Owns: the two places a new header must be spelled in SDK calls; both are exhaustive matches,
//! so the compiler names them. Must not: decide which headers an object gets.

use crate::content::header::{Header, ObjectHeaders};
use aws_sdk_s3::operation::head_object::HeadObjectOutput;

/// Sets every header of an `ObjectHeaders` (with `Expires` already parsed into the SDK's date)
/// on a PutObject, CopyObject or CreateMultipartUpload builder: they have the same setters but
/// no common trait.
macro_rules! set_headers {
    ($builder:expr, $headers:expr, $expires:expr) => {{
        use crate::content::header::Header;
        let h: &crate::content::header::ObjectHeaders = $headers;
        let mut b = $builder;
        for (header, value) in h.iter() {
            let v = Some(value.to_string());
            b = match header {
                Header::ContentType => b.set_content_type(v),
                Header::ContentEncoding => b.set_content_encoding(v),
                Header::CacheControl => b.set_cache_control(v),
                Header::ContentDisposition => b.set_content_disposition(v),
                Header::ContentLanguage => b.set_content_language(v),
                // The SDK takes a date: the caller parsed it.
                Header::Expires => b,
                Header::WebsiteRedirect => b.set_website_redirect_location(v),
            };
        }
        b.set_expires($expires).set_metadata(
            (!h.metadata.is_empty()).then(|| h.metadata.clone().into_iter().collect()),
        )
    }};
}

/// Sets a `Placement` (ACL, storage class, encryption, tags) on a PutObject or
/// CreateMultipartUpload builder.
macro_rules! set_placement {
    ($builder:expr, $placement:expr) => {{
        use crate::store::{Acl, Encryption};
        use aws_sdk_s3::types::{ObjectCannedAcl, ServerSideEncryption, StorageClass};
        let p: &crate::store::Placement = $placement;
        let mut b = $builder
            .set_storage_class(p.storage_class.as_deref().map(StorageClass::from))
            .set_tagging(p.tagging.clone());
        b = match &p.encryption {
            Encryption::None | Encryption::Customer => b,
            Encryption::S3 => b.server_side_encryption(ServerSideEncryption::Aes256),
            Encryption::Kms {
                algorithm,
                key_id,
                bucket_key,
            } => b
                .server_side_encryption(ServerSideEncryption::from(algorithm.as_str()))
                .set_ssekms_key_id(key_id.clone())
                .set_bucket_key_enabled(bucket_key.then_some(true)),
        };
        match &p.acl {
            None => b,
            Some(Acl::Canned(a)) => b.acl(ObjectCannedAcl::from(a.as_str())),
            Some(Acl::Grants(g)) => b
                .set_grant_read(crate::store::s3::copy::joined(&g.read))
                .set_grant_read_acp(crate::store::s3::copy::joined(&g.read_acp))
                .set_grant_write_acp(crate::store::s3::copy::joined(&g.write_acp))
                .set_grant_full_control(crate::store::s3::copy::joined(&g.full_control)),
        }
    }};
}

/// The headers a HEAD response shows, user metadata with lower-case keys.
pub(super) fn headers_of(out: &HeadObjectOutput) -> ObjectHeaders {
    let mut h = ObjectHeaders::default();
    for header in Header::ALL {
        let value = match header {
            Header::ContentType => out.content_type(),
            Header::ContentEncoding => out.content_encoding(),
            Header::CacheControl => out.cache_control(),
            Header::ContentDisposition => out.content_disposition(),
            Header::ContentLanguage => out.content_language(),
            Header::Expires => out.expires_string(),
            Header::WebsiteRedirect => out.website_redirect_location(),
        };
        h.set(header, value.map(str::to_string));
    }
    h.metadata = out
        .metadata()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    h
}
