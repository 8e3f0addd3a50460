#!/usr/bin/env bash
# Windows, checked from Linux: `cargo check --all-targets` for x86_64-pc-windows-gnu (mingw-w64
# builds the C in aws-lc-sys), then the library's unit tests built for Windows and run under Wine.
# Installs what it needs (the rustup target; Debian's mingw-w64 and wine64). The integration tests
# are only compiled: they need the test servers, which run on Linux here.
# What this cannot check: a real Windows kernel's file system (Wine maps to the host's), and macOS
# at all (aws-lc-sys needs Apple's toolchain to build for it).
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-pc-windows-gnu
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
pkgs=()
command -v x86_64-w64-mingw32-gcc >/dev/null || pkgs+=(mingw-w64)
[ -x /usr/lib/wine/wine64 ] || pkgs+=(wine64)
if [ ${#pkgs[@]} -gt 0 ]; then
    echo "installing ${pkgs[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi
cargo check --target "$target" --all-targets "$@"

# Wine 8 has no bcryptprimitives.dll; a five-line shim (scripts/windows/) stands in for it.
shim=${S3SITE_TOOLS_CACHE:-$HOME/.cache/s3site-test-tools}/wine-shim
mkdir -p "$shim"
if [ ! -f "$shim/bcryptprimitives.dll" ] || [ scripts/windows/bcryptprimitives.c -nt "$shim/bcryptprimitives.dll" ]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$shim/bcryptprimitives.dll" \
        scripts/windows/bcryptprimitives.c scripts/windows/bcryptprimitives.def -ladvapi32
fi
export WINEPREFIX="$shim/prefix" WINEDEBUG=-all WINEPATH="Z:${shim//\//\\}"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=/usr/lib/wine/wine64
cargo test --target "$target" --lib "$@"
