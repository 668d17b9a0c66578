#!/usr/bin/env bash
# 100 MiB transfers WANDA→WANDA, Kubo→WANDA, WANDA→Kubo, Kubo→Helia side by side, plus idle daemon
# RSS, inside a network namespace that has only `lo`. Uses target/release/wanda (build it first:
# cargo build --release --workspace). Extra arguments go to transfer.py (--mib, --rounds).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root="$here/.."
"$root/scripts/setup-kubo.sh" >/dev/null
"$root/scripts/setup-helia.sh" >/dev/null
py="$root/tools/pyenv/bin/python3"
[ -x "$py" ] || py=python3
wanda="${WANDA_BIN:-$root/target/release/wanda}"
exec unshare --net sh -c "ip link set lo up && exec '$py' '$here/transfer.py' --wanda '$wanda' $*"
