//! Runs a sync `Plan` against any `ObjectStore`, with bounded concurrency and the safe order.
//!
//! Owns: the order of writes — assets, then pages only if every asset succeeded, then deletes
//! only if every upload succeeded and the plan allows them — producing a compressed body before
//! its upload, and turning each request's result into a `Record`. Must not: decide what to
//! upload (that is `plan`) or know about S3 itself.

use crate::content::coding::Coding;
use crate::plan::sync::{Delete, Plan, Unchanged, Upload};
use crate::report::{Action, Outcome, Reason, Record};
use crate::run::Runner;
use crate::site::compress;
use crate::store::{ObjectStore, PutFile, StoreError};
use futures::StreamExt;
use std::collections::HashMap;

/// Most keys in one DeleteObjects request (S3's limit).
pub const DELETE_BATCH: usize = 1000;

/// The records of a plan that is not executed (`--dry-run`): every action `Planned`, deletes
/// `NotRun` when the plan blocks them (the unchanged files' records are the caller's:
/// [`unchanged_record`]).
pub fn dry_run(plan: &Plan) -> Vec<Record> {
    let mut out = Vec::new();
    for u in plan.assets.iter().chain(&plan.pages) {
        out.push(upload_record(u, Outcome::Planned));
    }
    let deletes = match &plan.delete_blocked {
        Some(why) => Outcome::NotRun(why.to_string()),
        None => Outcome::Planned,
    };
    out.extend(delete_records(plan, deletes));
    out
}

/// Executes `plan`, handing each record to the runner's sink as its action finishes, and
/// returns the record of every action (not of the unchanged files: [`unchanged_record`]).
/// Once the run is cancelled, no new request starts: what is in flight finishes, the rest is
/// `NotRun`, and nothing is deleted.
pub async fn execute<S: ObjectStore>(run: Runner<'_, S>, plan: &Plan) -> Vec<Record> {
    let mut out = Vec::new();
    let assets = upload_all(run, &plan.assets).await;
    let assets_ok = all_ok(&assets);
    out.extend(assets);
    if assets_ok {
        out.extend(upload_all(run, &plan.pages).await);
    } else {
        let why = if run.cancel.is_cancelled() {
            run.cancel.reason()
        } else {
            "not uploaded because an asset upload failed".to_string()
        };
        for u in &plan.pages {
            out.push(run.record(upload_record(u, Outcome::NotRun(why.clone()))));
        }
    }
    let blocked = match &plan.delete_blocked {
        Some(why) => Some(why.to_string()),
        None if run.cancel.is_cancelled() => Some(run.cancel.reason()),
        None if !all_ok(&out) => Some("not deleted because an upload failed".to_string()),
        None => None,
    };
    match blocked {
        Some(why) => {
            for r in delete_records(plan, Outcome::NotRun(why)) {
                out.push(run.record(r));
            }
        }
        None => out.extend(delete_all(run, plan).await),
    }
    out
}

fn all_ok(records: &[Record]) -> bool {
    records.iter().all(|r| r.outcome == Outcome::Ok)
}

async fn upload_all<S: ObjectStore>(run: Runner<'_, S>, uploads: &[Upload]) -> Vec<Record> {
    // Largest first: a big file started last would leave the phase waiting on it alone.
    let mut order: Vec<&Upload> = uploads.iter().collect();
    order.sort_by_key(|u| std::cmp::Reverse(u.put.size));
    futures::stream::iter(order)
        .map(|u| async move {
            let outcome = if run.cancel.is_cancelled() {
                run.not_run()
            } else {
                match upload(run.store, u).await {
                    Ok(()) => Outcome::Ok,
                    Err(Failure::Store(e)) => {
                        run.cancel.halt_on(&e, &format!("uploading {}", u.put.key));
                        Outcome::Failed(e.to_string())
                    }
                    Err(Failure::Local(e)) => Outcome::Failed(e),
                }
            };
            run.record(upload_record(u, outcome))
        })
        .buffer_unordered(run.concurrency)
        .collect()
        .await
}

/// Compressions running at once (one per core).
static COMPRESSING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// Why an upload failed: the store said no, or the local side could not produce the body.
enum Failure {
    Store(StoreError),
    Local(String),
}

/// Stores one file; a body the plan compresses is produced first into a temporary file.
async fn upload<S: ObjectStore>(store: &S, u: &Upload) -> Result<(), Failure> {
    let Some(coding) = u.compress else {
        return store.put_file(&u.put).await.map_err(Failure::Store);
    };
    let tmp = compressed_body(&u.put, coding).await?;
    let body = PutFile {
        path: tmp.path().to_path_buf(),
        ..u.put.clone()
    };
    let result = store.put_file(&body).await.map_err(Failure::Store);
    drop(tmp);
    result
}

/// The body of `put` compressed with `coding`, in a temporary file. Compression is
/// deterministic, so the body must have the size the plan was made with (and Content-MD5 then
/// enforces its MD5): another size means the file changed since it was hashed, and nothing is
/// sent.
async fn compressed_body(
    put: &PutFile,
    coding: Coding,
) -> Result<tempfile::NamedTempFile, Failure> {
    let src = put.path.clone();
    // One compression per core at a time: encoders are CPU-bound and brotli's take memory.
    let permit = COMPRESSING
        .acquire()
        .await
        .map_err(|e| Failure::Local(format!("compressing: {e}")))?;
    let tmp = tokio::task::spawn_blocking(move || compress::compress_to_temp(&src, coding))
        .await
        .map_err(|e| Failure::Local(format!("compressing: {e}")))?
        .map_err(|e| Failure::Local(format!("compressing {}: {e}", put.path.display())))?;
    drop(permit);
    let len = tmp.as_file().metadata().map(|m| m.len()).unwrap_or(0);
    if len != put.size {
        return Err(Failure::Local(format!(
            "the file changed since it was hashed ({} compressed bytes, {} expected); run again",
            len, put.size
        )));
    }
    Ok(tmp)
}

/// Deletes the plan's strays: first the ones that wait for a re-check, then the rest in
/// batches of `DELETE_BATCH`.
async fn delete_all<S: ObjectStore>(run: Runner<'_, S>, plan: &Plan) -> Vec<Record> {
    let held = recheck_strays(run, plan).await;
    let mut out = Vec::new();
    for d in plan
        .deletes
        .iter()
        .filter(|d| held.contains_key(d.key.as_str()))
    {
        let r = delete_record(&d.key, d.size, held[d.key.as_str()].clone());
        out.push(run.record(r));
    }
    let go: Vec<&Delete> = plan
        .deletes
        .iter()
        .filter(|d| !held.contains_key(d.key.as_str()))
        .collect();
    let batches = go
        .chunks(DELETE_BATCH)
        .map(|batch| delete_batch(run, batch));
    out.extend(
        futures::stream::iter(batches)
            .buffer_unordered(run.concurrency.min(4))
            .collect::<Vec<_>>()
            .await
            .concat(),
    );
    out
}

/// The strays held back, and why. A stray with the bytes of a file this run uploaded as new may
/// be that file under the name the store gave it: it is deleted only once the file lists back
/// under its own key.
async fn recheck_strays<'p, S: ObjectStore>(
    run: Runner<'_, S>,
    plan: &'p Plan,
) -> HashMap<&'p str, Outcome> {
    let checks = plan
        .deletes
        .iter()
        .filter_map(|d| d.recheck.as_ref().map(|c| (d, c)));
    futures::stream::iter(checks)
        .map(|(d, check)| async move {
            let outcome = if run.cancel.is_cancelled() {
                Some(run.not_run())
            } else {
                match run.store.list(&check.file).await {
                    Ok(listed) if listed.iter().any(|o| o.key == check.file) => None,
                    Ok(_) => {
                        tracing::warn!(
                            file = %check.file,
                            "uploaded, but it does not list under its own key: the store renamed it"
                        );
                        Some(Outcome::Skipped(format!(
                            "'{}' was uploaded but does not list under its own key: the store \
                             probably keeps it under this name; not deleted",
                            check.file
                        )))
                    }
                    Err(e) => Some(Outcome::Skipped(format!(
                        "could not check that it is not '{}' under another name ({e}); not \
                         deleted",
                        check.file
                    ))),
                }
            };
            (d.key.as_str(), outcome)
        })
        .buffer_unordered(run.concurrency)
        .filter_map(|(k, o)| async move { o.map(|o| (k, o)) })
        .collect()
        .await
}

/// One DeleteObjects request, and a record per key.
async fn delete_batch<S: ObjectStore>(run: Runner<'_, S>, batch: &[&Delete]) -> Vec<Record> {
    let keys: Vec<String> = batch.iter().map(|d| d.key.clone()).collect();
    let result = if run.cancel.is_cancelled() {
        Err(None)
    } else {
        run.store.delete_batch(&keys).await.map_err(|e| {
            run.cancel.halt_on(&e, "deleting");
            Some(e)
        })
    };
    batch
        .iter()
        .map(|d| {
            let outcome = match &result {
                Err(None) => run.not_run(),
                Err(Some(e)) => Outcome::Failed(e.to_string()),
                Ok(failures) => match failures.iter().find(|f| f.key == d.key) {
                    Some(f) => Outcome::Failed(f.message.clone()),
                    None => Outcome::Ok,
                },
            };
            run.record(delete_record(&d.key, d.size, outcome))
        })
        .collect()
}

/// The record of a file left alone.
pub fn unchanged_record(u: &Unchanged) -> Record {
    Record {
        bytes: u.size,
        ..Record::new(&u.key, Action::Unchanged, Reason::Unchanged, Outcome::Ok)
    }
}

fn upload_record(u: &Upload, outcome: Outcome) -> Record {
    Record {
        bytes: u.put.size,
        content_type: u.put.headers.content_type().map(str::to_string),
        ..Record::new(
            &u.put.key,
            Action::Upload,
            Reason::Upload(u.reason),
            outcome,
        )
    }
}

fn delete_records(plan: &Plan, outcome: Outcome) -> Vec<Record> {
    plan.deletes
        .iter()
        .map(|d| delete_record(&d.key, d.size, outcome.clone()))
        .collect()
}

fn delete_record(key: &str, size: u64, outcome: Outcome) -> Record {
    Record {
        bytes: size,
        ..Record::new(key, Action::Delete, Reason::NotInSource, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::digest::md5_of;
    use crate::content::header::Header;
    use crate::plan::sync::{Delete, DeleteBlocked, UploadReason};
    use crate::run::cancel::Cancel;
    use crate::store::PutFile;
    use crate::store::memory::MemoryStore;

    fn upload(dir: &std::path::Path, key: &str, body: &[u8]) -> Upload {
        let path = dir.join(key.replace('/', "_"));
        std::fs::write(&path, body).unwrap();
        Upload {
            put: PutFile {
                key: key.into(),
                path,
                size: body.len() as u64,
                md5: md5_of(body),
                headers: crate::store::ObjectHeaders::default().with(
                    Header::ContentType,
                    crate::content::media::content_type(key, true),
                ),
                multipart: None,
                placement: Default::default(),
            },
            reason: UploadReason::New,
            compress: None,
        }
    }

    fn del(key: &str) -> Delete {
        Delete {
            key: key.into(),
            size: 1,
            recheck: None,
        }
    }

    /// A store that keeps `new.txt` as `NEW.txt` (a rename s3site has no rule for): the
    /// object of an earlier run lists as a stray with the new file's bytes. After the upload,
    /// `new.txt` does not list under its own key, so the delete is held back. A plain move
    /// (the same bytes under a name the store keeps) is still deleted.
    #[tokio::test]
    async fn a_stray_rewritten_by_this_run_s_upload_is_not_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::default();
        store.rename_on_put("new.txt", "NEW.txt");
        store.insert("NEW.txt", b"same bytes");
        store.insert("moved-away.txt", b"moved");
        let mut moved = del("moved-away.txt");
        moved.recheck = Some(crate::plan::sync::Recheck {
            file: "moved.txt".into(),
        });
        let mut renamed = del("NEW.txt");
        renamed.recheck = Some(crate::plan::sync::Recheck {
            file: "new.txt".into(),
        });
        let plan = Plan {
            assets: vec![
                upload(dir.path(), "new.txt", b"same bytes"),
                upload(dir.path(), "moved.txt", b"moved"),
            ],
            deletes: vec![moved, renamed],
            ..Plan::default()
        };
        let records = run(&store, &plan).await;
        assert_eq!(store.body("NEW.txt").as_deref(), Some(&b"same bytes"[..]));
        assert_eq!(
            store.body("moved-away.txt"),
            None,
            "a plain move is deleted"
        );
        let held = records.iter().find(|r| r.key == "NEW.txt").unwrap();
        assert!(
            matches!(&held.outcome, Outcome::Skipped(why) if why.contains("'new.txt'")),
            "{held:?}"
        );
    }

    async fn run(store: &MemoryStore, plan: &Plan) -> Vec<Record> {
        execute(Runner::new(store, 4, &Cancel::default(), &|_| {}), plan).await
    }

    #[tokio::test]
    async fn after_an_interruption_nothing_new_starts_and_nothing_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::default();
        store.insert("old.html", b"o");
        let plan = Plan {
            assets: vec![
                upload(dir.path(), "a.css", b"a"),
                upload(dir.path(), "b.js", b"b"),
            ],
            pages: vec![upload(dir.path(), "index.html", b"<p>")],
            deletes: vec![del("old.html")],
            ..Plan::default()
        };
        let cancel = Cancel::default();
        // Interrupted while the first upload is being recorded: one runs at a time here.
        let records = execute(Runner::new(&store, 1, &cancel, &|_| cancel.cancel()), &plan).await;
        let outcomes: Vec<(&str, &Outcome)> = records
            .iter()
            .map(|r| (r.key.as_str(), &r.outcome))
            .collect();
        let not_run = Outcome::NotRun(crate::run::cancel::INTERRUPTED.into());
        assert_eq!(
            outcomes,
            [
                ("a.css", &Outcome::Ok),
                ("b.js", &not_run),
                ("index.html", &not_run),
                ("old.html", &not_run),
            ]
        );
        assert_eq!(store.write_log(), ["put a.css"]);
        assert!(store.body("old.html").is_some());
    }

    #[tokio::test]
    async fn uploads_assets_then_pages_then_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::default();
        store.insert("old.html", b"o");
        let plan = Plan {
            assets: vec![
                upload(dir.path(), "a.css", b"a"),
                upload(dir.path(), "b.js", b"b"),
            ],
            pages: vec![upload(dir.path(), "index.html", b"<p>")],
            deletes: vec![del("old.html")],
            ..Plan::default()
        };
        let records = run(&store, &plan).await;
        assert!(records.iter().all(|r| r.outcome == Outcome::Ok));
        let log = store.write_log();
        let page_at = log.iter().position(|w| w == "put index.html").unwrap();
        assert!(log[..page_at].contains(&"put a.css".to_string()));
        assert!(log[..page_at].contains(&"put b.js".to_string()));
        assert_eq!(log.last().unwrap(), "delete old.html");
        assert_eq!(store.body("index.html").unwrap(), b"<p>");
        assert!(store.body("old.html").is_none());
    }

    #[tokio::test]
    async fn a_failed_asset_holds_back_pages_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::default();
        store.insert("old.html", b"o");
        store.fail_puts_of("b.js");
        let plan = Plan {
            assets: vec![
                upload(dir.path(), "a.css", b"a"),
                upload(dir.path(), "b.js", b"b"),
            ],
            pages: vec![upload(dir.path(), "index.html", b"<p>")],
            deletes: vec![del("old.html")],
            ..Plan::default()
        };
        let records = run(&store, &plan).await;
        let outcome = |k: &str| &records.iter().find(|r| r.key == k).unwrap().outcome;
        assert_eq!(outcome("a.css"), &Outcome::Ok);
        assert!(matches!(outcome("b.js"), Outcome::Failed(_)));
        assert!(matches!(outcome("index.html"), Outcome::NotRun(_)));
        assert!(matches!(outcome("old.html"), Outcome::NotRun(_)));
        assert!(store.body("index.html").is_none());
        assert_eq!(store.body("old.html").unwrap(), b"o");
    }

    #[tokio::test]
    async fn blocked_deletes_never_reach_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::default();
        store.insert("x", b"x");
        let plan = Plan {
            assets: vec![upload(dir.path(), "a.css", b"a")],
            deletes: vec![del("x")],
            delete_blocked: Some(DeleteBlocked::TooMany { count: 1, max: 0 }),
            ..Plan::default()
        };
        let records = run(&store, &plan).await;
        assert!(matches!(
            records.last().unwrap().outcome,
            Outcome::NotRun(_)
        ));
        assert_eq!(store.body("x").unwrap(), b"x");
    }

    #[tokio::test]
    async fn deletes_go_in_batches_of_1000_with_per_key_errors() {
        let store = MemoryStore::default();
        let deletes: Vec<Delete> = (0..2500).map(|i| del(&format!("k{i:04}"))).collect();
        for d in &deletes {
            store.insert(&d.key, b"1");
        }
        store.fail_deletes_of("k1234");
        let plan = Plan {
            deletes,
            ..Plan::default()
        };
        let records = run(&store, &plan).await;
        assert_eq!(store.delete_requests(), 3);
        let failed: Vec<&str> = records
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .map(|r| r.key.as_str())
            .collect();
        assert_eq!(failed, ["k1234"]);
        assert_eq!(store.object_count(), 1);
    }

    /// A file the rules compress that changed after it was hashed compresses to another size:
    /// nothing is sent, and the record says why (Content-MD5 would refuse it too, but the
    /// store must not even see a request).
    #[tokio::test]
    async fn a_compressed_body_of_another_size_than_planned_is_never_sent() {
        let dir = tempfile::tempdir().unwrap();
        let text = "body { color: red }\n".repeat(50);
        let mut u = upload(dir.path(), "s.css", text.as_bytes());
        let path = u.put.path.clone();
        let gz = compress::compress_to_temp(&path, Coding::Gzip).unwrap();
        let planned = std::fs::read(gz.path()).unwrap();
        u.put.size = planned.len() as u64;
        u.put.md5 = md5_of(&planned);
        u.compress = Some(Coding::Gzip);
        // Compressed as planned: stored.
        let store = MemoryStore::default();
        let plan = Plan {
            assets: vec![u.clone()],
            ..Plan::default()
        };
        let records = run(&store, &plan).await;
        assert_eq!(records[0].outcome, Outcome::Ok);
        assert_eq!(store.body("s.css").unwrap(), planned);
        // Rewritten since it was hashed: not sent.
        std::fs::write(&path, text.replace("red", "a much longer colour name")).unwrap();
        let store = MemoryStore::default();
        let records = run(&store, &plan).await;
        assert!(
            matches!(&records[0].outcome, Outcome::Failed(e) if e.contains("changed since it was hashed")),
            "{:?}",
            records[0].outcome
        );
        assert!(store.write_log().is_empty(), "{:?}", store.write_log());
    }

    #[test]
    fn dry_run_records_plan_without_a_store() {
        let plan = Plan {
            deletes: vec![del("x")],
            delete_blocked: Some(DeleteBlocked::EmptySource),
            ..Plan::default()
        };
        let r = dry_run(&plan);
        assert!(matches!(r[0].outcome, Outcome::NotRun(_)));
    }
}
