//! The `s3site` binary: parse, run, exit. Everything else is in the library.

use clap::Parser;
use s3site::report::ExitCode as Exit;
use std::process::ExitCode;

/// musl's allocator made the static build twice as slow as the glibc one on a no-op (system
/// time in malloc); jemalloc brings it level at a few MB more. mimalloc, tried first, was still
/// 1.17 times slower and held up to 30 times the memory (bench/RESULTS.md, "The static binary").
#[cfg(all(target_env = "musl", feature = "jemalloc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    cap_malloc_arenas();
    drop_empty_variables();
    let cli = match s3site::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let verbose = cli.command.output().verbose;
    let filter = if verbose {
        "s3site=debug"
    } else {
        "s3site=warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("S3SITE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(|| s3site::report::output::LogWriter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3site: error: cannot start the async runtime: {e}");
            return Exit::Failed.into();
        }
    };
    runtime.block_on(s3site::app::run(cli)).into()
}

/// Takes an empty `S3SITE_*` variable for unset, as CI systems set a variable to nothing when
/// its source is undefined (`${{ vars.X }}`): clap would refuse an empty `S3SITE_DRY_RUN` and
/// take an empty `S3SITE_CLOUDFRONT` for a distribution id.
#[allow(unsafe_code)]
fn drop_empty_variables() {
    let empty: Vec<std::ffi::OsString> = std::env::vars_os()
        .filter(|(k, v)| k.to_string_lossy().starts_with("S3SITE_") && v.is_empty())
        .map(|(k, _)| k)
        .collect();
    for k in empty {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::remove_var(k) };
    }
}

/// A command line clap refused (or `--help`, `--version`): clap's own text, except that with
/// `--output json` a usage error is the same JSON document as every other error, on stdout.
fn usage_error(e: &clap::Error) -> ExitCode {
    let asked_json = {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let machine = |v: &std::ffi::OsStr| v == "json" || v == "ndjson";
        let from_env = std::env::var_os("S3SITE_OUTPUT").is_some_and(|v| machine(&v));
        from_env
            || args
                .windows(2)
                .any(|w| w[0] == "--output" && machine(&w[1]))
            || args
                .iter()
                .any(|a| a == "--output=json" || a == "--output=ndjson")
    };
    if asked_json && e.use_stderr() {
        // clap's message without its usage and tip lines, on one line.
        let text = e.to_string();
        let message = text
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        let doc = serde_json::json!({
            "error": message.trim_start_matches("error: "),
            "exit_code": Exit::Usage.code(),
        });
        s3site::report::output::line(&doc.to_string());
        return Exit::Usage.into();
    }
    if e.kind() == clap::error::ErrorKind::UnknownArgument
        && let Some(hint) = std::env::args().find_map(|a| s3site::cli::s3cmd_hint(&a))
    {
        eprintln!("s3site: error: {hint}");
        return Exit::Usage.into();
    }
    let _ = e.print();
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(Exit::Usage.code()))
}

/// Caps glibc's malloc arenas at one per core (its default is eight per core). Each thread that
/// compresses gets an arena, and an arena keeps the encoders' freed buffers, so uncapped a first
/// upload with compress rules held three times the memory, at the same speed (bench/RESULTS.md,
/// "Compress rules"). `MALLOC_ARENA_MAX` in the environment still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn cap_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let cores = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only sets an allocator parameter; it is called first thing in main,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, cores);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn cap_malloc_arenas() {}
