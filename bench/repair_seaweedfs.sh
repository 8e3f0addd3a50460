#!/usr/bin/env bash
# Repair on SeaweedFS at 200,000 objects, with and without 20 ms per request through the same
# proxy (see bench/repair_seaweedfs.py).
#
#   bench/repair_seaweedfs.sh [--objects N]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
venv=bench/.tools/repair-peers
pinned_venv "$venv" "s3cmd==2.4.0 awscli==1.46.3 boto3"
cargo build --release --quiet
cargo build --release --quiet --example delay-proxy
export S3SITE_SEAWEEDFS_PORT=${S3SITE_SEAWEEDFS_PORT:-9700}
endpoint=$(scripts/s3-server.sh start seaweedfs)
plain_port=$((S3SITE_SEAWEEDFS_PORT + 98)) delayed_port=$((S3SITE_SEAWEEDFS_PORT + 99))
target/release/examples/delay-proxy --upstream "$endpoint" --port "$plain_port" >/dev/null &
p1=$!
target/release/examples/delay-proxy --upstream "$endpoint" --port "$delayed_port" --delay-ms 20 >/dev/null &
p2=$!
work=$(mktemp -d)
trap 'kill $p1 $p2 2>/dev/null || true; rm -rf "$work"; scripts/s3-server.sh stop seaweedfs || true' EXIT
sleep 1
echo "s3site $(target/release/s3site --version | cut -d' ' -f2); SeaweedFS; $(nproc) cores; $(date -u +%Y-%m-%d)"
"$venv/bin/python" bench/repair_seaweedfs.py --endpoint "$endpoint" \
    --plain "http://127.0.0.1:$plain_port" --delayed "http://127.0.0.1:$delayed_port" \
    --s3site target/release/s3site --work "$work" "$@"
