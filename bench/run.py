#!/usr/bin/env python3
"""Side-by-side benchmark of s3site and the deploy tools users would otherwise pick.

Called by bench/run.sh (which installs the peers, builds s3site and starts SeaweedFS). Runs each
tool on a copy of the same generated site against one SeaweedFS server on 127.0.0.1 and prints a
markdown table of median wall time, CPU time and peak RSS, and the requests by kind, per phase:

  a) first upload to an empty bucket   b) no-op rerun   c) rerun after a rebuild (same bytes,
  every file's mtime now)   d) after editing 1% of the HTML (only those files newer)
  e) with --delete after removing 1% of files

Every request goes through bench/proxy.py on loopback, which counts them by kind (LIST, HEAD,
GET, PUT, COPY, POST, DELETE) and, with --delay-ms, adds a fixed delay to each (real S3 is not
on loopback). Without a delay, the proxy is only used for counting: the timed runs go straight
to the server, and one extra counted run per phase goes through the proxy.
"""

import argparse
import collections
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request

KEY, SECRET = "s3site-test", "s3site-test-secret"


def counts(proxy: str) -> collections.Counter:
    with urllib.request.urlopen(f"{proxy}/__bench/counts", timeout=10) as r:
        return collections.Counter(json.load(r))


def timed(cmd: list, env: dict, cwd: str = None) -> tuple:
    """Runs cmd; returns (wall s, user+sys CPU s, peak RSS MB)."""
    with tempfile.NamedTemporaryFile("r") as t:
        start = time.monotonic()
        p = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", t.name] + cmd,
            env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        wall = time.monotonic() - start
        last = (t.read().strip().splitlines() or ["0 0 0"])[-1].split()
    if p.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode()[-3000:]}")
    rss_kb, user, sys_ = int(last[0]), float(last[1]), float(last[2])
    return wall, user + sys_, rss_kb / 1024


def phase_result(tool: str, phase: str, walls: list, cpus: list, rsss: list,
                 reqs: collections.Counter) -> dict:
    """One tool's phase: median wall and CPU time, largest RSS, requests; printed as it ends."""
    print(f"  {tool} {phase}: {statistics.median(walls):.2f} s "
          f"(runs {', '.join(f'{w:.2f}' for w in walls)}), cpu {statistics.median(cpus):.2f} s, "
          f"{max(rsss):.0f} MB, {dict(sorted(reqs.items()))}", flush=True)
    return {"wall": statistics.median(walls), "walls": walls, "cpu": statistics.median(cpus),
            "rss": max(rsss), "requests": dict(reqs)}


def touch_all(site: str, when: float) -> None:
    """Sets every file's mtime: a rebuild with the same bytes."""
    for root, _, files in os.walk(site):
        for f in files:
            os.utime(os.path.join(root, f), (when, when))


SETTLED = time.time() - 86400


def settle(site: str) -> None:
    """Dates every file a day back, older than every object: before an edit, the site is as the
    last sync left it, so tools that compare modification times see only the edited files.
    Files already dated so are left alone, as an edit leaves the other files alone."""
    for root, _, files in os.walk(site):
        for f in files:
            p = os.path.join(root, f)
            if os.stat(p).st_mtime != SETTLED:
                os.utime(p, (SETTLED, SETTLED))


def all_files(site: str) -> list:
    out = []
    for root, _, files in os.walk(site):
        for f in files:
            out.append(os.path.relpath(os.path.join(root, f), site))
    return sorted(out)


def edit_html(site: str, rng: random.Random, tag: str) -> int:
    """Edits 1% of the HTML pages (new text, same kind of size); returns how many."""
    pages = [f for f in all_files(site) if f.endswith(".html")]
    chosen = rng.sample(pages, max(1, len(pages) // 100))
    for f in chosen:
        with open(os.path.join(site, f), "ab") as fh:
            fh.write(f"<!-- edited {tag} -->\n".encode())
    return len(chosen)


def remove_some(site: str, rng: random.Random) -> int:
    """Removes 1% of the files; returns how many."""
    files = all_files(site)
    chosen = rng.sample(files, max(1, len(files) // 100))
    for f in chosen:
        os.remove(os.path.join(site, f))
    return len(chosen)


class Tools:
    """The command line of each tool for a sync of `site` to `bucket` at `endpoint`."""

    def __init__(self, args, work: str):
        self.args = args
        hostport = args.endpoint.split("://", 1)[1]
        self.s3cfg = os.path.join(work, "s3cfg")
        with open(self.s3cfg, "w") as f:
            f.write(
                f"[default]\naccess_key = {KEY}\nsecret_key = {SECRET}\nhost_base = {hostport}\n"
                f"host_bucket = {hostport}\nuse_https = False\nsignature_v2 = False\n"
                "bucket_location = us-east-1\n"
            )
        self.work = work

    def command(self, tool: str, site: str, bucket: str, endpoint: str, delete: bool) -> tuple:
        """(argv, cwd)."""
        b = self.args.bin
        site = site.rstrip("/") + "/"
        if tool == "s3site":
            return [self.args.s3site, "sync", site, f"s3://{bucket}", "--endpoint-url", endpoint,
                    "--path-style", "-q"] + (["--delete"] if delete else []), None
        if tool in ("s3sync", "s3sync-etag"):
            # s3sync's default compares size and modification time; --check-etag compares
            # each file's MD5 (or multipart ETag) with the object's ETag.
            return [self.args.s3sync, "--target-endpoint-url", endpoint,
                    "--target-force-path-style", "--target-region", "us-east-1",
                    "--target-access-key", KEY, "--target-secret-access-key", SECRET] + \
                (["--check-etag"] if tool == "s3sync-etag" else []) + \
                (["--delete"] if delete else []) + [site, f"s3://{bucket}/"], None
        if tool == "s3cmd":
            hostport = endpoint.split("://", 1)[1]
            return [os.path.join(b, "s3cmd"), "-c", self.s3cfg, "--host", hostport,
                    "--host-bucket", hostport, "sync", site, f"s3://{bucket}/"] + \
                (["--delete-removed"] if delete else []), None
        if tool == "aws":
            return [os.path.join(b, "aws"), "s3", "sync", site, f"s3://{bucket}",
                    "--endpoint-url", endpoint, "--only-show-errors"] + \
                (["--delete"] if delete else []), None
        if tool == "rclone":
            return [os.path.join(b, "rclone"), "sync" if delete else "copy", "--checksum",
                    site, f"bench:{bucket}", "--s3-endpoint", endpoint], None
        if tool == "s5cmd":
            return [os.path.join(b, "s5cmd"), "--endpoint-url", endpoint, "sync"] + \
                (["--delete"] if delete else []) + [site, f"s3://{bucket}/"], None
        if tool == "hugo":
            # hugo deploy always deletes what the site no longer has (up to --maxDeletes).
            conf = os.path.join(self.work, f"hugo-{bucket}")
            os.makedirs(conf, exist_ok=True)
            with open(os.path.join(conf, "hugo.toml"), "w") as f:
                f.write(
                    f'publishDir = "{site}"\n[deployment]\n[[deployment.targets]]\n'
                    f'name = "bench"\nurl = "s3://{bucket}?endpoint={endpoint}'
                    '&use_path_style=true&region=us-east-1&disable_https=true"\n'
                )
            return [self.args.hugo, "deploy", "--target", "bench", "--maxDeletes", "-1",
                    "--quiet"], conf
        raise SystemExit(f"unknown tool {tool}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", required=True, help="the pristine generated site (copied per tool)")
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--proxy", required=True, help="bench/proxy.py in front of the endpoint")
    ap.add_argument("--delay-ms", type=float, default=0,
                    help="the proxy's delay; with one, timed runs go through the proxy too")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-count", action="store_true",
                    help="skip the extra counted run of each phase (requests are then not shown)")
    ap.add_argument("--first-runs", type=int,
                    help="runs of the first upload (default --runs): at 100,000 files a peer's "
                         "takes minutes, and the memory targets are of the later phases")
    ap.add_argument("--interleave", action="store_true",
                    help="with --phases a: run r of every tool before run r + 1 of any")
    ap.add_argument("--tools", default="s3site,s3cmd,aws,rclone,s5cmd,hugo")
    ap.add_argument("--phases", default="abcde")
    ap.add_argument("--s3site", required=True)
    ap.add_argument("--hugo", required=True)
    ap.add_argument("--s3sync", default="s3sync", help="the s3sync executable")
    ap.add_argument("--bin", required=True, help="folder with the peers' executables")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
        RCLONE_CONFIG_BENCH_TYPE="s3", RCLONE_CONFIG_BENCH_PROVIDER="Other",
        RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=KEY, RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=SECRET,
        RCLONE_CONFIG_BENCH_REGION="us-east-1", RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE="true",
        RCLONE_CONFIG="/dev/null",
    )
    work = tempfile.mkdtemp(prefix="s3site-bench-")
    tools = Tools(args, work)
    timed_endpoint = args.proxy if args.delay_ms else args.endpoint

    def make_bucket(name: str) -> None:
        """Creates the bucket and warms it: SeaweedFS allocates a bucket's volumes on its first
        write (about a second, at random), which is the server's cost, not the tool's."""
        curl = ["curl", "-sf", "-o", "/dev/null", "--aws-sigv4", "aws:amz:us-east-1:s3",
                "--user", f"{KEY}:{SECRET}"]
        subprocess.run(curl + ["-X", "PUT", f"{args.endpoint}/{name}"], check=True)
        subprocess.run(curl + ["-X", "PUT", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                               "--data-binary", "warm", f"{args.endpoint}/{name}/_warm"],
                       check=True)
        subprocess.run(curl + ["-X", "DELETE", f"{args.endpoint}/{name}/_warm"], check=True)

    def drop_bucket(name: str) -> None:
        """Deletes a bucket no later phase uses, objects and all (SeaweedFS allows that), so a
        100,000-file benchmark does not keep one copy of the site per run on disk."""
        subprocess.run(["curl", "-sf", "-o", "/dev/null", "--aws-sigv4", "aws:amz:us-east-1:s3",
                        "--user", f"{KEY}:{SECRET}", "-X", "DELETE", f"{args.endpoint}/{name}"],
                       check=False)

    stamp = int(time.time())
    results = []
    if args.interleave:
        if args.phases != "a":
            raise SystemExit("--interleave times the first upload only: pass --phases a")
        # One copy of the site for every tool (a first upload only reads it); run r of every
        # tool before run r + 1 of any, so a server that speeds up or slows down over the
        # minutes of the phase moves every tool alike.
        site = os.path.join(work, "site")
        shutil.copytree(args.site, site, symlinks=True)
        touch_all(site, SETTLED)
        names = args.tools.split(",")
        walls = {t: [] for t in names}
        cpus = {t: [] for t in names}
        rsss = {t: [] for t in names}
        reqs = {t: collections.Counter() for t in names}
        runs = args.first_runs or args.runs
        for r in range(runs):
            for tool in names:
                bucket = f"bench-{tool}-{stamp}-{r}"
                make_bucket(bucket)
                argv, cwd = tools.command(tool, site, bucket, timed_endpoint, False)
                before = counts(args.proxy)
                wall, cpu, rss = timed(argv, env, cwd)
                reqs[tool] = counts(args.proxy) - before
                walls[tool].append(wall)
                cpus[tool].append(cpu)
                rsss[tool].append(rss)
                drop_bucket(bucket)
        for tool in names:
            if not args.delay_ms and not args.no_count:
                bucket = f"bench-{tool}-{stamp}-counted"
                make_bucket(bucket)
                argv, cwd = tools.command(tool, site, bucket, args.proxy, False)
                before = counts(args.proxy)
                timed(argv, env, cwd)
                reqs[tool] = counts(args.proxy) - before
                drop_bucket(bucket)
            a = phase_result(tool, "a", walls[tool], cpus[tool], rsss[tool], reqs[tool])
            results.append({"tool": tool, "phases": {"a": a}})
    else:
        for tool in args.tools.split(","):
            site = os.path.join(work, f"site-{tool}")
            if os.path.exists(site):
                shutil.rmtree(site)
            shutil.copytree(args.site, site, symlinks=True)
            rng = random.Random(42)
            # Every tool starts from the same state: a site built a day ago.
            touch_all(site, SETTLED)
            bucket = None
            phases = {}
            # The rebuild (c) runs last: it gives every file a new mtime, which the edit and delete
            # phases would otherwise have to undo first.
            for phase in sorted(args.phases, key="abdec".index):
                walls, cpus, rsss = [], [], []
                reqs = collections.Counter()
                def prepare(run: str, bucket: str) -> str:
                    """Sets the site (and, for a, a new bucket) up for one run of the phase; returns
                    the bucket to sync to."""
                    if phase == "a":
                        if bucket:
                            drop_bucket(bucket)
                        bucket = f"bench-{tool}-{stamp}-{run}"
                        make_bucket(bucket)
                    elif phase == "c":
                        touch_all(site, time.time())
                    elif phase == "d":
                        settle(site)
                        edit_html(site, rng, f"{phase}{run}")
                    elif phase == "e":
                        settle(site)
                        remove_some(site, rng)
                    return bucket

                runs = args.first_runs if phase == "a" and args.first_runs else args.runs
                for r in range(runs):
                    bucket = prepare(str(r), bucket)
                    argv, cwd = tools.command(tool, site, bucket, timed_endpoint, phase == "e")
                    before = counts(args.proxy)
                    wall, cpu, rss = timed(argv, env, cwd)
                    walls.append(wall)
                    cpus.append(cpu)
                    rsss.append(rss)
                    reqs = counts(args.proxy) - before
                if not args.delay_ms and not args.no_count:
                    # One more run of the same phase through the proxy, to count its requests.
                    bucket = prepare("counted", bucket)
                    argv, cwd = tools.command(tool, site, bucket, args.proxy, phase == "e")
                    before = counts(args.proxy)
                    timed(argv, env, cwd)
                    reqs = counts(args.proxy) - before
                phases[phase] = phase_result(tool, phase, walls, cpus, rsss, reqs)
            results.append({"tool": tool, "phases": phases})
            if bucket:
                drop_bucket(bucket)
            shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"delay_ms": args.delay_ms, "results": results}, f, indent=1)

    def fmt_reqs(c: dict) -> str:
        if args.no_count and not args.delay_ms:
            return "not counted"
        return " ".join(f"{k}:{v}" for k, v in sorted(c.items())) or "0"

    names = {"a": "a) first upload", "b": "b) no-op", "c": "c) rebuild", "d": "d) 1% edit",
             "e": "e) 1% removed, delete"}
    print()
    print("| tool | " + " | ".join(names[p] for p in args.phases) + " | CPU a | peak RSS |")
    print("|---|" + "---|" * (len(args.phases) + 2))
    for r in results:
        p = r["phases"]
        cells = [f"{p[ph]['wall']:.2f} s" for ph in args.phases]
        print(f"| {r['tool']} | " + " | ".join(cells) +
              f" | {p.get('a', {}).get('cpu', 0):.2f} s | {max(v['rss'] for v in p.values()):.0f} MB |")
    print()
    print("| tool | " + " | ".join(f"peak RSS {ph}" for ph in args.phases) + " |")
    print("|---|" + "---|" * len(args.phases))
    for r in results:
        print(f"| {r['tool']} | " +
              " | ".join(f"{r['phases'][ph]['rss']:.0f} MB" for ph in args.phases) + " |")
    print()
    print("| tool | " + " | ".join(f"requests {ph}" for ph in args.phases) + " |")
    print("|---|" + "---|" * len(args.phases))
    for r in results:
        print(f"| {r['tool']} | " +
              " | ".join(fmt_reqs(r["phases"][ph]["requests"]) for ph in args.phases) + " |")
    # Ratios: s3site over the best peer, per phase.
    peers = [r for r in results if r["tool"] != "s3site"]
    mine = next((r for r in results if r["tool"] == "s3site"), None)
    if mine and peers:
        print()
        for title, measure, peer, unit in (("s3site / best peer", "wall", "best peer", " s"),
                                           ("s3site / leanest peer, peak RSS", "rss",
                                            "leanest peer", " MB")):
            parts = []
            for ph in args.phases:
                best = min(peers, key=lambda r: r["phases"][ph][measure])
                ratio = mine["phases"][ph][measure] / best["phases"][ph][measure]
                value = best["phases"][ph][measure]
                shown = f"{value:.2f}" if measure == "wall" else f"{value:.0f}"
                parts.append(f"{ph}) {ratio:.2f} ({peer} {best['tool']} {shown}{unit})")
            print(f"{title}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
