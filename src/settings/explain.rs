//! `s3site explain`: the headers the rules give a path, and where each one comes from.
//!
//! Owns: the text of an explanation. Must not: read files or talk to a store (the type of a file
//! that is UTF-8 is shown with its charset, and the condition is said).

use crate::content::header::Header;
use crate::content::media;
use crate::content::meta;
use crate::settings::rules::{Compress, RuleSet, TypeFrom};
use std::fmt::Write as _;

/// Explains the headers `rel` (a path relative to the site folder) gets from `rules`.
pub fn explain(rules: &RuleSet, rel: &str) -> String {
    let eff = rules.effective(rel);
    let mut out = format!("{rel}\n");
    if eff.matched.is_empty() {
        out.push_str("  rules: none match\n");
    } else {
        let list: Vec<String> = eff
            .matched
            .iter()
            .map(|&i| {
                let r = &rules.rules[i];
                format!("#{} (line {}: {})", i + 1, r.line, r.patterns.join(", "))
            })
            .collect();
        let _ = writeln!(out, "  rules: {}", list.join("; "));
    }
    // Which matching rule set each header last (the one that wins).
    let last = |pick: &dyn Fn(usize) -> bool| {
        eff.matched
            .iter()
            .rev()
            .find(|&&i| pick(i))
            .map(|&i| format!("rule #{}", i + 1))
    };
    let h = &eff.headers;
    let ctype = match rules.type_from(rel, h) {
        TypeFrom::Rule(t) => format!(
            "{t} ({})",
            last(&|i| rules.rules[i].headers.get(Header::ContentType).is_some())
                .unwrap_or_default()
        ),
        TypeFrom::Default(t) => format!("{t} (default_content_type: no extension)"),
        TypeFrom::Table => {
            let t = media::content_type(rel, true);
            if t.contains("charset") {
                format!("{t} (table; the charset only if the file is valid UTF-8)")
            } else {
                format!("{t} (table)")
            }
        }
    };
    let _ = writeln!(out, "  {}: {ctype}", Header::ContentType.name());
    for (header, v) in h.iter().filter(|(h, _)| *h != Header::ContentType) {
        let from = last(&|i| rules.rules[i].headers.get(header).is_some()).unwrap_or_default();
        let _ = writeln!(out, "  {}: {v} ({from})", header.name());
    }
    for (k, v) in &h.metadata {
        let from = last(&|i| rules.rules[i].headers.metadata.contains_key(k)).unwrap_or_default();
        let _ = writeln!(out, "  {}: {v} ({from})", meta::header_name(k));
    }
    if let Some(acl) = &h.acl {
        let from = last(&|i| rules.rules[i].headers.acl.is_some()).unwrap_or_default();
        let _ = writeln!(out, "  ACL: {acl} ({from})");
    }
    if let Some(class) = &h.storage_class {
        let from = last(&|i| rules.rules[i].headers.storage_class.is_some()).unwrap_or_default();
        let _ = writeln!(out, "  storage class: {class} ({from})");
    }
    let from = last(&|i| rules.rules[i].headers.compress.is_some()).unwrap_or_default();
    let encoding = match h.compress {
        Some(Compress::With(_)) if crate::content::coding::is_precompressed(rel) => {
            format!("(none: already a compressed format; {from} is not applied)")
        }
        Some(Compress::With(c)) => {
            format!(
                "{} ({from}; plain if compressing does not shrink it)",
                c.as_str()
            )
        }
        Some(Compress::None) => format!("(none: {from})"),
        None => "(none)".to_string(),
    };
    let _ = writeln!(out, "  Content-Encoding: {encoding}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::rules::Config;
    use std::path::Path;

    #[test]
    fn explains_each_header_with_the_rule_that_won() {
        let c = Config::parse(
            r#"
default_content_type = "text/html; charset=utf-8"
[[rule]]
match = "**"
cache_control = "max-age=60"
compress = "gzip"
[[rule]]
match = "*.html"
cache_control = "no-cache"
headers = { "x-amz-meta-owner" = "web" }
"#,
            Path::new("s3site.toml"),
        )
        .expect("parses");
        let e = explain(&c.rules, "blog/index.html");
        assert_eq!(
            e,
            "blog/index.html\n  rules: #1 (line 3: **); #2 (line 7: *.html)\n  \
             Content-Type: text/html; charset=utf-8 (table; the charset only if the file is \
             valid UTF-8)\n  Cache-Control: no-cache (rule #2)\n  x-amz-meta-owner: web (rule \
             #2)\n  Content-Encoding: gzip (rule #1; plain if compressing does not shrink it)\n"
        );
        let e = explain(&c.rules, "img/a.png");
        assert!(e.contains("Content-Type: image/png (table)"), "{e}");
        assert!(e.contains("already a compressed format"), "{e}");
        let e = explain(&c.rules, "about");
        assert!(e.contains("default_content_type"), "{e}");
    }
}
