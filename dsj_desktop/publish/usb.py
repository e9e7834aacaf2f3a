"""Where to export: removable drives first (U 盘、移动硬盘), then the usual folders.

The mounted volumes come from the caller (the GUI reads them with ``QStorageInfo``), so this stays
Qt-free and testable: on Linux a volume is removable when it is mounted under ``/media/<user>``
or ``/run/media/<user>`` (where udisks mounts USB drives); on Windows when ``GetDriveTypeW``
says ``DRIVE_REMOVABLE``; on macOS when it is under ``/Volumes``.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DRIVE_REMOVABLE = 2  # GetDriveTypeW


@dataclass(frozen=True)
class Volume:
    """A mounted file system as the GUI sees it."""

    root: str
    name: str = ""
    ready: bool = True
    read_only: bool = False
    bytes_free: int = -1


@dataclass(frozen=True)
class Destination:
    path: Path
    title: str
    removable: bool
    bytes_free: int = -1

    @property
    def label(self) -> str:
        free = f"，可用 {self.bytes_free / 1024**3:.1f} GB" if self.bytes_free >= 0 else ""
        kind = "U盘/移动磁盘" if self.removable else "本机文件夹"
        return f"{self.title}（{kind}{free}）　{self.path}"


def windows_drive_type(root: str) -> int:
    """``GetDriveTypeW`` for a drive root such as ``E:\\`` (0 elsewhere than on Windows)."""
    if sys.platform == "win32":
        import ctypes

        return int(ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root)))
    return 0


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or password database
        return os.environ.get("USER", "")


def is_removable(
    volume: Volume,
    *,
    platform: str | None = None,
    user: str | None = None,
    drive_type: Callable[[str], int] | None = None,
) -> bool:
    platform = platform or sys.platform
    root = volume.root.replace("\\", "/").rstrip("/")
    if platform == "win32":
        return (drive_type or windows_drive_type)(volume.root) == DRIVE_REMOVABLE
    if platform == "darwin":
        return root.startswith("/Volumes/")
    user = _user() if user is None else user
    # udisks mounts under /media/<user> (Debian, UOS, Kylin) or /run/media/<user> (Fedora and
    # others); some systems mount directly under /media.
    prefixes = ["/media/", *([f"/run/media/{user}/"] if user else [])]
    return any(root.startswith(p) and len(root) > len(p) for p in prefixes)


def linux_media_dirs(user: str, roots: Sequence[Path] = (Path("/media"), Path("/run/media"))) -> list[Path]:
    """Mounted drives found by listing ``/media/<user>`` and ``/run/media/<user>``."""
    found: list[Path] = []
    for root in roots:
        base = root / user
        try:
            entries = sorted(p for p in base.iterdir() if p.is_dir())
        except OSError:
            continue
        found.extend(entries)
    return found


def destinations(
    volumes: Iterable[Volume],
    *,
    platform: str | None = None,
    user: str | None = None,
    home: Path | None = None,
    drive_type: Callable[[str], int] | None = None,
    media_roots: Sequence[Path] = (Path("/media"), Path("/run/media")),
) -> list[Destination]:
    """Removable drives first (ready and writable ones), then 桌面, 文档 and the home folder."""
    platform = platform or sys.platform
    user = _user() if user is None else user
    home = Path.home() if home is None else home
    out: list[Destination] = []
    seen: set[str] = set()

    def add(d: Destination) -> None:
        key = os.path.normcase(str(d.path))
        if key not in seen:
            seen.add(key)
            out.append(d)

    for v in volumes:
        if (
            v.ready
            and not v.read_only
            and is_removable(v, platform=platform, user=user, drive_type=drive_type)
        ):
            add(Destination(Path(v.root), v.name or Path(v.root).name or v.root, True, v.bytes_free))
    if platform not in ("win32", "darwin") and user:
        for p in linux_media_dirs(user, media_roots):
            add(Destination(p, p.name, True))
    for title, path in (("桌面", home / "Desktop"), ("桌面", home / "桌面"), ("文档", home / "Documents"),
                        ("文档", home / "文档"), ("个人文件夹", home)):  # fmt: skip
        if path.is_dir():
            add(Destination(path, title, False))
    return out
