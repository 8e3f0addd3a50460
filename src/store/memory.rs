//! An in-memory `ObjectStore` for planner and executor unit tests only (compiled under `cfg(test)`).
//!
//! Owns: a map of key → body and metadata, a log of write requests, and failures injected per key.
//! Must not: be used by integration tests, which talk to real S3-compatible servers.

use super::{
    CopyInPlace, DeleteFailure, KeyRange, ObjectHead, ObjectHeaders, ObjectStore, Page,
    PageRequest, PutFile, RangeListing, RemoteObject, StoreError,
};
use crate::content::digest::md5_of;
use crate::content::etag::ETag;
use crate::content::header::Header;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

#[derive(Clone, Debug)]
struct Object {
    body: Vec<u8>,
    etag: ETag,
    headers: ObjectHeaders,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Object>,
    log: Vec<String>,
    fail_puts: BTreeSet<String>,
    fail_deletes: BTreeSet<String>,
    delete_requests: usize,
    overwrite_before_copy: BTreeMap<String, Vec<u8>>,
    /// Keys per listing page (0: S3's 1,000).
    page: usize,
    /// List folder-first, as SeaweedFS does (`a/1` before `a-1`), seeking `start-after` in
    /// that order too.
    folder_first: bool,
    list_requests: usize,
    /// Keys the store stores under another name (as SeaweedFS turns `\\` into `/`).
    renames: BTreeMap<String, String>,
    website: Option<crate::store::Website>,
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

    /// Lists `page` keys per request, folder-first when `folder_first` (as SeaweedFS does).
    pub fn list_like(&self, page: usize, folder_first: bool) {
        let mut s = self.lock();
        s.page = page;
        s.folder_first = folder_first;
    }

    /// Makes the store keep `key` under `stored` (a rename no rule of s3site's knows).
    pub fn rename_on_put(&self, key: &str, stored: &str) {
        self.lock()
            .renames
            .insert(key.to_string(), stored.to_string());
    }

    /// How many listing requests (pages) were made.
    pub fn list_requests(&self) -> usize {
        self.lock().list_requests
    }

    /// Puts an object directly (not logged).
    pub fn insert(&self, key: &str, body: &[u8]) {
        self.insert_with(
            key,
            body,
            ObjectHeaders::default().with(Header::ContentType, "application/octet-stream"),
        );
    }

    /// Puts an object with these headers directly (not logged).
    pub fn insert_with(&self, key: &str, body: &[u8], headers: ObjectHeaders) {
        self.lock().objects.insert(
            key.to_string(),
            Object {
                body: body.to_vec(),
                etag: ETag::Md5(md5_of(body)),
                headers,
            },
        );
    }

    /// The headers of `key`.
    pub fn headers(&self, key: &str) -> Option<ObjectHeaders> {
        self.lock().objects.get(key).map(|o| o.headers.clone())
    }

    /// Simulates a writer racing a repair: just before the copy of `key`, it gets `body`.
    pub fn overwrite_before_copy(&self, key: &str, body: &[u8]) {
        self.lock()
            .overwrite_before_copy
            .insert(key.to_string(), body.to_vec());
    }

    /// Makes every PUT of `key` fail.
    pub fn fail_puts_of(&self, key: &str) {
        self.lock().fail_puts.insert(key.to_string());
    }

    /// Makes every delete of `key` fail (as a per-key error of the batch).
    pub fn fail_deletes_of(&self, key: &str) {
        self.lock().fail_deletes.insert(key.to_string());
    }

    /// The write requests made, in order: `put KEY`, `copy KEY`, `delete KEY`.
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
    fn list_page(&self) -> usize {
        match self.lock().page {
            0 => 1000,
            n => n,
        }
    }

    async fn list_range(&self, prefix: &str, range: &KeyRange) -> Result<RangeListing, StoreError> {
        let page = self.list_page();
        let mut s = self.lock();
        let order = |a: &str, b: &str| {
            if s.folder_first {
                a.split('/').cmp(b.split('/'))
            } else {
                a.cmp(b)
            }
        };
        let mut all: Vec<RemoteObject> = s
            .objects
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| range.after.as_deref().is_none_or(|a| order(k, a).is_gt()))
            .map(|(k, o)| RemoteObject {
                key: k.clone(),
                size: o.body.len() as u64,
                etag: o.etag.clone(),
            })
            .collect();
        all.sort_by(|a, b| order(&a.key, &b.key));
        let mut out = RangeListing::new();
        let mut pages = all.chunks(page).peekable();
        if pages.peek().is_none() {
            s.list_requests += 1;
        }
        for p in pages {
            s.list_requests += 1;
            if !out.take_page(range, p.iter().cloned()) {
                break;
            }
        }
        Ok(out)
    }

    async fn list_one(&self, req: &PageRequest) -> Result<Page, StoreError> {
        let page = self.list_page();
        let mut s = self.lock();
        s.list_requests += 1;
        let folder_first = s.folder_first;
        let order = |a: &str, b: &str| {
            if folder_first {
                a.split('/').cmp(b.split('/'))
            } else {
                a.cmp(b)
            }
        };
        // Entries (objects, or folders when asked) in the store's order.
        let mut entries: Vec<(String, Option<RemoteObject>)> = Vec::new();
        for (k, o) in s.objects.range(req.prefix.clone()..) {
            if !k.starts_with(&req.prefix) {
                break;
            }
            let rest = &k[req.prefix.len()..];
            match rest.find('/').filter(|_| req.folders) {
                Some(i) => {
                    let folder = format!("{}{}", req.prefix, &rest[..=i]);
                    if entries.last().is_none_or(|(e, _)| *e != folder) {
                        entries.push((folder, None));
                    }
                }
                None => entries.push((
                    k.clone(),
                    Some(RemoteObject {
                        key: k.clone(),
                        size: o.body.len() as u64,
                        etag: o.etag.clone(),
                    }),
                )),
            }
        }
        entries.sort_by(|a, b| order(&a.0, &b.0));
        entries.dedup_by(|a, b| a.0 == b.0);
        let from = req
            .token
            .as_deref()
            .or(req.start_after.as_deref())
            .map_or(0, |after| {
                entries.partition_point(|(e, _)| !order(e, after).is_gt())
            });
        let rest = &entries[from.min(entries.len())..];
        let taken = &rest[..rest.len().min(page)];
        Ok(Page {
            objects: taken.iter().filter_map(|(_, o)| o.clone()).collect(),
            folders: taken
                .iter()
                .filter(|(_, o)| o.is_none())
                .map(|(e, _)| e.clone())
                .collect(),
            next: (rest.len() > page).then(|| taken[taken.len() - 1].0.clone()),
        })
    }

    async fn head(&self, key: &str, _part: Option<u32>) -> Result<ObjectHead, StoreError> {
        let s = self.lock();
        let o = s.objects.get(key).ok_or(StoreError::NotFound)?;
        Ok(ObjectHead {
            content_length: o.body.len() as u64,
            etag: Some(o.etag.clone()),
            headers: o.headers.clone(),
            ..ObjectHead::default()
        })
    }

    async fn read_prefix(&self, key: &str, len: u64) -> Result<Vec<u8>, StoreError> {
        let s = self.lock();
        let o = s.objects.get(key).ok_or(StoreError::NotFound)?;
        Ok(o.body.iter().take(len as usize).copied().collect())
    }

    async fn copy_in_place(&self, copy: &CopyInPlace) -> Result<(), StoreError> {
        let mut s = self.lock();
        s.log.push(format!("copy {}", copy.key));
        if let Some(body) = s.overwrite_before_copy.remove(&copy.key) {
            let o = s.objects.get_mut(&copy.key).ok_or(StoreError::NotFound)?;
            o.etag = ETag::Md5(md5_of(&body));
            o.body = body;
        }
        let o = s.objects.get_mut(&copy.key).ok_or(StoreError::NotFound)?;
        if o.etag != copy.if_match {
            return Err(StoreError::PreconditionFailed);
        }
        o.headers = copy.headers.clone();
        Ok(())
    }

    async fn put_file(&self, put: &PutFile) -> Result<(), StoreError> {
        let body = if put.size == 0 {
            Vec::new()
        } else {
            std::fs::read(&put.path).map_err(|e| StoreError::Other(e.to_string()))?
        };
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
        let stored = s.renames.get(&put.key).cloned().unwrap_or(put.key.clone());
        s.objects.insert(
            stored,
            Object {
                body,
                etag,
                headers: put.headers.clone(),
            },
        );
        Ok(())
    }

    async fn website(&self) -> Result<Option<crate::store::Website>, StoreError> {
        Ok(self.lock().website.clone())
    }

    async fn put_website(&self, website: &crate::store::Website) -> Result<(), StoreError> {
        let mut s = self.lock();
        s.log.push("put website".into());
        s.website = Some(website.clone());
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
