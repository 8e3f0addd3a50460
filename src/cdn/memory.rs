//! An in-memory CDN for unit tests: distributions, the invalidations created, and failures to
//! inject.

use super::{Cdn, CdnError, Created, Distribution};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A CDN in memory.
#[derive(Debug, Default)]
pub struct MemoryCdn {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    distributions: BTreeMap<String, Distribution>,
    /// (distribution, reference, paths) of every invalidation, in order.
    created: Vec<(String, String, Vec<String>)>,
    /// Requests to refuse with TooManyInProgress before accepting.
    busy: usize,
    wildcards_in_progress: usize,
}

impl MemoryCdn {
    /// Adds a distribution.
    pub fn add(&self, d: Distribution) {
        self.lock().distributions.insert(d.id.clone(), d);
    }

    /// The next `n` invalidations are refused as TooManyInvalidationsInProgress.
    pub fn busy_for(&self, n: usize) {
        self.lock().busy = n;
    }

    /// Pretends `n` wildcard paths are in progress.
    pub fn with_wildcards_in_progress(&self, n: usize) {
        self.lock().wildcards_in_progress = n;
    }

    /// Every invalidation created: (distribution, paths).
    pub fn created(&self) -> Vec<(String, Vec<String>)> {
        self.lock()
            .created
            .iter()
            .map(|(d, _, p)| (d.clone(), p.clone()))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Cdn for MemoryCdn {
    async fn distribution(&self, id: &str) -> Result<Distribution, CdnError> {
        self.lock()
            .distributions
            .get(id)
            .cloned()
            .ok_or_else(|| CdnError::NoSuchDistribution(id.to_string()))
    }

    async fn wildcards_in_progress(&self, _id: &str) -> Result<usize, CdnError> {
        Ok(self.lock().wildcards_in_progress)
    }

    async fn invalidate(
        &self,
        id: &str,
        paths: &[String],
        reference: &str,
    ) -> Result<Created, CdnError> {
        let mut s = self.lock();
        if !s.distributions.contains_key(id) {
            return Err(CdnError::NoSuchDistribution(id.to_string()));
        }
        if s.busy > 0 {
            s.busy -= 1;
            return Err(CdnError::TooManyInProgress("busy".into()));
        }
        let n = match s
            .created
            .iter()
            .position(|(d, r, _)| d == id && r == reference)
        {
            Some(n) => n,
            None => {
                s.created
                    .push((id.to_string(), reference.to_string(), paths.to_vec()));
                s.created.len() - 1
            }
        };
        Ok(Created {
            id: format!("I{n}"),
            status: "Completed".into(),
        })
    }

    async fn status(&self, _id: &str, _invalidation: &str) -> Result<String, CdnError> {
        Ok("Completed".into())
    }
}
