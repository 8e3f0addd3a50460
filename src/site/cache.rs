//! The local hash cache: a file's MD5 from the last run, trusted only while everything the file
//! system changes with a file's content is unchanged (size, modification and change times to the
//! nanosecond, inode, device). On Windows, which has no change time and no stable inode in std,
//! the stamp is weaker: size, last-write time and creation time (100 ns ticks), see [`Stamp::of`].
//!
//! Owns: the cache file (one per source folder, under the user's cache directory, never inside
//! the site), lookups, inserts and the atomic save. Must not: decide anything about uploads, or
//! trust an entry whose stamp differs in any field. The change time (ctime) cannot be set back by
//! tools like `touch`, so rewriting a file with the same size and an old mtime still misses.

use crate::content::coding::Coding;
use crate::content::digest::Md5;
use crate::site::compress;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A file modified this recently (seconds) is not cached: a change within the same timestamp
/// tick as the read would go unnoticed.
const RACY_SECONDS: i128 = 2;
/// First line of the file: the format version, then the encoders' fingerprint (or `-`).
const HEADER: &str = "s3site-hash-cache 2";

/// What the file system says about a file's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
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
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
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
                .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
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
    pub first_bytes: Vec<u8>,
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
    pub first_bytes: Vec<u8>,
}

/// One remembered file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    stamp: Stamp,
    hashed: Hashed,
    /// Found or put by this run: only these are saved, so deleted files drop out.
    seen: bool,
}

/// The entries, by path, and whether this run put any (one map for what was read and what this
/// run saw: at 100,000 files two maps held 55 MB).
#[derive(Debug, Default)]
struct Entries {
    by_path: HashMap<String, Entry>,
    put: bool,
}

/// The cache of one source folder.
#[derive(Debug, Default)]
pub struct HashCache {
    /// Where it is saved; `None`: not saved (disabled).
    file: Option<PathBuf>,
    entries: Mutex<Entries>,
}

/// The entries read from a cache file (none of them seen yet), before this run put any.
fn unseen(by_path: HashMap<String, Entry>) -> Mutex<Entries> {
    Mutex::new(Entries {
        by_path,
        put: false,
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
        HashCache {
            entries: unseen(HashMap::from([(
                path.to_string_lossy().into_owned(),
                Entry {
                    stamp,
                    hashed,
                    seen: false,
                },
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
        let read = std::fs::read_to_string(&file)
            .ok()
            .map(|text| parse(&text, compress::fingerprint))
            .unwrap_or_default();
        HashCache {
            file: Some(file),
            entries: unseen(read),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What was remembered of `path`, if its stamp is exactly the same.
    pub fn get(&self, path: &Path, stamp: &Stamp) -> Option<Hashed> {
        let key = path.to_str()?;
        let mut entries = self.lock();
        let e = entries.by_path.get_mut(key)?;
        if e.stamp != *stamp {
            return None;
        }
        e.seen = true;
        Some(e.hashed.clone())
    }

    /// Remembers `path`'s hash, unless it was modified too recently to trust its stamp.
    pub fn put(&self, path: &Path, stamp: Stamp, hashed: Hashed) {
        let Some(key) = path.to_str().filter(|k| !k.contains(['\t', '\n', '\r'])) else {
            return;
        };
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let newest = stamp.mtime_ns.max(stamp.ctime_ns);
        if now_ns - newest < RACY_SECONDS * 1_000_000_000 {
            return;
        }
        let entry = Entry {
            stamp,
            hashed,
            seen: true,
        };
        let mut entries = self.lock();
        entries.by_path.insert(key.to_string(), entry);
        entries.put = true;
    }

    /// Saves what this run saw (atomically: a temporary file renamed over the old one).
    pub fn save(&self) -> io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let entries = self.lock();
        if !entries.put && entries.by_path.values().all(|e| e.seen) {
            return Ok(());
        }
        let new = entries.by_path.iter().filter(|(_, e)| e.seen);
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut w = io::BufWriter::new(tmp.as_file_mut());
            let coded = new.clone().any(|(_, e)| e.hashed.coded.is_some());
            let fingerprint = if coded { compress::fingerprint() } else { "-" };
            writeln!(w, "{HEADER} {fingerprint}")?;
            for (path, e) in new {
                let (s, h) = (&e.stamp, &e.hashed);
                writeln!(
                    w,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    hex::encode(h.md5),
                    u8::from(h.is_utf8),
                    hex::encode(&h.first_bytes),
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

/// The entries of a cache file, none seen yet; compressed bodies only if the file's encoder
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
        first_bytes: hex::decode(first).ok()?,
        coded: parse_coded(coded)?,
    };
    let entry = Entry {
        stamp,
        hashed,
        seen: false,
    };
    Some((path.to_string(), entry))
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
            hex::encode(&b.first_bytes)
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
            first_bytes: hex::decode(first).ok()?,
        }),
        _ => return None,
    };
    Some(Some(Coded { coding, body }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::digest::md5_of;

    fn old_file(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        set_mtime(&p, 1_600_000_000);
        p
    }

    fn set_mtime(p: &Path, secs: u64) {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(secs);
        let f = std::fs::File::options().write(true).open(p).unwrap();
        f.set_modified(t).unwrap();
    }

    fn hashed(body: &[u8]) -> Hashed {
        Hashed {
            md5: md5_of(body),
            is_utf8: true,
            first_bytes: body.iter().take(8).copied().collect(),
            coded: None,
        }
    }

    fn stamp(p: &Path) -> Stamp {
        Stamp::of(&std::fs::metadata(p).unwrap())
    }

    #[test]
    fn a_file_this_run_did_not_see_drops_out_of_the_saved_cache() {
        let site = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let file = cache_dir.path().join("h");
        let (a, b) = (site.path().join("a.css"), site.path().join("b.css"));
        // Stamps of files written long ago (old enough to be cached).
        let old = |ago: i128| {
            let mut s = stamp(cache_dir.path());
            s.mtime_ns -= ago;
            s.ctime_ns -= ago;
            s
        };
        let (sa, sb) = (old(10_000_000_000), old(20_000_000_000));
        let c = HashCache {
            file: Some(file.clone()),
            ..HashCache::default()
        };
        c.put(&a, sa, hashed(b"a{}"));
        c.put(&b, sb, hashed(b"b{}"));
        c.save().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        // The next run sees only a.css (b.css was deleted).
        let next = HashCache {
            file: Some(file.clone()),
            entries: unseen(parse(&text, compress::fingerprint)),
        };
        assert_eq!(next.get(&a, &sa), Some(hashed(b"a{}")));
        next.save().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let again = HashCache {
            file: Some(file),
            entries: unseen(parse(&text, compress::fingerprint)),
        };
        assert_eq!(again.get(&a, &sa), Some(hashed(b"a{}")));
        assert_eq!(again.get(&b, &sb), None, "b.css is forgotten");
    }

    #[test]
    fn a_saved_hash_is_found_again_while_the_file_is_untouched() {
        let site = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let p = old_file(site.path(), "a.css", b"body{}");
        // ctime is now: too recent to trust yet.
        let c = HashCache {
            file: Some(cache_dir.path().join("h")),
            ..HashCache::default()
        };
        c.put(&p, stamp(&p), hashed(b"body{}"));
        // Windows' stamp has no change time: a file with an old mtime looks old there.
        assert!(
            c.lock().by_path.is_empty() || cfg!(not(unix)),
            "a just-changed file is not cached"
        );

        // Pretend the file was written long ago.
        let mut s = stamp(&p);
        s.ctime_ns -= 10_000_000_000;
        c.put(&p, s, hashed(b"body{}"));
        c.save().unwrap();
        let text = std::fs::read_to_string(cache_dir.path().join("h")).unwrap();
        let again = HashCache {
            file: Some(cache_dir.path().join("h")),
            entries: unseen(parse(&text, compress::fingerprint)),
        };
        assert_eq!(again.get(&p, &s), Some(hashed(b"body{}")));
        let mut other = s;
        other.mtime_ns += 1;
        assert_eq!(
            again.get(&p, &other),
            None,
            "any change in the stamp misses"
        );
    }

    /// The path a run takes: `open` the cache of a site, remember, `save`; the next run's
    /// `open` finds every MD5 again.
    #[test]
    fn what_one_run_saves_the_next_run_opens() {
        let site = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let p = old_file(site.path(), "a.css", b"body{}");
        let mut s = stamp(&p);
        s.ctime_ns -= 10_000_000_000;
        let first = HashCache::open(Some(cache_dir.path()), site.path());
        assert_eq!(first.get(&p, &s), None, "nothing saved yet");
        first.put(&p, s, hashed(b"body{}"));
        first.save().unwrap();
        let next = HashCache::open(Some(cache_dir.path()), site.path());
        assert_eq!(next.get(&p, &s), Some(hashed(b"body{}")));
        let other_site = tempfile::tempdir().unwrap();
        let other = HashCache::open(Some(cache_dir.path()), other_site.path());
        assert_eq!(other.get(&p, &s), None, "each site has its own cache");
        assert_eq!(
            HashCache::open(None, site.path()).get(&p, &s),
            None,
            "no cache folder, no cache"
        );
    }

    // Unix only: Windows has no change time (the weaker stamp of `Stamp::of`).
    #[cfg(unix)]
    #[test]
    fn rewriting_with_the_same_size_and_an_old_mtime_changes_the_stamp() {
        let site = tempfile::tempdir().unwrap();
        let p = old_file(site.path(), "a.css", b"body{}");
        let before = stamp(&p);
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&p, b"BODY{}").unwrap();
        set_mtime(&p, 1_600_000_000);
        let after = stamp(&p);
        assert_eq!((before.size, before.mtime_ns), (after.size, after.mtime_ns));
        assert_ne!(
            before, after,
            "ctime moved: the cache cannot be fooled by touch"
        );
    }

    #[test]
    fn a_corrupt_or_foreign_file_is_an_empty_cache() {
        let fp = || "f";
        assert!(parse("garbage\nmore", fp).is_empty());
        assert!(parse(&format!("{HEADER} f\nnot\ta\tline"), fp).is_empty());
        assert!(
            parse("s3site-hash-cache 1\n", fp).is_empty(),
            "an older format is ignored"
        );
    }

    /// Compressed bodies round-trip, and are forgotten (the plain hash kept) when the encoders'
    /// fingerprint differs from the one they were saved under.
    #[test]
    fn compressed_bodies_are_kept_only_under_the_same_encoders() {
        let site = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let c = HashCache {
            file: Some(cache_dir.path().join("h")),
            ..HashCache::default()
        };
        let mut entries = Vec::new();
        for (name, coded) in [
            ("a.html", None),
            (
                "b.html",
                Some(Coded {
                    coding: Coding::Gzip,
                    body: Some(CodedBody {
                        size: 31,
                        md5: md5_of(b"gz"),
                        first_bytes: vec![0x1f, 0x8b, 8, 0],
                    }),
                }),
            ),
            (
                "c.js",
                Some(Coded {
                    coding: Coding::Br,
                    body: None,
                }),
            ),
        ] {
            let p = old_file(site.path(), name, name.as_bytes());
            let mut s = stamp(&p);
            s.ctime_ns -= 10_000_000_000;
            let h = Hashed {
                coded,
                ..hashed(name.as_bytes())
            };
            c.put(&p, s, h.clone());
            entries.push((p, s, h));
        }
        c.save().unwrap();
        let text = std::fs::read_to_string(cache_dir.path().join("h")).unwrap();
        assert!(text.starts_with(&format!("{HEADER} {}\n", compress::fingerprint())));
        let same = parse(&text, compress::fingerprint);
        for (p, s, h) in &entries {
            let entry = Entry {
                stamp: *s,
                hashed: h.clone(),
                seen: false,
            };
            assert_eq!(same.get(p.to_str().unwrap()), Some(&entry));
        }
        let other = parse(&text, || "another encoder");
        for (p, s, h) in &entries {
            let plain = Hashed {
                coded: None,
                ..h.clone()
            };
            let entry = Entry {
                stamp: *s,
                hashed: plain,
                seen: false,
            };
            assert_eq!(other.get(p.to_str().unwrap()), Some(&entry));
        }
    }
}
