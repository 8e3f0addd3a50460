#!/usr/bin/env python3
"""Builds of s3site side by side (run by bench/static.sh): the first `--bin` is the baseline.

Each syncs the same site to its own bucket on the same server. Phases, each run `--runs` times
alternating the binaries: the first upload (into an emptied bucket), a no-op with the hash
cache, and a no-op with `--no-cache` (every file read and hashed: where musl's allocator cost
twice the time). Prints the median wall time, the highest peak RSS and the ratio to the
baseline, and the binaries' sizes.
"""

import argparse
import os
import statistics
import subprocess
import tempfile

import boto3

KEY, SECRET = "s3site-test", "s3site-test-secret"


def timed(cmd, env):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in MB)."""
    with tempfile.NamedTemporaryFile("r") as t:
        subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", t.name] + cmd,
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wall, rss = t.read().split()[-2:]
    return float(wall), int(rss) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--bin", action="append", required=True, help="NAME=PATH")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--files", type=int)
    a = ap.parse_args()
    s3 = boto3.client("s3", endpoint_url=a.endpoint, aws_access_key_id=KEY,
                      aws_secret_access_key=SECRET, region_name="us-east-1")
    home = tempfile.mkdtemp()
    env = {"PATH": os.environ["PATH"], "HOME": home, "AWS_ACCESS_KEY_ID": KEY,
           "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "S3SITE_CACHE_DIR": home + "/cache"}
    bins = dict(b.split("=", 1) for b in a.bin)
    buckets = {}
    for i, name in enumerate(bins):
        buckets[name] = f"static-bench-{i}"
        try:
            s3.create_bucket(Bucket=buckets[name])
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass

    def sync(name, *extra):
        return timed([bins[name], "sync", a.site, f"s3://{buckets[name]}", "--endpoint-url",
                      a.endpoint, "--path-style", "-q", *extra], env)

    def empty(name):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=buckets[name])
        for page in pages:
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=buckets[name], Delete={"Objects": keys})

    results = {}
    phases = [("first upload", lambda n: (empty(n), sync(n, "--no-cache"))[1]),
              ("no-op, cache", lambda n: sync(n)),
              ("no-op, --no-cache", lambda n: sync(n, "--no-cache"))]
    for phase, run in phases:
        for name in bins:  # warm: the cache and the page cache
            if phase != "first upload":
                sync(name)
        for _ in range(a.runs):
            for name in bins:
                results.setdefault((phase, name), []).append(run(name))
    names = list(bins)
    print("| phase | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for phase, _ in phases:
        cells = []
        base = statistics.median(w for w, _ in results[(phase, names[0])])
        for name in names:
            r = results[(phase, name)]
            wall, rss = statistics.median(w for w, _ in r), max(m for _, m in r)
            ratio = "" if name == names[0] else f" ({wall / base:.2f}x)"
            cells.append(f"{wall:.2f} s{ratio}, {rss:.0f} MB")
        print(f"| {phase} | " + " | ".join(cells) + " |")
    for name, path in bins.items():
        print(f"{name}: {os.path.getsize(path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
