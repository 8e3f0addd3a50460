//! Which unfinished multipart uploads this machine's own runs started, so a later run can tell
//! the upload of a run that was killed (abort it) from another process's live one (leave it).
//!
//! Owns: one small file per multipart upload in flight, under s3site's cache folder
//! (`uploads/`), holding an exclusive lock for as long as the upload runs and removed when it
//! ends. A file whose lock can be taken belongs to a run that is gone. Must not: talk to the
//! store, or fail an upload (without a cache folder, nothing is remembered).

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::PathBuf;

/// The uploads folder.
#[derive(Clone, Debug)]
pub(crate) struct Journal {
    dir: Option<PathBuf>,
}

/// One upload in flight: the file stays locked while this lives, and is removed when dropped.
pub(crate) struct Entry {
    path: PathBuf,
    _file: File,
    keep: bool,
}

impl Entry {
    /// Ends this process's hold on the upload but keeps its file: the upload is still open
    /// (its abort failed), so the next run that uploads the key aborts it.
    pub(crate) fn leave_open(mut self) {
        self.keep = true;
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Journal {
    /// The journal in s3site's cache folder.
    pub(crate) fn new(state_dir: Option<&std::path::Path>) -> Journal {
        Journal {
            dir: state_dir.map(|d| d.join("uploads")),
        }
    }

    fn path(&self, bucket: &str, key: &str, upload_id: &str) -> Option<PathBuf> {
        let id = format!("{bucket}\n{key}\n{upload_id}");
        let name = hex::encode(crate::content::digest::md5_of(id.as_bytes()));
        self.dir.as_ref().map(|d| d.join(format!("{name}.upload")))
    }

    /// Records that this process runs upload `upload_id` of `key`, until the entry is dropped.
    pub(crate) fn begin(&self, bucket: &str, key: &str, upload_id: &str) -> Option<Entry> {
        let path = self.path(bucket, key, upload_id)?;
        std::fs::create_dir_all(path.parent()?).ok()?;
        let mut file = File::create(&path).ok()?;
        file.try_lock().ok()?;
        // For whoever looks: what the lock is about.
        let _ = writeln!(file, "{bucket}\n{key}\n{upload_id}\n{}", std::process::id());
        Some(Entry {
            path,
            _file: file,
            keep: false,
        })
    }

    /// Whether upload `upload_id` of `key` was started by a run of this machine that is gone
    /// (its file is there and nobody holds its lock). Forgets it if so.
    pub(crate) fn abandoned(&self, bucket: &str, key: &str, upload_id: &str) -> bool {
        let Some(path) = self.path(bucket, key, upload_id) else {
            return false;
        };
        let Ok(file) = File::open(&path) else {
            return false;
        };
        match file.try_lock() {
            Ok(()) => {
                let _ = std::fs::remove_file(&path);
                true
            }
            Err(TryLockError::WouldBlock) => false,
            Err(TryLockError::Error(_)) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_upload_is_not_abandoned_and_a_finished_process_s_is() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal {
            dir: Some(dir.path().join("uploads")),
        };
        let live = j.begin("b", "k", "id-1").expect("journal entry");
        assert!(!j.abandoned("b", "k", "id-1"), "its lock is held");
        assert!(!j.abandoned("b", "k", "id-2"), "never recorded");
        drop(live);
        // A killed run leaves its file, with no lock on it.
        let path = j.path("b", "k", "id-1").expect("path");
        std::fs::write(&path, "b\nk\nid-1\n0\n").expect("write");
        assert!(j.abandoned("b", "k", "id-1"));
        assert!(!path.exists(), "forgotten once found");
        // An upload whose abort failed is left for the next run to find.
        let open = j.begin("b", "k", "id-4").expect("entry");
        open.leave_open();
        assert!(j.abandoned("b", "k", "id-4"));
        // A finished upload leaves nothing behind.
        let done = j.begin("b", "k", "id-3").expect("entry");
        let p3 = done.path.clone();
        drop(done);
        assert!(!p3.exists());
    }
}
