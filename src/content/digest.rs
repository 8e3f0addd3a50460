//! The streaming MD5 behind every digest s3site computes: file bodies, multipart parts,
//! compressed bodies, cache ids.
//!
//! Owns: the choice of MD5 implementation. On x86_64 that is AWS-LC's assembly MD5, which the
//! AWS SDK already links for TLS and which is faster than the pure-Rust `md-5`: MD5 is most of a
//! rebuild's CPU (bench/RESULTS.md, "What bounds each phase"). Elsewhere it is `md-5`. This is
//! the crate's only `unsafe` code: three FFI calls on a context it owns.
//! Must not: read files or know what it hashes.

/// A 16-byte MD5 digest.
pub type Md5 = [u8; 16];

/// An MD5 computed incrementally: `update` with each piece, then `finish`.
pub struct Md5Stream(imp::Context);

impl Md5Stream {
    /// A fresh digest of zero bytes.
    pub fn new() -> Md5Stream {
        Md5Stream(imp::Context::new())
    }

    /// Adds `data` to the digest.
    pub fn update(&mut self, data: &[u8]) {
        if !data.is_empty() {
            self.0.update(data);
        }
    }

    /// The digest of everything added.
    pub fn finish(self) -> Md5 {
        self.0.finish()
    }
}

impl Default for Md5Stream {
    fn default() -> Md5Stream {
        Md5Stream::new()
    }
}

/// The MD5 of a byte slice.
pub fn md5_of(bytes: &[u8]) -> Md5 {
    let mut h = Md5Stream::new();
    h.update(bytes);
    h.finish()
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod imp {
    use super::Md5;
    use aws_lc_sys::{MD5_CTX, MD5_Final, MD5_Init, MD5_Update};
    use std::mem::MaybeUninit;

    /// An initialised AWS-LC MD5 context: plain integers and bytes, so moving it is fine.
    pub struct Context(MD5_CTX);

    impl Context {
        pub fn new() -> Context {
            let mut ctx = MaybeUninit::<MD5_CTX>::uninit();
            // SAFETY: MD5_Init writes every field of the context it is given (and always
            // returns 1), so it is initialised afterwards.
            unsafe {
                MD5_Init(ctx.as_mut_ptr());
                Context(ctx.assume_init())
            }
        }

        pub fn update(&mut self, data: &[u8]) {
            // SAFETY: the context is initialised and exclusively borrowed; `data` is valid for
            // `data.len()` bytes, which MD5_Update only reads.
            unsafe {
                MD5_Update(&mut self.0, data.as_ptr().cast(), data.len());
            }
        }

        pub fn finish(mut self) -> Md5 {
            let mut out = [0u8; 16];
            // SAFETY: `out` has room for the 16-byte digest MD5_Final writes; the context is
            // initialised and owned.
            unsafe {
                MD5_Final(out.as_mut_ptr(), &mut self.0);
            }
            out
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    use super::Md5;
    use md5::Digest as _;

    pub struct Context(md5::Md5);

    impl Context {
        pub fn new() -> Context {
            Context(md5::Md5::new())
        }

        pub fn update(&mut self, data: &[u8]) {
            self.0.update(data);
        }

        pub fn finish(self) -> Md5 {
            self.0.finalize().into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::Digest as _;

    fn reference(data: &[u8]) -> Md5 {
        md5::Md5::digest(data).into()
    }

    #[test]
    fn known_digests() {
        assert_eq!(hex::encode(md5_of(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            hex::encode(md5_of(b"The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
    }

    /// Every length around the 64-byte block and every way of cutting the input agrees with
    /// the `md-5` crate.
    #[test]
    fn agrees_with_md5_crate_however_the_input_is_cut() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for len in (0..200).chain([1000, 4095, 4096, 4097, 5000]) {
            let want = reference(&data[..len]);
            assert_eq!(md5_of(&data[..len]), want, "len {len}");
            for cut in [1, 3, 63, 64, 65, 1000] {
                let mut h = Md5Stream::new();
                data[..len].chunks(cut).for_each(|c| h.update(c));
                assert_eq!(h.finish(), want, "len {len} cut {cut}");
            }
        }
    }
}
