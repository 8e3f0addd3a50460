//! Which relative paths s3site leaves alone: `--exclude` globs and the files no site wants
//! published (`.git/`, `.DS_Store`, `Thumbs.db`).
//!
//! Owns: the one decision "is this DIR-relative path excluded", used both when walking DIR and
//! when deciding which remote keys `--delete` may remove, so the two can never disagree.
//! Must not: touch the file system or a store.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// File names never uploaded (and never deleted remotely).
const IGNORED_NAMES: &[&str] = &[".DS_Store", "Thumbs.db", IGNORE_FILE];

/// The file in DIR with more exclusions, in gitignore syntax (`!` re-includes, `dir/` matches
/// folders only, a leading `/` anchors to DIR).
pub const IGNORE_FILE: &str = ".s3siteignore";
/// Directory names never descended into (and never deleted remotely).
const IGNORED_DIRS: &[&str] = &[".git"];

/// A compiled set of exclusions, and the inclusions that override them.
#[derive(Clone, Debug)]
pub struct Filter {
    globs: GlobSet,
    includes: GlobSet,
    /// DIR's `.s3siteignore`, if it has one.
    ignore_file: Option<std::sync::Arc<ignore::gitignore::Gitignore>>,
}

/// A glob that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid {flag} glob '{glob}': {reason}")]
pub struct BadGlob {
    /// `--exclude` or `--include`.
    pub flag: &'static str,
    /// The glob as given.
    pub glob: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Filter {
    /// Compiles `--exclude` globs. Each glob is matched against the whole DIR-relative path with
    /// `/` separators (`*` also matches `/`), and a path is excluded when the glob matches it or
    /// any of its parent directories (`--exclude drafts` excludes `drafts/a.html`).
    pub fn new<S: AsRef<str>>(excludes: &[S]) -> Result<Filter, BadGlob> {
        Ok(Filter {
            globs: set("--exclude", excludes)?,
            includes: GlobSet::empty(),
            ignore_file: None,
        })
    }

    /// These exclusions with `--include` globs: a path an include matches is kept even when an
    /// exclude matches it or a parent folder, as in s3cmd (`--exclude '*' --include '*.html'`
    /// keeps only the pages). The built-in ignores (`.git/`, `.DS_Store`) stay ignored.
    pub fn including<S: AsRef<str>>(mut self, includes: &[S]) -> Result<Filter, BadGlob> {
        self.includes = set("--include", includes)?;
        Ok(self)
    }

    /// These exclusions with DIR's `.s3siteignore`, when there is one; an error names the file
    /// and the line that cannot be read.
    pub fn with_ignore_file(mut self, dir: &std::path::Path) -> Result<Filter, String> {
        let file = dir.join(IGNORE_FILE);
        if !file.is_file() {
            return Ok(self);
        }
        let mut b = ignore::gitignore::GitignoreBuilder::new(dir);
        if let Some(e) = b.add(&file) {
            return Err(format!("{}: {e}", file.display()));
        }
        let gi = b.build().map_err(|e| format!("{}: {e}", file.display()))?;
        self.ignore_file = Some(std::sync::Arc::new(gi));
        Ok(self)
    }

    /// Whether a walk may skip the folder `rel` without looking inside: it is excluded and no
    /// include could bring a file in it back.
    pub fn prunes(&self, rel: &str) -> bool {
        self.includes.is_empty() && self.is_excluded(rel)
    }

    /// Whether the DIR-relative path `rel` (`/`-separated, no leading slash) is excluded.
    pub fn is_excluded(&self, rel: &str) -> bool {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if IGNORED_NAMES.contains(&name) || rel.split('/').any(|s| IGNORED_DIRS.contains(&s)) {
            return true;
        }
        if self.includes.is_match(rel) {
            return false;
        }
        if let Some(gi) = &self.ignore_file
            && gi.matched_path_or_any_parents(rel, false).is_ignore()
        {
            return true;
        }
        if self.globs.is_empty() {
            return false;
        }
        // The path itself, then each parent directory.
        let mut end = rel.len();
        loop {
            if self.globs.is_match(&rel[..end]) {
                return true;
            }
            match rel[..end].rfind('/') {
                Some(i) => end = i,
                None => return false,
            }
        }
    }
}

fn set<S: AsRef<str>>(flag: &'static str, globs: &[S]) -> Result<GlobSet, BadGlob> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let g = g.as_ref();
        let glob = Glob::new(g).map_err(|e| BadGlob {
            flag,
            glob: g.to_string(),
            reason: e.kind().to_string(),
        })?;
        b.add(glob);
    }
    b.build().map_err(|e| BadGlob {
        flag,
        glob: globs
            .iter()
            .map(|s| s.as_ref())
            .collect::<Vec<_>>()
            .join(" "),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_ignores() {
        let f = Filter::new::<&str>(&[]).unwrap();
        assert!(f.is_excluded(".DS_Store"));
        assert!(f.is_excluded("a/b/.DS_Store"));
        assert!(f.is_excluded("Thumbs.db"));
        assert!(f.is_excluded(".git"));
        assert!(f.is_excluded(".git/config"));
        assert!(f.is_excluded("sub/.git/HEAD"));
        assert!(!f.is_excluded(".gitignore"));
        assert!(!f.is_excluded("index.html"));
        assert!(!f.is_excluded("my.git/x"));
    }

    #[test]
    fn globs_match_path_or_parent() {
        let f = Filter::new(&["drafts", "*.psd", "tmp/**"]).unwrap();
        assert!(f.is_excluded("drafts"));
        assert!(f.is_excluded("drafts/post/index.html"));
        assert!(!f.is_excluded("drafts2/x"));
        assert!(f.is_excluded("a.psd"));
        assert!(f.is_excluded("img/deep/a.psd"));
        assert!(f.is_excluded("tmp/a"));
        assert!(f.is_excluded("tmp/a/b"));
        assert!(!f.is_excluded("tmpfile"));
    }

    #[test]
    fn an_include_overrides_an_exclude_as_in_s3cmd() {
        let f = Filter::new(&["*"]).unwrap().including(&["*.html"]).unwrap();
        assert!(!f.is_excluded("index.html"));
        assert!(!f.is_excluded("blog/a.html"));
        assert!(f.is_excluded("a.css"));
        assert!(f.is_excluded(".git/x.html"), "the built-in ignores stay");
        assert!(!f.prunes("blog"), "a folder may hold an included file");
        let f = Filter::new(&["drafts"]).unwrap();
        assert!(f.prunes("drafts"));
        let e = Filter::new::<&str>(&[])
            .unwrap()
            .including(&["a["])
            .unwrap_err();
        assert!(
            e.to_string().starts_with("invalid --include glob 'a['"),
            "{e}"
        );
    }

    #[test]
    fn the_ignore_file_takes_gitignore_syntax() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(IGNORE_FILE),
            "# build output\n/tmp/\n*.log\n!keep.log\ndrafts/\n",
        )
        .unwrap();
        let f = Filter::new::<&str>(&[])
            .unwrap()
            .with_ignore_file(dir.path())
            .unwrap();
        assert!(f.is_excluded("tmp/a.html"));
        assert!(
            !f.is_excluded("blog/tmp/a.html"),
            "a leading / anchors to DIR"
        );
        assert!(f.is_excluded("a/b/x.log"));
        assert!(!f.is_excluded("a/keep.log"), "! re-includes");
        assert!(f.is_excluded("drafts/post.html"));
        assert!(
            f.is_excluded(IGNORE_FILE),
            "the file itself is not published"
        );
        assert!(!f.is_excluded("index.html"));
        let none = tempfile::tempdir().unwrap();
        let f = Filter::new::<&str>(&[])
            .unwrap()
            .with_ignore_file(none.path())
            .unwrap();
        assert!(!f.is_excluded("tmp/a.html"));
    }

    #[test]
    fn bad_glob_names_it() {
        let e = Filter::new(&["ok/*", "a[b"]).unwrap_err();
        assert_eq!(e.glob, "a[b");
        assert!(e.to_string().contains("a[b"), "{e}");
    }
}
