//! What a key may be: S3's length limit, the characters S3's XML cannot carry, and the names
//! some stores turn a key into.
//!
//! Owns: facts about keys that hold for every run. Must not: build keys from paths (that is
//! `site`) or talk to a store.

/// S3's limit on key length, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// Whether `c` cannot travel in S3's XML (listings, batch deletes): control characters
/// (XML 1.0 has no C0 control but tab and newlines, and parsers turn `\r` into `\n`; DEL and
/// C1 are refused too) and the noncharacters U+FFFE and U+FFFF.
pub fn xml_unsafe(c: char) -> bool {
    c.is_control() || c == '\u{fffe}' || c == '\u{ffff}'
}

/// The name some stores keep `key` under, when it differs: SeaweedFS turns `\` into `/` and
/// collapses runs of `/`. AWS and most stores keep every key as sent.
pub fn store_alias(key: &str) -> Option<String> {
    if !key.contains('\\') && !key.contains("//") {
        return None;
    }
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        let c = if c == '\\' { '/' } else { c };
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    (out != key).then_some(out)
}

/// The path rules match for a key relative to the prefix: a folder key (`d/`, a page stored as
/// its folder with `strip_index_html`) is matched as the file it came from, `d/index.html`.
pub fn rules_path(rel: &str) -> std::borrow::Cow<'_, str> {
    if rel.ends_with('/') {
        std::borrow::Cow::Owned(format!("{rel}index.html"))
    } else {
        std::borrow::Cow::Borrowed(rel)
    }
}

/// `key` relative to `prefix` (empty, or ending with `/`); a key outside it as it is.
pub fn relative<'k>(prefix: &str, key: &'k str) -> &'k str {
    key.strip_prefix(prefix).unwrap_or(key)
}

/// A key as URL-encoded in a listing, an S3 Inventory report or a Batch Operations manifest
/// (`+` is a space, `%2B` a plus), decoded; `None` when the bytes are not UTF-8.
pub fn url_decode(raw: &str) -> Option<String> {
    let plus = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8()
        .ok()
        .map(|k| k.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_xml_cannot_carry() {
        for c in [
            '\u{1}', '\n', '\r', '\t', '\u{7f}', '\u{85}', '\u{fffe}', '\u{ffff}',
        ] {
            assert!(xml_unsafe(c), "{c:?}");
        }
        for c in ['a', ' ', '\\', 'é', '\u{2028}', '😀'] {
            assert!(!xml_unsafe(c), "{c:?}");
        }
    }

    #[test]
    fn store_aliases() {
        assert_eq!(store_alias("a\\b").as_deref(), Some("a/b"));
        assert_eq!(store_alias("a//b\\\\c").as_deref(), Some("a/b/c"));
        assert_eq!(store_alias("a/b c"), None);
    }
}
