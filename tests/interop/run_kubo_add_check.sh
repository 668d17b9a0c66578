#!/usr/bin/env bash
# Run tests/interop/kubo_add_check.py inside a fresh network namespace that has
# only `lo` (Kubo must never see a real network). Needs root (unshare --net).
#
# Usage: tests/interop/run_kubo_add_check.sh [--wanda PATH] [--vectors tests/vectors/expected.json] [--keep]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
"$ROOT/scripts/setup-kubo.sh" >/dev/null
PY="$ROOT/tools/pyenv/bin/python"

# resolve relative paths before entering the namespace (cwd is unchanged, but be explicit)
args=()
for a in "$@"; do
    if [ -e "$a" ]; then args+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")"); else args+=("$a"); fi
done

exec unshare --net -- sh -c 'ip link set lo up && exec "$0" "$@"' \
    "$PY" "$ROOT/tests/interop/kubo_add_check.py" ${args[@]+"${args[@]}"}
