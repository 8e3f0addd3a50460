//! A loopback HTTP proxy in front of the test server that records every request, so tests can
//! assert which requests s3site made (no write on a no-op sync, one LIST and nothing else...).
//! It forwards requests untouched (the Host header too, so SigV4 signatures still verify).

use http_body_util::BodyExt;
use hyper::body::Incoming;
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

    /// Whether this is a ListObjectsV2 request.
    pub fn is_list(&self) -> bool {
        self.method == "GET" && self.query.contains("list-type=2")
    }
}

/// Something to run just before a copy request is forwarded (it gets the request's path).
pub type Hook = Arc<dyn Fn(&str) + Send + Sync>;

/// The running proxy; it stops with the test process.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    before_copy: Arc<Mutex<Option<Hook>>>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (an `http://host:port` endpoint) on a free loopback port.
    pub fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_end_matches('/').to_string();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let log = seen.clone();
        let before_copy: Arc<Mutex<Option<Hook>>> = Arc::default();
        let hook = before_copy.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(serve(listener, upstream, log, hook));
        });
        Proxy {
            endpoint,
            seen,
            before_copy,
        }
    }

    /// Runs `f` (on a blocking thread) just before each copy request is forwarded: a way to
    /// make a writer race s3site deterministically.
    pub fn before_copy(&self, f: impl Fn(&str) + Send + Sync + 'static) {
        *self.before_copy.lock().unwrap() = Some(Arc::new(f));
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests that could change the store.
    pub fn writes(&self) -> Vec<Seen> {
        self.requests().into_iter().filter(Seen::is_write).collect()
    }

    /// Forgets what was seen.
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

async fn serve(
    listener: std::net::TcpListener,
    upstream: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    before_copy: Arc<Mutex<Option<Hook>>>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let client = client.clone();
        let upstream = upstream.clone();
        let seen = seen.clone();
        let before_copy = before_copy.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let client = client.clone();
                let upstream = upstream.clone();
                let seen = seen.clone();
                let before_copy = before_copy.clone();
                async move {
                    let copy = req.headers().contains_key("x-amz-copy-source");
                    let path = req.uri().path().to_string();
                    seen.lock().unwrap().push(Seen {
                        method: req.method().to_string(),
                        path: path.clone(),
                        query: req.uri().query().unwrap_or("").to_string(),
                        copy,
                    });
                    let hook = before_copy.lock().unwrap().clone();
                    if let (true, Some(hook)) = (copy, hook) {
                        let _ = tokio::task::spawn_blocking(move || hook(&path)).await;
                    }
                    let (mut parts, body) = req.into_parts();
                    let pq = parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_else(|| "/".into());
                    parts.uri = format!("{upstream}{pq}").parse().expect("upstream uri");
                    let resp = client.request(Request::from_parts(parts, body)).await;
                    match resp {
                        Ok(r) => {
                            let (parts, body) = r.into_parts();
                            Ok::<_, hyper::Error>(Response::from_parts(parts, body.boxed()))
                        }
                        Err(e) => Ok(Response::builder()
                            .status(502)
                            .body(
                                http_body_util::Full::new(hyper::body::Bytes::from(e.to_string()))
                                    .map_err(|never| match never {})
                                    .boxed(),
                            )
                            .expect("502 response")),
                    }
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
