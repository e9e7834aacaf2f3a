#!/usr/bin/env bash
# Build the Linux bundle and the .deb of dsj-desktop in the oldest environment this machine can make.
#
#   sudo installer/build-linux.sh            # from a clean clone; run as root (debootstrap, chroot, mounts)
#
# What it does:
#   1. debootstraps a Debian 11 (bullseye, glibc 2.31) root into $DSJ_BUILD_CACHE/bullseye-root (once);
#   2. builds SQLite and CPython 3.11 there from Debian's source packages (sqlite3 from trixie, python3.11
#      from bookworm: upstream tarballs plus Debian's bug and security fixes), --enable-shared, libm calls
#      pinned to glibc-2.28 symbol versions (once);
#   3. copies `git archive HEAD` into the root (only committed files are built), makes a fresh venv,
#      `pip install .` plus PyInstaller, runs installer/build_bundle.py (PyInstaller one-folder build,
#      glibc scan, BUILDINFO.txt) and installer/linux/make-deb.sh;
#   4. copies the results to $DSJ_BUILD_OUT: dsj-desktop/ (the bundle), dsj-desktop_VERSION_amd64.deb,
#      dsj-desktop-VERSION-linux-x86_64.tar.gz.
#
# Environment: DSJ_BUILD_CACHE (default /var/tmp/dsj-build), DSJ_BUILD_OUT (default $DSJ_BUILD_CACHE/out),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SECURITY (default
# http://deb.debian.org/debian-security).  Reruns reuse the root and the Python build; delete
# $DSJ_BUILD_CACHE/bullseye-root to start over.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$HERE" rev-parse --show-toplevel)
CACHE=${DSJ_BUILD_CACHE:-/var/tmp/dsj-build}
OUT=${DSJ_BUILD_OUT:-$CACHE/out}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
SUITE=bullseye
ROOT=$CACHE/$SUITE-root
SRC=$CACHE/src

# CPython 3.11 source: Debian's python3.11 source package (bookworm).  The upstream tarball is the
# pristine python.org release; the sha256 sums below are those of bookworm's Sources index.
PY_VERSION=3.11.2
PY_DEBIAN_REV=6+deb12u8
PY_POOL=$MIRROR/pool/main/p/python3.11
PY_ORIG=python3.11_$PY_VERSION.orig.tar.gz
PY_ORIG_SHA256=2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849
PY_DEBIAN=python3.11_$PY_VERSION-$PY_DEBIAN_REV.debian.tar.xz
PY_DEBIAN_SHA256=ece2d63c70ac0b7a401fbe6b51b0103be997c294a01a3865549be1862794ba97
PY_PREFIX=/opt/python3.11
# SQLite, built into $PY_PREFIX/lib for Python's sqlite3 module: bullseye's libsqlite3 needs glibc 2.29
# (log@GLIBC_2.29), and this way every Linux build has the same, newer SQLite.  Debian's sqlite3 source
# package (trixie): the upstream tree plus Debian's bug and CVE fixes.
SQLITE_VERSION=3.46.1
SQLITE_DEBIAN_REV=7+deb13u2
SQLITE_POOL=$MIRROR/pool/main/s/sqlite3
SQLITE_ORIG=sqlite3_$SQLITE_VERSION.orig.tar.xz
SQLITE_ORIG_SHA256=d0cdd2ece271b29e7ce18095745d892517ee26d0f270065b3a25c2e9eb11639c
SQLITE_DEBIAN=sqlite3_$SQLITE_VERSION-$SQLITE_DEBIAN_REV.debian.tar.xz
SQLITE_DEBIAN_SHA256=59d33bc436258603702bb051d645743ab03612b82f79e7c7d638c65127c21261

# Packages in the build root.  Build tools and -dev packages for CPython; the runtime libraries Qt's
# core needs so PyInstaller can resolve (and bundle) them.  Deliberately NOT installed: the xcb-util
# libraries and libxkbcommon-x11, so they are not bundled and the .deb depends on the system's instead.
ROOT_PACKAGES=(
    build-essential pkg-config patch xz-utils ca-certificates file binutils
    zlib1g-dev libssl-dev libffi-dev libbz2-dev liblzma-dev uuid-dev tcl
    libglib2.0-0 libx11-6 libxkbcommon0 libfontconfig1 libfreetype6 libegl1 libgl1 libdbus-1-3 libzstd1
)

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'build-linux.sh: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot and mounts): sudo $0"
[[ $(uname -m) == x86_64 ]] || die "only x86_64 is supported (PySide6 6.9 has manylinux_2_28 wheels for x86_64)"
for tool in debootstrap chroot git curl sha256sum mount umount; do
    command -v "$tool" >/dev/null || die "missing tool: $tool (apt-get install debootstrap curl git)"
done

START=$(date +%s)
mkdir -p "$CACHE" "$SRC" "$OUT"

# ---------------------------------------------------------------------------------------------- mounts
MOUNTS=()
cleanup() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount -l "${MOUNTS[i]}" 2>/dev/null || true
    done
    MOUNTS=()
}
trap cleanup EXIT INT TERM

mount_root() {
    local dir
    for dir in proc sys dev dev/pts; do
        mountpoint -q "$ROOT/$dir" && continue
        mkdir -p "$ROOT/$dir"
        case $dir in
            proc) mount -t proc proc "$ROOT/proc" ;;
            sys) mount -t sysfs sysfs "$ROOT/sys" ;;
            *) mount --bind "/$dir" "$ROOT/$dir" ;;
        esac
        MOUNTS+=("$ROOT/$dir")
    done
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
    if [[ -f $HOST_CA ]]; then
        mkdir -p "$ROOT/etc/ssl/certs"
        cp -L "$HOST_CA" "$ROOT/etc/ssl/certs/dsj-host-ca.crt"
    fi
}

# Run a command inside the root with a clean environment (no host pip configuration leaks in), except
# what reaching the package registries from this host needs: proxy settings, a pip index given in the
# environment, and the host's CA bundle (copied into the root: a TLS-inspecting proxy's CA is only there).
HOST_CA=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
PASS_ENV=()
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL PIP_EXTRA_INDEX_URL; do
    [[ -n ${!var:-} && ${!var} != file:* ]] && PASS_ENV+=("$var=${!var}")
done
in_root() {
    local ca=()
    [[ -f $ROOT/etc/ssl/certs/dsj-host-ca.crt ]] &&
        ca=(PIP_CERT=/etc/ssl/certs/dsj-host-ca.crt SSL_CERT_FILE=/etc/ssl/certs/dsj-host-ca.crt)
    chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb \
        PATH=$PY_PREFIX/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 "${ca[@]}" "${PASS_ENV[@]}" "$@"
}

# ------------------------------------------------------------------------------------------ 1. the root
PKG_STAMP=$(printf '%s\n' "$SUITE" "${ROOT_PACKAGES[@]}" | sha256sum | cut -c1-16)
if [[ ! -f $ROOT/.dsj-root-ready ]]; then
    T=$(date +%s)
    if [[ ! -x $ROOT/usr/bin/apt-get ]]; then
        log "debootstrap $SUITE into $ROOT (a few minutes, once)"
        rm -rf "$ROOT"
        debootstrap --variant=minbase --arch=amd64 "$SUITE" "$ROOT" "$MIRROR"
    fi
    cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$ROOT/etc/apt/apt.conf.d/90dsj-no-recommends"
    rm -f "$ROOT/.dsj-root-packages"
    touch "$ROOT/.dsj-root-ready"
    log "root ready in $(($(date +%s) - T)) s"
fi
mount_root
if [[ $(cat "$ROOT/.dsj-root-packages" 2>/dev/null) != "$PKG_STAMP" ]]; then
    log "installing the build packages into the root"
    in_root apt-get update -q
    in_root apt-get -y -q dist-upgrade
    in_root apt-get install -y -q "${ROOT_PACKAGES[@]}"
    in_root apt-get clean
    echo "$PKG_STAMP" >"$ROOT/.dsj-root-packages"
fi
GLIBC_BUILD=$(in_root getconf GNU_LIBC_VERSION | awk '{print $2}')
log "build root: Debian $(cat "$ROOT/etc/debian_version"), glibc $GLIBC_BUILD"

# ----------------------------------------------------------------------------------------- 2. CPython
fetch() { # fetch POOL_URL FILE SHA256: into $SRC, verified
    local pool=$1 file=$2 sum=$3
    if [[ ! -f $SRC/$file ]] || ! echo "$sum  $SRC/$file" | sha256sum -c --quiet - 2>/dev/null; then
        log "downloading $file"
        curl -fsSL --retry 3 -o "$SRC/$file.part" "$pool/$file"
        mv "$SRC/$file.part" "$SRC/$file"
    fi
    echo "$sum  $SRC/$file" | sha256sum -c --quiet - || die "checksum mismatch: $SRC/$file"
}
PY_STAMP=$(cat "$HERE/linux/build-python.sh" "$HERE/linux/glibc-2.28-compat.h" |
    { cat; echo "$PY_ORIG_SHA256 $PY_DEBIAN_SHA256 $SQLITE_ORIG_SHA256 $SQLITE_DEBIAN_SHA256"; } |
    sha256sum | cut -c1-16)
if [[ $(cat "$ROOT/.dsj-python" 2>/dev/null) != "$PY_STAMP" || ! -x $ROOT$PY_PREFIX/bin/python3.11 ]]; then
    fetch "$PY_POOL" "$PY_ORIG" "$PY_ORIG_SHA256"
    fetch "$PY_POOL" "$PY_DEBIAN" "$PY_DEBIAN_SHA256"
    fetch "$SQLITE_POOL" "$SQLITE_ORIG" "$SQLITE_ORIG_SHA256"
    fetch "$SQLITE_POOL" "$SQLITE_DEBIAN" "$SQLITE_DEBIAN_SHA256"
    T=$(date +%s)
    log "building SQLite $SQLITE_VERSION and CPython $PY_VERSION in the root (several minutes, once)"
    rm -rf "$ROOT/build/python" "$ROOT$PY_PREFIX"
    mkdir -p "$ROOT/build/python"
    cp "$SRC/$PY_ORIG" "$SRC/$PY_DEBIAN" "$SRC/$SQLITE_ORIG" "$SRC/$SQLITE_DEBIAN" \
        "$HERE/linux/build-python.sh" "$HERE/linux/glibc-2.28-compat.h" "$ROOT/build/python/"
    in_root bash /build/python/build-python.sh /build/python "$PY_PREFIX" \
        "$PY_ORIG" "$PY_DEBIAN" "$SQLITE_ORIG" "$SQLITE_DEBIAN"
    rm -rf "$ROOT/build/python"
    echo "$PY_STAMP" >"$ROOT/.dsj-python"
    log "CPython built in $(($(date +%s) - T)) s"
fi
log "$(in_root "$PY_PREFIX/bin/python3.11" -VV)"

# ---------------------------------------------------------------------------------- 3. the application
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no) ]]; then
    log "WARNING: uncommitted changes are NOT built (the build uses git archive HEAD)"
fi
COMMIT=$(git -C "$REPO" rev-parse --short HEAD)
T=$(date +%s)
rm -rf "$ROOT/build/app"
mkdir -p "$ROOT/build/app/src"
git -C "$REPO" archive --format=tar HEAD | tar -x -C "$ROOT/build/app/src"
log "building the bundle and the .deb from commit $COMMIT"
in_root env DSJ_COMMIT="$COMMIT" DSJ_BUILD_ENV="Debian $(cat "$ROOT/etc/debian_version") (glibc $GLIBC_BUILD)" \
    bash /build/app/src/installer/linux/build-in-root.sh /build/app
APP_SECONDS=$(($(date +%s) - T))

# --------------------------------------------------------------------------------------- 4. results
VERSION=$(cat "$ROOT/build/app/VERSION")
rm -rf "$OUT/dsj-desktop"
cp -a "$ROOT/build/app/dist/dsj-desktop" "$OUT/"
cp "$ROOT/build/app/dist/"*.deb "$ROOT/build/app/dist/"*.tar.gz "$OUT/"
cleanup

log "done in $(($(date +%s) - START)) s (application part: $APP_SECONDS s)"
cat "$OUT/dsj-desktop/BUILDINFO.txt"
echo
ls -l "$OUT"
du -sh "$OUT/dsj-desktop"
