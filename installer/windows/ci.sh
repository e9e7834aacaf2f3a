#!/usr/bin/env bash
# CI step (called from .ci/run after the tests): the Windows installer, built on Linux and proven
# under Wine.  Installs what is missing (nsis, wine, mingw-w64's x86_64 gcc) with apt-get, builds the
# installer (build-on-linux.sh), runs smoke-wine.sh, then re-verifies on Linux, with the repository's
# own .venv, every draw record that the program wrote under Wine.
#
#   installer/windows/ci.sh [OUTDIR]       (default /tmp/dsj-windows-ci; root for apt-get)
#
# DSJ_WIN_REPRO=1 builds twice and requires byte-identical installers.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
out="${1:-/tmp/dsj-windows-ci}"
t0=$(date +%s)

missing=()
command -v makensis >/dev/null || missing+=(nsis)
command -v wine >/dev/null || missing+=(wine wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
if [ ${#missing[@]} -gt 0 ]; then
    echo "windows-ci: apt-get install ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
t_apt=$(( $(date +%s) - t0 ))

rm -rf "$out"
mkdir -p "$out"
t=$(date +%s)
installer/windows/build-on-linux.sh "$out/build"
t_build=$(( $(date +%s) - t ))
setup="$(ls "$out"/build/dsj-desktop-*-setup.exe)"
if [ "${DSJ_WIN_REPRO:-}" = 1 ]; then
    installer/windows/build-on-linux.sh "$out/build2"
    cmp "$setup" "$out/build2/$(basename "$setup")"
    echo "windows-ci: two builds gave the same installer"
fi

t=$(date +%s)
installer/windows/smoke-wine.sh "$setup" "$out/smoke"
t_smoke=$(( $(date +%s) - t ))

# The records made under Wine re-derive on Linux (DSJ-DRAW-1 verification: digests, seed, draw, signature;
# the signed PDFs with their attached records), and the archive's manifest matches its files.
t=$(date +%s)
mapfile -t records < <(find "$out/smoke/records" -regextype posix-extended \
    -regex '.*/S-[0-9]{4}-[0-9]{4}-[0-9A-Z]{4}\.(json|pdf)' | LC_ALL=C sort)
[ ${#records[@]} -ge 4 ] || { echo "windows-ci: too few records from Wine: ${records[*]}" >&2; exit 1; }
fingerprint="$(cat "$out/smoke/fingerprint.txt")"
for record in "${records[@]}"; do
    result="$(QT_QPA_PLATFORM=offscreen .venv/bin/dsj-desktop verify --fingerprint "$fingerprint" "$record")"
    grep -q "验证通过" <<<"$result" || { echo "$result"; echo "windows-ci: $record does not verify" >&2; exit 1; }
    echo "windows-ci: verified on Linux: ${record#"$out/smoke/records/"}"
done
.venv/bin/python - "$out/smoke/records/archive" <<'PY'
import hashlib, json, sys
from pathlib import Path
root = Path(sys.argv[1])
files = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["files"]
bad = [f["path"] for f in files if hashlib.sha256((root / f["path"]).read_bytes()).hexdigest() != f["sha256"]]
if bad or not files:
    sys.exit(f"windows-ci: archive manifest mismatch: {bad or 'no files'}")
print(f"windows-ci: archive manifest: {len(files)} files, SHA-256 all match")
PY
t_verify=$(( $(date +%s) - t ))
echo "windows-ci: apt ${t_apt} s, build ${t_build} s, Wine smoke ${t_smoke} s, Linux verify ${t_verify} s," \
    "all $(( $(date +%s) - t0 )) s; installer $(stat -c %s "$setup") bytes"
