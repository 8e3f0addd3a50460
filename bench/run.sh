#!/usr/bin/env bash
# Benchmark s3site side by side with `s3cmd sync` and `aws s3 sync` on a generated site, against
# a SeaweedFS server on 127.0.0.1 (requests counted by the server). Prints a markdown table.
#
#   bench/run.sh [--files N] [--runs R] [--tools s3site,s3cmd,aws]
#
# The peers are installed, pinned, into bench/.tools/ (git-ignored); the site goes to bench/out/.
# SeaweedFS runs on S3SITE_SEAWEEDFS_PORT (default here 9300, away from the test servers).
set -euo pipefail
cd "$(dirname "$0")/.."

files=2000 runs=3 tools=s3site,s3cmd,aws
while [[ $# -gt 0 ]]; do
    case $1 in
        --files) files=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --tools) tools=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

peers="s3cmd==2.4.0 awscli==1.46.3"
venv=bench/.tools/peers
if [[ ! -f $venv/.pinned || $(cat "$venv/.pinned") != "$peers" ]]; then
    echo "installing $peers into $venv ..." >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check $peers
    echo "$peers" >"$venv/.pinned"
fi

cargo build --release --quiet
export S3SITE_SEAWEEDFS_PORT=${S3SITE_SEAWEEDFS_PORT:-9300}
endpoint=$(scripts/s3-server.sh start seaweedfs)
metrics="http://127.0.0.1:$((S3SITE_SEAWEEDFS_PORT + 13))/metrics"

site=bench/out/site-$files
if [[ ! -d $site ]]; then
    python3 bench/gen_site.py "$site" --files "$files"
fi

echo "s3site $(target/release/s3site --version | cut -d' ' -f2), $("$venv/bin/s3cmd" --version), $("$venv/bin/aws" --version 2>&1 | cut -d' ' -f1)"
echo "$(nproc) cores, $(uname -sm), $(date -u +%Y-%m-%d); $files files, $(du -sm "$site" | cut -f1) MB; median of $runs runs"
python3 bench/run.py --site "$site" --endpoint "$endpoint" --metrics "$metrics" --runs "$runs" \
    --tools "$tools" --s3site target/release/s3site --bin "$venv/bin"
