//! Reading the rules file (`s3site.toml`).
//!
//! Owns: parsing and validating the file: unknown keys, bad globs, header names and values, and
//! compress values are errors that name the line; `${VAR}` in values (`vars`) and the named
//! `[targets.NAME]` chosen with `--target`. Which keys a rule takes comes from the header table
//! (`content::header`). Must not: read anything but the file it is given and the environment.

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
    /// The names of its `[targets.NAME]`.
    pub targets: Vec<String>,
    /// The target chosen with `--target`, whose values are in place.
    pub target: Option<String>,
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
    /// `--target NAME` names no `[targets.NAME]`.
    #[error("--target {name}: {} has no [targets.{name}] ({})", path.as_deref().map_or("there is no s3site.toml, so it".to_string(), |p| p.display().to_string()), if known.is_empty() { "it has no targets".to_string() } else { format!("it has: {}", known.join(", ")) })]
    UnknownTarget {
        /// The file (`None`: none was found).
        path: Option<PathBuf>,
        /// The name asked for.
        name: String,
        /// The targets it has.
        known: Vec<String>,
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
    #[serde(default)]
    targets: BTreeMap<String, RawTarget>,
}

/// A `[targets.NAME]`: the destination and what goes with it. Its values replace the top
/// level's, except `exclude`, which adds to it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    bucket: Option<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    cloudfront: Option<Vec<Spanned<String>>>,
    cloudfront_max_paths: Option<Spanned<i64>>,
    cloudfront_origin_path: Option<Spanned<String>>,
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
        Config::load_target(explicit, cwd, None)
    }

    /// `load`, with the values of `[targets.NAME]` in place when `target` names one.
    pub fn load_target(
        explicit: Option<&Path>,
        cwd: &Path,
        target: Option<&str>,
    ) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = cwd.join(DEFAULT_FILE);
                if !p.is_file() {
                    return match target {
                        Some(name) => Err(ConfigError::UnknownTarget {
                            path: None,
                            name: name.to_string(),
                            known: Vec::new(),
                        }),
                        None => Ok(Config::default()),
                    };
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Unreadable {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let env = |name: &str| std::env::var(name).ok();
        Config::parse_with(&text, &path, target, &env)
    }

    /// Parses and validates the text of a rules file (`path` names it in errors), with
    /// `${VAR}` from the environment.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Config::parse_with(text, path, None, &|name: &str| std::env::var(name).ok())
    }

    /// `parse`, choosing `target` and reading `${VAR}` from `env`.
    pub(super) fn parse_with(
        text: &str,
        path: &Path,
        target: Option<&str>,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let invalid = |(offset, message): (usize, String)| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of(text, offset),
            message,
        };
        let toml_error = |e: toml::de::Error| {
            invalid((e.span().map_or(0, |s| s.start), e.message().to_string()))
        };
        let mut table = toml::de::DeTable::parse(text).map_err(toml_error)?;
        // An unknown target is named before any variable is needed.
        let mut targets = super::vars::target_names(table.get_ref());
        targets.sort();
        if let Some(name) = target
            && !targets.iter().any(|t| t == name)
        {
            return Err(ConfigError::UnknownTarget {
                path: Some(path.to_path_buf()),
                name: name.to_string(),
                known: targets,
            });
        }
        super::vars::expand(table.get_mut(), target, env).map_err(invalid)?;
        let mut raw =
            RawConfig::deserialize(toml::de::Deserializer::from(table)).map_err(toml_error)?;
        if let Some(name) = target {
            let Some(t) = raw.targets.remove(name) else {
                return Err(invalid((0, format!("[targets.{name}] is not a table"))));
            };
            raw.bucket = t.bucket.or(raw.bucket);
            raw.exclude.extend(t.exclude);
            raw.cloudfront = t.cloudfront.unwrap_or(raw.cloudfront);
            raw.cloudfront_max_paths = t.cloudfront_max_paths.or(raw.cloudfront_max_paths);
            raw.cloudfront_origin_path = t.cloudfront_origin_path.or(raw.cloudfront_origin_path);
        }
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
            targets,
            target: target.map(str::to_string),
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
mod tests;
