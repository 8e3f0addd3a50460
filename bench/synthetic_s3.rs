//! A synthetic S3 endpoint for the repair benchmark at sizes no test server holds here: a bucket
//! of N generated objects answered from arithmetic, not storage, so a million objects cost no
//! disk and no seeding, and the store is never what bounds the run.
//!
//!     cargo run --release --example synthetic-s3 -- --objects 1000000 --port 9500 [--delay-ms 20]
//!
//! Serves path-style requests for any bucket name: ListObjectsV2 (prefix, delimiter `/`,
//! start-after, continuation token, max-keys), HEAD, ranged GET, CopyObject (counted, not
//! stored: a copy does not change what the next HEAD says) and GetBucketOwnershipControls
//! (BucketOwnerEnforced: no ACLs). Keys are `obj/DDDD/JJJJJJJ.EXT` in 100 folders; every tenth
//! object is wrong the way old s3cmd left it (`text/plain`, `Content-Encoding: UTF-8`), the
//! rest right. `--delay-ms` waits that long before every answer (requests in flight wait
//! together). `GET /__bench/counts` returns the requests by kind. Binds 127.0.0.1 only; bench
//! code, not part of s3site.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const FOLDERS: u64 = 100;
const SIZE: u64 = 2048;
const EXTS: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("png", "image/png"),
    ("json", "application/json"),
];

struct Bucket {
    per_folder: u64,
    delay: Duration,
    counts: [AtomicU64; 5],
}

/// (folder, index) of a key this bucket holds.
fn parse(key: &str) -> Option<(u64, u64)> {
    let rest = key.strip_prefix("obj/")?;
    let (d, name) = rest.split_once('/')?;
    let (j, _) = name.split_once('.')?;
    Some((d.parse().ok()?, j.parse().ok()?))
}

fn key_of(d: u64, j: u64) -> String {
    format!(
        "obj/{d:04}/{j:07}.{}",
        EXTS[(j % EXTS.len() as u64) as usize].0
    )
}

fn etag(d: u64, j: u64) -> String {
    format!(
        "\"{:016x}{:016x}\"",
        d.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        j ^ 0x5bd1_e995
    )
}

fn xml(body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .header("content-type", "application/xml")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

fn query(q: &str) -> std::collections::HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

impl Bucket {
    fn list(&self, q: &std::collections::HashMap<String, String>) -> Response<Full<Bytes>> {
        let prefix = q.get("prefix").cloned().unwrap_or_default();
        let max: usize = q
            .get("max-keys")
            .and_then(|m| m.parse().ok())
            .unwrap_or(1000);
        let after = q
            .get("continuation-token")
            .or(q.get("start-after"))
            .cloned()
            .unwrap_or_default();
        let folders = q.get("delimiter").is_some_and(|d| d == "/");
        let mut contents = String::new();
        let mut prefixes = String::new();
        let mut n = 0;
        let mut last = String::new();
        let mut truncated = false;
        if folders && (prefix.is_empty() || prefix == "obj/") {
            // The cut: `obj/` at the top, then the folders.
            let names: Vec<String> = if prefix.is_empty() {
                vec!["obj/".into()]
            } else {
                (0..FOLDERS).map(|d| format!("obj/{d:04}/")).collect()
            };
            for p in names.into_iter().filter(|p| *p > after) {
                prefixes.push_str(&format!(
                    "<CommonPrefixes><Prefix>{p}</Prefix></CommonPrefixes>"
                ));
            }
        } else if let Some(d) = prefix
            .strip_prefix("obj/")
            .and_then(|r| r.strip_suffix('/'))
            .and_then(|d| d.parse::<u64>().ok())
        {
            let from = parse(&after).map_or(0, |(_, j)| j + 1);
            for j in from..self.per_folder {
                if n == max {
                    truncated = true;
                    break;
                }
                let k = key_of(d, j);
                contents.push_str(&format!(
                    "<Contents><Key>{k}</Key><Size>{SIZE}</Size><ETag>{}</ETag>\
                     <LastModified>2020-01-01T00:00:00.000Z</LastModified>\
                     <StorageClass>STANDARD</StorageClass></Contents>",
                    etag(d, j).replace('"', "&quot;")
                ));
                last = k;
                n += 1;
            }
        }
        let next = if truncated {
            format!("<NextContinuationToken>{last}</NextContinuationToken>")
        } else {
            String::new()
        };
        xml(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>b</Name>\
             <Prefix>{prefix}</Prefix><KeyCount>{n}</KeyCount><MaxKeys>{max}</MaxKeys>\
             <IsTruncated>{truncated}</IsTruncated>{next}{contents}{prefixes}</ListBucketResult>"
        ))
    }

    fn head(&self, d: u64, j: u64, body: bool, range: Option<&str>) -> Response<Full<Bytes>> {
        let wrong = j.is_multiple_of(10);
        let ext = EXTS[(j % EXTS.len() as u64) as usize];
        let mut r = Response::builder()
            .header("etag", etag(d, j))
            .header("last-modified", "Wed, 01 Jan 2020 00:00:00 GMT")
            .header("accept-ranges", "bytes")
            .header("content-type", if wrong { "text/plain" } else { ext.1 });
        if wrong {
            r = r.header("content-encoding", "UTF-8");
        }
        let len = range
            .and_then(|r| r.strip_prefix("bytes=0-"))
            .and_then(|e| e.parse::<u64>().ok())
            .map_or(SIZE, |e| (e + 1).min(SIZE));
        if !body {
            return r
                .header("content-length", SIZE)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default();
        }
        if range.is_some() {
            r = r
                .status(StatusCode::PARTIAL_CONTENT)
                .header("content-range", format!("bytes 0-{}/{SIZE}", len - 1));
        }
        r.header("content-length", len)
            .body(Full::new(Bytes::from(vec![b'a'; len as usize])))
            .unwrap_or_default()
    }

    fn answer(&self, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path();
        let q = query(req.uri().query().unwrap_or(""));
        if path == "/__bench/counts" {
            let names = ["LIST", "HEAD", "GET", "COPY", "OTHER"];
            let counts: Vec<String> = names
                .iter()
                .zip(&self.counts)
                .map(|(n, c)| format!("\"{n}\": {}", c.load(Ordering::Relaxed)))
                .collect();
            return xml(format!("{{{}}}", counts.join(", ")));
        }
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let _bucket = parts.next();
        let key = parts.next().map(|k| {
            percent_encoding::percent_decode_str(k)
                .decode_utf8_lossy()
                .into_owned()
        });
        let count = |i: usize| self.counts[i].fetch_add(1, Ordering::Relaxed);
        match (req.method().as_str(), key.as_deref().and_then(parse)) {
            ("GET", None) if q.contains_key("list-type") => {
                count(0);
                self.list(&q)
            }
            ("GET", None) if q.contains_key("ownershipControls") => {
                count(4);
                xml(
                    "<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced\
                     </ObjectOwnership></Rule></OwnershipControls>"
                        .into(),
                )
            }
            ("HEAD", Some((d, j))) if j < self.per_folder && d < FOLDERS => {
                count(1);
                self.head(d, j, false, None)
            }
            ("GET", Some((d, j))) if j < self.per_folder && d < FOLDERS => {
                count(2);
                let range = req.headers().get("range").and_then(|v| v.to_str().ok());
                self.head(d, j, true, range)
            }
            ("PUT", Some((d, j))) if req.headers().contains_key("x-amz-copy-source") => {
                count(3);
                xml(format!(
                    "<CopyObjectResult><ETag>{}</ETag><LastModified>2020-01-01T00:00:00.000Z\
                     </LastModified></CopyObjectResult>",
                    etag(d, j).replace('"', "&quot;")
                ))
            }
            _ => {
                count(4);
                eprintln!("synthetic-s3: no answer for {} {}", req.method(), req.uri());
                Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .header("content-type", "application/xml")
                    .body(Full::new(Bytes::from(
                        "<Error><Code>NoSuchKey</Code><Message>not here</Message></Error>",
                    )))
                    .unwrap_or_default()
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let objects = arg("--objects", 100_000);
    let port = arg("--port", 9500) as u16;
    let bucket = Arc::new(Bucket {
        per_folder: objects.div_ceil(FOLDERS),
        delay: Duration::from_millis(arg("--delay-ms", 0)),
        counts: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind 127.0.0.1");
    println!("http://127.0.0.1:{port}");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let bucket = bucket.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let bucket = bucket.clone();
                async move {
                    if !bucket.delay.is_zero() {
                        tokio::time::sleep(bucket.delay).await;
                    }
                    Ok::<_, std::convert::Infallible>(bucket.answer(&req))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}
