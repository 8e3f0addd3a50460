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
        first_bytes: FirstBytes::of(body),
        coded: None,
        proof: None,
    }
}

fn stamp(p: &Path) -> Stamp {
    Stamp::of(&std::fs::metadata(p).unwrap())
}

/// `s` as if the file had been written `secs` seconds earlier (old enough to be cached).
fn aged(mut s: Stamp, secs: i64) -> Stamp {
    s.mtime_ns -= secs * 1_000_000_000;
    s.ctime_ns -= secs * 1_000_000_000;
    s
}

/// A cache kept in `file`, as the next run opens it.
fn reopen(file: &Path) -> HashCache {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    HashCache {
        file: Some(file.to_path_buf()),
        entries: read(parse(text.as_bytes(), 0, compress::fingerprint)),
        ..HashCache::default()
    }
}

/// Saves what a run hashed.
fn save(c: &HashCache, files: &[(PathBuf, Stamp, Hashed)]) {
    c.save(files.iter().map(|(p, s, h)| (p.as_path(), *s, h.clone())))
        .unwrap();
}

#[test]
fn a_file_this_run_did_not_see_drops_out_of_the_saved_cache() {
    let site = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let file = cache_dir.path().join("h");
    let (a, b) = (site.path().join("a.css"), site.path().join("b.css"));
    let now = stamp(cache_dir.path());
    let (sa, sb) = (aged(now, 10), aged(now, 20));
    let first = reopen(&file);
    assert!(first.admits(&sa) && first.admits(&sb));
    save(
        &first,
        &[
            (a.clone(), sa, hashed(b"a{}")),
            (b.clone(), sb, hashed(b"b{}")),
        ],
    );
    // The next run sees only a.css (b.css was deleted), and hashes nothing anew.
    let next = reopen(&file);
    assert_eq!(next.take(&a, &sa), Some(hashed(b"a{}")));
    save(&next, &[(a.clone(), sa, hashed(b"a{}"))]);
    let again = reopen(&file);
    assert_eq!(again.take(&a, &sa), Some(hashed(b"a{}")));
    assert_eq!(again.take(&b, &sb), None, "b.css is forgotten");
}

#[test]
fn a_run_that_finds_every_entry_and_hashes_nothing_anew_leaves_the_file_alone() {
    let site = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let file = cache_dir.path().join("h");
    let a = site.path().join("a.css");
    let sa = aged(stamp(cache_dir.path()), 10);
    let first = reopen(&file);
    assert!(first.admits(&sa));
    save(&first, &[(a.clone(), sa, hashed(b"a{}"))]);
    let written = std::fs::read_to_string(&file).unwrap();

    let next = reopen(&file);
    assert_eq!(next.take(&a, &sa), Some(hashed(b"a{}")));
    std::fs::write(&file, "not rewritten").unwrap();
    save(&next, &[(a.clone(), sa, hashed(b"a{}"))]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not rewritten");

    // A file hashed anew (its stamp moved) is written.
    std::fs::write(&file, &written).unwrap();
    let moved = reopen(&file);
    let sa2 = aged(sa, 1);
    assert_eq!(moved.take(&a, &sa2), None);
    assert!(moved.admits(&sa2));
    save(&moved, &[(a.clone(), sa2, hashed(b"A{}"))]);
    assert_eq!(reopen(&file).take(&a, &sa2), Some(hashed(b"A{}")));
}

#[test]
fn a_saved_hash_is_found_again_while_the_file_is_untouched() {
    let site = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let file = cache_dir.path().join("h");
    let p = old_file(site.path(), "a.css", b"body{}");
    let c = reopen(&file);
    // ctime is now: too recent to trust yet. Windows' stamp has no change time: a file with an
    // old mtime looks old there.
    assert!(
        !c.admits(&stamp(&p)) || cfg!(not(unix)),
        "a just-changed file is not cached"
    );
    assert!(
        !HashCache::disabled().admits(&aged(stamp(&p), 10)),
        "a disabled cache remembers nothing"
    );

    // Pretend the file was written long ago.
    let s = aged(stamp(&p), 10);
    assert!(c.admits(&s));
    save(&c, &[(p.clone(), s, hashed(b"body{}"))]);
    assert_eq!(reopen(&file).take(&p, &s), Some(hashed(b"body{}")));
    let mut other = s;
    other.mtime_ns += 1;
    assert_eq!(
        reopen(&file).take(&p, &other),
        None,
        "any change in the stamp misses"
    );
}

/// The path a run takes: `open` the cache of a site, hash, `save`; the next run's `open` finds
/// every MD5 again.
#[test]
fn what_one_run_saves_the_next_run_opens() {
    let site = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let p = old_file(site.path(), "a.css", b"body{}");
    let s = aged(stamp(&p), 10);
    let first = HashCache::open(Some(cache_dir.path()), site.path());
    assert_eq!(first.take(&p, &s), None, "nothing saved yet");
    assert!(first.admits(&s));
    save(&first, &[(p.clone(), s, hashed(b"body{}"))]);
    let saved = std::fs::read_dir(cache_dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let text = std::fs::read_to_string(saved.path()).unwrap();
    assert!(
        text.lines().nth(1).unwrap().ends_with("\ta.css"),
        "kept by its path in the site: {text}"
    );
    let next = HashCache::open(Some(cache_dir.path()), site.path());
    assert_eq!(next.take(&p, &s), Some(hashed(b"body{}")));
    let other_site = tempfile::tempdir().unwrap();
    let other = HashCache::open(Some(cache_dir.path()), other_site.path());
    assert_eq!(other.take(&p, &s), None, "each site has its own cache");
    assert_eq!(
        HashCache::open(None, site.path()).take(&p, &s),
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
    assert!(parse(&b"garbage\nmore"[..], 12, fp).is_empty());
    assert!(parse(format!("{HEADER} f\nnot\ta\tline").as_bytes(), 0, fp).is_empty());
    assert!(
        parse(&b"s3site-hash-cache 2\n"[..], 20, fp).is_empty(),
        "an older format is ignored"
    );
}

/// Compressed bodies round-trip, and are forgotten (the plain hash kept) when the encoders'
/// fingerprint differs from the one they were saved under.
#[test]
fn compressed_bodies_are_kept_only_under_the_same_encoders() {
    let site = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let file = cache_dir.path().join("h");
    let c = reopen(&file);
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
                    first_bytes: FirstBytes::of(&[0x1f, 0x8b, 8, 0]),
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
        let s = aged(stamp(&p), 10);
        let h = Hashed {
            coded: coded.map(Box::new),
            ..hashed(name.as_bytes())
        };
        assert!(c.admits(&s));
        entries.push((p, s, h));
    }
    save(&c, &entries);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with(&format!("{HEADER} {}\n", compress::fingerprint())));
    let same = parse(text.as_bytes(), text.len() as u64, compress::fingerprint);
    for (p, s, h) in &entries {
        let entry = Entry {
            stamp: *s,
            hashed: h.clone(),
        };
        assert_eq!(same.get(p.to_str().unwrap()), Some(&entry));
    }
    let other = parse(text.as_bytes(), 0, || "another encoder");
    for (p, s, h) in &entries {
        let plain = Hashed {
            coded: None,
            ..h.clone()
        };
        let entry = Entry {
            stamp: *s,
            hashed: plain,
        };
        assert_eq!(other.get(p.to_str().unwrap()), Some(&entry));
    }
}

/// A proof round-trips with its file; a proof of a compressed body is dropped with the body
/// under other encoders.
#[test]
fn proofs_are_saved_with_their_file() {
    use crate::content::etag::ETag;
    let site = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let file = cache_dir.path().join("h");
    let c = reopen(&file);
    let proof = |coding| {
        Some(Box::new(Proof {
            etag: ETag::parse("\"0123456789abcdef0123456789abcdef-3\""),
            size: 12_582_919,
            coding,
        }))
    };
    let mut entries = Vec::new();
    for (name, coding) in [("plain.bin", None), ("gz.css", Some(Coding::Gzip))] {
        let p = old_file(site.path(), name, name.as_bytes());
        let s = aged(stamp(&p), 10);
        let coded = coding.map(|coding| Box::new(Coded { coding, body: None }));
        let h = Hashed {
            coded,
            proof: proof(coding),
            ..hashed(name.as_bytes())
        };
        assert!(c.admits(&s));
        entries.push((p, s, h));
    }
    save(&c, &entries);
    let text = std::fs::read_to_string(&file).unwrap();
    let again = reopen(&file);
    for (p, s, h) in &entries {
        assert_eq!(again.take(p, s).as_ref(), Some(h));
    }
    let other = parse(text.as_bytes(), 0, || "another encoder");
    let plain = other.get(entries[0].0.to_str().unwrap()).unwrap();
    assert_eq!(plain.hashed.proof, proof(None));
    let gz = other.get(entries[1].0.to_str().unwrap()).unwrap();
    assert_eq!((&gz.hashed.coded, &gz.hashed.proof), (&None, &None));
}
