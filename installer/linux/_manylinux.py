"""PEP 600 override, copied into the build venv's site-packages by build-in-root.sh.

pip asks this module which manylinux wheels the interpreter may use.  The build root has glibc 2.31,
but the bundle must run on glibc 2.28 (UOS 20, Kylin V10): accept manylinux wheels up to 2.28 only, so
pip takes an older wheel (or builds from source in the root) instead of a manylinux_2_31 one.
"""

MAX_GLIBC = (2, 28)


def manylinux_compatible(tag_major: int, tag_minor: int, tag_arch: str) -> bool:
    return (tag_major, tag_minor) <= MAX_GLIBC
