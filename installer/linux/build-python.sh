#!/usr/bin/env bash
# Runs INSIDE the bullseye build root (called by installer/build-linux.sh):
#   build-python.sh WORKDIR PREFIX PY_ORIG PY_DEBIAN SQLITE_ORIG SQLITE_DEBIAN
# Builds SQLite, then CPython, from Debian's source packages: the upstream tarballs plus the bug and
# security fixes of Debian's patch series (not Debian's own build and file-layout patches),
# --enable-shared, installed to PREFIX with an rpath, libm references pinned to glibc 2.28 (see
# glibc-2.28-compat.h).
set -euo pipefail
work=$1 prefix=$2 orig=$3 debian=$4 sqlite_orig=$5 sqlite_debian=$6
compat="-include $prefix/share/dsj/glibc-2.28-compat.h"
mkdir -p "$prefix/share/dsj"
cp "$work/glibc-2.28-compat.h" "$prefix/share/dsj/"
cd "$work"

# ------------------------------------------------------------------------------------------- SQLite
mkdir sqlite-debian
tar -xJf "$sqlite_orig"
tar -xJf "$sqlite_debian" -C sqlite-debian debian/patches
sqlite_src=$(echo "$work"/sqlite3-*/)
# Debian's fixes to SQLite itself (41-...) and its CVE patches (5x-CVE-...); the others adapt the build.
for p in $(grep -E '^(4[1-9]|[5-9][0-9])-' sqlite-debian/debian/patches/series); do
    patch -d "$sqlite_src" -p1 --forward --quiet <"sqlite-debian/debian/patches/$p"
done
(
    cd "$sqlite_src"
    # Python's recommended features plus most of Debian's build options.
    ./configure --prefix="$prefix" --enable-shared --disable-static --disable-tcl --enable-fts5 \
        CFLAGS="-O2 $compat -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_RTREE=1 \
-DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_SECURE_DELETE -DSQLITE_ENABLE_UNLOCK_NOTIFY \
-DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_THREADSAFE=1 -DSQLITE_USE_URI=1 \
-DSQLITE_MAX_SCHEMA_RETRY=25 -DSQLITE_ENABLE_STMTVTAB -DSQLITE_LIKE_DOESNT_MATCH_BLOBS" \
        >configure.log
    make -j"$(nproc)" >make.log 2>&1 || { tail -40 make.log; exit 1; }
    make install >install.log 2>&1 || { tail -40 install.log; exit 1; }
)
echo "SQLite: $("$prefix/bin/sqlite3" --version | cut -d' ' -f1)"

# ------------------------------------------------------------------------------------------ CPython
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

cd "$src"
# ac_cv_func_sem_clockwait=no: sem_clockwait is glibc 2.30; CPython falls back to sem_timedwait.
# LIBSQLITE3_*: the SQLite built above, not the system's.
./configure --prefix="$prefix" --enable-shared --with-ensurepip=install \
    CFLAGS="-O2 $compat" \
    LDFLAGS="-Wl,-rpath,$prefix/lib" \
    LIBSQLITE3_CFLAGS="-I$prefix/include" LIBSQLITE3_LIBS="-L$prefix/lib -lsqlite3" \
    ac_cv_func_sem_clockwait=no >configure.log
make -j"$(nproc)" >make.log 2>&1 || { tail -50 make.log; exit 1; }
make install >install.log 2>&1 || { tail -50 install.log; exit 1; }
grep -A20 'The necessary bits to build these optional modules were not found' make.log || true
"$prefix/bin/python3.11" -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, decimal, hashlib, _ssl; print(ssl.OPENSSL_VERSION, "sqlite", sqlite3.sqlite_version)'
for lib in "$prefix"/lib/libpython3.11.so.1.0 "$prefix"/lib/libsqlite3.so.0; do
    echo "highest GLIBC_ version needed by ${lib##*/}:" \
        "$(objdump -T "$lib" | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sort -uV | sed -n '$p')"
done
