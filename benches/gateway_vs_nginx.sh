#!/usr/bin/env bash
# Our path gateway vs nginx (Debian package, sendfile on) serving the same bytes, side by side in
# ONE run: a 100 MiB file to one client (curl), and a 5 MiB image to 64 clients
# (`wrk -t2 -c64 -d15s --latency`). Prints a Markdown table with ratios (docs/PERFORMANCE.md,
# "Gateway"). Everything runs inside a network namespace with only `lo` (needs root).
#
# Usage: benches/gateway_vs_nginx.sh [--runs 5] [--wrk-args "-t2 -c64 -d15s"] [--big-wrk] [--json FILE]
#   GATEWAY_SERVE=path  use this gateway_serve binary instead of building the example (release)
#   BENCH_DIR=dir       work directory (default: a new temp dir, removed at the end)
# Installs nginx-light (or nginx), wrk and curl with apt-get when they are missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # keep the package's own nginx service from starting (we start ours in the namespace)
    policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy=1
    fi
    pkgs=()
    for p in "${need[@]}"; do
        if [ "$p" = nginx ]; then pkgs+=(nginx-light); else pkgs+=("$p"); fi
    done
    apt-get install -y "${pkgs[@]}" >&2 || {
        apt-get update >&2
        apt-get install -y "${pkgs[@]}" >&2 || {
            # newer Debian releases dropped nginx-light
            pkgs=("${pkgs[@]/nginx-light/nginx}")
            apt-get install -y "${pkgs[@]}" >&2
        }
    }
    if [ "$policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

if [ -z "${GATEWAY_SERVE:-}" ]; then
    (cd "$ROOT" && cargo build --release -p wanda-gateway --example gateway_serve >&2)
    GATEWAY_SERVE="$ROOT/target/release/examples/gateway_serve"
fi

work=${BENCH_DIR:-$(mktemp -d /tmp/wanda-gw-vs-nginx.XXXXXX)}
mkdir -p "$work"
cleanup() { [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

unshare --net -- sh -c 'ip link set lo up && exec "$0" "$@"' \
    python3 "$ROOT/benches/gateway_vs_nginx.py" --serve "$GATEWAY_SERVE" --workdir "$work" "$@"
