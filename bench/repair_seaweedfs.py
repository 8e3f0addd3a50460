#!/usr/bin/env python3
"""Repair on SeaweedFS at 200,000 objects: an audit of right objects and a repair where 10% are
wrong, each through bench/delay_proxy.rs with no delay and with 20 ms, so both rates are
measured through the same proxy. Called by bench/repair_seaweedfs.sh.

The bucket is filled by `s3site sync` from a generated folder of tiny files (right headers);
before each repair every tenth object is made wrong the way old s3cmd left it (`text/plain`,
`Content-Encoding: UTF-8`) with an in-place copy.
"""

import argparse
import concurrent.futures
import os
import subprocess
import time

import boto3
from botocore.config import Config

from run import timed

EXTS = ["html", "css", "js", "png", "json"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--plain", required=True, help="the proxy without delay")
    ap.add_argument("--delayed", required=True, help="the proxy with 20 ms")
    ap.add_argument("--s3site", required=True)
    ap.add_argument("--objects", type=int, default=200000)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="s3site-test",
               AWS_SECRET_ACCESS_KEY="s3site-test-secret", AWS_REGION="us-east-1",
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    os.environ.update(env)
    site = os.path.join(args.work, "site")
    keys = [f"d{i % 200:03}/{i:07}.{EXTS[i % len(EXTS)]}" for i in range(args.objects)]
    for k in keys:
        path = os.path.join(site, k)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(b"<p>ok</p>" if k.endswith("html") else b"x")
    bucket = f"repair-scale-{int(time.time())}"
    s3 = boto3.client("s3", endpoint_url=args.endpoint,
                      config=Config(s3={"addressing_style": "path"}, max_pool_connections=64))
    s3.create_bucket(Bucket=bucket)
    start = time.monotonic()
    subprocess.run([args.s3site, "sync", site, f"s3://{bucket}", "--endpoint-url", args.endpoint,
                    "--path-style", "-q", "--no-cache"], env=env, check=True)
    print(f"<!-- seeded {len(keys)} objects in {time.monotonic() - start:.0f} s -->", flush=True)

    def spoil():
        def one(k):
            s3.copy_object(Bucket=bucket, Key=k, CopySource={"Bucket": bucket, "Key": k},
                           MetadataDirective="REPLACE", ContentType="text/plain",
                           ContentEncoding="UTF-8")
        with concurrent.futures.ThreadPoolExecutor(64) as ex:
            list(ex.map(one, keys[::10]))

    print("| objects | run | through | wall | objects/s | peak RSS |")
    print("|---|---|---|---|---|---|")
    rates = {}
    for name in ("audit", "repair 10%"):
        for via, endpoint in (("no delay", args.plain), ("20 ms", args.delayed)):
            extra = ["--dry-run"]
            if name != "audit":
                spoil()
                extra = []
            cmd = [args.s3site, "repair", f"s3://{bucket}", "--endpoint-url", endpoint,
                   "--path-style", "-q"] + extra
            wall, _cpu, rss = timed(cmd, env)
            rates[(name, via)] = len(keys) / wall
            print(f"| {len(keys):,} | {name} | proxy, {via} | {wall:.1f} s | "
                  f"{len(keys) / wall:,.0f} | {rss:.0f} MB |", flush=True)
    print()
    for name in ("audit", "repair 10%"):
        print(f"- {name}: rate with 20 ms / without = "
              f"{rates[(name, '20 ms')] / rates[(name, 'no delay')]:.2f}")


if __name__ == "__main__":
    main()
