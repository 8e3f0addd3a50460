#!/usr/bin/env bash
# Builds the static Linux binary that is shipped: x86_64-unknown-linux-musl, profile `dist`
# (stripped, thin LTO), with jemalloc as the allocator (`--no-default-features`: musl's own). It needs nothing at run time: no libc,
# no /etc/ssl (the built-in Mozilla roots stand in when the system has none). Installs the rustup
# target and Debian's musl-tools when missing. Prints the path of the binary it built.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
rustup target list --installed | grep -qx "$target" || rustup target add "$target" >&2
if ! command -v musl-gcc >/dev/null; then
    echo "installing musl-tools" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null
fi
# aws-lc-sys and jemalloc compile C for the target.
export CC_x86_64_unknown_linux_musl=musl-gcc
cargo build --profile dist --target "$target" --bin s3site "$@" >&2
bin="${CARGO_TARGET_DIR:-$PWD/target}/$target/dist/s3site"
if ldd "$bin" 2>&1 | grep -q "=>"; then
    echo "build-static.sh: $bin links shared libraries:" >&2
    ldd "$bin" >&2
    exit 1
fi
echo "$bin"
