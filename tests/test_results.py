"""Result entry over the database: only drawn targets, checks, batch in one transaction, corrections
with history, nothing deletable, the demo's draws and results."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

import dsj_desktop
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.db.migrations import PROTECTED_TABLES, SCHEMA_VERSION, keep_triggers
from dsj_desktop.domain.result_specs import ENTERED, INSPECTED, PUBLISHED, TODO
from dsj_desktop.domain.workdays import DeadlineState
from dsj_desktop.errors import ValidationError
from dsj_desktop.paths import database_path
from dsj_desktop.services import holidays, results, sessions
from dsj_desktop.services.results import ResultInput, ResultRow, load_rows, save_result, save_results
from tests.test_db import FIXTURES, _restore_v1
from tests.test_draw_sessions import full_draw

DRAWN_ON = date(2026, 9, 25)
AT = datetime(2026, 10, 9, 15, 0)  # "now" for the entries (Friday after the National Day)
OK = ResultInput(date(2026, 9, 28), "发现问题已责令改正", 2, "责令改正", rectify_by=date(2026, 10, 28))


@pytest.fixture
def drawn(demo_db: Database) -> tuple[Database, sessions.Session, list[ResultRow]]:
    s = full_draw(demo_db, "RW-2026-03", on=DRAWN_ON)
    with demo_db.read() as conn:
        rows = sorted(load_rows(conn, session_id=s.id), key=lambda r: r.position)
    return demo_db, s, rows


def _count(db: Database, table: str) -> int:
    return int(db.scalar(f"SELECT count(*) FROM {table}"))


def test_every_drawn_target_is_listed_with_its_team(
    drawn: tuple[Database, sessions.Session, list[ResultRow]],
) -> None:
    _db, s, rows = drawn
    assert len(rows) == len(s.result) == 20
    assert all(r.status == TODO and r.result_id is None for r in rows)
    teams = s.current_teams()
    for r in rows[:3]:
        want = teams[r.uscc]["inspector"] + teams[r.uscc]["expert"]
        assert [c for c, _ in r.team] == want
        assert all(name and name != code for code, name in r.team)


def test_a_target_that_was_not_drawn_is_refused(
    drawn: tuple[Database, sessions.Session, list[ResultRow]],
) -> None:
    db, s, rows = drawn
    drawn_ids = {r.uscc for r in rows}
    other = next(
        u for (u,) in db.engine.connect().exec_driver_sql("SELECT uscc FROM target") if u not in drawn_ids
    )
    with pytest.raises(ValidationError, match=f"企业 {other} 不是抽取场次 {s.id} 抽中的检查对象"):
        save_result(db, s.id, other, OK, at=AT)
    with pytest.raises(ValidationError, match="没有编号为“S-2026-9999-XXXX”的抽取场次"):
        save_result(db, "S-2026-9999-XXXX", rows[0].uscc, OK, at=AT)
    assert _count(db, "inspection_result") == 0
    # The database itself refuses a result row that no selection backs (SQLite's and PostgreSQL's words).
    with pytest.raises(Exception, match=r"(?i)foreign key constraint"), db.write() as conn:
        conn.exec_driver_sql(
            "INSERT INTO inspection_result (session_id, uscc, task_code, inspectors, method, category, hazards, "
            "disposal, remarks, items, version, entered_by, entered_at, first_entered_at, published_version, "
            "published_at, published_by, created_at, updated_at) VALUES (?, ?, 'X', '[]', '', '', 0, '', '', '[]', "
            "1, '', '', '', 0, '', '', '', '')",
            (s.id, other),
        )


def test_results_are_refused_for_a_voided_session(
    drawn: tuple[Database, sessions.Session, list[ResultRow]],
) -> None:
    db, s, rows = drawn
    save_result(db, s.id, rows[0].uscc, OK, operator="张明", at=AT)
    sessions.void(db, s.id, "抽取时投影设备故障，见证人未能看清", operator="张明")
    with pytest.raises(ValidationError, match=f"抽取场次 {s.id} 已作废"):
        save_result(db, s.id, rows[1].uscc, OK, at=AT)
    with db.read() as conn:
        assert load_rows(conn) == []  # the tab lists confirmed draws only
        kept = load_rows(conn, include_voided=True)
    assert len(kept) == 20 and kept[0].category  # the earlier result is kept


def test_values_are_checked(drawn: tuple[Database, sessions.Session, list[ResultRow]]) -> None:
    db, s, rows = drawn
    r = rows[0]
    cases = {
        "早于抽取日期": ResultInput(date(2026, 9, 24), "未发现问题", 0, "无需后续处置"),
        "晚于今天": ResultInput(date(2026, 10, 10), "未发现问题", 0, "无需后续处置"),
        "隐患数量应为 0": ResultInput(date(2026, 9, 28), "未发现问题", 3, "无需后续处置"),
        "请选择处置措施": ResultInput(date(2026, 9, 28), "已立案查处", 1, ""),
        "整改期限 2026-09-27 早于检查日期": replace_input(rectify_by=date(2026, 9, 27)),
        "不得少于 2 人": replace_input(inspectors=(r.team[0][0],)),
        "不在执法检查人员名录库或专家库中": replace_input(inspectors=("99999999999", r.team[0][0])),
        "不是检查方式": replace_input(method="电话询问"),
    }
    for message, inp in cases.items():
        with pytest.raises(ValidationError, match=message):
            save_result(db, s.id, r.uscc, inp, at=AT)
    # A written check may be done by one person.
    save_result(db, s.id, r.uscc, replace_input(method="书面检查", inspectors=(r.team[0][0],)), at=AT)
    assert _count(db, "inspection_result") == 1


def replace_input(**over: object) -> ResultInput:
    from dataclasses import replace

    return replace(OK, **over)  # type: ignore[arg-type]


def test_a_correction_needs_a_reason_and_keeps_every_version(
    drawn: tuple[Database, sessions.Session, list[ResultRow]],
) -> None:
    db, s, rows = drawn
    r = rows[0]
    first = save_result(db, s.id, r.uscc, OK, operator="张明", at=AT)
    assert first.version == 1 and first.changed and not first.corrected
    # Saving the same again changes nothing (no new version).
    assert not save_result(db, s.id, r.uscc, OK, operator="张明", at=AT).changed
    fixed = replace_input(category="发现问题待后续处理", hazards=3)
    with pytest.raises(ValidationError, match="须写明更正原因"):
        save_result(db, s.id, r.uscc, fixed, operator="李娜", at=AT)
    second = save_result(
        db, s.id, r.uscc, fixed, operator="李娜", reason="漏记一项隐患", at=datetime(2026, 10, 20, 9)
    )
    assert second.version == 2 and second.corrected
    with db.read() as conn:
        row = results.get_row(conn, s.id, r.uscc)
        versions = results.history(conn, row.result_id or 0)
    assert row.category == "发现问题待后续处理" and row.hazards == 3 and row.version == 2
    assert row.entered_by == "李娜" and row.first_entered_at.startswith(
        "2026-10-09"
    )  # the first entry counts
    assert [(v.version, v.changed_by, v.reason, v.data["category"], v.data["hazards"]) for v in versions] == [
        (1, "张明", "", "发现问题已责令改正", 2),
        (2, "李娜", "漏记一项隐患", "发现问题待后续处理", 3),
    ]
    # The earlier state is whole: the inspectors and items as saved then.
    assert versions[0].data["inspectors"] == [list(p) for p in r.team]
    assert versions[0].data["items"][0]["code"] == "YJ-005"
    # History rows can never be rewritten.
    with pytest.raises(Exception, match="不能删除或改写"), db.write() as conn:
        conn.exec_driver_sql("UPDATE result_version SET reason = 'x'")


def test_batch_entry_is_one_transaction(drawn: tuple[Database, sessions.Session, list[ResultRow]]) -> None:
    db, s, rows = drawn
    keys = [r.key for r in rows[:5]]
    out = save_results(db, keys, OK, operator="张明", at=AT)
    assert [o.version for o in out] == [1] * 5
    with db.read() as conn:
        got = {r.key: r for r in load_rows(conn, session_id=s.id)}
    for k, r in zip(keys, rows[:5], strict=True):
        assert got[k].category == OK.category and got[k].status == ENTERED
        assert [c for c, _ in got[k].inspectors] == [c for c, _ in r.team]  # each its own team
    # One bad target among many: nothing is saved, every problem listed.
    before = _count(db, "result_version")
    bad = [*[r.key for r in rows[5:9]], (s.id, "91350100M000100Y43")]
    with pytest.raises(ValidationError) as exc:
        save_results(db, bad, OK, operator="张明", at=AT)
    assert "不是抽取场次" in str(exc.value) and "数据库未作任何改动" in str(exc.value)
    assert _count(db, "result_version") == before
    assert _count(db, "inspection_result") == 5


def test_recording_the_inspection_first(drawn: tuple[Database, sessions.Session, list[ResultRow]]) -> None:
    db, s, rows = drawn
    r = rows[0]
    save_result(db, s.id, r.uscc, ResultInput(date(2026, 9, 28)), operator="张明", at=AT)
    with db.read() as conn:
        row = results.get_row(conn, s.id, r.uscc)
        cal = holidays.load_calendar(conn)
    assert row.status == INSPECTED and row.first_entered_at == ""
    dl = row.deadline(cal, 7, date(2026, 10, 9))
    assert dl.due == date(2026, 10, 13) and dl.state is DeadlineState.OPEN and dl.left == 4
    assert row.deadline(cal, 7, date(2026, 10, 14)).state is DeadlineState.OVERDUE
    # Entered on 10/14: late, and it stays marked.
    save_result(db, s.id, r.uscc, OK, operator="张明", at=datetime(2026, 10, 14, 9))
    with db.read() as conn:
        row = results.get_row(conn, s.id, r.uscc)
    assert row.status == ENTERED and row.deadline(cal, 7, date(2026, 12, 1)).state is DeadlineState.LATE
    # Only recording a date can never overwrite an entered result.
    with pytest.raises(ValidationError, match="请使用“更正”"):
        save_result(db, s.id, r.uscc, ResultInput(date(2026, 9, 29)), at=AT)


def test_the_deadline_setting(drawn: tuple[Database, sessions.Session, list[ResultRow]]) -> None:
    db, s, rows = drawn
    save_result(db, s.id, rows[0].uscc, ResultInput(date(2026, 9, 28)), at=AT)
    holidays.set_deadline_days(db, 5)
    with pytest.raises(ValidationError):
        holidays.set_deadline_days(db, 0)
    with db.read() as conn:
        assert holidays.deadline_days(conn) == 5
        c = results.count(load_rows(conn), holidays.load_calendar(conn), 5, date(2026, 10, 9))
    assert c.by_status[INSPECTED] == 1 and c.due_soon == 1  # due 10/9 (5 working days): today
    assert c.by_status[TODO] == 19 and c.by_status[PUBLISHED] == 0


def test_operator_entered_holidays_are_stored_and_used(db: Database) -> None:
    from dsj_desktop.domain.workdays import YearArrangement, parse_date_list

    with pytest.raises(ValidationError, match="程序已自带"):
        holidays.save_arrangement(db, YearArrangement(2026, frozenset({date(2026, 1, 1)}), frozenset()))
    arr = YearArrangement(2027, frozenset(parse_date_list("2027-01-01 至 2027-01-03")), frozenset())
    holidays.save_arrangement(db, arr, operator="张明", note="国办发明电")
    with db.read() as conn:
        cal = holidays.load_calendar(conn)
        table = {y.year: y for y in holidays.year_table(conn, 2026)}
    assert cal.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert (
        table[2027].source == "操作员录入" and table[2027].holidays == 3 and table[2027].entered_by == "张明"
    )
    assert table[2028].missing
    # Saving again replaces the year's days.
    holidays.save_arrangement(db, YearArrangement(2027, frozenset({date(2027, 1, 1)}), frozenset()))
    assert db.scalar("SELECT count(*) FROM holiday_day") == 1


def test_the_database_refuses_to_delete_anything_tied_to_a_draw(
    drawn: tuple[Database, sessions.Session, list[ResultRow]],
) -> None:
    db, s, rows = drawn
    save_result(db, s.id, rows[0].uscc, OK, at=AT)
    for table, _ in PROTECTED_TABLES:
        if table.startswith("publication"):
            continue
        with pytest.raises(Exception, match="至少保存 5 年"), db.write() as conn:
            conn.exec_driver_sql(f"DELETE FROM {table}")
    assert _count(db, "draw_selection") == 20 and _count(db, "inspection_result") == 1


@pytest.mark.sqlite_only(
    "a version-1 SQLite file upgraded (a server database is created at version 6, with the same keep_* "
    "triggers checked by test_postgres::test_disabled_or_dropped_trigger_is_found_and_restored)"
)
def test_an_upgraded_database_has_the_same_protecting_triggers(tmp_path: Path) -> None:
    old = tmp_path / "old"
    _restore_v1(old)
    open_database(old).close()
    new = tmp_path / "new"
    open_database(new).close()

    def triggers(p: Path) -> list[tuple[str, str]]:
        with sqlite3.connect(database_path(p)) as c:
            rows = c.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'keep_%' ORDER BY name"
            ).fetchall()
        c.close()
        return rows

    assert triggers(old) == triggers(new)
    assert len(triggers(new)) == len(keep_triggers(SCHEMA_VERSION))  # the journal's two among them
    assert (FIXTURES / "schema-v1.sql").exists()


def test_no_code_path_deletes_draw_sessions_selections_or_results() -> None:
    pkg = Path(dsj_desktop.__file__).resolve().parent
    protected = "|".join(t for t, _ in PROTECTED_TABLES)
    pattern = re.compile(rf"DELETE\s+FROM\s+({protected})\b|DROP\s+TABLE|\.delete\(", re.I)
    offenders = [
        f"{p.relative_to(pkg)}:{i}"
        for p in pkg.rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_the_demo_holds_confirmed_draws_with_results(demo_results_db: Database) -> None:
    db = demo_results_db
    with db.read() as conn:
        listed = sessions.list_sessions(conn)
        rows = load_rows(conn)
        cal = holidays.load_calendar(conn)
    assert [(s.task_code, s.status, s.draw_date) for s in listed] == [
        ("RW-2026-01", "confirmed", date(2026, 3, 9)),
        ("RW-2026-03", "confirmed", date(2026, 4, 7)),
    ]
    assert all(s.record is not None for s in listed)
    c = results.count(rows, cal, 7, date(2026, 11, 23))
    assert c.by_status == {TODO: 36, INSPECTED: 2, ENTERED: 24, PUBLISHED: 0}
    assert (c.late, c.overdue) == (2, 2)
    corrected = [r for r in rows if r.version == 2]
    assert len(corrected) == 2 and all(r.entered_by == "李娜" for r in corrected)
    with db.read() as conn:
        versions = results.history(conn, corrected[0].result_id or 0)
    assert versions[1].reason.startswith("复核检查记录")
