//! The local hash cache: a file's MD5 from the last run, trusted only while everything the file
//! system changes with a file's content is unchanged (size, modification and change times to the
//! nanosecond, inode, device). On Windows, which has no change time and no stable inode in std,
//! the stamp is weaker: size, last-write time and creation time (100 ns ticks), see [`Stamp::of`].
//!
//! Owns: the cache file (one per source folder, under the user's cache directory, never inside
//! the site), lookups, inserts and the atomic save. Must not: decide anything about uploads, or
//! trust an entry whose stamp differs in any field. The change time (ctime) cannot be set back by
//! tools like `touch`, so rewriting a file with the same size and an old mtime still misses.

use crate::content::coding::{Coding, FirstBytes};
use crate::content::digest::Md5;
use crate::site::compress;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A file modified this recently (seconds) is not cached: a change within the same timestamp
/// tick as the read would go unnoticed.
const RACY_SECONDS: i64 = 2;
/// First line of the file: the format version, then the encoders' fingerprint (or `-`).
const HEADER: &str = "s3site-hash-cache 2";

/// What the file system says about a file's content (times in nanoseconds since 1970: an `i64`
/// reaches 2262, and keeps the stamp that every cached file carries at 40 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
    dev: u64,
}

impl Stamp {
    /// The stamp of a file's metadata: on Unix (Linux, macOS, the BSDs) size, mtime and ctime to
    /// the nanosecond, inode and device.
    #[cfg(unix)]
    pub fn of(m: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            size: m.len(),
            mtime_ns: m.mtime().saturating_mul(1_000_000_000) + m.mtime_nsec(),
            ctime_ns: m.ctime().saturating_mul(1_000_000_000) + m.ctime_nsec(),
            ino: m.ino(),
            dev: m.dev(),
        }
    }

    /// The stamp of a file's metadata elsewhere (Windows): size, last-write time and creation
    /// time, which is weaker than Unix's. Windows' file index and volume serial are not in
    /// stable std, and there is no change time, so a tool that rewrites a file with the same
    /// size and then sets its old last-write time back is not noticed. `--no-cache` hashes
    /// every file.
    #[cfg(not(unix))]
    pub fn of(m: &std::fs::Metadata) -> Stamp {
        let ns = |t: std::io::Result<SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        };
        Stamp {
            size: m.len(),
            mtime_ns: ns(m.modified()),
            ctime_ns: ns(m.created()),
            ino: 0,
            dev: 0,
        }
    }
}

/// What is remembered of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hashed {
    /// MD5 of the whole file.
    pub md5: Md5,
    /// Whether it is valid UTF-8 (as measured for its type).
    pub is_utf8: bool,
    /// Its first bytes.
    pub first_bytes: FirstBytes,
    /// Its compressed body, when a rule compressed it.
    pub coded: Option<Coded>,
}

/// What is remembered of a file's compressed body (valid only under the same encoders:
/// `compress::fingerprint`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coded {
    /// The coding.
    pub coding: Coding,
    /// The compressed bytes; `None` when compressing did not make the file smaller.
    pub body: Option<CodedBody>,
}

/// Size, MD5 and first bytes of a compressed body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodedBody {
    /// Size in bytes.
    pub size: u64,
    /// MD5.
    pub md5: Md5,
    /// First bytes.
    pub first_bytes: FirstBytes,
}

/// One remembered file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    stamp: Stamp,
    hashed: Hashed,
}

/// The entries read from the file that this run has not taken yet, by path, and whether the
/// file must be written again (an entry missed, or a file hashed anew).
///
/// A hit takes its entry out: what it holds lives on in the run's hashed file, and `save`
/// writes the cache from those. So the cache holds no second copy of every file while the
/// run goes on (at 100,000 files a map of them all was 27 MB).
#[derive(Debug, Default)]
struct Entries {
    by_path: HashMap<String, Entry>,
    changed: bool,
}

/// The cache of one source folder.
#[derive(Debug, Default)]
pub struct HashCache {
    /// Where it is saved; `None`: not saved (disabled).
    file: Option<PathBuf>,
    entries: Mutex<Entries>,
}

/// The entries read from a cache file, none taken yet.
fn read(by_path: HashMap<String, Entry>) -> Mutex<Entries> {
    Mutex::new(Entries {
        by_path,
        changed: false,
    })
}

impl HashCache {
    /// A cache that remembers nothing.
    pub fn disabled() -> HashCache {
        HashCache::default()
    }

    /// A cache that remembers `hashed` for `path` as of `stamp` (for tests elsewhere).
    #[cfg(test)]
    pub fn seeded(path: &Path, stamp: Stamp, hashed: Hashed) -> HashCache {
        let entry = Entry { stamp, hashed };
        HashCache {
            entries: read(HashMap::from([(
                path.to_string_lossy().into_owned(),
                entry,
            )])),
            ..HashCache::default()
        }
    }

    /// The cache of `source` (a folder), kept in `dir` (`settings::state_dir`); none without
    /// a `dir`. A missing, unreadable or corrupt file is an empty cache.
    pub fn open(dir: Option<&Path>, source: &Path) -> HashCache {
        let Some(dir) = dir else {
            return HashCache::disabled();
        };
        let canonical = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
        let id = hex::encode(crate::content::digest::md5_of(
            canonical.to_string_lossy().as_bytes(),
        ));
        let file = dir.join(format!("hashes-{id}"));
        let entries = std::fs::read_to_string(&file)
            .ok()
            .map(|text| parse(&text, compress::fingerprint))
            .unwrap_or_default();
        HashCache {
            file: Some(file),
            entries: read(entries),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What was remembered of `path`, if its stamp is exactly the same; taken out of the cache
    /// either way (`save` writes what the run hashed).
    pub fn take(&self, path: &Path, stamp: &Stamp) -> Option<Hashed> {
        let key = path.to_str()?;
        let mut entries = self.lock();
        let e = entries.by_path.remove(key)?;
        if e.stamp != *stamp {
            entries.changed = true;
            return None;
        }
        Some(e.hashed)
    }

    /// Whether a file just hashed with `stamp` may be remembered (not when this cache is
    /// disabled, or the file was modified too recently to trust its stamp); if so, the cache
    /// will be saved.
    pub fn admits(&self, stamp: &Stamp) -> bool {
        if self.file.is_none() {
            return false;
        }
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        let newest = stamp.mtime_ns.max(stamp.ctime_ns);
        if now_ns.saturating_sub(newest) < RACY_SECONDS * 1_000_000_000 {
            return false;
        }
        self.lock().changed = true;
        true
    }

    /// Saves `remembered`: what this run hashed, each file's path, stamp and hash (atomically:
    /// a temporary file renamed over the old one). Nothing is written when every entry read was
    /// taken and nothing was hashed anew; the entries not taken (files this run did not see)
    /// drop out.
    pub fn save<'a>(
        &self,
        remembered: impl Iterator<Item = (&'a Path, Stamp, Hashed)> + Clone,
    ) -> io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        {
            let mut entries = self.lock();
            if !entries.changed && entries.by_path.is_empty() {
                return Ok(());
            }
            entries.by_path = HashMap::new();
            entries.changed = false;
        }
        let lines = remembered
            .filter_map(|(p, s, h)| Some((p.to_str()?, s, h)))
            .filter(|(p, _, _)| !p.contains(['\t', '\n', '\r']));
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut w = io::BufWriter::new(tmp.as_file_mut());
            let coded = lines.clone().any(|(_, _, h)| h.coded.is_some());
            let fingerprint = if coded { compress::fingerprint() } else { "-" };
            writeln!(w, "{HEADER} {fingerprint}")?;
            for (path, s, h) in lines {
                writeln!(
                    w,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    hex::encode(h.md5),
                    u8::from(h.is_utf8),
                    hex::encode(h.first_bytes.as_slice()),
                    coded_field(h.coded.as_ref()),
                    s.size,
                    s.mtime_ns,
                    s.ctime_ns,
                    s.ino,
                    s.dev,
                    path
                )?;
            }
            w.flush()?;
        }
        tmp.persist(file).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The entries of a cache file; compressed bodies only if the file's encoder
/// fingerprint is `fingerprint()` (asked only when the file has any).
fn parse(text: &str, fingerprint: impl FnOnce() -> &'static str) -> HashMap<String, Entry> {
    let mut lines = text.lines();
    let Some(saved) = lines
        .next()
        .and_then(|h| h.strip_prefix(HEADER))
        .and_then(|rest| rest.strip_prefix(' '))
    else {
        return HashMap::new();
    };
    let mut entries: HashMap<String, Entry> = lines.filter_map(parse_line).collect();
    if saved == "-" || saved != fingerprint() {
        for e in entries.values_mut() {
            e.hashed.coded = None;
        }
    }
    entries
}

fn parse_line(line: &str) -> Option<(String, Entry)> {
    let f: Vec<&str> = line.splitn(10, '\t').collect();
    let [md5, utf8, first, coded, size, mtime, ctime, ino, dev, path] = f.as_slice() else {
        return None;
    };
    let md5: Md5 = hex::decode(md5).ok()?.try_into().ok()?;
    let stamp = Stamp {
        size: size.parse().ok()?,
        mtime_ns: mtime.parse().ok()?,
        ctime_ns: ctime.parse().ok()?,
        ino: ino.parse().ok()?,
        dev: dev.parse().ok()?,
    };
    let hashed = Hashed {
        md5,
        is_utf8: *utf8 == "1",
        first_bytes: first_bytes(first)?,
        coded: parse_coded(coded)?,
    };
    Some((path.to_string(), Entry { stamp, hashed }))
}

/// First bytes written in hex; `None` when malformed or longer than a `FirstBytes` holds.
fn first_bytes(field: &str) -> Option<FirstBytes> {
    let bytes = hex::decode(field).ok()?;
    (bytes.len() <= crate::content::coding::FIRST_BYTES).then(|| FirstBytes::of(&bytes))
}

/// `-`, `CODING:nogain` or `CODING:SIZE:MD5:FIRST`.
fn coded_field(c: Option<&Coded>) -> String {
    match c {
        None => "-".to_string(),
        Some(Coded { coding, body: None }) => format!("{}:nogain", coding.as_str()),
        Some(Coded {
            coding,
            body: Some(b),
        }) => format!(
            "{}:{}:{}:{}",
            coding.as_str(),
            b.size,
            hex::encode(b.md5),
            hex::encode(b.first_bytes.as_slice())
        ),
    }
}

/// The inverse of `coded_field`: `Some(None)` for `-`, `None` when malformed.
fn parse_coded(field: &str) -> Option<Option<Coded>> {
    if field == "-" {
        return Some(None);
    }
    let mut parts = field.split(':');
    let coding = Coding::from_header(parts.next()?)?;
    let rest: Vec<&str> = parts.collect();
    let body = match rest.as_slice() {
        ["nogain"] => None,
        [size, md5, first] => Some(CodedBody {
            size: size.parse().ok()?,
            md5: hex::decode(md5).ok()?.try_into().ok()?,
            first_bytes: first_bytes(first)?,
        }),
        _ => return None,
    };
    Some(Some(Coded { coding, body }))
}

#[cfg(test)]
mod tests;
