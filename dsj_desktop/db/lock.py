"""One program window per data folder, and a trace of operations that a crash interrupted."""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from dsj_desktop.clock import now_iso
from dsj_desktop.errors import DatabaseError

LOCK_NAME = ".dsj-desktop.lock"
MARKER_GLOB = "operation-*.json"
_held: dict[Path, tuple[IO[bytes], int]] = {}
_markers = itertools.count(1)


def _try_lock(f: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def acquire(data_dir: Path) -> None:
    """Hold the data folder for this process; a second copy of the program is told it is in use.
    Re-entrant within one process (the lock is the operating system's: a crash releases it)."""
    key = data_dir.resolve()
    if key in _held:
        f, n = _held[key]
        _held[key] = (f, n + 1)
        return
    key.mkdir(parents=True, exist_ok=True)
    f = (key / LOCK_NAME).open("a+b")
    if not _try_lock(f):
        f.seek(0)
        owner = f.read().decode("utf-8", "replace").strip()
        f.close()
        raise DatabaseError(
            f"数据文件夹“{key}”正被另一个已打开的本程序使用{f'（{owner}）' if owner else ''}。"
            "为防止数据损坏，请先关闭另一个窗口，或在另一个窗口中继续工作。"
        )
    f.seek(0)
    f.truncate()
    f.write(f"进程 {os.getpid()}，{now_iso()} 起".encode())
    f.flush()
    _held[key] = (f, 1)


def release(data_dir: Path) -> None:
    key = data_dir.resolve()
    if key not in _held:
        return
    f, n = _held[key]
    if n > 1:
        _held[key] = (f, n - 1)
        return
    del _held[key]
    f.close()


class Held(Protocol):
    """Something held until closed (an open locked file, a server-side lock)."""

    def close(self) -> None: ...


def hold(path: Path) -> IO[bytes] | None:
    """An exclusive operating-system lock on *path*, held while the returned file stays open (a crash
    releases it); None when another process holds it or the file cannot be made. The file holds
    nothing but the lock."""
    try:
        f = path.open("a+b")
    except OSError:
        return None
    if not _try_lock(f):
        f.close()
        return None
    return f


def held_elsewhere(path: Path) -> bool:
    """Whether a running process holds *path* (see :func:`hold`); this process must not hold it."""
    if not path.exists():
        return False
    f = hold(path)
    if f is None:
        return True
    f.close()
    return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)
            return True
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def operation(data_dir: Path, action: str) -> Iterator[None]:
    """A marker for the duration of one operation. If the process dies before the end (killed,
    power cut), the next start finds it and says what was interrupted."""
    path = data_dir / f"operation-{os.getpid()}-{next(_markers)}.json"
    try:
        path.write_text(json.dumps({"action": action, "started": now_iso(), "pid": os.getpid()},
                                   ensure_ascii=False), encoding="utf-8")  # fmt: skip
    except OSError:
        path = None  # type: ignore[assignment]  # a read-only folder: the operation still runs
    try:
        yield
    finally:
        if path is not None:
            path.unlink(missing_ok=True)


def interrupted(data_dir: Path) -> list[str]:
    """Messages for operations a crash interrupted (their markers are then removed)."""
    out: list[str] = []
    for marker in sorted(data_dir.glob(MARKER_GLOB)):
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
            pid = int(info.get("pid", 0))
        except (OSError, ValueError):
            marker.unlink(missing_ok=True)
            continue
        if _alive(pid):
            continue
        text = (
            f"上次的操作“{info.get('action', '')}”没有完成（{str(info.get('started', ''))[:19].replace('T', ' ')} "
            "开始；程序被关闭或断电）。数据库保持在这项操作之前的状态，没有留下半截数据；如有需要请重新操作。"
        )
        if text not in out:  # an operation and its transaction may both have left a marker
            out.append(text)
        marker.unlink(missing_ok=True)
    return out
