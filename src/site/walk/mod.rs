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
use std::sync::Arc;

mod folders;

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
/// published by accident. Folders are read on every core at once (see `folders`).
pub fn walk(
    source: &Source,
    filter: &Filter,
    follow_outside: bool,
    strip_index_html: bool,
) -> Result<Vec<FoundFile>, Error> {
    let real_root = check_root(source.root())?;
    let walk = Walk {
        source,
        real_root: &real_root,
        filter,
        follow_outside,
        strip_index_html,
    };
    let root = Folder {
        path: source.root().to_path_buf(),
        rel: String::new(),
        crossings: None,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_READERS));
    Ok(merge(folders::read_all(&walk, root, threads)?))
}

/// Threads that read folders at once, at most.
const MAX_READERS: usize = 8;

/// A folder of the walk.
struct Folder {
    path: PathBuf,
    /// Its path in the site folder, `/`-separated (empty for the site folder itself).
    rel: String,
    /// The links followed to reach it, last first.
    crossings: Option<Arc<Crossing>>,
}

/// A link to a folder that the walk followed: where the folder holding the link really is.
/// Following a link is a loop when its target holds the real path of a folder the walk is in
/// (the walk would come back to it, and to the link). Between two crossings each folder the
/// walk is in holds the next, so a target holding any of them holds the deepest, the one with
/// the next link: it alone is checked.
struct Crossing {
    from: PathBuf,
    before: Option<Arc<Crossing>>,
}

/// What each entry of a walk is checked against.
struct Walk<'a> {
    source: &'a Source,
    real_root: &'a Path,
    filter: &'a Filter,
    follow_outside: bool,
    strip_index_html: bool,
}

impl folders::Visit for Walk<'_> {
    type Folder = Folder;
    type Item = FoundFile;
    type Error = Error;

    fn path<'a>(&self, folder: &'a Folder) -> &'a Path {
        &folder.path
    }

    fn visit(
        &self,
        folder: &Folder,
        entry: std::fs::DirEntry,
        found: folders::Found<'_, Folder, FoundFile>,
    ) -> Result<(), Error> {
        let name = entry.file_name();
        let bad = |reason: String| Error::BadEntry {
            path: folder.path.join(&name),
            reason,
        };
        let Some(name) = name.to_str() else {
            return Err(bad(
                "the name is not valid UTF-8, so it has no S3 key".into()
            ));
        };
        let mut rel = String::with_capacity(folder.rel.len() + 1 + name.len());
        if !folder.rel.is_empty() {
            rel.push_str(&folder.rel);
            rel.push('/');
        }
        rel.push_str(name);
        let file_type = entry.file_type().map_err(|e| bad(e.to_string()))?;
        let link = file_type.is_symlink();
        // What is pruned (excluded, and no include could bring anything in it back) is left
        // alone before anything is asked of it, a link too: it may be a folder.
        if link && self.filter.prunes(&rel) {
            return Ok(());
        }
        let file_type = if link {
            match std::fs::metadata(entry.path()) {
                Ok(m) => m.file_type(),
                // A broken link has nothing in it that an include could bring back.
                Err(e) if e.kind() == io::ErrorKind::NotFound && self.filter.is_excluded(&rel) => {
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(bad(
                        "broken symbolic link (its target does not exist)".into()
                    ));
                }
                Err(e) => return Err(bad(e.to_string())),
            }
        } else {
            file_type
        };
        if file_type.is_dir() {
            if self.filter.prunes(&rel) {
                return Ok(());
            }
            let path = entry.path();
            let crossings = if link {
                Some(self.cross(folder, &path)?)
            } else {
                folder.crossings.clone()
            };
            found.folders.push(Folder {
                path,
                rel,
                crossings,
            });
            return Ok(());
        }
        // An excluded file (or one in a folder kept only for the includes, matched by none) is
        // left alone before anything is asked of it.
        if self.filter.is_excluded(&rel) {
            return Ok(());
        }
        if link && !self.follow_outside {
            stays_inside(&entry.path(), self.real_root)?;
        }
        if !file_type.is_file() {
            return Err(bad("not a regular file (socket, fifo or device)".into()));
        }
        let file = found_file(
            &rel,
            || entry.path(),
            self.source.prefix(),
            self.strip_index_html,
        )?;
        found.items.push(file);
        Ok(())
    }

    fn read_error(&self, folder: &Folder, e: io::Error) -> Error {
        Error::BadEntry {
            path: folder.path.clone(),
            reason: e.to_string(),
        }
    }

    fn finish(&self, files: &mut Vec<FoundFile>) {
        files.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    }
}

impl Walk<'_> {
    /// The crossings of the folder the link `path` in `folder` leads to; an error if it leads
    /// outside the site folder (unless allowed) or back to a folder the walk is in.
    fn cross(&self, folder: &Folder, path: &Path) -> Result<Arc<Crossing>, Error> {
        let target = if self.follow_outside {
            real_path(path)?
        } else {
            stays_inside(path, self.real_root)?
        };
        let here = real_path(&folder.path)?;
        let mut crossing = folder.crossings.as_deref();
        let mut deepest = Some(here.as_path());
        while let Some(from) = deepest {
            if from.starts_with(&target) {
                return Err(Error::BadEntry {
                    path: path.to_path_buf(),
                    reason: format!("symbolic link loop (points back to '{}')", target.display()),
                });
            }
            deepest = crossing.map(|c| c.from.as_path());
            crossing = crossing.and_then(|c| c.before.as_deref());
        }
        Ok(Arc::new(Crossing {
            from: here,
            before: folder.crossings.clone(),
        }))
    }
}

/// The files each thread found (each sorted by key), merged in key order.
fn merge(runs: Vec<Vec<FoundFile>>) -> Vec<FoundFile> {
    let mut out = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    let mut runs: Vec<_> = runs.into_iter().map(|r| r.into_iter().peekable()).collect();
    loop {
        let next = runs
            .iter_mut()
            .enumerate()
            .filter_map(|(i, r)| Some((i, &r.peek()?.key)))
            .min_by(|a, b| a.1.cmp(b.1))
            .map(|(i, _)| i);
        match next.and_then(|i| runs[i].next()) {
            Some(f) => out.push(f),
            None => return out,
        }
    }
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
    real_path(root)
}

/// The real path of `path` (links resolved), or an error naming it.
fn real_path(path: &Path) -> Result<PathBuf, Error> {
    std::fs::canonicalize(path).map_err(|e| Error::BadEntry {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Where the symbolic link `link` leads, really; an error unless that is inside `real_root`:
/// nothing outside the site folder is published by accident.
fn stays_inside(link: &Path, real_root: &Path) -> Result<PathBuf, Error> {
    let target = real_path(link)?;
    if target.starts_with(real_root) {
        return Ok(target);
    }
    Err(Error::BadEntry {
        path: link.to_path_buf(),
        reason: format!(
            "symbolic link leads outside the source folder (to '{}'); pass --follow-outside to \
             publish it anyway",
            target.display()
        ),
    })
}

/// The file at `rel` in the site folder (`path`, made only for a message) with its key under
/// `prefix`, or why it cannot be published: a name that holds what S3's XML cannot carry, a key
/// too long.
fn found_file(
    rel: &str,
    path: impl Fn() -> PathBuf,
    prefix: &str,
    strip_index_html: bool,
) -> Result<FoundFile, Error> {
    if let Some(c) = rel.chars().find(|&c| key::xml_unsafe(c)) {
        return Err(Error::BadEntry {
            path: path(),
            reason: format!(
                "the file name holds a control character or noncharacter ({}), which S3 \
                 listings cannot carry as XML; rename the file or exclude it",
                c.escape_unicode()
            ),
        });
    }
    let s3_key = key_of(prefix, rel, strip_index_html);
    if s3_key.len() > key::MAX_KEY_LEN {
        return Err(Error::KeyTooLong {
            path: path(),
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

    /// Every file of a tree of folders read on several threads, once each, in key order.
    #[test]
    fn a_tree_read_on_several_threads_is_whole_and_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut want = Vec::new();
        for a in 0..12 {
            for b in 0..5 {
                let folder = dir.path().join(format!("d{a}")).join(format!("e{b}"));
                std::fs::create_dir_all(&folder).unwrap();
                for f in 0..7 {
                    // Names that sort differently as keys and as paths ("-" < "/").
                    for name in [format!("f{f}.html"), format!("f{f}-x.css")] {
                        std::fs::write(folder.join(&name), "x").unwrap();
                        want.push(format!("site/d{a}/e{b}/{name}"));
                    }
                }
            }
            std::fs::write(dir.path().join(format!("d{a}-top.txt")), "x").unwrap();
            want.push(format!("site/d{a}-top.txt"));
        }
        want.sort();
        let filter = Filter::new::<&str>(&[]).unwrap();
        let source = Source::new(dir.path(), "site/");
        for _ in 0..20 {
            let got: Vec<String> = walk(&source, &filter, false, false)
                .unwrap()
                .into_iter()
                .map(|f| f.key)
                .collect();
            assert_eq!(got, want);
        }
    }

    fn keys_of(dir: &Path, filter: &Filter, follow_outside: bool) -> Result<Vec<String>, Error> {
        let source = Source::new(dir, "");
        walk(&source, filter, follow_outside, false).map(|f| f.into_iter().map(|f| f.key).collect())
    }

    #[track_caller]
    fn assert_bad(r: Result<Vec<String>, Error>, path_ends: &str, reason_has: &str) {
        match r {
            Err(Error::BadEntry { path, reason }) => {
                assert!(path.ends_with(path_ends), "{}: {reason}", path.display());
                assert!(reason.contains(reason_has), "{}: {reason}", path.display());
            }
            other => panic!("expected {reason_has:?} at {path_ends}: {other:?}"),
        }
    }

    /// A link to a folder is followed (its files are published under the link's name), and a
    /// link that leads back to a folder the walk is in is a loop: to the site folder, to a
    /// folder above it, or around through a folder outside it.
    #[cfg(unix)]
    #[test]
    fn links_to_folders_are_followed_and_loops_refused() {
        use std::os::unix::fs::symlink;
        let none = Filter::new::<&str>(&[]).unwrap();
        let top = tempfile::tempdir().unwrap();
        let site = top.path().join("site");
        std::fs::create_dir_all(site.join("a/deep")).unwrap();
        std::fs::write(site.join("a/x.html"), "x").unwrap();
        std::fs::write(site.join("a/deep/y.html"), "y").unwrap();
        symlink(site.join("a"), site.join("b")).unwrap();
        symlink(site.join("a/deep"), site.join("a/shortcut")).unwrap();
        assert_eq!(
            keys_of(&site, &none, false).unwrap(),
            [
                "a/deep/y.html",
                "a/shortcut/y.html",
                "a/x.html",
                "b/deep/y.html",
                "b/shortcut/y.html",
                "b/x.html"
            ]
        );

        symlink(&site, site.join("a/deep/back")).unwrap();
        assert_bad(keys_of(&site, &none, false), "back", "symbolic link loop");
        std::fs::remove_file(site.join("a/deep/back")).unwrap();

        symlink(top.path(), site.join("up")).unwrap();
        assert_bad(keys_of(&site, &none, false), "up", "leads outside");
        assert_bad(keys_of(&site, &none, true), "up", "symbolic link loop");
        std::fs::remove_file(site.join("up")).unwrap();

        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), site.join("out")).unwrap();
        symlink(&site, outside.path().join("in")).unwrap();
        assert_bad(keys_of(&site, &none, false), "out", "leads outside");
        assert_bad(keys_of(&site, &none, true), "in", "symbolic link loop");
    }

    /// A broken link is an error naming it, unless it is excluded: it has nothing in it that
    /// an include could bring back.
    #[cfg(unix)]
    #[test]
    fn an_excluded_broken_link_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "hi").unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone.css"), dir.path().join("style.css"))
            .unwrap();
        let none = Filter::new::<&str>(&[]).unwrap();
        assert_bad(
            keys_of(dir.path(), &none, false),
            "style.css",
            "broken symbolic link",
        );
        let excluded = Filter::new(&["*.css"]).unwrap();
        assert_eq!(
            keys_of(dir.path(), &excluded, false).unwrap(),
            ["index.html"]
        );
        let only_pages = Filter::new(&["*"]).unwrap().including(&["*.html"]).unwrap();
        assert_eq!(
            keys_of(dir.path(), &only_pages, false).unwrap(),
            ["index.html"]
        );
    }
}
