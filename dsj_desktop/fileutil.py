"""Writing files so that an interruption never leaves half a file behind."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from dsj_desktop.errors import UserError


def _write_temp(tmp: Path, data: bytes, mode: int) -> None:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if os.name == "posix":
        os.chmod(tmp, mode)  # os.open applied the umask; make the mode exact


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.part")


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write *data* to *path* via a temporary file in the same folder and an atomic replace.

    Raises :class:`UserError` with a Chinese message when the file cannot be written (for example
    because a PDF viewer on Windows keeps it open).
    """
    tmp = _temp_name(path)
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        _write_temp(tmp, data, mode)
        os.replace(tmp, path)
    except PermissionError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise UserError(f"无法写入“{path}”：文件可能正在被其他程序打开，请关闭后重试。") from None
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise UserError(f"无法写入“{path}”：{exc.strerror or exc}") from None


def write_new_file(path: Path, data: bytes, *, mode: int = 0o600) -> bool:
    """Create *path* with *data* atomically, never replacing an existing file.

    Returns ``True`` if this call created the file and ``False`` if it already existed (possibly
    created a moment ago by another process). The content appears all at once: it is written to a
    temporary file first and then hard-linked into place (``os.link`` fails if the target exists).
    File systems without hard links fall back to an existence check plus ``os.replace``.
    Raises :class:`UserError` when the file cannot be written.
    """
    if path.exists():
        return False
    tmp = _temp_name(path)
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        _write_temp(tmp, data, mode)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            # No hard links here (FAT, some network shares): best effort.
            if path.exists():
                return False
            os.replace(tmp, path)
        return True
    except OSError as exc:
        raise UserError(f"无法写入“{path}”：{exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
