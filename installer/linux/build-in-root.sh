#!/usr/bin/env bash
# Runs INSIDE the bullseye build root (called by installer/build-linux.sh):  build-in-root.sh APPDIR
# APPDIR/src holds `git archive HEAD`.  Makes APPDIR/venv (fresh), builds APPDIR/dist/dsj-desktop,
# smoke-tests it, and makes the .deb and a .tar.gz in APPDIR/dist.
set -euo pipefail
app=$1
src=$app/src
py=/opt/python3.11/bin/python3.11
max_glibc=${DSJ_MAX_GLIBC-2.28}
rm -rf "$app/venv" "$app/dist" "$app/work"

echo "--- venv and packages"
"$py" -m venv "$app/venv"
site=$("$app/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp "$src/installer/linux/_manylinux.py" "$site/"
"$app/venv/bin/python" -m pip install -q --upgrade pip
"$app/venv/bin/python" -m pip install -q "$src" -r "$src/installer/requirements-build.txt"
"$app/venv/bin/python" -m pip list --format=freeze | sed 's/^/    /'

echo "--- PyInstaller"
"$app/venv/bin/python" "$src/installer/build_bundle.py" --quiet \
    --dist "$app/dist" --work "$app/work" ${max_glibc:+--max-glibc "$max_glibc"}
bundle=$app/dist/dsj-desktop

echo "--- smoke test in the root"
data=$(mktemp -d)
export QT_QPA_PLATFORM=offscreen
"$bundle/dsj-desktop" --version
"$bundle/dsj-desktop" --data-dir "$data" demo
"$bundle/dsj-desktop" --data-dir "$data" info
rm -rf "$data"

version=$(sed -n 's/^program: dsj-desktop //p' "$bundle/BUILDINFO.txt")
echo "--- .deb and .tar.gz"
bash "$src/installer/linux/make-deb.sh" "$bundle" "$app/dist"
tar -C "$app/dist" -czf "$app/dist/dsj-desktop-$version-linux-x86_64.tar.gz" dsj-desktop
echo "$version" >"$app/VERSION"
