//! `repair` from start to end, and the per-object repair `sync --repair` shares: HEAD, read the
//! first bytes when the verdict needs them, and rewrite the headers in place.
//!
//! Owns: the requests of a repair (one listing, a HEAD per object, a ranged GET only when
//! `plan::repair::needs_sniff` asks, one copy per object to fix) with bounded concurrency, and
//! turning each result into a `Record`. Must not: decide what is wrong (that is `plan::repair`)
//! or print.

use crate::content::placement::Acl;
use crate::error::Error;
use crate::plan::repair::{self as verdicts, Expect, Sniff, Verdict};
use crate::report::{Action, Command, Outcome, Reason, Record, Report, Totals};
use crate::run::batch::Planner;
use crate::run::frontier::Frontier;
use crate::run::keys::Candidate;
use crate::run::{Runner, Scope};
use crate::store::{CopyInPlace, ObjectHead, ObjectStore, StoreError};
use futures::{Stream, StreamExt};
use std::sync::Mutex;
use std::time::Instant;

/// A validated repair.
#[derive(Clone, Debug)]
pub struct RepairOptions {
    /// Where, and how.
    pub scope: Scope,
    /// `--fail-on-drift`: a dry run that finds something to repair exits 1.
    pub fail_on_drift: bool,
    /// Keep every record in the report (`--output json`); otherwise records are handed to the
    /// sink and counted, not kept.
    pub keep_all: bool,
    /// Keep the records of repaired objects (an invalidation needs their keys).
    pub keep_repaired: bool,
    /// `--max-objects`: stop after handing out this many keys.
    pub max_objects: Option<u64>,
    /// `--assume-utf8`: take text whose type lacks a charset for UTF-8 without reading it.
    pub assume_utf8: bool,
    /// `--start-after`: the key the run goes on after (also where the frontier starts).
    pub start_after: Option<String>,
}

/// The note a report carries when the bucket keeps versions.
pub const VERSIONS_NOTE: &str =
    "the bucket keeps versions: older versions of repaired objects keep their old headers";

/// Repairs the headers of every object `keys` yields (a listing, a file, an inventory), in
/// that order, `run.concurrency` at once, as the keys arrive: memory does not grow with the
/// number of keys, except for the records `opts` keeps. `on_start` is called before the first
/// request. A failing key source stops the run (what was done is in the report, with where to
/// go on).
pub async fn run<S: ObjectStore>(
    run: Runner<'_, S>,
    opts: &RepairOptions,
    keys: impl Stream<Item = Result<Candidate, StoreError>>,
    mut planner: Option<&mut Planner>,
    on_start: impl FnOnce(),
) -> Result<Report, Error> {
    let started = Instant::now();
    let scope = &opts.scope;
    on_start();
    let source_error: Mutex<Option<StoreError>> = Mutex::new(None);
    let frontier = Mutex::new(Frontier::after(opts.start_after.clone()));
    let mut tally = Tally::default();
    let limit = opts.max_objects.map_or(usize::MAX, |n| n as usize);
    let plan = planner.is_some();
    let work = keys
        .take_while(|item| {
            if let Err(e) = item {
                *lock(&source_error) = Some(e.clone());
            }
            std::future::ready(item.is_ok())
        })
        .filter_map(|item| {
            let c = item
                .ok()
                .filter(|c| !scope.filter.is_excluded(scope.url.rel(&c.key)));
            std::future::ready(c)
        })
        .take(limit)
        .take_while(|_| std::future::ready(!run.cancel.is_cancelled()))
        .map(|c| {
            let seq = lock(&frontier).issue();
            async move { (seq, check(run, opts, c, plan).await) }
        })
        .buffer_unordered(run.concurrency)
        .for_each(|(seq, c)| {
            lock(&frontier).finish(seq, &c.record.key, !c.record.outcome.to_do_again());
            if let Some(p) = planner.as_deref_mut() {
                p.take(&c.record, c.fix.as_deref(), c.acl.as_ref());
            }
            tally.take(run, opts, c.record, c.versioned);
            std::future::ready(())
        });
    work.await;
    let source_error = lock(&source_error).take();
    if let Some(e) = &source_error {
        run.cancel.halt_on(e, "listing");
    }
    let frontier = frontier.into_inner().unwrap_or_else(|e| e.into_inner());
    let hit_limit = opts.max_objects.is_some() && frontier.issued() >= limit as u64;
    let ended_early = run.cancel.is_cancelled() || source_error.is_some() || hit_limit;
    let mut kept = tally.kept;
    kept.sort_by(|a, b| a.key.cmp(&b.key));
    let mut report = scope.report(Command::Repair, kept, run.cancel, started);
    report.counted = tally.counted;
    report.resume_after = ended_early.then(|| frontier.through().unwrap_or_default().to_string());
    report.listing_failed = source_error
        .filter(|e| !e.is_configuration())
        .map(|e| e.to_string());
    report.notes = tally
        .versioned
        .then(|| VERSIONS_NOTE.to_string())
        .into_iter()
        .collect();
    report.fail_on_drift = opts.fail_on_drift;
    Ok(report)
}

/// What a streamed repair keeps of its results: the totals of the records it does not keep,
/// the ones it keeps, and whether any object was versioned.
#[derive(Default)]
struct Tally {
    counted: Totals,
    kept: Vec<Record>,
    versioned: bool,
}

impl Tally {
    /// Takes one record: to the sink, then kept or counted.
    fn take<S>(&mut self, run: Runner<'_, S>, opts: &RepairOptions, r: Record, versioned: bool) {
        self.versioned |= versioned;
        let r = run.record(r);
        if opts.keep_all || (opts.keep_repaired && r.action == Action::Repair) {
            self.kept.push(r);
        } else {
            self.counted.count(&r);
        }
    }
}

/// What checking one object gave.
struct Checked {
    record: Record,
    versioned: bool,
    /// The copy that repairs it, in a dry run (for a Batch plan).
    fix: Option<Box<CopyInPlace>>,
    /// Its ACL, when a Batch plan needs it.
    acl: Option<Acl>,
}

/// One candidate's record: left alone when its source said so, else repaired (or, in a dry
/// run, planned). With `plan` (a Batch plan), the copy and the object's ACL come along.
async fn check<S: ObjectStore>(
    run: Runner<'_, S>,
    opts: &RepairOptions,
    c: Candidate,
    plan: bool,
) -> Checked {
    if let Some(why) = c.skip {
        let record = left_alone(&c.key, Reason::NotChecked, why);
        return Checked {
            record,
            versioned: false,
            fix: None,
            acl: None,
        };
    }
    let scope = &opts.scope;
    let rel = crate::content::key::rules_path(scope.url.rel(&c.key));
    let expect = Expect::new(&scope.rules, &rel);
    let (mut record, versioned, fix) =
        repair_one(run, c.key, None, expect, scope.dry_run, opts.assume_utf8).await;
    let mut acl = None;
    if plan && fix.is_some() {
        match run.store.acl(&record.key).await {
            Ok(grants) => acl = grants.map(Acl::Grants),
            Err(e) => {
                record.outcome = Outcome::Failed(format!("reading its ACL: {e}"));
                return Checked {
                    record,
                    versioned,
                    fix: None,
                    acl: None,
                };
            }
        }
    }
    Checked {
        record,
        versioned,
        fix,
        acl,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The record of an object left alone for `why` without a request.
fn left_alone(key: &str, reason: Reason, why: String) -> Record {
    Record::new(key, Action::Unchanged, reason, Outcome::Skipped(why))
}

/// Repairs each of `keys` (at most the runner's concurrency at once). `judge` gives, per key,
/// what the rules expect and the body's first bytes when they are already known (sync: the
/// local file has the same bytes). Returns the records, sorted by key, and whether any object
/// had a version id.
pub async fn repair_all<S: ObjectStore>(
    run: Runner<'_, S>,
    keys: Vec<String>,
    dry_run: bool,
    judge: impl Fn(&str) -> (Option<Sniff>, Expect),
) -> (Vec<Record>, bool) {
    let mut versioned = false;
    let mut records: Vec<Record> = futures::stream::iter(keys)
        .map(|key| {
            let (sniff, expect) = judge(&key);
            async move {
                if run.cancel.is_cancelled() {
                    let r = Record::new(&key, Action::Repair, Reason::NotChecked, run.not_run());
                    return (r, false);
                }
                let (r, v, _) = repair_one(run, key, sniff, expect, dry_run, false).await;
                (r, v)
            }
        })
        .buffer_unordered(run.concurrency)
        .map(|(record, v)| {
            versioned |= v;
            run.record(record)
        })
        .collect()
        .await;
    records.sort_by(|a, b| a.key.cmp(&b.key));
    (records, versioned)
}

/// HEAD, sniff if needed, copy if needed. Returns the record and whether the object is versioned.
async fn repair_one<S: ObjectStore>(
    run: Runner<'_, S>,
    key: String,
    known: Option<Sniff>,
    expect: Expect,
    dry_run: bool,
    assume_utf8: bool,
) -> (Record, bool, Option<Box<CopyInPlace>>) {
    let head = match read_head(run, &key).await {
        Ok(h) => h,
        Err(r) => return (r, false, None),
    };
    let versioned = head.version_id.is_some();
    let known = known.or_else(|| {
        assume_utf8
            .then(|| verdicts::assumed_utf8(&key, &head, &expect))
            .flatten()
    });
    let mut read = 0;
    let sniff = match known {
        Some(s) => Some(s),
        None => match sniff_if_needed(run, &key, &head, &expect, &mut read).await {
            Ok(s) => s,
            Err(r) => return (r, versioned, None),
        },
    };
    let verdict = verdicts::assess(&key, &head, sniff.as_ref(), &expect);
    let fix = match &verdict {
        Verdict::Fix { copy, .. } if dry_run => Some(copy.clone()),
        _ => None,
    };
    let mut r = carry_out(run, &key, verdict, dry_run).await;
    r.bytes = head.content_length;
    r.read = read;
    (r, versioned, fix)
}

/// The object's HEAD, or the record of why there is none.
async fn read_head<S: ObjectStore>(run: Runner<'_, S>, key: &str) -> Result<ObjectHead, Record> {
    let left_alone = |reason: Reason| {
        let why = reason.text(&[]);
        Record::new(key, Action::Unchanged, reason, Outcome::Skipped(why))
    };
    match run.store.head(key, None).await {
        Ok(h) => Ok(h),
        Err(StoreError::NotFound) => Err(left_alone(Reason::Gone)),
        Err(StoreError::BadRequest(m)) => Err(left_alone(Reason::Undescribable(m))),
        Err(e) => Err(failed(
            run,
            key,
            Reason::ReadingHeaders,
            &format!("reading the headers of {key}"),
            e.to_string(),
            &e,
        )),
    }
}

/// The first bytes of the object, when the verdict needs them; or the record of the failure.
async fn sniff_if_needed<S: ObjectStore>(
    run: Runner<'_, S>,
    key: &str,
    head: &ObjectHead,
    expect: &Expect,
    read: &mut u64,
) -> Result<Option<Sniff>, Record> {
    if !verdicts::needs_sniff(key, head, expect) {
        return Ok(None);
    }
    let len = head.content_length.min(verdicts::SNIFF_BYTES);
    match run.store.read_prefix(key, len).await {
        Ok(bytes) => {
            *read = bytes.len() as u64;
            Ok(Some(Sniff::from_prefix(bytes, head.content_length <= len)))
        }
        Err(e) => Err(failed(
            run,
            key,
            Reason::CheckingBody,
            &format!("reading the first bytes of {key}"),
            format!("reading its first bytes: {e}"),
            &e,
        )),
    }
}

/// The record of a request about `key` that failed with `e` while `doing`. Expired credentials
/// or a denied read stop the run: every further object would fail too.
fn failed<S>(
    run: Runner<'_, S>,
    key: &str,
    reason: Reason,
    doing: &str,
    message: String,
    e: &StoreError,
) -> Record {
    run.cancel.halt_on(e, doing);
    Record::new(key, Action::Repair, reason, Outcome::Failed(message))
}

/// What the verdict asks: nothing, a skip with the reason, or the copy (unless a dry run).
async fn carry_out<S: ObjectStore>(
    run: Runner<'_, S>,
    key: &str,
    verdict: Verdict,
    dry_run: bool,
) -> Record {
    match verdict {
        Verdict::Right => Record::new(key, Action::Unchanged, Reason::HeadersRight, Outcome::Ok),
        Verdict::Unfixable { changes, reason } => Record {
            changes,
            ..Record::new(
                key,
                Action::Repair,
                Reason::HeadersWrong,
                Outcome::Skipped(reason),
            )
        },
        Verdict::Fix {
            changes,
            copy,
            remains,
        } => {
            let outcome = if dry_run {
                Outcome::Planned
            } else {
                match run.store.copy_in_place(&copy).await {
                    Ok(()) => Outcome::Ok,
                    Err(StoreError::PreconditionFailed) => Outcome::Skipped(
                        "changed since it was read; left as it is (run repair again)".into(),
                    ),
                    Err(e) => {
                        run.cancel.halt_on(&e, &format!("repairing {key}"));
                        Outcome::Failed(e.to_string())
                    }
                }
            };
            let done = matches!(outcome, Outcome::Ok | Outcome::Planned);
            Record {
                changes,
                remains: remains.filter(|_| done),
                ..Record::new(key, Action::Repair, Reason::HeadersWrong, outcome)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::header::Header;
    use crate::report::ExitCode;
    use crate::run::cancel::Cancel;
    use crate::settings::filter::Filter;
    use crate::settings::rules::RuleSet;
    use crate::settings::url::S3Url;
    use crate::store::ObjectHeaders;
    use crate::store::memory::MemoryStore;

    fn opts(dry_run: bool) -> RepairOptions {
        RepairOptions {
            keep_all: true,
            keep_repaired: false,
            max_objects: None,
            assume_utf8: false,
            start_after: None,
            scope: Scope {
                url: S3Url::parse("s3://b/site/").expect("url"),
                dry_run,
                filter: Filter::new(&["keep/**"]).expect("glob"),
                rules: RuleSet::default(),
            },
            fail_on_drift: true,
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
        let keys = crate::run::keys::listing(s, &o.scope.url.prefix, o.start_after.as_deref(), 3)
            .await
            .expect("listing");
        run(
            Runner::new(s, 4, &Cancel::default(), &|_| {}),
            o,
            keys,
            None,
            || {},
        )
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

    #[tokio::test]
    async fn a_stopped_run_says_where_to_go_on_and_going_on_repeats_nothing() {
        let s = MemoryStore::default();
        for i in 0..40 {
            let key = format!("site/d{}/p{i:02}.css", i % 3);
            s.insert_with(&key, b"a{}", bad("text/plain", "UTF-8"));
        }
        s.list_like(7, false);
        let mut o = opts(false);
        o.keep_all = false;
        let cancel = Cancel::default();
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let sink = |_: &Record| {
            if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 9 {
                cancel.cancel();
            }
        };
        let keys = crate::run::keys::listing(&s, "site/", None, 3)
            .await
            .expect("l");
        let first = run(Runner::new(&s, 4, &cancel, &sink), &o, keys, None, || {})
            .await
            .expect("run");
        assert!(first.records.is_empty(), "records are counted, not kept");
        let done = first.totals().repaired;
        assert!((10..=13).contains(&done), "{done}");
        let through = first.resume_after.clone().expect("where to go on");
        assert_eq!(s.write_log().len(), done);
        o.start_after = Some(through.clone());
        let second = run_on(&s, &o).await;
        assert_eq!(second.resume_after, None);
        assert_eq!(second.totals().repaired, 40 - done);
        assert_eq!(
            second.totals().unchanged,
            0,
            "nothing done before was checked again"
        );
        let log = s.write_log();
        let mut unique = log.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((log.len(), unique.len()), (40, 40));
        assert!(
            log[..done]
                .iter()
                .all(|l| l.as_str() <= format!("copy {through}").as_str())
        );
    }

    #[tokio::test]
    async fn max_objects_stops_and_assume_utf8_reads_nothing() {
        let s = seeded();
        let mut o = opts(true);
        o.max_objects = Some(2);
        let r = run_on(&s, &o).await;
        let t = r.totals();
        assert_eq!(t.repaired + t.unchanged, 2);
        assert_eq!(r.resume_after.as_deref(), Some("site/ok.css"));
        assert!(
            t.bytes_read > 0,
            "text without a charset is read to check UTF-8"
        );
        o.max_objects = None;
        o.assume_utf8 = true;
        let r = run_on(&s, &o).await;
        assert_eq!(r.totals().bytes_read, 0);
        assert_eq!(r.totals().repaired, 2);
    }
}
