#!/usr/bin/env bash
# WANDA <-> Helia 7 interop (Bitswap, gossipsub), inside a network namespace that has only `lo`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../scripts/setup-helia.sh" >/dev/null
exec unshare --net sh -c "ip link set lo up && exec python3 '$here/wanda_helia.py' $*"
