//! Unit tests of hashing: UTF-8 across reads, part MD5s, compressed bodies and
//! the hash cache.

use super::*;
use crate::content::coding::FirstBytes;
use crate::content::digest::md5_of;

fn utf8_in_chunks(bytes: &[u8], chunk: usize) -> bool {
    let mut c = Utf8Check::default();
    for piece in bytes.chunks(chunk) {
        c.feed(piece);
    }
    c.finish()
}

#[test]
fn utf8_split_anywhere() {
    let text = "héllo wörld — 日本語 🎉".as_bytes();
    for n in 1..text.len() {
        assert!(utf8_in_chunks(text, n), "chunk {n}");
    }
    let mut bad = text.to_vec();
    bad.insert(3, 0xff);
    for n in 1..bad.len() {
        assert!(!utf8_in_chunks(&bad, n), "chunk {n}");
    }
    // Truncated in the middle of a sequence.
    assert!(!utf8_in_chunks(&text[..text.len() - 1], 4));
}

#[test]
fn hasher_parts_match_direct_md5s() {
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    for chunk in [1, 7, 100, 1000] {
        let mut h = Hasher::new(false, Some(300));
        for piece in data.chunks(chunk) {
            h.update(piece);
        }
        let (size, md5, _, parts) = h.finish();
        assert_eq!(size, 1000);
        assert_eq!(md5, md5_of(&data));
        let want: Vec<Md5> = data.chunks(300).map(md5_of).collect();
        assert_eq!(parts.unwrap(), want, "chunk {chunk}");
    }
}

#[test]
fn exact_multiple_of_part_size_has_no_empty_last_part() {
    let data = vec![7u8; 600];
    let mut h = Hasher::new(false, Some(300));
    h.update(&data);
    assert_eq!(h.finish().3.unwrap().len(), 2);
}

fn hashed(name: &str, body: &[u8], coding: Option<Coding>) -> LocalFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    let f = FoundFile {
        key: name.to_string(),
        index_stripped: false,
        compress: coding,
    };
    hash_file(f, &path, 64, 16, &HashCache::disabled()).unwrap()
}

/// A cache hit gives the compressed body of the coding asked for, without compressing;
/// another coding, or any change to the file, compresses again.
#[test]
fn the_cache_remembers_compressed_bodies_per_coding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.css");
    let body = "body { color: red }\n".repeat(40);
    std::fs::write(&path, &body).unwrap();
    let remembered = CodedBody {
        size: 9,
        md5: md5_of(b"not what gzip makes"),
        first_bytes: FirstBytes::of(&[0x1f, 0x8b]),
    };
    let stamp = Stamp::of(&std::fs::metadata(&path).unwrap());
    // Each hash is a run of its own: a run takes each entry it finds out of the cache.
    let hash = |coding| {
        let cache = HashCache::seeded(
            &path,
            stamp,
            Hashed {
                md5: md5_of(body.as_bytes()),
                is_utf8: true,
                first_bytes: FirstBytes::of(body.as_bytes()),
                coded: Some(Box::new(Coded {
                    coding: Coding::Gzip,
                    body: Some(remembered.clone()),
                })),
                proof: None,
            },
        );
        let f = FoundFile {
            key: "a.css".to_string(),
            index_stripped: false,
            compress: Some(coding),
        };
        hash_file(f, &path, 1 << 30, 1 << 20, &cache).unwrap()
    };
    let c = hash(Coding::Gzip).compressed.expect("compressed");
    assert_eq!((c.size, c.md5), (remembered.size, remembered.md5));
    let br = hash(Coding::Br).compressed.expect("compressed");
    assert_ne!(br.md5, remembered.md5);
    assert!(br.size < body.len() as u64);
    std::fs::write(&path, body.replace("red", "tan")).unwrap();
    let c = hash(Coding::Gzip).compressed.expect("compressed");
    assert_ne!(
        c.md5, remembered.md5,
        "a rewritten file is compressed again"
    );
}

#[test]
fn compressed_body_is_hashed_as_it_will_be_uploaded() {
    let body = "body { color: red }\n".repeat(40);
    for coding in [Coding::Gzip, Coding::Br] {
        let l = hashed("s.css", body.as_bytes(), Some(coding));
        let c = l.compressed.clone().expect("compressed");
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("s.css");
        std::fs::write(&src, &body).unwrap();
        let out = std::fs::read(
            crate::site::compress::compress_to_temp(&src, coding)
                .unwrap()
                .path(),
        )
        .unwrap();
        assert_eq!(
            (c.size, c.md5),
            (out.len() as u64, md5_of(&out)),
            "{coding:?}"
        );
        assert_eq!(c.first_bytes.as_slice(), &out[..8]);
        assert_eq!(l.md5, md5_of(body.as_bytes()), "the source MD5 is kept too");
        assert!(
            c.parts.is_some(),
            "large enough for parts at a 64-byte threshold"
        );
        assert_eq!(l.wire().coding, Some(coding));
    }
}

#[test]
fn tiny_and_precompressed_files_stay_plain() {
    let tiny = hashed("a.txt", b"hi", Some(Coding::Gzip));
    assert_eq!(
        (tiny.compressed.is_none(), tiny.not_compressed),
        (true, Some(NotCompressed::NoGain))
    );
    let png = hashed("a.png", &[0x89; 500], Some(Coding::Gzip));
    assert_eq!(png.not_compressed, Some(NotCompressed::Precompressed));
    assert!(png.compressed.is_none());
    let plain = hashed("a.css", &[b'a'; 500], None);
    assert_eq!(
        (plain.compressed.is_none(), plain.not_compressed),
        (true, None)
    );
}
