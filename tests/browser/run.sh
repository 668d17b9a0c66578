#!/usr/bin/env bash
# The built-in web UI in Debian's Chromium (playwright-core) against `wanda demo` and a few
# `wanda daemon`s (a second telescope, a "full" one, one restarted under the page), plus the UI's
# QR encoder against jsQR; all inside a network namespace that has only `lo`.
# Usage: tests/browser/run.sh --wanda PATH/TO/wanda
# Screenshots: target/browser-artifacts/ (or $ARTIFACTS).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wanda=""
while [ $# -gt 0 ]; do
    case "$1" in
        --wanda) wanda=$(realpath "$2"); shift 2 ;;
        *) echo "usage: $0 --wanda PATH/TO/wanda" >&2; exit 2 ;;
    esac
done
[ -x "$wanda" ] || { echo "run.sh: --wanda PATH/TO/wanda is required" >&2; exit 2; }
node=$("$root/scripts/setup-node22.sh")
chromium=$("$root/scripts/setup-chromium.sh")
npm=$(dirname "$node")/npm
[ -x "$npm" ] || npm=npm
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/jsqr" ]; then
    PATH="$(dirname "$node"):$PATH" "$npm" ci --prefix "$here" --no-audit --no-fund --prefer-offline --loglevel=error
fi
export WANDA="$wanda" CHROMIUM="$chromium" ARTIFACTS="${ARTIFACTS:-$root/target/browser-artifacts}"
rm -rf "$ARTIFACTS" && mkdir -p "$ARTIFACTS"
cd "$here"
exec unshare --net sh -c "ip link set lo up && exec '$node' --test --test-concurrency=1 --test-reporter=spec qr.test.mjs ui.test.mjs resilience.test.mjs access.test.mjs"
