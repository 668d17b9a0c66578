#!/usr/bin/env bash
# Install Debian's `chromium` (the browser the UI test drives through playwright-core) if it is
# missing. Idempotent: a second run only checks the binary.
# Usage: scripts/setup-chromium.sh      -> prints the absolute path of the chromium binary
set -euo pipefail

find_chromium() {
    for c in chromium chromium-browser; do
        if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
    done
    return 1
}

if ! bin=$(find_chromium); then
    export DEBIAN_FRONTEND=noninteractive
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log=$(mktemp)
    if ! { apt-cache policy chromium | grep -q 'Candidate: [0-9]' || $sudo apt-get update -qq; } >"$log" 2>&1 \
        || ! $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >>"$log" 2>&1; then
        echo "setup-chromium: apt-get install chromium failed:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    rm -f "$log"
    bin=$(find_chromium) || { echo "setup-chromium: chromium not on PATH after install" >&2; exit 1; }
fi
"$bin" --version >/dev/null 2>&1 || { echo "setup-chromium: $bin does not run" >&2; exit 1; }
echo "$bin"
