#!/usr/bin/env python3
"""Request counts and wall time of `s3site repair` on a bucket left the way old s3cmd left it.

Called by bench/repair.sh. Seeds a bucket on SeaweedFS with every file of the generated site
uploaded with `Content-Type: text/plain` and `Content-Encoding: UTF-8` (aws-cli, which sends
what it is told), then runs `s3site repair` three times: the audit (--dry-run), the repair,
and a second repair that must write nothing. Requests are counted by kind (HEAD apart from
GET, COPY apart from PUT) by bench/proxy.py on loopback, in front of the server.
"""

import argparse
import collections
import json
import os
import subprocess
import urllib.request

from run import timed


def counts(proxy: str) -> collections.Counter:
    with urllib.request.urlopen(f"{proxy}/__bench/counts", timeout=10) as r:
        return collections.Counter(json.load(r))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--proxy", required=True, help="bench/proxy.py in front of the endpoint")
    ap.add_argument("--s3site", required=True)
    ap.add_argument("--bin", required=True, help="folder with aws")
    ap.add_argument("--bucket", required=True)
    args = ap.parse_args()

    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="s3site-test",
        AWS_SECRET_ACCESS_KEY="s3site-test-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    aws = [os.path.join(args.bin, "aws"), "--endpoint-url", args.endpoint]

    def seed(bucket: str) -> None:
        subprocess.run(aws + ["s3", "mb", f"s3://{bucket}"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(
            aws + ["s3", "cp", args.site, f"s3://{bucket}", "--recursive", "--only-show-errors",
                   "--content-type", "text/plain", "--content-encoding", "UTF-8"],
            env=env, check=True)

    def runs(bucket: str, endpoint: str) -> list:
        base = [args.s3site, "repair", f"s3://{bucket}", "--endpoint-url", endpoint,
                "--path-style", "-q"]
        out = []
        for extra in (["--dry-run"], [], []):
            before = counts(args.proxy)
            wall, _cpu, rss = timed(base + extra, env)
            out.append((wall, rss, counts(args.proxy) - before))
        return out

    # Wall time and memory straight to the server; request kinds through the counting proxy
    # (a second bucket seeded the same way), which is too slow itself to time anything.
    seed(args.bucket)
    timed_runs = runs(args.bucket, args.endpoint)
    seed(args.bucket + "-counted")
    counted_runs = runs(args.bucket + "-counted", args.proxy)
    print("| run | wall | peak RSS | requests |")
    print("|---|---|---|---|")
    names = ["audit (`--dry-run`)", "repair", "second repair"]
    for name, (wall, rss, _), (_, _, got) in zip(names, timed_runs, counted_runs):
        reqs = " ".join(f"{k}:{v}" for k, v in sorted(got.items())) or "0"
        print(f"| {name} | {wall:.2f} s | {rss:.0f} MB | {reqs} |", flush=True)


if __name__ == "__main__":
    main()
