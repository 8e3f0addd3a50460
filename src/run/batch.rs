//! Writing an S3 Batch Operations plan as an audit goes (`repair --batch-plan DIR`): one CSV
//! manifest and one CreateJob request per group of objects that must get the same headers,
//! `direct.csv` for everything else, and `plan.md` for the person who submits it.
//!
//! Owns: the plan's files, written as records arrive (a group's keys are held only until it
//! is large enough to be a job), the MD5 of each manifest (its ETag once uploaded in one part)
//! and the job's idempotency token. Must not: decide routes or build a job's JSON (that is
//! `plan::batch`), or write to any bucket.

use crate::content::digest::Md5Stream;
use crate::content::placement::Acl;
use crate::plan::batch::{self, JobSpec, Route, Target};
use crate::plan::repair::Change;
use crate::report::{Outcome, Record};
use crate::run::keys::KeysFile;
use crate::settings::SettingsError;
use crate::store::{CopyInPlace, ObjectStore, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Distinct header sets held while they are too small to be jobs; beyond, new ones go direct.
const MAX_PENDING_GROUPS: usize = 10_000;

/// What `--batch-plan` was given.
#[derive(Clone, Debug)]
pub struct BatchOptions {
    /// Where the plan goes (created; must not hold files).
    pub dir: PathBuf,
    /// Groups smaller than this go direct.
    pub min_group: u64,
    /// The job settings.
    pub spec: JobSpec,
}

struct Pending {
    keys: Vec<String>,
    changes: Vec<Change>,
}

struct Job {
    target: Target,
    name: String,
    file: std::io::BufWriter<std::fs::File>,
    md5: Md5Stream,
    objects: u64,
    changes: Vec<Change>,
}

/// The plan being written.
pub struct Planner {
    opts: BatchOptions,
    pending: HashMap<Target, Pending>,
    jobs: Vec<Job>,
    job_of: HashMap<Target, usize>,
    direct: std::io::BufWriter<std::fs::File>,
    direct_objects: u64,
    direct_reasons: BTreeMap<String, u64>,
    failed: Option<std::io::Error>,
}

/// What a finished plan holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanSummary {
    /// Jobs written, with their object counts.
    pub jobs: Vec<(String, u64)>,
    /// Objects in `direct.csv`.
    pub direct: u64,
}

fn io_error(path: &Path, e: &std::io::Error) -> SettingsError {
    SettingsError::Usage(format!("--batch-plan {}: {e}", path.display()))
}

impl Planner {
    /// Creates the plan's folder (which must be new or empty) and `direct.csv`.
    pub fn create(opts: BatchOptions) -> Result<Planner, SettingsError> {
        let dir = &opts.dir;
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
        let used = std::fs::read_dir(dir)
            .map_err(|e| io_error(dir, &e))?
            .next()
            .is_some();
        if used {
            return Err(SettingsError::Usage(format!(
                "--batch-plan {}: the folder is not empty (a plan is written into a new one)",
                dir.display()
            )));
        }
        let path = dir.join("direct.csv");
        let direct = std::fs::File::create(&path).map_err(|e| io_error(&path, &e))?;
        Ok(Planner {
            opts,
            pending: HashMap::new(),
            jobs: Vec::new(),
            job_of: HashMap::new(),
            direct: std::io::BufWriter::new(direct),
            direct_objects: 0,
            direct_reasons: BTreeMap::new(),
            failed: None,
        })
    }

    fn keep(&mut self, r: std::io::Result<()>) {
        if let Err(e) = r {
            self.failed.get_or_insert(e);
        }
    }

    /// Takes an audited object: its repair `copy` (if it needs one) and its ACL.
    pub fn take(&mut self, r: &Record, copy: Option<&CopyInPlace>, acl: Option<&Acl>) {
        let Some(copy) = copy else {
            if let Outcome::Failed(e) = &r.outcome {
                self.send_direct(&r.key, &format!("not checked: {e}"));
            }
            return;
        };
        match batch::route(copy, acl) {
            Route::Direct(why) => self.send_direct(&r.key, &why),
            Route::Batch(t) => self.add_to_group(t, &r.key, &r.changes),
        }
    }

    fn send_direct(&mut self, key: &str, why: &str) {
        let row = format!(
            "{}{}\n",
            batch::manifest_row(&self.opts.spec.bucket, key).trim_end(),
            csv_field(why)
        );
        let r = self.direct.write_all(row.as_bytes());
        self.keep(r);
        self.direct_objects += 1;
        *self.direct_reasons.entry(why.to_string()).or_default() += 1;
    }

    fn add_to_group(&mut self, t: Target, key: &str, changes: &[Change]) {
        if let Some(&i) = self.job_of.get(&t) {
            self.write_row(i, key);
            return;
        }
        if !self.pending.contains_key(&t) && self.pending.len() >= MAX_PENDING_GROUPS {
            return self.send_direct(key, "one of too many distinct header sets");
        }
        let p = self.pending.entry(t.clone()).or_insert_with(|| Pending {
            keys: Vec::new(),
            changes: changes.to_vec(),
        });
        p.keys.push(key.to_string());
        if (p.keys.len() as u64) < self.opts.min_group {
            return;
        }
        let Some(p) = self.pending.remove(&t) else {
            return;
        };
        let name = format!("job-{:03}", self.jobs.len() + 1);
        let path = self.opts.dir.join(format!("{name}.csv"));
        match std::fs::File::create(&path) {
            Ok(f) => {
                self.job_of.insert(t.clone(), self.jobs.len());
                self.jobs.push(Job {
                    target: t,
                    name,
                    file: std::io::BufWriter::new(f),
                    md5: Md5Stream::new(),
                    objects: 0,
                    changes: p.changes,
                });
                let i = self.jobs.len() - 1;
                for k in &p.keys {
                    self.write_row(i, k);
                }
            }
            Err(e) => self.keep(Err(e)),
        }
    }

    fn write_row(&mut self, i: usize, key: &str) {
        let row = batch::manifest_row(&self.opts.spec.bucket, key);
        let job = &mut self.jobs[i];
        job.md5.update(row.as_bytes());
        job.objects += 1;
        let r = job.file.write_all(row.as_bytes());
        self.keep(r);
    }

    /// Moves the groups too small to be jobs to `direct.csv`, writes each job's request and
    /// `plan.md`. `audited` is how many objects the audit saw.
    pub fn finish(mut self, audited: u64) -> Result<PlanSummary, std::io::Error> {
        let small: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        for p in small {
            for k in &p.keys {
                self.send_direct(k, "in a group smaller than --batch-min-group");
            }
        }
        let r = self.direct.flush();
        self.keep(r);
        let spec = self.opts.spec.clone();
        let mut summary = PlanSummary {
            jobs: Vec::new(),
            direct: self.direct_objects,
        };
        let mut sections = Vec::new();
        for job in std::mem::take(&mut self.jobs) {
            let Job {
                target,
                name,
                mut file,
                md5,
                objects,
                changes,
            } = job;
            let r = file.flush();
            self.keep(r);
            let etag = hex::encode(md5.finish());
            let key = format!("{}{name}.csv", spec.report_prefix);
            let op = batch::operation(&target, &spec).to_string();
            let token = hex::encode(crate::content::digest::md5_of(
                format!("{etag}{op}").as_bytes(),
            ));
            let request = batch::create_job(&target, &spec, &key, &etag, objects, &token);
            let path = self.opts.dir.join(format!("{name}.json"));
            let text = serde_json::to_string_pretty(&request).unwrap_or_default() + "\n";
            let r = std::fs::write(&path, text);
            self.keep(r);
            sections.push(self.job_section(&name, objects, &changes, &target));
            summary.jobs.push((name, objects));
        }
        let md = self.plan_md(audited, &summary, &sections);
        let r = std::fs::write(self.opts.dir.join("plan.md"), md);
        self.keep(r);
        match self.failed.take() {
            Some(e) => Err(e),
            None => Ok(summary),
        }
    }

    fn job_section(&self, name: &str, objects: u64, changes: &[Change], t: &Target) -> String {
        let mut s = format!(
            "### {name}: {objects} objects\n\nEvery object gets exactly these headers (REPLACE; \
             what is not listed is removed):\n\n"
        );
        for (h, v) in &t.headers {
            s.push_str(&format!("- `{}: {v}`\n", h.name()));
        }
        for (k, v) in &t.metadata {
            s.push_str(&format!("- `x-amz-meta-{k}: {v}`\n"));
        }
        if let Some(c) = &t.storage_class {
            s.push_str(&format!("- storage class `{c}`\n"));
        }
        if let Some((alg, key, bk)) = &t.sse {
            s.push_str(&format!(
                "- encryption `{alg}`{}{}\n",
                key.as_deref()
                    .map(|k| format!(" key `{k}`"))
                    .unwrap_or_default(),
                if *bk { ", bucket key" } else { "" }
            ));
        }
        if let Some(a) = &t.canned_acl {
            s.push_str(&format!("- ACL `{a}`\n"));
        }
        s.push_str("\nFor the first object of the group, that changes:\n\n");
        for c in changes {
            s.push_str(&format!("- {c}\n"));
        }
        s.push_str(&format!(
            "\nEstimated cost: ${:.2} as a job, ${:.2} done directly.\n\n",
            batch::job_cost(objects),
            batch::direct_cost(objects)
        ));
        s
    }

    fn plan_md(&self, audited: u64, summary: &PlanSummary, sections: &[String]) -> String {
        let spec = &self.opts.spec;
        let dir = self.opts.dir.display();
        let in_jobs: u64 = summary.jobs.iter().map(|(_, n)| n).sum();
        let mut s = format!(
            "# s3site repair plan for s3://{}\n\nThe audit read {audited} objects. {in_jobs} \
             objects are in {} S3 Batch Operations job(s); {} are left to the direct path \
             (`direct.csv`). Nothing was written to the bucket.\n\n",
            spec.bucket,
            summary.jobs.len(),
            summary.direct
        );
        s.push_str(&format!(
            "Safety: a Batch copy cannot check an ETag. Each job skips objects modified since \
             the audit began ({}, `UnModifiedSinceConstraint`); that is weaker than the direct \
             path's if-match (an object rewritten within that second, or with its \
             Last-Modified set back, is not caught). Jobs wait for your confirmation in the \
             console{}.\n\n",
            spec.unmodified_since,
            if spec.confirm {
                ""
            } else {
                " — not this time: they were planned with --batch-no-confirm"
            }
        ));
        s.push_str("## Run it\n\n```sh\n");
        for (name, _) in &summary.jobs {
            s.push_str(&format!(
                "# one part, so the ETag is the MD5 the job file names\naws s3api put-object \
                 --bucket {} --key {}{name}.csv --body {dir}/{name}.csv\naws s3control \
                 create-job --cli-input-json file://{dir}/{name}.json\n",
                spec.report_bucket, spec.report_prefix
            ));
        }
        s.push_str(&format!(
            "# everything else, with s3site's if-match\ns3site repair s3://{} --keys-from \
             {dir}/direct.csv\n```\n\nCompletion reports go to s3://{}/{}reports/.\n\n",
            spec.bucket, spec.report_bucket, spec.report_prefix
        ));
        s.push_str("## Jobs\n\n");
        for sec in sections {
            s.push_str(sec);
        }
        s.push_str("## Direct\n\n| reason | objects |\n|---|---|\n");
        for (why, n) in &self.direct_reasons {
            s.push_str(&format!("| {why} | {n} |\n"));
        }
        s
    }
}

/// A CSV field after a comma, quoted when it needs to be.
fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!(",\"{}\"", v.replace('"', "\"\""))
    } else {
        format!(",{v}")
    }
}

/// What `--batch-verify` samples of one job: its name, its operation and some of its keys.
#[derive(Clone, Debug)]
pub struct JobSample {
    /// `job-NNN`.
    pub name: String,
    /// The job's `Operation`.
    pub operation: serde_json::Value,
    /// How many objects the job's manifest lists.
    pub objects: u64,
    /// The keys sampled, evenly spread over the manifest.
    pub keys: Vec<String>,
}

/// The jobs of the plan in `dir` with up to `per_job` keys of each, checked before any request:
/// every job must target `bucket`.
pub fn read_plan(dir: &Path, bucket: &str, per_job: u64) -> Result<Vec<JobSample>, SettingsError> {
    let bad = |what: &Path, why: String| {
        SettingsError::Usage(format!("--batch-verify: {}: {why}", what.display()))
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| bad(dir, e.to_string()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("job-") && n.ends_with(".json"))
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(bad(
            dir,
            "no job-NNN.json files: not a --batch-plan folder".into(),
        ));
    }
    let mut out = Vec::new();
    for name in names {
        let json = dir.join(format!("{name}.json"));
        let text = std::fs::read_to_string(&json).map_err(|e| bad(&json, e.to_string()))?;
        let job: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(&json, e.to_string()))?;
        let operation = job["Operation"].clone();
        let target = operation["S3PutObjectCopy"]["TargetResource"].as_str();
        if target != Some(format!("arn:aws:s3:::{bucket}").as_str()) {
            return Err(bad(&json, format!("its target is not bucket '{bucket}'")));
        }
        let csv = dir.join(format!("{name}.csv"));
        let f = KeysFile::open(&csv, bucket, "", None).map_err(|e| bad(&csv, e.to_string()))?;
        let objects = f.count;
        // Rows i·n/want for i < want: `want` keys spread evenly over the manifest.
        let want = per_job.clamp(1, objects.max(1));
        let (mut taken, mut next) = (0u64, 0u64);
        // Every row was checked by `open`: none is an error here.
        let keys = f
            .keys()
            .filter_map(Result::ok)
            .enumerate()
            .filter(|(row, _)| {
                let pick = *row as u64 == next;
                if pick {
                    taken += 1;
                    next = taken * objects / want;
                }
                pick
            })
            .map(|(_, key)| key)
            .collect();
        out.push(JobSample {
            name,
            operation,
            objects,
            keys,
        });
    }
    Ok(out)
}

/// One sampled object that does not have the job's headers: its key and how it differs.
pub type Mismatch = (String, Vec<String>);

/// HEADs the sampled keys of `job` (`concurrency` at once): the ones that do not have the
/// job's headers yet.
pub async fn verify<S: ObjectStore>(
    store: &S,
    job: &JobSample,
    concurrency: usize,
) -> Result<Vec<Mismatch>, StoreError> {
    use futures::StreamExt as _;
    let checks: Vec<Result<Option<Mismatch>, StoreError>> = futures::stream::iter(job.keys.iter())
        .map(|key| async move {
            match store.head(key, None).await {
                Ok(head) => {
                    let d = batch::differences(&job.operation, &head);
                    Ok((!d.is_empty()).then(|| (key.clone(), d)))
                }
                Err(StoreError::NotFound) => {
                    Ok(Some((key.clone(), vec!["deleted since the plan".into()])))
                }
                Err(e) => Err(e),
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    checks.into_iter().filter_map(Result::transpose).collect()
}
