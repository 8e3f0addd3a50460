//! What a run did, and how it is shown: one line per action, a progress bar on a terminal, a
//! summary, or one JSON document.
//!
//! Owns: the record of every action and its outcome, the totals, the exit code they imply, and
//! their text and JSON forms. Must not: decide or perform actions.

pub mod ci;
pub mod exit;
pub mod output;
mod printer;

use crate::plan::repair::Change;
use crate::plan::sync::{DeleteBlocked, UploadReason};
pub use exit::{ExitCode, Signal};
pub use printer::{Format, Planned, Printer};
use serde::Serialize;
use std::time::Duration;

/// Which command made a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// `s3site sync`.
    #[default]
    Sync,
    /// `s3site repair`.
    Repair,
}

/// The kind of an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Store a file.
    Upload,
    /// Leave an object as it is (its bytes or its headers are right, or it cannot be read).
    #[serde(rename = "skip")]
    Unchanged,
    /// Remove an object.
    Delete,
    /// Rewrite an object's headers in place.
    Repair,
    /// Set the bucket's website configuration.
    Website,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Upload => "upload",
            Action::Unchanged => "unchanged",
            Action::Delete => "delete",
            Action::Repair => "repair",
            Action::Website => "website",
        }
    }
}

/// Why an action was chosen, or why nothing was done: the text after the key, and JSON's
/// `reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Why a file is uploaded.
    Upload(UploadReason),
    /// The object has the file's bytes.
    Unchanged,
    /// The object has no file in the source (a delete).
    NotInSource,
    /// A repair: the headers to change, which the record's `changes` list.
    HeadersWrong,
    /// A repair found the headers right.
    HeadersRight,
    /// A repair did not look at the object: the run stopped first.
    NotChecked,
    /// The object was deleted between the listing and its HEAD.
    Gone,
    /// The store refused to describe the object (usually SSE-C), with its message.
    Undescribable(String),
    /// Reading the object's headers failed.
    ReadingHeaders,
    /// Reading the object's first bytes failed.
    CheckingBody,
    /// The bucket's website configuration differs from the rules file's (the record's
    /// `changes` say how).
    WebsiteDiffers,
}

impl Reason {
    /// The text shown, given the record's header changes (which a repair's reason lists).
    pub fn text(&self, changes: &[Change]) -> String {
        match self {
            Reason::Upload(u) => u.to_string(),
            Reason::Unchanged => "unchanged".into(),
            Reason::NotInSource => "not in source".into(),
            Reason::HeadersWrong | Reason::WebsiteDiffers => changes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            Reason::HeadersRight => "headers right".into(),
            Reason::NotChecked => "not checked".into(),
            Reason::Gone => GONE.into(),
            Reason::Undescribable(m) => undescribable(m),
            Reason::ReadingHeaders => "reading its headers".into(),
            Reason::CheckingBody => "checking its body".into(),
        }
    }
}

/// Why an object listed a moment ago is left alone.
pub const GONE: &str = "deleted since it was listed";

/// Why an object the store will not describe is left alone.
pub fn undescribable(message: &str) -> String {
    format!(
        "the store refused to describe it ({message}); objects encrypted with a customer key \
         (SSE-C) cannot be read without it"
    )
}

/// What became of an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Ok,
    /// Tried and failed, with the error.
    Failed(String),
    /// Not done because this is a dry run.
    Planned,
    /// Not tried, for the reason given (an earlier failure, a delete limit...).
    NotRun(String),
    /// Deliberately left alone, which is not a failure: the object changed since it was read,
    /// is archived, or is encrypted with a customer key.
    Skipped(String),
}

impl Outcome {
    /// Whether a rerun must try the action again: it failed or did not run.
    pub fn to_do_again(&self) -> bool {
        matches!(self, Outcome::Failed(_) | Outcome::NotRun(_))
    }
}

/// One action and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The S3 key.
    pub key: String,
    /// What was to be done.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// Bytes involved (the file's size for uploads, the object's for deletes).
    pub bytes: u64,
    /// The Content-Type sent, for uploads.
    pub content_type: Option<String>,
    /// The header changes, for repairs.
    pub changes: Vec<Change>,
    /// What became of it.
    pub outcome: Outcome,
    /// For a repair that was done (or planned): what a copy could not change and only a
    /// re-upload can (the rules compress a body stored plain).
    pub remains: Option<String>,
    /// Bytes of the body read to decide (a repair's ranged GET).
    pub read: u64,
}

impl Record {
    /// A record of `action` on `key` with no bytes, type, changes or remains (set them after).
    pub fn new(key: &str, action: Action, reason: Reason, outcome: Outcome) -> Record {
        Record {
            key: key.to_string(),
            action,
            reason,
            bytes: 0,
            content_type: None,
            changes: Vec::new(),
            outcome,
            remains: None,
            read: 0,
        }
    }

    /// The reason as shown.
    pub fn reason_text(&self) -> String {
        self.reason.text(&self.changes)
    }

    /// The record in JSON: an element of `actions`, or a line of `--output ndjson`.
    pub fn to_json(&self) -> serde_json::Value {
        let (result, error) = match &self.outcome {
            Outcome::Ok => ("ok", None),
            Outcome::Failed(e) => ("failed", Some(e.as_str())),
            Outcome::Planned => ("planned", None),
            Outcome::NotRun(why) => ("not_run", Some(why.as_str())),
            Outcome::Skipped(why) => ("skipped", Some(why.as_str())),
        };
        serde_json::json!({
            "key": self.key,
            "action": self.action,
            "reason": self.reason_text(),
            "bytes": self.bytes,
            "content_type": self.content_type,
            "changes": self.changes,
            "result": result,
            "error": error,
            "remains": self.remains,
        })
    }
}

/// The totals of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Files uploaded (or to upload, in a dry run).
    pub uploaded: usize,
    /// Their bytes.
    pub uploaded_bytes: u64,
    /// Files left alone because the object has the same bytes.
    pub unchanged: usize,
    /// Objects deleted (or to delete, in a dry run).
    pub deleted: usize,
    /// Objects whose headers were rewritten in place (or would be, in a dry run).
    pub repaired: usize,
    /// Objects deliberately left alone (changed since read, archived, customer-key encrypted).
    pub skipped: usize,
    /// Actions that failed.
    pub failed: usize,
    /// Actions not run because of an earlier failure or a safety limit.
    pub not_run: usize,
    /// Objects repaired (or to repair) whose body a copy cannot make what the rules ask: the
    /// rules compress it and it is stored plain (or another coding). A re-upload (`sync`) does.
    pub repaired_need_reupload: usize,
    /// Bytes of bodies read to decide a repair (the first bytes that show a coding or UTF-8).
    pub bytes_read: u64,
    /// Wall time of the run.
    pub seconds: f64,
}

impl Totals {
    /// Counts one record.
    pub fn count(&mut self, r: &Record) {
        self.bytes_read += r.read;
        match (&r.outcome, r.action) {
            (Outcome::Failed(_), _) => self.failed += 1,
            (Outcome::NotRun(_), _) => self.not_run += 1,
            (Outcome::Skipped(_), _) => self.skipped += 1,
            (_, Action::Upload) => {
                self.uploaded += 1;
                self.uploaded_bytes += r.bytes;
            }
            (_, Action::Unchanged) => self.unchanged += 1,
            (_, Action::Delete) => self.deleted += 1,
            (_, Action::Repair) => {
                self.repaired += 1;
                self.repaired_need_reupload += usize::from(r.remains.is_some());
            }
            // Shown as its own line; the totals count objects.
            (_, Action::Website) => {}
        }
    }
}

/// Everything a run did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The command.
    pub command: Command,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The bucket.
    pub bucket: String,
    /// The key prefix.
    pub prefix: String,
    /// Every action, in order (a streamed repair keeps only what `--output json` or an
    /// invalidation needs, and counts the rest in `counted`).
    pub records: Vec<Record>,
    /// The totals of records that were counted and not kept.
    pub counted: Totals,
    /// For a run over a key stream that stopped before its end: the key through which
    /// everything is done (`Some("")`: nothing yet). `--start-after` goes on from it.
    pub resume_after: Option<String>,
    /// Why listing stopped before the end, if it did (the keys before were done).
    pub listing_failed: Option<String>,
    /// Why deletes were refused, if they were.
    pub delete_blocked: Option<DeleteBlocked>,
    /// Things the user should know that are not about one object.
    pub notes: Vec<String>,
    /// `--fail-on-drift`: a dry run that finds headers to repair exits 1.
    pub fail_on_drift: bool,
    /// The signal that interrupted the run (Ctrl-C, SIGTERM), if one did.
    pub interrupted: Option<Signal>,
    /// Why the run stopped early because the store refused a write in a way every further
    /// request would meet too (access denied...), if it did.
    pub halted: Option<String>,
    /// Wall time.
    pub elapsed: Duration,
    /// The CDN invalidations of what the run changed (one per distribution, when anything did).
    pub invalidations: Vec<Invalidation>,
}

/// One CDN invalidation a run made (or, in a dry run, would make).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invalidation {
    /// The distribution.
    pub distribution: String,
    /// The invalidation's id (`None` in a dry run or when it failed).
    pub id: Option<String>,
    /// The paths, encoded as sent.
    pub paths: Vec<String>,
    /// `planned`, the CDN's status (`InProgress`, `Completed`), or `failed`.
    pub status: String,
    /// Why it failed, if it did: the content is live, these paths are not invalidated.
    pub error: Option<String>,
}

impl Report {
    /// Adds up the records.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            seconds: self.elapsed.as_secs_f64(),
            ..self.counted.clone()
        };
        for r in &self.records {
            t.count(r);
        }
        t
    }

    /// `Ok` when everything planned was done (or, in a dry run, could be); `Failed` when
    /// anything failed, was left undone, or deletes were refused, or (with `--fail-on-drift`) a
    /// dry run found headers to repair; `Usage` when the store refused writes for good (access
    /// denied); `Interrupted` or `Terminated` after a signal.
    pub fn exit_code(&self) -> ExitCode {
        let t = self.totals();
        let drift = self.fail_on_drift && self.dry_run && t.repaired > 0;
        let invalidation_failed = self.invalidations.iter().any(|i| i.error.is_some());
        let failed = t.failed > 0
            || t.not_run > 0
            || self.listing_failed.is_some()
            || self.delete_blocked.is_some()
            || drift
            || invalidation_failed;
        let mut code = ExitCode::Ok;
        if failed {
            code = code.merge(ExitCode::Failed);
        }
        if self.halted.is_some() {
            code = code.merge(ExitCode::Usage);
        }
        match self.interrupted {
            Some(signal) => signal.exit_code().merge(code),
            None => code,
        }
    }

    /// The summary line: `uploaded 3 (1.2 KiB), unchanged 10, deleted 0, failed 0 in 0.21 s`, or
    /// for a repair `repaired 3, right 10, skipped 0, failed 0 in 0.21 s`.
    pub fn summary(&self) -> String {
        let t = self.totals();
        let mut s = String::new();
        if let Some(signal) = self.interrupted {
            s.push_str(match signal {
                Signal::Int => "interrupted: ",
                Signal::Term => "terminated (SIGTERM): ",
            });
        }
        if self.dry_run {
            s.push_str("dry run, nothing written: would have ");
        }
        if self.command == Command::Repair {
            s.push_str(&format!(
                "repaired {}, right {}, skipped {}, failed {}",
                t.repaired, t.unchanged, t.skipped, t.failed
            ));
        } else {
            s.push_str(&format!(
                "uploaded {} ({}), ",
                t.uploaded,
                human_bytes(t.uploaded_bytes)
            ));
            if t.repaired > 0 || t.skipped > 0 {
                s.push_str(&format!("repaired {}, skipped {}, ", t.repaired, t.skipped));
            }
            s.push_str(&format!(
                "unchanged {}, deleted {}, failed {}",
                t.unchanged, t.deleted, t.failed
            ));
        }
        if t.not_run > 0 {
            s.push_str(&format!(", not run {}", t.not_run));
        }
        if t.repaired_need_reupload > 0 {
            s.push_str(&format!(
                ", {} repaired still need a re-upload (run s3site sync)",
                t.repaired_need_reupload
            ));
        }
        if self.command == Command::Repair {
            s.push_str(&format!(", read {}", human_bytes(t.bytes_read)));
        }
        s.push_str(&format!(" in {:.2} s", t.seconds));
        if let Some(hint) = self.resume_hint() {
            s.push_str(&format!("; {hint}"));
        }
        if let Some(why) = &self.listing_failed {
            s.push_str(&format!("; listing failed: {why}"));
        }
        s
    }

    /// Where a run that stopped before the end goes on: `stopped before the end: everything
    /// through 'KEY' is done, go on with --start-after 'KEY'` (the key quoted for a shell).
    pub fn resume_hint(&self) -> Option<String> {
        self.resume_after.as_deref().map(|k| match k {
            "" => "stopped before any object was done: run it again".to_string(),
            k => format!(
                "stopped before the end: everything through '{k}' is done, go on with \
                 --start-after '{}'",
                k.replace('\'', "'\\''")
            ),
        })
    }

    /// The JSON document of `--output json`.
    pub fn to_json(&self) -> serde_json::Value {
        let actions: Vec<serde_json::Value> = self.records.iter().map(Record::to_json).collect();
        let mut doc = self.end_json();
        if let serde_json::Value::Object(m) = &mut doc {
            m.insert("actions".into(), actions.into());
        }
        doc
    }

    /// The last line of `--output ndjson`: the document without its actions.
    pub fn end_json(&self) -> serde_json::Value {
        serde_json::json!({
            "command": self.command,
            "dry_run": self.dry_run,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "delete_blocked": self.delete_blocked.as_ref().map(ToString::to_string),
            "notes": self.notes,
            "interrupted": self.interrupted.is_some(),
            "signal": self.interrupted.map(Signal::name),
            "error": self.halted,
            "totals": self.totals(),
            "invalidations": self.invalidations,
            "resume_after": self.resume_after,
            "listing_failed": self.listing_failed,
            "exit_code": self.exit_code(),
        })
    }
}

/// `1.5 MiB`-style sizes for people.
pub fn human_bytes(n: u64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod golden;

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(action: Action, outcome: Outcome) -> Record {
        Record {
            key: "k".into(),
            action,
            reason: Reason::Upload(UploadReason::New),
            bytes: 10,
            content_type: None,
            changes: Vec::new(),
            outcome,
            remains: None,
            read: 0,
        }
    }

    #[test]
    fn totals_and_exit_code() {
        let mut r = Report {
            records: vec![
                rec(Action::Upload, Outcome::Ok),
                rec(Action::Unchanged, Outcome::Ok),
                rec(Action::Delete, Outcome::Ok),
            ],
            ..Report::default()
        };
        let t = r.totals();
        assert_eq!(
            (t.uploaded, t.uploaded_bytes, t.unchanged, t.deleted),
            (1, 10, 1, 1)
        );
        assert_eq!(r.exit_code(), ExitCode::Ok);
        r.records
            .push(rec(Action::Upload, Outcome::Failed("boom".into())));
        assert_eq!(r.exit_code(), ExitCode::Failed);
        r.records.pop();
        r.delete_blocked = Some(DeleteBlocked::EmptySource);
        assert_eq!(r.exit_code(), ExitCode::Failed);
    }

    #[test]
    fn human() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
