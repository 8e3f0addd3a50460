#!/usr/bin/env bash
# The project's test command: start both S3 test servers (installing them if needed), run every
# test against them, and stop the servers this script started. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

started=()
cleanup() {
    for s in "${started[@]}"; do scripts/s3-server.sh stop "$s" || true; done
}
trap cleanup EXIT

endpoints=()
for s in moto seaweedfs; do
    if ! endpoint=$(scripts/s3-server.sh status "$s"); then
        endpoint=$(scripts/s3-server.sh start "$s")
        started+=("$s")
    fi
    endpoints+=("$s=$endpoint")
done
S3SITE_TEST_SERVERS=$(IFS=,; echo "${endpoints[*]}")
export S3SITE_TEST_SERVERS
echo "testing against $S3SITE_TEST_SERVERS" >&2
cargo test "$@"
