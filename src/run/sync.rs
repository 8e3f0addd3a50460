//! `sync` from start to end: hash and list at once, gather multipart evidence, plan, execute,
//! and (with `--repair`) repair the headers of what was unchanged.
//!
//! Owns: the sequence of a sync run and the requests that feed the planner (the listing, and a
//! HEAD for each object whose ETag cannot be compared from the listing). Must not: decide
//! anything itself (that is `plan`) or print (records go to the runner's sink).

use crate::content::etag::{self, ETag};
use crate::content::header::Header;
use crate::content::meta;
use crate::error::Error;
use crate::plan::repair::{Expect, Sniff};
use crate::plan::sync::UploadReason;
use crate::plan::sync::{
    self as planner, Evidence, MULTIPART_THRESHOLD, PART_SIZE, Plan, Unchanged,
};
use crate::report::{Action, Command, Outcome, Reason, Record, Report, Totals};
use crate::run::{Runner, Scope, execute, repair};
use crate::site::cache::{HashCache, Proof};
use crate::site::hash::{self, LocalFile, NotCompressed};
use crate::site::walk::{FoundFile, Source};
use crate::store::listing;
use crate::store::{Encryption, ObjectStore, Placement, RemoteObject, Website};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

/// A validated sync.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// The site folder and the prefix its keys go under (the prefix of `scope`'s URL).
    pub source: Arc<Source>,
    /// Where, and how.
    pub scope: Scope,
    /// Delete remote objects with no local file.
    pub delete: bool,
    /// Most deletes allowed.
    pub max_delete: Option<usize>,
    /// `--repair`: also fix the headers of unchanged objects in place.
    pub repair: bool,
    /// MD5s remembered from earlier runs (`HashCache::disabled()` with `--no-cache`).
    pub cache: Arc<HashCache>,
    /// What every upload sets (`--acl`, `--storage-class`, `--sse`).
    pub placement: Placement,
    /// Keep the ACL, storage class, encryption, tags and redirect of each object an upload
    /// replaces (unless `--no-keep`).
    pub keep: bool,
    /// `[website]`: the bucket's website configuration, set when it differs.
    pub website: Option<Website>,
    /// `[redirects]`: a path relative to DIR, and where it redirects.
    pub redirects: BTreeMap<String, String>,
    /// Keep a record of every unchanged file in the report (`--output json` lists them, and a
    /// CDN invalidation chooses its wildcards from every key); otherwise they are handed to the
    /// sink and counted, not kept (a record is about 200 bytes, and a large site is mostly
    /// unchanged files).
    pub keep_unchanged: bool,
}

/// Runs a sync of `files` (from `site::walk`); `on_start` is told how many actions the plan
/// has. Fails as a whole only when the source cannot be read or the listing fails; per-object
/// failures are in the report.
pub async fn run<S: ObjectStore>(
    run: Runner<'_, S>,
    files: Vec<FoundFile>,
    opts: &SyncOptions,
    on_start: impl FnOnce(crate::report::Planned),
) -> Result<Report, Error> {
    let started = Instant::now();
    let scope = &opts.scope;
    let redirects = redirect_keys(opts, &files)?;
    let also_kept: HashSet<String> = redirects.keys().cloned().collect();
    let files = with_codings(files, scope);
    let (mut local, remote) = hash_and_list(run.store, files, opts, started).await?;
    // The HEADs made for evidence, reused to learn what a replaced object keeps.
    let heads = Heads::default();
    let evidence = gather_evidence(run, &opts.source, &local, &remote, &heads).await;
    let plan_opts = planner::Options {
        source: &opts.source,
        delete: opts.delete,
        max_delete: opts.max_delete,
        filter: &scope.filter,
        rules: &scope.rules,
        placement: &opts.placement,
        also_kept: &also_kept,
    };
    let mut plan = planner::plan(&local, &remote, &evidence, &plan_opts);
    remember_proofs(opts, &mut local, &remote, &evidence, &plan);
    plan_redirects(run, &mut plan, &redirects, &remote, &plan_opts, &heads).await;
    if opts.keep && !scope.dry_run {
        keep_existing(run, &mut plan, &heads).await;
    }
    if !scope.dry_run {
        kms_default(run, &mut plan).await;
    }
    tracing::debug!(
        assets = plan.assets.len(),
        pages = plan.pages.len(),
        unchanged = plan.unchanged.len(),
        deletes = plan.deletes.len(),
        decided_by_head = evidence.len(),
        ms = started.elapsed().as_millis(),
        "planned"
    );
    on_start(crate::report::Planned {
        actions: (plan.unchanged.len() + plan.assets.len() + plan.pages.len() + plan.deletes.len())
            as u64,
        upload_bytes: plan
            .assets
            .iter()
            .chain(&plan.pages)
            .map(|u| u.put.size)
            .sum(),
    });
    // With --repair, unchanged objects are repaired (or found right) instead of just skipped.
    let (mut records, mut counted) = (Vec::new(), Totals::default());
    let unchanged = std::mem::take(&mut plan.unchanged);
    let unchanged = if opts.repair {
        unchanged
    } else {
        for u in &unchanged {
            let r = run.record(execute::unchanged_record(u));
            if opts.keep_unchanged {
                records.push(r);
            } else {
                counted.count(&r);
            }
        }
        Vec::new()
    };
    if scope.dry_run {
        records.extend(execute::dry_run(&plan).into_iter().map(|r| run.record(r)));
    } else {
        records.extend(execute::execute(run, &plan).await);
    }
    records.extend(collisions(run, &plan));
    let mut notes: Vec<String> = plain_note(&plan, &local)
        .into_iter()
        .chain(renamed_note(&plan.renamed))
        .collect();
    if !unchanged.is_empty() {
        let (repairs, versioned) = repair_unchanged(run, unchanged, &local, scope).await;
        records.extend(repairs);
        if versioned {
            notes.push(repair::VERSIONS_NOTE.to_string());
        }
    }
    if let Some(want) = &opts.website {
        let all_ok = records
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Ok | Outcome::Planned));
        if let Some(r) = apply_website(run, want, scope.dry_run, all_ok).await {
            records.push(r);
        }
    }
    let mut report = scope.report(Command::Sync, records, run.cancel, started);
    report.counted = counted;
    report.delete_blocked = plan.delete_blocked;
    report.notes = notes;
    Ok(report)
}

/// The keys of `[redirects]` under the prefix, and their targets; a path that is also a file in
/// DIR is an error naming both, before any request.
fn redirect_keys(
    opts: &SyncOptions,
    files: &[FoundFile],
) -> Result<BTreeMap<String, String>, Error> {
    let prefix = &opts.scope.url.prefix;
    let redirects: BTreeMap<String, String> = opts
        .redirects
        .iter()
        .map(|(rel, to)| (format!("{prefix}{rel}"), to.clone()))
        .collect();
    if let Some(f) = files.iter().find(|f| redirects.contains_key(&f.key)) {
        return Err(crate::settings::SettingsError::Usage(format!(
            "[redirects] '{}' is also a file in the site folder ('{}'): remove one of the two",
            opts.scope.url.rel(&f.key),
            f.path(&opts.source).display()
        ))
        .into());
    }
    Ok(redirects)
}

/// Adds to the plan the redirect objects that are missing or redirect elsewhere (one HEAD per
/// redirect whose key lists), with the pages; the rest are unchanged.
async fn plan_redirects<S: ObjectStore>(
    run: Runner<'_, S>,
    plan: &mut Plan,
    redirects: &BTreeMap<String, String>,
    remote: &[RemoteObject],
    opts: &planner::Options<'_>,
    heads: &Heads,
) {
    let listed: HashSet<&str> = remote.iter().map(|r| r.key.as_str()).collect();
    let listed = &listed;
    let checked: Vec<(String, String, Option<UploadReason>)> =
        futures::stream::iter(redirects.iter())
            .map(|(key, target)| async move {
                let reason = if !listed.contains(key.as_str()) {
                    Some(UploadReason::New)
                } else {
                    match run.store.head(key, None).await {
                        Ok(h) => {
                            let same = h.content_length == 0
                                && h.headers.get(Header::WebsiteRedirect) == Some(target.as_str());
                            // Reused if the redirect is uploaded again and keeps what it had.
                            heads
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(key.clone(), h);
                            (!same).then_some(UploadReason::RedirectChanged)
                        }
                        Err(_) => Some(UploadReason::RedirectChanged),
                    }
                };
                (key.clone(), target.clone(), reason)
            })
            .buffer_unordered(run.concurrency)
            .collect()
            .await;
    for (key, target, reason) in checked {
        match reason {
            None => plan.unchanged.push(Unchanged { key, size: 0 }),
            Some(reason) => plan.pages.push(planner::Upload {
                put: planner::redirect_put(&key, &target, opts),
                reason,
                compress: None,
            }),
        }
    }
}

/// Sets the bucket's website configuration when it differs from `want` (after every upload
/// and delete succeeded; in a dry run, only says so). `None` when it is the same.
async fn apply_website<S: ObjectStore>(
    run: Runner<'_, S>,
    want: &Website,
    dry_run: bool,
    all_ok: bool,
) -> Option<Record> {
    let key = "(bucket website configuration)";
    let record = |outcome, changes| Record {
        changes,
        ..Record::new(key, Action::Website, Reason::WebsiteDiffers, outcome)
    };
    let now = match run.store.website().await {
        Ok(now) => now,
        Err(e) => {
            let outcome = Outcome::Failed(format!("reading it: {e}"));
            return Some(run.record(record(outcome, Vec::new())));
        }
    };
    let changes = crate::plan::website::diff(now.as_ref(), want);
    if changes.is_empty() {
        return None;
    }
    let outcome = if dry_run {
        Outcome::Planned
    } else if !all_ok {
        Outcome::NotRun("not set because an earlier action failed".into())
    } else {
        match run.store.put_website(want).await {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    };
    Some(run.record(record(outcome, changes)))
}

/// The files, each with the coding the rules compress it with.
fn with_codings(mut files: Vec<FoundFile>, scope: &Scope) -> Vec<FoundFile> {
    // Without a compress rule every answer is "none": asking costs 11 ms at 100,000 files,
    // before the first request.
    if !scope.rules.mentions_compress {
        return files;
    }
    for f in &mut files {
        f.compress = scope
            .rules
            .effective(&crate::content::key::rules_path(scope.url.rel(&f.key)))
            .headers
            .coding();
    }
    files
}

/// Hashes the files and lists the prefix at once (the local keys cut the listing into slices
/// listed at once: see `listing`).
async fn hash_and_list<S: ObjectStore>(
    store: &S,
    files: Vec<FoundFile>,
    opts: &SyncOptions,
    started: Instant,
) -> Result<(Vec<LocalFile>, Vec<RemoteObject>), Error> {
    let hashers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let scope = &opts.scope;
    let list_plan = listing::ListPlan::new(
        files.iter().map(|f| f.key.as_str()).collect(),
        store.list_page(),
    );
    // The listing is polled first, so its requests are out before the hashing's setup runs.
    let (remote, local) = tokio::join!(
        async {
            let r = listing::list(store, &scope.url.prefix, &list_plan).await;
            tracing::debug!(ms = started.elapsed().as_millis(), "listed");
            r
        },
        async {
            let r = hash::hash_all(
                opts.source.clone(),
                files,
                hashers,
                MULTIPART_THRESHOLD,
                PART_SIZE,
                opts.cache.clone(),
            )
            .await;
            tracing::debug!(ms = started.elapsed().as_millis(), "hashed");
            if let Ok(local) = &r {
                save_hashes(opts, local);
            }
            r
        }
    );
    let local = local?;
    let remote = remote.map_err(|e| scope.listing_failed(e))?;
    tracing::debug!(
        files = local.len(),
        objects = remote.len(),
        ms = started.elapsed().as_millis(),
        "hashed and listed"
    );
    Ok((local, remote))
}

/// For every upload that replaces an object, what that object had and the upload keeps: one
/// HEAD, and its ACL and tags where the store has any (nothing for new files or unchanged ones).
/// An object whose properties cannot be read is replaced with the flags' and rules' alone, and
/// the log says so.
async fn keep_existing<S: ObjectStore>(run: Runner<'_, S>, plan: &mut Plan, heads: &Heads) {
    let replaced = plan
        .assets
        .iter_mut()
        .chain(plan.pages.iter_mut())
        .filter(|u| u.reason != UploadReason::New);
    futures::stream::iter(replaced)
        .for_each_concurrent(run.concurrency, |u| async move {
            match kept(run.store, &u.put.key, heads).await {
                Ok(k) => planner::keep(&mut u.put, k),
                Err(e) => tracing::warn!(
                    key = %u.put.key,
                    error = %e,
                    "cannot read what the object it replaces has; uploading without keeping it"
                ),
            }
        })
        .await;
}

/// With uploads to make and no encryption of their own, asks the bucket's default (one request):
/// under SSE-KMS no ETag is the MD5, so each upload stores its MD5 for later runs to compare.
/// A bucket whose setting cannot be read is taken to have none.
async fn kms_default<S: ObjectStore>(run: Runner<'_, S>, plan: &mut Plan) {
    let plain = |u: &crate::plan::sync::Upload| u.put.placement.encryption == Encryption::None;
    if !plan.assets.iter().chain(&plan.pages).any(plain) {
        return;
    }
    match run.store.default_encryption().await {
        Ok(e) => planner::store_md5_under(plan, &e),
        Err(e) => tracing::debug!(error = %e, "cannot read the bucket's default encryption"),
    }
}

/// HEADs already made this run, by key (the object-level headers; a part's length aside).
type Heads = std::sync::Mutex<std::collections::HashMap<String, crate::store::ObjectHead>>;

/// What the object at `key` has that an upload replacing it keeps (its HEAD from `heads` when
/// the run already made it).
async fn kept<S: ObjectStore>(
    store: &S,
    key: &str,
    heads: &Heads,
) -> Result<planner::Kept, crate::store::StoreError> {
    let known = heads.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    let head = match known {
        Some(h) => h,
        None => store.head(key, None).await?,
    };
    let tagging = if head.tag_count > 0 {
        store.tagging(key).await?
    } else {
        None
    };
    Ok(planner::Kept {
        acl: store.acl(key).await?,
        storage_class: head.storage_class,
        encryption: head.encryption,
        tagging,
        website_redirect: head
            .headers
            .get(crate::content::header::Header::WebsiteRedirect)
            .map(str::to_string),
    })
}

/// A failed record for each file not uploaded because the store would keep it under another
/// file's key.
fn collisions<S>(run: Runner<'_, S>, plan: &Plan) -> Vec<Record> {
    plan.collisions
        .iter()
        .map(|(key, other)| {
            let outcome = Outcome::Failed(format!(
                "the store keeps this key as '{other}', which is another file's key: not \
                 uploaded, so that file is not overwritten (rename one of the two)"
            ));
            run.record(Record::new(
                key,
                Action::Upload,
                Reason::Upload(UploadReason::New),
                outcome,
            ))
        })
        .collect()
}

/// `--repair` on the objects the plan left unchanged: they have the local files' bytes, so the
/// files tell what each body is (no GET needed).
async fn repair_unchanged<S: ObjectStore>(
    run: Runner<'_, S>,
    unchanged: Vec<Unchanged>,
    local: &[LocalFile],
    scope: &Scope,
) -> (Vec<Record>, bool) {
    let by_key: BTreeMap<&str, &LocalFile> = local.iter().map(|l| (l.key.as_str(), l)).collect();
    let keys = unchanged.into_iter().map(|u| u.key).collect();
    repair::repair_all(run, keys, scope.dry_run, |key| {
        let sniff = by_key.get(key).map(|l| Sniff {
            prefix: match &l.compressed {
                Some(c) => c.first_bytes.as_slice().to_vec(),
                None => l.first_bytes.as_slice().to_vec(),
            },
            utf8: Some(l.is_utf8),
            decoded: true,
        });
        let rel = crate::content::key::rules_path(scope.url.rel(key));
        (sniff, Expect::new(&scope.rules, &rel))
    })
    .await
}

/// The warning for files whose key the store keeps under another name, if any.
fn renamed_note(renamed: &[(String, String)]) -> Option<String> {
    let (key, alias) = renamed.first()?;
    let more = match renamed.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Some(format!(
        "the store keeps '{key}' as '{alias}'{more}: compared with that object, which is never \
         deleted as a stray (rename such files to keys the store keeps as they are)"
    ))
}

/// The warning for uploads the rules compress that went up plain, if any.
fn plain_note(plan: &Plan, local: &[LocalFile]) -> Option<String> {
    let uploaded: std::collections::HashSet<&str> = plan
        .assets
        .iter()
        .chain(&plan.pages)
        .map(|u| u.put.key.as_str())
        .collect();
    let (mut formats, mut no_gain) = (Vec::new(), Vec::new());
    for l in local.iter().filter(|l| uploaded.contains(l.key.as_str())) {
        match l.not_compressed {
            Some(NotCompressed::Precompressed) => formats.push(l.key.as_str()),
            Some(NotCompressed::NoGain) => no_gain.push(l.key.as_str()),
            None => {}
        }
    }
    let sample = |v: &[&str]| {
        let mut s = v.iter().take(3).copied().collect::<Vec<_>>().join(", ");
        if v.len() > 3 {
            s.push_str(", ...");
        }
        s
    };
    let mut parts = Vec::new();
    if !formats.is_empty() {
        parts.push(format!(
            "{} already in a compressed format ({})",
            formats.len(),
            sample(&formats)
        ));
    }
    if !no_gain.is_empty() {
        parts.push(format!(
            "{} that compressing would not shrink ({})",
            no_gain.len(),
            sample(&no_gain)
        ));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "uploaded plain although a rule says compress: {}",
            parts.join("; ")
        )
    })
}

/// For every same-size file whose object's ETag the listing cannot decide, one HEAD (with
/// `partNumber=1`) to read a stored MD5 or learn the part size, and a re-hash of the local file
/// with that part size. A failed HEAD leaves the file undecided (it is uploaded).
async fn gather_evidence<S: ObjectStore>(
    run: Runner<'_, S>,
    source: &Source,
    local: &[LocalFile],
    remote: &[RemoteObject],
    heads: &Heads,
) -> BTreeMap<String, Evidence> {
    futures::stream::iter(planner::needing_evidence(local, remote))
        .map(|(l, r)| async move {
            let ev = evidence_for(run.store, l, l.path(source), &r, heads).await;
            (l.key.clone(), ev)
        })
        .buffer_unordered(run.concurrency)
        .filter_map(|(k, ev)| async move { ev.map(|e| (k, e)) })
        .collect()
        .await
}

/// Remembers, for each file a HEAD proved unchanged although the listing could not tell (its
/// ETag is not the MD5 of its bytes), the object's ETag and size in the hash cache: the next
/// run makes no HEAD for it while neither the file nor the object changes.
fn remember_proofs(
    opts: &SyncOptions,
    local: &mut [LocalFile],
    remote: &[RemoteObject],
    evidence: &BTreeMap<String, Evidence>,
    plan: &Plan,
) {
    if evidence.is_empty() {
        return;
    }
    let uploaded: HashSet<&str> = plan
        .assets
        .iter()
        .chain(&plan.pages)
        .map(|u| u.put.key.as_str())
        .collect();
    let by_key: HashMap<&str, &RemoteObject> = remote.iter().map(|r| (r.key.as_str(), r)).collect();
    let mut proved = 0usize;
    for l in local.iter_mut() {
        if l.cache_stamp.is_none()
            || !evidence.contains_key(&l.key)
            || uploaded.contains(l.key.as_str())
        {
            continue;
        }
        let Some(r) = by_key.get(l.key.as_str()) else {
            continue;
        };
        l.proof = Some(Box::new(Proof {
            etag: r.etag.clone(),
            size: r.size,
            coding: l.wire().coding,
        }));
        proved += 1;
    }
    if proved > 0 {
        opts.cache.mark_changed();
        save_hashes(opts, local);
        tracing::debug!(proved, "remembered what HEADs proved");
    }
}

/// Saves the hash cache from the hashed files; a cache that cannot be saved only costs the
/// next run its hashing again.
fn save_hashes(opts: &SyncOptions, local: &[LocalFile]) {
    let remembered = local
        .iter()
        .filter_map(|l| hash::remembered(&opts.source, l));
    if let Err(e) = opts.cache.save(remembered) {
        tracing::debug!(error = %e, "could not save the hash cache");
    }
}

async fn evidence_for<S: ObjectStore>(
    store: &S,
    l: &LocalFile,
    path: std::path::PathBuf,
    r: &RemoteObject,
    heads: &Heads,
) -> Option<Evidence> {
    // partNumber=1 teaches the part size of a multipart object; a compressed file only needs
    // the stored source MD5 and encoding.
    let multipart = matches!(r.etag, ETag::Multipart { .. });
    let head = match store.head(&r.key, multipart.then_some(1)).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(key = %r.key, error = %e, "HEAD failed; the file will be uploaded");
            return None;
        }
    };
    heads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(r.key.clone(), head.clone());
    let meta = &head.headers.metadata;
    let mut ev = Evidence {
        stored_md5: meta
            .get(meta::MD5_METADATA_KEY)
            .and_then(|v| etag::parse_stored_md5(v)),
        local_etag: None,
        source_md5: meta
            .get(meta::SOURCE_MD5_KEY)
            .and_then(|v| etag::parse_stored_md5(v)),
        content_encoding: head.headers.content_encoding().map(str::to_string),
    };
    if ev.stored_md5.is_some() || l.compressed.is_some() {
        return Some(ev);
    }
    let ETag::Multipart { parts, .. } = r.etag else {
        return Some(ev);
    };
    let part_size = head.content_length;
    if parts < 2 || part_size == 0 || etag::part_count(l.size, part_size) != u64::from(parts) {
        return Some(ev);
    }
    let md5s = tokio::task::spawn_blocking(move || hash::part_md5s(&path, part_size))
        .await
        .ok()?
        .ok()?;
    ev.local_etag = Some(ETag::multipart(&md5s));
    Some(ev)
}

#[cfg(test)]
mod tests;
