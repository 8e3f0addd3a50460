//! Walking the site folder into keys.
//!
//! Owns: walking DIR (symlinks followed, loops and broken links reported by path, links that
//! lead outside DIR refused unless allowed, non-UTF-8 and control-character names refused),
//! building each file's key, and the way back from a key to the file's path (`Source`). Must
//! not: read file contents or talk to a store.

use crate::content::coding::Coding;
use crate::content::key;
use crate::settings::filter::Filter;
use crate::site::SiteError as Error;
use std::io;
use std::path::{Path, PathBuf};

/// The site folder and the prefix its keys go under: each file's path is rebuilt from its key
/// when it is read, instead of being kept beside it (about 100 bytes a file, a tenth of the
/// memory a 100,000-file sync peaks at).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    root: PathBuf,
    prefix: String,
}

impl Source {
    /// The folder `root` published under `prefix` (empty, or ending with `/`).
    pub fn new(root: &Path, prefix: &str) -> Source {
        Source {
            root: root.to_path_buf(),
            prefix: prefix.to_string(),
        }
    }

    /// The site folder, as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The key prefix (empty, or ending with `/`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The path of the file keyed `key`: the same path the walk found it at (`index_stripped`:
    /// the key is its folder's, the file that folder's `index.html`).
    pub fn path(&self, key: &str, index_stripped: bool) -> PathBuf {
        let rel = key.strip_prefix(self.prefix.as_str()).unwrap_or(key);
        let mut path = if std::path::MAIN_SEPARATOR == '/' {
            self.root.join(rel)
        } else {
            self.root
                .join(rel.replace('/', std::path::MAIN_SEPARATOR_STR))
        };
        if index_stripped {
            path.push(INDEX_HTML);
        }
        path
    }
}

/// The page a folder's key stands for with `--strip-index-html`.
const INDEX_HTML: &str = "index.html";

/// A file found under DIR, not yet hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundFile {
    /// The S3 key it maps to (prefix included).
    pub key: String,
    /// The key is its folder's (`--strip-index-html`): the file is that folder's `index.html`.
    pub index_stripped: bool,
    /// The coding the rules ask for, if any.
    pub compress: Option<Coding>,
}

impl FoundFile {
    /// Where it is on disk.
    pub fn path(&self, source: &Source) -> PathBuf {
        source.path(&self.key, self.index_stripped)
    }
}

/// Walks the site folder of `source`, returning every file not excluded by `filter`, keyed
/// under its prefix, sorted by key. Symbolic links are followed; one that leads outside the
/// folder is an error unless `follow_outside` allows it, so nothing outside the site folder is
/// published by accident.
pub fn walk(
    source: &Source,
    filter: &Filter,
    follow_outside: bool,
    strip_index_html: bool,
) -> Result<Vec<FoundFile>, Error> {
    let (root, prefix) = (source.root(), source.prefix());
    let real_root = check_root(root)?;
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| {
            // Prune excluded folders instead of walking them (files are checked below); a
            // non-UTF-8 name is kept so that it is reported below.
            e.depth() == 0
                || !e.file_type().is_dir()
                || relative(root, e.path()).is_none_or(|r| !filter.prunes(&to_key(r)))
        });
    let mut found = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|e| walk_error(root, e))?;
        let is_dir = entry.file_type().is_dir();
        let rel = if is_dir {
            None
        } else {
            relative(root, entry.path())
        };
        // An excluded file (or one in a folder kept only for the includes, matched by none) is
        // left alone before anything is asked of it, as an excluded folder is pruned.
        if rel.is_some_and(|r| filter.is_excluded(&to_key(r))) {
            continue;
        }
        if entry.path_is_symlink() && entry.depth() > 0 && !follow_outside {
            stays_inside(&entry, &real_root)?;
        }
        if !is_dir {
            found.push(found_file(rel, &entry, prefix, strip_index_html)?);
        }
    }
    found.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(found)
}

/// The source folder, resolved; an error if it is missing or not a folder.
fn check_root(root: &Path) -> Result<PathBuf, Error> {
    match std::fs::metadata(root) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::MissingDir(root.to_path_buf()));
        }
        Err(e) => {
            return Err(Error::BadEntry {
                path: root.to_path_buf(),
                reason: e.to_string(),
            });
        }
        Ok(m) if !m.is_dir() => return Err(Error::NotADir(root.to_path_buf())),
        Ok(_) => {}
    }
    std::fs::canonicalize(root).map_err(|e| Error::BadEntry {
        path: root.to_path_buf(),
        reason: e.to_string(),
    })
}

/// An error unless the symbolic link `entry` leads inside `real_root`: nothing outside the
/// site folder is published by accident.
fn stays_inside(entry: &walkdir::DirEntry, real_root: &Path) -> Result<(), Error> {
    let target = std::fs::canonicalize(entry.path()).map_err(|e| Error::BadEntry {
        path: entry.path().to_path_buf(),
        reason: e.to_string(),
    })?;
    if target.starts_with(real_root) {
        return Ok(());
    }
    Err(Error::BadEntry {
        path: entry.path().to_path_buf(),
        reason: format!(
            "symbolic link leads outside the source folder (to '{}'); pass --follow-outside to \
             publish it anyway",
            target.display()
        ),
    })
}

/// The file `entry` (at `rel` in the site folder, `None` if that is not UTF-8) with its key under
/// `prefix`, or why it cannot be published: not a regular file, a name that is not UTF-8 or holds
/// what S3's XML cannot carry, a key too long.
fn found_file(
    rel: Option<&str>,
    entry: &walkdir::DirEntry,
    prefix: &str,
    strip_index_html: bool,
) -> Result<FoundFile, Error> {
    let path = entry.path();
    let bad = |reason: String| Error::BadEntry {
        path: path.to_path_buf(),
        reason,
    };
    let Some(rel) = rel else {
        return Err(bad(
            "the file name is not valid UTF-8, so it has no S3 key".into()
        ));
    };
    if !entry.file_type().is_file() {
        return Err(bad("not a regular file (socket, fifo or device)".into()));
    }
    if let Some(c) = rel.chars().find(|&c| key::xml_unsafe(c)) {
        return Err(bad(format!(
            "the file name holds a control character or noncharacter ({}), which S3 listings \
             cannot carry as XML; rename the file or exclude it",
            c.escape_unicode()
        )));
    }
    let rel = to_key(rel);
    let s3_key = key_of(prefix, &rel, strip_index_html);
    if s3_key.len() > key::MAX_KEY_LEN {
        return Err(Error::KeyTooLong {
            path: path.to_path_buf(),
            len: s3_key.len(),
        });
    }
    Ok(FoundFile {
        index_stripped: s3_key.len() < prefix.len() + rel.len(),
        key: s3_key,
        compress: None,
    })
}

/// The key of the file at `rel` under `prefix`; with `strip_index_html`, a folder's
/// `index.html` is stored as the folder (`d/index.html` as `d/`, so a REST or OAC origin serves
/// `/d/`), while the root `index.html` stays (S3 has no empty key).
pub fn key_of(prefix: &str, rel: &str, strip_index_html: bool) -> String {
    let rel = match rel.strip_suffix(INDEX_HTML) {
        Some(folder) if strip_index_html && folder.ends_with('/') => folder,
        _ => rel,
    };
    // Exactly as long as it is: a site holds one key per file.
    let mut key = String::with_capacity(prefix.len() + rel.len());
    key.push_str(prefix);
    key.push_str(rel);
    key
}

/// `path` (under `root`) relative to it, as text; `None` if that is not UTF-8. The walk's paths
/// are `root` with names pushed on, so when both are UTF-8 the text after `root` is the answer
/// (`Path::strip_prefix` parses both into components: a fifth of the walk, at three a file).
fn relative<'a>(root: &Path, path: &'a Path) -> Option<&'a str> {
    if let (Some(r), Some(p)) = (root.to_str(), path.to_str())
        && let Some(rest) = p.strip_prefix(r)
        && (rest.is_empty()
            || r.ends_with(std::path::is_separator)
            || rest.starts_with(std::path::is_separator))
    {
        return Some(rest.trim_start_matches(std::path::is_separator));
    }
    path.strip_prefix(root).ok()?.to_str()
}

/// A relative path with the platform separator, as a key fragment with `/` (borrowed where the
/// separator is `/`: the walk asks for it up to three times a file).
fn to_key(rel: &str) -> std::borrow::Cow<'_, str> {
    if std::path::MAIN_SEPARATOR == '/' {
        rel.into()
    } else {
        rel.replace(std::path::MAIN_SEPARATOR, "/").into()
    }
}

fn walk_error(root: &Path, e: walkdir::Error) -> Error {
    let path = e.path().unwrap_or(root).to_path_buf();
    let reason = if let Some(ancestor) = e.loop_ancestor() {
        format!(
            "symbolic link loop (points back to '{}')",
            ancestor.display()
        )
    } else if let Some(io) = e.io_error() {
        let dangling = io.kind() == io::ErrorKind::NotFound
            && std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        if dangling {
            "broken symbolic link (its target does not exist)".to_string()
        } else {
            io.to_string()
        }
    } else {
        e.to_string()
    };
    Error::BadEntry { path, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each file's path is rebuilt from its key: the very path the walk found, with a prefix
    /// and a folder's `index.html` stored as the folder.
    #[test]
    fn each_key_leads_back_to_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "index.html",
            "d/index.html",
            "d/e/page.html",
            "d/index.htm",
            "x index.html",
        ];
        for name in names {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, name).unwrap();
        }
        let filter = Filter::new::<&str>(&[]).unwrap();
        for (prefix, strip) in [("", false), ("www/", true)] {
            let source = Source::new(dir.path(), prefix);
            let files = walk(&source, &filter, false, strip).unwrap();
            let mut found: Vec<(String, String)> = files
                .iter()
                .map(|f| {
                    let body = std::fs::read_to_string(f.path(&source)).unwrap();
                    (f.key.clone(), body)
                })
                .collect();
            found.sort();
            let mut want: Vec<(String, String)> = names
                .iter()
                .map(|n| (key_of(prefix, n, strip), n.to_string()))
                .collect();
            want.sort();
            assert_eq!(found, want, "prefix {prefix:?}, strip {strip}");
            let stripped: Vec<&str> = files
                .iter()
                .filter(|f| f.index_stripped)
                .map(|f| f.key.as_str())
                .collect();
            assert_eq!(stripped, if strip { vec!["www/d/"] } else { vec![] });
        }
    }

    /// A link leading outside the site folder is refused, unless it is excluded: what is not
    /// published cannot leak (with includes, too, where files are not pruned but skipped).
    #[cfg(unix)]
    #[test]
    fn an_excluded_link_leading_outside_is_left_alone() {
        let (dir, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(dir.path().join("index.html"), "hi").unwrap();
        std::fs::write(outside.path().join("id_rsa"), "PRIVATE").unwrap();
        std::os::unix::fs::symlink(outside.path().join("id_rsa"), dir.path().join("key.txt"))
            .unwrap();
        let source = Source::new(dir.path(), "");
        let keys = |filter: &Filter| {
            walk(&source, filter, false, false)
                .map(|f| f.into_iter().map(|f| f.key).collect::<Vec<_>>())
        };
        let none = Filter::new::<&str>(&[]).unwrap();
        assert!(matches!(keys(&none), Err(Error::BadEntry { .. })));
        let excluded = Filter::new(&["key.txt"]).unwrap();
        assert_eq!(keys(&excluded).unwrap(), ["index.html"]);
        let only_pages = Filter::new(&["*"]).unwrap().including(&["*.html"]).unwrap();
        assert_eq!(keys(&only_pages).unwrap(), ["index.html"]);
    }
}
