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

/// Hides credentials in a log line: the access key id the SDK's trace shows in its
/// `Credentials` debug output and in a SigV4 `Credential=` scope (secret and session token are
/// redacted by the SDK itself).
pub fn redact(line: &str) -> std::borrow::Cow<'_, str> {
    const HIDDEN: &str = "** redacted **";
    if !line.contains("access_key_id") && !line.contains("Credential=") {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    loop {
        let a = rest
            .find("access_key_id: \"")
            .map(|i| (i, "access_key_id: \"", '"'));
        let c = rest.find("Credential=").map(|i| (i, "Credential=", '/'));
        let Some((at, lead, end)) = [a, c].into_iter().flatten().min_by_key(|(i, _, _)| *i) else {
            out.push_str(rest);
            return std::borrow::Cow::Owned(out);
        };
        let start = at + lead.len();
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let stop = tail.find([end, ' ', ',']).unwrap_or(tail.len());
        out.push_str(HIDDEN);
        rest = &tail[stop..];
    }
}

/// The log's writer: stderr, with credentials hidden (see `redact`).
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let mut err = std::io::stderr().lock();
        // A closed stderr must not fail the run either.
        let _ = err.write_all(redact(&text).as_bytes());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_ids_are_hidden() {
        let line = r#"Credentials { provider_name: "Env", access_key_id: "AKIAEXAMPLE", secret_access_key: "** redacted **" } Credential=AKIAEXAMPLE/20261201/us-east-1/s3/aws4_request"#;
        let r = redact(line);
        assert!(!r.contains("AKIAEXAMPLE"), "{r}");
        assert!(r.contains(r#"access_key_id: "** redacted **""#), "{r}");
        assert!(r.contains("Credential=** redacted **/20261201"), "{r}");
        assert_eq!(redact("nothing here"), "nothing here");
    }
}
