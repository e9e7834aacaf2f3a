#!/usr/bin/env bash
# Install a built .deb into a fresh, minimal Debian root and try it there (root needed):
#
#   sudo installer/linux/test-deb.sh [DEB] [SCREENSHOT.png]
#
# DEB defaults to $DSJ_BUILD_CACHE/out/dsj-desktop_*_amd64.deb.  Checks that `apt install ./DEB` resolves
# every dependency from the distribution alone, that /usr/bin/dsj-desktop runs the command line
# (--version, demo, info) as an ordinary user, and starts the GUI (no subcommand) under Xvfb through
# Qt's xcb plugin and saves a screenshot.  The root is Debian 11 (glibc 2.31, the oldest this
# machine can make); a pristine copy is cached in $DSJ_BUILD_CACHE/deb-test-base.
set -euo pipefail
CACHE=${DSJ_BUILD_CACHE:-/var/tmp/dsj-build}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
SUITE=${DSJ_TEST_SUITE:-bullseye}
BASE=$CACHE/deb-test-base-$SUITE
ROOT=$CACHE/deb-test-root
DEB=${1:-$(ls -t "$CACHE"/out/dsj-desktop_*_amd64.deb 2>/dev/null | sed -n 1p)}
SHOT=${2:-$CACHE/out/screenshot-$SUITE.png}
[[ $(id -u) == 0 ]] || { echo "test-deb.sh: needs root" >&2; exit 1; }
[[ -f $DEB ]] || { echo "test-deb.sh: no .deb (build with installer/build-linux.sh)" >&2; exit 1; }

MOUNTS=()
cleanup() {
    [[ -n ${XVFB_PID:-} ]] && kill "$XVFB_PID" 2>/dev/null
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

if [[ ! -x $BASE/usr/bin/apt-get ]]; then
    echo "==> debootstrap $SUITE into $BASE (once)"
    rm -rf "$BASE"
    debootstrap --variant=minbase --arch=amd64 "$SUITE" "$BASE" "$MIRROR"
    printf 'deb %s %s main\ndeb %s %s-security main\n' "$MIRROR" "$SUITE" "$SECURITY" "$SUITE" \
        >"$BASE/etc/apt/sources.list"
fi
echo "==> fresh root $ROOT"
rm -rf "$ROOT"
cp -a "$BASE" "$ROOT"
for dir in proc sys dev dev/pts; do
    case $dir in
        proc) mount -t proc proc "$ROOT/proc" ;;
        sys) mount -t sysfs sysfs "$ROOT/sys" ;;
        *) mount --bind "/$dir" "$ROOT/$dir" ;;
    esac
    MOUNTS+=("$ROOT/$dir")
done
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp "$DEB" "$ROOT/tmp/"
in_root() { chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive "$@"; }

echo "==> apt install ./$(basename "$DEB")"
in_root apt-get update -q >/dev/null
in_root apt-get install -y -q --no-install-recommends "/tmp/$(basename "$DEB")" | grep -E '^(Setting up|E:)' |
    sed 's/^/    /'
in_root useradd -m -s /bin/sh clerk
mkdir -p "$ROOT/home/clerk/桌面"
chroot "$ROOT" chown clerk: /home/clerk/桌面
as_clerk() { chroot "$ROOT" /usr/bin/env -i HOME=/home/clerk USER=clerk LANG=C.UTF-8 \
    PATH=/usr/bin:/bin /sbin/runuser -u clerk -- sh -c "$*"; }

echo "==> command line as an ordinary user"
as_clerk 'dsj-desktop --version && dsj-desktop demo && dsj-desktop info'

echo "==> GUI under Xvfb (xcb), screenshot"
in_root apt-get install -y -q --no-install-recommends xvfb x11-apps imagemagick >/dev/null
chroot "$ROOT" /usr/bin/Xvfb :77 -screen 0 1366x768x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
sleep 2
as_clerk 'DISPLAY=:77 QT_DEBUG_PLUGINS=0 timeout 25 dsj-desktop >/tmp/gui.log 2>&1; echo "exit $?" >>/tmp/gui.log' &
GUI=$!
sleep 15
in_root sh -c 'DISPLAY=:77 xwd -root -silent | convert xwd:- /tmp/shot.png'
wait "$GUI" || true
cp "$ROOT/tmp/shot.png" "$SHOT"
echo "    screenshot: $SHOT"
sed 's/^/    gui: /' "$ROOT/tmp/gui.log"
ls "$ROOT/home/clerk/.local/share/dsj-desktop" "$ROOT/home/clerk/桌面" | sed 's/^/    /'
