//! Writing to stdout and stderr without ever failing a run: a closed pipe (`s3site sync … |
//! head -1`) or a full disk stops the printing, not the work.
//!
//! Owns: the one way s3site writes text to the standard streams. Must not: decide what to print
//! (that is `report` and `app`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

fn write_to(gone: &AtomicBool, mut w: impl Write, text: &str) {
    if gone.load(Ordering::Relaxed) {
        return;
    }
    if w.write_all(text.as_bytes())
        .and_then(|()| w.flush())
        .is_err()
    {
        // EPIPE and friends: the reader left. The run goes on; it just stops talking there.
        gone.store(true, Ordering::Relaxed);
    }
}

/// Writes `text` to stdout as it is; does nothing once stdout was found closed.
pub fn out(text: &str) {
    write_to(&STDOUT_GONE, std::io::stdout().lock(), text);
}

/// Writes one line to stdout.
pub fn line(text: &str) {
    out(&format!("{text}\n"));
}

/// Writes one line to stderr; does nothing once stderr was found closed.
pub fn err_line(text: &str) {
    write_to(&STDERR_GONE, std::io::stderr().lock(), &format!("{text}\n"));
}

/// Whether a write to stdout failed (the reader closed it).
pub fn stdout_closed() -> bool {
    STDOUT_GONE.load(Ordering::Relaxed)
}
