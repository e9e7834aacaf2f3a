#!/usr/bin/env bash
# Runs INSIDE the bullseye build root (called by installer/build-linux.sh):
#   build-python.sh WORKDIR ORIG_TARBALL DEBIAN_TARBALL PREFIX
# Builds CPython from Debian's python3.11 source package: the upstream tarball plus the bug and
# security fixes of Debian's patch series (not Debian's own file-layout patches), --enable-shared,
# installed to PREFIX with an rpath, libm references pinned to glibc 2.28 (see glibc-2.28-compat.h).
set -euo pipefail
work=$1 orig=$2 debian=$3 prefix=$4
cd "$work"
tar -xzf "$orig"
tar -xJf "$debian" debian/patches
src=$(echo "$work"/Python-*/)

# Debian's series starts with its own layout changes (dist-packages, multiarch, deb-locations, ...);
# the upstream bug fixes and CVE patches follow, beginning with shutdown-deadlock.diff.
sed -n '/^shutdown-deadlock\.diff$/,$p' debian/patches/series | grep -v '^#' | grep . >fixes.series
[[ -s fixes.series ]] || { echo "build-python.sh: Debian's patch series changed shape" >&2; exit 1; }
echo "applying $(wc -l <fixes.series) patches from Debian's python3.11 package"
while read -r patch_name; do
    patch -d "$src" -p1 --forward --quiet <"debian/patches/$patch_name"
done <fixes.series
# Debian builds pyexpat into the interpreter (its setup-modules.diff); CVE-2026-4224.patch relies on that by
# including an internal header.  Built as a shared module here, it needs Py_BUILD_CORE_MODULE.
if grep -q '^#include "pycore_' "$src/Modules/pyexpat.c" && ! grep -q Py_BUILD_CORE_MODULE "$src/Modules/pyexpat.c"; then
    sed -i '1i #ifndef Py_BUILD_CORE_BUILTIN\n#  define Py_BUILD_CORE_MODULE 1\n#endif' "$src/Modules/pyexpat.c"
fi

mkdir -p "$prefix/share/dsj"
cp "$work/glibc-2.28-compat.h" "$prefix/share/dsj/"
cd "$src"
# ac_cv_func_sem_clockwait=no: sem_clockwait is glibc 2.30; CPython falls back to sem_timedwait.
./configure --prefix="$prefix" --enable-shared --with-ensurepip=install \
    CFLAGS="-O2 -include $prefix/share/dsj/glibc-2.28-compat.h" \
    LDFLAGS="-Wl,-rpath,$prefix/lib" \
    ac_cv_func_sem_clockwait=no >configure.log
make -j"$(nproc)" >make.log 2>&1 || { tail -50 make.log; exit 1; }
make install >install.log 2>&1 || { tail -50 install.log; exit 1; }
grep -A20 'The necessary bits to build these optional modules were not found' make.log || true
"$prefix/bin/python3.11" -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, decimal, hashlib, _ssl; print(ssl.OPENSSL_VERSION, "sqlite", sqlite3.sqlite_version)'
echo "highest GLIBC_ symbol version needed by libpython:"
objdump -T "$prefix"/lib/libpython3.11.so.1.0 | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sort -uV | tail -1
