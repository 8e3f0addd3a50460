#!/usr/bin/env python3
"""Repair side by side: s3site and what people use to fix an old s3cmd bucket's headers, each on
its own copy of the same seeded bucket on SeaweedFS. Each tool runs twice, on two buckets
seeded alike: once straight to the server (the wall time) and once through bench/proxy.py,
which counts the requests (and is too slow itself to time anything). Called by
bench/repair_peers.sh.

The seed: N objects (HTML, CSS, JS, PNG, JSON) as old s3cmd left them — `Content-Type:
text/plain`, `Content-Encoding: UTF-8` — with a `Cache-Control` and an `x-amz-meta-owner` a
repair must keep. Afterwards every object is read back with HEAD: what each tool left wrong
(the bogus Content-Encoding, a wrong media type, text without `charset=utf-8`) and what it lost.
"""

import argparse
import concurrent.futures
import os
import subprocess
import time

import boto3
from botocore.config import Config

from repair import counts

TYPES = {"html": "text/html", "css": "text/css", "js": "text/javascript", "png": "image/png",
         "json": "application/json"}
TEXT = {"html", "css", "js"}  # the types the table gives charset=utf-8

# The seed's approach: one HEAD and one copy per object, one after another (as in the 20-line
# scripts people write for this). Runs as its own process so it is timed like the others.
BOTO_LOOP = r'''
import boto3, mimetypes, sys
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=Config(s3={"addressing_style": "path"}))
b = sys.argv[2]
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b):
    for o in page.get("Contents", []):
        h = s3.head_object(Bucket=b, Key=o["Key"])
        t = mimetypes.guess_type(o["Key"])[0] or "application/octet-stream"
        extra = {k: h[k] for k in ("CacheControl", "ContentDisposition", "ContentLanguage")
                 if k in h}
        s3.copy_object(Bucket=b, Key=o["Key"], CopySource={"Bucket": b, "Key": o["Key"]},
                       MetadataDirective="REPLACE", ContentType=t, Metadata=h["Metadata"],
                       **extra)
'''


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--s3site", required=True)
    ap.add_argument("--bin", required=True, help="folder with aws, s3cmd and python")
    ap.add_argument("--objects", type=int, default=2000)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="s3site-test",
               AWS_SECRET_ACCESS_KEY="s3site-test-secret", AWS_DEFAULT_REGION="us-east-1",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    os.environ.update(env)
    s3 = boto3.client("s3", endpoint_url=args.endpoint,
                      config=Config(s3={"addressing_style": "path"}, max_pool_connections=32))
    hostport = args.proxy.split("://", 1)[1]
    s3cfg = os.path.join(args.work, "s3cfg")
    with open(s3cfg, "w") as f:
        f.write(f"[default]\naccess_key = s3site-test\nsecret_key = s3site-test-secret\n"
                f"host_base = {hostport}\nhost_bucket = {hostport}\nuse_https = False\n"
                "signature_v2 = False\nbucket_location = us-east-1\n")
    exts = list(TYPES)
    keys = [f"site/d{i % 20:02}/{i:06}.{exts[i % len(exts)]}" for i in range(args.objects)]

    def seed(bucket: str) -> None:
        s3.create_bucket(Bucket=bucket)

        def put(k):
            s3.put_object(Bucket=bucket, Key=k, Body=b"<p>ok</p>" if k.endswith("html") else b"x",
                          ContentType="text/plain", ContentEncoding="UTF-8",
                          CacheControl="max-age=600", Metadata={"owner": "web"})
        with concurrent.futures.ThreadPoolExecutor(32) as ex:
            list(ex.map(put, keys))

    def check(bucket: str) -> dict:
        def one(k):
            h = s3.head_object(Bucket=bucket, Key=k)
            ext = k.rsplit(".", 1)[1]
            t = h.get("ContentType", "")
            media = t.split(";")[0].strip().lower()
            return {
                "Content-Encoding left": "ContentEncoding" in h,
                "wrong type": media != TYPES[ext] and not (ext == "js" and media ==
                                                          "application/javascript"),
                "text without charset": ext in TEXT and "charset=utf-8" not in t.lower(),
                "Cache-Control lost": h.get("CacheControl") != "max-age=600",
                "metadata lost": h.get("Metadata", {}).get("owner") != "web",
            }
        with concurrent.futures.ThreadPoolExecutor(32) as ex:
            rows = list(ex.map(one, keys))
        return {k: sum(r[k] for r in rows) for k in rows[0]}

    b = args.bin

    def s3cmd(endpoint):
        hp = endpoint.split("://", 1)[1]
        return [os.path.join(b, "s3cmd"), "-c", s3cfg, "--host", hp, "--host-bucket", hp]
    loop = os.path.join(args.work, "boto_loop.py")
    with open(loop, "w") as f:
        f.write(BOTO_LOOP)

    def per_type(cmd_of):
        return [cmd_of(ext, t) for ext, t in TYPES.items()]

    tools = {
        "s3site repair": lambda bk, ep: [[args.s3site, "repair", f"s3://{bk}", "--endpoint-url",
                                          ep, "--path-style", "-q"]],
        "s3cmd modify (per type)": lambda bk, ep: per_type(lambda ext, t: s3cmd(ep) + [
            "modify", "--recursive", "--exclude", "*", "--include", f"*.{ext}", "--mime-type", t,
            "--remove-header", "Content-Encoding", f"s3://{bk}/"]),
        "aws s3 cp REPLACE (per type)": lambda bk, ep: per_type(lambda ext, t: [
            os.path.join(b, "aws"), "s3", "cp", f"s3://{bk}/", f"s3://{bk}/", "--recursive",
            "--metadata-directive", "REPLACE", "--content-type", t, "--exclude", "*",
            "--include", f"*.{ext}", "--endpoint-url", ep, "--only-show-errors"]),
        "boto3 loop (HEAD + copy each)": lambda bk, ep: [[os.path.join(b, "python"), loop,
                                                          ep, bk]],
    }
    print("| tool | wall | requests | Content-Encoding left | wrong type | text without charset "
          "| Cache-Control lost | metadata lost |")
    print("|---|---|---|---|---|---|---|---|")
    stamp = int(time.time())
    def run(cmds) -> float:
        start = time.monotonic()
        for cmd in cmds:
            p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if p.returncode != 0:
                print(f"<!-- {cmd[:3]} exited {p.returncode}: {p.stderr.decode()[-300:]} -->")
        return time.monotonic() - start

    for i, (name, cmds) in enumerate(tools.items()):
        timed_bucket = f"peers-{args.objects}-{stamp}-{i}"
        counted_bucket = timed_bucket + "-c"
        seed(timed_bucket)
        seed(counted_bucket)
        wall = run(cmds(timed_bucket, args.endpoint))
        before = counts(args.proxy)
        run(cmds(counted_bucket, args.proxy))
        got = counts(args.proxy) - before
        reqs = " ".join(f"{k}:{v}" for k, v in sorted(got.items()))
        c = check(timed_bucket)
        print(f"| {name} | {wall:.1f} s | {reqs} | " + " | ".join(str(v) for v in c.values())
              + " |", flush=True)


if __name__ == "__main__":
    main()
