#!/usr/bin/env bash
# A two-minute look at s3site on a fresh machine: start a local S3-compatible server (SeaweedFS,
# installed into .tools/), sync fixtures/site into a bucket, show the headers a browser gets,
# then sync again to show that nothing is re-uploaded; then leave an object the way old s3cmd did
# and repair it in place. Nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

endpoint=$(scripts/s3-server.sh start seaweedfs)
export AWS_ACCESS_KEY_ID=s3site-test AWS_SECRET_ACCESS_KEY=s3site-test-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
bucket=demo-site
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
curl -s -o /dev/null -X PUT "${sig[@]}" "$endpoint/$bucket"

echo "== building s3site" >&2
cargo build --quiet
s3site=target/debug/s3site

echo
echo "== s3site sync fixtures/site s3://$bucket --endpoint-url $endpoint --path-style"
"$s3site" sync fixtures/site "s3://$bucket" --endpoint-url "$endpoint" --path-style

echo
echo "== what a browser gets (curl -sI)"
for key in index.html css/site.css js/app.mjs js/main.js.map fonts/inter.woff2 wasm/app.wasm \
    site.webmanifest legacy-latin1.txt; do
    echo "-- $key"
    curl -sI "${sig[@]}" "$endpoint/$bucket/$key" | grep -iE '^(content-type|content-encoding|etag):' || true
done

echo
echo "== the same sync again: nothing changed, nothing uploaded"
"$s3site" sync fixtures/site "s3://$bucket" --endpoint-url "$endpoint" --path-style

echo
echo "== an object as old s3cmd left it (charset in Content-Encoding, type from the host)"
curl -s -o /dev/null -X PUT "${sig[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    -H "Content-Type: text/plain" -H "Content-Encoding: UTF-8" \
    -H "Cache-Control: max-age=300" -H "x-amz-meta-owner: web" --data-binary @fixtures/site/css/site.css \
    "$endpoint/$bucket/old/site.css"
curl -sI "${sig[@]}" "$endpoint/$bucket/old/site.css" | grep -iE '^(content-type|content-encoding|cache-control|etag|x-amz-meta-owner):'

echo
echo "== s3site repair s3://$bucket/old --dry-run   (the audit), then without --dry-run"
"$s3site" repair "s3://$bucket/old" --endpoint-url "$endpoint" --path-style --dry-run
"$s3site" repair "s3://$bucket/old" --endpoint-url "$endpoint" --path-style
curl -sI "${sig[@]}" "$endpoint/$bucket/old/site.css" | grep -iE '^(content-type|content-encoding|cache-control|etag|x-amz-meta-owner):' || true

echo
echo "The server keeps running at $endpoint; stop it with: scripts/s3-server.sh stop seaweedfs"
