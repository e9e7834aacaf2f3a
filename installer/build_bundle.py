"""Build the PyInstaller one-folder bundle of dsj-desktop and describe it.

    python installer/build_bundle.py [--dist DIR] [--work DIR] [--max-glibc 2.28]

Runs PyInstaller with installer/dsj-desktop.spec using *this* Python (the host venv for the quick build
the tests make, the bullseye root's venv for the release build of installer/build-linux.sh, the
Windows venv for installer/build-windows.ps1), then on Linux scans every ELF file of the bundle for
the highest GLIBC_x.y symbol version it needs and writes BUILDINFO.txt into the bundle.

Standard library only, so it runs before anything else is installed.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata as md
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SPEC = HERE / "dsj-desktop.spec"
APP = "dsj-desktop"
# UOS 20 and Kylin V10 ship glibc 2.28: the release build must not need more.
TARGET_GLIBC = "2.28"


def app_version() -> str:
    text = (REPO / "dsj_desktop" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.M)
    if not m:
        raise SystemExit("build_bundle.py: no __version__ in dsj_desktop/__init__.py")
    return m.group(1)


def vtuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


# ------------------------------------------------------------------------------------------ glibc scan
@dataclass
class ElfNeeds:
    """Symbol versions one ELF file needs, by name (GLIBC_2.17, GLIBCXX_3.4.21, ...)."""

    path: Path
    versions: set[str] = field(default_factory=set)

    def highest(self, prefix: str) -> str | None:
        found = [v[len(prefix) :] for v in self.versions if re.fullmatch(re.escape(prefix) + r"[\d.]+", v)]
        return max(found, key=vtuple) if found else None


@dataclass
class GlibcReport:
    files: list[ElfNeeds]
    highest: str | None  # e.g. "2.28"
    needing_highest: list[Path]
    symbols: dict[Path, list[str]]  # for the files needing the highest version: which symbols
    glibcxx: str | None  # highest GLIBCXX_ (libstdc++) version needed
    bundled_libstdcxx: bool

    def summary(self, root: Path) -> str:
        lines = [f"highest GLIBC symbol version needed: {self.highest}"]
        for p in self.needing_highest:
            syms = ", ".join(self.symbols.get(p, [])[:8])
            lines.append(f"  needed by {p.relative_to(root)}: {syms}")
        lines.append(
            f"highest GLIBCXX version needed: {self.glibcxx} "
            f"(libstdc++ {'bundled' if self.bundled_libstdcxx else 'from the system'})"
        )
        return "\n".join(lines)


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def version_needs(path: Path) -> set[str]:
    """The names in the ELF file's version-needs section (.gnu.version_r), via readelf."""
    out = subprocess.run(
        ["readelf", "-V", "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout
    names: set[str] = set()
    in_needs = False
    for line in out.splitlines():
        if line.startswith("Version needs section"):
            in_needs = True
        elif line.startswith("Version ") and "section" in line:
            in_needs = False
        elif in_needs:
            m = re.search(r"Name:\s*(\S+)", line)
            if m:
                names.add(m.group(1))
    return names


def undefined_symbols_with(path: Path, version: str) -> list[str]:
    """Undefined dynamic symbols of the file bound to the given version (objdump -T)."""
    out = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        tokens = line.split()
        if "*UND*" in tokens and (version in tokens or f"({version})" in tokens):
            syms.add(tokens[-1])
    return sorted(syms)


def scan_glibc(bundle: Path) -> GlibcReport:
    files = [ElfNeeds(p, version_needs(p)) for p in sorted(bundle.rglob("*")) if p.is_file() and is_elf(p)]
    highest = None
    for f in files:
        h = f.highest("GLIBC_")
        if h and (highest is None or vtuple(h) > vtuple(highest)):
            highest = h
    needing = [f.path for f in files if highest and f.highest("GLIBC_") == highest]
    symbols = {p: undefined_symbols_with(p, f"GLIBC_{highest}") for p in needing}
    cxx = [h for f in files if (h := f.highest("GLIBCXX_"))]
    return GlibcReport(
        files=files,
        highest=highest,
        needing_highest=needing,
        symbols=symbols,
        glibcxx=max(cxx, key=vtuple) if cxx else None,
        bundled_libstdcxx=any(p.name.startswith("libstdc++.so") for p in bundle.rglob("libstdc++.so*")),
    )


# ---------------------------------------------------------------------------------------- the build
def windows_version_file(path: Path, version: str) -> None:
    """The VERSIONINFO resource of the Windows executables (File properties > Details)."""
    nums = [*vtuple(re.sub(r"[^\d.].*$", "", version) or "0"), 0, 0, 0, 0][:4]
    path.write_text(
        f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={tuple(nums)}, prodvers={tuple(nums)}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('080404b0', [
      StringStruct('CompanyName', ''),
      StringStruct('FileDescription', '双随机一公开抽查工作台'),
      StringStruct('FileVersion', '{version}'),
      StringStruct('InternalName', 'dsj-desktop'),
      StringStruct('OriginalFilename', 'dsj-desktop.exe'),
      StringStruct('ProductName', '双随机一公开抽查工作台'),
      StringStruct('ProductVersion', '{version}')])]),
    VarFileInfo([VarStruct('Translation', [2052, 1200])])
  ]
)
""",
        encoding="utf-8",
    )


def run_pyinstaller(dist: Path, work: Path, *, quiet: bool = False) -> Path:
    """Run PyInstaller on the spec with this interpreter; returns the bundle folder."""
    work.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        version_file = work / "version-info.txt"
        windows_version_file(version_file, app_version())
        os.environ["DSJ_VERSION_FILE"] = str(version_file)
    cmd = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
        "--distpath", str(dist), "--workpath", str(work),
        "--log-level", "WARN" if quiet else "INFO",
        str(SPEC),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, cwd=REPO)
    bundle = dist / APP
    exe = bundle / (APP + (".exe" if sys.platform == "win32" else ""))
    if not exe.is_file():
        raise SystemExit(f"build_bundle.py: PyInstaller made no {exe}")
    return bundle


def tree_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def dist_versions() -> list[str]:
    seen = {}
    for d in md.distributions():
        name = d.metadata["Name"]
        if name:
            seen[name.lower()] = f"{name}=={d.version}"
    return [seen[k] for k in sorted(seen)]


def write_buildinfo(bundle: Path, report: GlibcReport | None, seconds: float) -> Path:
    size, count = tree_size(bundle)
    try:
        pyside = md.version("PySide6-Essentials")
    except md.PackageNotFoundError:
        pyside = "?"
    lines = [
        f"program: {APP} {app_version()}",
        f"commit: {os.environ.get('DSJ_COMMIT') or git_commit()}",
        f"built: {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"build environment: {os.environ.get('DSJ_BUILD_ENV') or platform.platform()}",
        f"python: {platform.python_version()} ({platform.python_implementation()}, {platform.machine()})",
        f"pyinstaller: {md.version('pyinstaller')}",
        f"pyside6-essentials: {pyside}",
        f"bundle size: {size / 1e6:.1f} MB in {count} files",
        f"pyinstaller time: {seconds:.0f} s",
    ]
    if report is not None:
        lines += [
            f"glibc-required: {report.highest}",
            *(
                f"glibc-required-by: {p.relative_to(bundle)}: {' '.join(report.symbols.get(p, [])[:12])}"
                for p in report.needing_highest
            ),
            f"glibcxx-required: {report.glibcxx} (libstdc++ "
            f"{'bundled' if report.bundled_libstdcxx else 'from the system'})",
        ]
    lines += ["", "python packages in the build environment:", *(f"  {d}" for d in dist_versions())]
    path = bundle / "BUILDINFO.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def build(dist: Path, work: Path, *, quiet: bool = False, max_glibc: str | None = None) -> Path:
    """Build the bundle into dist/dsj-desktop, scan it (Linux), write BUILDINFO.txt; return the folder."""
    t0 = time.monotonic()
    bundle = run_pyinstaller(dist, work, quiet=quiet)
    seconds = time.monotonic() - t0
    report = scan_glibc(bundle) if sys.platform.startswith("linux") else None
    write_buildinfo(bundle, report, seconds)
    if report is not None:
        print(report.summary(bundle))
        if max_glibc and report.highest and vtuple(report.highest) > vtuple(max_glibc):
            raise SystemExit(
                f"build_bundle.py: the bundle needs glibc {report.highest}, more than the target {max_glibc} "
                f"(UOS 20 / Kylin V10); see BUILDINFO.txt for the files"
            )
    return bundle


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dist", type=Path, default=REPO / "dist", help="output folder (default: dist/)")
    p.add_argument(
        "--work", type=Path, default=REPO / "build", help="PyInstaller work folder (default: build/)"
    )
    p.add_argument("--quiet", action="store_true", help="only PyInstaller's warnings")
    p.add_argument(
        "--max-glibc",
        metavar="X.Y",
        help=f"fail if the bundle needs a newer glibc (the release build uses {TARGET_GLIBC})",
    )
    p.add_argument("--scan-only", type=Path, metavar="BUNDLE", help="only scan an existing bundle folder")
    args = p.parse_args(argv)
    if args.scan_only:
        print(scan_glibc(args.scan_only).summary(args.scan_only))
        return 0
    bundle = build(args.dist.resolve(), args.work.resolve(), quiet=args.quiet, max_glibc=args.max_glibc)
    print(f"bundle: {bundle}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
