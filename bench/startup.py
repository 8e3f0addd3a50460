#!/usr/bin/env python3
"""Startup to first request: the time from starting `s3site sync DIR` to the first TCP connection
it opens to the store (a bare listener on 127.0.0.1 that never answers), median of 7.

    python3 bench/startup.py DIR [S3SITE]

Before that first request s3site parses its arguments, walks DIR, reads the rules file and loads
credentials; hashing runs alongside the listing, so it is not counted.
"""

import os
import socket
import statistics
import subprocess
import sys
import time


def main() -> None:
    site = sys.argv[1]
    exe = sys.argv[2] if len(sys.argv) > 2 else "target/release/s3site"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s",
               AWS_EC2_METADATA_DISABLED="true", AWS_REGION="us-east-1")
    times = []
    for _ in range(7):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(16)
            port = s.getsockname()[1]
            start = time.monotonic()
            p = subprocess.Popen(
                [exe, "sync", site, "s3://bench", "--endpoint-url", f"http://127.0.0.1:{port}",
                 "--path-style", "-q", "--no-cache"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            conn, _ = s.accept()
            times.append((time.monotonic() - start) * 1000)
            p.kill()
            p.wait()
            conn.close()
    print(f"startup to first request: median {statistics.median(times):.1f} ms "
          f"(runs {', '.join(f'{t:.1f}' for t in times)})")


if __name__ == "__main__":
    main()
