#!/usr/bin/env bash
# Install the reference Helia 7 peer used by interop tests
# (tests/interop/helia/peer.mjs): Node 22 via scripts/setup-node22.sh, then
# `npm ci` in tests/interop/helia from its committed package-lock.json.
# Idempotent: npm ci runs only when node_modules does not match the lock file.
# npm's cache (~/.npm, or $npm_config_cache) makes a reinstall fast.
#
# Usage: scripts/setup-helia.sh     -> prints the absolute path of `node` (v22)
# Run peer.mjs only inside a network namespace that has nothing but `lo`
# (see tests/interop/helia/README.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR="$ROOT/tests/interop/helia"
NODE=$("$ROOT/scripts/setup-node22.sh")
NODE_DIR=$(dirname "$NODE")

stamp="$DIR/node_modules/.wanda-lock.sha256"
want=$(sha256sum "$DIR/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -d "$DIR/node_modules/helia" ]; then
    log=$(mktemp "${TMPDIR:-/tmp}/setup-helia.XXXXXX.log")
    if ! (cd "$DIR" && PATH="$NODE_DIR:$PATH" npm ci --no-audit --no-fund --prefer-offline --loglevel=error) >"$log" 2>&1; then
        echo "setup-helia: npm ci failed:" >&2; tail -n 30 "$log" >&2; exit 1
    fi
    rm -f "$log"
    # the peer must load (catches a wrong Node or a broken install; starts no node)
    if ! (cd "$DIR" && "$NODE" --input-type=module -e "await import('helia'); await import('@libp2p/gossipsub'); await import('@libp2p/kad-dht')") >&2; then
        echo "setup-helia: installed packages do not load with $NODE" >&2; exit 1
    fi
    echo "$want" >"$stamp"
fi
echo "$NODE"
