//! An in-memory `ObjectStore` for planner and executor unit tests only (compiled under `cfg(test)`).
//!
//! Owns: a map of key → body and metadata, a log of write requests, and failures injected per key.
//! Must not: be used by integration tests, which talk to real S3-compatible servers.

use super::{DeleteFailure, ObjectHead, ObjectStore, PutFile, RemoteObject, StoreError};
use crate::etag::{ETag, md5_of};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

#[derive(Clone, Debug)]
struct Object {
    body: Vec<u8>,
    etag: ETag,
    content_type: String,
    metadata: BTreeMap<String, String>,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Object>,
    log: Vec<String>,
    fail_puts: BTreeSet<String>,
    fail_deletes: BTreeSet<String>,
    delete_requests: usize,
}

/// The in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts an object directly (not logged).
    pub fn insert(&self, key: &str, body: &[u8]) {
        self.lock().objects.insert(
            key.to_string(),
            Object {
                body: body.to_vec(),
                etag: ETag::Md5(md5_of(body)),
                content_type: "application/octet-stream".into(),
                metadata: BTreeMap::new(),
            },
        );
    }

    /// Makes every PUT of `key` fail.
    pub fn fail_puts_of(&self, key: &str) {
        self.lock().fail_puts.insert(key.to_string());
    }

    /// Makes every delete of `key` fail (as a per-key error of the batch).
    pub fn fail_deletes_of(&self, key: &str) {
        self.lock().fail_deletes.insert(key.to_string());
    }

    /// The write requests made, in order: `put KEY`, `delete KEY`.
    pub fn write_log(&self) -> Vec<String> {
        self.lock().log.clone()
    }

    /// How many batch delete requests were made.
    pub fn delete_requests(&self) -> usize {
        self.lock().delete_requests
    }

    /// The body stored under `key`.
    pub fn body(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().objects.get(key).map(|o| o.body.clone())
    }

    /// How many objects are stored.
    pub fn object_count(&self) -> usize {
        self.lock().objects.len()
    }
}

impl ObjectStore for MemoryStore {
    async fn list(&self, prefix: &str) -> Result<Vec<RemoteObject>, StoreError> {
        Ok(self
            .lock()
            .objects
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, o)| RemoteObject {
                key: k.clone(),
                size: o.body.len() as u64,
                etag: o.etag.clone(),
            })
            .collect())
    }

    async fn head(&self, key: &str, _part: Option<u32>) -> Result<ObjectHead, StoreError> {
        let s = self.lock();
        let o = s.objects.get(key).ok_or(StoreError::NotFound)?;
        Ok(ObjectHead {
            content_length: o.body.len() as u64,
            etag: Some(o.etag.clone()),
            parts_count: None,
            content_type: Some(o.content_type.clone()),
            content_encoding: None,
            metadata: o.metadata.clone(),
        })
    }

    async fn put_file(&self, put: &PutFile) -> Result<(), StoreError> {
        let body = std::fs::read(&put.path).map_err(|e| StoreError::Other(e.to_string()))?;
        let mut s = self.lock();
        s.log.push(format!("put {}", put.key));
        if s.fail_puts.contains(&put.key) {
            return Err(StoreError::Other("injected failure".into()));
        }
        if md5_of(&body) != put.md5 {
            return Err(StoreError::BadDigest);
        }
        let etag = match &put.multipart {
            Some(m) => ETag::multipart(&m.part_md5s),
            None => ETag::Md5(put.md5),
        };
        s.objects.insert(
            put.key.clone(),
            Object {
                body,
                etag,
                content_type: put.content_type.clone(),
                metadata: put.metadata.clone(),
            },
        );
        Ok(())
    }

    async fn delete_batch(&self, keys: &[String]) -> Result<Vec<DeleteFailure>, StoreError> {
        let mut s = self.lock();
        s.delete_requests += 1;
        let mut failures = Vec::new();
        for k in keys {
            s.log.push(format!("delete {k}"));
            if s.fail_deletes.contains(k) {
                failures.push(DeleteFailure {
                    key: k.clone(),
                    message: "injected failure".into(),
                });
            } else {
                s.objects.remove(k);
            }
        }
        Ok(failures)
    }
}
