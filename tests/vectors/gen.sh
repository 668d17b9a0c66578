#!/usr/bin/env bash
# Regenerate the CID reference vectors and check them against the checked-in
# tests/vectors/expected.json. Installs Node 22 (tools/node22) and the pinned
# npm packages (npm ci, npm's cache in ~/.npm or $npm_config_cache) as needed.
# Writes tests/vectors/out/{expected.json,cars/*.car} (gitignored).
# Exit status: 0 = identical, 1 = mismatch or failure. Quiet on success.
#
# Usage: tests/vectors/gen.sh [--update]   (--update: copy out/expected.json over the checked-in one)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NODE=$("$ROOT/scripts/setup-node22.sh")
NODE_DIR=$(dirname "$NODE")
log="$HERE/out/gen.log"
mkdir -p "$HERE/out"

# npm ci only when node_modules does not match the lock file
stamp="$HERE/node_modules/.wanda-lock.sha256"
want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    if ! (cd "$HERE" && PATH="$NODE_DIR:$PATH" npm ci --no-audit --no-fund --prefer-offline --loglevel=error) >"$log" 2>&1; then
        echo "gen.sh: npm ci failed:" >&2; tail -n 30 "$log" >&2; exit 1
    fi
    echo "$want" >"$stamp"
fi

if ! "$NODE" "$HERE/gen.mjs" "$HERE/out" >"$log" 2>&1; then
    echo "gen.sh: gen.mjs failed:" >&2; tail -n 30 "$log" >&2; exit 1
fi

if [ "${1:-}" = "--update" ]; then
    cp "$HERE/out/expected.json" "$HERE/expected.json"
    exit 0
fi
if ! diff -u "$HERE/expected.json" "$HERE/out/expected.json" >"$HERE/out/expected.diff"; then
    echo "gen.sh: generated vectors differ from tests/vectors/expected.json:" >&2
    head -c 4000 "$HERE/out/expected.diff" >&2
    exit 1
fi
