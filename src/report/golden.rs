//! The JSON document of `--output json`, byte for byte: scripts parse it, so a refactoring that
//! changes a name, a text or the order of fields must fail here first.

use super::*;
use crate::plan::repair::Change;

fn record(key: &str, action: Action, reason: Reason, outcome: Outcome) -> Record {
    Record {
        bytes: 3,
        ..Record::new(key, action, reason, outcome)
    }
}

/// A report with one record of every kind a sync or a repair writes.
pub(super) fn every_kind() -> Report {
    let mut upload = record(
        "index.html",
        Action::Upload,
        Reason::Upload(UploadReason::New),
        Outcome::Ok,
    );
    upload.content_type = Some("text/html; charset=utf-8".into());
    let mut repair = record(
        "s.css",
        Action::Repair,
        Reason::HeadersWrong,
        Outcome::Planned,
    );
    repair.changes = vec![Change {
        header: "Content-Encoding".into(),
        before: Some("UTF-8".into()),
        after: None,
    }];
    repair.remains = Some("stored plain, but the rules compress it with gzip".into());
    Report {
        command: Command::Sync,
        dry_run: true,
        bucket: "b".into(),
        prefix: "site/".into(),
        records: vec![
            upload,
            record("a.css", Action::Unchanged, Reason::Unchanged, Outcome::Ok),
            record(
                "b.js",
                Action::Upload,
                Reason::Upload(UploadReason::ContentChanged),
                Outcome::Failed("access denied: no".into()),
            ),
            record(
                "old.html",
                Action::Delete,
                Reason::NotInSource,
                Outcome::NotRun("not deleted because an upload failed".into()),
            ),
            record(
                "gone.css",
                Action::Unchanged,
                Reason::Gone,
                Outcome::Skipped(GONE.into()),
            ),
            repair,
        ],
        delete_blocked: Some(DeleteBlocked::TooMany { count: 2, max: 1 }),
        notes: vec!["a note".into()],
        fail_on_drift: false,
        interrupted: Some(Signal::Term),
        halted: None,
        elapsed: Duration::from_millis(250),
        invalidations: vec![Invalidation {
            distribution: "E2QWRUHAPOMQZL".into(),
            id: None,
            paths: vec!["/".into(), "/index.html".into()],
            status: "planned".into(),
            error: None,
        }],
        counted: Totals {
            unchanged: 2,
            bytes_read: 4096,
            ..Totals::default()
        },
        resume_after: Some("s.css".into()),
        listing_failed: Some("the store kept asking to slow down".into()),
    }
}

#[test]
fn the_json_document_is_byte_for_byte_what_it_was() {
    let doc = serde_json::to_string_pretty(&every_kind().to_json()).expect("json");
    assert_eq!(doc, GOLDEN);
}

const GOLDEN: &str = r#"{
  "actions": [
    {
      "action": "upload",
      "bytes": 3,
      "changes": [],
      "content_type": "text/html; charset=utf-8",
      "error": null,
      "key": "index.html",
      "reason": "new",
      "remains": null,
      "result": "ok"
    },
    {
      "action": "skip",
      "bytes": 3,
      "changes": [],
      "content_type": null,
      "error": null,
      "key": "a.css",
      "reason": "unchanged",
      "remains": null,
      "result": "ok"
    },
    {
      "action": "upload",
      "bytes": 3,
      "changes": [],
      "content_type": null,
      "error": "access denied: no",
      "key": "b.js",
      "reason": "content changed",
      "remains": null,
      "result": "failed"
    },
    {
      "action": "delete",
      "bytes": 3,
      "changes": [],
      "content_type": null,
      "error": "not deleted because an upload failed",
      "key": "old.html",
      "reason": "not in source",
      "remains": null,
      "result": "not_run"
    },
    {
      "action": "skip",
      "bytes": 3,
      "changes": [],
      "content_type": null,
      "error": "deleted since it was listed",
      "key": "gone.css",
      "reason": "deleted since it was listed",
      "remains": null,
      "result": "skipped"
    },
    {
      "action": "repair",
      "bytes": 3,
      "changes": [
        {
          "after": null,
          "before": "UTF-8",
          "header": "Content-Encoding"
        }
      ],
      "content_type": null,
      "error": null,
      "key": "s.css",
      "reason": "Content-Encoding: 'UTF-8' -> (none)",
      "remains": "stored plain, but the rules compress it with gzip",
      "result": "planned"
    }
  ],
  "bucket": "b",
  "command": "sync",
  "delete_blocked": "2 objects would be deleted, more than --max-delete 1",
  "dry_run": true,
  "error": null,
  "exit_code": 143,
  "interrupted": true,
  "invalidations": [
    {
      "distribution": "E2QWRUHAPOMQZL",
      "error": null,
      "id": null,
      "paths": [
        "/",
        "/index.html"
      ],
      "status": "planned"
    }
  ],
  "listing_failed": "the store kept asking to slow down",
  "notes": [
    "a note"
  ],
  "prefix": "site/",
  "resume_after": "s.css",
  "signal": "SIGTERM",
  "totals": {
    "bytes_read": 4096,
    "deleted": 0,
    "failed": 1,
    "not_run": 1,
    "repaired": 1,
    "repaired_need_reupload": 1,
    "seconds": 0.25,
    "skipped": 1,
    "unchanged": 3,
    "uploaded": 1,
    "uploaded_bytes": 3
  }
}"#;

#[test]
fn the_summary_line_is_what_it_was() {
    assert_eq!(
        every_kind().summary(),
        "terminated (SIGTERM): dry run, nothing written: would have uploaded 1 (3 B), repaired \
         1, skipped 1, unchanged 3, deleted 0, failed 1, not run 1, 1 repaired still need a \
         re-upload (run s3site sync) in 0.25 s; stopped before the end: everything through \
         's.css' is done, go on with --start-after 's.css'; listing failed: the store kept \
         asking to slow down"
    );
    let mut r = every_kind();
    r.command = Command::Repair;
    r.interrupted = None;
    r.dry_run = false;
    r.resume_after = Some("it's".into());
    r.listing_failed = None;
    assert_eq!(
        r.summary(),
        "repaired 1, right 3, skipped 1, failed 1, not run 1, 1 repaired still need a re-upload \
         (run s3site sync), read 4.0 KiB in 0.25 s; stopped before the end: everything through \
         'it's' is done, go on with --start-after 'it'\\''s'"
    );
}
