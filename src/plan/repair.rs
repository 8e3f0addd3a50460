//! Repair planning, pure: what is wrong with the headers an object already has, and the complete
//! header set it should get instead.
//!
//! Owns: the rules for a bogus `Content-Encoding` (not a registered coding, or a coding the body's
//! first bytes contradict) and a wrong `Content-Type` (missing, generic, different from the
//! table, or missing the charset the table gives); drift from the rules file (Cache-Control,
//! Content-Disposition, Content-Language, the type, the redirect, the listed user metadata, and
//! a compression only a re-upload can change); when the first bytes are needed to decide; and
//! which objects cannot be fixed in place (archived, SSE-C, no ETag). Must not: do I/O — the
//! caller passes the HEAD and, when asked for, the first bytes.

use crate::content::coding::{self, Coding};
use crate::content::header::{Header, MediaType};
use crate::content::media::{self, DEFAULT_CONTENT_TYPE};
use crate::content::meta;
use crate::settings::rules::{RuleHeaders, RuleSet, TypeFrom};
use crate::store::{CopyInPlace, Encryption, ObjectHead, ObjectHeaders};
use serde::Serialize;

/// How many bytes of an object are read to check a coding's magic bytes and whether the text is
/// UTF-8 (an object larger than this is judged by its beginning).
pub const SNIFF_BYTES: u64 = 1024 * 1024;

/// The beginning of an object's body, as evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sniff {
    /// The first bytes of the stored body (at least the first 4 when the body has them).
    pub prefix: Vec<u8>,
    /// Whether the body is valid UTF-8, if known.
    pub utf8: Option<bool>,
    /// Whether `utf8` describes the content itself even when the stored body is compressed
    /// (true when it comes from the local file; false when measured on the stored bytes).
    pub decoded: bool,
}

/// What the rules file asks of one object (nothing, without a file).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// The headers the matching rules set.
    pub headers: RuleHeaders,
    /// `default_content_type`, for a key with no extension.
    pub default_content_type: Option<String>,
    /// Whether any rule mentions compression: then an object compressed without a rule saying
    /// so is drift too.
    pub mentions_compress: bool,
}

impl Expect {
    /// What `rules` ask of the key whose prefix-relative path is `rel`.
    pub fn new(rules: &RuleSet, rel: &str) -> Expect {
        Expect {
            headers: rules.effective(rel).headers,
            default_content_type: rules.default_content_type.clone(),
            mentions_compress: rules.mentions_compress,
        }
    }

    /// Where the Content-Type of `key` comes from (the resolution uploads use too).
    pub fn type_from(&self, key: &str) -> TypeFrom<'_> {
        TypeFrom::of(key, &self.headers, self.default_content_type.as_deref())
    }
}

impl Sniff {
    /// Evidence from the first bytes of a body; `complete` says the bytes are the whole body
    /// (otherwise a character cut at the end does not count against UTF-8).
    pub fn from_prefix(prefix: Vec<u8>, complete: bool) -> Sniff {
        let utf8 = match std::str::from_utf8(&prefix) {
            Ok(_) => true,
            Err(e) => !complete && e.error_len().is_none(),
        };
        Sniff {
            prefix,
            utf8: Some(utf8),
            decoded: false,
        }
    }
}

/// One header's change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The header name.
    pub header: String,
    /// Its value now (`None`: absent).
    pub before: Option<String>,
    /// Its value after the repair (`None`: removed).
    pub after: Option<String>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<String>| match v {
            Some(v) => format!("'{v}'"),
            None => "(none)".to_string(),
        };
        write!(
            f,
            "{}: {} -> {}",
            self.header,
            show(&self.before),
            show(&self.after)
        )
    }
}

/// What to do with one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Its headers are right: nothing to do.
    Right,
    /// Rewrite its headers in place with this copy.
    Fix {
        /// What changes.
        changes: Vec<Change>,
        /// The copy that makes them.
        copy: Box<CopyInPlace>,
        /// What the copy cannot change and a re-upload must (the body's compression).
        remains: Option<String>,
    },
    /// Its headers are wrong but it cannot be fixed in place.
    Unfixable {
        /// What would change.
        changes: Vec<Change>,
        /// Why it is left alone.
        reason: String,
    },
}

/// The registered codings in a `Content-Encoding` value (charsets, `identity`, `aws-chunked`
/// and empty items dropped).
fn real_codings(value: Option<&str>) -> Vec<&str> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| coding::is_content_coding(c))
        .collect()
}

/// The `Content-Encoding` the object should have: only registered codings, and a single coding
/// with magic bytes only if the body starts with them (unknown without a sniff: kept).
fn desired_encoding(current: Option<&str>, sniff: Option<&Sniff>) -> Option<String> {
    let codings = real_codings(current);
    let items = current.map_or(0, |c| c.split(',').count());
    if let [single] = codings.as_slice()
        && let (Some(magic), Some(s)) = (coding::magic_of(single), sniff)
        && !s.prefix.starts_with(magic)
    {
        return None;
    }
    if codings.len() == items {
        // Nothing dropped: keep the value exactly as it is written.
        return current.map(str::to_string);
    }
    (!codings.is_empty()).then(|| codings.join(", "))
}

/// The `Content-Type` the object should have, or `None` to leave it as it is. `utf8` is whether
/// the (plain) body is UTF-8, when known; when it is not known, a charset the object already
/// declares is kept and none is added.
fn desired_type(key: &str, current: Option<&str>, utf8: Option<bool>) -> Option<String> {
    let current = current.map(str::trim).filter(|c| !c.is_empty());
    let table = media::media_type(key);
    if table == DEFAULT_CONTENT_TYPE {
        // No extension, or one nobody knows: any type the object has may be deliberate.
        return match current {
            Some(_) => None,
            None => Some(DEFAULT_CONTENT_TYPE.to_string()),
        };
    }
    let now = current.map(MediaType::parse);
    let charset = if !media::takes_charset(table) {
        None
    } else if utf8 == Some(true) {
        Some("utf-8".to_string())
    } else {
        now.as_ref().and_then(|n| n.charset.clone())
    };
    let want = match &charset {
        Some(c) => format!("{table}; charset={c}"),
        None => table.to_string(),
    };
    let same = now.is_some_and(|n| n.same(&MediaType::parse(&want)));
    (!same).then_some(want)
}

/// Whether deciding about `key` needs the first bytes of its body: to check a declared coding's
/// magic bytes, or whether text whose type lacks `charset=utf-8` really is UTF-8. Never for an
/// object that cannot be read or fixed anyway (archived, SSE-C): a GET of it fails.
pub fn needs_sniff(key: &str, head: &ObjectHead, expect: &Expect) -> bool {
    if head.content_length == 0 || unfixable(head).is_some() {
        return false;
    }
    let codings = real_codings(head.headers.content_encoding());
    match codings.as_slice() {
        [] => {
            let table = media::media_type(key);
            expect.type_from(key).given().is_none()
                && table != DEFAULT_CONTENT_TYPE
                && media::takes_charset(table)
                && !head
                    .headers
                    .content_type()
                    .is_some_and(|t| MediaType::parse(t).is_utf8())
        }
        [single] => coding::magic_of(single).is_some(),
        _ => false,
    }
}

/// The evidence `--assume-utf8` stands in for a read with: when `needs_sniff` asks only whether
/// the text is UTF-8 (no coding's magic bytes to check), the text is taken to be UTF-8.
pub fn assumed_utf8(key: &str, head: &ObjectHead, expect: &Expect) -> Option<Sniff> {
    let plain = real_codings(head.headers.content_encoding()).is_empty();
    (plain && needs_sniff(key, head, expect)).then(|| Sniff {
        prefix: Vec::new(),
        utf8: Some(true),
        decoded: true,
    })
}

/// Decides what to do with the object at `key` from its HEAD, what the rules `expect` and, when
/// `needs_sniff` asked for it, its first bytes. Everything not judged wrong is kept as the HEAD
/// showed it.
pub fn assess(key: &str, head: &ObjectHead, sniff: Option<&Sniff>, expect: &Expect) -> Verdict {
    if key.ends_with('/') && head.content_length == 0 {
        // A folder marker (what consoles create), not a page: its type is its own.
        return Verdict::Right;
    }
    let empty = Sniff::from_prefix(Vec::new(), true);
    let sniff = if head.content_length == 0 {
        Some(&empty)
    } else {
        sniff
    };
    let desired = desired(key, head, sniff, expect);
    // A compression the rules ask for and the body does not have is only a re-upload's to
    // change; everything else a copy can still fix (a bogus coding, the type, rule headers).
    let remains = reupload_needed(key, head, desired.encoding.as_deref(), expect);
    verdict(key, head, desired, remains, expect)
}

/// The headers an object should have, and how they differ from the ones it has.
struct Desired {
    headers: ObjectHeaders,
    changes: Vec<Change>,
    /// The `Content-Encoding` it should declare for the body it has.
    encoding: Option<String>,
}

impl Desired {
    fn set(&mut self, h: Header, value: Option<String>) {
        let before = self.headers.get(h).map(str::to_string);
        self.changes
            .push(change(h.name(), &before, value.as_deref()));
        self.headers.set(h, value);
    }
}

/// Stage one: the header set the object should get, header by header in table order.
fn desired(key: &str, head: &ObjectHead, sniff: Option<&Sniff>, expect: &Expect) -> Desired {
    let h = &head.headers;
    let encoding = desired_encoding(h.content_encoding(), sniff);
    // The body is plain text only when no coding is left; then its UTF-8 check applies (or
    // whatever the coding, when the evidence is the local file).
    let utf8 = sniff
        .filter(|s| encoding.is_none() || s.decoded)
        .and_then(|s| s.utf8);
    let content_type = match expect.type_from(key).given() {
        Some(want) => (!h
            .content_type()
            .is_some_and(|now| Header::ContentType.same(now, want)))
        .then(|| want.to_string()),
        None => desired_type(key, h.content_type(), utf8),
    };
    let mut d = Desired {
        headers: h.clone(),
        changes: Vec::new(),
        encoding: encoding.clone(),
    };
    if let Some(t) = content_type {
        d.set(Header::ContentType, Some(t));
    }
    if encoding.as_deref() != h.content_encoding() {
        d.set(Header::ContentEncoding, encoding);
    }
    for spec in Header::rule_settable().filter(|s| s.header != Header::ContentType) {
        if let Some(want) = expect.headers.get(spec.header)
            && !h
                .get(spec.header)
                .is_some_and(|now| spec.header.same(now, want))
        {
            d.set(spec.header, Some(want.to_string()));
        }
    }
    for (k, want) in &expect.headers.metadata {
        let now = d.headers.metadata.get(k).cloned();
        if now.as_ref() != Some(want) {
            d.changes
                .push(change(&meta::header_name(k), &now, Some(want)));
            d.headers.metadata.insert(k.clone(), want.clone());
        }
    }
    d
}

/// Stage two: right, fixable with a copy, or only a re-upload's to fix.
fn verdict(
    key: &str,
    head: &ObjectHead,
    desired: Desired,
    remains: Option<String>,
    expect: &Expect,
) -> Verdict {
    let Desired {
        headers,
        mut changes,
        encoding,
    } = desired;
    if let Some(reason) = &remains
        && (changes.is_empty() || unfixable(head).is_some() || head.etag.is_none())
    {
        let want = expect.headers.coding().map(|c| c.as_str().to_string());
        if want != encoding {
            changes.push(change(
                Header::ContentEncoding.name(),
                &encoding,
                want.as_deref(),
            ));
        }
        return Verdict::Unfixable {
            changes,
            reason: format!("{reason}; {REUPLOAD}"),
        };
    }
    if changes.is_empty() {
        return Verdict::Right;
    }
    if let Some(reason) = unfixable(head) {
        return Verdict::Unfixable { changes, reason };
    }
    let Some(etag) = head.etag.clone() else {
        return Verdict::Unfixable {
            changes,
            reason: "the store gave no ETag, so a copy could not be made safe".into(),
        };
    };
    Verdict::Fix {
        changes,
        copy: Box::new(CopyInPlace {
            key: key.to_string(),
            if_match: etag,
            size: head.content_length,
            headers,
            storage_class: head.storage_class.clone(),
            encryption: head.encryption.clone(),
            tag_count: head.tag_count,
        }),
        remains: remains.map(|r| format!("{r}: {REUPLOAD}")),
    }
}

/// What fixes a compression difference.
const REUPLOAD: &str = "only a re-upload changes the body: run s3site sync";

fn change(header: &str, before: &Option<String>, after: Option<&str>) -> Change {
    Change {
        header: header.to_string(),
        before: before.clone(),
        after: after.map(str::to_string),
    }
}

/// Why the stored body's compression is not what the rules ask for, when it is not: a copy
/// cannot change the bytes, only a re-upload (which `sync` does) can.
fn reupload_needed(
    key: &str,
    head: &ObjectHead,
    encoding: Option<&str>,
    expect: &Expect,
) -> Option<String> {
    let stored = encoding.and_then(Coding::from_header);
    let want = expect
        .headers
        .coding()
        .filter(|_| !coding::is_precompressed(key));
    match (want, stored) {
        (Some(w), Some(s)) if w == s => None,
        (Some(w), None) => {
            let no_gain = head
                .headers
                .metadata
                .get(meta::PLAIN_MARKER_KEY)
                .map(String::as_str)
                == Some(meta::NO_GAIN);
            (!no_gain && head.content_length > 0).then(|| {
                format!(
                    "stored plain, but the rules compress it with {}",
                    w.as_str()
                )
            })
        }
        (Some(w), Some(s)) => Some(format!(
            "stored as {}, but the rules say {}",
            s.as_str(),
            w.as_str()
        )),
        (None, Some(s)) if expect.mentions_compress => Some(format!(
            "stored as {}, but no rule compresses it",
            s.as_str()
        )),
        (None, _) => None,
    }
}

/// Why an object cannot be copied in place, if it cannot.
fn unfixable(head: &ObjectHead) -> Option<String> {
    if head.encryption == Encryption::Customer {
        return Some("encrypted with a customer key (SSE-C)".into());
    }
    if let Some(tier) = &head.archive_status {
        return Some(format!(
            "in the Intelligent-Tiering {tier} tier; restore it first"
        ));
    }
    let archived = matches!(
        head.storage_class.as_deref(),
        Some("GLACIER" | "DEEP_ARCHIVE")
    );
    if archived && !head.restored {
        return Some(format!(
            "archived in {} and not restored; restore it first",
            head.storage_class.as_deref().unwrap_or_default()
        ));
    }
    None
}

#[cfg(test)]
mod tests;
