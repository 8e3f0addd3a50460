//! Listing a prefix in slices at once, with the slice boundaries taken from the keys the caller
//! expects to find (the local files of a sync), and falling back to one listing that does not
//! depend on order when the store does not list in S3's byte order.
//!
//! Owns: choosing the slices, listing them concurrently, checking that the store's order made
//! them right, and joining them in key order. Must not: decide anything from the listing (that
//! is the planner's), or list partially: one failed slice fails the whole listing.
//!
//! A sequential listing costs one round trip per 1,000 keys, which bounds a no-op deploy of a
//! large site (100 round trips at 100,000 files). The boundaries are every k·1,000-th expected
//! key, so when the bucket holds exactly the expected keys every slice ends on a full page and
//! the listing still costs exactly ⌈N/1,000⌉ requests, only not one after the other.
//!
//! Slices are only right on a store that lists in byte order: `start-after` and "stop at the
//! first key past the end" assume it. SeaweedFS lists a folder's keys before its siblings
//! (`a/1` before `a-1`, though `-` < `/`) and seeks `start-after` in that order, so slices there
//! miss keys. The order of two keys differs between byte order and such a folder-first order
//! only when, where they first differ, one has `/` and the other a byte below `/` (space,
//! `-`, `.`, ...): an "order-sensitive" pair. So:
//! - expected keys with such a pair are listed in one sequential listing (no slices);
//! - a slice that reads a key out of ascending order, or a listing whose keys (or the keys that
//!   ended a slice) hold such a pair, is thrown away and listed again sequentially.
//!
//! A sequential listing follows continuation tokens to the end and is sorted here, so it is
//! complete in any order.

use crate::store::{KeyRange, ObjectStore, RemoteObject, StoreError};
use futures::{StreamExt as _, TryStreamExt as _};
use std::sync::atomic::{AtomicBool, Ordering};

/// Slices listed at once, at most.
pub const MAX_SLICES: usize = 8;

/// The slices that cover every key (open at both ends), cut after every `per`-th of the keys
/// expected (`keys`, sorted and without repeats), where `per` is a whole number of `page`s. A
/// single open slice when the expected keys fit in one page.
fn slices_of(keys: &[&str], page: usize, max_slices: usize) -> Vec<KeyRange> {
    let page = page.max(1);
    let pages = keys.len().div_ceil(page);
    let count = pages.clamp(1, max_slices.max(1));
    let per = pages.div_ceil(count).max(1) * page;
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    let mut end = per;
    while end < keys.len() {
        let through = keys[end - 1].to_string();
        out.push(KeyRange {
            after: after.take(),
            through: Some(through.clone()),
        });
        after = Some(through);
        end += per;
    }
    out.push(KeyRange {
        after,
        through: None,
    });
    out
}

/// Whether two of `sorted` (in byte order) are ordered differently by byte order and by a
/// folder-first order: some key has a byte below `/` at a position where another key, with the
/// same bytes `p` before it, has `/`.
///
/// One pass over neighbours: every key between `p` + c… (c < `/`) and `p/…` starts with `p`, so
/// the last of them with a byte below `/` after `p` is followed by one with `/` there. (A set of
/// every folder, probed at every byte below `/` of every key, took 10 ms at 100,000 keys,
/// before the first request.)
pub fn order_sensitive(sorted: &[&str]) -> bool {
    sorted.windows(2).any(|pair| {
        let (a, b) = (pair[0].as_bytes(), pair[1].as_bytes());
        let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        matches!((a.get(same), b.get(same)), (Some(&x), Some(&b'/')) if x < b'/')
    })
}

/// Said once per process: the store lists out of byte order.
static SAID_UNORDERED: AtomicBool = AtomicBool::new(false);

/// How a listing will go: its slices, or one sequential listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPlan {
    /// The slices (one open slice: a sequential listing).
    pub slices: Vec<KeyRange>,
}

impl ListPlan {
    /// The plan for a listing expected to find `keys` (in any order, repeats allowed) on a
    /// store with `page`-key pages: slices, unless they fit one page or the keys hold an
    /// order-sensitive pair (see the module header).
    pub fn new(mut keys: Vec<&str>, page: usize) -> ListPlan {
        keys.sort_unstable();
        keys.dedup();
        let mut slices = slices_of(&keys, page, MAX_SLICES);
        if slices.len() > 1 && order_sensitive(&keys) {
            tracing::debug!(
                "keys like 'a/x' and 'a-x' sort differently on some stores: listing without slices"
            );
            slices = vec![KeyRange::default()];
        }
        ListPlan { slices }
    }
}

/// Every object under `prefix`, in key order: listed in the plan's slices at once, or, where
/// slices could miss keys, in one listing that does not depend on the store's order.
pub async fn list<S: ObjectStore>(
    store: &S,
    prefix: &str,
    plan: &ListPlan,
) -> Result<Vec<RemoteObject>, StoreError> {
    let cut = &plan.slices;
    if cut.len() == 1 {
        return store.list(prefix).await;
    }
    let parts: Vec<_> = futures::stream::iter(cut)
        .map(|r| store.list_range(prefix, r))
        .buffered(MAX_SLICES)
        .try_collect()
        .await?;
    let in_order = parts.iter().all(|p| p.in_order) && {
        let mut keys: Vec<&str> = parts
            .iter()
            .flat_map(|p| {
                p.objects
                    .iter()
                    .map(|o| o.key.as_str())
                    .chain(p.beyond.iter().map(String::as_str))
            })
            .chain(cut.iter().filter_map(|r| r.through.as_deref()))
            .collect();
        // In order already but for the boundaries at the end: a stable sort merges them in.
        keys.sort();
        !order_sensitive(&keys)
    };
    if !in_order {
        if !SAID_UNORDERED.swap(true, Ordering::Relaxed) {
            tracing::info!(
                "the store does not list keys in S3's byte order (SeaweedFS lists a folder \
                 before its siblings): listing again without slices"
            );
        }
        drop(parts);
        return store.list(prefix).await;
    }
    // Into the first slice's vector, grown once: collecting the slices into a new one grew it
    // by doubling beside them all (at 100,000 objects, 8 MB on top of the 6.4 MB listed).
    let total: usize = parts.iter().map(|p| p.objects.len()).sum();
    let mut parts = parts.into_iter();
    let mut all = parts.next().map(|p| p.objects).unwrap_or_default();
    all.reserve(total - all.len());
    for p in parts {
        all.extend(p.objects);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::etag::ETag;
    use crate::store::memory::MemoryStore;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("site/k{i:05}")).collect()
    }

    #[test]
    fn boundaries_fall_on_whole_pages() {
        let k = keys(10_000);
        let refs: Vec<&str> = k.iter().map(String::as_str).collect();
        let s = ListPlan::new(refs.clone(), 1000).slices;
        // 10 pages in at most 8 slices: 2 pages each.
        assert_eq!(s.len(), 5);
        assert_eq!(s[0].after, None);
        assert_eq!(s[0].through.as_deref(), Some("site/k01999"));
        assert_eq!(s[1].after.as_deref(), Some("site/k01999"));
        assert_eq!(s[4].after.as_deref(), Some("site/k07999"));
        assert_eq!(s[4].through, None);
        // 100 pages: 8 slices of 13 pages, the last of 9.
        let k = keys(100_000);
        let refs: Vec<&str> = k.iter().map(String::as_str).collect();
        let s = ListPlan::new(refs.clone(), 1000).slices;
        assert_eq!(s.len(), 8);
        assert_eq!(s[1].through.as_deref(), Some("site/k25999"));
    }

    #[test]
    fn one_page_or_none_is_one_open_slice() {
        for n in [0, 1, 1000] {
            let k = keys(n);
            let refs: Vec<&str> = k.iter().map(String::as_str).collect();
            assert_eq!(
                ListPlan::new(refs.clone(), 1000).slices,
                vec![KeyRange::default()],
                "{n} keys"
            );
        }
        let k = keys(1001);
        let refs: Vec<&str> = k.iter().map(String::as_str).collect();
        assert_eq!(ListPlan::new(refs.clone(), 1000).slices.len(), 2);
    }

    #[test]
    fn unsorted_and_repeated_keys_give_the_same_slices() {
        let k = keys(35);
        let mut refs: Vec<&str> = k.iter().map(String::as_str).collect();
        let sorted = ListPlan::new(refs.clone(), 10).slices;
        refs.reverse();
        refs.extend(k.iter().take(5).map(String::as_str));
        assert_eq!(ListPlan::new(refs.clone(), 10).slices, sorted);
    }

    #[tokio::test]
    async fn slices_find_every_key_once_in_order() {
        let store = MemoryStore::default();
        let local = keys(95);
        // The bucket holds most expected keys plus keys before, between and after them.
        let mut remote: Vec<String> = local
            .iter()
            .filter(|k| !k.ends_with('7'))
            .cloned()
            .collect();
        remote.extend(
            [
                "site/a",
                "site/k00029x",
                "site/k00050x",
                "site/z",
                "site/k00019",
            ]
            .map(String::from),
        );
        for k in &remote {
            store.insert(k, b"x");
        }
        store.insert("other/k00001", b"x");
        store.list_like(10, false);
        let refs: Vec<&str> = local.iter().map(String::as_str).collect();
        let plan = ListPlan::new(refs, 10);
        assert_eq!(plan.slices.len(), 5, "10 pages in slices of 2");
        let listed = list(&store, "site/", &plan).await.expect("listing");
        let got: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
        remote.sort();
        remote.dedup();
        assert_eq!(got, remote);
        assert!(listed.iter().all(|o| matches!(o.etag, ETag::Md5(_))));
    }

    /// A site like the reliability issue's: `a/NNNN` and `a-NNNN`, on a byte-order store and
    /// on a folder-first one (SeaweedFS), with a stray under `a/` and one beside it.
    fn mixed(store: &MemoryStore, n: usize) -> (Vec<String>, Vec<String>) {
        let mut local = Vec::new();
        for i in 0..n {
            local.push(format!("a/{i:04}.txt"));
            local.push(format!("a-{i:04}.txt"));
        }
        let mut remote = local.clone();
        remote.extend(["a/stray.txt".to_string(), "a-stray.txt".to_string()]);
        for k in &remote {
            store.insert(k, b"x");
        }
        remote.sort();
        (local, remote)
    }

    #[tokio::test]
    async fn a_folder_first_store_misses_no_key() {
        for folder_first in [false, true] {
            let store = MemoryStore::default();
            store.list_like(10, folder_first);
            let (local, remote) = mixed(&store, 15);
            // Expected keys with an order-sensitive pair: no slices at all.
            let plan = ListPlan::new(local.iter().map(String::as_str).collect(), 10);
            assert_eq!(plan.slices, vec![KeyRange::default()]);
            let listed = list(&store, "", &plan).await.expect("listing");
            let got: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
            assert_eq!(got, remote, "folder-first: {folder_first}");
            assert_eq!(store.list_requests(), 4, "32 keys in 10-key pages");
        }
    }

    #[tokio::test]
    async fn slices_that_a_folder_first_store_breaks_are_listed_again() {
        // The site has only `a-NNNN` (no order-sensitive pair), the bucket also `a/old`: a
        // folder-first store lists `a/old` first, which ends the first slice at once.
        let store = MemoryStore::default();
        store.list_like(10, true);
        let local: Vec<String> = (0..30).map(|i| format!("a-{i:04}.txt")).collect();
        for k in &local {
            store.insert(k, b"x");
        }
        store.insert("a/old.txt", b"x");
        store.insert("a/older.txt", b"x");
        let plan = ListPlan::new(local.iter().map(String::as_str).collect(), 10);
        assert_eq!(plan.slices.len(), 3);
        let listed = list(&store, "", &plan).await.expect("listing");
        let mut want = local.clone();
        want.extend(["a/old.txt".into(), "a/older.txt".into()]);
        want.sort();
        let got: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn a_byte_order_store_costs_one_request_per_page() {
        let store = MemoryStore::default();
        store.list_like(10, false);
        let local = keys(95);
        for k in &local {
            store.insert(k, b"x");
        }
        let plan = ListPlan::new(local.iter().map(String::as_str).collect(), 10);
        let listed = list(&store, "site/", &plan).await.expect("listing");
        assert_eq!(listed.len(), 95);
        assert_eq!(store.list_requests(), 10);
    }

    #[test]
    fn order_sensitive_pairs() {
        let yes = |k: &[&str]| {
            let mut k = k.to_vec();
            k.sort_unstable();
            order_sensitive(&k)
        };
        assert!(yes(&["a/1", "a-1"]));
        assert!(yes(&["blog/index.html", "blog.html"]));
        assert!(yes(&["x/a b", "x/a/c"]));
        assert!(!yes(&["a/1", "a0", "ab", "a/2"]));
        assert!(!yes(&["a-1", "a.html", "b/c"]));
        assert!(!yes(&[]));
        assert!(!yes(&["a-1", "a-1"]));
    }

    /// The pass over neighbours finds a pair exactly when some two keys make one, on every
    /// set of up to 6 keys of up to 3 bytes from `-`, `/` and `a` (and a few longer ones).
    #[test]
    fn neighbours_find_every_order_sensitive_pair() {
        let any_pair = |keys: &[String]| {
            keys.iter().any(|k| {
                keys.iter().any(|f| {
                    k.bytes().enumerate().any(|(i, b)| {
                        b < b'/' && f.len() > i && f.as_bytes()[i] == b'/' && f[..i] == k[..i]
                    })
                })
            })
        };
        let alphabet = ["-", "/", "a"];
        let mut words: Vec<String> = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = words
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(longer);
        }
        words.sort();
        words.dedup();
        words.retain(|w| !w.is_empty());
        // A fixed pseudo-random choice of subsets (xorshift), with a few longer keys.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut sensitive, mut not) = (0, 0);
        for _ in 0..20_000 {
            let n = 2 + (next() % 5) as usize;
            let mut keys: Vec<String> = (0..n)
                .map(|_| {
                    let w = &words[(next() % words.len() as u64) as usize];
                    if next() % 4 == 0 {
                        format!("{w}a/x")
                    } else {
                        w.clone()
                    }
                })
                .collect();
            keys.sort();
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let want = any_pair(&keys);
            assert_eq!(order_sensitive(&refs), want, "{keys:?}");
            if want { sensitive += 1 } else { not += 1 }
        }
        assert!(sensitive > 1000 && not > 1000, "{sensitive} / {not}");
    }
}
