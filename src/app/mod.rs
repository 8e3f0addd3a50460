//! The command-line application: from parsed arguments to an exit code.
//!
//! Owns: the order of a run (validate the flags and the rules file, walk the source while the
//! client is built, ask for credentials, run, print) and the one place a fatal error is
//! printed. Must not: hold logic that a library layer owns.

mod signals;

use crate::cdn::cloudfront::CloudFront;
use crate::cli::{
    Cli, Command, ConnectionArgs, ExplainArgs, OutputArgs, OutputFormat, RepairArgs, SyncArgs,
};
use crate::error::Error;
use crate::plan::cdn::Mapping;
use crate::report::{ExitCode, Format, Printer, output};
use crate::run::cdn::CdnOptions;
use crate::run::keys::{self, KeysFile};
use crate::run::repair::RepairOptions;
use crate::run::sync::SyncOptions;
use crate::run::{self, Runner, Scope, repair, sync};
use crate::settings::rules::Config;
use crate::settings::url::S3Url;
use crate::settings::{self, Settings, SettingsError};
use crate::site::cache::HashCache;
use crate::site::walk;
use crate::store::StoreError;
use crate::store::s3::{Connection, S3Store};
use futures::StreamExt as _;
use std::sync::Arc;

/// Runs a parsed command line and returns the process exit code; fatal errors are printed here
/// (as one line on stderr, or a JSON document with `--output json`).
pub async fn run(cli: Cli) -> ExitCode {
    let json = cli.command.output().output != OutputFormat::Text;
    let result = match cli.command {
        Command::Sync(args) => run_sync(args).await,
        Command::Repair(args) => run_repair(args).await,
        Command::Explain(args) => run_explain(args),
        Command::Completions(args) => Ok(print_generated(|out| {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut cmd, "s3site", out);
            Ok(())
        })),
        Command::Man => Ok(print_generated(|out| {
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(out)
        })),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            let message = one_line(&e);
            if json {
                let doc = serde_json::json!({ "error": message, "exit_code": code.code() });
                output::line(&doc.to_string());
            } else {
                output::err_line(&format!("s3site: error: {message}"));
            }
            code
        }
    }
}

/// Prints what `generate` writes (a completion script, the man page) on stdout.
fn print_generated(generate: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> ExitCode {
    let mut text = Vec::new();
    match generate(&mut text) {
        Ok(()) => {
            output::out(&String::from_utf8_lossy(&text));
            ExitCode::Ok
        }
        Err(e) => {
            output::err_line(&format!("s3site: error: {e}"));
            ExitCode::Failed
        }
    }
}

/// The error as printed: its message, and the flag that fixes it where there is one.
fn one_line(e: &Error) -> String {
    match e {
        Error::Store {
            source: StoreError::WrongRegion { region, .. },
            ..
        } => format!(
            "{e}: pass --region {}",
            region.as_deref().unwrap_or("REGION")
        ),
        _ => e.to_string(),
    }
}

/// What sync and repair both get from the validated settings.
fn scope(s: Settings, dry_run: bool) -> (Scope, usize) {
    let scope = Scope {
        url: s.url,
        dry_run,
        filter: s.filter,
        rules: s.config.rules,
    };
    (scope, s.concurrency)
}

async fn run_sync(args: SyncArgs) -> Result<ExitCode, Error> {
    // First of all: a signal during the walk or the hashing ends the run like one later.
    let cancel = signals::on_signals();
    let mut settings = settings::load(
        &args.run,
        args.url.as_deref(),
        &args.filters,
        crate::cli::DEFAULT_CONCURRENCY,
    )?;
    settings.filter = settings
        .filter
        .with_ignore_file(&args.dir)
        .map_err(SettingsError::Usage)?;
    let placement = settings::placement(&args.placement)?;
    // The client is built (environment, config files, CA roots) while the site folder is
    // walked; credentials are asked for once the walk found nothing wrong: bad input never
    // costs a request.
    let access = args.connection.clone();
    let building = tokio::spawn({
        let (conn, bucket) = (connection(args.connection), settings.url.bucket.clone());
        async move { S3Store::prepare(&conn, &bucket).await }
    });
    let walked = std::time::Instant::now();
    let source = Arc::new(walk::Source::new(&args.dir, &settings.url.prefix));
    // In place, handing this worker's other tasks (the client's building) to another thread.
    let files = tokio::task::block_in_place(|| {
        walk::walk(
            &source,
            &settings.filter,
            args.follow_outside,
            settings.config.strip_index_html,
        )
    });
    tracing::debug!(
        files = files.as_ref().map_or(0, Vec::len),
        ms = walked.elapsed().as_millis(),
        "walked"
    );
    let files = files.inspect_err(|_| building.abort())?;
    let store = building
        .await
        .map_err(|e| Error::Internal(format!("building the S3 client: {e}")))?
        .map_err(connect_error)?
        .checked()
        .await
        .map_err(connect_error)?;
    set_concurrency(&store, settings.concurrency);
    let cdn = Invalidator::prepare(&settings, &access, args.dry_run).await?;
    let website = settings.config.website.clone();
    let redirects = settings.config.redirects.clone();
    let (scope, concurrency) = scope(settings, args.dry_run);
    let printer = printer(&args.output);
    let opts = SyncOptions {
        source,
        website,
        redirects,
        scope,
        delete: args.delete,
        max_delete: args.max_delete,
        repair: args.repair,
        cache: Arc::new(if args.no_cache {
            HashCache::disabled()
        } else {
            HashCache::open(settings::state_dir().as_deref(), &args.dir)
        }),
        placement,
        keep: !args.placement.no_keep,
        // The invalidation plan needs every key under its roots to choose wildcards.
        keep_unchanged: args.output.output == OutputFormat::Json || cdn.is_some(),
    };
    let sink = |r: &crate::report::Record| printer.record(r);
    let runner = Runner::new(&store, concurrency, &cancel, &sink);
    printer.phase(&format!("hashing {} files and listing", files.len()));
    let mut report = sync::run(runner, files, &opts, |planned| printer.start_sync(planned)).await?;
    if let Some(cdn) = &cdn {
        report.invalidations = cdn.invalidate(&report.records).await;
    }
    printer.finish(&report);
    Ok(report.exit_code())
}

/// Where a repair's keys come from, checked before any request.
enum KeySource {
    List,
    File(KeysFile),
    Inventory(S3Url),
}

/// The repair's key source and resume point, from the flags: bad input is an error before any
/// request (a keys file is read through).
fn key_source(args: &RepairArgs, url: &S3Url) -> Result<(KeySource, Option<String>), Error> {
    let start_after = args.start_after.clone().filter(|k| !k.is_empty());
    if let Some(k) = start_after
        .as_deref()
        .filter(|k| !k.starts_with(&url.prefix))
    {
        return Err(SettingsError::Usage(format!(
            "--start-after '{k}' is not under the prefix '{}'",
            url.prefix
        ))
        .into());
    }
    let source = match (&args.keys_from, &args.inventory) {
        (Some(p), _) => KeySource::File(KeysFile::open(
            p,
            &url.bucket,
            &url.prefix,
            start_after.as_deref(),
        )?),
        (None, Some(inv)) => KeySource::Inventory(S3Url::parse(inv)?),
        (None, None) => KeySource::List,
    };
    Ok((source, start_after))
}

async fn run_repair(args: RepairArgs) -> Result<ExitCode, Error> {
    let cancel = signals::on_signals();
    let settings = settings::load(
        &args.run,
        args.url.as_deref(),
        &args.filters,
        crate::cli::REPAIR_CONCURRENCY,
    )?;
    let url = settings.url.clone();
    let (source, start_after) = key_source(&args, &url)?;
    if let Some(dir) = &args.batch_verify {
        let jobs = run::batch::read_plan(dir, &url.bucket, args.batch_sample)?;
        let store = connect(args.connection, &url.bucket, settings.concurrency).await?;
        return verify_jobs(&store, &jobs, settings.concurrency).await;
    }
    let mut planner = batch_planner(&args, &url.bucket, std::time::SystemTime::now())?;
    let dry_run = args.dry_run || planner.is_some();
    // For CloudFront and an inventory in another bucket: the same profile, region and CA bundle.
    let access = args.connection.clone();
    let store = connect(args.connection, &url.bucket, settings.concurrency).await?;
    let cdn = Invalidator::prepare(&settings, &access, dry_run).await?;
    let (scope, concurrency) = scope(settings, dry_run);
    let printer = printer(&args.output);
    let opts = RepairOptions {
        fail_on_drift: args.fail_on_drift,
        keep_all: args.output.output == OutputFormat::Json,
        keep_repaired: cdn.is_some(),
        max_objects: args.max_objects,
        assume_utf8: args.assume_utf8,
        start_after: start_after.clone(),
        scope,
    };
    let sink = |r: &crate::report::Record| printer.record(r);
    let runner = Runner::new(&store, concurrency, &cancel, &sink);
    let inventory_store = match &source {
        KeySource::Inventory(inv) => Some(connect(access, &inv.bucket, concurrency).await?),
        _ => None,
    };
    let total = match &source {
        KeySource::File(f) => Some(f.count),
        _ => None,
    };
    let keys: futures::stream::BoxStream<'_, _> = match (source, &inventory_store) {
        (KeySource::File(f), _) => f.stream().boxed(),
        (KeySource::Inventory(inv), Some(inv_store)) => {
            keys::inventory(inv_store, &inv, &url, start_after.as_deref())
                .await
                .map_err(|source| Error::Store {
                    context: format!("reading the inventory {inv}"),
                    source,
                })?
                .boxed()
        }
        _ => keys::listing(
            &store,
            &url.prefix,
            start_after.as_deref(),
            crate::store::listing::MAX_SLICES,
        )
        .await
        .map_err(|e| opts.scope.listing_failed(e))?
        .boxed(),
    };
    let start = || printer.start_progress(total);
    let mut report = repair::run(runner, &opts, keys, planner.as_mut(), start).await?;
    if let Some(cdn) = &cdn {
        report.invalidations = cdn.invalidate(&report.records).await;
    }
    if let Some(p) = planner {
        finish_plan(p, &mut report, args.batch_plan.as_deref());
    }
    printer.finish(&report);
    Ok(report.exit_code())
}

/// Writes the rest of a Batch plan and says so in the report's notes; a plan file that could
/// not be written stops the run like a refusal (exit 2), the audit's report still shown.
fn finish_plan(
    p: run::batch::Planner,
    report: &mut crate::report::Report,
    dir: Option<&std::path::Path>,
) {
    let dir = dir.unwrap_or(std::path::Path::new("."));
    let t = report.totals();
    let audited = (t.repaired + t.unchanged + t.skipped + t.failed) as u64;
    match p.finish(audited) {
        Ok(plan) => report.notes.push(format!(
            "Batch Operations plan in {}: {} job(s) for {} objects, {} objects in direct.csv; \
             read plan.md",
            dir.display(),
            plan.jobs.len(),
            plan.jobs.iter().map(|(_, n)| n).sum::<u64>(),
            plan.direct
        )),
        Err(e) => {
            report.halted = Some(format!(
                "--batch-plan {}: writing the plan: {e}",
                dir.display()
            ))
        }
    }
}

/// `--batch-verify`: a line per job, and one per sampled object without the job's headers.
async fn verify_jobs(
    store: &S3Store,
    jobs: &[run::batch::JobSample],
    concurrency: usize,
) -> Result<ExitCode, Error> {
    let mut code = ExitCode::Ok;
    for job in jobs {
        let wrong = run::batch::verify(store, job, concurrency)
            .await
            .map_err(|source| Error::Store {
                context: format!("checking {}", job.name),
                source,
            })?;
        let n = job.keys.len();
        if wrong.is_empty() {
            output::line(&format!(
                "{}: {n} of {} objects sampled, all have the job's headers",
                job.name, job.objects
            ));
            continue;
        }
        code = code.merge(ExitCode::Failed);
        output::line(&format!(
            "{}: {} of {n} objects sampled do not have the job's headers (did the job run, and \
             finish? see its completion report)",
            job.name,
            wrong.len()
        ));
        for (key, how) in wrong {
            output::line(&format!("  {key}: {}", how.join("; ")));
        }
    }
    Ok(code)
}

/// The Batch Operations planner of `--batch-plan`, checked before any request.
fn batch_planner(
    args: &RepairArgs,
    bucket: &str,
    started: std::time::SystemTime,
) -> Result<Option<run::batch::Planner>, Error> {
    let (Some(dir), Some(role), Some(report)) =
        (&args.batch_plan, &args.batch_role, &args.batch_report)
    else {
        return Ok(None);
    };
    let usage = |m: String| Error::from(SettingsError::Usage(m));
    let account = match &args.batch_account_id {
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => a.clone(),
        Some(a) => return Err(usage(format!("--batch-account-id '{a}' is not 12 digits"))),
        None => crate::plan::batch::account_of_role(role)
            .ok_or_else(|| {
                usage(format!(
                    "--batch-role '{role}' is not an IAM role ARN \
                     (arn:aws:iam::ACCOUNT:role/NAME); or pass --batch-account-id"
                ))
            })?
            .to_string(),
    };
    let report = S3Url::parse(report)?;
    let secs = started
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let opts = run::batch::BatchOptions {
        dir: dir.clone(),
        min_group: args.batch_min_group,
        spec: crate::plan::batch::JobSpec {
            account_id: account,
            role_arn: role.clone(),
            bucket: bucket.to_string(),
            report_bucket: report.bucket,
            report_prefix: report.prefix,
            priority: args.batch_priority,
            confirm: !args.batch_no_confirm,
            unmodified_since: crate::plan::batch::rfc3339(secs),
        },
    };
    Ok(Some(run::batch::Planner::create(opts)?))
}

/// The CloudFront step of a run: the distributions, read before any write, and how to
/// invalidate.
struct Invalidator {
    cloudfront: CloudFront,
    targets: Vec<Mapping>,
    opts: CdnOptions,
}

impl Invalidator {
    /// `None` without a distribution; otherwise each distribution is read and its origin for
    /// the destination found now, so a wrong id stops the run before any write.
    async fn prepare(
        s: &Settings,
        access: &ConnectionArgs,
        dry_run: bool,
    ) -> Result<Option<Invalidator>, Error> {
        if s.cdn.distributions.is_empty() {
            return Ok(None);
        }
        let cloudfront =
            CloudFront::connect(access.profile.as_deref(), access.ca_bundle.as_deref())
                .await
                .map_err(|source| Error::Cdn {
                    context: "connecting to CloudFront".into(),
                    source,
                })?;
        let targets = run::cdn::prepare(
            &cloudfront,
            &s.cdn.distributions,
            &s.url,
            s.cdn.origin_path.as_deref(),
        )
        .await?;
        let run_id = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            .to_string();
        Ok(Some(Invalidator {
            cloudfront,
            targets,
            opts: CdnOptions {
                max_paths: s.cdn.max_paths,
                wait: s.cdn.wait,
                dry_run,
                run_id,
                first_pause: settings::Tuning::from_env()
                    .cdn_retry_ms
                    .map_or(run::cdn::FIRST_PAUSE, std::time::Duration::from_millis),
            },
        }))
    }

    async fn invalidate(
        &self,
        records: &[crate::report::Record],
    ) -> Vec<crate::report::Invalidation> {
        run::cdn::invalidate(&self.cloudfront, &self.targets, records, &self.opts).await
    }
}

fn run_explain(args: ExplainArgs) -> Result<ExitCode, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let config = Config::load(args.config.as_deref(), &cwd).map_err(SettingsError::from)?;
    match &config.path {
        Some(p) => output::line(&format!("rules from {}", p.display())),
        None => output::line("no rules file (s3site.toml): the table's headers only"),
    }
    for key in &args.keys {
        let rel = key.trim_start_matches('/');
        output::out(&settings::explain::explain(&config.rules, rel));
        if output::stdout_closed() {
            // Nobody reads the rest (`explain … | head -1`): that is not an error.
            break;
        }
    }
    Ok(ExitCode::Ok)
}

/// The store for `bucket`, allowed `concurrency` requests in flight.
async fn connect(c: ConnectionArgs, bucket: &str, concurrency: usize) -> Result<S3Store, Error> {
    let store = S3Store::connect(&connection(c), bucket)
        .await
        .map_err(connect_error)?;
    set_concurrency(&store, concurrency);
    Ok(store)
}

/// How to reach the store, from the flags and the environment's tuning.
fn connection(c: ConnectionArgs) -> Connection {
    let tuning = settings::Tuning::from_env();
    Connection {
        endpoint_url: c.endpoint_url,
        path_style: c.path_style,
        region: c.region,
        profile: c.profile,
        ca_bundle: c.ca_bundle,
        list_page: tuning.list_page,
        max_single_copy: tuning.max_single_copy,
        state_dir: settings::state_dir(),
    }
}

fn connect_error(source: StoreError) -> Error {
    Error::Store {
        context: "connecting to S3".into(),
        source,
    }
}

/// Listing slices run at once however low --concurrency is; SlowDown lowers it all.
fn set_concurrency(store: &S3Store, concurrency: usize) {
    store.set_concurrency(concurrency.max(crate::store::listing::MAX_SLICES));
}

fn printer(o: &OutputArgs) -> Printer {
    let format = match o.output {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
        OutputFormat::Ndjson => Format::Ndjson,
    };
    // GitHub Actions: an annotation per failure, and the run's summary on the job's page.
    let ci = crate::report::ci::Ci {
        annotations: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from),
    };
    Printer::new(format, o.quiet, o.verbose).with_ci(ci)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_in_another_region_says_which_flag_fixes_it() {
        let e = Error::Store {
            context: "listing s3://b/".into(),
            source: StoreError::WrongRegion {
                bucket: "b".into(),
                region: Some("eu-west-1".into()),
            },
        };
        assert_eq!(
            one_line(&e),
            "listing s3://b/: bucket 'b' is in another region (eu-west-1): pass --region eu-west-1"
        );
    }
}
