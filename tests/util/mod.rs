//! Test helpers: which S3 servers to test against, a fresh bucket per test behind a recording
//! proxy, the built binary to run, and an S3 client to check what a browser would get.
//!
//! The helpers start no server themselves: they read the endpoints that `scripts/s3-server.sh`
//! started (via `S3SITE_TEST_SERVERS`, set by `scripts/test.sh`, or the script's `status`).

pub mod command;
pub mod proxy;

pub use command::TestCommand;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::primitives::ByteStream;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const ACCESS_KEY: &str = "s3site-test";
pub const SECRET_KEY: &str = "s3site-test-secret";

/// Garage's test key (its own format), as scripts/s3-server.sh configures it.
pub const GARAGE_KEY: &str = "GK5a17e1e57c0de5a17e1e57c0";
pub const GARAGE_SECRET: &str = "5a17e1e57c0de5a15a17e1e57c0de5a15a17e1e57c0de5a15a17e1e57c0de5a1";

/// The key and secret of a test server.
pub fn credentials(server: &str) -> (&'static str, &'static str) {
    match server {
        "garage" => (GARAGE_KEY, GARAGE_SECRET),
        _ => (ACCESS_KEY, SECRET_KEY),
    }
}

/// The server with a website endpoint (Garage), from `S3SITE_WEBSITE_SERVER` (`garage=URL`, set
/// by scripts/test.sh) or the server script's `status`. Panics when it is not running: the
/// website tests must not pass without one.
pub fn website_server() -> Server {
    let (name, endpoint) = match std::env::var("S3SITE_WEBSITE_SERVER") {
        Ok(v) => {
            let (n, e) = v.split_once('=').expect("S3SITE_WEBSITE_SERVER: name=url");
            (n.trim().to_string(), e.trim().to_string())
        }
        Err(_) => {
            let out = Command::new(root().join("scripts/s3-server.sh"))
                .args(["status", "garage"])
                .output()
                .expect("run scripts/s3-server.sh");
            assert!(
                out.status.success(),
                "the garage test server (the website endpoint) is not running: start it with \
                 scripts/test.sh, or scripts/s3-server.sh start garage"
            );
            (
                "garage".to_string(),
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
            )
        }
    };
    Server { name, endpoint }
}

/// An S3-compatible server under test.
#[derive(Clone, Debug)]
pub struct Server {
    pub name: String,
    pub endpoint: String,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The servers to run every integration test against. Panics (the test fails) when none is
/// running: a test that silently skips could never fail.
pub fn servers() -> Vec<Server> {
    if let Ok(list) = std::env::var("S3SITE_TEST_SERVERS") {
        let servers: Vec<Server> = list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                let (name, endpoint) = s
                    .split_once('=')
                    .expect("S3SITE_TEST_SERVERS: name=url,...");
                Server {
                    name: name.trim().into(),
                    endpoint: endpoint.trim().into(),
                }
            })
            .collect();
        assert!(!servers.is_empty(), "S3SITE_TEST_SERVERS is empty");
        return servers;
    }
    ["moto", "seaweedfs"]
        .iter()
        .map(|name| {
            let out = Command::new(root().join("scripts/s3-server.sh"))
                .args(["status", name])
                .output()
                .expect("run scripts/s3-server.sh");
            assert!(
                out.status.success(),
                "the {name} test server is not running: start the servers with scripts/test.sh, \
                 or scripts/s3-server.sh start {name}"
            );
            Server {
                name: name.to_string(),
                endpoint: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            }
        })
        .collect()
}

/// What a HEAD returned.
#[derive(Clone, Debug, Default)]
pub struct Head {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub etag: String,
    pub content_length: i64,
    pub metadata: BTreeMap<String, String>,
}

/// One test's world: a fresh bucket on one server behind a recording proxy, a temp site folder.
pub struct TestEnv {
    pub proxy: proxy::Proxy,
    pub bucket: String,
    /// Which server this is (`moto`, `seaweedfs`), for cases a server cannot support.
    pub server: String,
    endpoint: String,
    tmp: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    client: Client,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestEnv {
    /// A fresh, empty bucket named after the test.
    pub fn new(server: &Server, test: &str) -> TestEnv {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let slug: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(30)
            .collect();
        let bucket = format!("t-{slug}-{}-{n}-{nanos:x}", std::process::id())
            .chars()
            .take(63)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = client_for(&server.name, &server.endpoint);
        if server.name == "garage" {
            let out = Command::new(root().join("scripts/s3-server.sh"))
                .args(["bucket", "garage", &bucket])
                .output()
                .expect("run scripts/s3-server.sh");
            assert!(
                out.status.success(),
                "create bucket {bucket} on garage: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            rt.block_on(client.create_bucket().bucket(&bucket).send())
                .unwrap_or_else(|e| panic!("create bucket {bucket} on {}: {e:?}", server.name));
        }
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("site")).unwrap();
        std::fs::create_dir(tmp.path().join("home")).unwrap();
        TestEnv {
            proxy: proxy::Proxy::start(&server.endpoint),
            bucket,
            server: server.name.clone(),
            endpoint: server.endpoint.clone(),
            tmp,
            rt,
            client,
        }
    }

    /// The site folder (empty at first).
    pub fn site(&self) -> PathBuf {
        self.tmp.path().join("site")
    }

    /// Copies `fixtures/site` into the site folder.
    pub fn copy_fixture_site(&self) {
        let src = root().join("fixtures/site");
        for e in walkdir::WalkDir::new(&src) {
            let e = e.unwrap();
            let to = self.site().join(e.path().strip_prefix(&src).unwrap());
            if e.file_type().is_dir() {
                std::fs::create_dir_all(&to).unwrap();
            } else {
                std::fs::copy(e.path(), &to).unwrap();
            }
        }
    }

    /// Writes a file under the site folder.
    pub fn write(&self, rel: &str, body: impl AsRef<[u8]>) {
        let p = self.site().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    /// `s3://BUCKET/PREFIX`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    /// The s3site binary with test credentials, sending its requests through the proxy.
    pub fn cmd(&self) -> TestCommand {
        let (key, secret) = credentials(&self.server);
        TestCommand::new(&self.home())
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .endpoint(&self.proxy.endpoint)
    }

    /// The home folder s3site runs in (its working directory, and `~`).
    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    /// `s3site sync SITE s3://BUCKET/PREFIX`, to add arguments to.
    pub fn sync_cmd(&self, prefix: &str) -> TestCommand {
        self.cmd()
            .arg("sync")
            .arg(self.site())
            .arg(self.url(prefix))
    }

    /// `s3site repair s3://BUCKET/PREFIX`, to add arguments to.
    pub fn repair_cmd(&self, prefix: &str) -> TestCommand {
        self.cmd().arg("repair").arg(self.url(prefix))
    }

    /// Whether this test's server has `cap`.
    pub fn has(&self, cap: Capability) -> bool {
        has(&self.server, cap)
    }

    /// Runs `s3site sync SITE URL ARGS... --endpoint-url PROXY --path-style`.
    pub fn sync(&self, prefix: &str, args: &[&str]) -> Output {
        self.sync_env(prefix, &[], args)
    }

    /// `sync`, with these environment variables set (`S3SITE_LIST_PAGE`, `S3SITE_LOG`...).
    pub fn sync_env(&self, prefix: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut c = self.sync_cmd(prefix);
        for (k, v) in env {
            c = c.env(k, v);
        }
        c.args(args).output()
    }

    /// HEAD of `key`, as the server answers it; `None` when it does not exist.
    pub fn head(&self, key: &str) -> Option<Head> {
        let out = self.rt.block_on(
            self.client
                .head_object()
                .bucket(&self.bucket)
                .key(key)
                .send(),
        );
        match out {
            Ok(h) => Some(Head {
                content_type: h.content_type().map(str::to_string),
                content_encoding: h.content_encoding().map(str::to_string),
                etag: h.e_tag().unwrap_or_default().trim_matches('"').to_string(),
                content_length: h.content_length().unwrap_or(-1),
                metadata: h
                    .metadata()
                    .map(|m| m.clone().into_iter().collect())
                    .unwrap_or_default(),
            }),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => None,
            Err(e) => panic!("HEAD {key}: {e:?}"),
        }
    }

    /// The body of `key` from a plain GET.
    pub fn get(&self, key: &str) -> Vec<u8> {
        self.rt.block_on(async {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {key}: {e:?}"));
            out.body.collect().await.unwrap().into_bytes().to_vec()
        })
    }

    /// Every key in the bucket, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.rt.block_on(async {
            let mut keys = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .into_paginator()
                .send();
            while let Some(p) = pages.next().await {
                for o in p.unwrap().contents() {
                    keys.push(o.key().unwrap().to_string());
                }
            }
            keys.sort();
            keys
        })
    }

    /// Stores an object directly (not through s3site or the proxy).
    pub fn put(&self, key: &str, body: &[u8]) {
        self.put_with(key, body, |r| r);
    }

    /// Stores an object directly with the headers `f` adds to the PutObject request (seeding a
    /// bucket the way another tool left it).
    pub fn put_with(
        &self,
        key: &str,
        body: &[u8],
        f: impl FnOnce(PutObjectFluentBuilder) -> PutObjectFluentBuilder,
    ) {
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body.to_vec()));
        self.rt
            .block_on(f(req).send())
            .unwrap_or_else(|e| panic!("PUT {key}: {e:?}"));
    }

    /// The whole HEAD response for `key`.
    pub fn head_full(&self, key: &str) -> HeadObjectOutput {
        self.rt
            .block_on(
                self.client
                    .head_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("HEAD {key}: {e:?}"))
    }

    /// The tags of `key`, as `k=v` strings, sorted.
    pub fn tags(&self, key: &str) -> Vec<String> {
        let out = self
            .rt
            .block_on(
                self.client
                    .get_object_tagging()
                    .bucket(&self.bucket)
                    .key(key)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("tags of {key}: {e:?}"));
        let mut v: Vec<String> = out
            .tag_set()
            .iter()
            .map(|t| format!("{}={}", t.key(), t.value()))
            .collect();
        v.sort();
        v
    }

    /// The grants of `key`'s ACL, as `GRANTEE:PERMISSION` strings, sorted.
    pub fn acl(&self, key: &str) -> Vec<String> {
        let out = self
            .rt
            .block_on(
                self.client
                    .get_object_acl()
                    .bucket(&self.bucket)
                    .key(key)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("ACL of {key}: {e:?}"));
        let mut v: Vec<String> = out
            .grants()
            .iter()
            .map(|g| {
                let who = g.grantee().and_then(|e| e.uri().or(e.id())).unwrap_or("?");
                format!("{who}:{}", g.permission().map_or("?", |p| p.as_str()))
            })
            .collect();
        v.sort();
        v
    }

    /// Runs `s3site repair URL ARGS... --endpoint-url PROXY --path-style`.
    pub fn repair(&self, prefix: &str, args: &[&str]) -> Output {
        self.repair_cmd(prefix).args(args).output()
    }

    /// Runs `s3site repair URL` with objects over 6 MiB copied in parts (a 13 MiB object in
    /// three), as objects over 5 GiB are.
    pub fn repair_in_parts(&self) -> Output {
        self.repair_cmd("")
            .env("S3SITE_MAX_SINGLE_COPY", (6 * 1024 * 1024).to_string())
            .output()
    }

    /// Runs `s3site ARGS... --endpoint-url PROXY --path-style`, waits until the proxy sees a
    /// request `started` accepts, sends `signal` (`-INT`, `-TERM`) and returns the output.
    pub fn signalled(
        &self,
        args: &[&str],
        started: impl Fn(&proxy::Seen) -> bool,
        signal: &str,
    ) -> Output {
        let child = self.cmd().args(args).spawn();
        let since = std::time::Instant::now();
        while !self.proxy.requests().iter().any(&started) {
            assert!(
                since.elapsed().as_secs() < 30,
                "the awaited request never came"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let kill = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        child.wait_with_output().unwrap()
    }

    /// A CloudFront distribution on the test server with one S3 origin for this test's bucket
    /// (`BUCKET.s3.amazonaws.com` and `origin_path`), after another origin that is not the
    /// bucket; returns its id.
    pub fn create_distribution(&self, origin_path: &str) -> String {
        use aws_sdk_cloudfront::types::{
            CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, Origin,
            OriginProtocolPolicy, Origins, S3OriginConfig, ViewerProtocolPolicy,
        };
        let site_origin = |domain: &str, path: &str| {
            Origin::builder()
                .id("site")
                .domain_name(domain)
                .origin_path(path)
                .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
                .build()
                .unwrap()
        };
        let api_origin = Origin::builder()
            .id("api")
            .domain_name("api.example.com")
            .custom_origin_config(
                CustomOriginConfig::builder()
                    .http_port(80)
                    .https_port(443)
                    .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let site_domain = format!("{}.s3.amazonaws.com", self.bucket);
        let behavior = DefaultCacheBehavior::builder()
            .target_origin_id("site")
            .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
            .build()
            .unwrap();
        let config = DistributionConfig::builder()
            .caller_reference(format!("{}-{origin_path}", self.bucket))
            .comment("s3site test")
            .enabled(true)
            .origins(
                Origins::builder()
                    .quantity(2)
                    .items(api_origin)
                    .items(site_origin(&site_domain, origin_path))
                    .build()
                    .unwrap(),
            )
            .default_cache_behavior(behavior)
            .build()
            .unwrap();
        let out = self
            .rt
            .block_on(
                self.cloudfront()
                    .create_distribution()
                    .distribution_config(config)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("create distribution: {e:?}"));
        out.distribution().unwrap().id().to_string()
    }

    /// The paths of every invalidation of `distribution` (each sorted), oldest first.
    pub fn invalidations(&self, distribution: &str) -> Vec<Vec<String>> {
        self.rt.block_on(async {
            let cf = self.cloudfront();
            let list = cf
                .list_invalidations()
                .distribution_id(distribution)
                .send()
                .await
                .unwrap();
            let mut out = Vec::new();
            let items = list
                .invalidation_list()
                .map(|l| l.items())
                .unwrap_or_default();
            for i in items {
                let inv = cf
                    .get_invalidation()
                    .distribution_id(distribution)
                    .id(i.id())
                    .send()
                    .await
                    .unwrap();
                let batch = inv.invalidation().unwrap().invalidation_batch().unwrap();
                let mut paths = batch.paths().unwrap().items().to_vec();
                paths.sort();
                out.push((i.create_time().as_nanos(), paths));
            }
            out.sort();
            out.into_iter().map(|(_, p)| p).collect()
        })
    }

    fn cloudfront(&self) -> aws_sdk_cloudfront::Client {
        use aws_sdk_cloudfront::config::{BehaviorVersion, Builder, Credentials, Region};
        let conf = Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                ACCESS_KEY, SECRET_KEY, None, None, "tests",
            ))
            .endpoint_url(&self.endpoint)
            .build();
        aws_sdk_cloudfront::Client::from_conf(conf)
    }

    /// The bucket's website configuration: index document, error document, and each routing
    /// rule as `PREFIX -> REPLACEMENT CODE`; `None` when it has none.
    pub fn website(&self) -> Option<(Option<String>, Option<String>, Vec<String>)> {
        let out = self
            .rt
            .block_on(self.client.get_bucket_website().bucket(&self.bucket).send())
            .ok()?;
        let rules = out
            .routing_rules()
            .iter()
            .map(|r| {
                let c = r
                    .condition()
                    .and_then(|c| c.key_prefix_equals())
                    .unwrap_or("");
                let d = r.redirect();
                format!(
                    "{c} -> {} {}",
                    d.and_then(|d| d.replace_key_prefix_with()).unwrap_or(""),
                    d.and_then(|d| d.http_redirect_code()).unwrap_or("")
                )
            })
            .collect();
        Some((
            out.index_document().map(|i| i.suffix().to_string()),
            out.error_document().map(|e| e.key().to_string()),
            rules,
        ))
    }

    /// The test's own client (direct to the server) and a way to run its futures, for checks
    /// the helpers do not cover.
    pub fn sdk<T>(&self, f: impl AsyncFnOnce(&Client, &str) -> T) -> T {
        self.rt.block_on(f(&self.client, &self.bucket))
    }

    /// A new direct client to the server (bypassing the proxy), for a racing writer.
    pub fn direct_client(&self) -> Client {
        client_for(&self.server, &self.endpoint)
    }

    /// Stores `body` as a multipart upload with `part_size` parts, as another tool would
    /// (no stored MD5).
    pub fn put_multipart(&self, key: &str, body: &[u8], part_size: usize) {
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        self.rt.block_on(async {
            let c = &self.client;
            let up = c
                .create_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .unwrap();
            let id = up.upload_id().unwrap();
            let mut parts = Vec::new();
            for (i, chunk) in body.chunks(part_size).enumerate() {
                let n = i as i32 + 1;
                let out = c
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(id)
                    .part_number(n)
                    .body(ByteStream::from(chunk.to_vec()))
                    .send()
                    .await
                    .unwrap();
                parts.push(
                    CompletedPart::builder()
                        .part_number(n)
                        .e_tag(out.e_tag().unwrap())
                        .build(),
                );
            }
            c.complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .unwrap();
        });
    }
}

/// The s3site binary with a clean environment (see `TestCommand::new`), running in `home`.
pub fn s3site(home: &Path) -> TestCommand {
    TestCommand::new(home)
}

fn client_for(server: &str, endpoint: &str) -> Client {
    let (key, secret) = credentials(server);
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "tests"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .build();
    Client::from_conf(conf)
}

/// Asserts the exit code, showing stdout and stderr when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit code\n{}",
        command::framed("(see the test)", out)
    );
}

/// Stdout as a string.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr as a string.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The MD5 of a byte slice, in hex (a single-part ETag).
pub fn md5_hex(body: &[u8]) -> String {
    hex::encode(s3site::content::digest::md5_of(body))
}

/// 13 MiB of bytes cycling through `0..modulo`: an object a repair copies in three parts (see
/// `TestEnv::repair_in_parts`).
pub fn body_13mib(modulo: u32) -> Vec<u8> {
    (0..13 * 1024 * 1024u32)
        .map(|i| (i % modulo) as u8)
        .collect()
}

/// Runs `f` against every server, naming the server when it fails.
pub fn each_server(test: &str, f: impl Fn(&TestEnv)) {
    for s in servers() {
        run_on(&s, test, &f);
    }
}

/// What a test server can do or promises, where servers differ. A test that needs one runs
/// only on the servers that have it, says so for the others, and fails when no server in the
/// run has it: a capability no server exercised was not tested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// `x-amz-copy-source-if-match` on CopyObject and UploadPartCopy: a copy of an object that
    /// changed since it was read fails with 412.
    HonoursCopyIfMatch,
    /// `If-Match` on CompleteMultipartUpload: completing a copy over an object that changed
    /// since it was read fails with 412.
    HonoursCompleteIfMatch,
    /// ListMultipartUploads reports when each upload started (`Initiated`), so a live upload
    /// can be told from one an interrupted run left behind.
    ReportsUploadStartTimes,
    /// The store recomputes the body's MD5 and refuses a PUT whose `Content-MD5` differs.
    VerifiesContentMd5,
    /// Object ACLs are kept and can be read back (not BucketOwnerEnforced).
    HasAcls,
    /// Restricted identities (keys without list or write permission) to be denied with.
    HasIdentities,
    /// SSE-KMS on PutObject, reported back by HEAD.
    HasKms,
    /// Lists keys in S3's byte order (SeaweedFS lists a folder's keys before its siblings).
    ListsInByteOrder,
    /// Keeps every key as sent (SeaweedFS turns `\` into `/` and collapses `//`).
    KeepsKeysAsSent,
    /// A CloudFront API beside S3 (moto's: distributions and invalidations, no limits).
    HasCloudFront,
    /// Stores `x-amz-website-redirect-location` (SeaweedFS drops it).
    StoresWebsiteRedirect,
    /// GetBucketWebsite and PutBucketWebsite.
    HasWebsiteConfig,
    /// Stores an object under a key ending in `/` (SeaweedFS makes it a folder).
    StoresFolderKeys,
    /// An HTTPS port with a certificate from a private CA (`scripts/s3-server.sh tls`).
    ServesHttps,
}

/// Which server has which capability, each checked by hand against the server's version in
/// scripts/s3-server.sh (see the table in the README's Development section).
pub fn has(server: &str, cap: Capability) -> bool {
    use Capability::*;
    match server {
        // moto 5.2.5 implements only copy-source-if-none-match, no condition on
        // CompleteMultipartUpload, reports every upload as started on 2010-11-10, accepts any
        // credentials and does not check Content-MD5.
        "moto" => matches!(
            cap,
            HasAcls
                | HasKms
                | ListsInByteOrder
                | KeepsKeysAsSent
                | HasCloudFront
                | StoresWebsiteRedirect
                | HasWebsiteConfig
                | StoresFolderKeys
        ),
        // SeaweedFS 4.48: conditional copies and completions, identities from its config;
        // buckets are BucketOwnerEnforced and there is no KMS.
        "seaweedfs" => matches!(
            cap,
            HonoursCopyIfMatch
                | HonoursCompleteIfMatch
                | ReportsUploadStartTimes
                | VerifiesContentMd5
                | HasIdentities
                | ServesHttps
        ),
        _ => false,
    }
}

/// Runs `f` against every server that has `cap`; says which servers it skipped, and fails when
/// none in this run has it.
pub fn each_server_with(cap: Capability, test: &str, f: impl Fn(&TestEnv)) {
    let all = servers();
    let with: Vec<Server> = all.iter().filter(|s| has(&s.name, cap)).cloned().collect();
    assert!(
        !with.is_empty(),
        "no server in this run ({}) has {cap:?}: the test of it would prove nothing; add one \
         that does to S3SITE_TEST_SERVERS",
        all.iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for s in all.iter().filter(|s| !has(&s.name, cap)) {
        eprintln!("{test}: skipped on {}, which lacks {cap:?}", s.name);
    }
    for s in with {
        run_on(&s, test, &f);
    }
}

/// Runs `f` against a fresh bucket on `s`, naming the server when it fails.
fn run_on(s: &Server, test: &str, f: &impl Fn(&TestEnv)) {
    let env = TestEnv::new(s, test);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&env)));
    if let Err(e) = result {
        eprintln!("test {test} failed against {} ({})", s.name, s.endpoint);
        std::panic::resume_unwind(e);
    }
}

/// Files in a folder, relative, `/`-separated, sorted (excluding nothing).
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_str()
                .unwrap()
                .replace('\\', "/")
        })
        .collect();
    v.sort();
    v
}
