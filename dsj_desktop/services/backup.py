"""Backups: automatic rolling copies (on start, before upgrades and bulk imports, daily), manual
copies to a chosen folder (a USB stick), and restore — each copy made with SQLite's online backup
API and verified (it opens, passes integrity_check, its journal chain holds) before it counts."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dsj_desktop.db.engine import Database
from dsj_desktop.errors import PermissionDenied, UserError
from dsj_desktop.keys import RECORD_KEY_FILE, KeyStore
from dsj_desktop.paths import backups_dir, database_path
from dsj_desktop.services import integrity, settings

KEEP_SETTING = "backup_keep"
DEFAULT_KEEP = 10
AUTO_PREFIX = "auto-"
SUFFIX = ".sqlite3"


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


def inspect(path: Path, public_key: bytes | None) -> BackupInfo:
    """Open a backup read-only and describe it (the preview before a restore); verify it."""
    if not path.is_file():
        raise UserError(f"找不到备份文件“{path}”。")
    problems: list[str] = []
    counts: dict[str, int] = {}
    last = ""
    entries = 0
    version = 0
    try:
        result, findings, version = integrity.check_file(path, public_key)
        if result != "ok":
            problems.append(f"数据库结构检查不通过（{result}）")
        problems += [f.text() for f in findings[:5]]
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
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
    except sqlite3.DatabaseError as exc:
        problems.append(f"不是可读取的数据库文件（{exc}）")
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


def keys_beside(backup: Path) -> Path | None:
    """The folder of keys a manual backup carries beside it (``<backup>.keys/keys/…``), if any."""
    folder = backup.with_name(backup.stem + ".keys")
    return folder if (folder / "keys" / RECORD_KEY_FILE).is_file() else None


def _copy_verified(db: Database, dest: Path) -> BackupInfo:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    db.backup_to(part)
    with part.open("rb+") as f:
        os.fsync(f.fileno())
    info = inspect(part, db.guard.public_key)
    if not info.ok:
        part.unlink(missing_ok=True)
        raise UserError("备份文件校验不通过，未保存：" + "；".join(info.problems))
    part.replace(dest)
    return inspect(dest, db.guard.public_key)


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def keep_count(db: Database) -> int:
    return int(settings.read(db, KEEP_SETTING, DEFAULT_KEEP) or DEFAULT_KEEP)


def auto_backup(db: Database, reason: str, *, journal: bool = True) -> BackupInfo:
    """A rolling copy in the data folder's backups/, keeping the newest N (a setting). Without
    *journal* the caller records it (in the journal entry of the import it precedes)."""
    folder = backups_dir(db.data_dir)
    safe = "".join(ch for ch in reason if ch.isalnum() or ch in "-_") or "backup"
    info = _copy_verified(db, folder / f"{AUTO_PREFIX}{_stamp()}-{safe}{SUFFIX}")
    autos = sorted(folder.glob(f"{AUTO_PREFIX}*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    for old in autos[: max(0, len(autos) - keep_count(db))]:
        old.unlink(missing_ok=True)
    if journal:
        db.record(f"自动备份（{reason}）", {"file": info.path.name, "size": info.size})
    return info


def backup_hook(db: Database) -> Callable[[], dict[str, str]]:
    """For imports: a verified copy once the file is known to be good, named in the import's entry."""

    def run() -> dict[str, str]:
        return {"backup": auto_backup(db, "before-import", journal=False).path.name}

    return run


def list_backups(db: Database) -> list[Path]:
    return sorted(backups_dir(db.data_dir).glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)


def last_auto_backup(db: Database) -> datetime | None:
    autos = sorted(backups_dir(db.data_dir).glob(f"{AUTO_PREFIX}*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    return datetime.fromtimestamp(autos[-1].stat().st_mtime) if autos else None


def backup_to_folder(db: Database, folder: Path) -> BackupInfo:
    """A manual copy into a chosen folder (e.g. a USB stick)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"文件夹“{folder}”不存在。")
    bureau = settings.bureau_name(db) or "dsj"
    info = _copy_verified(db, folder / f"{bureau}-数据备份-{_stamp()}{SUFFIX}")
    # The keys go with it: on a new PC the journal's signatures and the row seals can only be checked,
    # and the data restored, with the keys that made them. (The stick holds the private keys: keep it safe.)
    keys = info.path.with_name(info.path.stem + ".keys") / "keys"
    shutil.copytree(db.data_dir / "keys", keys, ignore=shutil.ignore_patterns("*.part"))
    db.record("手动备份", {"file": str(info.path), "size": info.size, "keys": str(keys.parent)})
    return info


def restore(db: Database, backup: Path) -> tuple[Path, BackupInfo]:
    """Replace the live data with *backup*, after backing up the current state. The database is
    closed here; the caller opens it again. Returns (the safety copy of the current data, the backup)."""
    _require_admin(db)
    info = inspect(Path(backup), db.guard.public_key)
    if not info.ok:
        raise UserError("这个备份文件校验不通过，不能用于恢复：" + "；".join(info.problems))
    safety = auto_backup(db, "before-restore")
    target = database_path(db.data_dir)
    db.close()
    if info.keys is not None:  # the backup's own keys replace this PC's (kept aside, never deleted)
        current = db.data_dir / "keys"
        if current.exists():
            current.rename(db.data_dir / f"keys-replaced-{_stamp()}")
        shutil.copytree(info.keys / "keys", current)
    part = target.with_name(target.name + ".restore-part")
    shutil.copyfile(info.path, part)
    with part.open("rb+") as f:
        os.fsync(f.fileno())
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    part.replace(target)
    return safety.path, info


def _require_admin(db: Database) -> None:
    from dsj_desktop import actor

    if db.guard.accounts_exist:
        who = actor.current()
        if who is None or who.role != actor.ADMIN:
            raise PermissionDenied(
                "从备份恢复数据会替换全部数据，只有管理员可以进行（命令行请用 --user 指定管理员账户）。"
            )


def note_restore(db: Database, safety: Path, info: BackupInfo) -> None:
    """The journal of the restored data says it was restored, from what, and where the replaced
    data went."""
    db.record("从备份恢复数据", {"backup": info.path.name, "made": info.made, "safety_copy": safety.name})
