//! A prefix's whole key space as a stream of objects in a fixed order, listed in several folders
//! at once, for work that must not wait for (or hold) the whole listing: a repair of a bucket of
//! millions of objects.
//!
//! Owns: cutting the key space into units without knowing any key in advance, listing units
//! ahead of the consumer (at most `ahead` at once, two pages each), handing their objects out
//! in unit order, and resuming after a key. Must not: keep more than those pages, or decide
//! anything about an object.
//!
//! The units come from one listing with delimiter `/` (descending while the prefix holds a
//! single folder): each folder `p/` is a unit, and the objects directly under the prefix are
//! units of their own. A folder is a set of keys whatever order the store lists in, so no key
//! is missed or listed twice on a store that lists out of byte order (SeaweedFS lists folders
//! first). When that first listing takes more than one page (more than 1,000 folders and
//! objects side by side), the prefix is one unit listed page after page: per-folder requests
//! would then cost more than they save.
//!
//! The order handed out is the units' byte order, and within a folder the store's order; on a
//! store that lists in byte order that is byte order. `after` (`--start-after`) resumes in the
//! same order: units wholly before it are skipped without a request, the folder holding it is
//! listed with `start-after` (which the store seeks in its own order, the one the earlier run
//! saw), and objects directly under the prefix are compared as bytes (they hold no `/`, so any
//! store lists them in byte order).

use crate::store::{ObjectStore, Page, PageRequest, RemoteObject, StoreError};
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt as _, Stream, StreamExt as _};

/// How deep the cut descends through prefixes that hold a single folder (`site/en/docs/`).
const MAX_DESCENT: usize = 4;

/// Pages a unit listed ahead may hold before it waits for the consumer.
const PAGES_AHEAD: usize = 2;

/// One part of the key space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Objects the cutting listing already returned (directly under the prefix).
    Objects(Vec<RemoteObject>),
    /// Every key under `prefix`, listed page by page, after `start_after` if set.
    Folder {
        /// The folder (or, when the prefix is not cut, the prefix itself).
        prefix: String,
        /// Where to resume in it.
        start_after: Option<String>,
    },
}

/// The units of the key space under `prefix`, after `after` (see the module header). One
/// listing request, a few more where the prefix holds a single folder.
pub async fn units<S: ObjectStore>(
    store: &S,
    prefix: &str,
    after: Option<&str>,
) -> Result<Vec<Unit>, StoreError> {
    let mut prefix = prefix.to_string();
    for _ in 0..MAX_DESCENT {
        let page = store
            .list_one(&PageRequest {
                prefix: prefix.clone(),
                folders: true,
                ..PageRequest::default()
            })
            .await?;
        if page.next.is_some() {
            break;
        }
        let only_folder = match (page.objects.as_slice(), page.folders.as_slice()) {
            ([], [one]) => Some(one.clone()),
            _ => None,
        };
        match only_folder {
            Some(f) if after.is_none_or(|a| a.starts_with(&f) || f.as_str() > a) => prefix = f,
            _ => return Ok(cut(page, after)),
        }
    }
    Ok(vec![Unit::Folder {
        start_after: after
            .filter(|a| a.starts_with(prefix.as_str()))
            .map(str::to_string),
        prefix,
    }])
}

/// The units of one whole page of a listing with folders, in byte order, after `after`.
fn cut(page: Page, after: Option<&str>) -> Vec<Unit> {
    enum Entry {
        Object(RemoteObject),
        Folder(String),
    }
    fn name(e: &Entry) -> &str {
        match e {
            Entry::Object(o) => &o.key,
            Entry::Folder(f) => f,
        }
    }
    let mut entries: Vec<Entry> = page
        .objects
        .into_iter()
        .map(Entry::Object)
        .chain(page.folders.into_iter().map(Entry::Folder))
        .collect();
    entries.sort_by(|a, b| name(a).cmp(name(b)));
    let mut units = Vec::new();
    let mut run: Vec<RemoteObject> = Vec::new();
    for e in entries {
        match e {
            Entry::Object(o) => {
                if after.is_none_or(|a| o.key.as_str() > a) {
                    run.push(o);
                }
            }
            Entry::Folder(f) => {
                let start_after = match after {
                    Some(a) if a.starts_with(f.as_str()) => Some(a.to_string()),
                    // Every key in the folder sorts before `a`: done already.
                    Some(a) if f.as_str() < a => continue,
                    _ => None,
                };
                if !run.is_empty() {
                    units.push(Unit::Objects(std::mem::take(&mut run)));
                }
                units.push(Unit::Folder {
                    prefix: f,
                    start_after,
                });
            }
        }
    }
    if !run.is_empty() {
        units.push(Unit::Objects(run));
    }
    units
}

/// Every object of `units`, in their order, with up to `ahead` units listed ahead of the
/// consumer (a unit counts until the consumer has taken all of it, so what is held ahead is at
/// most `ahead` units of two pages, however small the folders).
pub fn objects<'a, S: ObjectStore>(
    store: &'a S,
    units: Vec<Unit>,
    ahead: usize,
) -> impl Stream<Item = Result<RemoteObject, StoreError>> + Send + 'a {
    type Pages = Result<Vec<RemoteObject>, StoreError>;
    let mut producers = Vec::with_capacity(units.len());
    let mut consumers = Vec::with_capacity(units.len());
    for unit in units {
        let (tx, rx) = mpsc::channel::<Pages>(PAGES_AHEAD - 1);
        let (taken_tx, taken_rx) = oneshot::channel::<()>();
        producers.push((unit, tx, taken_rx));
        // When the consumer has taken the unit's last page, the unit's place ahead is free.
        let told = futures::stream::once(async move {
            let _ = taken_tx.send(());
            None
        });
        consumers.push(rx.map(Some).chain(told).filter_map(std::future::ready));
    }
    // Units start in order, so the one the consumer waits for has always started.
    let producer = futures::stream::iter(producers).for_each_concurrent(
        ahead.max(1),
        move |(unit, mut tx, taken)| async move {
            list_unit(store, unit, &mut tx).await;
            drop(tx);
            let _ = taken.await;
        },
    );
    let pages = futures::stream::iter(consumers).flatten();
    let items = pages.flat_map(|page| {
        futures::stream::iter(match page {
            Ok(v) => v.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    });
    // Drive the listing alongside the consumer: the producer yields nothing itself.
    let driver = futures::stream::once(producer).filter_map(|()| async { None });
    futures::stream::select(items.map(Some), driver)
        .filter_map(|x| async { x })
        .boxed()
}

/// Sends the pages of `unit` until its end, a failure (sent too) or a consumer that left.
async fn list_unit<S: ObjectStore>(
    store: &S,
    unit: Unit,
    tx: &mut mpsc::Sender<Result<Vec<RemoteObject>, StoreError>>,
) {
    let (prefix, start_after) = match unit {
        Unit::Objects(v) => {
            let _ = tx.send(Ok(v)).await;
            return;
        }
        Unit::Folder {
            prefix,
            start_after,
        } => (prefix, start_after),
    };
    let mut req = PageRequest {
        prefix,
        start_after,
        ..PageRequest::default()
    };
    loop {
        let (objects, next) = match store.list_one(&req).await {
            Ok(p) => (Ok(p.objects), p.next),
            Err(e) => (Err(e), None),
        };
        let failed = objects.is_err();
        if tx.send(objects).await.is_err() || failed {
            return;
        }
        match next {
            Some(token) => req.token = Some(token),
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use futures::TryStreamExt as _;

    fn store(keys: &[&str], page: usize, folder_first: bool) -> MemoryStore {
        let s = MemoryStore::default();
        for k in keys {
            s.insert(k, k.as_bytes());
        }
        s.list_like(page, folder_first);
        s
    }

    async fn all(s: &MemoryStore, prefix: &str, after: Option<&str>) -> Vec<String> {
        let units = units(s, prefix, after).await.expect("units");
        objects(s, units, 3)
            .map_ok(|o| o.key)
            .try_collect()
            .await
            .expect("listing")
    }

    /// In byte order.
    const MIXED: &[&str] = &[
        "a-1", "a/1", "a/2", "a/b-4", "a/b/3", "a0", "b/1", "b/2", "b/3", "c", "d/x/1", "e/1",
    ];

    #[tokio::test]
    async fn every_key_once_in_byte_order_on_a_byte_order_store() {
        let s = store(MIXED, 2, false);
        assert_eq!(all(&s, "", None).await, MIXED);
    }

    #[tokio::test]
    async fn a_folder_first_store_misses_and_repeats_no_key() {
        let s = store(MIXED, 2, true);
        let mut got = all(&s, "", None).await;
        got.sort();
        assert_eq!(got, MIXED);
    }

    #[tokio::test]
    async fn resuming_after_any_key_lists_exactly_the_rest() {
        for folder_first in [false, true] {
            let s = store(MIXED, 2, folder_first);
            let order = all(&s, "", None).await;
            for (i, k) in order.iter().enumerate() {
                assert_eq!(
                    all(&s, "", Some(k)).await,
                    order[i + 1..],
                    "after {k}, folder_first {folder_first}"
                );
            }
        }
    }

    #[tokio::test]
    async fn a_single_folder_is_descended_and_a_wide_prefix_is_one_unit() {
        let s = store(&["site/a/1", "site/a/2", "site/b/1"], 1000, false);
        let u = units(&s, "", None).await.expect("units");
        assert_eq!(u.len(), 2, "{u:?}");
        let keys: Vec<String> = (0..30).map(|i| format!("f{i:02}/x")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let s = store(&refs, 10, false);
        let u = units(&s, "", None).await.expect("units");
        assert_eq!(
            u,
            vec![Unit::Folder {
                prefix: String::new(),
                start_after: None
            }]
        );
        assert_eq!(all(&s, "", None).await, keys);
        assert_eq!(all(&s, "", Some("f09/x")).await, keys[10..]);
    }

    #[tokio::test]
    async fn small_folders_are_not_all_listed_ahead_of_the_consumer() {
        let keys: Vec<String> = (0..50).map(|i| format!("f{i:02}/x")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let s = store(&refs, 1000, false);
        let u = units(&s, "", None).await.expect("units");
        assert_eq!(u.len(), 50);
        let cut = s.list_requests();
        let mut stream = objects(&s, u, 3);
        let first = stream.next().await.expect("one").expect("ok");
        assert_eq!(first.key, "f00/x");
        let listed = s.list_requests() - cut;
        assert!(
            listed <= 4,
            "{listed} folders listed ahead of one object taken"
        );
        let rest: Vec<_> = stream.collect().await;
        assert_eq!(rest.len(), 49);
    }
}
