//! The metadata an object should carry, decided from its key alone: the web Content-Type table
//! and the charset rule.
//!
//! Owns: the host-independent extension → media type table (mime_guess plus web overrides), which
//! types take `; charset=utf-8`, and which `Content-Encoding` values are real content codings.
//! Must not: read the host's `/etc/mime.types`, touch files, or talk to a store. Whether a file is
//! valid UTF-8 is measured by `site::hash`, and passed in.

/// Media types for the web that mime_guess gets wrong or lacks, keyed by lower-case extension.
/// Checked before mime_guess; everything here is deliberate and unit-tested.
const WEB_OVERRIDES: &[(&str, &str)] = &[
    ("html", "text/html"),
    ("htm", "text/html"),
    ("css", "text/css"),
    // RFC 9239: text/javascript is the one JavaScript type; module scripts need it.
    ("js", "text/javascript"),
    ("mjs", "text/javascript"),
    ("cjs", "text/javascript"),
    ("json", "application/json"),
    // Source maps are JSON (mime_guess says text/plain).
    ("map", "application/json"),
    // application/xml is preferred to text/xml for documents like sitemaps.
    ("xml", "application/xml"),
    ("rss", "application/rss+xml"),
    ("atom", "application/atom+xml"),
    ("xhtml", "application/xhtml+xml"),
    ("svg", "image/svg+xml"),
    ("txt", "text/plain"),
    ("md", "text/markdown"),
    ("markdown", "text/markdown"),
    ("csv", "text/csv"),
    ("ics", "text/calendar"),
    ("wasm", "application/wasm"),
    ("webmanifest", "application/manifest+json"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("png", "image/png"),
    ("apng", "image/apng"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("ico", "image/vnd.microsoft.icon"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
    ("wav", "audio/wav"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
];

/// Non-`text/*` types that are text and take a charset parameter. JSON is deliberately absent:
/// it has no charset parameter (RFC 8259).
const CHARSET_TYPES: &[&str] = &[
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/xhtml+xml",
];

/// The type given to a key with no extension, or an extension nobody knows.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The media type (without parameters) the table gives `key`, decided by its extension alone.
pub fn media_type(key: &str) -> &'static str {
    // A key that is a folder is a page stored as its folder (`strip_index_html`): `d/` holds
    // what `d/index.html` would.
    if key.ends_with('/') {
        return "text/html";
    }
    let Some(ext) = extension(key) else {
        return DEFAULT_CONTENT_TYPE;
    };
    let ext = ext.to_ascii_lowercase();
    if let Some((_, t)) = WEB_OVERRIDES.iter().find(|(e, _)| *e == ext) {
        return t;
    }
    mime_guess::from_ext(&ext)
        .first_raw()
        .unwrap_or(DEFAULT_CONTENT_TYPE)
}

/// Whether `media_type` is text that should say `charset=utf-8` when its bytes are UTF-8.
pub fn takes_charset(media_type: &str) -> bool {
    media_type.starts_with("text/") || CHARSET_TYPES.contains(&media_type)
}

/// The full `Content-Type` header for `key`: the table's media type, plus `; charset=utf-8` when the
/// type is text and `is_utf8` says the bytes are valid UTF-8.
pub fn content_type(key: &str, is_utf8: bool) -> String {
    let t = media_type(key);
    if is_utf8 && takes_charset(t) {
        format!("{t}; charset=utf-8")
    } else {
        t.to_string()
    }
}

/// Whether `key` is an HTML page. Pages are uploaded after every other file, so a visitor
/// never gets a page whose assets are not there yet.
pub fn is_page(key: &str) -> bool {
    matches!(media_type(key), "text/html" | "application/xhtml+xml")
}

/// Whether the last path segment of `key` has an extension (`.htaccess` has none).
pub fn has_extension(key: &str) -> bool {
    extension(key).is_some()
}

/// The extension of the last path segment of `key`, if it has one. `.htaccess` has none.
pub fn extension(key: &str) -> Option<&str> {
    let name = key.rsplit('/').next().unwrap_or(key);
    match name.rfind('.') {
        Some(0) | None => None,
        Some(i) => Some(&name[i + 1..]).filter(|e| !e.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table, extension by extension, as a browser needs it.
    #[test]
    fn web_table() {
        let cases = [
            ("index.html", "text/html; charset=utf-8"),
            ("a/b.htm", "text/html; charset=utf-8"),
            ("s.css", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("m.mjs", "text/javascript; charset=utf-8"),
            ("c.cjs", "text/javascript; charset=utf-8"),
            ("d.json", "application/json"),
            ("app.js.map", "application/json"),
            ("sitemap.xml", "application/xml; charset=utf-8"),
            ("feed.rss", "application/rss+xml; charset=utf-8"),
            ("feed.atom", "application/atom+xml; charset=utf-8"),
            ("p.xhtml", "application/xhtml+xml; charset=utf-8"),
            ("logo.svg", "image/svg+xml"),
            ("robots.txt", "text/plain; charset=utf-8"),
            ("README.md", "text/markdown; charset=utf-8"),
            ("data.csv", "text/csv; charset=utf-8"),
            ("cal.ics", "text/calendar; charset=utf-8"),
            ("app.wasm", "application/wasm"),
            ("site.webmanifest", "application/manifest+json"),
            ("f.woff", "font/woff"),
            ("f.woff2", "font/woff2"),
            ("f.ttf", "font/ttf"),
            ("f.otf", "font/otf"),
            ("i.png", "image/png"),
            ("i.jpg", "image/jpeg"),
            ("i.jpeg", "image/jpeg"),
            ("i.gif", "image/gif"),
            ("i.webp", "image/webp"),
            ("i.avif", "image/avif"),
            ("favicon.ico", "image/vnd.microsoft.icon"),
            ("i.apng", "image/apng"),
            ("v.mp4", "video/mp4"),
            ("v.webm", "video/webm"),
            ("a.mp3", "audio/mpeg"),
            ("a.ogg", "audio/ogg"),
            ("a.wav", "audio/wav"),
            ("doc.pdf", "application/pdf"),
            ("a.zip", "application/zip"),
            ("a.tar.gz", "application/gzip"),
            ("LICENSE", "application/octet-stream"),
            ("dir.d/noext", "application/octet-stream"),
            (".htaccess", "application/octet-stream"),
            ("trailingdot.", "application/octet-stream"),
        ];
        for (key, want) in cases {
            assert_eq!(content_type(key, true), want, "{key}");
        }
    }

    #[test]
    fn extension_is_case_insensitive() {
        assert_eq!(content_type("INDEX.HTML", true), "text/html; charset=utf-8");
        assert_eq!(content_type("Photo.JPG", true), "image/jpeg");
    }

    #[test]
    fn falls_back_to_mime_guess_for_other_known_types() {
        assert_eq!(media_type("x.tiff"), "image/tiff");
        assert_eq!(media_type("x.unknownext"), DEFAULT_CONTENT_TYPE);
    }

    #[test]
    fn no_charset_when_text_is_not_utf8() {
        assert_eq!(content_type("legacy.txt", false), "text/plain");
        assert_eq!(content_type("s.xml", false), "application/xml");
    }

    #[test]
    fn never_a_charset_on_json_images_fonts_binaries() {
        for key in [
            "a.json", "a.svg", "a.png", "a.woff2", "a.wasm", "a.bin", "noext",
        ] {
            assert!(!content_type(key, true).contains("charset"), "{key}");
        }
    }

    #[test]
    fn pages() {
        assert!(is_page("index.html"));
        assert!(is_page("a/B.HTM"));
        assert!(!is_page("style.css"));
        assert!(!is_page("html"));
    }
}
