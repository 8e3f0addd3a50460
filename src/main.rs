//! The `s3site` binary: parse, run, exit. Everything else is in the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = s3site::cli::Cli::parse();
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
        .with_writer(std::io::stderr)
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
            return ExitCode::from(s3site::error::EXIT_FAILED);
        }
    };
    ExitCode::from(runtime.block_on(s3site::app::run(cli)))
}
