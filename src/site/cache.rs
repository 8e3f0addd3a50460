//! The local hash cache: a file's MD5 from the last run (and what a HEAD proved of its object),
//! trusted only while everything the file system changes with a file's content is unchanged
//! (size, modification and change times to the nanosecond, inode, device). On Windows, which
//! has no change time and no stable inode in std, the stamp is weaker: size, last-write time and
//! creation time (100 ns ticks), see [`Stamp::of`].
//!
//! Owns: the cache file (one per source folder, under the user's cache directory, never inside
//! the site; read on its own thread while the run goes on to its first request), lookups (a hit
//! is taken out), and the atomic save of what the run hashed. Must not: decide anything about
//! uploads, or trust an entry whose stamp differs in any field. The change time (ctime) cannot be
//! set back by tools like `touch`, so rewriting a file with the same size and an old mtime still
//! misses.

use crate::content::coding::{Coding, FirstBytes};
use crate::content::digest::Md5;
use crate::content::etag::ETag;
use crate::site::compress;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A file modified this recently (seconds) is not cached: a change within the same timestamp
/// tick as the read would go unnoticed.
const RACY_SECONDS: i64 = 2;
/// First line of the file: the format version, then the encoders' fingerprint (or `-`).
const HEADER: &str = "s3site-hash-cache 3";

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
    /// Its compressed body, when a rule compressed it (boxed: most files have none, and the
    /// cache holds one `Hashed` per file).
    pub coded: Option<Box<Coded>>,
    /// The object a HEAD proved holds this file's bytes, when its ETag is not their MD5.
    pub proof: Option<Box<Proof>>,
}

/// What a HEAD proved: the object listed with this ETag and size holds the file's bytes in this
/// coding (its ETag is not their MD5: uploaded in parts by another tool, or encrypted with
/// SSE-KMS). While the file's stamp and the listing both stay the same, the next run needs no
/// HEAD to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// The object's ETag, as listed.
    pub etag: ETag,
    /// Its size.
    pub size: u64,
    /// The coding of the bytes it holds (`None`: the file itself).
    pub coding: Option<Coding>,
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

/// The entries read from a cache file, sorted by path and found by binary search: a vector
/// the size of the file (a hash table of 100,000 entries was 20 MB, a quarter of it empty).
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    rows: Vec<(Box<str>, Option<Entry>)>,
    /// Rows not taken yet.
    left: usize,
}

impl Table {
    fn new(mut rows: Vec<(Box<str>, Option<Entry>)>) -> Table {
        if !rows.is_sorted_by(|a, b| a.0 <= b.0) {
            rows.sort_by(|a, b| a.0.cmp(&b.0));
        }
        rows.dedup_by(|a, b| a.0 == b.0);
        Table {
            left: rows.len(),
            rows,
        }
    }

    fn find(&self, path: &str) -> Option<usize> {
        self.rows.binary_search_by(|(p, _)| (**p).cmp(path)).ok()
    }

    /// The entry of `path`, if not taken yet (for tests).
    #[cfg(test)]
    fn get(&self, path: &str) -> Option<&Entry> {
        self.rows[self.find(path)?].1.as_ref()
    }

    /// Takes the entry of `path` out. The rows shrink as the run takes them (the run's hashed
    /// files fill up meanwhile): each time a quarter of them is taken, the rest are moved
    /// together and the vector fitted to them, so the table is gone by the end of the hashing.
    /// In place: a copy beside it would be the run's peak.
    fn take(&mut self, path: &str) -> Option<Entry> {
        let i = self.find(path)?;
        let e = self.rows[i].1.take()?;
        self.left -= 1;
        if self.left * 4 < self.rows.len() * 3 {
            self.rows.retain(|(_, e)| e.is_some());
            self.rows.shrink_to_fit();
        }
        Some(e)
    }

    fn is_empty(&self) -> bool {
        self.left == 0
    }
}

/// The entries read from the file that this run has not taken yet, and whether the file must
/// be written again (an entry missed, or a file hashed anew).
///
/// A hit takes its entry out: what it holds lives on in the run's hashed file, and `save`
/// writes the cache from those. So the cache holds no second copy of every file while the
/// run goes on (at 100,000 files a map of them all was 27 MB).
#[derive(Debug, Default)]
struct Entries {
    by_path: Table,
    changed: bool,
}

/// The cache of one source folder.
#[derive(Debug, Default)]
pub struct HashCache {
    /// Where it is saved; `None`: not saved (disabled).
    file: Option<PathBuf>,
    /// The source folder as given: entries are kept by path relative to it (shorter than the
    /// whole path, and the same however the folder is spelt).
    source: PathBuf,
    entries: Mutex<Entries>,
    /// The cache file being read on its own thread: `open` returns at once (reading 100,000
    /// entries takes about 100 ms, which stood before the first request) and the first use
    /// waits for it, while the listing is under way.
    reading: Mutex<Option<std::thread::JoinHandle<Table>>>,
}

/// The entries read from a cache file, none taken yet.
fn read(by_path: Table) -> Mutex<Entries> {
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
            entries: read(Table::new(vec![(
                path.to_string_lossy().into(),
                Some(entry),
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
        let read_file = {
            let file = file.clone();
            // Line by line: the whole text beside the entries was 14 MB at 100,000 files.
            move || {
                std::fs::File::open(&file)
                    .ok()
                    .map(|f| {
                        let size = f.metadata().map_or(0, |m| m.len());
                        parse(io::BufReader::new(f), size, compress::fingerprint)
                    })
                    .unwrap_or_default()
            }
        };
        let (entries, reading) = match std::thread::Builder::new()
            .name("hash cache".into())
            .spawn(read_file.clone())
        {
            Ok(thread) => (Table::default(), Some(thread)),
            Err(_) => (read_file(), None),
        };
        HashCache {
            file: Some(file),
            source: source.to_path_buf(),
            entries: read(entries),
            reading: Mutex::new(reading),
        }
    }

    /// `path` as the cache keeps it: relative to the source folder.
    fn key<'p>(&self, path: &'p Path) -> Option<&'p str> {
        path.strip_prefix(&self.source).unwrap_or(path).to_str()
    }

    /// The entries, once the cache file is read.
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let reading = self
            .reading
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(thread) = reading {
            // A panic while reading (a bug) leaves the cache empty: every file is hashed.
            entries.by_path = thread.join().unwrap_or_default();
        }
        entries
    }

    /// What was remembered of `path`, if its stamp is exactly the same; taken out of the cache
    /// either way (`save` writes what the run hashed).
    pub fn take(&self, path: &Path, stamp: &Stamp) -> Option<Hashed> {
        let key = self.key(path)?;
        let mut entries = self.lock();
        let e = entries.by_path.take(key)?;
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

    /// Makes the next `save` write, for what the run learned after hashing (proofs).
    pub fn mark_changed(&self) {
        self.lock().changed = true;
    }

    /// Saves `remembered`: what this run hashed, each file's path, stamp and hash (atomically:
    /// a temporary file renamed over the old one). Nothing is written when every entry read was
    /// taken and nothing was hashed anew; the entries not taken (files this run did not see)
    /// drop out.
    pub fn save<P: AsRef<Path>>(
        &self,
        remembered: impl Iterator<Item = (P, Stamp, Hashed)> + Clone,
    ) -> io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        {
            let mut entries = self.lock();
            if !entries.changed && entries.by_path.is_empty() {
                return Ok(());
            }
            entries.by_path = Table::default();
            entries.changed = false;
        }
        let lines = remembered
            .filter_map(|(p, s, h)| Some((self.key(p.as_ref())?.to_string(), s, h)))
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
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    hex::encode(h.md5),
                    u8::from(h.is_utf8),
                    hex::encode(h.first_bytes.as_slice()),
                    coded_field(h.coded.as_deref()),
                    s.size,
                    s.mtime_ns,
                    s.ctime_ns,
                    s.ino,
                    s.dev,
                    proof_field(h.proof.as_deref()),
                    path
                )?;
            }
            w.flush()?;
        }
        tmp.persist(file).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Bytes of a cache line, at least (hashes, stamp, a short path): sizes the table from the file's
/// length, instead of growing it by doubling (up to twice the entries).
const MIN_LINE: u64 = 100;

/// The entries of a cache file of `size` bytes; compressed bodies only if the file's encoder
/// fingerprint is `fingerprint()` (asked only when the file has any).
fn parse(text: impl io::BufRead, size: u64, fingerprint: impl FnOnce() -> &'static str) -> Table {
    let mut lines = text.lines().map_while(Result::ok);
    let Some(saved) = lines.next().and_then(|h| {
        h.strip_prefix(HEADER)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(str::to_string)
    }) else {
        return Table::default();
    };
    let mut rows = Vec::with_capacity(usize::try_from(size / MIN_LINE).unwrap_or(0));
    rows.extend(lines.filter_map(|l| parse_line(&l)));
    rows.shrink_to_fit();
    if saved == "-" || saved != fingerprint() {
        // Other encoders: what was proved of a compressed body may not hold for theirs.
        for e in rows.iter_mut().filter_map(|(_, e)| e.as_mut()) {
            e.hashed.coded = None;
            if e.hashed.proof.as_ref().is_some_and(|p| p.coding.is_some()) {
                e.hashed.proof = None;
            }
        }
    }
    Table::new(rows)
}

fn parse_line(line: &str) -> Option<(Box<str>, Option<Entry>)> {
    // The path goes last: it holds no tab.
    let f: Vec<&str> = line.splitn(11, '\t').collect();
    let &[
        md5,
        utf8,
        first,
        coded,
        size,
        mtime,
        ctime,
        ino,
        dev,
        proof,
        path,
    ] = f.as_slice()
    else {
        return None;
    };
    let proof = parse_proof(proof)?.map(Box::new);
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
        is_utf8: utf8 == "1",
        first_bytes: first_bytes(first)?,
        coded: parse_coded(coded)?.map(Box::new),
        proof,
    };
    Some((path.into(), Some(Entry { stamp, hashed })))
}

/// First bytes written in hex; `None` when malformed or longer than a `FirstBytes` holds.
fn first_bytes(field: &str) -> Option<FirstBytes> {
    let bytes = hex::decode(field).ok()?;
    (bytes.len() <= crate::content::coding::FIRST_BYTES).then(|| FirstBytes::of(&bytes))
}

/// `-`, or `CODING:SIZE:ETAG` (`CODING` is `-` for the file itself; the ETag goes last, as it
/// may hold a colon).
fn proof_field(p: Option<&Proof>) -> String {
    match p {
        None => "-".to_string(),
        Some(p) => format!(
            "{}:{}:{}",
            p.coding.map_or("-", |c| c.as_str()),
            p.size,
            p.etag
        ),
    }
}

/// The inverse of `proof_field`: `Some(None)` for `-`, `None` when malformed.
fn parse_proof(field: &str) -> Option<Option<Proof>> {
    if field == "-" {
        return Some(None);
    }
    let mut parts = field.splitn(3, ':');
    let coding = match parts.next()? {
        "-" => None,
        c => Some(Coding::from_header(c)?),
    };
    let size = parts.next()?.parse().ok()?;
    let etag = ETag::parse(parts.next()?);
    Some(Some(Proof { etag, size, coding }))
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
