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

The file holds two fixed-size slots, written in turn in place (no rename, no fsync: on ext4 a
rename over a file costs milliseconds per write); each slot carries a counter under the signature
and the reader takes the newest valid one, so a slot torn by a power cut leaves the other.
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


SLOT = 1024  # bytes per slot; a signed anchor takes about 400


def anchor_path(data_dir: Path) -> Path:
    return Path(data_dir) / ANCHOR_FILE


def _payload(head: Head, pending: Head | None, at: str, n: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "n": n,
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


def _parse_slot(data: bytes, public_key: bytes | None) -> tuple[int, Anchor] | None:
    """One slot: (its counter, the anchor); ``None`` when it is empty or torn. Raises
    :class:`AnchorError` when it reads as an anchor whose signature is not this key's."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        doc = json.loads(data.decode("utf-8").strip(" \n\x00"))
        signature = bytes.fromhex(doc.pop("signature"))
        n = int(doc["n"])
        head = _head(doc.get("head"))
        pending = _head(doc["pending"]) if doc.get("pending") is not None else None
    except (ValueError, KeyError, AttributeError, TypeError, UnicodeDecodeError, AnchorError):
        return None
    if doc.get("format") != FORMAT:
        return None
    if public_key is not None:
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _signed_bytes(doc))
        except (InvalidSignature, ValueError):
            raise AnchorError("锚定文件的签名无效（不是本局密钥签署的）") from None
    return n, Anchor(head, pending, str(doc.get("at", "")))


def parse(data: bytes, public_key: bytes | None) -> Anchor:
    """An anchor file's content (its newest valid slot), the signature verified with *public_key*."""
    slots = [_parse_slot(data[i : i + SLOT], public_key) for i in range(0, max(len(data), 1), SLOT)]
    valid = [x for x in slots if x is not None]
    if not valid:
        raise AnchorError("锚定文件已损坏")
    return max(valid, key=lambda x: x[0])[1]


def read(data_dir: Path, public_key: bytes | None) -> Anchor | None:
    """The data folder's anchor; ``None`` when there is none. Raises :class:`AnchorError`."""
    try:
        data = anchor_path(data_dir).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorError(f"无法读取锚定文件（{exc.strerror or exc}）") from None
    return parse(data, public_key)


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


def _write(data_dir: Path, head: Head, pending: Head | None, at: str, sign: Callable[[bytes], bytes]) -> None:
    """Write the next slot in place (see the module notes). If this fails, or power fails first, the
    file stays behind the journal, never ahead of it: reported as such, brought up to date next time."""
    path = anchor_path(data_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "r+b") as f:
        data = f.read(2 * SLOT)
        counters = []
        for i in (0, SLOT):
            with contextlib.suppress(AnchorError):
                found = _parse_slot(data[i : i + SLOT], None)
                if found is not None:
                    counters.append(found[0])
        n = max(counters, default=0) + 1
        payload = _payload(head, pending, at, n)
        doc = {**payload, "signature": sign(_signed_bytes(payload)).hex()}
        body = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
        if len(body) > SLOT:
            raise AnchorError("锚定内容过长")
        offset = (n % 2) * SLOT
        if len(data) < offset:  # the first slot of a new file: pad it
            f.seek(len(data))
            f.write(b" " * (offset - len(data)))
        f.seek(offset)
        f.write(body.ljust(SLOT, b" "))
    if os.name == "posix":
        os.chmod(path, 0o600)


def write_pending(data_dir: Path, head: Head, pending: Head, at: str, sign: Callable[[bytes], bytes]) -> None:
    """Before a COMMIT that makes *pending* the journal's head (the writer holds SQLite's write lock)."""
    with contextlib.suppress(OSError, AnchorError), _locked(data_dir):
        _write(data_dir, head, pending, at, sign)


def write_head(
    data_dir: Path, head: Head, at: str, sign: Callable[[bytes], bytes], public_key: bytes
) -> None:
    """After the COMMIT: *head* is the journal's head, unless another process has anchored a later one."""
    with contextlib.suppress(OSError, AnchorError), _locked(data_dir):
        try:
            current = read(data_dir, public_key)
        except AnchorError:
            current = None
        if current is not None and current.head.seq >= head.seq:
            return
        pending = current.pending if current and current.pending and current.pending.seq > head.seq else None
        _write(data_dir, head, pending, at, sign)


def write_now(data_dir: Path, head: Head, at: str, sign: Callable[[bytes], bytes]) -> None:
    """Set the anchor to *head* whatever it was, as a new file (a restore installs the restored head)."""
    with _locked(data_dir):
        anchor_path(data_dir).unlink(missing_ok=True)
        _write(data_dir, head, None, at, sign)


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


def store_key(url: str | None) -> str:
    """A name for the database a data folder's anchor witnesses: ``file`` (its SQLite file) or a
    server's URL (given without password) as a short digest."""
    if not url:
        return "file"
    import hashlib

    return hashlib.sha256(url.encode()).hexdigest()[:16]


def parked_path(data_dir: Path, key: str) -> Path:
    return Path(data_dir) / f"journal-anchor.{key}.json"


def switch_store(data_dir: Path, old: str, new: str) -> None:
    """A data folder switched from the database *old* to *new* (:func:`store_key`), as the GUI's
    连接单位服务器 / 断开服务器 do: the anchor of *old* is put aside (signed, unchanged) and the one
    *new* left there earlier comes back, so each database is compared only with its own anchor."""
    if old == new:
        return
    with _locked(data_dir):
        current = anchor_path(data_dir)
        if current.exists():
            os.replace(current, parked_path(data_dir, old))
        back = parked_path(data_dir, new)
        if back.exists():
            os.replace(back, current)
