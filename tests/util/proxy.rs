//! A loopback HTTP proxy in front of the test server that records every request, so tests can
//! assert which requests s3site made (no write on a no-op sync, one LIST and nothing else...),
//! and injects faults on the requests a test picks: an S3 500/503, a connection reset, a delay,
//! a response cut mid-body. It forwards requests untouched (the Host header too, so SigV4
//! signatures still verify).

use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::{Arc, Mutex};

/// One request as the proxy saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// `GET`, `PUT`, `HEAD`, `POST`, `DELETE`.
    pub method: String,
    /// Path, percent-encoded as sent.
    pub path: String,
    /// Query string, if any.
    pub query: String,
    /// Whether it carried `x-amz-copy-source` (CopyObject, UploadPartCopy).
    pub copy: bool,
    /// The region it was signed for (its Authorization's credential scope), if signed.
    pub region: Option<String>,
}

impl Seen {
    /// Whether the request can change the store.
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "PUT" | "POST" | "DELETE")
    }

    /// Whether this is a CopyObject request (a copy that is not a part of a multipart upload).
    pub fn is_copy_object(&self) -> bool {
        self.copy && !self.query.contains("uploadId")
    }

    /// Whether this is a PutObject request (a body, not a copy or a part).
    pub fn is_put_object(&self) -> bool {
        self.method == "PUT" && !self.copy && !self.query.contains("uploadId")
    }

    /// Whether this is a HeadObject request.
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    /// Whether this is a ListObjectsV2 request.
    pub fn is_list(&self) -> bool {
        self.method == "GET" && self.query.contains("list-type=2")
    }
}

/// Something to run just before a request is forwarded (it gets the request's path).
pub type Hook = Arc<dyn Fn(&str) + Send + Sync>;

/// Which requests a fault applies to.
pub type Matcher = Arc<dyn Fn(&Seen) -> bool + Send + Sync>;

/// What the proxy does instead of (or on top of) forwarding a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status and an S3 error document (`500` InternalError, `503` SlowDown),
    /// without forwarding.
    Status(u16),
    /// Answer with this status and an S3 error document with this code (`ExpiredToken`...),
    /// without forwarding.
    Error(u16, &'static str),
    /// Answer with this status and a CloudFront error document (wrapped in `ErrorResponse`)
    /// with this code (`TooManyInvalidationsInProgress`...), without forwarding.
    CloudFrontError(u16, &'static str),
    /// Close the connection without answering, without forwarding.
    Reset,
    /// Wait this many milliseconds, then forward.
    Delay(u64),
    /// Forward, then send only the first half of the response body and close.
    CutBody,
    /// Answer 301 PermanentRedirect with `x-amz-bucket-region: REGION`, as S3 answers a request
    /// signed for another region than the bucket's, without forwarding.
    WrongRegion(&'static str),
    /// Forward, then answer as SSE-KMS does (moto gives KMS objects their MD5 as ETag, AWS never
    /// does): each 32-hex ETag, in the `ETag` header and in a listing's `<ETag>`, becomes the
    /// MD5 of those 32 digits, which is not the body's MD5.
    KmsEtags,
}

/// The ETag an SSE-KMS store would give in place of `md5` (32 hex digits): the MD5 of them.
pub fn kms_etag(md5: &str) -> String {
    crate::util::md5_hex(md5.as_bytes())
}

/// `text` with every 32-hex run right after `<ETag>` and an optional quote replaced by
/// `kms_etag` of it (the same length, so Content-Length holds).
fn kms_etags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("<ETag>") {
        let (head, tail) = rest.split_at(i + "<ETag>".len());
        out.push_str(head);
        let quote = ["&quot;", "&#34;", "\""]
            .into_iter()
            .find(|q| tail.starts_with(q))
            .unwrap_or("");
        out.push_str(quote);
        let after = &tail[quote.len()..];
        match after
            .get(..32)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            Some(hex) => {
                out.push_str(&kms_etag(hex));
                rest = &after[32..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

struct Fault {
    matches: Matcher,
    kind: FaultKind,
    /// How many more times it applies; `None`: every time.
    remaining: Option<usize>,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    hooks: Mutex<Vec<(Matcher, Hook)>>,
    faults: Mutex<Vec<Fault>>,
    injected: Mutex<usize>,
}

impl Shared {
    /// The fault for this request, if one applies (counting it down).
    fn fault_for(&self, s: &Seen) -> Option<FaultKind> {
        let mut faults = self.faults.lock().unwrap();
        let f = faults
            .iter_mut()
            .find(|f| f.remaining != Some(0) && (f.matches)(s))?;
        if let Some(n) = &mut f.remaining {
            *n -= 1;
        }
        *self.injected.lock().unwrap() += 1;
        Some(f.kind)
    }
}

/// The running proxy; it stops with the test process.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (an `http://host:port` endpoint) on a free loopback port.
    pub fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_end_matches('/').to_string();
        let shared: Arc<Shared> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let s = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(serve(listener, upstream, s));
        });
        Proxy { endpoint, shared }
    }

    /// Runs `f` (on a blocking thread) just before each copy request is forwarded: a way to
    /// make a writer race s3site deterministically.
    pub fn before_copy(&self, f: impl Fn(&str) + Send + Sync + 'static) {
        self.before(|s| s.copy, f);
    }

    /// Runs `f` (on a blocking thread, given the request's path) before forwarding each request
    /// `matches` accepts, holding the request (its body unread) until `f` returns.
    pub fn before(
        &self,
        matches: impl Fn(&Seen) -> bool + Send + Sync + 'static,
        f: impl Fn(&str) + Send + Sync + 'static,
    ) {
        self.shared
            .hooks
            .lock()
            .unwrap()
            .push((Arc::new(matches), Arc::new(f)));
    }

    /// Injects `kind` into the next `times` requests `matches` accepts (`None`: all of them,
    /// until `clear_faults`). Faults are tried in the order they were added.
    pub fn fault(
        &self,
        matches: impl Fn(&Seen) -> bool + Send + Sync + 'static,
        kind: FaultKind,
        times: Option<usize>,
    ) {
        self.shared.faults.lock().unwrap().push(Fault {
            matches: Arc::new(matches),
            kind,
            remaining: times,
        });
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap().clear();
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> usize {
        *self.shared.injected.lock().unwrap()
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Whether the requests seen so far are listings and nothing else (and there was one).
    pub fn only_lists(&self) -> bool {
        let reqs = self.requests();
        !reqs.is_empty() && reqs.iter().all(Seen::is_list)
    }

    /// The requests that could change the store.
    pub fn writes(&self) -> Vec<Seen> {
        self.requests().into_iter().filter(Seen::is_write).collect()
    }

    /// Forgets what was seen.
    pub fn clear(&self) {
        self.shared.seen.lock().unwrap().clear();
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, BoxError>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn full(status: u16, text: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(
            http_body_util::Full::new(Bytes::from(text))
                .map_err(|never| match never {})
                .boxed(),
        )
        .expect("response")
}

fn s3_error(status: u16) -> Response<Body> {
    let code = if status == 503 {
        "SlowDown"
    } else {
        "InternalError"
    };
    s3_error_coded(status, code)
}

fn s3_error_coded(status: u16, code: &str) -> Response<Body> {
    full(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>\
             <Message>injected by the test proxy</Message></Error>"
        ),
    )
}

fn cloudfront_error(status: u16, code: &str) -> Response<Body> {
    full(
        status,
        format!(
            "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>injected by the test proxy</Message></Error><RequestId>test</RequestId>\
             </ErrorResponse>"
        ),
    )
}

async fn handle(
    req: Request<Incoming>,
    client: Client<HttpConnector, Incoming>,
    upstream: String,
    shared: Arc<Shared>,
) -> Result<Response<Body>, BoxError> {
    let copy = req.headers().contains_key("x-amz-copy-source");
    // `Credential=KEY/DATE/REGION/s3/aws4_request`.
    let region = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(2))
        .map(str::to_string);
    let seen = Seen {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().unwrap_or("").to_string(),
        copy,
        region,
    };
    shared.seen.lock().unwrap().push(seen.clone());
    let fault = shared.fault_for(&seen);
    match fault {
        Some(FaultKind::Status(code)) => {
            let _ = req.into_body().collect().await;
            return Ok(s3_error(code));
        }
        Some(FaultKind::Error(status, code)) => {
            let _ = req.into_body().collect().await;
            return Ok(s3_error_coded(status, code));
        }
        Some(FaultKind::CloudFrontError(status, code)) => {
            let _ = req.into_body().collect().await;
            return Ok(cloudfront_error(status, code));
        }
        Some(FaultKind::WrongRegion(region)) => {
            let _ = req.into_body().collect().await;
            let mut r = s3_error_coded(301, "PermanentRedirect");
            r.headers_mut()
                .insert("x-amz-bucket-region", region.parse().expect("header value"));
            return Ok(r);
        }
        Some(FaultKind::Reset) => return Err("injected connection reset".into()),
        Some(FaultKind::Delay(ms)) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        _ => {}
    }
    let hook = shared
        .hooks
        .lock()
        .unwrap()
        .iter()
        .find(|(m, _)| m(&seen))
        .map(|(_, h)| h.clone());
    if let Some(hook) = hook {
        let path = seen.path.clone();
        let _ = tokio::task::spawn_blocking(move || hook(&path)).await;
    }
    let (mut parts, body) = req.into_parts();
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    parts.uri = format!("{upstream}{pq}").parse().expect("upstream uri");
    let resp = match client.request(Request::from_parts(parts, body)).await {
        Ok(r) => r,
        Err(e) => return Ok(full(502, e.to_string())),
    };
    let (mut parts, body) = resp.into_parts();
    if fault == Some(FaultKind::KmsEtags) {
        if let Some(e) = parts.headers.get("etag").and_then(|v| v.to_str().ok()) {
            let hex = e.trim_matches('"');
            if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                let kms = format!("\"{}\"", kms_etag(hex));
                parts
                    .headers
                    .insert("etag", kms.parse().expect("header value"));
            }
        }
        let bytes = body.collect().await?.to_bytes();
        let body = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("<ETag>") => Bytes::from(kms_etags(text)),
            _ => bytes,
        };
        return Ok(Response::from_parts(
            parts,
            Full::new(body).map_err(|e| match e {}).boxed(),
        ));
    }
    if fault == Some(FaultKind::CutBody) {
        let bytes = body.collect().await?.to_bytes();
        let half = bytes.slice(..bytes.len() / 2);
        let frames = futures::stream::iter(vec![
            Ok(Frame::data(half)),
            Err::<Frame<Bytes>, BoxError>("injected: response cut mid-body".into()),
        ]);
        return Ok(Response::from_parts(parts, StreamBody::new(frames).boxed()));
    }
    Ok(Response::from_parts(
        parts,
        body.map_err(|e| Box::new(e) as BoxError).boxed(),
    ))
}

async fn serve(listener: std::net::TcpListener, upstream: String, shared: Arc<Shared>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (client, upstream, shared) = (client.clone(), upstream.clone(), shared.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                handle(req, client.clone(), upstream.clone(), shared.clone())
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
