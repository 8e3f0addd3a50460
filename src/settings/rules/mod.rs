//! The per-path header rules, and the pure question "which headers does this path get": rules
//! apply in order and, for each header, the last matching rule wins. Also the one resolution of
//! a path's Content-Type (a rule's, else `default_content_type`, else the table).
//!
//! Owns: `RuleSet`, `RuleHeaders` and `TypeFrom`. Reading the file is `file`'s. Must not: read
//! anything or talk to a store.

mod file;
mod vars;

pub use file::{Config, ConfigError, DEFAULT_FILE, MAX_GLOBS, MAX_RULES};
pub(crate) use file::{check_distribution, check_max_paths};

use crate::content::coding::Coding;
use crate::content::header::Header;
use crate::content::media;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::BTreeMap;

/// What a rule says about compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compress {
    /// Upload plain (undoes an earlier rule).
    None,
    /// Compress with this coding.
    With(Coding),
}

/// The headers a rule (or the rules together) set; a header not set is "not said".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleHeaders {
    /// Headers from the table a rule may set (`Header::rule_settable`), as written.
    values: BTreeMap<Header, String>,
    /// User metadata, names lower-case without `x-amz-meta-`.
    pub metadata: BTreeMap<String, String>,
    /// Compression.
    pub compress: Option<Compress>,
    /// A canned ACL for the upload (`acl`).
    pub acl: Option<String>,
    /// A storage class for the upload (`storage_class`).
    pub storage_class: Option<String>,
}

impl RuleHeaders {
    /// The value the rules give `h`, if they give one.
    pub fn get(&self, h: Header) -> Option<&str> {
        self.values.get(&h).map(String::as_str)
    }

    /// Sets `h` (checked by the caller against the table).
    pub fn set(&mut self, h: Header, value: String) {
        self.values.insert(h, value);
    }

    /// Every header set, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (Header, &str)> {
        self.values.iter().map(|(h, v)| (*h, v.as_str()))
    }

    /// Overlays `later` on `self`: every header `later` says wins.
    fn overlay(&mut self, later: &RuleHeaders) {
        for (h, v) in &later.values {
            self.values.insert(*h, v.clone());
        }
        for (k, v) in &later.metadata {
            self.metadata.insert(k.clone(), v.clone());
        }
        if later.compress.is_some() {
            self.compress = later.compress;
        }
        if later.acl.is_some() {
            self.acl.clone_from(&later.acl);
        }
        if later.storage_class.is_some() {
            self.storage_class.clone_from(&later.storage_class);
        }
    }

    /// The coding to use, if any.
    pub fn coding(&self) -> Option<Coding> {
        match self.compress {
            Some(Compress::With(c)) => Some(c),
            _ => None,
        }
    }
}

/// Where a path's Content-Type comes from: the one resolution uploads, repair and `explain`
/// share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeFrom<'a> {
    /// A matching rule's `content_type`, exactly as written.
    Rule(&'a str),
    /// `default_content_type`, for a path with no extension.
    Default(&'a str),
    /// The table (`content::media`), with `charset=utf-8` when the bytes are UTF-8 text.
    Table,
}

impl<'a> TypeFrom<'a> {
    /// Where the Content-Type of `key` comes from, given the headers its rules set and the
    /// file's `default_content_type`.
    pub fn of(key: &str, headers: &'a RuleHeaders, default: Option<&'a str>) -> TypeFrom<'a> {
        if let Some(t) = headers.get(Header::ContentType) {
            return TypeFrom::Rule(t);
        }
        match default {
            Some(t) if !media::has_extension(key) => TypeFrom::Default(t),
            _ => TypeFrom::Table,
        }
    }

    /// The exact type the rules give, if they give one.
    pub fn given(self) -> Option<&'a str> {
        match self {
            TypeFrom::Rule(t) | TypeFrom::Default(t) => Some(t),
            TypeFrom::Table => None,
        }
    }

    /// The Content-Type `key` is uploaded with, when its bytes are (or are not) UTF-8.
    pub fn resolve(self, key: &str, is_utf8: bool) -> String {
        match self.given() {
            Some(t) => t.to_string(),
            None => media::content_type(key, is_utf8),
        }
    }
}

/// One `[[rule]]`.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The line of the file where the rule starts.
    pub line: usize,
    /// Its globs, as written.
    pub patterns: Vec<String>,
    /// What it sets.
    pub headers: RuleHeaders,
}

/// The rules, in file order, and the default type of extensionless files.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    /// The rules.
    pub rules: Vec<Rule>,
    /// `default_content_type`: the type of files with no extension.
    pub default_content_type: Option<String>,
    /// Whether any rule says anything about compression; then an object compressed without a
    /// rule saying so is drift too.
    pub mentions_compress: bool,
    /// Every rule's globs in one set, so matching a path costs one pass, not one per rule.
    set: GlobSet,
    /// The rule of each glob in `set`.
    owner: Vec<usize>,
}

/// The headers one path gets, and which rules gave them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effective {
    /// The merged headers.
    pub headers: RuleHeaders,
    /// Indexes into `RuleSet::rules` of the rules that matched, in order.
    pub matched: Vec<usize>,
}

impl RuleSet {
    /// The headers the rules give `rel` (a DIR-relative path, the key without the prefix).
    pub fn effective(&self, rel: &str) -> Effective {
        let mut e = Effective::default();
        let mut matched: Vec<usize> = self
            .set
            .matches(rel)
            .into_iter()
            .map(|g| self.owner[g])
            .collect();
        matched.sort_unstable();
        matched.dedup();
        for &i in &matched {
            e.headers.overlay(&self.rules[i].headers);
        }
        e.matched = matched;
        e
    }

    /// Where the Content-Type of `key` comes from, given its `effective` headers.
    pub fn type_from<'a>(&'a self, key: &str, headers: &'a RuleHeaders) -> TypeFrom<'a> {
        TypeFrom::of(key, headers, self.default_content_type.as_deref())
    }

    /// The rules, with one glob set for all of them.
    fn new(
        rules: Vec<Rule>,
        default_content_type: Option<String>,
    ) -> Result<RuleSet, globset::Error> {
        let mut b = GlobSetBuilder::new();
        let mut owner = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            for p in &r.patterns {
                // Each glob was checked when its rule was read.
                b.add(Glob::new(p)?);
                owner.push(i);
            }
        }
        Ok(RuleSet {
            mentions_compress: rules.iter().any(|r| r.headers.compress.is_some()),
            set: b.build()?,
            owner,
            rules,
            default_content_type,
        })
    }

    /// Whether there are no rules and no default type.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.default_content_type.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_type_is_the_rule_s_then_the_default_for_no_extension_then_the_table() {
        let mut h = RuleHeaders::default();
        let d = Some("text/html; charset=utf-8");
        assert_eq!(
            TypeFrom::of("about", &h, d),
            TypeFrom::Default("text/html; charset=utf-8")
        );
        assert_eq!(TypeFrom::of("a.css", &h, d), TypeFrom::Table);
        assert_eq!(
            TypeFrom::of("a.css", &h, d).resolve("a.css", true),
            "text/css; charset=utf-8"
        );
        assert_eq!(TypeFrom::of("about", &h, None), TypeFrom::Table);
        h.set(Header::ContentType, "text/x".into());
        assert_eq!(TypeFrom::of("about", &h, d), TypeFrom::Rule("text/x"));
        assert_eq!(
            TypeFrom::of("a.css", &h, d).resolve("a.css", true),
            "text/x"
        );
    }
}
