//! Where a repair's keys come from: the bucket's listing (streamed, several folders at once),
//! a file of keys (`--keys-from`), or an S3 Inventory report (`--inventory`).
//!
//! Owns: reading each source lazily, in its order, as `Candidate`s; checking a keys file whole
//! before any request; and what an inventory row tells without a HEAD (archived, SSE-C, not the
//! current version). Must not: decide anything about headers, or hold a source in memory (an
//! inventory data file is held compressed, one at a time).

use crate::settings::SettingsError;
use crate::store::keyspace;
use crate::store::{ObjectStore, StoreError};
use futures::{Stream, StreamExt as _};
use std::io::BufRead as _;
use std::path::{Path, PathBuf};

/// One key to repair, or to leave alone without a request and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The full key.
    pub key: String,
    /// Why it is left alone without a HEAD (from an inventory row), if it is.
    pub skip: Option<String>,
}

impl Candidate {
    fn check(key: String) -> Candidate {
        Candidate { key, skip: None }
    }
}

/// The keys under `prefix` after `after`, as the bucket lists them (see `store::keyspace`),
/// listing up to `ahead` folders at once. Fails before any object when the first listing does.
pub async fn listing<'a, S: ObjectStore>(
    store: &'a S,
    prefix: &str,
    after: Option<&str>,
    ahead: usize,
) -> Result<impl Stream<Item = Result<Candidate, StoreError>> + Send + 'a, StoreError> {
    let units = keyspace::units(store, prefix, after).await?;
    Ok(keyspace::objects(store, units, ahead).map(|o| o.map(|o| Candidate::check(o.key))))
}

/// An S3 Inventory manifest (`manifest.json`): what s3site reads of it.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    source_bucket: String,
    file_format: String,
    file_schema: String,
    files: Vec<ManifestFile>,
}

#[derive(Debug, serde::Deserialize)]
struct ManifestFile {
    key: String,
    size: u64,
    #[serde(rename = "MD5checksum")]
    md5: Option<String>,
}

/// Where each column s3site reads sits in an inventory row.
#[derive(Clone, Copy, Debug)]
struct Columns {
    key: usize,
    storage_class: Option<usize>,
    encryption: Option<usize>,
    tier: Option<usize>,
    latest: Option<usize>,
    delete_marker: Option<usize>,
}

impl Columns {
    fn of(schema: &str) -> Result<Columns, String> {
        let names: Vec<&str> = schema.split(',').map(str::trim).collect();
        let at = |n: &str| names.iter().position(|c| c.eq_ignore_ascii_case(n));
        Ok(Columns {
            key: at("Key").ok_or("its fileSchema has no Key column")?,
            storage_class: at("StorageClass"),
            encryption: at("EncryptionStatus"),
            tier: at("IntelligentTieringAccessTier"),
            latest: at("IsLatest"),
            delete_marker: at("IsDeleteMarker"),
        })
    }

    /// The candidate of one row: `None` for a row that is not a current object under `prefix`.
    fn candidate(
        &self,
        row: &csv::StringRecord,
        prefix: &str,
    ) -> Result<Option<Candidate>, String> {
        let get = |i: Option<usize>| i.and_then(|i| row.get(i)).unwrap_or("");
        let raw = row.get(self.key).ok_or("a row has no key")?;
        let key = crate::content::key::url_decode(raw)
            .ok_or_else(|| format!("the key '{raw}' does not decode to UTF-8"))?;
        if !key.starts_with(prefix)
            || get(self.latest).eq_ignore_ascii_case("false")
            || get(self.delete_marker).eq_ignore_ascii_case("true")
        {
            return Ok(None);
        }
        let class = get(self.storage_class);
        let tier = get(self.tier);
        let skip = if get(self.encryption).eq_ignore_ascii_case("SSE-C") {
            Some("encrypted with a customer key (SSE-C), says the inventory".to_string())
        } else if matches!(class, "GLACIER" | "DEEP_ARCHIVE") {
            Some(format!(
                "archived in {class}, says the inventory; restore it, then repair it with \
                 --keys-from"
            ))
        } else if matches!(
            tier,
            "ARCHIVE" | "DEEP_ARCHIVE" | "ARCHIVE_ACCESS" | "DEEP_ARCHIVE_ACCESS"
        ) {
            Some(format!(
                "in the Intelligent-Tiering {tier} tier, says the inventory; restore it first"
            ))
        } else {
            None
        };
        Ok(Some(Candidate { key, skip }))
    }
}

/// The whole object `key` (an inventory's manifest or data file).
async fn read_whole<S: ObjectStore>(store: &S, key: &str) -> Result<Vec<u8>, StoreError> {
    let size = store.head(key, None).await?.content_length;
    if size == 0 {
        return Ok(Vec::new());
    }
    store.read_prefix(key, size).await
}

/// The current objects under `target`'s prefix that the S3 Inventory report `manifest` lists
/// (CSV format), after `after` (which must be one of them), reading one data file at a time;
/// an archived or SSE-C object comes marked to be left alone. `store` is the bucket the report
/// is in. Fails before any object when the manifest is not a CSV inventory of `target`'s
/// bucket.
pub async fn inventory<'a, S: ObjectStore>(
    store: &'a S,
    manifest: &crate::settings::url::S3Url,
    target: &crate::settings::url::S3Url,
    after: Option<&str>,
) -> Result<impl Stream<Item = Result<Candidate, StoreError>> + Send + 'a, StoreError> {
    let key = manifest.prefix.trim_end_matches('/').to_string();
    let bad = |why: String| StoreError::Other(format!("s3://{}/{key}: {why}", manifest.bucket));
    let text = read_whole(store, &key).await?;
    let m: Manifest = serde_json::from_slice(&text)
        .map_err(|e| bad(format!("not an S3 Inventory manifest.json: {e}")))?;
    if m.source_bucket != target.bucket {
        return Err(bad(format!(
            "it lists bucket '{}', not '{}'",
            m.source_bucket, target.bucket
        )));
    }
    if !m.file_format.eq_ignore_ascii_case("CSV") {
        return Err(bad(format!(
            "its format is {}; s3site reads CSV inventories (set the report's format to CSV)",
            m.file_format
        )));
    }
    let cols = Columns::of(&m.file_schema).map_err(bad)?;
    let prefix = target.prefix.clone();
    let files = futures::stream::iter(m.files).then(move |f| async move {
        let gz = read_whole(store, &f.key).await?;
        if gz.len() as u64 != f.size
            || f.md5.as_deref().is_some_and(|m| {
                !m.eq_ignore_ascii_case(&hex::encode(crate::content::digest::md5_of(&gz)))
            })
        {
            return Err(StoreError::Other(format!(
                "the inventory file {} does not have the size and MD5 its manifest gives",
                f.key
            )));
        }
        Ok((f.key, gz))
    });
    let rows = files.flat_map(move |file| {
        let prefix = prefix.clone();
        let rows: Box<dyn Iterator<Item = Result<Candidate, StoreError>> + Send> = match file {
            Err(e) => Box::new(std::iter::once(Err(e))),
            Ok((name, gz)) => {
                let reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(flate2::read::GzDecoder::new(std::io::Cursor::new(gz)));
                Box::new(reader.into_records().filter_map(move |row| {
                    let c = row
                        .map_err(|e| e.to_string())
                        .and_then(|row| cols.candidate(&row, &prefix));
                    c.map_err(|e| StoreError::Other(format!("inventory file {name}: {e}")))
                        .transpose()
                }))
            }
        };
        futures::stream::iter(rows)
    });
    Ok(after_key(rows, after.map(str::to_string), "the inventory"))
}

/// `keys` after the one equal to `after` (all of them without one); an error at the end when
/// `after` never came.
fn after_key(
    keys: impl Stream<Item = Result<Candidate, StoreError>> + Send,
    after: Option<String>,
    source: &'static str,
) -> impl Stream<Item = Result<Candidate, StoreError>> + Send {
    let waiting = std::sync::Arc::new(std::sync::Mutex::new(after));
    let w = waiting.clone();
    let rest = keys.filter_map(move |c| {
        let mut wait = w.lock().unwrap_or_else(|e| e.into_inner());
        let out = match (&*wait, c) {
            (Some(a), Ok(c)) => {
                if *a == c.key {
                    *wait = None;
                }
                None
            }
            (_, c) => Some(c),
        };
        std::future::ready(out)
    });
    let end = futures::stream::once(async move {
        let missed = waiting.lock().unwrap_or_else(|e| e.into_inner()).take();
        missed.map(|a| {
            Err(StoreError::Other(format!(
                "--start-after '{a}' is not in {source}"
            )))
        })
    })
    .filter_map(std::future::ready);
    rest.chain(end)
}

/// A file of keys, checked whole: one key a line, or (a `.csv` file) `bucket,key` rows with the
/// key URL-encoded, as a Batch Operations manifest and `direct.csv` have them (more columns are
/// ignored).
#[derive(Clone, Debug)]
pub struct KeysFile {
    path: PathBuf,
    csv: bool,
    after: Option<String>,
    /// How many keys it holds.
    pub count: u64,
}

impl KeysFile {
    /// Reads `path` through once: every key must be under `prefix` in `bucket`, and `after`,
    /// if given, one of them. Bad input is an error naming the line.
    pub fn open(
        path: &Path,
        bucket: &str,
        prefix: &str,
        after: Option<&str>,
    ) -> Result<KeysFile, SettingsError> {
        let mut f = KeysFile {
            path: path.to_path_buf(),
            csv: path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
            after: after.map(str::to_string),
            count: 0,
        };
        let mut found_after = after.is_none();
        for (line, key) in f.rows()? {
            let key = key.map_err(|e| f.bad(line, &e))?;
            let Some((b, key)) = key else { continue };
            if let Some(b) = b.filter(|b| b != bucket) {
                return Err(f.bad(line, &format!("bucket '{b}' is not '{bucket}'")));
            }
            if !key.starts_with(prefix) {
                return Err(f.bad(line, &format!("'{key}' is not under '{prefix}'")));
            }
            found_after |= after == Some(key.as_str());
            f.count += 1;
        }
        if !found_after {
            return Err(SettingsError::Usage(format!(
                "--start-after '{}' is not in {}",
                after.unwrap_or_default(),
                path.display()
            )));
        }
        Ok(f)
    }

    fn bad(&self, line: u64, why: &str) -> SettingsError {
        SettingsError::Usage(format!("{} line {line}: {why}", self.path.display()))
    }

    /// (line number, (bucket if the row names one, key), or why the row is wrong); blank lines
    /// are `None`.
    #[allow(clippy::type_complexity)]
    fn rows(
        &self,
    ) -> Result<
        Box<dyn Iterator<Item = (u64, Result<Option<(Option<String>, String)>, String>)> + Send>,
        SettingsError,
    > {
        let file = std::fs::File::open(&self.path).map_err(|e| {
            SettingsError::Usage(format!("cannot read {}: {e}", self.path.display()))
        })?;
        let reader = std::io::BufReader::with_capacity(256 * 1024, file);
        if self.csv {
            let rows = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(reader)
                .into_records()
                .enumerate()
                .map(|(i, row)| (i as u64 + 1, csv_row(row)));
            return Ok(Box::new(rows));
        }
        let lines = reader.lines().enumerate().map(|(i, l)| {
            let row = match l {
                Err(e) => Err(e.to_string()),
                Ok(l) => {
                    let key = l.strip_suffix('\r').unwrap_or(&l);
                    Ok((!key.is_empty()).then(|| (None, key.to_string())))
                }
            };
            (i as u64 + 1, row)
        });
        Ok(Box::new(lines))
    }

    /// Every key in the file, in its order, read as it is used; a bad row is an error naming
    /// its line.
    pub fn keys(&self) -> impl Iterator<Item = Result<String, String>> + Send + use<> {
        let path = self.path.display().to_string();
        let rows = match self.rows() {
            Ok(r) => r,
            Err(e) => Box::new(std::iter::once((0, Err(e.to_string())))),
        };
        rows.filter_map(move |(line, row)| match row {
            Err(e) => Some(Err(format!("{path} line {line}: {e}"))),
            Ok(row) => row.map(|(_, key)| Ok(key)),
        })
    }

    /// The keys, read as they are used, after `--start-after`'s.
    pub fn stream(self) -> impl Stream<Item = Result<Candidate, StoreError>> + Send {
        let keys = self
            .keys()
            .map(|k| k.map(Candidate::check).map_err(StoreError::Other));
        after_key(futures::stream::iter(keys), self.after, "the keys file")
    }
}

/// `bucket,key[,...]` with the key URL-encoded.
fn csv_row(
    row: Result<csv::StringRecord, csv::Error>,
) -> Result<Option<(Option<String>, String)>, String> {
    let row = row.map_err(|e| e.to_string())?;
    match (row.get(0), row.get(1)) {
        (Some(""), None) | (None, _) => Ok(None),
        (Some(b), Some(k)) => {
            let key = crate::content::key::url_decode(k)
                .ok_or_else(|| format!("'{k}' does not decode to UTF-8"))?;
            Ok(Some((Some(b.to_string()), key)))
        }
        (Some(_), None) => Err("expected bucket,key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt as _;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join(name);
        std::fs::write(&p, text).expect("write");
        (d, p)
    }

    async fn keys(f: KeysFile) -> Vec<String> {
        f.stream()
            .map_ok(|c| c.key)
            .try_collect()
            .await
            .expect("keys")
    }

    #[tokio::test]
    async fn lines_and_csv_rows_give_the_same_keys() {
        let (_d, lines) = write("k.txt", "p/a b.css\r\n\np/c+d%.js\np/é\n");
        let (_e, csv) = write(
            "k.csv",
            "b,p/a%20b.css\nb,p/c%2Bd%25.js,why\n\"b\",\"p/%C3%A9\"\n",
        );
        let want = ["p/a b.css", "p/c+d%.js", "p/é"];
        let f = KeysFile::open(&lines, "b", "p/", None).expect("lines");
        assert_eq!(f.count, 3);
        assert_eq!(keys(f).await, want);
        let f = KeysFile::open(&csv, "b", "p/", None).expect("csv");
        assert_eq!(keys(f).await, want);
        let f = KeysFile::open(&csv, "b", "p/", Some("p/c+d%.js")).expect("after");
        assert_eq!(keys(f).await, want[2..]);
    }

    #[test]
    fn bad_files_name_the_line() {
        let (_d, csv) = write("k.csv", "b,p/a\nother,p/b\n");
        let e = KeysFile::open(&csv, "b", "p/", None).expect_err("bucket");
        assert!(
            e.to_string().ends_with("line 2: bucket 'other' is not 'b'"),
            "{e}"
        );
        let (_d, lines) = write("k.txt", "p/a\nq/b\n");
        let e = KeysFile::open(&lines, "b", "p/", None).expect_err("prefix");
        assert!(
            e.to_string().ends_with("line 2: 'q/b' is not under 'p/'"),
            "{e}"
        );
        let e = KeysFile::open(&lines, "b", "", Some("zz")).expect_err("after");
        assert!(
            e.to_string().contains("--start-after 'zz' is not in"),
            "{e}"
        );
    }
}
