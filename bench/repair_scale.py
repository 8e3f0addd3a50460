#!/usr/bin/env python3
"""Repair at bucket scale: objects per second and peak RSS of `s3site repair` against the
synthetic endpoint (bench/synthetic_s3.rs), at each size, with and without added latency.

Called by bench/repair_scale.sh. For each size and delay a fresh endpoint serves N generated
objects (every tenth wrong the way old s3cmd left it); s3site runs an audit (`--dry-run`) and a
repair (the copies of the wrong tenth), each at its default concurrency, and the endpoint's
request counts are read after each run.
"""

import argparse
import json
import os
import subprocess
import time
import urllib.request

from run import timed


def counts(endpoint: str) -> dict:
    with urllib.request.urlopen(f"{endpoint}/__bench/counts", timeout=10) as r:
        return json.load(r)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, help="the synthetic-s3 binary")
    ap.add_argument("--s3site", required=True)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--delays", default="0,20")
    ap.add_argument("--port", type=int, default=9500)
    args = ap.parse_args()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    print("| objects | added latency | run | wall | objects/s | peak RSS | requests |")
    print("|---|---|---|---|---|---|---|")
    rates = {}
    for n in [int(s) for s in args.sizes.split(",")]:
        for delay in [int(d) for d in args.delays.split(",")]:
            server = subprocess.Popen(
                [args.server, "--objects", str(n), "--port", str(args.port),
                 "--delay-ms", str(delay)], stdout=subprocess.PIPE, text=True)
            endpoint = server.stdout.readline().strip()
            try:
                for name, extra in (("audit", ["--dry-run"]), ("repair 10%", [])):
                    before = counts(endpoint)
                    cmd = [args.s3site, "repair", "s3://bench", "--endpoint-url", endpoint,
                           "--path-style", "-q"] + extra
                    wall, _cpu, rss = timed(cmd, env)
                    after = counts(endpoint)
                    reqs = " ".join(f"{k}:{after[k] - before[k]}" for k in sorted(after)
                                    if after[k] != before[k])
                    rates[(n, delay, name)] = n / wall
                    print(f"| {n:,} | {delay} ms | {name} | {wall:.1f} s | {n / wall:,.0f} | "
                          f"{rss:.0f} MB | {reqs} |", flush=True)
            finally:
                server.terminate()
                server.wait()
                time.sleep(0.5)
    print()
    print("| objects | run | rate with 20 ms / without |")
    print("|---|---|---|")
    for (n, delay, name), rate in sorted(rates.items()):
        if delay != 0 and (n, 0, name) in rates:
            print(f"| {n:,} | {name} | {rate / rates[(n, 0, name)]:.2f} |")


if __name__ == "__main__":
    main()
