"""Backups: automatic rolling copies (on start, before upgrades and bulk imports, daily — each only
when the data changed since the last one), manual copies to a chosen folder (a USB stick; an
administrator's job, the bureau's keys go with them), and restore — each copy made with SQLite's
online backup API, readable by its owner only, verified (it opens, passes integrity_check, its
journal chain holds) before it counts, with a signed manifest beside it naming the journal's head.

A restore checks the candidate completely before it touches anything — this program's file, a
schema version it knows, and the full integrity check (seals, row counts, journal chain, signatures,
the head its manifest names) run on a copy in a temporary folder — then keeps the current data as a
safety copy that rotation never removes.

On a PostgreSQL server (``db.url``) the copies are pg_dump archives (``.pgdump``) and each check runs
on the dump restored into a temporary database on the same server (:mod:`dsj_desktop.db.pg_backup`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dsj_desktop.clock import now_iso
from dsj_desktop.db import anchor, pg, pg_backup, server_keys
from dsj_desktop.db.engine import APPLICATION_ID, SQLITE_MAGIC, Database, open_database, private_file
from dsj_desktop.db.migrations import GUARDED_FROM, SCHEMA_VERSION
from dsj_desktop.errors import DatabaseError, PermissionDenied, UserError
from dsj_desktop.keys import RECORD_KEY_FILE, KeyStore
from dsj_desktop.paths import DB_FILENAME, backups_dir, database_path
from dsj_desktop.progress import run_job
from dsj_desktop.services import integrity, settings

KEEP_SETTING = "backup_keep"
DEFAULT_KEEP = 10
AUTO_PREFIX = "auto-"
SAFETY_PREFIX = "safety-"  # the data replaced by a restore: never rotated away
SUFFIX = ".sqlite3"
PG_SUFFIX = ".pgdump"  # a PostgreSQL server's backups: pg_dump's custom format
MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = "DSJ-BACKUP-1"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    made: str  # from the file name or its time
    schema_version: int
    counts: dict[str, int]
    last_entry: str  # the last journal entry: time and action
    journal_entries: int
    problems: list[str]
    keys: Path | None = None  # the bureau keys saved beside the backup, when the file was signed with them

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [
            f"备份文件：{self.path.name}（{self.size / 1e6:.1f} MB，{self.made}）",
            f"数据库版本：{self.schema_version}",
            "内容：" + "，".join(f"{k} {v:,}" for k, v in self.counts.items()),
            f"操作日志：{self.journal_entries:,} 条；最后一条：{self.last_entry or '（无）'}",
        ]
        lines.append("校验：通过" if self.ok else "校验：不通过 —— " + "；".join(self.problems))
        if self.keys is not None:
            lines.append(f"签名密钥：来自备份旁的“{self.keys.name}”（与本机现有密钥不同，恢复时一并恢复）")
        return "\n".join(lines)


_COUNTED = {
    "target": "检查对象", "inspector": "执法人员", "expert": "专家", "item": "抽查事项", "task": "抽查任务",
    "draw_session": "抽取场次",
}  # fmt: skip


def current_counts(db: Database) -> dict[str, int]:
    """The live data counted the way :func:`inspect` counts a backup (for the restore preview)."""
    with db.read() as conn:
        return {
            title: int(conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar() or 0)
            for table, title in _COUNTED.items()
        }


def backup_suffix(db: Database) -> str:
    return PG_SUFFIX if db.on_server else SUFFIX


_DUMP_FACTS: dict[tuple[str, bytes | None], dict[str, Any]] = {}


def _dump_facts(path: Path, server: str | None, public_key: bytes | None) -> dict[str, Any]:
    """What a pg_dump archive holds, read from it restored into a temporary database (cached by its
    SHA-256: a backup is checked several times while it is made)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    key = (digest, public_key)
    if key in _DUMP_FACTS:
        return _DUMP_FACTS[key]
    if server is None:
        raise UserError(
            "这是 PostgreSQL 服务器的备份：请先连接单位的数据库服务器（--database）再核对或恢复。"
        )
    with pg_backup.scratch_copy(server, path) as url, pg.connect(url) as con:
        tables = {
            r[0] for r in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        }
        if "dsj_meta" not in tables or "journal" not in tables:
            raise UserError("不是本程序的数据库备份")
        row = con.execute("SELECT value FROM dsj_meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        counts = {
            title: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t, title in _COUNTED.items()
            if t in tables
        }
        rows = con.execute(
            "SELECT id, at, actor, action, detail, prev_hash, hash, signature FROM journal ORDER BY id"
        ).fetchall()
    last = rows[-1] if rows else None
    facts = {
        "sha256": digest, "bytes": len(data), "schema_version": version, "counts": counts,
        "entries": len(rows), "last": f"{last[1]} {last[3]}" if last else "",
        "findings": integrity.verify_journal([tuple(r) for r in rows], public_key),
        "journal_head": {"seq": int(last[0]), "hash": str(last[6])} if last else {"seq": 0, "hash": "0" * 64},
    }  # fmt: skip
    _DUMP_FACTS[key] = facts
    return facts


def _inspect_dump(path: Path, public_key: bytes | None, server: str | None) -> BackupInfo:
    problems: list[str] = []
    facts: dict[str, Any] = {"schema_version": 0, "counts": {}, "last": "", "entries": 0}
    try:
        facts = _dump_facts(path, server, public_key)
        problems += [f.text() for f in facts["findings"][:5]]
    except (UserError, DatabaseError) as exc:
        problems.append(str(exc))
    keys = None
    beside = keys_beside(path)
    if beside is not None and any("签名无效" in p for p in problems):
        # Signed with the keys saved next to it (a backup from another PC, or before new keys).
        for public in _journal_keys(beside):
            try:
                theirs = _dump_facts(path, server, public)
            except (UserError, DatabaseError):
                theirs = None
            if theirs is not None and not theirs["findings"]:
                facts, problems, keys = theirs, [], beside
                break
    made = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
    return BackupInfo(path, path.stat().st_size, made, facts["schema_version"], facts["counts"], facts["last"],
                      facts["entries"], problems, keys)  # fmt: skip


def inspect(path: Path, public_key: bytes | None, server: str | None = None) -> BackupInfo:
    """Open a backup read-only and describe it (the preview before a restore); verify it. A pg_dump
    archive is read on *server* (default: ``DSJ_DATABASE_URL``)."""
    if not path.is_file():
        raise UserError(f"找不到备份文件“{path}”。")
    if pg_backup.is_dump(path):
        return _inspect_dump(path, public_key, server or os.environ.get("DSJ_DATABASE_URL"))
    problems: list[str] = []
    counts: dict[str, int] = {}
    last = ""
    entries = 0
    version = 0
    try:
        problems += _header_problems(path)
        if problems:
            raise _Refused
        result, findings, version = integrity.check_file(path, public_key)
        if result != "ok":
            problems.append(f"数据库结构检查不通过（{result}）")
        problems += [f.text() for f in findings[:5]]
        con = _read_only(path)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for t, title in _COUNTED.items():
                if t in tables:
                    counts[title] = int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            if "journal" in tables:
                entries = int(con.execute("SELECT count(*) FROM journal").fetchone()[0])
                row = con.execute("SELECT at, action FROM journal ORDER BY id DESC LIMIT 1").fetchone()
                last = f"{row[0]} {row[1]}" if row else ""
        finally:
            con.close()
    except _Refused:
        pass
    except sqlite3.DatabaseError as exc:
        problems.append(f"不是可读取的数据库文件（{exc}）")
    except (OSError, ValueError, TypeError, KeyError) as exc:  # a crafted file: a refusal, not a traceback
        problems.append(f"无法读取（{type(exc).__name__}: {exc}）")
    made = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
    keys = None
    signed_elsewhere = any("签名无效" in p for p in problems)
    beside = keys_beside(path)
    if signed_elsewhere and beside is not None:
        # Signed with the keys saved next to it (a backup from another PC, or before new keys).
        result, findings, version = integrity.check_file(path, KeyStore(beside).record_public_key_bytes())
        if result == "ok" and not findings:
            problems = [p for p in problems if "签名无效" not in p and "操作日志" not in p]
            keys = beside
    return BackupInfo(path, path.stat().st_size, made, version, counts, last, entries, problems, keys)


class _Refused(Exception):
    pass


def _read_only(path: Path) -> sqlite3.Connection:
    """A candidate file opened so that reading it writes nothing (no -wal/-shm beside it)."""
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def _header_problems(path: Path) -> list[str]:
    """Is this a data file of this program, of a schema version this program can check and open?"""
    with path.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        return ["不是数据库文件（空文件或已损坏）"]
    if int.from_bytes(head[68:72], "big") != APPLICATION_ID:
        return ["不是本程序的数据文件（SQLite 文件头中的程序标识不符，或是空数据库）"]
    version = int.from_bytes(head[60:64], "big")
    if version > SCHEMA_VERSION:
        return [
            f"由较新版本的程序写入（数据库版本 {version}，本程序只支持到 {SCHEMA_VERSION}），请先安装新版本的程序"
        ]
    if version < GUARDED_FROM:
        return [f"数据库版本 {version} 太旧，没有行封存和操作日志，无法核对"]
    con = _read_only(path)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()
    missing = [t for t in ("journal", "row_seal", "account") if t not in tables]
    return [f"缺少数据表 {'、'.join(missing)}（文件被改动过）"] if missing else []


def keys_beside(backup: Path) -> Path | None:
    """The folder of keys a manual backup carries beside it (``<backup>.keys/keys/…``), if any."""
    folder = backup.with_name(backup.stem + ".keys")
    return (
        folder if (folder / "keys" / RECORD_KEY_FILE).is_file() or server_keys.write_publics(folder) else None
    )


def _journal_keys(folder: Path) -> list[bytes]:
    """The keys in *folder* that may have signed a journal: a server's write keys, the record key."""
    found = server_keys.write_publics(folder)
    if (folder / "keys" / RECORD_KEY_FILE).is_file():
        found.append(KeyStore(folder).record_public_key_bytes())
    return found


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def _file_facts(path: Path, server: str | None = None, public_key: bytes | None = None) -> dict[str, Any]:
    """What a manifest states about a backup file: its digest, schema version and journal head."""
    if pg_backup.is_dump(path):
        facts = _dump_facts(path, server or os.environ.get("DSJ_DATABASE_URL"), public_key)
        return {k: facts[k] for k in ("sha256", "bytes", "schema_version", "journal_head")}
    data = path.read_bytes()
    con = _read_only(path)
    try:
        version = int(con.execute("PRAGMA user_version").fetchone()[0])
        row = con.execute("SELECT id, hash FROM journal ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "schema_version": version,
        "journal_head": {"seq": int(row[0]), "hash": str(row[1])} if row else {"seq": 0, "hash": "0" * 64},
    }


def _signed(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write_manifest(db: Database, backup: Path, data_digest: str) -> Path:
    """The signed manifest beside *backup*: its SHA-256, schema version and journal head (so that a
    journal cut afterwards, here or in the copy, shows), and a digest of its rows' seals."""
    payload = {"format": MANIFEST_FORMAT, "file": backup.name, "made_at": now_iso(), "data_digest": data_digest,
               **_file_facts(backup, db.url, db.guard.public_key)}  # fmt: skip
    doc = {**payload, "signature": db.guard.sign(_signed(payload)).hex()}
    out = manifest_path(backup)
    out.write_bytes((json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    if os.name == "posix":
        os.chmod(out, 0o600)
    return out


def read_manifest(backup: Path, public_key: bytes | None) -> dict[str, Any] | None:
    """The manifest beside *backup* with its signature verified; ``None`` when there is none.
    Raises :class:`UserError` when it is damaged or signed with another key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    path = manifest_path(backup)
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        signature = bytes.fromhex(doc.pop("signature"))
        if public_key is not None:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _signed(doc))
    except (InvalidSignature, ValueError, KeyError, AttributeError, TypeError, OSError):
        raise UserError(f"备份清单“{path.name}”已损坏或签名无效") from None
    return doc if isinstance(doc, dict) else None


def data_digest(db: Database) -> str:
    """A digest of every row's seal: equal exactly when the data is (a backup of unchanged data is
    not made again, so refused or empty operations never rotate good copies away)."""
    h = hashlib.sha256()
    with db.read() as conn:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        for tbl, row_id, seal in dbapi.execute(
            "SELECT tbl, row_id, seal FROM row_seal WHERE tbl != 'journal' ORDER BY tbl, row_id"
        ):
            h.update(f"{tbl}\x1f{row_id}\x1f".encode() + bytes(seal))
    return h.hexdigest()


def _copy_verified(db: Database, dest: Path) -> BackupInfo:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    digest = data_digest(db)
    db.backup_to(part)
    with part.open("rb+") as f:
        os.fsync(f.fileno())
    info = inspect(part, db.guard.public_key, db.url)
    if not info.ok:
        part.unlink(missing_ok=True)
        raise UserError("备份文件校验不通过，未保存：" + "；".join(info.problems))
    part.replace(dest)
    write_manifest(db, dest, digest)
    return inspect(dest, db.guard.public_key, db.url)


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def keep_count(db: Database) -> int:
    return int(settings.read(db, KEEP_SETTING, DEFAULT_KEEP) or DEFAULT_KEEP)


def _newest_auto(folder: Path, ext: str = SUFFIX) -> Path | None:
    autos = sorted(folder.glob(f"{AUTO_PREFIX}*{ext}"), key=lambda p: p.stat().st_mtime)
    return autos[-1] if autos else None


def auto_backup(db: Database, reason: str, *, journal: bool = True) -> BackupInfo:
    """A rolling copy in the data folder's backups/, keeping the newest N (a setting) — made only when
    the data changed since the newest one (otherwise that one is returned). Without *journal* the
    caller records it (in the journal entry of the import it precedes)."""
    folder = backups_dir(db.data_dir)
    newest = _newest_auto(folder, backup_suffix(db))
    if newest is not None:
        try:
            same = (read_manifest(newest, db.guard.public_key) or {}).get("data_digest") == data_digest(db)
        except UserError:
            same = False
        if same:
            return inspect(newest, db.guard.public_key, db.url)
    safe = "".join(ch for ch in reason if ch.isalnum() or ch in "-_") or "backup"
    info = _copy_verified(db, folder / f"{AUTO_PREFIX}{_stamp()}-{safe}{backup_suffix(db)}")
    autos = sorted(folder.glob(f"{AUTO_PREFIX}*{backup_suffix(db)}"), key=lambda p: p.stat().st_mtime)
    for old in autos[: max(0, len(autos) - keep_count(db))]:
        # With its manifest, and any -wal/-shm an older program's copy left beside it.
        for p in (old, manifest_path(old), Path(f"{old}-wal"), Path(f"{old}-shm")):
            p.unlink(missing_ok=True)
    if journal:
        db.record(f"自动备份（{reason}）", {"file": info.path.name, "size": info.size})
    return info


def _may_write(db: Database) -> bool:
    """Whether the account logged in may change data at all (its role as the database has it now)."""
    from dsj_desktop import actor

    if not db.guard.accounts_exist:
        return True
    who = actor.current()
    if who is None:
        return False
    row = db.scalar("SELECT role || ':' || active FROM account WHERE username = :u", {"u": who.username})
    role, _, active = str(row or ":0").partition(":")
    return active == "1" and actor.may_write(role, "target")


def backup_hook(db: Database) -> Callable[[], dict[str, str]]:
    """For imports: a verified copy once the file is known to be good, named in the import's entry —
    not for an account whose import the database will refuse anyway."""

    def run() -> dict[str, str]:
        if not _may_write(db):
            return {}
        return {"backup": auto_backup(db, "before-import", journal=False).path.name}

    return run


def list_backups(db: Database) -> list[Path]:
    return sorted(
        backups_dir(db.data_dir).glob(f"*{backup_suffix(db)}"), key=lambda p: p.stat().st_mtime, reverse=True
    )


def last_auto_backup(db: Database) -> datetime | None:
    autos = sorted(
        backups_dir(db.data_dir).glob(f"{AUTO_PREFIX}*{backup_suffix(db)}"), key=lambda p: p.stat().st_mtime
    )
    return datetime.fromtimestamp(autos[-1].stat().st_mtime) if autos else None


def backup_to_folder(db: Database, folder: Path) -> BackupInfo:
    """A manual copy into a chosen folder (e.g. a USB stick): an administrator's job, since the
    bureau's private keys go with it."""
    _require_admin(
        db, "备份到U盘/文件夹会带走本局的签名私钥，只有管理员可以进行（命令行请用 --user 指定管理员账户）。"
    )
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"文件夹“{folder}”不存在。")
    bureau = settings.bureau_name(db) or "dsj"
    info = _copy_verified(db, folder / f"{bureau}-数据备份-{_stamp()}{backup_suffix(db)}")
    # The keys go with it: on a new PC the journal's signatures and the row seals can only be checked,
    # and the data restored, with the keys that made them. (The stick holds the private keys: keep it safe.)
    keys = info.path.with_name(info.path.stem + ".keys") / "keys"
    shutil.copytree(db.data_dir / "keys", keys, ignore=shutil.ignore_patterns("*.part"))
    if os.name == "posix":
        for p in (keys.parent, keys):
            os.chmod(p, 0o700)
    db.record("手动备份", {"file": str(info.path), "size": info.size, "keys": str(keys.parent)})
    return info


def verify_candidate(path: Path, keys_dir: Path, server: str | None = None) -> list[str]:
    """The full integrity check of a backup before it may replace the data: a copy of it, with the
    keys that made it, opened and checked in a temporary folder outside the data folder (seals, row
    counts, journal chain and signatures, triggers, and the journal head its signed manifest names).
    Returns the problems found (none: it may be restored)."""
    problems: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="dsj-restore-check-"))
    scratch: Any = contextlib.nullcontext(None)
    try:
        dump = pg_backup.is_dump(path)
        if dump:
            server = server or os.environ.get("DSJ_DATABASE_URL")
            if server is None:
                raise UserError("这是 PostgreSQL 服务器的备份：请先连接单位的数据库服务器再恢复。")
            scratch = pg_backup.scratch_copy(server, path)
        else:
            shutil.copyfile(path, work / DB_FILENAME)
        shutil.copytree(keys_dir / "keys", work / "keys", ignore=shutil.ignore_patterns("*.part"))
        store = KeyStore(work)
        if dump:  # signed with a server write key this workstation (or the folder beside) holds
            public = next((k for k in server_keys.write_publics(work) if _manifest_opens(path, k)), b"")
            if not public:
                raise UserError(
                    "这台电脑没有这个服务器备份的写入密钥（不是本单位服务器数据库的备份，或清单已损坏）。"
                )
            sign = _write_key_sign(work, public)
        else:
            public = store.record_public_key_bytes()
            sign = store.record_private_key().sign
        facts = _file_facts(path, server, public) if dump else _file_facts(work / DB_FILENAME)
        head = anchor.Head(facts["journal_head"]["seq"], facts["journal_head"]["hash"])
        manifest = read_manifest(path, public)
        if manifest is not None:
            said = manifest.get("journal_head") or {}
            if manifest.get("sha256") != facts["sha256"]:
                problems.append("备份文件与其清单记载的 SHA-256 不符（文件在备份后被改动过）")
            if (said.get("seq"), said.get("hash")) != (head.seq, head.hash):
                problems.append(
                    f"备份清单记载操作日志有 {said.get('seq')} 条，文件中为 {head.seq} 条：日志末尾被删除或改写过"
                )
            head = anchor.Head(int(said.get("seq") or 0), str(said.get("hash") or ""))
        anchor.write_now(work, head, now_iso(), sign)
        with scratch as scratch_url:
            copy = open_database(work, url=scratch_url)
            try:
                report = run_job(integrity.check(copy))
            finally:
                copy.close()
        problems += [f.text() for f in report.findings[:10]]
        if len(report.findings) > 10:
            problems.append(f"……另有 {len(report.findings) - 10} 处")
    except (UserError, DatabaseError) as exc:
        problems.append(str(exc))
    except Exception as exc:  # a crafted file must end in a refusal, never in a traceback
        problems.append(f"无法核对这个文件（{type(exc).__name__}: {exc}）")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return problems


def restore(db: Database, backup: Path) -> tuple[Path, BackupInfo]:
    """Replace the live data with *backup*, after checking it completely and keeping the current
    data as a safety copy. Nothing in the data folder changes unless every check passes. The
    database is closed here; the caller opens it again. Returns (the safety copy, the backup)."""
    _require_admin(db)
    info = inspect(Path(backup), db.guard.public_key, db.url)
    if not info.ok:
        raise UserError("这个备份文件校验不通过，不能用于恢复：" + "；".join(info.problems))
    if pg_backup.is_dump(info.path) != db.on_server:
        raise UserError(
            "备份与当前数据的存放方式不同（服务器备份只能恢复到服务器，数据文件备份只能恢复为数据文件）。"
        )
    problems = verify_candidate(info.path, info.keys or db.data_dir, db.url)
    if problems:
        raise UserError(
            "这个备份文件没有通过完整性检查，不能用于恢复（当前数据未作任何改动）：" + "；".join(problems)
        )
    safety = _copy_verified(
        db, backups_dir(db.data_dir) / f"{SAFETY_PREFIX}{_stamp()}-before-restore{backup_suffix(db)}"
    )
    db.record("恢复前保存当前数据", {"file": safety.path.name, "size": safety.size})
    if db.url is not None:  # a server: pg_restore replaces the database's content in one transaction
        url = db.url
        db.close()
        pg_backup.restore(url, info.path)
        _take_keys(db.data_dir, info.keys)  # the restored database registers the backup's key
        # Signed with the write key of the database restored (the backup's, now installed here).
        public = next(
            (k for k in server_keys.write_publics(db.data_dir) if _manifest_opens(info.path, k)), None
        )
        sign = _write_key_sign(db.data_dir, public) if public is not None else db.guard.sign
        head = _file_facts(info.path, url, public or db.guard.public_key)["journal_head"]
        anchor.write_now(db.data_dir, anchor.Head(head["seq"], head["hash"]), now_iso(), sign)
        return safety.path, info
    target = database_path(db.data_dir)
    db.close()
    _take_keys(db.data_dir, info.keys)
    part = target.with_name(target.name + ".restore-part")
    shutil.copyfile(info.path, part)
    private_file(part)
    with part.open("rb+") as f:
        os.fsync(f.fileno())
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    part.replace(target)
    # The restored journal's head becomes the anchor, signed with the keys that now sign.
    facts = _file_facts(target)["journal_head"]
    key = KeyStore(db.data_dir).record_private_key()
    anchor.write_now(db.data_dir, anchor.Head(facts["seq"], facts["hash"]), now_iso(), key.sign)
    return safety.path, info


def _manifest_opens(backup: Path, public: bytes) -> bool:
    try:
        read_manifest(backup, public)
    except UserError:
        return False
    return True


def _write_key_sign(folder: Path, public: bytes) -> Callable[[bytes], bytes]:
    key = server_keys.installed_write_key(folder, public)
    assert key is not None
    return key.sign


def _take_keys(data_dir: Path, keys: Path | None) -> None:
    """The backup's own keys (carried beside it) replace this PC's, which are kept aside, never deleted."""
    if keys is None:
        return
    current = data_dir / "keys"
    if current.exists():
        current.rename(data_dir / f"keys-replaced-{_stamp()}")
    shutil.copytree(keys / "keys", current)


RESTORE_ADMIN = "从备份恢复数据会替换全部数据，只有管理员可以进行（命令行请用 --user 指定管理员账户）。"


def _require_admin(db: Database, message: str = RESTORE_ADMIN) -> None:
    from dsj_desktop import actor

    if db.guard.accounts_exist:
        who = actor.current()
        role = None
        if who is not None:
            row = db.scalar(
                "SELECT role || ':' || active FROM account WHERE username = :u", {"u": who.username}
            )
            role, _, active = str(row or ":0").partition(":")
            role = role if active == "1" else None
        if role != actor.ADMIN:
            raise PermissionDenied(message)


def note_restore(db: Database, safety: Path, info: BackupInfo) -> None:
    """The journal of the restored data says it was restored, from what, and where the replaced
    data went."""
    db.record("从备份恢复数据", {"backup": info.path.name, "made": info.made, "safety_copy": safety.name})
