"""Accounts, roles in the core, the journal, outside edits, backups and restore."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop import actor
from dsj_desktop.actor import ADMIN, OPERATOR, VIEWER
from dsj_desktop.db import lock, pg
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.domain.rules import Rules
from dsj_desktop.domain.specs import TARGETS
from dsj_desktop.errors import DatabaseError, PermissionDenied, ValidationError
from dsj_desktop.io.importer import import_directory
from dsj_desktop.paths import database_path
from dsj_desktop.progress import run_job
from dsj_desktop.services import accounts, backup, integrity, journal, settings
from dsj_desktop.services.directory import DirectoryQuery
from dsj_desktop.services.plan import save_rules
from tests.test_import import target_row, write_xlsx

PW = "secret123"


@pytest.fixture(autouse=True)
def nobody_logged_in() -> Any:
    actor.set_current(None)
    yield
    actor.set_current(None)


@pytest.fixture
def bureau(demo_data_dir: Path) -> Database:
    """The demo county with three accounts."""
    db = open_database(demo_data_dir)
    accounts.create_account(db, "admin", "王局长", ADMIN, PW, with_recovery=True)
    accounts.login(db, "admin", PW)
    accounts.create_account(db, "op", "李操作", OPERATOR, PW)
    accounts.create_account(db, "view", "赵查看", VIEWER, PW)
    actor.set_current(None)
    yield db
    db.close()


def integrity_of(db: Database) -> integrity.IntegrityReport:
    return run_job(integrity.check(db))


# --- accounts ---------------------------------------------------------------------------------


def test_the_first_account_must_be_an_administrator(db: Database) -> None:
    with pytest.raises(ValidationError, match="第一个账户必须是管理员"):
        accounts.create_account(db, "op", "", OPERATOR, PW)
    with pytest.raises(ValidationError, match="至少 8 位"):
        accounts.create_account(db, "admin", "", ADMIN, "short1")
    code = accounts.create_account(db, "admin", "管理员", ADMIN, PW, with_recovery=True)
    assert code and len(code) == 23
    stored = db.scalar("SELECT password_hash FROM account")
    assert PW not in stored and stored.startswith("$argon2")
    # Now only an administrator may add accounts.
    with pytest.raises(PermissionDenied, match="需要登录"):
        accounts.create_account(db, "op", "", OPERATOR, PW)


def test_five_wrong_passwords_lock_the_account(bureau: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    for left in (4, 3, 2, 1):
        with pytest.raises(accounts.LoginError, match=f"还可再试 {left} 次"):
            accounts.authenticate(bureau, "op", "wrong-pass1")
    with pytest.raises(accounts.LoginError, match="已锁定 10 分钟"):
        accounts.authenticate(bureau, "op", "wrong-pass1")
    with pytest.raises(accounts.LoginError, match="已锁定"):
        accounts.authenticate(bureau, "op", PW)  # even the right password, for now
    later = accounts.now() + timedelta(minutes=11)
    monkeypatch.setattr(accounts, "now", lambda: later)
    assert accounts.authenticate(bureau, "op", PW).role == OPERATOR
    actions = [e.action for e in journal.entries(bureau, text="op")]
    assert actions.count("登录失败：op") == 5


def test_recovery_code_is_the_only_way_back(bureau: Database) -> None:
    with pytest.raises(accounts.LoginError, match="恢复码不正确"):
        accounts.recover_admin(bureau, "admin", "AAAAA-BBBBB-CCCCC-DDDDD", "newpass123")
    with pytest.raises(accounts.LoginError, match="不是设有恢复码的管理员"):
        accounts.recover_admin(bureau, "op", "x", "newpass123")


def test_recovery_resets_the_password_and_renews_the_code(db: Database) -> None:
    code = accounts.create_account(db, "admin", "", ADMIN, PW, with_recovery=True)
    assert code is not None
    fresh = accounts.recover_admin(db, "admin", code.lower(), "another123")
    assert fresh != code
    assert accounts.authenticate(db, "admin", "another123").username == "admin"
    with pytest.raises(accounts.LoginError):
        accounts.recover_admin(db, "admin", code, "third1234")  # used up


# --- roles, enforced in the core ---------------------------------------------------------------


def test_roles_are_enforced_in_the_core(bureau: Database, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", [target_row(1)])
    q = DirectoryQuery(bureau, TARGETS)
    first = bureau.scalar("SELECT min(id) FROM target")
    n = bureau.scalar("SELECT count(*) FROM target")
    # Nobody logged in, accounts exist: no change at all.
    with pytest.raises(PermissionDenied, match="需要登录"):
        run_job(import_directory(bureau, TARGETS, path))
    # 查看: read only.
    accounts.login(bureau, "view", PW)
    with pytest.raises(PermissionDenied, match="查看"):
        run_job(import_directory(bureau, TARGETS, path))
    with pytest.raises(PermissionDenied):
        q.set_archived([first], True)
    assert bureau.scalar("SELECT count(*) FROM target") == n
    # 操作员: directories yes, settings no.
    accounts.login(bureau, "op", PW)
    run_job(import_directory(bureau, TARGETS, path))
    assert bureau.scalar("SELECT count(*) FROM target") == n + 1
    with pytest.raises(PermissionDenied, match="无权修改设置"):
        save_rules(bureau, Rules(yearly_cap=3))
    with pytest.raises(PermissionDenied):
        accounts.create_account(bureau, "x1", "", VIEWER, PW)
    # 管理员: everything.
    accounts.login(bureau, "admin", PW)
    save_rules(bureau, Rules(yearly_cap=3))
    settings.write(bureau, settings.BUREAU_NAME, "青山县应急管理局（测试）")
    entries = journal.entries(bureau, limit=5)
    assert entries[0].actor == "王局长（admin）"


def test_a_large_import_is_also_checked(bureau: Database, tmp_path: Path) -> None:
    """Bulk imports switch the row triggers off; the role check still holds."""
    path = write_xlsx(tmp_path / "big.xlsx", [target_row(n) for n in range(1, 2200)])
    accounts.login(bureau, "view", PW)
    with pytest.raises(PermissionDenied):
        run_job(import_directory(bureau, TARGETS, path))
    accounts.login(bureau, "op", PW)
    summary = run_job(import_directory(bureau, TARGETS, path))
    assert summary.added == 2199
    assert integrity_of(bureau).ok  # the bulk path sealed its rows exactly as the triggers would


# --- the journal and outside edits --------------------------------------------------------------


def test_every_change_is_journalled_with_before_and_after(bureau: Database) -> None:
    accounts.login(bureau, "op", PW)
    q = DirectoryQuery(bureau, TARGETS)
    rid = bureau.scalar("SELECT min(id) FROM target")
    rec = q.get(rid)
    q.update(rid, {**rec, "risk_level": "重大" if rec["risk_level"] != "重大" else "低"})
    e = journal.entries(bureau, limit=1)[0]
    assert e.actor == "李操作（op）" and e.action.startswith("修改检查对象")
    assert '"risk_level": ["' in e.detail and rec["risk_level"] in e.detail
    assert integrity_of(bureau).ok


def _raw(db: Database) -> sqlite3.Connection:
    return sqlite3.connect(database_path(db.data_dir))


@pytest.mark.sqlite_only(
    "SQLite's guard triggers call a function only the program registers; server: test_postgres::test_row_edited_with_triggers_on_is_found_and_recorded"
)
def test_a_sqlite_editor_cannot_change_a_row_without_removing_the_triggers(bureau: Database) -> None:
    con = _raw(bureau)
    with pytest.raises(sqlite3.OperationalError, match="no such function"):
        con.execute("UPDATE target SET name = '改过的名字' WHERE id = 5")
    con.close()


@pytest.mark.sqlite_only(
    "SQLite triggers dropped in the file; server: test_postgres::test_row_edited_with_triggers_lifted_is_found, ::test_row_deleted_with_its_seal_shows_in_the_counts, ::test_disabled_or_dropped_trigger_is_found_and_restored"
)
def test_an_outside_edit_of_a_row_is_named(bureau: Database) -> None:
    uscc = bureau.scalar("SELECT uscc FROM target WHERE id = 5")
    con = _raw(bureau)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    con.execute("UPDATE target SET risk_level = '低' WHERE id = 5")
    con.execute("DELETE FROM expert WHERE id = 3")
    con.execute("INSERT INTO code_value (list_name, value, sort_order) VALUES ('region', '外来镇', 99)")
    con.commit()
    con.close()
    report = integrity_of(bureau)
    text = report.text()
    assert not report.ok
    assert f"检查对象名录库 第 5 行（uscc={uscc}" in text and "在本程序之外被改动过" in text
    assert "专家库 第 3 行" in text and "被删除了" in text
    assert "代码表" in text and "不是本程序写入的" in text
    assert "保护触发器" in text
    # Opening the file again restores the triggers and warns.
    db2 = open_database(bureau.data_dir)
    try:
        assert any("触发器" in w for w in db2.warnings)
    finally:
        db2.close()


@pytest.mark.sqlite_only(
    "a SQLite journal trigger dropped; server: test_postgres::test_journal_cannot_be_rewritten_on_the_server (journal cuts with the triggers lifted: test_history, both engines)"
)
def test_a_changed_journal_entry_is_named(bureau: Database) -> None:
    jid = bureau.scalar("SELECT id FROM journal WHERE action LIKE '新建账户 op%'")
    con = _raw(bureau)
    with pytest.raises(sqlite3.IntegrityError, match="操作日志只能追加"):  # append-only
        con.execute("UPDATE journal SET actor = '别人' WHERE id = ?", (jid,))
    con.execute("DROP TRIGGER keep_journal_unchanged")
    con.execute("UPDATE journal SET actor = '别人' WHERE id = ?", (jid,))
    con.commit()
    con.close()
    report = integrity_of(bureau)
    assert any(f.area == "操作日志" and f"第 {jid} 条" in f.row for f in report.findings)
    assert not report.ok


@pytest.mark.sqlite_only(
    "SQLite triggers dropped in the file; server: test_postgres::test_row_edited_with_triggers_lifted_is_found"
)
def test_a_changed_draw_record_is_detected(bureau: Database) -> None:
    from dsj_desktop.services import sessions
    from tests.test_draw_sessions import full_draw

    accounts.login(bureau, "op", PW)
    s = full_draw(bureau, "RW-2026-04")
    assert integrity_of(bureau).ok
    con = _raw(bureau)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    con.execute(
        "UPDATE draw_record SET record = replace(record, ?, ?) WHERE session_id = ?",
        (s.result[0]["inspectors"][0], s.result[0]["inspectors"][1], s.id),
    )
    con.commit()
    con.close()
    text = integrity_of(bureau).text()
    assert f"场次 {s.id} 第 1 版" in text
    assert "draw_session" in text or "场次中保存的记录" in text
    assert sessions.get_session(bureau, s.id).record is not None


# --- backups ----------------------------------------------------------------------------------


def _tables(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with db.read() as conn:
        if db.on_server:
            names = [t for t in pg.table_names(conn) if t != "journal" and not t.startswith("dsj_")]
        else:
            names = [r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type='table' AND name != 'journal'")]  # fmt: skip
        for t in names:
            out[t] = [tuple(r) for r in conn.exec_driver_sql(f'SELECT * FROM "{t}" ORDER BY 1, 2')]
    return out


def test_restore_brings_back_exactly_the_backed_up_state(bureau: Database, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    accounts.login(bureau, "admin", PW)
    info = backup.backup_to_folder(bureau, usb)
    assert info.ok and info.counts["检查对象"] == 3000
    saved = _tables(bureau)
    q = DirectoryQuery(bureau, TARGETS)
    q.set_archived([1, 2, 3], True)
    save_rules(bureau, Rules(yearly_cap=5))
    assert _tables(bureau) != saved
    safety, _ = backup.restore(bureau, info.path)
    db = open_database(bureau.data_dir)
    try:
        backup.note_restore(db, safety, info)
        assert _tables(db) == {**saved, "row_seal": _tables(db)["row_seal"]}
        data_seals = [r for r in _tables(db)["row_seal"] if r[0] != "journal"]
        assert data_seals == [r for r in saved["row_seal"] if r[0] != "journal"]
        assert run_job(integrity.check(db)).ok
        assert journal.entries(db, limit=1)[0].action == "从备份恢复数据"
    finally:
        db.close()
    assert safety.exists()  # the replaced state was kept


def test_a_damaged_backup_is_refused(bureau: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    info = backup.inspect(bad, bureau.guard.public_key)
    assert not info.ok
    accounts.login(bureau, "admin", PW)
    with pytest.raises(Exception, match="校验不通过"):
        backup.restore(bureau, bad)


def test_rolling_backups_keep_the_newest(bureau: Database) -> None:
    accounts.login(bureau, "admin", PW)
    settings.write(bureau, backup.KEEP_SETTING, 3)
    made = []
    for i in range(5):
        settings.write(bureau, settings.BUREAU_NAME, f"青山县应急管理局{i}")  # a change to back up
        made.append(backup.auto_backup(bureau, f"test{i}").path)
    kept = list((bureau.data_dir / "backups").glob(f"auto-*{backup.backup_suffix(bureau)}"))
    assert len(kept) == 3 and made[-1] in kept and made[0] not in kept
    assert not (bureau.data_dir / "backups" / (made[0].name + backup.MANIFEST_SUFFIX)).exists()
    # Unchanged data is not backed up again: nothing rotates away.
    assert backup.auto_backup(bureau, "again").path == made[-1]


# --- two copies, interrupted operations --------------------------------------------------------


def test_a_second_copy_is_told_the_data_folder_is_in_use(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from dsj_desktop.db import lock; "
         "lock.acquire(Path(sys.argv[1])); print('held', flush=True); time.sleep(30)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DatabaseError, match="正被另一个已打开的本程序使用"):
            lock.acquire(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    lock.acquire(tmp_path)  # free again once the other copy is gone
    lock.acquire(tmp_path)  # re-entrant within one process
    lock.release(tmp_path)
    lock.release(tmp_path)


def test_an_interrupted_operation_is_reported_once(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    marker = {
        "action": "导入检查对象名录库：文件“a.xlsx”",
        "started": "2026-11-23T09:00:00+08:00",
        "pid": pid,
    }
    (tmp_path / f"operation-{pid}.json").write_text(json.dumps(marker, ensure_ascii=False), encoding="utf-8")
    mine = {"action": "进行中", "pid": os.getpid()}
    (tmp_path / f"operation-{os.getpid()}.json").write_text(
        json.dumps(mine, ensure_ascii=False), encoding="utf-8"
    )
    msgs = lock.interrupted(tmp_path)
    assert len(msgs) == 1 and "导入检查对象名录库" in msgs[0] and "没有完成" in msgs[0]
    assert lock.interrupted(tmp_path) == []


# --- command line -------------------------------------------------------------------------------


def _cli(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("DSJ_")}
    e.update(env)
    return subprocess.run([sys.executable, "-m", "dsj_desktop", "--data-dir", str(data), *args],
                          capture_output=True, text=True, encoding="utf-8", env=e)  # fmt: skip


def test_cli_accounts_check_backup_restore(demo_data_dir: Path, tmp_path: Path) -> None:
    data = demo_data_dir
    r = _cli(data, "users", "add", "admin", "--role", "admin", "--name", "王局长", DSJ_NEW_PASSWORD=PW)
    assert r.returncode == 0, r.stderr
    assert "恢复码" in r.stdout
    # Once accounts exist, changing data needs --user.
    xlsx = write_xlsx(tmp_path / "t.xlsx", [target_row(1)])
    r = _cli(data, "import", "targets", str(xlsx))
    assert r.returncode == 1 and "--user" in r.stderr
    r = _cli(data, "--user", "admin", "import", "targets", str(xlsx), DSJ_PASSWORD="wrong-pass1")
    assert r.returncode == 1 and "密码错误" in r.stderr
    r = _cli(data, "--user", "admin", "import", "targets", str(xlsx), DSJ_PASSWORD=PW)
    assert r.returncode == 0, r.stderr
    r = _cli(data, "journal", "--last", "5")
    assert "王局长（admin）" in r.stdout and "导入检查对象名录库" in r.stdout
    assert _cli(data, "check").returncode == 0
    usb = tmp_path / "usb"
    usb.mkdir()
    r = _cli(data, "--user", "admin", "backup", str(usb), DSJ_PASSWORD=PW)
    assert r.returncode == 0, r.stderr
    server = pg.resolve_url(data)
    (copy,) = usb.glob("*.pgdump" if server else "*.sqlite3")
    r = _cli(data, "--user", "admin", "restore", str(copy), "--yes", DSJ_PASSWORD=PW)
    assert r.returncode == 0, r.stderr
    # An edit made with another tool makes `check` fail, naming the table and the row.
    edit = "UPDATE inspector SET duty_status = '在岗' WHERE id = 9"
    if server:  # psql as the database owner, the triggers lifted for the session
        import psycopg

        with psycopg.connect(server, autocommit=True) as pcon:
            pcon.execute("SET session_replication_role = replica")
            pcon.execute(edit)
    else:
        con = sqlite3.connect(database_path(data))
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute(edit)
        con.commit()
        con.close()
    r = _cli(data, "check")
    assert r.returncode == 1
    assert "执法检查人员名录库 第 9 行" in r.stdout


def test_a_backup_carries_its_keys_to_a_new_pc(bureau: Database, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    accounts.login(bureau, "admin", PW)
    info = backup.backup_to_folder(bureau, usb)
    carried = usb / (info.path.stem + ".keys") / "keys"
    if bureau.on_server:  # the write key that signed the journal; the signing keys are in the dump, encrypted
        assert list(carried.glob("server-write-*.key")) and not (carried / "record-ed25519.key").exists()
    else:
        assert (carried / "record-ed25519.key").is_file()
    saved = _tables(bureau)
    # A new PC: a fresh data folder with keys of its own.
    actor.set_current(None)
    new_pc = open_database(tmp_path / "new-pc")
    try:
        preview = backup.inspect(info.path, new_pc.guard.public_key)
        assert preview.ok and preview.keys is not None and "签名密钥" in preview.text()
        backup.restore(new_pc, info.path)
    finally:
        new_pc.close()
    restored = open_database(tmp_path / "new-pc")
    try:
        assert _tables(restored)["target"] == saved["target"]
        assert run_job(integrity.check(restored)).ok  # seals and journal check with the carried keys
    finally:
        restored.close()
    assert list((tmp_path / "new-pc").glob("keys-replaced-*"))  # the new PC's own keys are kept aside


def test_only_an_administrator_may_restore(bureau: Database, tmp_path: Path) -> None:
    accounts.login(bureau, "admin", PW)
    copy = backup.auto_backup(bureau, "t").path
    accounts.login(bureau, "op", PW)
    with pytest.raises(PermissionDenied, match="只有管理员"):
        backup.restore(bureau, copy)


def test_a_changed_role_applies_to_the_next_write(bureau: Database) -> None:
    accounts.login(bureau, "op", PW)
    q = DirectoryQuery(bureau, TARGETS)
    q.set_archived([1], True)  # an operator may
    other = open_database(bureau.data_dir)  # the administrator, elsewhere, demotes the operator
    try:
        who = actor.current()
        accounts.login(other, "admin", PW)
        accounts.update_account(other, "op", role=VIEWER)
        actor.set_current(who)  # back in the operator's still-open session
        with pytest.raises(PermissionDenied, match="查看"):
            q.set_archived([1], False)
        accounts.login(other, "admin", PW)
        accounts.update_account(other, "op", role=OPERATOR, active=False)
        actor.set_current(who)
        with pytest.raises(PermissionDenied, match="已被停用"):
            q.set_archived([1], False)
    finally:
        other.close()


def test_an_operator_draws_from_the_command_line(bureau: Database, tmp_path: Path) -> None:
    """Drawing is an operator's work (操作员): the command line neither needs nor writes a setting."""
    before = settings.read_all(bureau)
    # the same store on PostgreSQL, whose bureau keys open with the key passphrase
    server = {k: v for k, v in os.environ.items() if k in ("DSJ_DATABASE_URL", "DSJ_KEY_PASSPHRASE")}
    r = _cli(bureau.data_dir, "--user", "op", "draw", "RW-2026-04", "--date", "2026-06-01", "--out", str(tmp_path / "out"),
             "--place", "三楼会议室", "--operator", "李操作", "--witness", "甲=31415926535",
             "--witness", "乙=27182818284", DSJ_PASSWORD=PW, **server)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert any(p.suffix == ".pdf" for p in (tmp_path / "out").iterdir())
    assert settings.read_all(bureau) == before
    assert bureau.scalar("SELECT count(*) FROM draw_session WHERE task_code = 'RW-2026-04'") >= 1
