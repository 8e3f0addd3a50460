//! The I/O a plan asks for: the sequence of a sync and a repair, with bounded concurrency, the
//! safe order of writes, and the stop flag that Ctrl-C, SIGTERM and fatal refusals set.
//!
//! Owns: the requests of a run and turning each result into a record, through a `Runner` that
//! holds what every step shares. Must not: decide what to do (that is `plan`) or print (records
//! go to the runner's sink).

pub mod batch;
pub mod cancel;
pub mod cdn;
pub mod execute;
pub mod frontier;
pub mod keys;
pub mod repair;
pub mod sync;

use crate::error::Error;
use crate::report::{Command, Outcome, Record, Report};
use crate::settings::filter::Filter;
use crate::settings::rules::RuleSet;
use crate::settings::url::S3Url;
use crate::store::StoreError;
use cancel::Cancel;
use std::time::Instant;

/// What every step of a run shares: the store, how many requests may be in flight, the stop
/// flag, and where each record goes as soon as it is made.
pub struct Runner<'a, S> {
    /// The store.
    pub store: &'a S,
    /// Requests in flight at most (at least 1).
    pub concurrency: usize,
    /// Set when the run must start no more requests.
    pub cancel: &'a Cancel,
    sink: &'a (dyn Fn(&Record) + Sync),
}

// By hand: a derive would ask `S: Copy`, and the runner only holds references.
impl<S> Clone for Runner<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Runner<'_, S> {}

impl<'a, S> Runner<'a, S> {
    /// A runner over `store`; `sink` sees every record as it is made.
    pub fn new(
        store: &'a S,
        concurrency: usize,
        cancel: &'a Cancel,
        sink: &'a (dyn Fn(&Record) + Sync),
    ) -> Runner<'a, S> {
        Runner {
            store,
            concurrency: concurrency.max(1),
            cancel,
            sink,
        }
    }

    /// Hands `r` to the sink, and returns it for the report.
    pub fn record(&self, r: Record) -> Record {
        (self.sink)(&r);
        r
    }

    /// The outcome of an action not started because the run was stopped.
    pub fn not_run(&self) -> Outcome {
        Outcome::NotRun(self.cancel.reason())
    }
}

/// Where a run works and how: what sync and repair are both given.
#[derive(Clone, Debug)]
pub struct Scope {
    /// The bucket and prefix.
    pub url: S3Url,
    /// Write nothing; report what would be done.
    pub dry_run: bool,
    /// Keys (relative to the prefix) left alone.
    pub filter: Filter,
    /// The header rules (empty without a rules file).
    pub rules: RuleSet,
}

impl Scope {
    /// The error of a listing that failed: the run stops, and nothing is deleted.
    pub fn listing_failed(&self, source: StoreError) -> Error {
        Error::Store {
            context: format!("listing {}", self.url),
            source,
        }
    }

    /// The report of a run of `command` that began at `started`.
    pub fn report(
        &self,
        command: Command,
        records: Vec<Record>,
        cancel: &Cancel,
        started: Instant,
    ) -> Report {
        Report {
            command,
            dry_run: self.dry_run,
            bucket: self.url.bucket.clone(),
            prefix: self.url.prefix.clone(),
            records,
            interrupted: cancel.signal(),
            halted: cancel.halted(),
            elapsed: started.elapsed(),
            ..Report::default()
        }
    }
}
