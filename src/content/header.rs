//! The headers s3site sets on an object or compares on one (user metadata aside): one table
//! that says, for each, its HTTP name, the rules-file key that sets it (if a rule may), how a
//! value is checked and how two values compare. Rules, the repair planner, `explain`, the
//! uploads and the S3 adapter all read it, so a new header is a new variant and its row here (the
//! compiler asks for each, and, in the S3 adapter, for its SDK setter and getter).
//!
//! Owns: the table (`Header::spec`) and `ObjectHeaders`, the headers an object is served with. Must not: know
//! which value a header should have for a given file (that is `plan`) or speak to a store.

use std::collections::BTreeMap;

/// A header s3site sets or compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Header {
    /// `Content-Type`.
    ContentType,
    /// `Content-Encoding`.
    ContentEncoding,
    /// `Cache-Control`.
    CacheControl,
    /// `Content-Disposition`.
    ContentDisposition,
    /// `Content-Language`.
    ContentLanguage,
    /// `Expires`, as the raw HTTP date the store returned.
    Expires,
    /// `x-amz-website-redirect-location`.
    WebsiteRedirect,
}

/// How a value is checked before it is accepted from a rules file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Printable ASCII, not blank.
    Plain,
    /// A media type (`type/subtype`, parameters allowed).
    MediaType,
    /// A path on the site (`/...`) or an absolute http(s) URL.
    Redirect,
    /// An HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`).
    HttpDate,
}

/// How two values of a header are the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Byte for byte.
    Exact,
    /// As media types: case-insensitive type and charset, parameters in any order.
    MediaType,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The header.
    pub header: Header,
    /// Its HTTP name, as s3site prints it.
    pub name: &'static str,
    /// The rules-file key that sets it, for a header a rule may set.
    pub rule_key: Option<&'static str>,
    /// How a value from a rules file is checked.
    pub check: Check,
    /// How two values compare.
    pub compare: Compare,
}

impl Header {
    /// Every header, in the order s3site shows them (`every_header_is_listed_once` keeps this in
    /// step with the enum).
    pub const ALL: [Header; 7] = [
        Header::ContentType,
        Header::ContentEncoding,
        Header::CacheControl,
        Header::ContentDisposition,
        Header::ContentLanguage,
        Header::Expires,
        Header::WebsiteRedirect,
    ];

    /// Its row of the table: an exhaustive match, so a new header does not compile without one.
    pub const fn spec(self) -> Spec {
        use Check::{HttpDate, MediaType as IsMediaType, Plain, Redirect};
        use Compare::{Exact, MediaType as AsMediaType};
        let (name, rule_key, check, compare) = match self {
            Header::ContentType => (
                "Content-Type",
                Some("content_type"),
                IsMediaType,
                AsMediaType,
            ),
            // Set by `compress`, which also changes the body.
            Header::ContentEncoding => ("Content-Encoding", None, Plain, Exact),
            Header::CacheControl => ("Cache-Control", Some("cache_control"), Plain, Exact),
            Header::ContentDisposition => (
                "Content-Disposition",
                Some("content_disposition"),
                Plain,
                Exact,
            ),
            Header::ContentLanguage => ("Content-Language", Some("content_language"), Plain, Exact),
            Header::Expires => ("Expires", Some("expires"), HttpDate, Exact),
            Header::WebsiteRedirect => (
                "x-amz-website-redirect-location",
                Some("redirect"),
                Redirect,
                Exact,
            ),
        };
        Spec {
            header: self,
            name,
            rule_key,
            check,
            compare,
        }
    }

    /// Its HTTP name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The headers a rule may set, in table order.
    pub fn rule_settable() -> impl Iterator<Item = Spec> {
        Header::ALL
            .into_iter()
            .map(Header::spec)
            .filter(|s| s.rule_key.is_some())
    }

    /// The header a rules-file key sets.
    pub fn from_rule_key(key: &str) -> Option<Header> {
        Header::rule_settable()
            .find(|s| s.rule_key == Some(key))
            .map(|s| s.header)
    }

    /// Whether `a` and `b` are the same value of this header.
    pub fn same(self, a: &str, b: &str) -> bool {
        match self.spec().compare {
            Compare::Exact => a == b,
            Compare::MediaType => MediaType::parse(a).same(&MediaType::parse(b)),
        }
    }

    /// Checks a value a rules file gives this header.
    pub fn check(self, v: &str) -> Result<(), String> {
        match self.spec().check {
            Check::Plain => check_value(v)
                .map_err(|m| format!("{}: {m}", self.spec().rule_key.unwrap_or(self.name()))),
            Check::MediaType => check_media_type(v),
            Check::HttpDate => {
                if is_http_date(v) {
                    Ok(())
                } else {
                    Err(format!(
                        "{}: '{v}' is not an HTTP date (like Wed, 21 Oct 2026 07:28:00 GMT)",
                        self.spec().rule_key.unwrap_or(self.name())
                    ))
                }
            }
            Check::Redirect => {
                if v.starts_with('/') || v.starts_with("http://") || v.starts_with("https://") {
                    check_value(v)
                } else {
                    Err(format!(
                        "redirect '{v}' must start with '/', 'http://' or 'https://'"
                    ))
                }
            }
        }
    }
}

/// The headers an object is served with, as a HEAD returns them and a copy or an upload sends
/// them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectHeaders {
    values: BTreeMap<Header, String>,
    /// User metadata (`x-amz-meta-*`), keys lower-cased without the prefix.
    pub metadata: BTreeMap<String, String>,
}

impl ObjectHeaders {
    /// The value of `h`, if the object has it.
    pub fn get(&self, h: Header) -> Option<&str> {
        self.values.get(&h).map(String::as_str)
    }

    /// Sets `h` to `value`, or removes it with `None`.
    pub fn set(&mut self, h: Header, value: Option<String>) {
        match value {
            Some(v) => self.values.insert(h, v),
            None => self.values.remove(&h),
        };
    }

    /// These headers with `h` set to `value` (for building them in one expression).
    pub fn with(mut self, h: Header, value: impl Into<String>) -> ObjectHeaders {
        self.set(h, Some(value.into()));
        self
    }

    /// `Content-Type`.
    pub fn content_type(&self) -> Option<&str> {
        self.get(Header::ContentType)
    }

    /// `Content-Encoding`.
    pub fn content_encoding(&self) -> Option<&str> {
        self.get(Header::ContentEncoding)
    }

    /// Every header set, in table order (user metadata aside).
    pub fn iter(&self) -> impl Iterator<Item = (Header, &str)> {
        self.values.iter().map(|(h, v)| (*h, v.as_str()))
    }
}

/// A media type taken apart for comparison: type and subtype lower case, the charset as
/// written (unquoted), other parameters lower case and sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaType {
    /// `type/subtype`, lower case.
    pub media: String,
    /// The `charset` parameter as written, without quotes.
    pub charset: Option<String>,
    /// Every other parameter, lower case, sorted.
    pub others: Vec<String>,
}

impl MediaType {
    /// Parses a `Content-Type` value.
    pub fn parse(value: &str) -> MediaType {
        let mut parts = value.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut charset = None;
        let mut others = Vec::new();
        for p in parts.map(str::trim).filter(|p| !p.is_empty()) {
            match p.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
                    charset = Some(v.trim().trim_matches('"').to_string());
                }
                _ => others.push(p.to_ascii_lowercase()),
            }
        }
        others.sort();
        MediaType {
            media,
            charset,
            others,
        }
    }

    /// Whether the charset is UTF-8.
    pub fn is_utf8(&self) -> bool {
        self.charset
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("utf-8") || c.eq_ignore_ascii_case("utf8"))
    }

    /// Whether `other` is the same type: the charset compared without case.
    pub fn same(&self, other: &MediaType) -> bool {
        self.media == other.media
            && self.others == other.others
            && match (&self.charset, &other.charset) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

/// Whether `v` is an IMF-fixdate (RFC 9110): `Wed, 21 Oct 2026 07:28:00 GMT`.
pub fn is_http_date(v: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = v.split(' ').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let time = |s: &str| {
        let t: Vec<&str> = s.split(':').collect();
        t.len() == 3 && t.iter().all(|p| digits(p, 2))
    };
    matches!(parts.as_slice(), [day, dd, mon, yyyy, hms, "GMT"]
        if day.strip_suffix(',').is_some_and(|d| DAYS.contains(&d))
            && digits(dd, 2)
            && MONTHS.contains(mon)
            && digits(yyyy, 4)
            && time(hms))
}

/// An HTTP token (RFC 9110): what a header name may be made of.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Header values are sent as they are: printable ASCII only (S3 mangles the rest).
pub fn check_value(v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err("empty value".into());
    }
    if let Some(c) = v.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
        return Err(format!(
            "'{}' holds {c:?}; header values must be printable ASCII",
            v.escape_debug()
        ));
    }
    Ok(())
}

/// A `Content-Type` value a rules file may give: printable, and `type/subtype`.
pub fn check_media_type(t: &str) -> Result<(), String> {
    check_value(t).map_err(|m| format!("content type: {m}"))?;
    let media = t.split(';').next().unwrap_or("").trim();
    match media.split_once('/') {
        Some((a, b)) if is_token(a) && is_token(b) => Ok(()),
        _ => Err(format!("'{t}' is not a media type (like text/html)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_is_listed_once() {
        // Exhaustive: a new header does not compile here until it has a place in `ALL`.
        fn place(h: Header) -> usize {
            match h {
                Header::ContentType => 0,
                Header::ContentEncoding => 1,
                Header::CacheControl => 2,
                Header::ContentDisposition => 3,
                Header::ContentLanguage => 4,
                Header::Expires => 5,
                Header::WebsiteRedirect => 6,
            }
        }
        for (i, h) in Header::ALL.into_iter().enumerate() {
            assert_eq!(place(h), i, "{h:?}");
            assert_eq!(h.spec().header, h);
        }
        let keys: Vec<_> = Header::rule_settable().map(|s| s.rule_key).collect();
        assert_eq!(
            keys,
            [
                Some("content_type"),
                Some("cache_control"),
                Some("content_disposition"),
                Some("content_language"),
                Some("expires"),
                Some("redirect")
            ]
        );
        assert_eq!(
            Header::from_rule_key("redirect"),
            Some(Header::WebsiteRedirect)
        );
        assert_eq!(Header::from_rule_key("expires"), Some(Header::Expires));
        assert_eq!(Header::from_rule_key("content_encoding"), None);
    }

    #[test]
    fn media_types_compare_without_case_quotes_or_order() {
        let ct = Header::ContentType;
        assert!(ct.same("Text/HTML; Charset=\"UTF-8\"", "text/html; charset=utf-8"));
        assert!(ct.same("a/b; x=1; y=2", "a/b; y=2; x=1"));
        assert!(!ct.same("text/html", "text/html; charset=utf-8"));
        assert!(!Header::CacheControl.same("no-cache", "No-Cache"));
        assert!(MediaType::parse("text/css; charset=UTF8").is_utf8());
    }

    #[test]
    fn values_are_checked_by_kind() {
        assert!(Header::CacheControl.check("max-age=60").is_ok());
        assert!(Header::CacheControl.check("a\nb").is_err());
        assert!(Header::ContentType.check("html").is_err());
        assert!(Header::WebsiteRedirect.check("new").is_err());
        assert!(Header::WebsiteRedirect.check("/new/").is_ok());
        assert!(
            Header::Expires
                .check("Wed, 21 Oct 2026 07:28:00 GMT")
                .is_ok()
        );
        assert!(Header::Expires.check("2026-10-21").is_err());
        assert!(
            Header::Expires
                .check("Wed, 21 Oct 2026 7:28:00 GMT")
                .is_err()
        );
    }
}
