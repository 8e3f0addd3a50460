//! Listing a prefix in slices at once, with the slice boundaries taken from the keys the caller
//! expects to find (the local files of a sync).
//!
//! Owns: choosing the slices, listing them concurrently and joining them in key order.
//! Must not: decide anything from the listing (that is the planner's), or list partially: one
//! failed slice fails the whole listing.
//!
//! A sequential listing costs one round trip per 1,000 keys, which bounds a no-op deploy of a
//! large site (100 round trips at 100,000 files). The boundaries are every k·1,000-th expected
//! key, so when the bucket holds exactly the expected keys every slice ends on a full page and
//! the listing still costs exactly ⌈N/1,000⌉ requests, only not one after the other.

use crate::store::{KeyRange, ObjectStore, RemoteObject, StoreError};
use futures::{StreamExt as _, TryStreamExt as _};

/// Slices listed at once, at most.
pub const MAX_SLICES: usize = 8;

/// The slices that cover every key (open at both ends), cut after every `per`-th of the keys
/// expected (`keys`, in any order), where `per` is a whole number of `page`s. A single open
/// slice when the expected keys fit in one page.
pub fn slices(mut keys: Vec<&str>, page: usize, max_slices: usize) -> Vec<KeyRange> {
    keys.sort_unstable();
    keys.dedup();
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

/// Every object under `prefix`, listed in `slices` (from `slices`) at once, in key order.
pub async fn list<S: ObjectStore>(
    store: &S,
    prefix: &str,
    slices: &[KeyRange],
) -> Result<Vec<RemoteObject>, StoreError> {
    let parts: Vec<Vec<RemoteObject>> = futures::stream::iter(slices)
        .map(|r| store.list_range(prefix, r))
        .buffered(MAX_SLICES)
        .try_collect()
        .await?;
    Ok(parts.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etag::ETag;
    use crate::store::memory::MemoryStore;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("site/k{i:05}")).collect()
    }

    #[test]
    fn boundaries_fall_on_whole_pages() {
        let k = keys(10_000);
        let refs: Vec<&str> = k.iter().map(String::as_str).collect();
        let s = slices(refs.clone(), 1000, 8);
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
        let s = slices(refs.clone(), 1000, 8);
        assert_eq!(s.len(), 8);
        assert_eq!(s[1].through.as_deref(), Some("site/k25999"));
    }

    #[test]
    fn one_page_or_none_is_one_open_slice() {
        for n in [0, 1, 1000] {
            let k = keys(n);
            let refs: Vec<&str> = k.iter().map(String::as_str).collect();
            assert_eq!(
                slices(refs.clone(), 1000, 8),
                vec![KeyRange::default()],
                "{n} keys"
            );
        }
        let k = keys(1001);
        let refs: Vec<&str> = k.iter().map(String::as_str).collect();
        assert_eq!(slices(refs.clone(), 1000, 8).len(), 2);
    }

    #[test]
    fn unsorted_and_repeated_keys_give_the_same_slices() {
        let k = keys(35);
        let mut refs: Vec<&str> = k.iter().map(String::as_str).collect();
        let sorted = slices(refs.clone(), 10, 8);
        refs.reverse();
        refs.extend(k.iter().take(5).map(String::as_str));
        assert_eq!(slices(refs.clone(), 10, 8), sorted);
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
        let refs: Vec<&str> = local.iter().map(String::as_str).collect();
        let cut = slices(refs, 10, 8);
        assert_eq!(cut.len(), 5, "10 pages in slices of 2");
        let listed = list(&store, "site/", &cut).await.expect("listing");
        let got: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
        remote.sort();
        remote.dedup();
        assert_eq!(got, remote);
        assert!(listed.iter().all(|o| matches!(o.etag, ETag::Md5(_))));
    }
}
