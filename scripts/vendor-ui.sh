#!/usr/bin/env bash
# Reproduce the vendored browser files of the built-in web UI (src/ui/assets/vendor/) from their
# npm packages. `cargo build` embeds the committed copies and never runs this; run it only to
# check or update them (then commit the result).
#   socket.io.min.js  <- socket.io-client@4.8.1 dist/socket.io.min.js (MIT, license header kept)
# Usage: scripts/vendor-ui.sh [--check]   (--check: compare with the committed copies, change nothing)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST="$ROOT/src/ui/assets/vendor"
VERSION=4.8.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent --prefer-offline "socket.io-client@$VERSION" >/dev/null)
tar -xzf "$work/socket.io-client-$VERSION.tgz" -C "$work"
src="$work/package/dist/socket.io.min.js"
[ -s "$src" ] || { echo "vendor-ui: $src missing from the package" >&2; exit 1; }
if [ "${1:-}" = "--check" ]; then
    if cmp -s "$src" "$DEST/socket.io.min.js"; then
        echo "vendor-ui: socket.io.min.js matches socket.io-client@$VERSION"
    else
        echo "vendor-ui: src/ui/assets/vendor/socket.io.min.js differs from socket.io-client@$VERSION" >&2
        exit 1
    fi
else
    mkdir -p "$DEST"
    cp "$src" "$DEST/socket.io.min.js"
    cp "$work/package/LICENSE" "$DEST/socket.io.LICENSE"
    echo "vendor-ui: wrote $DEST/socket.io.min.js (socket.io-client@$VERSION)"
fi
