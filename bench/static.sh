#!/usr/bin/env bash
# The static binary (scripts/build-static.sh: musl, jemalloc, thin LTO, stripped) against the
# glibc release build and a static build with musl's own allocator, on the same SeaweedFS in one
# run: a first upload and a no-op with and without the hash cache, alternating the binaries (see
# bench/static.py).
#
#   bench/static.sh [--files N] [--runs R]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
cargo build --release --quiet
static=$(scripts/build-static.sh --locked --quiet)
musl=$(CARGO_TARGET_DIR=target/static-musl-malloc scripts/build-static.sh --locked --quiet --no-default-features)
files=10000
for ((i = 1; i <= $#; i++)); do [[ ${!i} == --files ]] && { j=$((i + 1)); files=${!j}; }; done
site=$(site_of "$files")
export S3SITE_SEAWEEDFS_PORT=${S3SITE_SEAWEEDFS_PORT:-9600}
endpoint=$(scripts/s3-server.sh start seaweedfs)
trap 'scripts/s3-server.sh stop seaweedfs || true' EXIT
scripts/s3-server.sh install moto >/dev/null # its Python has boto3
echo "s3site $(target/release/s3site --version | cut -d' ' -f2-); SeaweedFS; $(nproc) cores; $(date -u +%Y-%m-%d)"
.tools/moto/bin/python bench/static.py --endpoint "$endpoint" --site "$site" \
    --bin glibc=target/release/s3site --bin static="$static" --bin "static, musl malloc=$musl" "$@"
