//! A loopback proxy that adds a fixed delay to every request, fast enough not to bound what it
//! measures (bench/proxy.py counts requests but serves a few hundred a second).
//!
//!     cargo run --release --example delay-proxy -- --upstream http://127.0.0.1:9600 --port 9698 --delay-ms 20
//!
//! Forwards every request unchanged (the Host header too, so SigV4 signatures still verify)
//! after waiting `--delay-ms`; requests in flight wait together. Binds 127.0.0.1 only; bench
//! code, not part of s3site.

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::time::Duration;

type Body = http_body_util::combinators::BoxBody<hyper::body::Bytes, hyper::Error>;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let upstream: hyper::Uri = arg("--upstream")
        .expect("--upstream URL")
        .parse()
        .expect("an http:// URL");
    let port: u16 = arg("--port").and_then(|p| p.parse().ok()).unwrap_or(9698);
    let delay = Duration::from_millis(arg("--delay-ms").and_then(|d| d.parse().ok()).unwrap_or(0));
    let client: Client<HttpConnector, Incoming> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(1024)
        .build_http();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind 127.0.0.1");
    println!("http://127.0.0.1:{port}");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (client, upstream) = (client.clone(), upstream.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                let (client, upstream) = (client.clone(), upstream.clone());
                async move {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                    let uri = format!(
                        "http://{}{path}",
                        upstream.authority().map_or("", |a| a.as_str())
                    );
                    *req.uri_mut() = uri.parse().expect("uri");
                    let resp: Response<Body> = match client.request(req).await {
                        Ok(r) => r.map(|b| b.boxed()),
                        Err(e) => Response::builder()
                            .status(502)
                            .body(
                                http_body_util::Full::new(hyper::body::Bytes::from(e.to_string()))
                                    .map_err(|never| match never {})
                                    .boxed(),
                            )
                            .unwrap_or_default(),
                    };
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
