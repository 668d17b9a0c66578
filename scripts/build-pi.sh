#!/usr/bin/env bash
# Cross-build WANDA for the Raspberry Pi (64-bit Raspberry Pi OS, aarch64)
# on an x86-64 Debian/Ubuntu machine, from a fresh machine onwards.
#
# Every step is idempotent: packages and the Rust target are only installed
# when missing. On success the script is quiet: one line on stderr with the
# binary's size and build time, and the binary's path as the last line on
# stdout (so `bin=$(scripts/build-pi.sh | tail -n1)` works). On failure it
# prints the tail of the build log.
#
# Usage: scripts/build-pi.sh [options]
#   --features LIST   cargo features, e.g. "gpio,v4l" (comma-separated)
#   --all-features    build with all features
#   --profile NAME    cargo profile (default: release)
#   --ci              CI build: profile pi-ci (release with thin LTO and
#                     parallel codegen, see .cargo/config.toml), same checks
#   --package NAME    package to build (default: wanda); for a library package
#                     the script builds it but has no binary to report
#   --max-size BYTES  fail if the binary is larger (default 20000000 = 20 MB;
#                     0 disables)
#   --smoke           run tests/pi/qemu-smoke.sh on the binary afterwards
#   --setup-only      install the toolchain, do not build
#   --no-install      never install anything; fail if something is missing
#   --locked          pass --locked to cargo (CI: Cargo.lock must be current)
#   -v, --verbose     stream the cargo output instead of logging it
#   -h, --help        this text
#
# Environment:
#   CARGO_TARGET_DIR  honoured as usual (default: <workspace>/target)
#   WANDA_PI_TARGET   rust target (default aarch64-unknown-linux-gnu)
#
# The binary ends up in $CARGO_TARGET_DIR/aarch64-unknown-linux-gnu/<profile>/wanda
# ("release" for --profile release, the profile name otherwise).
set -euo pipefail

TARGET="${WANDA_PI_TARGET:-aarch64-unknown-linux-gnu}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FEATURES=""
ALL_FEATURES=0
PROFILE="release"
PACKAGE="wanda"
MAX_SIZE=20000000
SMOKE=0
SETUP_ONLY=0
NO_INSTALL=0
VERBOSE=0
LOCKED=()

die() { echo "build-pi: error: $*" >&2; exit 1; }
note() { echo "build-pi: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --features) FEATURES="${2:?--features needs a value}"; shift 2 ;;
        --features=*) FEATURES="${1#*=}"; shift ;;
        --all-features) ALL_FEATURES=1; shift ;;
        --profile) PROFILE="${2:?--profile needs a value}"; shift 2 ;;
        --profile=*) PROFILE="${1#*=}"; shift ;;
        --package|-p) PACKAGE="${2:?--package needs a value}"; shift 2 ;;
        --max-size) MAX_SIZE="${2:?--max-size needs a value}"; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --setup-only) SETUP_ONLY=1; shift ;;
        --no-install) NO_INSTALL=1; shift ;;
        --ci) PROFILE=pi-ci; shift ;;
        --locked) LOCKED=(--locked); shift ;;
        -v|--verbose) VERBOSE=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

case "$TARGET" in
    aarch64-unknown-linux-gnu) GNU_TRIPLE=aarch64-linux-gnu; DEB_ARCH=arm64; QEMU=qemu-aarch64 ;;
    *) die "unsupported target $TARGET (only aarch64-unknown-linux-gnu)" ;;
esac
TARGET_ENV="${TARGET//-/_}"                       # aarch64_unknown_linux_gnu
TARGET_ENV_UPPER="$(echo "$TARGET_ENV" | tr '[:lower:]' '[:upper:]')"
SYSROOT="/usr/$GNU_TRIPLE"

# ---------------------------------------------------------------- packages --
want_v4l=0
if [ "$ALL_FEATURES" = 1 ] || [[ ",$FEATURES," == *",v4l,"* ]] || [[ ",$FEATURES," == *"/v4l,"* ]]; then
    want_v4l=1
fi

pkgs=(gcc-$GNU_TRIPLE libc6-dev-$DEB_ARCH-cross)
# qemu-user or qemu-user-static both provide qemu-aarch64(-static).
if ! command -v "$QEMU" >/dev/null && ! command -v "$QEMU-static" >/dev/null; then
    pkgs+=(qemu-user)
fi
if [ "$want_v4l" = 1 ]; then
    # bindgen (v4l2-sys-mit) needs libclang and the arm64 kernel headers.
    pkgs+=(libclang-dev linux-libc-dev-$DEB_ARCH-cross)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    [ "$NO_INSTALL" = 1 ] && die "missing packages: ${missing[*]}"
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get; install them by hand"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
        SUDO="sudo"
    fi
    note "installing ${missing[*]}"
    log="$(mktemp)"
    # A stale package index is the usual reason for "Unable to locate package".
    if ! { $SUDO apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 30 "$log" >&2; rm -f "$log"
        die "apt-get failed"
    fi
    rm -f "$log"
fi

# ------------------------------------------------------------------- rustup --
command -v cargo >/dev/null || die "cargo not found (install Rust with rustup: https://rustup.rs)"
if command -v rustup >/dev/null; then
    if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
        [ "$NO_INSTALL" = 1 ] && die "rust target $TARGET not installed"
        note "rustup target add $TARGET"
        rustup target add "$TARGET" >/dev/null 2>&1 || die "rustup target add $TARGET failed"
    fi
else
    rustc --print target-libdir --target "$TARGET" >/dev/null 2>&1 &&
        [ -d "$(rustc --print target-libdir --target "$TARGET")" ] ||
        die "no rustup and no std for $TARGET; install Rust with rustup"
fi

# ---------------------------------------------------------- cross env vars --
# The linker and runner are also in .cargo/config.toml; setting them here
# makes the script independent of where cargo is run from.
export "CARGO_TARGET_${TARGET_ENV_UPPER}_LINKER=$GNU_TRIPLE-gcc"
# Crates that compile C code for the target (cc crate).
export "CC_${TARGET_ENV}=$GNU_TRIPLE-gcc"
export "AR_${TARGET_ENV}=$GNU_TRIPLE-ar"
# Crates that use pkg-config must not pick up the host's libraries.
export "PKG_CONFIG_SYSROOT_DIR_${TARGET_ENV}=$SYSROOT"
export "PKG_CONFIG_LIBDIR_${TARGET_ENV}=$SYSROOT/lib/pkgconfig"
# bindgen (v4l feature): parse the arm64 headers from the cross sysroot
# (linux-libc-dev-arm64-cross + libc6-dev-arm64-cross), not the host's.
export "BINDGEN_EXTRA_CLANG_ARGS_${TARGET_ENV}=--target=$GNU_TRIPLE --sysroot=$SYSROOT -isystem $SYSROOT/include"
# Debian ships libclang under /usr/lib/llvm-*/lib; clang-sys finds it via
# llvm-config or its search list, but point at it when it is unambiguous.
if [ -z "${LIBCLANG_PATH:-}" ] && [ "$want_v4l" = 1 ]; then
    for d in /usr/lib/llvm-*/lib; do
        if compgen -G "$d/libclang*.so*" >/dev/null; then LIBCLANG_PATH="$d"; fi
    done
    [ -n "${LIBCLANG_PATH:-}" ] && export LIBCLANG_PATH
fi

[ "$SETUP_ONLY" = 1 ] && exit 0

# -------------------------------------------------------------------- build --
cd "$ROOT"
args=(build "${LOCKED[@]}" --target "$TARGET" --profile "$PROFILE" -p "$PACKAGE")
[ -n "$FEATURES" ] && args+=(--features "$FEATURES")
[ "$ALL_FEATURES" = 1 ] && args+=(--all-features)

start=$(date +%s)
if [ "$VERBOSE" = 1 ]; then
    cargo "${args[@]}" || die "cargo ${args[*]} failed"
else
    log="$(mktemp)"
    if ! cargo "${args[@]}" >"$log" 2>&1; then
        tail -n 60 "$log" >&2; rm -f "$log"
        die "cargo ${args[*]} failed"
    fi
    rm -f "$log"
fi
elapsed=$(( $(date +%s) - start ))

[ "$PACKAGE" = wanda ] || { note "built $PACKAGE for $TARGET in ${elapsed}s"; exit 0; }

target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
              sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
target_dir="${target_dir:-${CARGO_TARGET_DIR:-$ROOT/target}}"
case "$PROFILE" in dev) outdir=debug ;; *) outdir="$PROFILE" ;; esac
bin="$target_dir/$TARGET/$outdir/wanda"
[ -x "$bin" ] || die "build succeeded but $bin is missing"

size=$(stat -c %s "$bin")
note "$PROFILE$([ -n "$FEATURES" ] && echo " --features $FEATURES"): $size bytes ($(awk -v s="$size" 'BEGIN{printf "%.1f MiB", s/1048576}')), built in ${elapsed}s"
# Checked before the path is printed: callers that only read the last line
# (`| tail -n1` without pipefail) then get no binary to test.
if [ "$MAX_SIZE" != 0 ] && [ "$size" -gt "$MAX_SIZE" ]; then
    die "binary is $size bytes, over the $MAX_SIZE byte limit"
fi
echo "$bin"

if [ "$SMOKE" = 1 ]; then
    "$ROOT/tests/pi/qemu-smoke.sh" "$bin"
fi
