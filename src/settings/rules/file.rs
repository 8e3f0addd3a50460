//! Reading the rules file (`s3site.toml`).
//!
//! Owns: parsing and validating the file: unknown keys, bad globs, header names and values, and
//! compress values are errors that name the line. Which keys a rule takes comes from the header
//! table (`content::header`). Must not: read anything but the file it is given.

use super::{Compress, Rule, RuleHeaders, RuleSet};
use crate::content::coding::Coding;
use crate::content::header::{self, Header};
use crate::content::meta;
use crate::content::website::Website;
use globset::Glob;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file looked for in the current directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "s3site.toml";

/// The settings of a rules file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file they came from (`None`: no file).
    pub path: Option<PathBuf>,
    /// `bucket`: the `s3://` URL used when the command line gives none.
    pub bucket: Option<String>,
    /// `exclude`: globs, added to `--exclude`.
    pub exclude: Vec<String>,
    /// The rules.
    pub rules: RuleSet,
    /// `cloudfront`: distributions to invalidate, added to `--cloudfront`.
    pub cloudfront: Vec<String>,
    /// `cloudfront_max_paths`: exact paths per invalidation before folder wildcards.
    pub cloudfront_max_paths: Option<usize>,
    /// `cloudfront_origin_path`: the origin path of a custom origin that reaches the bucket.
    pub cloudfront_origin_path: Option<String>,
    /// `[website]`: the bucket's website configuration, applied by `sync` when it differs.
    pub website: Option<Website>,
    /// `[redirects]`: a path relative to the site folder, and where it redirects.
    pub redirects: BTreeMap<String, String>,
    /// `strip_index_html`: `d/index.html` is stored under the key `d/`.
    pub strip_index_html: bool,
}

/// A rules file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--config FILE` names a file that is not there, or it cannot be read.
    #[error("cannot read config file '{}': {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid, with the line.
    #[error("{}: line {line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    bucket: Option<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    default_content_type: Option<Spanned<String>>,
    #[serde(default)]
    cloudfront: Vec<Spanned<String>>,
    cloudfront_max_paths: Option<Spanned<i64>>,
    cloudfront_origin_path: Option<Spanned<String>>,
    strip_index_html: Option<Spanned<bool>>,
    website: Option<Spanned<Website>>,
    #[serde(default)]
    redirects: BTreeMap<String, Spanned<String>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RawRule>>,
}

/// A `[[rule]]` as written: its keys and their values, each with where it stands. Which keys
/// a rule takes is the header table's, so the rule is read by hand, not by serde's derive.
type RawRule = BTreeMap<String, Spanned<toml::Value>>;

/// The keys a rule takes besides the headers of the table.
const RULE_KEYS: &[&str] = &["match", "compress", "headers", "acl", "storage_class"];

/// Why a rule cannot be used: at a key of it (`Some`: the byte offset of its value), or as a
/// whole (`None`: named by the line where the rule starts).
struct RuleError {
    at: Option<usize>,
    message: String,
}

impl From<String> for RuleError {
    fn from(message: String) -> RuleError {
        RuleError { at: None, message }
    }
}

impl Config {
    /// Loads `explicit` (`--config FILE`, which must exist) or, without it, `s3site.toml` in
    /// `cwd` if there is one; no file gives the empty config.
    pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = cwd.join(DEFAULT_FILE);
                if !p.is_file() {
                    return Ok(Config::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Unreadable {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Config::parse(&text, &path)
    }

    /// Parses and validates the text of a rules file (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |(offset, message): (usize, String)| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of(text, offset),
            message,
        };
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| invalid((e.span().map_or(0, |s| s.start), e.message().to_string())))?;
        let bucket = checked(raw.bucket, |url| {
            crate::settings::url::S3Url::parse(url)
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .map_err(invalid)?;
        let mut exclude = Vec::new();
        for g in raw.exclude {
            exclude.extend(checked(Some(g), check_glob).map_err(invalid)?);
        }
        let default_content_type =
            checked(raw.default_content_type, header::check_media_type).map_err(invalid)?;
        let mut cloudfront = Vec::new();
        for d in raw.cloudfront {
            cloudfront.extend(checked(Some(d), check_distribution).map_err(invalid)?);
        }
        let cloudfront_max_paths = match raw.cloudfront_max_paths {
            Some(n) => {
                let at = n.span().start;
                let n = n.into_inner();
                Some(check_max_paths(n).map_err(|m| invalid((at, m)))?)
            }
            None => None,
        };
        let cloudfront_origin_path =
            checked(raw.cloudfront_origin_path, check_origin_path).map_err(invalid)?;
        let strip_index_html = raw.strip_index_html.is_some_and(|s| *s.get_ref());
        let website = match raw.website {
            Some(w) => {
                let at = w.span().start;
                let w = w.into_inner();
                w.check().map_err(|m| invalid((at, m)))?;
                Some(w)
            }
            None => None,
        };
        let mut redirects = BTreeMap::new();
        for (from, to) in raw.redirects {
            let at = to.span().start;
            let to = to.into_inner();
            let from = from.trim_start_matches('/').to_string();
            check_redirect(&from, &to).map_err(|m| invalid((at, m)))?;
            redirects.insert(from, to);
        }
        let rules = read_rules(raw.rules, &Lines::of(text)).map_err(invalid)?;
        let rules = RuleSet::new(rules, default_content_type)
            .map_err(|e| invalid((0, format!("the rules' globs: {e}"))))?;
        Ok(Config {
            path: Some(path.to_path_buf()),
            bucket,
            exclude,
            rules,
            cloudfront,
            cloudfront_max_paths,
            cloudfront_origin_path,
            website,
            redirects,
            strip_index_html,
        })
    }
}

/// A top-level string of the file, checked; an error is the value's offset and why.
fn checked(
    value: Option<Spanned<String>>,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Option<String>, (usize, String)> {
    let Some(v) = value else {
        return Ok(None);
    };
    let at = v.span().start;
    let v = v.into_inner();
    check(&v).map_err(|m| (at, m))?;
    Ok(Some(v))
}

/// A CloudFront distribution id: letters and digits (`E2QWRUHAPOMQZL`).
pub(crate) fn check_distribution(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "'{id}' is not a CloudFront distribution id (letters and digits, like E2QWRUHAPOMQZL)"
        ));
    }
    Ok(())
}

/// `cloudfront_max_paths`: at least 1.
pub(crate) fn check_max_paths(n: i64) -> Result<usize, String> {
    usize::try_from(n)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| format!("cloudfront_max_paths must be at least 1, not {n}"))
}

/// `cloudfront_origin_path`: `/` and a folder, as CloudFront's OriginPath is written.
fn check_origin_path(p: &str) -> Result<(), String> {
    if !p.starts_with('/') || p.contains("//") || p.chars().any(char::is_control) {
        return Err(format!(
            "cloudfront_origin_path '{p}' must be a folder starting with '/', like /live"
        ));
    }
    Ok(())
}

/// One entry of `[redirects]`: a path a browser asks for, and a site path or URL.
fn check_redirect(from: &str, to: &str) -> Result<(), String> {
    if from.is_empty() || from.ends_with('/') || from.chars().any(crate::content::key::xml_unsafe) {
        return Err(format!(
            "[redirects] '{from}' must be a file's path (a folder's index is 'd/index.html')"
        ));
    }
    Header::WebsiteRedirect
        .check(to)
        .map_err(|m| format!("[redirects] '{from}': {m}"))
}

fn check_glob(g: &str) -> Result<(), String> {
    Glob::new(g)
        .map(drop)
        .map_err(|e| format!("invalid glob '{g}': {}", e.kind()))
}

/// Every `[[rule]]`, checked, within `MAX_RULES` and `MAX_GLOBS`; an error is the offset it
/// names and why.
fn read_rules(raw: Vec<Spanned<RawRule>>, lines: &Lines) -> Result<Vec<Rule>, (usize, String)> {
    if raw.len() > MAX_RULES {
        return Err((
            raw[MAX_RULES].span().start,
            format!(
                "{} rules; s3site takes at most {MAX_RULES} (one rule can match many paths: \
                 match = [\"a/**\", \"b/**\"])",
                raw.len()
            ),
        ));
    }
    let mut rules = Vec::new();
    let mut globs = 0;
    for (n, r) in raw.into_iter().enumerate() {
        let at = r.span().start;
        let rule = build_rule(r.into_inner(), lines.line(at)).map_err(|e| match e.at {
            Some(key_at) => (key_at, e.message),
            None => (at, format!("rule {}: {}", n + 1, e.message)),
        })?;
        globs += rule.patterns.len();
        if globs > MAX_GLOBS {
            return Err((
                at,
                format!(
                    "rule {}: more than {MAX_GLOBS} globs in all; s3site takes at most \
                     {MAX_GLOBS} (a '**' glob matches whole folders)",
                    n + 1
                ),
            ));
        }
        rules.push(rule);
    }
    Ok(rules)
}

fn build_rule(raw: RawRule, line: usize) -> Result<Rule, RuleError> {
    let mut patterns = None;
    let mut headers = RuleHeaders::default();
    for (key, value) in raw {
        let at = value.span().start;
        let value = value.into_inner();
        let wrong = |what: &str| RuleError {
            at: Some(at),
            message: format!("'{key}' takes {what}"),
        };
        match key.as_str() {
            "match" => {
                let globs = match value {
                    toml::Value::String(g) => vec![g],
                    toml::Value::Array(a) => a
                        .into_iter()
                        .map(|g| match g {
                            toml::Value::String(g) => Ok(g),
                            _ => Err(wrong("a glob or a list of globs")),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(wrong("a glob or a list of globs")),
                };
                patterns = Some(globs);
            }
            "compress" => {
                let toml::Value::String(c) = value else {
                    return Err(wrong("\"gzip\", \"br\" or \"none\""));
                };
                headers.compress = Some(compress(&c)?);
            }
            "acl" | "storage_class" => {
                let toml::Value::String(v) = value else {
                    return Err(wrong("a string"));
                };
                if key == "acl" {
                    crate::content::placement::check_acl(&v)?;
                    headers.acl = Some(v);
                } else {
                    crate::content::placement::check_storage_class(&v)?;
                    headers.storage_class = Some(v);
                }
            }
            "headers" => {
                let toml::Value::Table(t) = value else {
                    return Err(wrong("a table of x-amz-meta-NAME = \"value\""));
                };
                for (name, v) in t {
                    let toml::Value::String(v) = v else {
                        return Err(wrong("a table of x-amz-meta-NAME = \"value\""));
                    };
                    let (k, v) = metadata(&name, v)?;
                    headers.metadata.insert(k, v);
                }
            }
            _ => {
                let Some(h) = Header::from_rule_key(&key) else {
                    return Err(RuleError {
                        at: Some(at),
                        message: format!("unknown field `{key}`, expected one of {}", known_keys()),
                    });
                };
                let toml::Value::String(v) = value else {
                    return Err(wrong("a string"));
                };
                h.check(&v)?;
                headers.set(h, v);
            }
        }
    }
    let Some(patterns) = patterns else {
        return Err("'match' is missing: a rule needs at least one glob"
            .to_string()
            .into());
    };
    if patterns.is_empty() {
        return Err("'match' needs at least one glob".to_string().into());
    }
    for p in &patterns {
        check_glob(p)?;
    }
    Ok(Rule {
        line,
        patterns,
        headers,
    })
}

/// Every key a rule takes, for an error message: `match`, the table's, `compress`, `headers`.
fn known_keys() -> String {
    std::iter::once("match")
        .chain(Header::rule_settable().filter_map(|s| s.rule_key))
        .chain(RULE_KEYS[1..].iter().copied())
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn compress(value: &str) -> Result<Compress, String> {
    match value {
        "gzip" => Ok(Compress::With(Coding::Gzip)),
        "br" => Ok(Compress::With(Coding::Br)),
        "none" => Ok(Compress::None),
        other => Err(format!(
            "compress = '{other}' is not one of \"gzip\", \"br\", \"none\""
        )),
    }
}

/// One entry of `headers`: user metadata only, and none of s3site's own.
fn metadata(name: &str, v: String) -> Result<(String, String), String> {
    let lower = name.to_ascii_lowercase();
    let Some(key) = lower
        .strip_prefix(meta::PREFIX)
        .filter(|m| header::is_token(m))
    else {
        let others: Vec<&str> = Header::rule_settable().filter_map(|s| s.rule_key).collect();
        return Err(format!(
            "header '{name}' cannot be set here: 'headers' takes user metadata \
             (x-amz-meta-NAME); use {} for the others",
            others.join(", ")
        ));
    };
    if meta::is_reserved(key) {
        return Err(format!(
            "header '{name}' is s3site's own metadata and cannot be set by a rule"
        ));
    }
    header::check_value(&v).map_err(|m| format!("{name}: {m}"))?;
    Ok((key.to_string(), v))
}

/// Most `[[rule]]`s a rules file may have: matching stays one pass over one glob set, but a
/// set this large already takes seconds to build.
pub const MAX_RULES: usize = 10_000;
/// Most globs all rules may have together, for the same reason.
pub const MAX_GLOBS: usize = 20_000;

/// Where each line of a text starts, to turn byte offsets into line numbers in O(log n).
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        Lines(text.match_indices('\n').map(|(i, _)| i).collect())
    }

    /// The 1-based line of byte `offset`.
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&nl| nl < offset) + 1
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    Lines::of(text).line(offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::rules::Effective;

    const EXAMPLE: &str = r#"
bucket = "s3://www.example.com/blog"     # lets `s3site sync public/` omit the URL
exclude = ["drafts/**", "*.psd"]

[[rule]]
match = "**/*.html"
cache_control = "public, max-age=0, must-revalidate"

[[rule]]
match = ["assets/**", "**/*.{woff2,avif}"]
cache_control = "public, max-age=31536000, immutable"

[[rule]]
match = "**/*.{html,css,js,mjs,json,svg,xml,txt,wasm}"
compress = "gzip"

[[rule]]
match = "downloads/*"
content_type = "application/octet-stream"
content_disposition = "attachment"
headers = { "x-amz-meta-owner" = "web" }
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("s3site.toml"))
    }

    fn err(text: &str) -> String {
        parse(text).expect_err("should fail").to_string()
    }

    #[test]
    fn the_example_file() {
        let c = parse(EXAMPLE).expect("parses");
        assert_eq!(c.bucket.as_deref(), Some("s3://www.example.com/blog"));
        assert_eq!(c.exclude, ["drafts/**", "*.psd"]);
        assert_eq!(c.rules.rules.len(), 4);
        assert_eq!(c.rules.rules[1].line, 9);
        assert!(c.rules.mentions_compress);

        let html = c.rules.effective("blog/index.html");
        assert_eq!(html.matched, [0, 2]);
        assert_eq!(
            html.headers.get(Header::CacheControl),
            Some("public, max-age=0, must-revalidate")
        );
        assert_eq!(html.headers.coding(), Some(Coding::Gzip));

        let font = c.rules.effective("fonts/inter.woff2");
        assert_eq!(font.matched, [1]);
        assert_eq!(
            font.headers.get(Header::CacheControl),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(font.headers.coding(), None);

        let css = c.rules.effective("assets/site.css");
        assert_eq!(css.matched, [1, 2]);

        let dl = c.rules.effective("downloads/report.pdf");
        assert_eq!(
            dl.headers.get(Header::ContentType),
            Some("application/octet-stream")
        );
        assert_eq!(
            dl.headers.get(Header::ContentDisposition),
            Some("attachment")
        );
        assert_eq!(
            dl.headers.metadata,
            BTreeMap::from([("owner".to_string(), "web".to_string())])
        );

        assert_eq!(c.rules.effective("img/photo.jpg"), Effective::default());
    }

    #[test]
    fn the_last_matching_rule_wins_per_header() {
        let c = parse(
            r#"
[[rule]]
match = "**"
cache_control = "max-age=60"
content_language = "en"
headers = { "x-amz-meta-a" = "1", "x-amz-meta-b" = "1" }
compress = "gzip"

[[rule]]
match = "*.html"
cache_control = "no-cache"
headers = { "x-amz-meta-b" = "2" }
compress = "none"
"#,
        )
        .expect("parses");
        let e = c.rules.effective("a/b/page.html");
        assert_eq!(e.headers.get(Header::CacheControl), Some("no-cache"));
        assert_eq!(e.headers.get(Header::ContentLanguage), Some("en"));
        assert_eq!(e.headers.metadata["a"], "1");
        assert_eq!(e.headers.metadata["b"], "2");
        assert_eq!(e.headers.compress, Some(Compress::None));
        assert_eq!(e.headers.coding(), None);
        let css = c.rules.effective("a/site.css");
        assert_eq!(css.headers.get(Header::CacheControl), Some("max-age=60"));
        assert_eq!(css.headers.coding(), Some(Coding::Gzip));
    }

    #[test]
    fn globs_star_crosses_folders_and_brace_sets_work() {
        let c = parse(
            r#"
[[rule]]
match = ["*.{woff2,avif}", "static/*"]
cache_control = "immutable"
"#,
        )
        .expect("parses");
        for hit in ["f.woff2", "a/b/f.avif", "static/x.js", "static/a/b.js"] {
            assert_eq!(c.rules.effective(hit).matched, [0], "{hit}");
        }
        for miss in ["f.woff", "staticx/a.js", "a/static/x.js"] {
            assert!(c.rules.effective(miss).matched.is_empty(), "{miss}");
        }
    }

    #[test]
    fn default_content_type_and_redirect() {
        let c = parse(
            r#"
default_content_type = "text/html; charset=utf-8"
[[rule]]
match = "old/**"
redirect = "/new/"
"#,
        )
        .expect("parses");
        assert_eq!(
            c.rules.default_content_type.as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            c.rules
                .effective("old/a.html")
                .headers
                .get(Header::WebsiteRedirect),
            Some("/new/")
        );
        assert!(!c.rules.mentions_compress);
    }

    #[test]
    fn too_many_rules_is_one_clear_error_and_many_rules_match_in_one_pass() {
        let rules = |n: usize| {
            (0..n)
                .map(|i| {
                    format!("[[rule]]\nmatch = \"p{i}/**\"\ncache_control = \"max-age={i}\"\n")
                })
                .collect::<String>()
        };
        let e = err(&rules(MAX_RULES + 1));
        assert!(e.contains("at most 10000"), "{e}");
        assert!(e.contains(&format!("line {}", 3 * MAX_RULES + 1)), "{e}");
        let many: String = (0..MAX_GLOBS + 1)
            .map(|i| format!("\"g{i}/**\", "))
            .collect();
        let e = err(&format!(
            "[[rule]]\nmatch = [{many}]\ncache_control = \"x\"\n"
        ));
        assert!(e.contains("at most 20000"), "{e}");
        let c = parse(&rules(3000)).expect("3,000 rules");
        let eff = c.rules.effective("p2999/a/b.html");
        assert_eq!(eff.matched, [2999]);
        assert_eq!(eff.headers.get(Header::CacheControl), Some("max-age=2999"));
        assert!(c.rules.effective("q/a.html").matched.is_empty());
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = err("bucket = \"s3://b\"\ncolour = \"red\"\n");
        assert!(e.starts_with("s3site.toml: line 2: "), "{e}");
        assert!(e.contains("colour"), "{e}");

        let e = err("[[rule]]\nmatch = \"a\"\ncache_kontrol = \"x\"\n");
        assert!(e.contains("line 3") && e.contains("cache_kontrol"), "{e}");

        // Errors inside a rule name the line where the rule starts.
        let e = err("\n\n[[rule]]\nmatch = \"a/{b\"\n");
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("rule 1: invalid glob 'a/{b'"), "{e}");

        let e = err("[[rule]]\nmatch = \"a\"\ncompress = \"zip\"\n");
        assert!(e.contains("compress = 'zip'"), "{e}");

        let e = err("[[rule]]\nmatch = \"a\"\nheaders = { \"Content-Type\" = \"x\" }\n");
        assert!(
            e.contains("header 'Content-Type' cannot be set here"),
            "{e}"
        );

        let e = err("[[rule]]\nmatch = \"a\"\nheaders = { \"x-amz-meta-bad name\" = \"x\" }\n");
        assert!(e.contains("cannot be set here"), "{e}");

        let e = err("[[rule]]\nmatch = \"a\"\nheaders = { \"x-amz-meta-md5chksum\" = \"x\" }\n");
        assert!(e.contains("s3site's own metadata"), "{e}");

        let e = err("[[rule]]\nmatch = \"a\"\ncache_control = \"a\\nb\"\n");
        assert!(e.contains("printable ASCII"), "{e}");

        let e = err("[[rule]]\nmatch = \"a\"\ncontent_type = \"html\"\n");
        assert!(e.contains("not a media type"), "{e}");

        let e = err("[[rule]]\nmatch = \"a\"\nredirect = \"new\"\n");
        assert!(e.contains("redirect 'new'"), "{e}");

        let e = err("[[rule]]\ncache_control = \"x\"\n");
        assert!(e.contains("match"), "{e}");

        let e = err("exclude = [\"a[\"]\n");
        assert!(
            e.contains("line 1") && e.contains("invalid glob 'a['"),
            "{e}"
        );

        let e = err("bucket = \"http://x\"\n");
        assert!(e.contains("invalid S3 URL"), "{e}");

        let e = err("[[rule]\n");
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn no_file_is_the_empty_config_but_a_named_missing_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let c = Config::load(None, dir.path()).expect("no file is fine");
        assert!(c.path.is_none() && c.rules.is_empty());
        let e = Config::load(Some(&dir.path().join("nope.toml")), dir.path())
            .expect_err("missing")
            .to_string();
        assert!(e.contains("cannot read config file"), "{e}");
        std::fs::write(dir.path().join(DEFAULT_FILE), "exclude = [\"x\"]\n").expect("write");
        let c = Config::load(None, dir.path()).expect("found in cwd");
        assert_eq!(c.exclude, ["x"]);
    }
}
