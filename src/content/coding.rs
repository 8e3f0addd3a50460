//! Body codings: the ones HTTP registers, the ones s3site produces, the magic bytes that prove
//! a body is in one, and the formats that are compressed already.
//!
//! Owns: every fact about `Content-Encoding` values and compressed formats. Must not: compress
//! anything (that is `site::compress`) or decide what to do with an object.

use crate::content::media;

/// A body coding s3site can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    /// gzip (RFC 1952), deterministic: no file name, mtime 0, fixed level.
    Gzip,
    /// Brotli (RFC 7932), fixed quality and window.
    Br,
}

impl Coding {
    /// The `Content-Encoding` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Br => "br",
        }
    }

    /// The coding a `Content-Encoding` value names, if s3site produces it.
    pub fn from_header(value: &str) -> Option<Coding> {
        match value.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "br" => Some(Coding::Br),
            _ => None,
        }
    }
}

/// The registered HTTP content codings (IANA), lower case. Anything else in `Content-Encoding`,
/// such as a charset name written there by old s3cmd versions, is not a content coding.
pub const CONTENT_CODINGS: &[&str] = &[
    "gzip",
    "x-gzip",
    "deflate",
    "compress",
    "x-compress",
    "br",
    "zstd",
    "dcb",
    "dcz",
    "aes128gcm",
    "exi",
    "pack200-gzip",
];

/// Whether `value` is a registered content coding (case-insensitive). `identity`, charsets and
/// `aws-chunked` are not.
pub fn is_content_coding(value: &str) -> bool {
    let v = value.trim();
    CONTENT_CODINGS.iter().any(|c| c.eq_ignore_ascii_case(v))
}

/// Codings whose bodies start with known magic bytes; a declared coding the body does not start
/// with is a lie (a browser fails the page). `br` and raw `deflate` have no magic: kept.
const MAGIC: &[(&str, &[u8])] = &[
    ("gzip", &[0x1f, 0x8b]),
    ("x-gzip", &[0x1f, 0x8b]),
    ("pack200-gzip", &[0x1f, 0x8b]),
    ("zstd", &[0x28, 0xb5, 0x2f, 0xfd]),
    ("compress", &[0x1f, 0x9d]),
    ("x-compress", &[0x1f, 0x9d]),
];

/// The magic bytes a body in `coding` starts with, if the coding has any.
pub fn magic_of(coding: &str) -> Option<&'static [u8]> {
    MAGIC
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(coding))
        .map(|(_, m)| *m)
}

/// How many leading bytes of a body [`FirstBytes`] keeps: more than any coding's magic bytes.
pub const FIRST_BYTES: usize = 8;

/// The first bytes of a body (up to [`FIRST_BYTES`]), kept inline: enough to recognise the
/// magic bytes of a compressed body, without an allocation for each of a site's files.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct FirstBytes {
    len: u8,
    bytes: [u8; FIRST_BYTES],
}

impl FirstBytes {
    /// The first bytes of `body`.
    pub fn of(body: &[u8]) -> FirstBytes {
        let mut f = FirstBytes::default();
        f.extend(body);
        f
    }

    /// Adds the beginning of `chunk` while there is room (a body read chunk by chunk).
    pub fn extend(&mut self, chunk: &[u8]) {
        let len = usize::from(self.len);
        let take = (FIRST_BYTES - len).min(chunk.len());
        self.bytes[len..len + take].copy_from_slice(&chunk[..take]);
        self.len += take as u8;
    }

    /// The bytes kept.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for FirstBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FirstBytes({:02x?})", self.as_slice())
    }
}

/// Extensions of formats that are compressed already: compressing them again wastes CPU and
/// gains nothing, so a rule that says `compress` uploads them plain.
const PRECOMPRESSED: &[&str] = &[
    "png", "apng", "jpg", "jpeg", "gif", "webp", "avif", "heic", "heif", "jxl", "ico", "woff",
    "woff2", "zip", "gz", "tgz", "bz2", "xz", "zst", "br", "7z", "rar", "jar", "mp4", "m4v",
    "webm", "mov", "mkv", "mp3", "m4a", "ogg", "oga", "opus", "flac", "aac", "pdf", "docx", "xlsx",
    "pptx", "epub",
];

/// Whether `key` is a format that is compressed already.
pub fn is_precompressed(key: &str) -> bool {
    media::extension(key)
        .is_some_and(|ext| PRECOMPRESSED.contains(&ext.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_keep_the_beginning_of_a_body_read_in_chunks() {
        let mut f = FirstBytes::default();
        assert_eq!(f.as_slice(), b"");
        f.extend(b"\x1f\x8b\x08");
        f.extend(b"");
        f.extend(b"0123456789");
        assert_eq!(f.as_slice(), b"\x1f\x8b\x0801234");
        f.extend(b"more");
        assert_eq!(f, FirstBytes::of(b"\x1f\x8b\x08012345678"));
        assert_eq!(FirstBytes::of(b"ab").as_slice(), b"ab");
    }

    #[test]
    fn content_codings() {
        for ok in ["gzip", "GZIP", "br", "zstd", "x-gzip", "deflate"] {
            assert!(is_content_coding(ok), "{ok}");
        }
        for bad in [
            "UTF-8",
            "utf-8",
            "ANSI_X3.4-1968",
            "US-ASCII",
            "ISO-8859-1",
            "aws-chunked",
            "identity",
            "",
        ] {
            assert!(!is_content_coding(bad), "{bad}");
        }
    }

    #[test]
    fn precompressed_formats() {
        for k in ["a.png", "x/Y.JPG", "f.woff2", "a.tar.gz", "v.mp4", "d.pdf"] {
            assert!(is_precompressed(k), "{k}");
        }
        for k in ["a.html", "a.css", "a.svg", "a.wasm", "noext", ".png"] {
            assert!(!is_precompressed(k), "{k}");
        }
    }
}
