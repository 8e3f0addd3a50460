//! CDN invalidation as a run step: read each distribution before any write, and after the
//! writes invalidate what the run changed.
//!
//! Owns: the CDN requests of a run — GetDistribution up front, then per distribution the
//! wildcards in progress, CreateInvalidation in requests of at most 3,000 paths (retried with
//! backoff while CloudFront says too many are in progress or throttles, under one caller
//! reference so a retry is never a second invalidation), and, with `--cloudfront-wait`, polling
//! until it completes. Must not: choose the paths (that is `plan::cdn`) or print.

use crate::cdn::{Cdn, CdnError};
use crate::error::Error;
use crate::plan::cdn::{self as paths, Budget, MAX_PATHS_PER_REQUEST, MAX_WILDCARDS, Mapping};
use crate::report::{Action, Invalidation, Outcome, Record};
use crate::settings::SettingsError;
use crate::settings::url::S3Url;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How a run invalidates.
#[derive(Clone, Debug)]
pub struct CdnOptions {
    /// Most paths per invalidation before folder wildcards (`cloudfront_max_paths`).
    pub max_paths: usize,
    /// With `--cloudfront-wait`: how long to wait for each invalidation to complete.
    pub wait: Option<Duration>,
    /// Report the paths; send nothing.
    pub dry_run: bool,
    /// What makes this run's caller references its own (the run's start time).
    pub run_id: String,
    /// The first pause before asking a busy CDN again; it doubles up to `MAX_PAUSE`.
    pub first_pause: Duration,
}

/// Attempts of one CreateInvalidation while CloudFront is busy or throttling.
const ATTEMPTS: u32 = 8;
/// The first pause between them (`CdnOptions::first_pause`); it doubles up to `MAX_PAUSE`.
pub const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// How often `--cloudfront-wait` asks for the status.
const POLL: Duration = Duration::from_secs(5);

/// Reads every distribution and finds the origin that serves `url`, before any write: an
/// unknown distribution, or one with no origin for the bucket and prefix, stops the run (exit 2).
pub async fn prepare<C: Cdn>(
    cdn: &C,
    ids: &[String],
    url: &S3Url,
    origin_path: Option<&str>,
) -> Result<Vec<Mapping>, Error> {
    let mut out = Vec::new();
    for id in ids {
        let d = cdn.distribution(id).await.map_err(|source| Error::Cdn {
            context: format!("reading CloudFront distribution {id}"),
            source,
        })?;
        let m = paths::mapping(&d, &url.bucket, &url.prefix, origin_path)
            .map_err(SettingsError::Usage)?;
        out.push(m);
    }
    Ok(out)
}

/// Invalidates, on every distribution, the paths of what `records` changed (uploads, deletes
/// and repairs that succeeded, or in a dry run that are planned); nothing when nothing changed.
pub async fn invalidate<C: Cdn>(
    cdn: &C,
    targets: &[Mapping],
    records: &[Record],
    opts: &CdnOptions,
) -> Vec<Invalidation> {
    let done = |r: &&Record| match r.outcome {
        Outcome::Ok => true,
        Outcome::Planned => opts.dry_run,
        _ => false,
    };
    let changed: Vec<&str> = records
        .iter()
        .filter(|r| matches!(r.action, Action::Upload | Action::Delete | Action::Repair))
        .filter(done)
        .map(|r| r.key.as_str())
        .collect();
    let mut out = Vec::new();
    for target in targets {
        let rel = |k: &str| paths::relative(k, &target.roots).map(str::to_string);
        let changed: BTreeSet<String> = changed.iter().filter_map(|k| rel(k)).collect();
        if changed.is_empty() {
            continue;
        }
        let unchanged: BTreeSet<String> = records.iter().filter_map(|r| rel(&r.key)).collect();
        let in_progress = if opts.dry_run {
            0
        } else {
            // Unknown: assume no wildcard is free, so exact paths are what is sent.
            cdn.wildcards_in_progress(&target.distribution)
                .await
                .unwrap_or(MAX_WILDCARDS)
        };
        let budget = Budget {
            max_paths: opts.max_paths,
            wildcards: MAX_WILDCARDS.saturating_sub(in_progress),
        };
        let choice = paths::choose(&changed, &unchanged, budget);
        if choice.wildcards > 0 {
            tracing::info!(
                distribution = %target.distribution,
                wildcards = choice.wildcards,
                unchanged = choice.unchanged_covered,
                "over {} paths: folder wildcards instead",
                opts.max_paths
            );
        }
        for chunk in choice.paths.chunks(MAX_PATHS_PER_REQUEST) {
            out.push(send(cdn, &target.distribution, chunk, opts).await);
        }
    }
    out
}

/// One CreateInvalidation, retried while CloudFront is busy; then, if asked, the wait.
async fn send<C: Cdn>(
    cdn: &C,
    distribution: &str,
    paths_: &[String],
    opts: &CdnOptions,
) -> Invalidation {
    let mut inv = Invalidation {
        distribution: distribution.to_string(),
        id: None,
        paths: paths_.to_vec(),
        status: "planned".into(),
        error: None,
    };
    if opts.dry_run {
        return inv;
    }
    let reference = paths::reference(distribution, paths_, &opts.run_id);
    let mut pause = opts.first_pause;
    let mut attempt = 1;
    let created = loop {
        match cdn.invalidate(distribution, paths_, &reference).await {
            Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                tracing::info!(distribution, attempt, error = %e, "CloudFront is busy; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
                attempt += 1;
            }
            other => break other,
        }
    };
    match created {
        Ok(c) => {
            inv.id = Some(c.id.clone());
            inv.status = c.status;
            if let Some(limit) = opts.wait {
                match wait(cdn, distribution, &c.id, limit).await {
                    Ok(status) => inv.status = status,
                    Err(e) => inv.error = Some(e),
                }
            }
        }
        Err(e) => {
            inv.status = "failed".into();
            inv.error = Some(e.to_string());
        }
    }
    inv
}

/// Polls until the invalidation completes, or `limit` passes.
async fn wait<C: Cdn>(
    cdn: &C,
    distribution: &str,
    id: &str,
    limit: Duration,
) -> Result<String, String> {
    let started = Instant::now();
    loop {
        let status = cdn
            .status(distribution, id)
            .await
            .map_err(|e: CdnError| format!("reading the status of invalidation {id}: {e}"))?;
        if status.eq_ignore_ascii_case("completed") {
            return Ok(status);
        }
        if started.elapsed() >= limit {
            return Err(format!(
                "invalidation {id} still {status} after {} s",
                limit.as_secs()
            ));
        }
        crate::report::output::err_line(&format!(
            "waiting for CloudFront invalidation {id} on {distribution}: {status}"
        ));
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdn::memory::MemoryCdn;
    use crate::cdn::{Distribution, Origin};
    use crate::report::Reason;

    fn cdn() -> MemoryCdn {
        let c = MemoryCdn::default();
        c.add(Distribution {
            id: "E1".into(),
            origins: vec![Origin {
                id: "s3".into(),
                domain: "b.s3.amazonaws.com".into(),
                path: "/live".into(),
            }],
        });
        c
    }

    fn opts(dry_run: bool) -> CdnOptions {
        CdnOptions {
            max_paths: 300,
            wait: Some(Duration::from_secs(1)),
            dry_run,
            run_id: "run".into(),
            first_pause: FIRST_PAUSE,
        }
    }

    fn rec(key: &str, action: Action, outcome: Outcome) -> Record {
        Record::new(key, action, Reason::Unchanged, outcome)
    }

    #[tokio::test]
    async fn what_changed_is_invalidated_once_and_what_did_not_is_not() {
        let c = cdn();
        let url = S3Url::parse("s3://b/live/").unwrap();
        let targets = prepare(&c, &["E1".into()], &url, None).await.unwrap();
        let records = vec![
            rec("live/index.html", Action::Upload, Outcome::Ok),
            rec("live/old.css", Action::Delete, Outcome::Ok),
            rec("live/a b.css", Action::Repair, Outcome::Ok),
            rec("live/same.css", Action::Unchanged, Outcome::Ok),
            rec(
                "live/failed.css",
                Action::Upload,
                Outcome::Failed("x".into()),
            ),
        ];
        c.busy_for(2);
        tokio::time::pause();
        let inv = invalidate(&c, &targets, &records, &opts(false)).await;
        assert_eq!(inv.len(), 1);
        assert_eq!(inv[0].paths, ["/", "/a%20b.css", "/index.html", "/old.css"]);
        assert_eq!(inv[0].error, None);
        assert_eq!(c.created().len(), 1, "two busy answers, one invalidation");
        // A dry run sends nothing; a run that changed nothing invalidates nothing.
        let dry = invalidate(&c, &targets, &records, &opts(true)).await;
        assert_eq!(
            (dry[0].id.as_deref(), dry[0].status.as_str()),
            (None, "planned")
        );
        let none = invalidate(&c, &targets, &records[3..4], &opts(false)).await;
        assert!(none.is_empty());
        assert_eq!(c.created().len(), 1);
    }

    #[tokio::test]
    async fn an_unknown_distribution_or_origin_stops_the_run_before_any_write() {
        let c = cdn();
        let url = S3Url::parse("s3://b/live/").unwrap();
        let e = prepare(&c, &["ENOPE".into()], &url, None)
            .await
            .unwrap_err();
        assert_eq!(e.exit_code(), crate::report::ExitCode::Usage);
        let other = S3Url::parse("s3://b/staging/").unwrap();
        let e = prepare(&c, &["E1".into()], &other, None).await.unwrap_err();
        assert!(e.to_string().contains("no origin"), "{e}");
        assert_eq!(e.exit_code(), crate::report::ExitCode::Usage);
    }

    #[tokio::test]
    async fn a_cdn_that_stays_busy_fails_the_invalidation_not_the_upload() {
        let c = cdn();
        let url = S3Url::parse("s3://b/live/").unwrap();
        let targets = prepare(&c, &["E1".into()], &url, None).await.unwrap();
        c.busy_for(100);
        tokio::time::pause();
        let records = vec![rec("live/a.css", Action::Upload, Outcome::Ok)];
        let inv = invalidate(&c, &targets, &records, &opts(false)).await;
        assert_eq!(inv[0].status, "failed");
        assert!(
            inv[0].error.as_deref().unwrap_or("").contains("too many"),
            "{inv:?}"
        );
    }
}
