#!/usr/bin/env bash
# Capture latency with IPFS publishing on vs off, and capture -> pinned -> announced, for
# 12 MP simulated captures (release build). Runs inside a network namespace with only `lo`
# (two libp2p nodes talk on loopback). Needs root for `unshare --net`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench capture_latency --no-run
exec unshare --net sh -c 'ip link set lo up; exec cargo bench --bench capture_latency'
