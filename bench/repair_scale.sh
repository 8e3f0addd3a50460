#!/usr/bin/env bash
# Repair at bucket scale against the synthetic endpoint: objects per second and peak RSS at
# 10^5 and 10^6 objects, with and without 20 ms added per request (see bench/repair_scale.py).
#
#   bench/repair_scale.sh [--sizes 100000,1000000] [--delays 0,20]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
cargo build --release --quiet --example synthetic-s3
echo "s3site $(target/release/s3site --version | cut -d' ' -f2); synthetic endpoint; $(nproc) cores; $(date -u +%Y-%m-%d)"
python3 bench/repair_scale.py --server target/release/examples/synthetic-s3 \
    --s3site target/release/s3site "$@"
