#!/usr/bin/env bash
# Validate deploy/wanda.service with systemd-analyze (verify + offline
# security score). ExecStart is pointed at /bin/true in a temporary copy so
# the check works on a machine without /usr/local/bin/wanda.
# Usage: tests/pi/verify-unit.sh [UNIT]   (exit 0 = valid; SKIP if no systemd-analyze)
set -euo pipefail
unit="${1:-$(cd "$(dirname "$0")/../.." && pwd)/deploy/wanda.service}"
if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP: systemd-analyze not available"; exit 0
fi
dir="$(mktemp -d)"; trap 'rm -rf "$dir"' EXIT
sed 's#^ExecStart=/usr/local/bin/wanda#ExecStart=/bin/true#' "$unit" >"$dir/wanda.service"
if out="$(systemd-analyze verify "$dir/wanda.service" 2>&1)" && [ -z "$out" ]; then
    echo "PASS: systemd-analyze verify $(basename "$unit")"
else
    echo "FAIL: systemd-analyze verify $(basename "$unit")"; echo "$out"; exit 1
fi
# --offline needs systemd >= 250; informational only.
if score="$(systemd-analyze security --offline=yes "$dir/wanda.service" 2>/dev/null | grep -a 'Overall exposure')"; then
    echo "INFO: ${score#→ }"
fi
