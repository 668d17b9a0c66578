#!/usr/bin/env bash
# WANDA <-> Kubo v0.22 Bitswap interop, inside a network namespace that has only `lo`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../scripts/setup-kubo.sh" >/dev/null
py="$here/../../tools/pyenv/bin/python3"
[ -x "$py" ] || py=python3
exec unshare --net sh -c "ip link set lo up && exec '$py' '$here/wanda_kubo_bitswap.py' $*"
