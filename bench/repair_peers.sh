#!/usr/bin/env bash
# Repair side by side on SeaweedFS: s3site, s3cmd modify, aws s3 cp REPLACE and a boto3 loop,
# each on the same seeded bucket, with requests counted and the result read back (see
# bench/repair_peers.py).
#
#   bench/repair_peers.sh [--objects N]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
peers="s3cmd==2.4.0 awscli==1.46.3 boto3"
venv=bench/.tools/repair-peers
pinned_venv "$venv" "$peers"
cargo build --release --quiet
export S3SITE_SEAWEEDFS_PORT=${S3SITE_SEAWEEDFS_PORT:-9300}
endpoint=$(scripts/s3-server.sh start seaweedfs)
proxy_port=$((S3SITE_SEAWEEDFS_PORT + 99))
start_proxy "$endpoint" "$proxy_port"
work=$(mktemp -d)
echo "s3site $(target/release/s3site --version | cut -d' ' -f2), $("$venv/bin/s3cmd" --version), $("$venv/bin/aws" --version 2>&1 | cut -d' ' -f1); SeaweedFS; $(nproc) cores; $(date -u +%Y-%m-%d)"
"$venv/bin/python" bench/repair_peers.py --endpoint "$endpoint" --proxy "http://127.0.0.1:$proxy_port" \
    --s3site target/release/s3site --bin "$venv/bin" --work "$work" "$@"
