"""One write path: whatever writes a row (an import with or without new code values, small or bulk,
settings, the code-list dialog, holidays, accounts, the plan, a draw, results, a restore), the
database passes its own integrity check right after. An honest database never fails its own check."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop import actor
from dsj_desktop.actor import ADMIN, OPERATOR
from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.domain import codelists
from dsj_desktop.domain.rules import Rules
from dsj_desktop.domain.specs import INSPECTORS, TARGETS
from dsj_desktop.domain.workdays import YearArrangement
from dsj_desktop.io.importer import BULK_ROWS, import_directory, read_records
from dsj_desktop.progress import run_job
from dsj_desktop.services import accounts, backup, codes, holidays, integrity, sessions, settings
from dsj_desktop.services.directory import DirectoryQuery
from dsj_desktop.services.plan import archive_task, get_task, save_rules, save_task
from dsj_desktop.services.results import ResultInput, load_rows, save_result
from tests.test_draw_sessions import full_draw
from tests.test_import import target_row, write_xlsx


def _honest(db: Database, step: str) -> None:
    report = run_job(integrity.check(db))
    assert report.ok, f"after {step}:\n{report.text()}"


def _last_entry(db: Database) -> tuple[str, dict[str, Any]]:
    with db.read() as conn:
        action, detail = conn.exec_driver_sql(
            "SELECT action, detail FROM journal ORDER BY id DESC LIMIT 1"
        ).one()
    return str(action), json.loads(detail)


def test_imports_adding_code_values_are_sealed_and_journalled(db: Database, tmp_path: Path) -> None:
    _honest(db, "creating the file")
    small = write_xlsx(tmp_path / "small.xlsx", [target_row(n, 所属区域=f"甲{n % 3}镇") for n in range(1, 8)])
    run_job(import_directory(db, TARGETS, small, add_unknown_codes=True))
    _honest(db, "a small import adding towns")
    action, detail = _last_entry(db)
    assert detail["codes_added"] == {"所属区域": ["甲0镇", "甲1镇", "甲2镇"]}
    assert detail["changes"]["code_value"] == {"insert": 3}

    # A county's first import: thousands of rows (the bulk path, triggers off) and new towns.
    n = BULK_ROWS + 10
    big = write_xlsx(
        tmp_path / "big.xlsx", [target_row(i, 所属区域=f"乙{i % 12}镇") for i in range(100, 100 + n)]
    )
    run_job(import_directory(db, TARGETS, big, add_unknown_codes=True))
    _honest(db, "a bulk import adding 12 towns")
    action, detail = _last_entry(db)
    assert action.startswith("导入检查对象名录库")
    assert detail["changes"]["code_value"] == {"insert": 12}
    assert detail["changes"]["target"]["insert"] == n
    assert sorted(detail["codes_added"]["所属区域"]) == sorted(f"乙{i}镇" for i in range(12))
    listed = {r["values"]["value"] for r in detail["rows"] if r["table"] == "code_value"}
    assert listed == {f"乙{i}镇" for i in range(12)}

    # Re-importing the same file: nothing new, still honest.
    run_job(import_directory(db, TARGETS, big, add_unknown_codes=True))
    _honest(db, "a bulk re-import")


def test_bulk_seals_made_from_one_template_are_the_seals_the_triggers_make(
    db: Database, tmp_path: Path
) -> None:
    """A bulk import whose columns are known to be all text or all numbers seals from a template; the
    same rows imported a few at a time (triggers on) get the same seals, row for row."""
    n = BULK_ROWS + 5
    rows = [target_row(i, 企业名称=f"企业{i}“%s”%d{{}}", 地址="" if i % 7 else "城关镇1号") for i in range(n)]
    big = write_xlsx(tmp_path / "big.xlsx", rows)
    parsed = run_job(read_records(TARGETS, big, tolerate_unknown_codes=True))
    types = parsed.db_rows_and_types(TARGETS)[1]
    assert types is not None and set(types) == {str, int}  # the template path is taken
    run_job(import_directory(db, TARGETS, big, add_unknown_codes=True))
    _honest(db, "a bulk import sealed from a template")
    other = open_database(tmp_path / "small")
    for start in range(0, n, BULK_ROWS - 1):  # below BULK_ROWS: the triggers seal each row
        part = write_xlsx(tmp_path / f"part{start}.xlsx", rows[start : start + BULK_ROWS - 1])
        run_job(import_directory(other, TARGETS, part, add_unknown_codes=True))

    def seals(d: Database) -> dict[int, bytes]:
        with d.read() as conn:
            return dict(conn.exec_driver_sql("SELECT row_id, seal FROM row_seal WHERE tbl = 'target'").all())

    ours, theirs = seals(db), seals(other)
    assert len(ours) == n and ours.keys() == theirs.keys()
    # The seals cover the times of writing, which differ: compare with those times made equal.
    # (On a server a seal covers the row's JSON as the server renders it, with those times put in.)
    with db.read() as c1, other.read() as c2:
        t1 = c1.exec_driver_sql("SELECT DISTINCT created_at FROM target").scalar_one()
        if db.on_server:
            same = c2.exec_driver_sql(
                "SELECT t.rowid, (to_jsonb(t) || jsonb_build_object('created_at', ?::text, 'updated_at', ?::text))"
                "::text FROM target AS t ORDER BY t.rowid",
                (t1, t1),
            ).all()
        else:
            same = [
                (r[0], *r[1:-2], t1, t1)
                for r in c2.exec_driver_sql("SELECT rowid, * FROM target ORDER BY rowid")
            ]
    guard = db.guard
    assert len(same) == n
    for row in same:
        assert guard.seal("target", row[0], row[1:]) == ours[row[0]]
    other.close()


def test_a_confirmed_draw_s_rows_are_sealed_and_journalled_as_the_row_triggers_do_it(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Confirming writes its selection and team rows in one pass (triggers off on SQLite): the same
    seals, counts and listed rows as the row triggers make, and a row changed behind the program's back
    afterwards is still found."""
    db = demo_db

    def through_triggers(
        conn: Any, guard: Any, table: str, attrs: Any, rows: Any, fixed: Any, types: Any = None
    ) -> None:
        names = [*attrs, *fixed]
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [(*r, *fixed.values()) for r in rows],
        )

    def confirm_entry(s: sessions.Session) -> dict[str, Any]:
        with db.read() as conn:
            detail = conn.exec_driver_sql(
                "SELECT detail FROM journal WHERE action = ? ORDER BY id DESC LIMIT 1",
                (f"确认抽取结果：场次 {s.id}",),
            ).scalar_one()
        return dict(json.loads(detail))

    def record_through_trigger(
        conn: Any, guard: Any, table: str, values: Any, column: str, data: bytes, *_: Any, **__: Any
    ) -> None:
        row = {**values, column: data.decode("utf-8")}
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )

    def void_entry(s: sessions.Session) -> dict[str, Any]:
        sessions.void(db, s.id, "与一次写入的路径比较")
        return _last_entry(db)[1]

    with monkeypatch.context() as m:
        m.setattr(guard_mod, "insert_rows", through_triggers)
        m.setattr(guard_mod, "insert_text_row", record_through_trigger)
        before = full_draw(db, "RW-2026-04")
        old = confirm_entry(before)
        old_void = void_entry(before)
    after = full_draw(db, "RW-2026-04", again="比较")
    new = confirm_entry(after)
    _honest(db, "a confirmation sealed in one pass")
    new_void = void_entry(after)
    _honest(db, "a void whose record was sealed from its bytes")
    # The void's new record version (its row listed with its length and SHA-256) as the trigger lists it.
    assert new_void["changes"] == old_void["changes"]
    assert [(r["table"], r["op"]) for r in new_void["rows"]] == [
        (r["table"], r["op"]) for r in old_void["rows"]
    ]
    listed = next(r for r in new_void["rows"] if r["table"] == "draw_record")
    with db.read() as conn:
        stored = conn.exec_driver_sql(
            "SELECT rowid, session_id, version, sha256, record, created_at, targets_at FROM draw_record "
            "WHERE session_id = ? AND version = 2",
            (after.id,),
        ).one()
    assert listed["rowid"] == stored[0] and listed["values"] == {
        "session_id": after.id, "version": 2, "sha256": stored[3], "record": guard_mod._brief(stored[4]),
        "created_at": stored[5], "targets_at": stored[6],
    }  # fmt: skip
    assert stored[6] is not None  # stored without its candidates (the stored inputs' text)

    assert new["changes"] == old["changes"]
    assert new["changes"]["draw_member"] == {"insert": 2 * len(after.result)}
    assert [(r["table"], r["op"], sorted(r["values"])) for r in new["rows"]] == [
        (r["table"], r["op"], sorted(r["values"])) for r in old["rows"]
    ]
    SELECTION = ("session_id", "uscc", "position", "stratum", "ticket", "mandatory", "name")
    with db.read() as conn:
        listed = {
            r[0]: r[1:]
            for r in conn.exec_driver_sql(
                f"SELECT rowid, {', '.join(SELECTION)} FROM draw_selection WHERE session_id = ?",
                (after.id,),
            )
        }
        for r in new["rows"]:
            if r["table"] == "draw_selection":
                assert r["values"] == dict(zip(SELECTION, listed[r["rowid"]], strict=True))
        if not db.on_server:  # each seal is the one the trigger's function computes from the row as stored
            for table in ("draw_selection", "draw_member"):
                seals = dict(
                    conn.exec_driver_sql("SELECT row_id, seal FROM row_seal WHERE tbl = ?", (table,)).all()
                )
                rows = conn.exec_driver_sql(
                    f"SELECT rowid, * FROM {table} WHERE session_id = ?", (after.id,)
                ).all()
                assert rows and all(seals[r[0]] == db.guard.seal(table, r[0], r[1:]) for r in rows)

    if not db.on_server:  # a team member changed behind the program's back (its triggers lifted)
        db.close()
        con = sqlite3.connect(db.path)
        triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("UPDATE draw_member SET person_code = 'X' WHERE id = (SELECT max(id) FROM draw_member)")
        for _, sql in triggers:
            con.execute(sql)
        con.commit()
        con.close()
        other = open_database(db.data_dir)
        report = run_job(integrity.check(other))
        other.close()
        assert [(f.table, f.detail) for f in report.findings] == [
            ("检查组成员", "这一行在本程序之外被改动过")
        ]


def test_a_prepared_session_s_frozen_inputs_are_sealed_and_journalled_as_the_row_trigger_does_it(
    demo_db: Database,
) -> None:
    """Prepare stores the frozen candidates from their UTF-8 (sealed and listed without the row
    trigger on SQLite): the seal the trigger's function computes from the row as stored, the row
    counted and listed as the trigger lists it, and the file honest."""
    db = demo_db
    s = sessions.prepare(db, "RW-2026-04", on=date(2026, 6, 1), operator="测试员")
    _honest(db, "a prepared session")
    action, detail = _last_entry(db)
    assert action == "抽取准备：任务 RW-2026-04"
    assert detail["changes"]["draw_input"] == {"insert": 1}
    listed = next(r for r in detail["rows"] if r["table"] == "draw_input")
    cols = ("session_id", "task", "targets", "other", "created_at")
    with db.read() as conn:
        stored = conn.exec_driver_sql(
            f"SELECT rowid, {', '.join(cols)} FROM draw_input WHERE session_id = ?", (s.id,)
        ).one()
        seal = conn.exec_driver_sql(
            "SELECT seal FROM row_seal WHERE tbl = 'draw_input' AND row_id = ?", (stored[0],)
        ).scalar_one()
    assert len(stored[3]) > guard_mod.JOURNAL_VALUE_CHARS  # listed by its length and SHA-256
    assert listed == guard_mod.describe_row("draw_input", "I", stored[0], cols, None, stored[1:])
    if not db.on_server:
        assert bytes(seal) == db.guard.seal("draw_input", stored[0], stored[1:])
    sessions.void(db, s.id, "比较之后作废")
    _honest(db, "a prepared session voided")


@pytest.mark.sqlite_only(
    "the row id SQLite gives after the largest one; a server seals at the end of the write"
)
def test_a_long_text_row_given_another_row_id_than_the_next_is_sealed_for_the_one_it_got(
    db: Database,
) -> None:
    """insert_text_row seals the row (in a thread, while SQLite stores it) for the row id that comes
    next; after the largest possible row id SQLite picks another at random: the row is sealed again for
    the id it got, and the file stays honest."""
    with db.write("测试") as conn:
        conn.exec_driver_sql("INSERT INTO setting (rowid, key, value) VALUES (9223372036854775807, 'a', '1')")
    text = "长文本" * 200
    with db.write("测试") as conn:
        guard_mod.insert_text_row(conn, db.guard, "setting", {"key": "b"}, "value", text.encode(), len(text))
    _honest(db, "a long text stored under a random row id")
    with db.read() as conn:
        rowid, value = conn.exec_driver_sql("SELECT rowid, value FROM setting WHERE key = 'b'").one()
    assert value == text and rowid != 9223372036854775807
    _, detail = _last_entry(db)
    listed = next(r for r in detail["rows"] if r["table"] == "setting")
    assert listed == guard_mod.describe_row("setting", "I", rowid, ("key", "value"), None, ("b", text))


@pytest.mark.sqlite_only("SQLite's WAL and its checkpoints")
def test_a_long_text_is_copied_from_the_wal_into_the_file_after_its_commit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that stores a long text asking for it (a signed draw record: ~9 MB) commits without
    SQLite's automatic checkpoint, which would copy its pages from the WAL into the database file (and
    sync the file) before the COMMIT returns: a thread of the program copies them just after. The
    connection's own setting is back after the write, and the file is honest before and after the copy."""
    later: list[Database] = []
    monkeypatch.setattr(Database, "_checkpoint_later", lambda self: later.append(self))
    text = "长文本" * 600_000  # 5.4 MB: over the 1,000 pages (4 MB) of WAL that make SQLite checkpoint
    size = len(text.encode())
    before = db.path.stat().st_size
    with db.write("测试") as conn:
        guard_mod.insert_text_row(
            conn, db.guard, "setting", {"key": "b"}, "value", text.encode(), len(text), checkpoint_later=True
        )
        dbapi = conn.connection.driver_connection
        assert isinstance(dbapi, sqlite3.Connection)
    assert db.path.stat().st_size < before + size  # committed, in the WAL only
    assert later == [db]
    assert dbapi.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    _honest(db, "a long text committed, not yet copied into the file")
    monkeypatch.undo()
    db._checkpoint_later()
    db.wait_for_checkpoint()
    assert db.path.stat().st_size > before + size  # copied
    _honest(db, "a long text copied into the file")
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT value FROM setting WHERE key = 'b'").scalar_one() == text


def test_every_write_path_leaves_an_honest_database(demo_db: Database, tmp_path: Path) -> None:
    db = demo_db
    _honest(db, "the demo county")
    steps: list[tuple[str, Callable[[], Any]]] = []

    def step(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
        def add(fn: Callable[[], Any]) -> Callable[[], Any]:
            steps.append((name, fn))
            return fn

        return add

    @step("settings: bureau name")
    def _() -> None:
        settings.write(db, settings.BUREAU_NAME, "某县应急管理局")

    @step("rules")
    def _() -> None:
        save_rules(db, Rules())

    @step("code list dialog: add, rename (cascading to targets), remove")
    def _() -> None:
        codes.add_code(db, codelists.REGION, "新城街道")
        codes.add_code(db, codelists.REGION, "临时镇")
        town = db.scalar("SELECT region FROM target LIMIT 1")
        codes.rename_code(db, codelists.REGION, town, town + "（新）")
        codes.remove_code(db, codelists.REGION, "临时镇")

    @step("directory dialog: add, edit, archive an inspector")
    def _() -> None:
        q = DirectoryQuery(db, INSPECTORS)
        rid = q.add({"cert_no": "T-9001", "name": "测试员", "cert_valid_until": date(2030, 1, 1)})
        q.update(rid, {**q.get(rid), "department": "执法大队"})
        q.set_archived([rid], True)

    @step("holidays and the deadline length")
    def _() -> None:
        holidays.save_arrangement(
            db, YearArrangement(2031, frozenset({date(2031, 1, 1)}), frozenset()), operator="测试"
        )
        holidays.set_deadline_days(db, 7)

    @step("a small targets import without new codes")
    def _() -> None:
        region = db.scalar("SELECT value FROM code_value WHERE list_name = 'region' LIMIT 1")
        path = write_xlsx(tmp_path / "t.xlsx", [target_row(n, 所属区域=region) for n in range(1, 4)])
        run_job(import_directory(db, TARGETS, path))

    @step("a targets import with new towns")
    def _() -> None:
        path = write_xlsx(tmp_path / "t2.xlsx", [target_row(n, 所属区域="丙镇") for n in range(4, 9)])
        run_job(import_directory(db, TARGETS, path, add_unknown_codes=True))

    @step("plan: a new task, edited, archived, restored")
    def _() -> None:
        with db.read() as conn:
            t = get_task(conn, "RW-2026-03")
        values = {
            "plan_code": t.plan_code, "plan_name": t.plan_name, "plan_year": t.plan_year, "code": "RW-T-1",
            "name": "测试任务", "draw_type": t.draw_type, "items": "、".join(t.item_codes),
            "industries": "、".join(t.industries), "ratio": "10%", "team_size": 2, "expert_count": 0,
            "start_date": t.start_date, "end_date": t.end_date,
        }  # fmt: skip
        save_task(db, values, new=True)
        save_task(db, {**values, "name": "测试任务（改）"}, new=False)
        archive_task(db, "RW-T-1")
        archive_task(db, "RW-T-1", archived=False)

    @step("a draw: prepare … confirm, a substitution, a voided session")
    def _() -> None:
        s = full_draw(db, "RW-2026-03", on=date(2026, 9, 25))
        x = s.result[0]
        sessions.substitute(db, s.id, x["id"], x["inspectors"][0], "生病", operator="测试")
        v = sessions.prepare(db, "RW-T-1", on=date(2026, 9, 25))
        sessions.commit(db, v.id)
        sessions.void(db, v.id, "测试作废")

    @step("results")
    def _() -> None:
        with db.read() as conn:
            row = next(r for r in load_rows(conn) if r.session_id)
        inp = ResultInput(
            date(2026, 9, 28), "发现问题已责令改正", 2, "责令改正", rectify_by=date(2026, 10, 28)
        )
        save_result(db, row.session_id, row.uscc, inp, at=datetime(2026, 10, 9, 15, 0))

    @step("accounts: first administrator, an operator, a role change, a password change")
    def _() -> None:
        accounts.create_account(db, "admin", "管理员", ADMIN, "Qingshan#2026x")
        actor.set_current(accounts.login(db, "admin", "Qingshan#2026x"))
        accounts.create_account(db, "op", "操作员", OPERATOR, "Qingshan#2026y")
        accounts.update_account(db, "op", active=False)
        accounts.change_password(db, "admin", "Qingshan#2026x", "Qingshan#2026z")

    try:
        for name, fn in steps:
            fn()
            _honest(db, name)
        (tmp_path / "usb").mkdir()
        info = backup.backup_to_folder(db, tmp_path / "usb")
        safety, restored = backup.restore(db, info.path)  # closes the database
        again = open_database(db.data_dir)
        try:
            backup.note_restore(again, safety, restored)
            _honest(again, "a restore")
        finally:
            again.close()
    finally:
        actor.set_current(None)
