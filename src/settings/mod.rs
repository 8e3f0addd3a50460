//! Everything validated before the first request: the destination URL, the rules file, the
//! exclusion filters, and `explain` (what the rules give a path).
//!
//! Owns: turning command-line values and the rules file into checked settings; every error here
//! is a usage error (exit 2). Must not: touch a store, walk the site, or print.

pub mod explain;
pub mod filter;
pub mod rules;
pub mod url;

use crate::cli::{FilterArgs, PlacementArgs, RunArgs};
use filter::Filter;
use rules::Config;
use std::path::PathBuf;
use url::S3Url;

/// What sync and repair validate the same way before connecting.
pub struct Settings {
    /// The rules file (empty without one).
    pub config: Config,
    /// The destination.
    pub url: S3Url,
    /// The exclusions.
    pub filter: Filter,
    /// Requests in flight.
    pub concurrency: usize,
    /// CDN invalidation.
    pub cdn: CdnSettings,
}

/// The rules file, the destination (the command line's, else the file's `bucket`), the
/// exclusions (the command line's and the file's) and the concurrency, validated.
pub fn load(
    run: &RunArgs,
    url: Option<&str>,
    filters: &FilterArgs,
    default_concurrency: usize,
) -> Result<Settings, SettingsError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let config = Config::load_target(run.config.as_deref(), &cwd, run.target.as_deref())?;
    let url = match url.or(config.bucket.as_deref()) {
        Some(u) => S3Url::parse(u)?,
        None if config.target.is_some() => {
            return Err(SettingsError::Usage(format!(
                "no destination: [targets.{}] has no bucket, and neither has the file or the \
                 command line",
                config.target.as_deref().unwrap_or_default()
            )));
        }
        None if !config.targets.is_empty() => {
            return Err(SettingsError::Usage(format!(
                "no destination: choose a target with --target ({}), or give s3://BUCKET[/PREFIX]",
                config.targets.join(", ")
            )));
        }
        None => {
            return Err(SettingsError::Usage(
                "no destination: give s3://BUCKET[/PREFIX], or set bucket = \"s3://...\" in \
                 s3site.toml"
                    .into(),
            ));
        }
    };
    let mut globs = config.exclude.clone();
    globs.extend(filters.exclude.iter().cloned());
    let mut includes = filters.include.clone();
    for f in &filters.exclude_from {
        globs.extend(patterns_from(f, "--exclude-from")?);
    }
    for f in &filters.include_from {
        includes.extend(patterns_from(f, "--include-from")?);
    }
    let filter = Filter::new(&globs)?.including(&includes)?;
    let concurrency = url::concurrency(run.concurrency.unwrap_or(default_concurrency))?;
    let cdn = cdn_settings(run, &config)?;
    Ok(Settings {
        config,
        url,
        filter,
        concurrency,
        cdn,
    })
}

/// The globs of a `--exclude-from` or `--include-from` file: one a line, `#` comments and blank
/// lines ignored.
fn patterns_from(file: &std::path::Path, flag: &str) -> Result<Vec<String>, SettingsError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        SettingsError::Usage(format!("{flag}: cannot read '{}': {e}", file.display()))
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// What the uploads set, from `--acl`/`-P`, `--storage-class`, `--sse` and `--sse-kms-key-id`,
/// checked.
pub fn placement(p: &PlacementArgs) -> Result<crate::content::placement::Placement, SettingsError> {
    use crate::content::placement::{Acl, Encryption, Placement};
    use crate::content::placement::{check_acl, check_sse, check_storage_class};
    let usage = |flag: &'static str| move |m: String| SettingsError::Usage(format!("{flag}: {m}"));
    let acl = match (&p.acl, p.acl_public) {
        (Some(a), _) => {
            check_acl(a).map_err(usage("--acl"))?;
            Some(Acl::Canned(a.clone()))
        }
        (None, true) => Some(Acl::Canned("public-read".into())),
        (None, false) => None,
    };
    if let Some(c) = &p.storage_class {
        check_storage_class(c).map_err(usage("--storage-class"))?;
    }
    let encryption = match (p.sse.as_deref(), &p.sse_kms_key_id) {
        (None, None) => Encryption::None,
        (None, Some(_)) => {
            return Err(SettingsError::Usage(
                "--sse-kms-key-id needs --sse aws:kms".into(),
            ));
        }
        (Some("AES256"), Some(_)) => {
            return Err(SettingsError::Usage(
                "--sse-kms-key-id needs --sse aws:kms, not AES256".into(),
            ));
        }
        (Some("AES256"), None) => Encryption::S3,
        (Some(alg), key) => {
            check_sse(alg).map_err(usage("--sse"))?;
            Encryption::Kms {
                algorithm: alg.to_string(),
                key_id: key.clone(),
                bucket_key: false,
            }
        }
    };
    Ok(Placement {
        acl,
        storage_class: p.storage_class.clone(),
        encryption,
        tagging: None,
    })
}

/// The CDN settings: the command line's distributions and the file's, the path budget, the
/// origin path of a custom origin, and how long to wait.
fn cdn_settings(run: &RunArgs, config: &Config) -> Result<CdnSettings, SettingsError> {
    let mut distributions = Vec::new();
    for d in run.cloudfront.iter().chain(&config.cloudfront) {
        rules::check_distribution(d)
            .map_err(|m| SettingsError::Usage(format!("--cloudfront: {m}")))?;
        if !distributions.contains(d) {
            distributions.push(d.clone());
        }
    }
    let max_paths = match run.cloudfront_max_paths {
        Some(n) => rules::check_max_paths(n).map_err(|m| {
            SettingsError::Usage(m.replace("cloudfront_max_paths", "--cloudfront-max-paths"))
        })?,
        None => config.cloudfront_max_paths.unwrap_or(DEFAULT_MAX_PATHS),
    };
    if distributions.is_empty() && (run.cloudfront_wait || run.cloudfront_max_paths.is_some()) {
        return Err(SettingsError::Usage(
            "--cloudfront-wait and --cloudfront-max-paths need a distribution: --cloudfront \
             DIST_ID, or cloudfront = [\"DIST_ID\"] in s3site.toml"
                .into(),
        ));
    }
    Ok(CdnSettings {
        distributions,
        max_paths,
        origin_path: config.cloudfront_origin_path.clone(),
        wait: run
            .cloudfront_wait
            .then(|| std::time::Duration::from_secs(run.cloudfront_wait_timeout)),
    })
}

/// Exact paths a run sends before it collapses them into folder wildcards. CloudFront charges
/// per path beyond 1,000 a month, and a wildcard counts as one path but makes the edge fetch
/// every object under it again: 300 keeps a deploy that changes a few pages exact (within the
/// free paths for three such deploys a month) while a rebuild that touches everything becomes a
/// few wildcards.
pub const DEFAULT_MAX_PATHS: usize = 300;
/// What a run invalidates on the CDN, and how.
#[derive(Clone, Debug, Default)]
pub struct CdnSettings {
    /// CloudFront distributions (none: no invalidation).
    pub distributions: Vec<String>,
    /// Exact paths per invalidation before folder wildcards.
    pub max_paths: usize,
    /// The origin path of a custom origin (`None`: found from the distribution's origins).
    pub origin_path: Option<String>,
    /// With `--cloudfront-wait`: how long to wait for completion.
    pub wait: Option<std::time::Duration>,
}

/// Where s3site keeps what it remembers between runs (the hash cache, the journal of multipart
/// uploads in flight): `$S3SITE_CACHE_DIR`, else `$XDG_CACHE_HOME/s3site`, else
/// `~/.cache/s3site`.
pub fn state_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("S3SITE_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("s3site")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("s3site")))
}

/// Limits the tests lower through the environment, so a few dozen keys list in several pages
/// a 13 MiB object is copied in parts and a busy CDN is asked again soon:
/// `S3SITE_LIST_PAGE` (keys per listing request), `S3SITE_MAX_SINGLE_COPY` (bytes) and
/// `S3SITE_CDN_RETRY_MS`. Read here, at the edge, and handed to the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tuning {
    /// Keys per listing request, when lowered.
    pub list_page: Option<usize>,
    /// The largest object copied in one request, when lowered.
    pub max_single_copy: Option<u64>,
    /// The first pause (ms) before asking a busy CDN again, when lowered
    /// (`S3SITE_CDN_RETRY_MS`).
    pub cdn_retry_ms: Option<u64>,
}

impl Tuning {
    /// The limits the environment sets (a value that is not a positive number is ignored).
    pub fn from_env() -> Tuning {
        fn positive<T: std::str::FromStr + PartialOrd + Default>(name: &str) -> Option<T> {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<T>().ok())
                .filter(|n| *n > T::default())
        }
        Tuning {
            list_page: positive("S3SITE_LIST_PAGE"),
            max_single_copy: positive("S3SITE_MAX_SINGLE_COPY"),
            cdn_retry_ms: positive("S3SITE_CDN_RETRY_MS"),
        }
    }
}

/// A setting that cannot be used: the run stops before any request, with exit 2.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A command-line value that makes no sense.
    #[error("{0}")]
    Usage(String),
    /// A bad `s3://` URL.
    #[error("invalid S3 URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A bad `--exclude` glob.
    #[error(transparent)]
    BadGlob(#[from] filter::BadGlob),
    /// A rules file that cannot be read or is not valid.
    #[error(transparent)]
    Config(#[from] rules::ConfigError),
}
