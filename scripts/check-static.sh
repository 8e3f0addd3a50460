#!/usr/bin/env bash
# The shipped binary, checked as a CI user would run it: build it (scripts/build-static.sh), then
# sync a site with it from an empty root (chroot: no libc, no /etc/ssl, no HOME; with `env -i`
# when chroot is not available) to the SeaweedFS test server over HTTPS, trusting the server's
# CA with --ca-bundle on top of the built-in roots. A second run must find nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(scripts/build-static.sh --locked)
echo "static binary: $bin ($(stat -c %s "$bin") bytes)" >&2

started=
if ! scripts/s3-server.sh status seaweedfs >/dev/null; then
    scripts/s3-server.sh start seaweedfs >/dev/null
    started=1
fi
root=$(mktemp -d)
cleanup() {
    rm -rf "$root"
    if [[ -n $started ]]; then scripts/s3-server.sh stop seaweedfs || true; fi
}
trap cleanup EXIT
read -r https ca < <(scripts/s3-server.sh tls seaweedfs)
bucket="static-check-$$"
mkdir -p "$root/site/docs"
cp "$bin" "$root/s3site"
cp "$ca" "$root/ca.pem"
echo '<!doctype html><p>static</p>' >"$root/site/index.html"
echo 'body{}' >"$root/site/docs/site.css"

run() { # run ARGS...: the binary in the empty root, with nothing but the test credentials
    local env=(AWS_ACCESS_KEY_ID=s3site-test AWS_SECRET_ACCESS_KEY=s3site-test-secret
        AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true)
    local chroot
    if [[ $(id -u) == 0 ]] && chroot=$(command -v chroot); then
        env -i "${env[@]}" "$chroot" "$root" /s3site "$@" # chroot starts in /
    else
        (cd "$root" && env -i "${env[@]}" SSL_CERT_FILE=/nonexistent SSL_CERT_DIR=/nonexistent \
            ./s3site "$@")
    fi
}
# The bucket, made with boto3 from moto's venv (s3site makes no buckets).
scripts/s3-server.sh install moto >/dev/null
.tools/moto/bin/python -c 'import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="s3site-test",
    aws_secret_access_key="s3site-test-secret", region_name="us-east-1").create_bucket(Bucket=sys.argv[2])' \
    "$(scripts/s3-server.sh status seaweedfs)" "$bucket"
args=(sync site "s3://$bucket" --endpoint-url "$https" --path-style --ca-bundle ca.pem)
out=$(run "${args[@]}" -v 2>&1) || { echo "$out" >&2; echo "check-static.sh: the first sync failed" >&2; exit 1; }
echo "$out" | grep -q "Mozilla roots built into s3site" || { echo "$out" >&2; echo "check-static.sh: the built-in roots were not used" >&2; exit 1; }
echo "$out" | grep -q "uploaded 2 " || { echo "$out" >&2; echo "check-static.sh: the first sync did not upload both files" >&2; exit 1; }
again=$(run "${args[@]}" --output json) || { echo "$again" >&2; echo "check-static.sh: the second sync failed" >&2; exit 1; }
echo "$again" | python3 -c 'import json,sys; t=json.load(sys.stdin)["totals"]; sys.exit(0 if (t["unchanged"], t["uploaded"]) == (2, 0) else f"second run: {t}")'
echo "check-static.sh: the static binary synced over HTTPS from an empty root, and a second run found nothing to do" >&2
