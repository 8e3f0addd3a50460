#!/usr/bin/env python3
"""A loopback HTTP proxy for the benchmarks: counts requests by kind and can add a fixed delay.

    python3 bench/proxy.py --upstream http://127.0.0.1:9300 --port 9399 [--delay-ms 20]

Every request is forwarded unchanged (Host header included, so SigV4 signatures still verify).
Kinds: LIST (ListObjectsV2), HEAD, GET, PUT, COPY (a PUT with x-amz-copy-source), POST, DELETE.
`GET /__bench/counts` returns the counts so far as JSON (not forwarded, not counted).
Only ever binds 127.0.0.1.
"""

import argparse
import collections
import http.client
import http.server
import json
import threading
import time
import urllib.parse

COUNTS = collections.Counter()
LOCK = threading.Lock()


def kind(method: str, path: str, headers) -> str:
    parts = urllib.parse.urlsplit(path)
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    # Path-style: /bucket is a bucket request; a GET of it is a listing (V2, or V1 with
    # prefix/delimiter/marker) unless it asks for a sub-resource (?location, ?acl...).
    bucket_only = parts.path.strip("/").count("/") == 0
    listing = "list-type" in query or not (set(query) - {"prefix", "delimiter", "marker",
                                                        "max-keys", "encoding-type"})
    if method == "GET" and bucket_only and listing:
        return "LIST"
    if method == "PUT" and headers.get("x-amz-copy-source"):
        return "COPY"
    return method


def make_handler(upstream: urllib.parse.SplitResult, delay: float):
    local = threading.local()

    def connection() -> http.client.HTTPConnection:
        if getattr(local, "conn", None) is None:
            local.conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=300)
        return local.conn

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self):
            if self.command == "GET" and self.path == "/__bench/counts":
                with LOCK:
                    body = json.dumps(COUNTS).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            with LOCK:
                COUNTS[kind(self.command, self.path, self.headers)] += 1
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if delay:
                time.sleep(delay)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            for attempt in (1, 2):
                try:
                    c = connection()
                    c.request(self.command, self.path, body=body, headers=headers)
                    resp = c.getresponse()
                    data = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    local.conn = None
                    if attempt == 2:
                        raise
            self.send_response_only(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(k, v)
            # A HEAD answer describes the object: keep its length; otherwise the body's.
            length = resp.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    return Handler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, default=0)
    args = ap.parse_args()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", args.port),
        make_handler(urllib.parse.urlsplit(args.upstream), args.delay_ms / 1000))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
