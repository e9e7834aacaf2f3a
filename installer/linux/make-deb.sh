#!/usr/bin/env bash
# make-deb.sh BUNDLE OUTDIR: the .deb of a built bundle (dist/dsj-desktop with its BUILDINFO.txt).
#
# Layout: /opt/dsj-desktop (the bundle), /usr/bin/dsj-desktop (launcher), the .desktop entry, the icon in
# hicolor (scalable + 256x256).  Depends: libc6 (>= the glibc the scan measured) and the desktop-stack
# libraries the spec leaves out of the bundle: fontconfig/freetype, glib, X11 + the xcb libraries of
# Qt's xcb plugin, xkbcommon, EGL/GL (libglvnd), D-Bus.
set -euo pipefail
bundle=$(cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
info=$bundle/BUILDINFO.txt
[[ -f $info ]] || { echo "make-deb.sh: no $info (build with installer/build_bundle.py)" >&2; exit 1; }
version=$(sed -n 's/^program: dsj-desktop //p' "$info")
glibc=$(sed -n 's/^glibc-required: //p' "$info")
[[ -n $version && -n $glibc && $glibc != None ]] || { echo "make-deb.sh: BUILDINFO.txt lacks version/glibc" >&2; exit 1; }
libstdcxx_bundled=$(grep -c '^glibcxx-required: .*bundled' "$info" || true)

depends=(
    "libc6 (>= $glibc)"
    libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3
    libx11-6 libx11-xcb1 libxcb1 libxkbcommon0 libxkbcommon-x11-0
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-render0
    libxcb-shape0 libxcb-randr0 libxcb-xkb1 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-util1
    libegl1 libgl1
)
if [[ $libstdcxx_bundled == 0 ]]; then
    depends+=("libstdc++6 (>= 8)" libgcc-s1)
fi
recommends=(libwayland-client0 libwayland-cursor0 libwayland-egl1 libcups2 xdg-user-dirs)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
install -d "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
    "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/icons/hicolor/256x256/apps" \
    "$root/usr/share/doc/dsj-desktop" "$root/DEBIAN"
cp -a "$bundle" "$root/opt/dsj-desktop"
install -m 0755 "$here/dsj-desktop.sh" "$root/usr/bin/dsj-desktop"
install -m 0644 "$here/dsj-desktop.desktop" "$root/usr/share/applications/dsj-desktop.desktop"
install -m 0644 "$bundle/_internal/resources/icons/dsj-desktop.svg" "$root/usr/share/icons/hicolor/scalable/apps/"
install -m 0644 "$bundle/_internal/resources/icons/dsj-desktop.png" "$root/usr/share/icons/hicolor/256x256/apps/"
cat >"$root/usr/share/doc/dsj-desktop/copyright" <<COPYRIGHT
dsj-desktop $version: 双随机一公开抽查工作台

/opt/dsj-desktop is a PyInstaller bundle: Python $(sed -n 's/^python: //p' "$info"), Qt 6 (LGPLv3) through
PySide6 (LGPLv3), and the Python packages listed in /opt/dsj-desktop/BUILDINFO.txt, each under its own
licence.  The font WenQuanYi Micro Hei (resources/fonts) is Apache-2.0 or GPLv3 with font exception; see
/opt/dsj-desktop/_internal/resources/fonts/wqy-microhei.COPYING.
COPYRIGHT
chmod -R u+rwX,go+rX,go-w "$root"
find "$root" -type d -exec chmod 0755 {} +

size_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
join() { local IFS=,; echo "$*" | sed 's/,/, /g'; }
cat >"$root/DEBIAN/control" <<CONTROL
Package: dsj-desktop
Version: $version
Section: misc
Priority: optional
Architecture: amd64
Maintainer: dsj-desktop <dsj-desktop@localhost>
Installed-Size: $size_kb
Depends: $(join "${depends[@]}")
Recommends: $(join "${recommends[@]}")
Description: 双随机一公开抽查工作台 (offline desktop program)
 “双随机、一公开”监管抽查：检查对象名录库、执法检查人员名录库、年度抽查计划、
 可公开验证的随机抽取、结果公示。离线使用，数据保存在用户的数据文件夹
 (~/.local/share/dsj-desktop)。
 .
 Built on $(sed -n 's/^build environment: //p' "$info"); needs glibc >= $glibc.
CONTROL

deb=$out/dsj-desktop_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
