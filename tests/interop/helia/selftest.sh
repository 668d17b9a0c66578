#!/usr/bin/env bash
# Self test of the Helia interop peer: two Helia 7 peers (peer.mjs, driven by
# helia_client.py) inside a fresh network namespace that has only `lo`:
# connect, Kubo-default CIDs, 10 MiB bitswap transfer, gossipsub both ways on
# /wanda-telescope, kad-dht (/ipfs/lan/kad/1.0.0) provide + find_providers.
# Needs root (unshare --net), python3 >= 3.11; installs Node 22 + packages via
# scripts/setup-helia.sh (outside the namespace: it needs the npm registry).
# Ends with `N passed, M failed`; exit status non-zero on failure.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
HELIA_NODE=$("$ROOT/scripts/setup-helia.sh")
export HELIA_NODE
exec unshare --net sh -c 'ip link set lo up && exec python3 "$0"' "$HERE/selftest.py"
