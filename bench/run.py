#!/usr/bin/env python3
"""Side-by-side benchmark of s3site and the sync tools users would otherwise pick.

Called by bench/run.sh (which installs the peers and starts the server). Runs each tool on the
same generated site against one SeaweedFS server on 127.0.0.1 and prints a markdown table of
median wall time, peak RSS and the requests the server counted, by type, per phase:

  a) first upload to an empty bucket   b) no-op rerun   c) rerun after a rebuild (same bytes,
  new mtimes)

Requests are counted at the server (SeaweedFS's per-bucket request metrics), not by the tools.
"""

import argparse
import collections
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request

METRIC = re.compile(r'^SeaweedFS_s3_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$')


def counts(metrics_url: str, bucket: str) -> collections.Counter:
    text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    c = collections.Counter()
    for line in text.splitlines():
        m = METRIC.match(line)
        if not m:
            continue
        labels = dict(kv.split("=", 1) for kv in m["labels"].split(","))
        labels = {k: v.strip('"') for k, v in labels.items()}
        if labels.get("bucket") == bucket:
            c[labels.get("type", "?")] += int(float(m["value"]))
    return c


def timed(cmd: list, env: dict) -> tuple:
    with tempfile.NamedTemporaryFile("r") as t:
        start = time.monotonic()
        p = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wall = time.monotonic() - start
        rss_kb = int((t.read().strip().splitlines() or ["0"])[-1] or 0)
    if p.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    return wall, rss_kb / 1024


def touch_all(site: str, when: float) -> None:
    """Sets every file's mtime: a rebuild with the same bytes."""
    for root, _, files in os.walk(site):
        for f in files:
            os.utime(os.path.join(root, f), (when, when))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="s3site,s3cmd,aws")
    ap.add_argument("--s3site", required=True)
    ap.add_argument("--bin", required=True, help="folder with the peers' executables")
    args = ap.parse_args()

    key, secret = "s3site-test", "s3site-test-secret"
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=key,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    hostport = args.endpoint.split("://", 1)[1]
    cfg = tempfile.NamedTemporaryFile("w", suffix=".s3cfg", delete=False)
    cfg.write(
        f"[default]\naccess_key = {key}\nsecret_key = {secret}\nhost_base = {hostport}\n"
        f"host_bucket = {hostport}\nuse_https = False\nsignature_v2 = False\n"
        "bucket_location = us-east-1\n"
    )
    cfg.close()

    def command(tool: str, bucket: str) -> list:
        site = args.site.rstrip("/") + "/"
        if tool == "s3site":
            return [args.s3site, "sync", site, f"s3://{bucket}", "--endpoint-url",
                    args.endpoint, "--path-style", "-q"]
        if tool == "s3cmd":
            return [os.path.join(args.bin, "s3cmd"), "-c", cfg.name, "sync", site,
                    f"s3://{bucket}/"]
        if tool == "aws":
            return [os.path.join(args.bin, "aws"), "s3", "sync", site, f"s3://{bucket}",
                    "--endpoint-url", args.endpoint, "--only-show-errors"]
        raise SystemExit(f"unknown tool {tool}")

    def make_bucket(name: str) -> None:
        subprocess.run(
            ["curl", "-sf", "-o", "/dev/null", "-X", "PUT", "--aws-sigv4", "aws:amz:us-east-1:s3",
             "--user", f"{key}:{secret}", f"{args.endpoint}/{name}"],
            check=True,
        )

    stamp = int(time.time())
    rows = []
    for tool in args.tools.split(","):
        phases = {}
        bucket = None
        # Every tool starts from the same state: a site built a day ago.
        touch_all(args.site, time.time() - 86400)
        for phase in "abc":
            walls, rsss, reqs = [], [], []
            for r in range(args.runs):
                if phase == "a":
                    bucket = f"bench-{tool}-{stamp}-{r}"
                    make_bucket(bucket)
                if phase == "c":
                    touch_all(args.site, time.time())
                before = counts(args.metrics, bucket)
                wall, rss = timed(command(tool, bucket), env)
                after = counts(args.metrics, bucket)
                walls.append(wall)
                rsss.append(rss)
                reqs.append(after - before)
            phases[phase] = (statistics.median(walls), max(rsss), reqs[-1])
            print(f"  {tool} {phase}: {statistics.median(walls):.2f} s "
                  f"(runs {', '.join(f'{w:.2f}' for w in walls)}), "
                  f"{dict(reqs[-1])}", flush=True)
        rows.append((tool, phases))

    def fmt_reqs(c: collections.Counter) -> str:
        return " ".join(f"{k}:{v}" for k, v in sorted(c.items())) or "0"

    print()
    print("| tool | a) first upload | b) no-op rerun | c) after rebuild | peak RSS | requests a | requests b | requests c |")
    print("|---|---|---|---|---|---|---|---|")
    for tool, p in rows:
        print(f"| {tool} | {p['a'][0]:.2f} s | {p['b'][0]:.2f} s | {p['c'][0]:.2f} s | "
              f"{max(v[1] for v in p.values()):.0f} MB | {fmt_reqs(p['a'][2])} | "
              f"{fmt_reqs(p['b'][2])} | {fmt_reqs(p['c'][2])} |")


if __name__ == "__main__":
    main()
