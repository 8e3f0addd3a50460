#!/usr/bin/env python3
"""Startup to first request: the time from starting `s3site sync DIR` to the first TCP connection
it opens to the store (a bare listener on 127.0.0.1 that never answers), median of 7.

    python3 bench/startup.py DIR [S3SITE...] [--runs N] [--cache]

With `--cache` each binary first runs once to write the hash cache of DIR (in a folder of its
own, left when the cache file appears), and is then measured with it, as every run but the
first is in use; without, with `--no-cache`.

With several binaries, their runs alternate (one of each in turn), so a machine that gets busier
or quieter during the measurement moves them all alike.

Before that first request s3site parses its arguments, walks DIR, reads the rules file and loads
credentials; hashing runs alongside the listing, so it is not counted.
"""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> None:
    args = sys.argv[1:]
    runs = 7
    cache = "--cache" in args
    if cache:
        args.remove("--cache")
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    site = args[0]
    exes = args[1:] or ["target/release/s3site"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s",
               AWS_EC2_METADATA_DISABLED="true", AWS_REGION="us-east-1")
    times: dict[str, list[float]] = {exe: [] for exe in exes}
    envs = {exe: env for exe in exes}
    with tempfile.TemporaryDirectory() as caches:
        if cache:
            for i, exe in enumerate(exes):
                envs[exe] = dict(env, S3SITE_CACHE_DIR=os.path.join(caches, str(i)))
                write_cache(exe, site, envs[exe])
        for _ in range(runs):
            for exe in exes:
                times[exe].append(first_request(exe, site, envs[exe], cache))
    for exe, ts in times.items():
        label = f"{exe}: " if len(exes) > 1 else ""
        print(f"{label}startup to first request: median {statistics.median(ts):.1f} ms "
              f"(runs {', '.join(f'{t:.1f}' for t in ts)})")


def command(exe: str, site: str, port: int, cache: bool) -> list[str]:
    return [exe, "sync", site, "s3://bench", "--endpoint-url", f"http://127.0.0.1:{port}",
            "--path-style", "-q"] + ([] if cache else ["--no-cache"])


def write_cache(exe: str, site: str, env: dict) -> None:
    """Runs `exe` until it has saved the hash cache of `site` (after hashing, which does not wait
    for the listing) in `env`'s S3SITE_CACHE_DIR."""
    folder = env["S3SITE_CACHE_DIR"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        p = subprocess.Popen(command(exe, site, s.getsockname()[1], True), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not (os.path.isdir(folder) and any(n.startswith("hashes-")
                                                 for n in os.listdir(folder))):
            if time.monotonic() > deadline:
                sys.exit(f"{exe}: no hash cache in {folder} after 120 s")
            time.sleep(0.1)
        time.sleep(0.5)
        p.kill()
        p.wait()


def first_request(exe: str, site: str, env: dict, cache: bool) -> float:
    """Milliseconds from starting `exe` to its first connection."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        port = s.getsockname()[1]
        start = time.monotonic()
        p = subprocess.Popen(command(exe, site, port, cache), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn, _ = s.accept()
        elapsed = (time.monotonic() - start) * 1000
        p.kill()
        p.wait()
        conn.close()
        return elapsed


if __name__ == "__main__":
    main()
