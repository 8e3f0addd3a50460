//! Ctrl-C and SIGTERM: the first one stops the run gently, a second one exits at once.
//!
//! Owns: the signal handlers (installed first thing, so a signal during the walk ends the run
//! like one later) and what they print. Must not: stop requests in flight (`run` lets them end).

use crate::run::cancel::{Cancel, Signal};
use std::sync::Arc;

/// The first Ctrl-C (SIGINT) or SIGTERM stops scheduling new requests: those in flight finish,
/// nothing is deleted that was not already being deleted, the summary says what was left
/// undone, and the exit code is 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once.
pub(super) fn on_signals() -> Arc<Cancel> {
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
