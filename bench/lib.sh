# Shared by bench/run.sh and bench/repair.sh (sourced, not run).

# start_proxy ENDPOINT PORT [DELAY_MS]: bench/proxy.py in front of ENDPOINT on 127.0.0.1:PORT,
# stopped when the calling script exits; returns once it answers.
start_proxy() {
    python3 bench/proxy.py --upstream "$1" --port "$2" --delay-ms "${3:-0}" &
    proxy_pid=$!
    trap 'kill $proxy_pid 2>/dev/null || true' EXIT
    for _ in $(seq 50); do
        curl -sf "http://127.0.0.1:$2/__bench/counts" >/dev/null && return 0
        sleep 0.1
    done
    echo "bench/proxy.py did not start on port $2" >&2
    return 1
}

# fresh_seaweedfs DELAY_MS: a fresh SeaweedFS on S3SITE_SEAWEEDFS_PORT (default 9300), with
# volumes large enough that none is allocated in the middle of a timed run (an allocation stalls
# writes for seconds, at random), and bench/proxy.py in front of it on the port + 99, both
# stopped when the calling script exits (left running, the server went on deleting the dropped
# buckets at a full core for many minutes, slowing whatever was measured next). Sets `endpoint`
# (the server) and `proxy_port`.
fresh_seaweedfs() {
    export S3SITE_SEAWEEDFS_PORT=${S3SITE_SEAWEEDFS_PORT:-9300}
    export S3SITE_SEAWEEDFS_VOLUME_MB=${S3SITE_SEAWEEDFS_VOLUME_MB:-1024}
    scripts/s3-server.sh stop seaweedfs
    endpoint=$(scripts/s3-server.sh start seaweedfs)
    proxy_port=$((S3SITE_SEAWEEDFS_PORT + 99))
    start_proxy "$endpoint" "$proxy_port" "$1"
    trap 'kill $proxy_pid 2>/dev/null || true; scripts/s3-server.sh stop seaweedfs >/dev/null 2>&1 || true' EXIT
}

# pinned_venv DIR "PKG==V ...": a Python venv in DIR with exactly these packages (made again
# when the list changes).
pinned_venv() {
    if [[ ! -f $1/.pinned || $(cat "$1/.pinned") != "$2" ]]; then
        echo "installing $2 into $1 ..." >&2
        rm -rf "$1"
        python3 -m venv "$1"
        # shellcheck disable=SC2086 # one word per package
        "$1/bin/pip" install --quiet --disable-pip-version-check $2
        echo "$2" >"$1/.pinned"
    fi
}

# site_of N [small]: the generated N-file site (generated on first use), printed; with "small",
# the site of N files of about 4 KB each (gen_site.py --small).
site_of() {
    local site=bench/out/site-$1 flags=()
    if [[ ${2:-} == small ]]; then site=bench/out/small-$1 flags=(--small); fi
    [[ -d $site ]] || python3 bench/gen_site.py "$site" --files "$1" "${flags[@]}" >&2
    echo "$site"
}
