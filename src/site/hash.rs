//! Hashing the files a walk found.
//!
//! Owns: streaming MD5s (whole file, and per part for multipart uploads) on the blocking pool
//! with a bounded buffer; for files the rules compress, the MD5 of the compressed body too
//! (compressed as a stream into the hasher, never stored); and the hash cache lookups. Must not:
//! walk folders, talk to a store or decide what to upload.

use crate::content::coding::{self, Coding, FirstBytes};
use crate::content::digest::Md5;
use crate::content::digest::Md5Stream;
use crate::content::media;
use crate::site::SiteError as Error;
use crate::site::cache::{Coded, CodedBody, HashCache, Hashed, Proof, Stamp};
use crate::site::compress::Encoder;
use crate::site::walk::{FoundFile, Source};
use futures::{StreamExt, TryStreamExt};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Read buffer for hashing: large enough to keep MD5 busy, small enough to never matter.
const READ_BUF: usize = 256 * 1024;

/// A hashed local file: everything the planner needs to know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalFile {
    /// The S3 key it maps to (prefix included).
    pub key: String,
    /// The key is its folder's (`--strip-index-html`): the file is that folder's `index.html`.
    pub index_stripped: bool,
    /// Size in bytes, as read while hashing.
    pub size: u64,
    /// MD5 of the whole file.
    pub md5: Md5,
    /// Whether the bytes are valid UTF-8; only measured for text types (false otherwise).
    pub is_utf8: bool,
    /// The first bytes of the file: enough to recognise the magic bytes of a compressed body.
    pub first_bytes: FirstBytes,
    /// MD5 of each `part_size` part, for files at or over the multipart threshold (boxed, as
    /// the compressed body: most files have neither, and a site holds one `LocalFile` per file).
    pub parts: Option<Box<Parts>>,
    /// The compressed body, when the rules compress this file and it shrinks.
    pub compressed: Option<Box<Compressed>>,
    /// Why a file the rules compress is uploaded plain.
    pub not_compressed: Option<NotCompressed>,
    /// The coding the rules ask for (`None` too for a format compressed already).
    pub compress: Option<Coding>,
    /// The stamp the hash cache remembers this file by; `None`: not remembered (too large, or
    /// modified too recently to trust its stamp).
    pub cache_stamp: Option<Stamp>,
    /// The object an earlier run's HEAD proved holds these bytes (from the hash cache), or this
    /// run's, to be remembered.
    pub proof: Option<Box<Proof>>,
}

impl LocalFile {
    /// Where it is on disk (rebuilt from the key: see `Source`).
    pub fn path(&self, source: &Source) -> PathBuf {
        source.path(&self.key, self.index_stripped)
    }

    /// Whether `proof` is of these bytes: those this run uploads (the same coding) and only
    /// while the file is remembered unchanged.
    pub fn proven(&self, etag: &crate::content::etag::ETag, size: u64) -> bool {
        self.proof
            .as_ref()
            .is_some_and(|p| p.etag == *etag && p.size == size && p.coding == self.wire().coding)
    }
}

/// A file's compressed body, as uploaded (deterministic, so it is the same on every run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compressed {
    /// The coding.
    pub coding: Coding,
    /// Size of the compressed bytes.
    pub size: u64,
    /// Their MD5.
    pub md5: Md5,
    /// Per-part MD5s of the compressed bytes, for large files.
    pub parts: Option<Parts>,
    /// Their first bytes.
    pub first_bytes: FirstBytes,
}

/// Why a file the rules compress goes up plain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotCompressed {
    /// Its format is compressed already (png, woff2, zip...).
    Precompressed,
    /// Compressing it does not make it smaller.
    NoGain,
}

/// The bytes that go on the wire for a file: its compressed body, or the file itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wire<'a> {
    /// Size in bytes.
    pub size: u64,
    /// MD5.
    pub md5: Md5,
    /// Per-part MD5s, for large bodies.
    pub parts: Option<&'a Parts>,
    /// The coding, when compressed.
    pub coding: Option<Coding>,
}

impl LocalFile {
    /// The body that is uploaded and compared with the object's ETag.
    pub fn wire(&self) -> Wire<'_> {
        match &self.compressed {
            Some(c) => Wire {
                size: c.size,
                md5: c.md5,
                parts: c.parts.as_ref(),
                coding: Some(c.coding),
            },
            None => Wire {
                size: self.size,
                md5: self.md5,
                parts: self.parts.as_deref(),
                coding: None,
            },
        }
    }
}

/// Per-part MD5s of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parts {
    /// Bytes per part.
    pub part_size: u64,
    /// MD5 of each part.
    pub md5s: Vec<Md5>,
}

/// Hashes `files` with up to `parallel` files at once on the blocking pool. Files of
/// `multipart_threshold` bytes or more also get per-part MD5s for `part_size` parts.
/// Returns files in the order given.
pub async fn hash_all(
    source: Arc<Source>,
    files: Vec<FoundFile>,
    parallel: usize,
    multipart_threshold: u64,
    part_size: u64,
    cache: Arc<HashCache>,
) -> Result<Vec<LocalFile>, Error> {
    // Largest first, so no core is left hashing a large file alone at the end (the bench
    // site's few large files showed no measurable change; it bounds the worst case); small
    // files go in batches, so a blocking-pool task costs less than the hashing it does.
    let started = std::time::Instant::now();
    let mut sized = sizes(&source, files, parallel).await?;
    // Taken from the end: largest first, and in the order given among equal sizes.
    sized.sort_by_key(|(len, i, _)| (*len, std::cmp::Reverse(*i)));
    tracing::debug!(
        files = sized.len(),
        ms = started.elapsed().as_millis(),
        "sized for hashing"
    );
    let count = sized.len();
    // Batches are made as the hashing takes them, so only the ones in flight exist beside the
    // sorted list, and the list gives its memory back as it empties (it was the rebuild's
    // peak beside the hashed files: 72 bytes a file).
    let batches = std::iter::from_fn(move || {
        let mut batch = Vec::new();
        let mut batch_bytes = 0u64;
        while let Some(&(len, _, _)) = sized.last() {
            if !batch.is_empty() && (batch_bytes + len > BATCH_BYTES || batch.len() >= BATCH_FILES)
            {
                break;
            }
            batch_bytes += len;
            let (_, i, f) = sized.pop()?;
            batch.push((i, f));
        }
        if sized.len() < sized.capacity() / 2 {
            sized.shrink_to_fit();
        }
        (!batch.is_empty()).then_some(batch)
    });
    // One vector of the files as they are hashed, growing while the hash cache shrinks (a
    // vector of them all made up front stood beside the whole cache: the no-op's peak).
    let mut done: Vec<(usize, LocalFile)> = Vec::new();
    let mut hashed = futures::stream::iter(batches)
        .map(|batch| {
            let (cache, source) = (cache.clone(), source.clone());
            async move {
                tokio::task::spawn_blocking(move || {
                    batch
                        .into_iter()
                        .map(|(i, f)| {
                            let path = f.path(&source);
                            let hashed =
                                hash_file(f, &path, multipart_threshold, part_size, &cache);
                            Ok((i, hashed?))
                        })
                        .collect::<Result<Vec<_>, Error>>()
                })
                .await
                .map_err(|e| Error::Task(e.to_string()))?
            }
        })
        .buffer_unordered(parallel.max(1));
    while let Some(batch) = hashed.try_next().await? {
        done.extend(batch);
    }
    debug_assert_eq!(done.len(), count);
    // Back in the order given, collected in place (no second vector), then fitted.
    done.sort_unstable_by_key(|(i, _)| *i);
    let mut files: Vec<LocalFile> = done.into_iter().map(|(_, f)| f).collect();
    files.shrink_to_fit();
    Ok(files)
}

/// Each file's size (0 if it cannot be read: hashing then reports why) and index. The stats
/// run on the blocking pool, `STAT_CHUNK` files per task and `parallel` tasks at once: inline
/// they held up the listing running beside them, and with it the first LIST request
/// (bench/RESULTS.md, "Startup").
async fn sizes(
    source: &Arc<Source>,
    files: Vec<FoundFile>,
    parallel: usize,
) -> Result<Vec<(u64, usize, FoundFile)>, Error> {
    let files_len = files.len();
    let mut chunks: Vec<Vec<(usize, FoundFile)>> = Vec::new();
    for (i, f) in files.into_iter().enumerate() {
        if chunks.last().is_none_or(|c| c.len() >= STAT_CHUNK) {
            chunks.push(Vec::with_capacity(STAT_CHUNK));
        }
        if let Some(c) = chunks.last_mut() {
            c.push((i, f));
        }
    }
    let count = files_len;
    let sized: Vec<Vec<(u64, usize, FoundFile)>> = futures::stream::iter(chunks)
        .map(|chunk| {
            let source = source.clone();
            tokio::task::spawn_blocking(move || {
                chunk
                    .into_iter()
                    .map(|(i, f)| {
                        (
                            std::fs::metadata(f.path(&source)).map_or(0, |m| m.len()),
                            i,
                            f,
                        )
                    })
                    .collect()
            })
        })
        .buffer_unordered(parallel.max(1))
        .try_collect()
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
    let mut all = Vec::with_capacity(count);
    all.extend(sized.into_iter().flatten());
    Ok(all)
}

/// Files statted by one blocking task.
const STAT_CHUNK: usize = 4096;

/// Bytes of small files hashed by one blocking task.
const BATCH_BYTES: u64 = 1024 * 1024;
/// Files hashed by one blocking task, at most.
const BATCH_FILES: usize = 64;

/// Hashes one file, found at `path`: size, MD5, UTF-8 validity for text types, part MD5s for
/// large files, and the compressed body the rules ask for; from the cache when the file is
/// unchanged since it was remembered.
pub fn hash_file(
    f: FoundFile,
    path: &Path,
    multipart_threshold: u64,
    part_size: u64,
    cache: &HashCache,
) -> Result<LocalFile, Error> {
    let read_err = |e: io::Error| Error::BadEntry {
        path: path.to_path_buf(),
        reason: format!("cannot read: {e}"),
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    let len_hint = meta.len();
    // Files under the multipart threshold are cached: everything they need is an MD5, and the
    // size, MD5 and first bytes of their compressed body.
    let cacheable = len_hint < multipart_threshold;
    let precompressed = f.compress.is_some() && coding::is_precompressed(&f.key);
    let coding = f.compress.filter(|_| !precompressed);
    let stamp = Stamp::of(&meta);
    if cacheable
        && let Some(hit) = cache.take(path, &stamp)
        && let Some((compressed, not_compressed)) = from_cache(&hit, coding, precompressed)
    {
        return Ok(LocalFile {
            key: f.key,
            index_stripped: f.index_stripped,
            size: len_hint,
            md5: hit.md5,
            is_utf8: hit.is_utf8,
            first_bytes: hit.first_bytes,
            parts: None,
            compressed: compressed.map(Box::new),
            not_compressed,
            compress: coding,
            cache_stamp: Some(stamp),
            proof: hit.proof,
        });
    }
    let check_utf8 = media::takes_charset(media::media_type(&f.key));
    let parts_of = (len_hint >= multipart_threshold && part_size > 0).then_some(part_size);
    let mut read = read_file(file, check_utf8, parts_of, coding).map_err(read_err)?;
    let (compressed, not_compressed) = match read.encoded.take() {
        // Compressing must make it smaller, or it goes up plain.
        Some(c) if c.size < read.size => (Some(c), None),
        Some(_) => (None, Some(NotCompressed::NoGain)),
        None => (None, precompressed.then_some(NotCompressed::Precompressed)),
    };
    let cache_stamp = (cacheable && read.size == len_hint && cache.admits(&stamp)).then_some(stamp);
    // A file that grew past the threshold while it was read still gets uploaded in one part:
    // the planner only uses `parts` when they are there.
    Ok(LocalFile {
        key: f.key,
        index_stripped: f.index_stripped,
        size: read.size,
        md5: read.md5,
        is_utf8: read.is_utf8,
        first_bytes: read.first_bytes,
        parts: read.parts.map(|md5s| Box::new(Parts { part_size, md5s })),
        compressed: compressed.map(Box::new),
        not_compressed,
        compress: coding,
        cache_stamp,
        proof: None,
    })
}

/// What one pass over a file measured.
struct Measured {
    size: u64,
    md5: Md5,
    is_utf8: bool,
    first_bytes: FirstBytes,
    parts: Option<Vec<Md5>>,
    /// The body compressed with the coding asked for (whether or not it is smaller).
    encoded: Option<Compressed>,
}

/// Reads `file` once, hashing it (and its parts of `part_size`, when given) and, with a
/// `coding`, compressing it as a stream into a second hasher.
fn read_file(
    file: std::fs::File,
    check_utf8: bool,
    part_size: Option<u64>,
    coding: Option<Coding>,
) -> io::Result<Measured> {
    let mut h = Hasher::new(check_utf8, part_size);
    let mut encoder = coding.map(|c| (c, Encoder::new(c, HashSink::new(part_size))));
    let mut first_bytes = FirstBytes::default();
    let mut encode_err = None;
    read_all(file, |chunk| {
        first_bytes.extend(chunk);
        h.update(chunk);
        if let Some((_, e)) = &mut encoder
            && let Err(err) = e.write_all(chunk)
        {
            encode_err.get_or_insert(err);
        }
    })?;
    if let Some(e) = encode_err {
        return Err(e);
    }
    let (size, md5, is_utf8, parts) = h.finish();
    let encoded = match encoder {
        Some((coding, e)) => {
            let sink = e.finish()?;
            let (csize, cmd5, _, cparts) = sink.hasher.finish();
            Some(Compressed {
                coding,
                size: csize,
                md5: cmd5,
                parts: cparts.map(|md5s| Parts {
                    part_size: part_size.unwrap_or_default(),
                    md5s,
                }),
                first_bytes: sink.first_bytes,
            })
        }
        None => None,
    };
    Ok(Measured {
        size,
        md5,
        is_utf8,
        first_bytes,
        parts,
        encoded,
    })
}

/// What the hash cache remembers of `l` (a file of `source`), if anything: its path, stamp and
/// hash (with the compressed body, when the rules compress it).
pub fn remembered(source: &Source, l: &LocalFile) -> Option<(PathBuf, Stamp, Hashed)> {
    let stamp = l.cache_stamp?;
    let coded = l.compress.map(|coding| Coded {
        coding,
        body: l.compressed.as_ref().map(|c| CodedBody {
            size: c.size,
            md5: c.md5,
            first_bytes: c.first_bytes,
        }),
    });
    let hashed = Hashed {
        md5: l.md5,
        is_utf8: l.is_utf8,
        first_bytes: l.first_bytes,
        coded: coded.map(Box::new),
        proof: l.proof.clone(),
    };
    Some((l.path(source), stamp, hashed))
}

/// The compressed body and the reason for none that a cache hit gives for a file compressed
/// with `coding` (`None`: plain); `None` when the hit does not know that coding's body.
fn from_cache(
    hit: &Hashed,
    coding: Option<Coding>,
    precompressed: bool,
) -> Option<(Option<Compressed>, Option<NotCompressed>)> {
    let Some(coding) = coding else {
        return Some((None, precompressed.then_some(NotCompressed::Precompressed)));
    };
    let coded = hit.coded.as_ref().filter(|c| c.coding == coding)?;
    Some(match &coded.body {
        Some(b) => (
            Some(Compressed {
                coding,
                size: b.size,
                md5: b.md5,
                parts: None,
                first_bytes: b.first_bytes,
            }),
            None,
        ),
        None => (None, Some(NotCompressed::NoGain)),
    })
}

/// The MD5 of each `part_size` part of the file at `path` (to compare with a multipart ETag made
/// by another tool).
pub fn part_md5s(path: &Path, part_size: u64) -> io::Result<Vec<Md5>> {
    let file = std::fs::File::open(path)?;
    let mut h = Hasher::new(false, Some(part_size));
    read_all(file, |chunk| h.update(chunk))?;
    Ok(h.finish().3.unwrap_or_default())
}

thread_local! {
    /// One read buffer per hashing thread, reused for every file it reads.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; READ_BUF]);
}

fn read_all(mut file: std::fs::File, mut f: impl FnMut(&[u8])) -> io::Result<()> {
    READ_BUFFER.with_borrow_mut(|buf| {
        loop {
            match file.read(buf) {
                Ok(0) => return Ok(()),
                Ok(n) => f(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    })
}

/// A writer that hashes what an encoder writes into it (the compressed body is never stored).
struct HashSink {
    hasher: Hasher,
    first_bytes: FirstBytes,
}

impl HashSink {
    fn new(part_size: Option<u64>) -> HashSink {
        HashSink {
            hasher: Hasher::new(false, part_size),
            first_bytes: FirstBytes::default(),
        }
    }
}

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.first_bytes.extend(buf);
        self.hasher.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Incremental MD5 of the whole stream, of each part, and UTF-8 validation.
struct Hasher {
    whole: Md5Stream,
    size: u64,
    utf8: Option<Utf8Check>,
    part_size: Option<u64>,
    part: Md5Stream,
    in_part: u64,
    parts: Vec<Md5>,
}

impl Hasher {
    fn new(check_utf8: bool, part_size: Option<u64>) -> Hasher {
        Hasher {
            whole: Md5Stream::new(),
            size: 0,
            utf8: check_utf8.then(Utf8Check::default),
            part_size,
            part: Md5Stream::new(),
            in_part: 0,
            parts: Vec::new(),
        }
    }

    fn update(&mut self, mut chunk: &[u8]) {
        self.whole.update(chunk);
        self.size += chunk.len() as u64;
        if let Some(u) = &mut self.utf8 {
            u.feed(chunk);
        }
        if let Some(ps) = self.part_size {
            while !chunk.is_empty() {
                let room = usize::try_from(ps - self.in_part).unwrap_or(usize::MAX);
                let n = room.min(chunk.len());
                self.part.update(&chunk[..n]);
                self.in_part += n as u64;
                chunk = &chunk[n..];
                if self.in_part == ps {
                    let done = std::mem::take(&mut self.part);
                    self.parts.push(done.finish());
                    self.in_part = 0;
                }
            }
        }
    }

    fn finish(mut self) -> (u64, Md5, bool, Option<Vec<Md5>>) {
        let parts = self.part_size.map(|_| {
            if self.in_part > 0 || self.parts.is_empty() {
                self.parts.push(self.part.finish());
            }
            self.parts
        });
        let is_utf8 = self.utf8.is_some_and(Utf8Check::finish);
        (self.size, self.whole.finish(), is_utf8, parts)
    }
}

/// Validates UTF-8 across chunk boundaries without copying chunks.
#[derive(Default)]
struct Utf8Check {
    carry: Vec<u8>,
    bad: bool,
}

impl Utf8Check {
    fn feed(&mut self, mut data: &[u8]) {
        if self.bad {
            return;
        }
        // Complete a sequence split by the previous chunk, byte by byte (at most 3 more).
        while !self.carry.is_empty() {
            let Some((&b, rest)) = data.split_first() else {
                return;
            };
            self.carry.push(b);
            data = rest;
            match std::str::from_utf8(&self.carry) {
                Ok(_) => self.carry.clear(),
                Err(e) if e.error_len().is_some() => {
                    self.bad = true;
                    return;
                }
                Err(_) => {}
            }
        }
        if let Err(e) = std::str::from_utf8(data) {
            match e.error_len() {
                Some(_) => self.bad = true,
                None => self.carry.extend_from_slice(&data[e.valid_up_to()..]),
            }
        }
    }

    fn finish(self) -> bool {
        !self.bad && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests;
