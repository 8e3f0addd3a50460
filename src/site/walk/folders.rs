//! Reading a tree of folders on several threads at once.
//!
//! Owns: the queue of folders still to read, the threads that read them, and stopping at the
//! first error. Must not: decide what an entry is or where it goes (the caller's `Visit`), or
//! read a file.
//!
//! Reading 100,000 entries is mostly the kernel's work, one folder at a time, so readers on
//! every core shorten the walk that stands before the first request (bench/RESULTS.md,
//! "Startup"). walkdir reads one folder at a time; the `ignore` crate's parallel walker and
//! jwalk queue every entry, files too, and spent 40–60% more CPU than walkdir here, for a walk
//! on two cores no shorter (ignore) or 25% shorter (jwalk), against 50% here.

use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// What a walk does with the entries it reads.
pub(super) trait Visit: Sync {
    /// A folder to read.
    type Folder: Send;
    /// What is collected.
    type Item: Send;
    /// Why the walk stops.
    type Error: Send;

    /// Where `folder` is.
    fn path<'a>(&self, folder: &'a Self::Folder) -> &'a Path;

    /// One entry of `folder`: folders to read go into `found.folders`, what is collected into
    /// `found.items`.
    fn visit(
        &self,
        folder: &Self::Folder,
        entry: std::fs::DirEntry,
        found: Found<'_, Self::Folder, Self::Item>,
    ) -> Result<(), Self::Error>;

    /// The error for `folder`, which could not be read.
    fn read_error(&self, folder: &Self::Folder, e: std::io::Error) -> Self::Error;

    /// What a thread collected, once it is done (on that thread: sorting here is parallel).
    fn finish(&self, _items: &mut Vec<Self::Item>) {}
}

/// Where `Visit::visit` puts what it finds in one entry.
pub(super) struct Found<'a, F, T> {
    /// Folders to read next.
    pub folders: &'a mut Vec<F>,
    /// What this thread collects.
    pub items: &'a mut Vec<T>,
}

/// Reads `root` and every folder found under it on `threads` threads (one: on this one), and
/// returns what each thread collected. The first error stops every thread (each at the end of
/// the folder it reads) and is returned.
pub(super) fn read_all<V: Visit>(
    v: &V,
    root: V::Folder,
    threads: usize,
) -> Result<Vec<Vec<V::Item>>, V::Error> {
    let shared = Shared {
        state: Mutex::new(State {
            queue: vec![root],
            reading: 0,
            failed: None,
            panicked: false,
        }),
        changed: Condvar::new(),
    };
    let reader = || shared.read(v);
    let collected: Vec<Vec<V::Item>> = if threads <= 1 {
        vec![reader()]
    } else {
        std::thread::scope(|s| {
            let readers: Vec<_> = (0..threads).map(|_| s.spawn(reader)).collect();
            readers
                .into_iter()
                .map(|r| r.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    match shared.lock().failed.take() {
        Some(e) => Err(e),
        None => Ok(collected),
    }
}

struct Shared<F, E> {
    state: Mutex<State<F, E>>,
    /// Signalled when folders are queued, a folder is done, or the walk fails.
    changed: Condvar,
}

struct State<F, E> {
    queue: Vec<F>,
    /// Folders being read now (each may queue more).
    reading: usize,
    failed: Option<E>,
    /// A reader panicked: the others stop, and `read_all` passes the panic on.
    panicked: bool,
}

/// Marks a folder done if its reader panics, so no other reader waits for it forever.
struct Reading<'a, F, E>(&'a Shared<F, E>);

impl<F, E> Drop for Reading<'_, F, E> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut state = self.0.lock();
            state.reading -= 1;
            state.panicked = true;
            drop(state);
            self.0.changed.notify_all();
        }
    }
}

impl<F, E> Shared<F, E> {
    /// The lock, even if a reader panicked holding it (the panic is passed on by `read_all`).
    fn lock(&self) -> MutexGuard<'_, State<F, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One reader: takes folders until the walk is over or failed; returns what it collected.
    fn read<V>(&self, v: &V) -> Vec<V::Item>
    where
        V: Visit<Folder = F, Error = E>,
    {
        let (mut items, mut folders) = (Vec::new(), Vec::new());
        while let Some(folder) = self.next() {
            let _reading = Reading(self);
            let failed = match read_folder(v, &folder, &mut folders, &mut items) {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(e) => Some(v.read_error(&folder, e)),
            };
            let mut state = self.lock();
            state.reading -= 1;
            match failed {
                Some(e) if state.failed.is_none() => state.failed = Some(e),
                Some(_) => {}
                None => state.queue.append(&mut folders),
            }
            drop(state);
            self.changed.notify_all();
        }
        v.finish(&mut items);
        items
    }

    /// The next folder to read, once one is queued; `None` when none is queued and none is
    /// being read (which could queue more), or the walk failed.
    fn next(&self) -> Option<F> {
        let mut state = self.lock();
        loop {
            if state.failed.is_some() || state.panicked {
                return None;
            }
            if let Some(f) = state.queue.pop() {
                state.reading += 1;
                return Some(f);
            }
            if state.reading == 0 {
                return None;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Every entry of `folder` through `v.visit`: the outer error is the folder's own (it cannot
/// be read), the inner one `visit`'s.
fn read_folder<V: Visit>(
    v: &V,
    folder: &V::Folder,
    folders: &mut Vec<V::Folder>,
    items: &mut Vec<V::Item>,
) -> std::io::Result<Result<(), V::Error>> {
    for entry in std::fs::read_dir(v.path(folder))? {
        let found = Found {
            folders: &mut *folders,
            items: &mut *items,
        };
        if let Err(e) = v.visit(folder, entry?, found) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}
