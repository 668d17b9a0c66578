#!/usr/bin/env bash
# kubo-rpc-client (npm, version pinned in package.json/package-lock.json) against a real
# `wanda daemon`, inside a network namespace that has only `lo`.
# Installs Node 22 (scripts/setup-node22.sh) and the client (npm ci from the lock file, with
# npm's cache; skipped when node_modules already matches the lock).
# Usage: tests/rpc_js/run.sh --wanda /path/to/wanda
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wanda="$root/target/debug/wanda"
while [ $# -gt 0 ]; do
    case "$1" in
        --wanda) wanda=$2; shift 2 ;;
        *) echo "usage: $0 [--wanda PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$wanda" ] || { echo "rpc_js: $wanda is not an executable" >&2; exit 1; }
node=$("$root/scripts/setup-node22.sh")
stamp="$here/node_modules/.wanda-lock.sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -d "$here/node_modules/kubo-rpc-client" ]; then
    log=$(mktemp "${TMPDIR:-/tmp}/rpc-js-npm.XXXXXX.log")
    if ! (cd "$here" && PATH="$(dirname "$node"):$PATH" npm ci --no-audit --no-fund --prefer-offline --loglevel=error) >"$log" 2>&1; then
        echo "rpc_js: npm ci failed:" >&2; tail -n 30 "$log" >&2; exit 1
    fi
    rm -f "$log"
    echo "$want" >"$stamp"
fi
exec unshare --net sh -c "ip link set lo up && exec '$node' '$here/test.mjs' '$wanda'"
