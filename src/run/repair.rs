//! `repair` from start to end, and the per-object repair `sync --repair` shares: HEAD, read the
//! first bytes when the verdict needs them, and rewrite the headers in place.
//!
//! Owns: the requests of a repair (one listing, a HEAD per object, a ranged GET only when
//! `drift::needs_sniff` asks, one copy per object to fix) with bounded concurrency, and turning
//! each result into a `Record`. Must not: decide what is wrong (that is `drift`) or print.

use crate::error::Error;
use crate::plan::repair::{self as drift, Expect, Sniff, Verdict};
use crate::report::{Action, Outcome, Record, Report};
use crate::run::cancel::Cancel;
use crate::settings::filter::Filter;
use crate::settings::rules::RuleSet;
use crate::store::{ObjectStore, StoreError};
use futures::StreamExt;
use std::time::Instant;

/// A validated repair.
#[derive(Clone, Debug)]
pub struct RepairOptions {
    /// The bucket (for the report).
    pub bucket: String,
    /// The key prefix: empty or ending with `/`.
    pub prefix: String,
    /// Report only; make no write request.
    pub dry_run: bool,
    /// `--fail-on-drift`: a dry run that finds something to repair exits 1.
    pub fail_on_drift: bool,
    /// Keys to leave alone (matched on the key relative to the prefix).
    pub filter: Filter,
    /// Requests in flight.
    pub concurrency: usize,
    /// The header rules (empty without a rules file).
    pub rules: RuleSet,
}

/// The note a report carries when the bucket keeps versions.
pub const VERSIONS_NOTE: &str =
    "the bucket keeps versions: older versions of repaired objects keep their old headers";

/// Repairs the headers of every object under the prefix. Fails as a whole only when the listing
/// fails; per-object failures are in the report.
pub async fn run<S: ObjectStore>(
    store: &S,
    opts: &RepairOptions,
    cancel: &Cancel,
    on_start: impl FnOnce(u64),
    on_record: &(dyn Fn(&Record) + Sync),
) -> Result<Report, Error> {
    let started = Instant::now();
    let listed = store
        .list(&opts.prefix)
        .await
        .map_err(|source| Error::Store {
            context: format!("listing s3://{}/{}", opts.bucket, opts.prefix),
            source,
        })?;
    let keys: Vec<String> = listed
        .into_iter()
        .map(|o| o.key)
        .filter(|k| {
            let rel = k.strip_prefix(&opts.prefix).unwrap_or(k);
            !opts.filter.is_excluded(rel)
        })
        .collect();
    on_start(keys.len() as u64);
    let (records, versioned) = repair_all(
        store,
        keys,
        opts.dry_run,
        opts.concurrency,
        |key| {
            let rel = key.strip_prefix(&opts.prefix).unwrap_or(key);
            (None, Expect::new(&opts.rules, rel))
        },
        cancel,
        on_record,
    )
    .await;
    Ok(Report {
        command: "repair",
        dry_run: opts.dry_run,
        bucket: opts.bucket.clone(),
        prefix: opts.prefix.clone(),
        records,
        notes: versioned
            .then(|| VERSIONS_NOTE.to_string())
            .into_iter()
            .collect(),
        fail_on_drift: opts.fail_on_drift,
        interrupted: cancel.signal(),
        halted: cancel.halted(),
        elapsed: started.elapsed(),
        ..Report::default()
    })
}

/// Repairs each of `keys` (at most `concurrency` at once). `judge` gives, per key, what the
/// rules expect and the body's first bytes when they are already known (sync: the local file
/// has the same bytes). Returns the records, sorted by key, and whether any object had a
/// version id.
pub async fn repair_all<S: ObjectStore>(
    store: &S,
    keys: Vec<String>,
    dry_run: bool,
    concurrency: usize,
    judge: impl Fn(&str) -> (Option<Sniff>, Expect),
    cancel: &Cancel,
    on_record: &(dyn Fn(&Record) + Sync),
) -> (Vec<Record>, bool) {
    let mut versioned = false;
    let mut records: Vec<Record> = futures::stream::iter(keys)
        .map(|key| {
            let (sniff, expect) = judge(&key);
            async move {
                if cancel.is_cancelled() {
                    let r = Record {
                        key,
                        action: Action::Repair,
                        reason: "not checked".into(),
                        bytes: 0,
                        content_type: None,
                        changes: Vec::new(),
                        outcome: Outcome::NotRun(cancel.reason()),
                        remains: None,
                    };
                    return (r, false);
                }
                repair_one(store, key, sniff, expect, dry_run, cancel).await
            }
        })
        .buffer_unordered(concurrency.max(1))
        .map(|(record, v)| {
            on_record(&record);
            versioned |= v;
            record
        })
        .collect()
        .await;
    records.sort_by(|a, b| a.key.cmp(&b.key));
    (records, versioned)
}

/// HEAD, sniff if needed, copy if needed. Returns the record and whether the object is versioned.
async fn repair_one<S: ObjectStore>(
    store: &S,
    key: String,
    known: Option<Sniff>,
    expect: Expect,
    dry_run: bool,
    cancel: &Cancel,
) -> (Record, bool) {
    let record = |action, reason: String, changes, outcome| Record {
        key: key.clone(),
        action,
        reason,
        bytes: 0,
        content_type: None,
        changes,
        outcome,
        remains: None,
    };
    let head = match store.head(&key, None).await {
        Ok(h) => h,
        Err(StoreError::NotFound) => {
            let why = "deleted since it was listed".to_string();
            return (
                record(Action::Skip, why.clone(), vec![], Outcome::Skipped(why)),
                false,
            );
        }
        Err(StoreError::BadRequest(m)) => {
            let why = format!(
                "the store refused to describe it ({m}); objects encrypted with a customer key \
                 (SSE-C) cannot be read without it"
            );
            return (
                record(Action::Skip, why.clone(), vec![], Outcome::Skipped(why)),
                false,
            );
        }
        Err(e) => {
            // Expired credentials or a denied read: every further object would fail too.
            cancel.halt_on(&e, &format!("reading the headers of {key}"));
            return (
                record(
                    Action::Repair,
                    "reading its headers".into(),
                    vec![],
                    Outcome::Failed(e.to_string()),
                ),
                false,
            );
        }
    };
    let versioned = head.version_id.is_some();
    let sniff = match known {
        Some(s) => Some(s),
        None if drift::needs_sniff(&key, &head, &expect) => {
            let len = head.content_length.min(drift::SNIFF_BYTES);
            match store.read_prefix(&key, len).await {
                Ok(bytes) => Some(Sniff::from_prefix(bytes, head.content_length <= len)),
                Err(e) => {
                    cancel.halt_on(&e, &format!("reading the first bytes of {key}"));
                    let outcome = Outcome::Failed(format!("reading its first bytes: {e}"));
                    return (
                        record(Action::Repair, "checking its body".into(), vec![], outcome),
                        versioned,
                    );
                }
            }
        }
        None => None,
    };
    let mut r = match drift::assess(&key, &head, sniff.as_ref(), &expect) {
        Verdict::Right => record(Action::Skip, "headers right".into(), vec![], Outcome::Ok),
        Verdict::Unfixable { changes, reason } => {
            let line = describe(&changes);
            record(Action::Repair, line, changes, Outcome::Skipped(reason))
        }
        Verdict::Fix {
            changes,
            copy,
            remains,
        } => {
            let line = describe(&changes);
            let outcome = if dry_run {
                Outcome::Planned
            } else {
                match store.copy_in_place(&copy).await {
                    Ok(()) => Outcome::Ok,
                    Err(StoreError::PreconditionFailed) => Outcome::Skipped(
                        "changed since it was read; left as it is (run repair again)".into(),
                    ),
                    Err(e) => {
                        cancel.halt_on(&e, &format!("repairing {key}"));
                        Outcome::Failed(e.to_string())
                    }
                }
            };
            let mut r = record(Action::Repair, line, changes, outcome);
            if matches!(r.outcome, Outcome::Ok | Outcome::Planned) {
                r.remains = remains;
            }
            r
        }
    };
    r.bytes = head.content_length;
    (r, versioned)
}

fn describe(changes: &[drift::Change]) -> String {
    changes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::header::Header;
    use crate::report::ExitCode;
    use crate::store::ObjectHeaders;
    use crate::store::memory::MemoryStore;

    fn opts(dry_run: bool) -> RepairOptions {
        RepairOptions {
            bucket: "b".into(),
            prefix: "site/".into(),
            dry_run,
            fail_on_drift: true,
            filter: Filter::new(&["keep/**"]).expect("glob"),
            concurrency: 4,
            rules: RuleSet::default(),
        }
    }

    fn bad(content_type: &str, encoding: &str) -> ObjectHeaders {
        ObjectHeaders::default()
            .with(Header::ContentType, content_type)
            .with(Header::ContentEncoding, encoding)
            .with(Header::CacheControl, "max-age=60")
    }

    fn seeded() -> MemoryStore {
        let s = MemoryStore::default();
        s.insert_with("site/index.html", b"<p>hi</p>", bad("text/html", "UTF-8"));
        s.insert_with("site/s.css", b"body{}", bad("text/plain", "ANSI_X3.4-1968"));
        s.insert_with(
            "site/ok.css",
            b"a{}",
            ObjectHeaders::default().with(Header::ContentType, "text/css; charset=utf-8"),
        );
        s.insert_with("site/keep/x.css", b"x{}", bad("text/plain", "UTF-8"));
        s.insert_with("other/y.css", b"y{}", bad("text/plain", "UTF-8"));
        s
    }

    async fn run_on(s: &MemoryStore, o: &RepairOptions) -> Report {
        run(s, o, &Cancel::default(), |_| {}, &|_| {})
            .await
            .expect("run")
    }

    #[tokio::test]
    async fn fixes_drift_under_the_prefix_only_and_keeps_other_headers() {
        let s = seeded();
        let report = run_on(&s, &opts(false)).await;
        assert_eq!(
            s.write_log(),
            vec!["copy site/index.html", "copy site/s.css"]
        );
        let h = s.headers("site/s.css").expect("object");
        assert_eq!(h.content_type(), Some("text/css; charset=utf-8"));
        assert_eq!(h.content_encoding(), None);
        assert_eq!(h.get(Header::CacheControl), Some("max-age=60"));
        assert_eq!(
            s.headers("site/keep/x.css").expect("x").content_encoding(),
            Some("UTF-8")
        );
        assert_eq!(
            s.headers("other/y.css").expect("y").content_encoding(),
            Some("UTF-8")
        );
        let t = report.totals();
        assert_eq!((t.repaired, t.unchanged, t.failed), (2, 1, 0));
        assert_eq!(report.exit_code(), ExitCode::Ok);
        // A second run finds nothing to do.
        let again = run_on(&s, &opts(false)).await;
        assert_eq!(s.write_log().len(), 2);
        assert_eq!(again.totals().repaired, 0);
    }

    #[tokio::test]
    async fn dry_run_writes_nothing_and_fails_on_drift_when_asked() {
        let s = seeded();
        let report = run_on(&s, &opts(true)).await;
        assert!(s.write_log().is_empty());
        assert_eq!(report.totals().repaired, 2);
        assert_eq!(report.exit_code(), ExitCode::Failed);
        let mut o = opts(true);
        o.fail_on_drift = false;
        assert_eq!(run_on(&s, &o).await.exit_code(), ExitCode::Ok);
    }

    #[tokio::test]
    async fn an_object_changed_since_read_is_not_clobbered() {
        let s = seeded();
        s.overwrite_before_copy("site/s.css", b"new{}");
        let report = run_on(&s, &opts(false)).await;
        let r = report
            .records
            .iter()
            .find(|r| r.key == "site/s.css")
            .expect("record");
        assert!(matches!(r.outcome, Outcome::Skipped(_)), "{:?}", r.outcome);
        assert_eq!(s.body("site/s.css").as_deref(), Some(&b"new{}"[..]));
        assert_eq!(
            s.headers("site/s.css").expect("h").content_encoding(),
            Some("ANSI_X3.4-1968")
        );
        assert_eq!(report.exit_code(), ExitCode::Ok);
    }
}
