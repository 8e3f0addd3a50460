//! The command-line application: from parsed arguments to an exit code.
//!
//! Owns: the order of a run (validate flags, walk the source, connect, run, print) and the
//! one place a fatal error is printed. Must not: hold logic that a library module owns.

use crate::cli::{
    Cli, Command, ConnectionArgs, ExplainArgs, OutputArgs, OutputFormat, RepairArgs, SyncArgs,
};
use crate::error::Error;
use crate::report::{ExitCode, Format, Printer};
use crate::run::cancel::{Cancel, Signal};
use crate::run::repair::{self, RepairOptions};
use crate::run::sync::{self, SyncOptions};
use crate::settings::rules::Config;
use crate::settings::{self, Settings, SettingsError};
use crate::site::cache::HashCache;
use crate::site::local;
use crate::store::s3::{Connection, S3Store};
use std::sync::Arc;

/// Runs a parsed command line and returns the process exit code; fatal errors are printed here
/// (as one line on stderr, or a JSON document with `--output json`).
pub async fn run(cli: Cli) -> ExitCode {
    let json = cli.command.output().output == OutputFormat::Json;
    let result = match cli.command {
        Command::Sync(args) => run_sync(args).await,
        Command::Repair(args) => run_repair(args).await,
        Command::Explain(args) => run_explain(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            if json {
                let doc = serde_json::json!({ "error": e.to_string(), "exit_code": code.code() });
                crate::report::output::line(&doc.to_string());
            } else {
                crate::report::output::err_line(&format!("s3site: error: {e}"));
            }
            code
        }
    }
}

async fn run_sync(args: SyncArgs) -> Result<ExitCode, Error> {
    // First of all: a signal during the walk or the hashing ends the run like one later.
    let cancel = on_signals();
    let Settings {
        config,
        url,
        filter,
        concurrency,
    } = settings::load(&args.run, args.url.as_deref(), &args.exclude)?;
    // Everything local is checked before connecting: bad input never costs a request.
    let walked = std::time::Instant::now();
    let files = local::walk(&args.dir, &url.prefix, &filter, args.follow_outside)?;
    tracing::debug!(
        files = files.len(),
        ms = walked.elapsed().as_millis(),
        "walked"
    );
    let store = connect(args.connection, &url.bucket).await?;
    // Listing slices run at once however low --concurrency is; SlowDown lowers it all.
    store.set_concurrency(concurrency.max(crate::store::listing::MAX_SLICES));
    let printer = printer(&args.output);
    let opts = SyncOptions {
        bucket: url.bucket,
        prefix: url.prefix,
        dry_run: args.dry_run,
        delete: args.delete,
        max_delete: args.max_delete,
        filter,
        concurrency,
        repair: args.repair,
        rules: config.rules,
        cache: Arc::new(if args.no_cache {
            HashCache::disabled()
        } else {
            HashCache::open(settings::state_dir().as_deref(), &args.dir)
        }),
    };
    let report = sync::run(
        &store,
        files,
        &opts,
        &cancel,
        |total| printer.start_progress(total),
        &|r| printer.record(r),
    )
    .await?;
    printer.finish(&report);
    Ok(report.exit_code())
}

async fn run_repair(args: RepairArgs) -> Result<ExitCode, Error> {
    let cancel = on_signals();
    let Settings {
        config,
        url,
        filter,
        concurrency,
    } = settings::load(&args.run, args.url.as_deref(), &args.exclude)?;
    let store = connect(args.connection, &url.bucket).await?;
    // Listing slices run at once however low --concurrency is; SlowDown lowers it all.
    store.set_concurrency(concurrency.max(crate::store::listing::MAX_SLICES));
    let printer = printer(&args.output);
    let opts = RepairOptions {
        bucket: url.bucket,
        prefix: url.prefix,
        dry_run: args.dry_run,
        fail_on_drift: args.fail_on_drift,
        filter,
        concurrency,
        rules: config.rules,
    };
    let report = repair::run(
        &store,
        &opts,
        &cancel,
        |total| printer.start_progress(total),
        &|r| printer.record(r),
    )
    .await?;
    printer.finish(&report);
    Ok(report.exit_code())
}

/// The first Ctrl-C (SIGINT) or SIGTERM stops scheduling new requests: those in flight finish,
/// nothing is deleted that was not already being deleted, the summary says what was left
/// undone, and the exit code is 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once.
fn on_signals() -> Arc<Cancel> {
    let cancel = Arc::new(Cancel::default());
    let c = cancel.clone();
    tokio::spawn(async move {
        let mut term = terminate_signal();
        loop {
            let signal = tokio::select! {
                r = tokio::signal::ctrl_c() => match r {
                    Ok(()) => Signal::Int,
                    Err(_) => break,
                },
                Some(()) = recv(&mut term) => Signal::Term,
            };
            if c.is_cancelled() {
                crate::report::output::err_line(&format!(
                    "s3site: {} again: exiting now",
                    signal.name()
                ));
                std::process::exit(i32::from(signal.exit_code().code()));
            }
            c.interrupt(signal);
            let again = match signal {
                Signal::Int => "Ctrl-C",
                Signal::Term => "SIGTERM",
            };
            crate::report::output::err_line(&format!(
                "s3site: {}: finishing the requests in flight, starting no more ({again} again \
                 to exit now)",
                match signal {
                    Signal::Int => "interrupted",
                    Signal::Term => "terminated (SIGTERM)",
                }
            ));
        }
    });
    cancel
}

#[cfg(unix)]
type TermSignal = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type TermSignal = Option<()>;

#[cfg(unix)]
fn terminate_signal() -> TermSignal {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()
}

#[cfg(not(unix))]
fn terminate_signal() -> TermSignal {
    None
}

/// The next SIGTERM; never, where there is none to wait for.
#[cfg(unix)]
async fn recv(term: &mut TermSignal) -> Option<()> {
    match term {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn recv(_: &mut TermSignal) -> Option<()> {
    std::future::pending().await
}

fn run_explain(args: ExplainArgs) -> Result<ExitCode, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let config = Config::load(args.config.as_deref(), &cwd).map_err(SettingsError::from)?;
    match &config.path {
        Some(p) => crate::report::output::line(&format!("rules from {}", p.display())),
        None => {
            crate::report::output::line("no rules file (s3site.toml): the table's headers only")
        }
    }
    for key in &args.keys {
        let rel = key.trim_start_matches('/');
        crate::report::output::out(&crate::settings::explain::explain(&config.rules, rel));
        if crate::report::output::stdout_closed() {
            // Nobody reads the rest (`explain … | head -1`): that is not an error.
            break;
        }
    }
    Ok(ExitCode::Ok)
}

async fn connect(c: ConnectionArgs, bucket: &str) -> Result<S3Store, Error> {
    let tuning = settings::Tuning::from_env();
    let conn = Connection {
        endpoint_url: c.endpoint_url,
        path_style: c.path_style,
        region: c.region,
        profile: c.profile,
        list_page: tuning.list_page,
        max_single_copy: tuning.max_single_copy,
        state_dir: settings::state_dir(),
    };
    S3Store::connect(&conn, bucket)
        .await
        .map_err(|source| Error::Store {
            context: "connecting to S3".into(),
            source,
        })
}

fn printer(o: &OutputArgs) -> Printer {
    let format = match o.output {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
    };
    Printer::new(format, o.quiet, o.verbose)
}
