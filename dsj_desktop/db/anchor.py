"""The journal's head anchored outside the database: ``journal-anchor.json`` in the data folder.

The journal is a hash chain inside the database; on its own a chain cannot show that its last
entries were cut off. So after every write the program signs the head (the last entry's number
and hash) with the bureau's record key and keeps it in this file. ``check`` compares the file with
the journal: a cut tail, a rewritten entry, a missing file or one that is behind the journal is
named. The same head goes into every backup's and archive's manifest.

Each write transaction writes the file twice: before its COMMIT with the new head as *pending*,
after it with the new head as *head*. Whatever moment a crash strikes, the journal's head is then
either the file's head or its pending head: an interrupted write never looks like tampering,
while cutting even the last entry of a finished write does.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ANCHOR_FILE = "journal-anchor.json"
FORMAT = "DSJ-ANCHOR-1"
LOCK_FILE = ".journal-anchor.lock"


@dataclass(frozen=True)
class Head:
    seq: int  # the last journal entry's id (0: empty journal)
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}


@dataclass(frozen=True)
class Anchor:
    head: Head
    pending: Head | None
    at: str


class AnchorError(Exception):
    """The anchor file exists but cannot be trusted (damaged, or not signed with this key)."""


def anchor_path(data_dir: Path) -> Path:
    return Path(data_dir) / ANCHOR_FILE


def _payload(head: Head, pending: Head | None, at: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "head": head.as_dict(),
        "pending": pending.as_dict() if pending else None,
        "at": at,
    }


def _signed_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _head(value: Any) -> Head:
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("seq"), int)
        or not isinstance(value.get("hash"), str)
    ):
        raise AnchorError("锚定文件格式不对")
    return Head(int(value["seq"]), str(value["hash"]))


def parse(data: bytes, public_key: bytes | None) -> Anchor:
    """An anchor file's content, its signature verified with *public_key*."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        doc = json.loads(data.decode("utf-8"))
        signature = bytes.fromhex(doc.pop("signature"))
    except (ValueError, KeyError, AttributeError, TypeError, UnicodeDecodeError):
        raise AnchorError("锚定文件已损坏") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise AnchorError("锚定文件格式不对")
    head = _head(doc.get("head"))
    pending = _head(doc["pending"]) if doc.get("pending") is not None else None
    if public_key is not None:
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _signed_bytes(doc))
        except (InvalidSignature, ValueError):
            raise AnchorError("锚定文件的签名无效（不是本局密钥签署的）") from None
    return Anchor(head, pending, str(doc.get("at", "")))


def read(data_dir: Path, public_key: bytes | None) -> Anchor | None:
    """The data folder's anchor; ``None`` when there is none. Raises :class:`AnchorError`."""
    try:
        data = anchor_path(data_dir).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorError(f"无法读取锚定文件（{exc.strerror or exc}）") from None
    return parse(data, public_key)


def render(head: Head, pending: Head | None, at: str, sign: Callable[[bytes], bytes]) -> bytes:
    payload = _payload(head, pending, at)
    doc = {**payload, "signature": sign(_signed_bytes(payload)).hex()}
    return (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """Serialise the read-and-replace of the file between processes (the GUI and a command)."""
    path = Path(data_dir) / LOCK_FILE
    f: IO[bytes] = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600), "r+b")
    try:
        if sys.platform == "win32":
            import msvcrt

            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        f.close()  # closing releases the lock


def _write(data_dir: Path, data: bytes) -> None:
    """Replace the file atomically (temporary file, then rename). Not fsynced: SQLite makes the
    database durable; if power fails before the file reaches the disk, the anchor is merely behind
    the journal (reported as such, and brought up to date by the next write), never ahead of it.
    A file that cannot be written (locked by a virus scanner) is left behind the same way."""
    path = anchor_path(data_dir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if os.name == "posix":
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_pending(data_dir: Path, head: Head, pending: Head, at: str, sign: Callable[[bytes], bytes]) -> None:
    """Before a COMMIT that makes *pending* the journal's head (the writer holds SQLite's write lock)."""
    with contextlib.suppress(OSError), _locked(data_dir):  # no lock: the anchor stays behind (see _write)
        _write(data_dir, render(head, pending, at, sign))


def write_head(
    data_dir: Path, head: Head, at: str, sign: Callable[[bytes], bytes], public_key: bytes
) -> None:
    """After the COMMIT: *head* is the journal's head, unless another process has anchored a later one."""
    with contextlib.suppress(OSError), _locked(data_dir):
        try:
            current = read(data_dir, public_key)
        except AnchorError:
            current = None
        if current is not None and current.head.seq >= head.seq:
            return
        pending = current.pending if current and current.pending and current.pending.seq > head.seq else None
        _write(data_dir, render(head, pending, at, sign))


def write_now(data_dir: Path, head: Head, at: str, sign: Callable[[bytes], bytes]) -> None:
    """Set the anchor to *head* whatever it was (a restore installs the restored file's head)."""
    with _locked(data_dir):
        _write(data_dir, render(head, None, at, sign))


def compare(anchor: Anchor, head: Head, hash_of: Callable[[int], str | None]) -> tuple[str, str] | None:
    """How the journal (its *head*; *hash_of(n)* gives entry n's hash) stands against *anchor*:
    ``None`` when they agree, else (kind, Chinese text) with kind "cut", "rewritten" or "stale"."""
    for h in (anchor.head, anchor.pending):
        if h is not None and h == head:
            return None
    a = anchor.head
    if a.seq > head.seq:
        return "cut", (
            f"锚定文件记载操作日志已有 {a.seq} 条（最后一条哈希 {a.hash[:16]}…），数据库中只有 {head.seq} 条："
            f"第 {head.seq + 1}–{a.seq} 条被删除了"
        )
    if a.seq > 0 and hash_of(a.seq) != a.hash:
        return (
            "rewritten",
            f"锚定文件记载的第 {a.seq} 条日志（哈希 {a.hash[:16]}…）与数据库中的不符：操作日志被改写过",
        )
    return "stale", (
        f"锚定文件只记到第 {a.seq} 条，操作日志已有 {head.seq} 条：锚定文件被换成了旧的，或上次写入后未能更新"
    )
