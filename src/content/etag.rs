//! ETags and MD5 digests: what an S3 ETag says about an object's bytes, and how to compute the
//! same value for a local file.
//!
//! Owns: parsing a (quoted) ETag into "an MD5", "a multipart ETag of N parts" or "opaque"; the
//! multipart ETag formula; reading an MD5 that another tool stored in user metadata.
//! Must not: read files or talk to a store (callers pass digests in).

use crate::content::digest::{Md5, md5_of};
use base64::Engine as _;
use std::fmt;

/// What an S3 ETag tells about an object's bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ETag {
    /// 32 hex digits: the MD5 of the body (single-part upload, no SSE-KMS/SSE-C).
    Md5(Md5),
    /// `hex-N`: MD5 of the concatenated MD5s of N parts.
    Multipart {
        /// The MD5 of the concatenated part MD5s.
        digest: Md5,
        /// How many parts the upload had.
        parts: u32,
    },
    /// Anything else; it cannot be compared with a local file.
    Opaque(String),
}

impl ETag {
    /// Parses an ETag as S3 returns it, with or without the surrounding double quotes
    /// (and a weak `W/` prefix, which some proxies add).
    pub fn parse(raw: &str) -> ETag {
        let s = raw.trim();
        let s = s.strip_prefix("W/").unwrap_or(s);
        let s = s.trim_matches('"');
        if let Some(d) = parse_hex_md5(s) {
            return ETag::Md5(d);
        }
        if let Some((hex, n)) = s.split_once('-')
            && let (Some(digest), Ok(parts)) = (parse_hex_md5(hex), n.parse::<u32>())
            && parts > 0
        {
            return ETag::Multipart { digest, parts };
        }
        ETag::Opaque(s.to_string())
    }

    /// The ETag S3 gives a multipart upload whose parts had these MD5s.
    pub fn multipart(part_md5s: &[Md5]) -> ETag {
        let mut all = Vec::with_capacity(part_md5s.len() * 16);
        for p in part_md5s {
            all.extend_from_slice(p);
        }
        ETag::Multipart {
            digest: md5_of(&all),
            parts: u32::try_from(part_md5s.len()).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for ETag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ETag::Md5(d) => write!(f, "{}", hex::encode(d)),
            ETag::Multipart { digest, parts } => write!(f, "{}-{parts}", hex::encode(digest)),
            ETag::Opaque(s) => f.write_str(s),
        }
    }
}

/// How many parts a body of `size` bytes has when split into `part_size` parts
/// (an empty body still is one part).
pub fn part_count(size: u64, part_size: u64) -> u64 {
    if part_size == 0 {
        return 0;
    }
    size.div_ceil(part_size).max(1)
}

/// Reads an MD5 stored in user metadata by another tool: 32 hex digits (hugo) or base64 (rclone,
/// s3site).
pub fn parse_stored_md5(value: &str) -> Option<Md5> {
    let v = value.trim();
    if let Some(d) = parse_hex_md5(v) {
        return Some(d);
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    bytes.try_into().ok()
}

/// The base64 form of a digest, as `Content-MD5` and `md5chksum` carry it.
pub fn to_base64(d: &Md5) -> String {
    base64::engine::general_purpose::STANDARD.encode(d)
}

fn parse_hex_md5(s: &str) -> Option<Md5> {
    if s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_md5_quoted_or_not() {
        let d = md5_of(b"hello");
        let hexd = hex::encode(d);
        assert_eq!(ETag::parse(&format!("\"{hexd}\"")), ETag::Md5(d));
        assert_eq!(ETag::parse(&hexd.to_uppercase()), ETag::Md5(d));
        assert_eq!(ETag::parse(&format!("W/\"{hexd}\"")), ETag::Md5(d));
    }

    #[test]
    fn parses_multipart() {
        let e = ETag::parse("\"d41d8cd98f00b204e9800998ecf8427e-12\"");
        assert!(matches!(e, ETag::Multipart { parts: 12, .. }));
        assert_eq!(e.to_string(), "d41d8cd98f00b204e9800998ecf8427e-12");
    }

    #[test]
    fn anything_else_is_opaque() {
        for raw in ["", "\"abc\"", "d41d8cd98f00b204e9800998ecf8427e-0", "xyz-3"] {
            assert!(matches!(ETag::parse(raw), ETag::Opaque(_)), "{raw}");
        }
    }

    /// The formula S3 uses: md5 of the concatenated binary part digests, then `-N`.
    #[test]
    fn multipart_formula() {
        let p1 = md5_of(b"part one");
        let p2 = md5_of(b"part two");
        let mut cat = p1.to_vec();
        cat.extend_from_slice(&p2);
        assert_eq!(
            ETag::multipart(&[p1, p2]),
            ETag::Multipart {
                digest: md5_of(&cat),
                parts: 2
            }
        );
    }

    #[test]
    fn stored_md5_in_hex_or_base64() {
        let d = md5_of(b"x");
        assert_eq!(parse_stored_md5(&hex::encode(d)), Some(d));
        assert_eq!(parse_stored_md5(&to_base64(&d)), Some(d));
        assert_eq!(parse_stored_md5("not a digest"), None);
        assert_eq!(parse_stored_md5("aGVsbG8="), None); // base64, but not 16 bytes
    }

    #[test]
    fn part_counts() {
        assert_eq!(part_count(0, 16), 1);
        assert_eq!(part_count(16, 16), 1);
        assert_eq!(part_count(17, 16), 2);
        assert_eq!(part_count(5, 0), 0);
    }
}
