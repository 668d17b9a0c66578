#!/usr/bin/env bash
# Socket.IO contract test (socket.io-client 4, as the WANDA UI) against `wanda daemon`, inside a
# network namespace that has only `lo`. Usage: tests/socketio/run.sh --wanda PATH/TO/wanda
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
node=$("$here/../../scripts/setup-node22.sh")
npm=$(dirname "$node")/npm
[ -x "$npm" ] || npm=npm
if [ ! -d "$here/node_modules/socket.io-client" ]; then
    PATH="$(dirname "$node"):$PATH" "$npm" ci --prefix "$here" --no-audit --no-fund --prefer-offline --loglevel=error
fi
exec unshare --net sh -c "ip link set lo up && exec '$node' '$here/client.mjs' $*"
