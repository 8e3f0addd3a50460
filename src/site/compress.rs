//! Deterministic compression of upload bodies, and which files are not worth compressing.
//!
//! Owns: the exact encoder settings (gzip: no file name, mtime 0, level 6; brotli: quality 5,
//! window 22; input always fed in the same pieces), so an unchanged file always compresses to
//! the same bytes and the same ETag, and the list of formats that are compressed already. Must not: decide which files a rule
//! compresses (that is `settings::rules`) or talk to a store.

use crate::content::coding::Coding;
use std::io::{self, Write};
use std::path::Path;

/// gzip level. A run without the hash cache compresses the matching files again to compare
/// them with the bucket, so speed counts more than the last few percent of size (the levels
/// measured are in bench/RESULTS.md, "Compress rules").
const GZIP_LEVEL: u32 = 6;
/// Brotli quality and window, chosen the same way: higher qualities cost several times the CPU.
const BROTLI_QUALITY: u32 = 5;
const BROTLI_WINDOW: u32 = 22;

/// Bytes fed to the underlying encoder per call. Some encoders (zlib-rs at some levels) produce
/// different output for different write sizes, so every caller's input is re-cut into exactly
/// these pieces: the output then depends on the content alone.
const FEED: usize = 64 * 1024;

/// A streaming encoder for one coding, writing into `W`; deterministic whatever the sizes of
/// the writes it is given.
pub struct Encoder<W: Write> {
    inner: Inner<W>,
    pending: Vec<u8>,
}

enum Inner<W: Write> {
    Gzip(Box<flate2::write::GzEncoder<W>>),
    Br(Box<brotli::CompressorWriter<W>>),
}

impl<W: Write> Inner<W> {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Inner::Gzip(e) => e.write_all(buf),
            Inner::Br(e) => e.write_all(buf),
        }
    }
}

impl<W: Write> Encoder<W> {
    /// An encoder with s3site's fixed settings.
    pub fn new(coding: Coding, w: W) -> Encoder<W> {
        let inner = match coding {
            Coding::Gzip => Inner::Gzip(Box::new(
                flate2::GzBuilder::new()
                    .mtime(0)
                    .operating_system(255)
                    .write(w, flate2::Compression::new(GZIP_LEVEL)),
            )),
            Coding::Br => Inner::Br(Box::new(brotli::CompressorWriter::new(
                w,
                FEED,
                BROTLI_QUALITY,
                BROTLI_WINDOW,
            ))),
        };
        Encoder {
            inner,
            pending: Vec::with_capacity(FEED),
        }
    }

    /// Ends the stream and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.inner.write_all(&rest)?;
        }
        match self.inner {
            Inner::Gzip(e) => e.finish(),
            Inner::Br(e) => {
                let mut w = e.into_inner();
                w.flush()?;
                Ok(w)
            }
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let n = buf.len();
        while !buf.is_empty() {
            let take = (FEED - self.pending.len()).min(buf.len());
            self.pending.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.pending.len() == FEED {
                self.inner.write_all(&self.pending)?;
                self.pending.clear();
            }
        }
        Ok(n)
    }

    /// Does nothing: flushing would change the compressed bytes.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the encoders produce, in 32 hex digits: the MD5 of both codings of a fixed sample
/// (computed once, on first use). Compressed sizes and MD5s remembered by the hash cache are
/// trusted only under the same fingerprint, so an encoder that changes its output (a dependency
/// update) never meets a stale compressed MD5.
pub fn fingerprint() -> &'static str {
    static FINGERPRINT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        const TEXT: &[u8] = b"<p>s3site fingerprint</p>\n";
        let sample: Vec<u8> = (0..3 * FEED)
            .map(|i| TEXT[i % TEXT.len()] ^ (i / 997) as u8)
            .collect();
        let mut h = crate::content::digest::Md5Stream::new();
        for coding in [Coding::Gzip, Coding::Br] {
            let mut e = Encoder::new(coding, Vec::new());
            let out = e
                .write_all(&sample)
                .and_then(|()| e.finish())
                .unwrap_or_default();
            h.update(&out);
        }
        hex::encode(h.finish())
    });
    &FINGERPRINT
}

/// Compresses the file at `src` into a new temporary file (deleted when dropped).
pub fn compress_to_temp(src: &Path, coding: Coding) -> io::Result<tempfile::NamedTempFile> {
    let mut input = std::fs::File::open(src)?;
    let tmp = tempfile::NamedTempFile::new()?;
    let out = io::BufWriter::with_capacity(256 * 1024, tmp.reopen()?);
    let mut enc = Encoder::new(coding, out);
    io::copy(&mut input, &mut enc)?;
    enc.finish()?.flush()?;
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn compress(coding: Coding, data: &[u8]) -> Vec<u8> {
        let mut e = Encoder::new(coding, Vec::new());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    #[test]
    fn output_is_deterministic_and_decodes() {
        let text = "<p>hello, world</p>\n".repeat(500);
        for coding in [Coding::Gzip, Coding::Br] {
            let a = compress(coding, text.as_bytes());
            let b = compress(coding, text.as_bytes());
            assert_eq!(a, b, "{coding:?}");
            assert!(a.len() < text.len() / 10, "{coding:?} shrinks");
            let mut out = Vec::new();
            match coding {
                Coding::Gzip => {
                    flate2::read::GzDecoder::new(&a[..])
                        .read_to_end(&mut out)
                        .expect("gunzip");
                }
                Coding::Br => {
                    brotli::Decompressor::new(&a[..], 4096)
                        .read_to_end(&mut out)
                        .expect("unbrotli");
                }
            }
            assert_eq!(out, text.as_bytes());
        }
    }

    #[test]
    fn output_does_not_depend_on_write_sizes() {
        let pat = b"<div class=\"post\">lorem ipsum</div>\n";
        let text: Vec<u8> = (0..400_000usize)
            .map(|i| pat[i % pat.len()] ^ ((i / 997) as u8 & 1))
            .collect();
        for coding in [Coding::Gzip, Coding::Br] {
            let whole = compress(coding, &text);
            for chunk in [1usize, 1000, 8192, 65_537, 300_000] {
                let mut e = Encoder::new(coding, Vec::new());
                for piece in text.chunks(chunk) {
                    e.write_all(piece).expect("write");
                }
                assert_eq!(
                    e.finish().expect("finish"),
                    whole,
                    "{coding:?} in {chunk}-byte writes"
                );
            }
        }
    }

    #[test]
    fn gzip_header_has_no_name_and_no_mtime() {
        let gz = compress(Coding::Gzip, b"abc");
        assert_eq!(
            &gz[..4],
            &[0x1f, 0x8b, 8, 0],
            "magic, deflate, no flags (no name)"
        );
        assert_eq!(&gz[4..8], &[0, 0, 0, 0], "mtime 0");
    }

    #[test]
    fn temp_file_matches_in_memory_output() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("a.css");
        std::fs::write(&p, "body { color: red }\n".repeat(100)).expect("write");
        let tmp = compress_to_temp(&p, Coding::Br).expect("compress");
        let on_disk = std::fs::read(tmp.path()).expect("read");
        let src = std::fs::read(&p).expect("read");
        assert_eq!(on_disk, compress(Coding::Br, &src));
    }
}
