//! Which CDN paths a run invalidates, pure: from the keys it changed to the URL paths a browser
//! requests, within a budget of paths and CloudFront's wildcard limit.
//!
//! Owns: which origin of a distribution serves the bucket and prefix (and its `OriginPath`), keys
//! to paths (index pages as their folder too), CloudFront's path encoding, and the choice of
//! folder wildcards when the exact paths are over budget (the fewest unchanged objects
//! invalidated). Must not: do I/O; the distribution and the keys are passed in.

use crate::cdn::Distribution;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Wildcard paths CloudFront allows in progress on one distribution.
pub const MAX_WILDCARDS: usize = 15;
/// Paths one CreateInvalidation request may carry.
pub const MAX_PATHS_PER_REQUEST: usize = 3000;

/// How the distribution's URLs map to keys: the key prefix its root `/` is (an origin's
/// `OriginPath`, as `live/`; empty for the bucket's root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The distribution.
    pub distribution: String,
    /// The key prefix of each origin that serves the bucket and prefix (usually one).
    pub roots: Vec<String>,
}

/// Whether `domain` is one of the host names S3 serves `bucket` under: REST
/// (`b.s3.amazonaws.com`, `b.s3.REGION.amazonaws.com`, `b.s3-REGION.amazonaws.com`, dual-stack)
/// or website (`b.s3-website-REGION.amazonaws.com`, `b.s3-website.REGION.amazonaws.com`).
pub fn serves_bucket(domain: &str, bucket: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let Some(rest) = domain.strip_prefix(&format!("{}.", bucket.to_ascii_lowercase())) else {
        return false;
    };
    rest.starts_with("s3")
        && (rest.ends_with(".amazonaws.com") || rest.ends_with(".amazonaws.com.cn"))
}

/// The key prefix an `OriginPath` stands for: `/live` is `live/`, `` and `/` are the root.
fn root_of(origin_path: &str) -> String {
    let p = origin_path.trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// Which origins of `d` serve the keys under `prefix` of `bucket`; `explicit` (a configured
/// origin path, for a custom origin) replaces the search. An error names the origins there are.
pub fn mapping(
    d: &Distribution,
    bucket: &str,
    prefix: &str,
    explicit: Option<&str>,
) -> Result<Mapping, String> {
    let roots: Vec<String> = match explicit {
        Some(p) => vec![root_of(p)],
        None => d
            .origins
            .iter()
            .filter(|o| serves_bucket(&o.domain, bucket))
            .map(|o| root_of(&o.path))
            .filter(|root| prefix.starts_with(root.as_str()))
            .collect(),
    };
    if roots.is_empty() {
        let have: Vec<String> = d
            .origins
            .iter()
            .map(|o| format!("{}{}", o.domain, o.path))
            .collect();
        return Err(format!(
            "no origin of CloudFront distribution {} serves s3://{bucket}/{prefix} (its origins: \
             {}); if it reaches the bucket through a custom origin, set cloudfront_origin_path",
            d.id,
            if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            }
        ));
    }
    if explicit.is_some() && !prefix.starts_with(roots[0].as_str()) {
        return Err(format!(
            "cloudfront_origin_path '{}' does not contain s3://{bucket}/{prefix}",
            explicit.unwrap_or_default()
        ));
    }
    Ok(Mapping {
        distribution: d.id.clone(),
        roots,
    })
}

/// Percent-encodes a key for an invalidation path as CloudFront requires: bytes outside ASCII
/// and RFC 1738's unsafe characters (space `"` `#` `%` `<` `>` `\` `^` `` ` `` `{` `|` `}` `[`
/// `]`), plus `?` (which would start a query) and `*` (which would be a wildcard); nothing else.
/// `~` stays as it is: browsers send it so, and CloudFront does not match `%7E` to it.
pub fn encode(rel: &str) -> String {
    let mut out = String::with_capacity(rel.len() + 1);
    out.push('/');
    for b in rel.bytes() {
        let unsafe_char = matches!(
            b,
            b' ' | b'"'
                | b'#'
                | b'%'
                | b'<'
                | b'>'
                | b'\\'
                | b'^'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
                | b'['
                | b']'
                | b'?'
                | b'*'
        );
        if !(0x20..0x7f).contains(&b) || unsafe_char {
            let _ = write!(out, "%{b:02X}");
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// The paths a browser requests for `rel` (a key relative to the distribution's root): the key
/// itself, and for a file named exactly `index.html` its folder too (`/d/`, or `/` at the root).
pub fn paths_of(rel: &str) -> Vec<String> {
    let mut paths = vec![encode(rel)];
    let (folder, name) = match rel.rfind('/') {
        Some(i) => (&rel[..=i], &rel[i + 1..]),
        None => ("", rel),
    };
    if name == "index.html" {
        paths.push(encode(folder));
    }
    paths
}

/// The limits a choice of paths keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most paths (a wildcard counts as one).
    pub max_paths: usize,
    /// Most wildcards (CloudFront's 15, less those already in progress).
    pub wildcards: usize,
}

/// The paths to invalidate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// Encoded paths, sorted: exact ones and folder wildcards (`/d/*`).
    pub paths: Vec<String>,
    /// How many of them are wildcards.
    pub wildcards: usize,
    /// How many objects that did not change the wildcards invalidate too.
    pub unchanged_covered: usize,
}

/// The paths that invalidate every key of `changed` (relative to the distribution's root):
/// exact while they fit `budget`; beyond it, folder wildcards chosen greedily to cover as few of
/// `unchanged` (every other key the distribution serves) as possible, never more wildcards than
/// the budget allows; `/*` only when nothing narrower fits. With no wildcard free at all, the
/// exact paths (over budget) are all that can be sent.
pub fn choose(changed: &BTreeSet<String>, unchanged: &BTreeSet<String>, budget: Budget) -> Choice {
    let exact: usize = changed.iter().map(|k| paths_of(k).len()).sum();
    if exact <= budget.max_paths || budget.wildcards == 0 {
        return exact_choice(changed);
    }
    let unchanged: Vec<&str> = unchanged
        .iter()
        .filter(|k| !changed.contains(*k))
        .map(String::as_str)
        .collect();
    let mut wildcards: BTreeSet<String> = BTreeSet::new();
    loop {
        let covered = |k: &str| wildcards.iter().any(|w| k.starts_with(w.as_str()));
        let exact_left: Vec<&str> = changed
            .iter()
            .map(String::as_str)
            .filter(|k| !covered(k))
            .collect();
        let count = wildcards.len() + exact_left.iter().map(|k| paths_of(k).len()).sum::<usize>();
        if count <= budget.max_paths && wildcards.len() <= budget.wildcards {
            return finish(&exact_left, &wildcards, &unchanged);
        }
        // Every folder holding an uncovered change, and every folder above a wildcard.
        let mut folders: BTreeSet<&str> = BTreeSet::from([""]);
        for k in &exact_left {
            folders.extend(k.match_indices('/').map(|(i, _)| &k[..=i]));
        }
        for w in &wildcards {
            folders.extend(
                w.match_indices('/')
                    .map(|(i, _)| &w[..=i])
                    .filter(|f| f.len() < w.len()),
            );
        }
        let mut best: Option<(f64, usize, String)> = None;
        for f in folders {
            if covered(f) {
                continue;
            }
            let inner_wildcards = wildcards.iter().filter(|w| w.starts_with(f)).count();
            let items: usize = exact_left
                .iter()
                .filter(|k| k.starts_with(f))
                .map(|k| paths_of(k).len())
                .sum::<usize>()
                + inner_wildcards;
            if items < 2 || wildcards.len() + 1 - inner_wildcards > budget.wildcards {
                continue;
            }
            // What the wildcard costs: unchanged objects it invalidates that nothing did before.
            let cost = unchanged
                .iter()
                .filter(|k| k.starts_with(f) && !covered(k))
                .count();
            let score = cost as f64 / (items - 1) as f64;
            let better = match &best {
                None => true,
                Some((s, depth, _)) => score < *s || (score == *s && f.len() > *depth),
            };
            if better {
                best = Some((score, f.len(), f.to_string()));
            }
        }
        let Some((_, _, f)) = best else {
            // Nothing narrower fits: everything.
            return finish(&[], &BTreeSet::from([String::new()]), &unchanged);
        };
        wildcards.retain(|w| !w.starts_with(f.as_str()));
        wildcards.insert(f);
    }
}

fn exact_choice(changed: &BTreeSet<String>) -> Choice {
    let mut paths: Vec<String> = changed.iter().flat_map(|k| paths_of(k)).collect();
    paths.sort();
    paths.dedup();
    Choice {
        paths,
        wildcards: 0,
        unchanged_covered: 0,
    }
}

fn finish(exact: &[&str], wildcards: &BTreeSet<String>, unchanged: &[&str]) -> Choice {
    let mut paths: Vec<String> = exact.iter().flat_map(|k| paths_of(k)).collect();
    paths.extend(wildcards.iter().map(|w| format!("{}*", encode(w))));
    paths.sort();
    paths.dedup();
    Choice {
        paths,
        wildcards: wildcards.len(),
        unchanged_covered: unchanged
            .iter()
            .filter(|k| wildcards.iter().any(|w| k.starts_with(w.as_str())))
            .count(),
    }
}

/// A key's path relative to the distribution's root, when one of `roots` serves it.
pub fn relative<'k>(key: &'k str, roots: &[String]) -> Option<&'k str> {
    roots
        .iter()
        .filter_map(|r| key.strip_prefix(r.as_str()))
        .min_by_key(|rel| rel.len())
}

/// The invalidation's caller reference: the same for every retry of one run's request (so a
/// retry never makes a second invalidation), another for another run.
pub fn reference(distribution: &str, paths: &[String], run: &str) -> String {
    let mut text = format!("{distribution}\n{run}\n");
    for p in paths {
        text.push_str(p);
        text.push('\n');
    }
    format!(
        "s3site-{}",
        hex::encode(crate::content::digest::md5_of(text.as_bytes()))
    )
}

#[cfg(test)]
mod tests;
