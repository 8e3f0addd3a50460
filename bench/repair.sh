#!/usr/bin/env bash
# Request counts of `s3site repair` on a bucket seeded with old-s3cmd headers (every object
# `text/plain` + `Content-Encoding: UTF-8`), against SeaweedFS on 127.0.0.1.
#
#   bench/repair.sh [--files N]
#
# Uses the same pinned aws-cli as bench/run.sh (installed into bench/.tools/ by it).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

files=2000
while [[ $# -gt 0 ]]; do
    case $1 in
        --files) files=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

venv=bench/.tools/peers
if [[ ! -x $venv/bin/aws ]]; then
    bench/run.sh --files 10 --runs 1 --tools s3site >/dev/null
fi
cargo build --release --quiet
export S3SITE_SEAWEEDFS_PORT=${S3SITE_SEAWEEDFS_PORT:-9300}
endpoint=$(scripts/s3-server.sh start seaweedfs)
proxy_port=$((S3SITE_SEAWEEDFS_PORT + 99))
start_proxy "$endpoint" "$proxy_port"
site=$(site_of "$files")
echo "s3site $(target/release/s3site --version | cut -d' ' -f2); SeaweedFS; $(nproc) cores; $(date -u +%Y-%m-%d); $files objects"
python3 bench/repair.py --site "$site" --endpoint "$endpoint" --proxy "http://127.0.0.1:$proxy_port" \
    --s3site target/release/s3site --bin "$venv/bin" --bucket "repair-$files-$(date +%s)"
