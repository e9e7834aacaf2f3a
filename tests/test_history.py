"""Issue 20, the data folder against someone at the office PC: a history that cannot be cut or
rewritten unnoticed (append-only journal anchored outside the file, row counts, triggers exactly the
program's own), restores that check before they replace, backups for administrators only, and
files only their owner can read. Each attack here is made as someone with the sqlite3 shell would."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop import actor
from dsj_desktop.actor import ADMIN, OPERATOR, VIEWER
from dsj_desktop.db import anchor
from dsj_desktop.db.engine import APPLICATION_ID, Database, open_database
from dsj_desktop.domain.specs import TARGETS
from dsj_desktop.errors import PermissionDenied, UserError
from dsj_desktop.io.importer import import_directory
from dsj_desktop.paths import database_path
from dsj_desktop.progress import run_job
from dsj_desktop.services import accounts, backup, integrity, settings
from tests.test_import import target_row, write_xlsx
from tests.test_trust import _cli

PW = "secret123"


@pytest.fixture(autouse=True)
def nobody_logged_in() -> Iterator[None]:
    actor.set_current(None)
    yield
    actor.set_current(None)


@pytest.fixture
def bureau(demo_data_dir: Path) -> Iterator[Database]:
    db = open_database(demo_data_dir)
    accounts.create_account(db, "admin", "王局长", ADMIN, PW, with_recovery=True)
    accounts.login(db, "admin", PW)
    accounts.create_account(db, "op", "李操作", OPERATOR, PW)
    accounts.create_account(db, "view", "赵查看", VIEWER, PW)
    actor.set_current(None)
    yield db
    db.close()


def report_of(db: Database) -> integrity.IntegrityReport:
    return run_job(integrity.check(db))


def reopen(db: Database) -> Database:
    db.close()
    return open_database(db.data_dir)


class _ServerShell:
    """psql as the database owner, with sqlite3's ``?`` placeholders (the statements below are shared)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.con = psycopg.connect(url)

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.con.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def executemany(self, sql: str, seq: Any) -> None:
        self.con.cursor().executemany(sql.replace("?", "%s"), seq)  # type: ignore[arg-type]


class Shell:
    """The sqlite3 shell on the data file: lift every trigger, do something, put them back exactly.
    On a server, the database owner with the triggers lifted for the session
    (``session_replication_role = replica``), which leaves them exactly as they were."""

    def __init__(self, db: Database) -> None:
        self.url = db.url
        if self.url is None:
            self.con: Any = sqlite3.connect(database_path(db.data_dir))
        else:
            self.con = _ServerShell(self.url)

    def __enter__(self) -> Any:
        if self.url is not None:
            self.con.execute("SET session_replication_role = replica")
            return self.con
        self.saved = self.con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in self.saved:
            self.con.execute(f'DROP TRIGGER "{name}"')
        return self.con

    def __exit__(self, *exc: Any) -> None:
        if self.url is not None:
            self.con.con.commit()
            self.con.con.close()
            return
        for _, sql in self.saved:
            self.con.execute(sql)
        self.con.commit()
        self.con.close()


def folder_state(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith((".lock", "-shm"))  # -shm: SQLite's read index
    }


# --- A. the anchored history -------------------------------------------------------------------


@pytest.mark.sqlite_only(
    "the sqlite3 shell refused by the keep_journal_rows trigger; server: test_postgres::test_journal_cannot_be_rewritten_on_the_server"
)
def test_the_journal_is_append_only_and_sealed(bureau: Database) -> None:
    con = sqlite3.connect(database_path(bureau.data_dir))
    with pytest.raises(sqlite3.IntegrityError, match="操作日志只能追加"):
        con.execute("DELETE FROM journal WHERE id >= 5")
    with pytest.raises(sqlite3.IntegrityError, match="操作日志只能追加"):
        con.execute("UPDATE journal SET action = 'x' WHERE id = 5")
    con.close()
    n = bureau.scalar("SELECT count(*) FROM journal")
    assert bureau.scalar("SELECT count(*) FROM row_seal WHERE tbl = 'journal'") == n
    assert report_of(bureau).ok


def test_a_cut_journal_tail_is_found_even_after_later_writes(bureau: Database) -> None:
    last = bureau.scalar("SELECT max(id) FROM journal")
    with Shell(bureau) as con:
        con.execute("DELETE FROM journal WHERE id >= ?", (last - 3,))
        con.execute("DELETE FROM row_seal WHERE tbl = 'journal' AND row_id >= ?", (last - 3,))
    db = reopen(bureau)
    try:
        text = report_of(db).text()
        assert "操作日志锚定" in text and f"第 {last - 3}–{last} 条被删除了" in text
        # The program writes on: the cut stays on record (the journal says what it found).
        accounts.login(db, "admin", PW)
        settings.write(db, settings.BUREAU_NAME, "青山县应急管理局")
        report = report_of(db)
        assert not report.ok
        assert any("写入前发现程序之外的改动" in f.detail and "被删除了" in f.detail for f in report.findings)
    finally:
        db.close()


def test_the_command_line_check_names_a_cut_tail(bureau: Database) -> None:
    last = bureau.scalar("SELECT max(id) FROM journal")
    bureau.close()
    with Shell(bureau) as con:
        con.execute("DELETE FROM journal WHERE id = ?", (last,))  # only the very last entry
        con.execute("DELETE FROM row_seal WHERE tbl = 'journal' AND row_id = ?", (last,))
    r = _cli(bureau.data_dir, "check")
    assert r.returncode == 1 and f"第 {last}–{last} 条被删除了" in r.stdout, r.stdout + r.stderr


def test_the_whole_journal_deleted_is_found(bureau: Database) -> None:
    with Shell(bureau) as con:
        con.execute("DELETE FROM journal")
        con.execute("DELETE FROM row_seal WHERE tbl = 'journal'")
    db = reopen(bureau)
    try:
        assert "被删除了" in report_of(db).text()
    finally:
        db.close()


def test_rows_deleted_with_their_seals_are_found(bureau: Database) -> None:
    from tests.test_draw_sessions import full_draw

    accounts.login(bureau, "op", PW)
    s = full_draw(bureau, "RW-2026-04")
    actor.set_current(None)
    assert report_of(bureau).ok
    member = bureau.scalar("SELECT id FROM draw_member WHERE session_id = :s LIMIT 1", {"s": s.id})
    target = bureau.scalar("SELECT max(id) FROM target")
    with Shell(bureau) as con:
        con.execute("DELETE FROM draw_member WHERE id = ?", (member,))
        con.execute("DELETE FROM row_seal WHERE tbl = 'draw_member' AND row_id = ?", (member,))
        con.execute("DELETE FROM target WHERE id = ?", (target,))
        con.execute("DELETE FROM row_seal WHERE tbl = 'target' AND row_id = ?", (target,))
    db = reopen(bureau)
    try:
        text = report_of(db).text()
        assert "draw_member）日志记载" in text and "target）日志记载 3,000 行，现有 2,999 行" in text
        assert "保护触发器" not in text  # put back exactly: only the counts tell
        accounts.login(db, "admin", PW)
        settings.write(db, settings.BUREAU_NAME, "青山县应急管理局")  # a later write does not launder it
        report = report_of(db)
        assert any(
            f.area == "程序之外的改动" and "target）日志记载 3,000 行" in f.detail for f in report.findings
        )
    finally:
        db.close()


@pytest.mark.sqlite_only(
    "SQLite triggers dropped and forged in the file; server: test_postgres::test_disabled_or_dropped_trigger_is_found_and_restored, ::test_row_edited_with_triggers_lifted_is_found"
)
def test_a_fake_trigger_does_not_make_the_program_re_seal_changed_rows(bureau: Database) -> None:
    from tests.test_draw_sessions import full_draw

    accounts.login(bureau, "op", PW)
    s = full_draw(bureau, "RW-2026-04")
    actor.set_current(None)
    bureau.close()
    con = sqlite3.connect(database_path(bureau.data_dir))
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE name LIKE 'dsj_guard_v2_%'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    con.execute("CREATE TRIGGER dsj_guard_v1_x AFTER INSERT ON setting BEGIN SELECT 1; END")
    con.execute(
        "UPDATE draw_member SET person_code = 'ZF-9999' WHERE session_id = ? AND position = 1", (s.id,)
    )
    con.execute("UPDATE target SET name = '改过的名字' WHERE id = 7")
    con.commit()
    con.close()
    db = open_database(bureau.data_dir)
    try:
        assert any("保护触发器与本程序的不一致" in w and "dsj_guard_v1_x（多出）" in w for w in db.warnings)
        report = report_of(db)
        text = report.text()
        assert "检查组成员 第" in text  # draw_member, by its Chinese title
        assert "检查对象名录库 第 7 行" in text and "在本程序之外被改动过" in text
        assert any(f.area == "保护触发器" and "dsj_guard_v1_x" in f.detail for f in report.findings)
        assert db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'dsj_guard_v1_x'") == 0
    finally:
        db.close()
    db = open_database(bureau.data_dir)  # and the next start, and the one after, still say so
    try:
        assert not db.warnings
        assert "在本程序之外被改动过" in report_of(db).text()
    finally:
        db.close()


@pytest.mark.parametrize("trigger", ["dsj_guard_v2_target_upd", "keep_draw_member_rows", "keep_journal_rows"])
@pytest.mark.sqlite_only(
    "a trigger dropped from the SQLite file; server: test_postgres::test_disabled_or_dropped_trigger_is_found_and_restored"
)
def test_a_dropped_trigger_is_reported_not_silently_restored(bureau: Database, trigger: str) -> None:
    con = sqlite3.connect(database_path(bureau.data_dir))
    con.execute(f'DROP TRIGGER "{trigger}"')
    con.commit()
    con.close()
    assert any(f.detail == "缺失" and f.row == trigger for f in report_of(bureau).findings)
    db = reopen(bureau)
    try:
        assert any(trigger in w for w in db.warnings)
        report = report_of(db)  # restored at the start, and on record
        assert [f.area for f in report.findings] == ["保护触发器"]
        assert trigger in report.findings[0].detail
    finally:
        db.close()


@pytest.mark.sqlite_only(
    "the local anchor file of the SQLite data file; on a server each workstation's anchor lags or starts anew by design (docs/postgresql.md, The journal anchor); journal cuts on a server: this file's cut-tail tests, both engines"
)
def test_a_missing_stale_or_forged_anchor_is_found(bureau: Database, tmp_path: Path) -> None:
    path = anchor.anchor_path(bureau.data_dir)
    old = path.read_bytes()
    accounts.login(bureau, "admin", PW)
    settings.write(bureau, settings.BUREAU_NAME, "青山县应急管理局")
    assert report_of(bureau).ok
    good = path.read_bytes()
    path.write_bytes(old)  # an older anchor put back
    assert "锚定文件只记到第" in report_of(bureau).text()
    path.unlink()
    assert "锚定文件缺失" in report_of(bureau).text()
    head = anchor.parse(good, bureau.guard.public_key).head
    path.write_bytes(good.replace(head.hash.encode(), b"0" * 64))  # another head, the old signature
    assert "签名无效" in report_of(bureau).text()
    # A write with the anchor missing records it; putting a good anchor back later does not erase it.
    path.unlink()
    settings.write(bureau, settings.BUREAU_NAME, "青山县应急管理局（二）")
    assert any("锚定文件缺失" in f.detail for f in report_of(bureau).findings)


def test_a_bulk_update_does_not_re_seal_a_row_changed_outside(bureau: Database, tmp_path: Path) -> None:
    uscc, name = bureau.scalar("SELECT uscc || '|' || name FROM target WHERE id = 5").split("|")
    with Shell(bureau) as con:
        con.execute("UPDATE target SET legal_rep = '外人' WHERE id = 5")  # a column the file has not
    with bureau.read() as conn:
        rows = [[*r, "13900000000"] for r in conn.exec_driver_sql(
            "SELECT uscc, name, industry, region, risk_level FROM target ORDER BY id LIMIT 2100")]  # fmt: skip
    headers = ["统一社会信用代码", "企业名称", "行业领域", "所属区域", "风险等级", "联系电话"]
    path = write_xlsx(tmp_path / "phones.xlsx", rows, headers=headers)
    accounts.login(bureau, "op", PW)
    summary = run_job(import_directory(bureau, TARGETS, path))
    assert summary.updated == 2100  # a bulk write: the triggers off, the rows sealed in one pass
    report = report_of(bureau)
    assert [(f.row, f.detail) for f in report.findings] == [
        (f"第 5 行（uscc={uscc}，name={name}）", "这一行在本程序之外被改动过")
    ]


def test_the_head_is_in_the_anchor_and_available_to_writers(bureau: Database) -> None:
    head = bureau.journal_head()
    found = anchor.read(bureau.data_dir, bureau.guard.public_key)
    assert found is not None and found.head == anchor.Head(head["seq"], head["hash"])
    assert head["seq"] == bureau.scalar("SELECT max(id) FROM journal")


@pytest.mark.sqlite_only(
    "a version-5 SQLite file (a server database is created at version 6); server: test_postgres::test_a_versioned_upgrade_step_on_the_server"
)
def test_an_upgrade_seals_again_only_rows_that_verified(tmp_path: Path) -> None:
    data = tmp_path / "v5"
    db = open_database(data, target_version=5)
    db.record("旧版本的数据")
    db.close()
    con = sqlite3.connect(database_path(data))
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE name LIKE 'dsj_guard_%'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    con.execute("UPDATE code_value SET value = '改过' WHERE rowid = 1")
    con.commit()
    con.close()
    db = open_database(data)  # upgraded to the current version
    try:
        assert db.schema_version() >= 6
        text = report_of(db).text()
        assert "代码表 第 1 行" in text and "在本程序之外被改动过" in text
    finally:
        db.close()


# --- B. restore checks before it replaces --------------------------------------------------------


def _crafted(bureau: Database, tmp_path: Path, kind: str) -> Path:
    accounts.login(bureau, "admin", PW)
    copy = backup.auto_backup(bureau, "t").path
    actor.set_current(None)
    bad = tmp_path / f"{kind}.sqlite3"
    if kind == "empty":  # an SQLite file with nothing in it
        con = sqlite3.connect(bad)
        con.execute("CREATE TABLE x (a)")
        con.execute("DROP TABLE x")
        con.commit()
        con.close()
        return bad
    if kind == "zero":
        bad.write_bytes(b"")
        return bad
    shutil.copyfile(copy, bad)
    con = sqlite3.connect(bad)
    if kind == "other-app":
        con.execute("PRAGMA application_id = 1234")
    elif kind == "newer":
        con.execute("PRAGMA user_version = 99")
    elif kind == "no-journal":
        for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE tbl_name = 'journal' AND type = 'trigger'"
        ):
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("DROP TABLE journal")
    elif kind == "fake-trigger":
        for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'dsj_guard_v2_%'"
        ).fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("CREATE TRIGGER dsj_guard_v1_x AFTER INSERT ON setting BEGIN SELECT 1; END")
        con.execute("UPDATE target SET name = '改过的名字' WHERE id = 7")
    elif kind == "cut-journal":
        con.execute("DROP TRIGGER keep_journal_rows")
        con.execute("DELETE FROM journal WHERE id > (SELECT max(id) - 3 FROM journal)")
        con.execute(protect_journal_sql())
    con.commit()
    con.close()
    if kind == "cut-journal":  # the manifest beside it still names the real head
        shutil.copyfile(backup.manifest_path(copy), backup.manifest_path(bad))
    return bad


def protect_journal_sql() -> str:
    from dsj_desktop.db.migrations import SCHEMA_VERSION, keep_triggers

    return keep_triggers(SCHEMA_VERSION)["keep_journal_rows"]


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("zero", "不是数据库文件"),
        ("empty", "不是本程序的数据文件"),
        ("other-app", "不是本程序的数据文件"),
        ("newer", "较新版本"),
        ("no-journal", "缺少数据表 journal"),
        ("fake-trigger", "在本程序之外被改动过"),
        ("cut-journal", "日志末尾被删除或改写过"),
    ],
)
@pytest.mark.sqlite_only(
    "backups crafted as SQLite files; server (pg_dump archives): test_postgres::test_tampered_dump_is_refused"
)
def test_a_crafted_backup_is_refused_and_nothing_changes(
    bureau: Database, tmp_path: Path, kind: str, why: str
) -> None:
    bad = _crafted(bureau, tmp_path, kind)
    accounts.login(bureau, "admin", PW)  # (a login is journalled)
    before = folder_state(bureau.data_dir)
    with pytest.raises(UserError, match=why):
        backup.restore(bureau, bad)
    assert folder_state(bureau.data_dir) == before  # exactly as it was
    assert not list(tmp_path.glob("*-wal")) and not list(tmp_path.glob("*-shm"))
    assert report_of(bureau).ok


@pytest.mark.parametrize("kind", ["empty", "newer", "no-journal", "fake-trigger"])
@pytest.mark.sqlite_only(
    "backups crafted as SQLite files; server: test_postgres::test_tampered_dump_is_refused, ::test_backup_and_restore_commands_on_the_server"
)
def test_the_command_line_refuses_a_crafted_backup_without_a_traceback(
    bureau: Database, tmp_path: Path, kind: str
) -> None:
    bad = _crafted(bureau, tmp_path, kind)
    bureau.close()
    r = _cli(bureau.data_dir, "--user", "admin", "restore", str(bad), "--yes", DSJ_PASSWORD=PW)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout
    assert "不能用于恢复" in r.stdout + r.stderr
    assert _cli(bureau.data_dir, "check").returncode == 0


def test_the_safety_copy_survives_rotation(bureau: Database, tmp_path: Path) -> None:
    accounts.login(bureau, "admin", PW)
    settings.write(bureau, backup.KEEP_SETTING, 2)
    copy = backup.auto_backup(bureau, "t").path
    safety, info = backup.restore(bureau, copy)
    assert safety.name.startswith(backup.SAFETY_PREFIX)
    db = open_database(bureau.data_dir)
    try:
        accounts.login(db, "admin", PW)
        backup.note_restore(db, safety, info)
        assert report_of(db).ok
        for i in range(4):
            settings.write(db, settings.BUREAU_NAME, f"局{i}")
            backup.auto_backup(db, f"r{i}")
        assert safety.exists() and backup.manifest_path(safety).exists()
    finally:
        db.close()


# --- C. who may back up, when, and who can read the files --------------------------------------------


def test_only_an_administrator_backs_up_the_keys(bureau: Database, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    with pytest.raises(PermissionDenied, match="只有管理员"):
        backup.backup_to_folder(bureau, usb)  # nobody logged in
    for who in ("view", "op"):
        accounts.login(bureau, who, PW)
        with pytest.raises(PermissionDenied, match="只有管理员"):
            backup.backup_to_folder(bureau, usb)
    assert list(usb.iterdir()) == []
    bureau.close()
    r = _cli(bureau.data_dir, "backup", str(usb))
    assert r.returncode == 1 and "只有管理员" in r.stderr and list(usb.iterdir()) == []
    r = _cli(bureau.data_dir, "--user", "view", "backup", str(usb), DSJ_PASSWORD=PW)
    assert r.returncode == 1 and list(usb.iterdir()) == []


def test_refused_imports_make_no_backups(bureau: Database, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", [target_row(1)])
    folder = bureau.data_dir / "backups"
    before = sorted(folder.glob("*")) if folder.exists() else []
    accounts.login(bureau, "view", PW)
    for _ in range(11):
        with pytest.raises(PermissionDenied):
            run_job(import_directory(bureau, TARGETS, path, before_write=backup.backup_hook(bureau)))
    after = sorted(folder.glob("*")) if folder.exists() else []
    assert after == before


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes (Windows: the user's profile ACL)")
def test_data_backups_and_keys_are_for_the_owner_only(bureau: Database, tmp_path: Path) -> None:
    accounts.login(bureau, "admin", PW)
    settings.write(bureau, settings.BUREAU_NAME, "青山县应急管理局")
    auto = backup.auto_backup(bureau, "t").path
    usb = tmp_path / "usb"
    usb.mkdir()
    manual = backup.backup_to_folder(bureau, usb).path
    data = bureau.data_dir
    fresh = open_database(tmp_path / "fresh")
    fresh.close()
    for folder in (data, data / "backups", data / "keys", tmp_path / "fresh"):
        assert _mode(folder) == 0o700, folder
    db_file = database_path(data)
    files = [auto, backup.manifest_path(auto), manual, backup.manifest_path(manual),
             anchor.anchor_path(data)]  # fmt: skip
    key_files = list((data / "keys").glob("*.key"))  # the record key; on a server, the write key
    assert key_files
    files += key_files
    if not bureau.on_server:  # the data file itself (on a server: the server's own files)
        files += [db_file, Path(f"{db_file}-wal"), database_path(tmp_path / "fresh")]
    files += list((usb / (manual.stem + ".keys") / "keys").glob("*.key"))
    for f in files:
        assert _mode(f) == 0o600, f
    assert _mode(usb / (manual.stem + ".keys")) == 0o700


@pytest.mark.sqlite_only("SQLite -wal/-shm files beside backups; meaningless for pg_dump archives")
def test_backups_leave_no_wal_or_shm_behind(bureau: Database, tmp_path: Path) -> None:
    accounts.login(bureau, "admin", PW)
    settings.write(bureau, backup.KEEP_SETTING, 2)
    made = []
    for i in range(3):
        settings.write(bureau, settings.BUREAU_NAME, f"局{i}")
        made.append(backup.auto_backup(bureau, f"w{i}").path)
        if i == 0:  # what an older program's copy left beside it: rotated away with it
            for suffix in ("-wal", "-shm"):
                Path(f"{made[0]}{suffix}").write_bytes(b"")
    made = made[1:]
    usb = tmp_path / "usb"
    usb.mkdir()
    info = backup.backup_to_folder(bureau, usb)
    for p in [*made, info.path]:
        backup.inspect(p, bureau.guard.public_key)  # reading a backup writes nothing beside it
        with sqlite3.connect(p) as con:  # nor does another program opening it
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        con.close()
    leftovers = [p.name for p in [*(bureau.data_dir / "backups").iterdir(), *usb.iterdir()]
                 if p.name.endswith(("-wal", "-shm"))]  # fmt: skip
    assert leftovers == []


@pytest.mark.sqlite_only(
    "the SQLite file header's application_id; a server database keeps its marker in dsj_meta"
)
def test_the_application_id_marks_new_files(tmp_path: Path) -> None:
    db = open_database(tmp_path / "d")
    try:
        assert db.scalar("PRAGMA application_id") == APPLICATION_ID
    finally:
        db.close()


def test_a_signed_record_names_the_journal_head_and_a_journal_cut_before_it_is_found(
    bureau: Database,
) -> None:
    from tests.test_draw_sessions import full_draw

    accounts.login(bureau, "op", PW)
    s = full_draw(bureau, "RW-2026-04")
    actor.set_current(None)
    assert s.record is not None
    head = s.record["journal_head"]
    assert head["seq"] > 0
    with bureau.read() as conn:
        row = conn.exec_driver_sql("SELECT hash FROM journal WHERE id = ?", (head["seq"],)).first()
    assert row is not None and row[0] == head["hash"]  # the entry the record was signed after
    assert report_of(bureau).ok
    with Shell(bureau) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM journal WHERE id >= ?", (head["seq"],))]
        con.execute("DELETE FROM journal WHERE id >= ?", (head["seq"],))
        con.executemany("DELETE FROM row_seal WHERE tbl = 'journal' AND row_id = ?", [(i,) for i in ids])
    db = reopen(bureau)
    try:
        assert f"签署时的操作日志第 {head['seq']} 条已不在或被改动" in report_of(db).text()
    finally:
        db.close()
