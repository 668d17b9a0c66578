#!/usr/bin/env bash
# Install or upgrade WANDA on a Raspberry Pi (64-bit Raspberry Pi OS).
#
# Usage: sudo ./install.sh [options] [BINARY]
#   BINARY            the aarch64 wanda binary (default: ./wanda next to this
#                     script, else ./wanda in the current directory)
#   --profile NAME    network profile for a NEW repo: local, lan or public
#                     (default: public). An existing repo is never touched.
#   --no-start        enable the service but do not (re)start it now
#   --force           install even though this machine is not aarch64
#   --dry-run         print what would be done, change nothing
#   -h, --help        this text
#
# What it does, each step only when needed (safe to run again; running it
# with a new binary is the upgrade path):
#   1. creates the system group and user `wanda` (no login, no home) and the
#      groups gpio/video if this OS lacks them;
#   2. installs the binary as /usr/local/bin/wanda (atomic rename; a running
#      service keeps the old binary until it is restarted);
#   3. installs deploy/wanda.service as /etc/systemd/system/wanda.service;
#   4. creates /var/lib/wanda (owner wanda, mode 0750) and, only if it holds
#      no repo yet, runs `wanda init --profile PROFILE` there as user wanda;
#   5. enables wanda.service and starts it, or restarts it if the binary or
#      the unit changed.
set -euo pipefail

PREFIX_BIN=/usr/local/bin/wanda
UNIT_DST=/etc/systemd/system/wanda.service
REPO=/var/lib/wanda
USER_NAME=wanda
PROFILE=public
START=1
FORCE=0
DRY=0
BINARY=""
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "install: error: $*" >&2; exit 1; }
say() { echo "install: $*"; }
run() {
    if [ "$DRY" = 1 ]; then echo "+ $*"; else "$@"; fi
}

while [ $# -gt 0 ]; do
    case "$1" in
        --profile) PROFILE="${2:?--profile needs a value}"; shift 2 ;;
        --profile=*) PROFILE="${1#*=}"; shift ;;
        --no-start) START=0; shift ;;
        --force) FORCE=1; shift ;;
        --dry-run) DRY=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) [ -z "$BINARY" ] || die "only one BINARY"; BINARY="$1"; shift ;;
    esac
done

case "$PROFILE" in local|lan|public) ;; *) die "--profile must be local, lan or public" ;; esac

arch="$(uname -m)"
if [ "$arch" != aarch64 ] && [ "$FORCE" != 1 ]; then
    die "this is $arch, not aarch64 (64-bit Raspberry Pi OS); use --force to install anyway"
fi
if [ "$DRY" != 1 ] && [ "$(id -u)" != 0 ]; then
    die "run as root (sudo $0 ...)"
fi

if [ -z "$BINARY" ]; then
    for c in "$HERE/wanda" "./wanda"; do
        [ -f "$c" ] && { BINARY="$c"; break; }
    done
fi
[ -n "$BINARY" ] && [ -f "$BINARY" ] || die "no wanda binary found; pass its path"
# ELF e_machine 183 = aarch64.
machine="$(od -An -t u2 -j 18 -N 2 "$BINARY" 2>/dev/null | tr -d ' ')"
if [ "$machine" != 183 ] && [ "$FORCE" != 1 ]; then
    die "$BINARY is not an aarch64 executable (use scripts/build-pi.sh); --force to install anyway"
fi
if [ "$arch" = aarch64 ] && ! "$BINARY" --version >/dev/null 2>&1; then
    die "$BINARY --version fails on this machine"
fi
UNIT_SRC="$HERE/wanda.service"
[ -f "$UNIT_SRC" ] || die "missing $UNIT_SRC (keep install.sh next to wanda.service)"

have_systemd=0
[ -d /run/systemd/system ] && have_systemd=1

# 1. groups and user -----------------------------------------------------------
for g in "$USER_NAME" gpio video; do
    if ! getent group "$g" >/dev/null; then
        say "creating group $g"
        run groupadd --system "$g"
    fi
done
if ! getent passwd "$USER_NAME" >/dev/null; then
    say "creating user $USER_NAME"
    nologin="$(command -v nologin || echo /usr/sbin/nologin)"
    run useradd --system --gid "$USER_NAME" --groups gpio,video \
        --home-dir "$REPO" --no-create-home --shell "$nologin" \
        --comment "WANDA telescope" "$USER_NAME"
fi

# 2. binary ------------------------------------------------------------------
changed=0
if ! cmp -s "$BINARY" "$PREFIX_BIN"; then
    say "installing $PREFIX_BIN"
    run install -d -m 0755 "$(dirname "$PREFIX_BIN")"
    run install -m 0755 -o root -g root "$BINARY" "$PREFIX_BIN.new"
    run mv -f "$PREFIX_BIN.new" "$PREFIX_BIN"
    changed=1
fi

# 3. unit ----------------------------------------------------------------------
if ! cmp -s "$UNIT_SRC" "$UNIT_DST"; then
    say "installing $UNIT_DST"
    run install -m 0644 -o root -g root "$UNIT_SRC" "$UNIT_DST"
    [ "$have_systemd" = 1 ] && run systemctl daemon-reload
    changed=1
fi

# 4. repo ----------------------------------------------------------------------
if [ ! -d "$REPO" ]; then
    run install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$REPO"
fi
if [ ! -e "$REPO/config.toml" ]; then
    say "initialising repo $REPO (profile $PROFILE)"
    # As the service user, so every file in the repo belongs to it.
    run runuser -u "$USER_NAME" -- env WANDA_REPO="$REPO" \
        "$PREFIX_BIN" --repo "$REPO" init --profile "$PROFILE"
    if [ "$PROFILE" != local ]; then
        say "the owner's token above controls the telescope; print it again with:"
        say "  sudo -u $USER_NAME $PREFIX_BIN --repo $REPO auth owner"
    fi
else
    say "keeping existing repo $REPO"
fi

# 5. service -------------------------------------------------------------------
if [ "$have_systemd" = 1 ]; then
    if ! systemctl is-enabled --quiet wanda.service 2>/dev/null; then
        run systemctl enable --quiet wanda.service
    fi
    if [ "$START" = 1 ]; then
        if ! systemctl is-active --quiet wanda.service; then
            run systemctl start wanda.service
        elif [ "$changed" = 1 ]; then
            say "restarting wanda.service"
            run systemctl restart wanda.service
        fi
    fi
else
    # e.g. preparing an image in a chroot: enable for the next boot.
    run systemctl enable --quiet wanda.service || say "enable wanda.service by hand"
fi

say "done: $("$PREFIX_BIN" --version 2>/dev/null || echo wanda); UI at http://$(hostname).local:8080/ (lan/public profiles; the local profile listens on 127.0.0.1 only)"
