"""A draw started from the pool read before (the draw screen's): frozen as it was read only while the
data are unchanged since, by the program or from outside; otherwise read again."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db import pg
from dsj_desktop.db.engine import Database
from dsj_desktop.draw.record import verify_record
from dsj_desktop.paths import database_path
from dsj_desktop.progress import run_job
from dsj_desktop.services import draw_ready, integrity, sessions
from dsj_desktop.services.draw_preview import pool_preview

TASK = "RW-2026-03"
ON = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def ready(demo_db: Database) -> None:
    """The PDF certificate made (a first draw makes it, a write of its own: the data then differ from
    any pool read before it), so that only what each test does changes the data."""
    assert draw_ready.signing_problems(demo_db, create=True) == []


def plan_of(db: Database, task: str = TASK, on: date = ON) -> sessions.DrawPlan:
    with db.read() as conn:
        return sessions.plan_draw(conn, task, on)


def prepare_event(db: Database, s: sessions.Session) -> dict[str, Any]:
    with db.read() as conn:
        first = sessions.events(conn, s.id)[0]
    assert first["kind"] == "prepare"
    detail: dict[str, Any] = first["detail"]
    return detail


def frozen(db: Database, s: sessions.Session) -> tuple[str, str]:
    """The stored candidates' text and the hashes announced."""
    with db.read() as conn:
        text = conn.exec_driver_sql("SELECT targets FROM draw_input WHERE session_id = ?", (s.id,)).scalar()
    if isinstance(text, bytes):
        text = text.decode()
    return str(text), repr(sorted(s.hashes.items()))


def candidate_ids(db: Database, s: sessions.Session) -> set[str]:
    with db.read() as conn:
        return {t[0] for t in sessions.load_session(conn, s.id).inputs["targets"]}


def draw_to_a_verified_record(db: Database, s: sessions.Session) -> None:
    """A prepared session taken through the witnesses and the reveal to a confirmed record that verifies."""
    s = sessions.commit(db, s.id)
    s = sessions.add_witness(db, s.id, "企业代表", "3141592653")
    s = sessions.add_witness(db, s.id, "纪检监督员", "2718281828")
    s = sessions.do_reveal(db, s.id)
    s = sessions.confirm(db, s.id)
    assert s.record is not None and verify_record(s.record).ok


def test_a_draw_from_the_pool_read_before_freezes_what_a_fresh_read_freezes(demo_db: Database) -> None:
    with demo_db.read() as conn:
        pv = pool_preview(conn, TASK, ON)  # what the draw screen shows
    assert pv.plan.targets is not None and len(pv.plan.targets) == len(pv.pool.pool.candidates)
    s = sessions.prepare(demo_db, TASK, on=ON, operator="测试员", plan=pv.plan)
    detail = prepare_event(demo_db, s)
    assert detail["reused_plan"] is True and detail["data_at"] == pv.plan.head[0]  # type: ignore[index]
    from_plan = frozen(demo_db, s)
    sessions.void(demo_db, s.id, "测试：作废后重抽")
    cold = sessions.prepare(demo_db, TASK, on=ON, operator="测试员")
    assert prepare_event(demo_db, cold)["reused_plan"] is False
    assert frozen(demo_db, cold) == from_plan  # byte for byte, and the same four hashes
    # A draw from the plan goes all the way to a record that verifies.
    sessions.void(demo_db, cold.id, "测试：作废后重抽")
    s = sessions.prepare(demo_db, TASK, on=ON, operator="测试员", plan=plan_of(demo_db))
    assert prepare_event(demo_db, s)["reused_plan"] is True
    draw_to_a_verified_record(demo_db, s)


def test_on_a_server_the_candidates_are_escaped_for_their_seal_with_the_plan(
    demo_db: Database, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a server the plan carries the candidates' text escaped as their seal takes it: 开始抽取
    escapes none of it, the frozen row's seal is right (``check``) and the draw goes on to a record that
    verifies. On SQLite the plan keeps no such copy (a text is sealed there as it is)."""
    plan = plan_of(demo_db)
    assert plan.targets_text is not None
    if engine != "postgres":
        assert plan.targets_utf8 is None and plan.targets_escaped is None
        return
    assert plan.targets_utf8 == plan.targets_text.encode("utf-8")
    escaped: list[int] = []
    real = pg.json_string_body_chunks

    def chunks(data: bytes, size: int = pg.ESCAPE_CHUNK) -> Any:
        escaped.append(len(data))
        return real(data, size)

    monkeypatch.setattr(pg, "json_string_body_chunks", chunks)
    s = sessions.prepare(demo_db, TASK, on=ON, operator="测试员", plan=plan)
    assert prepare_event(demo_db, s)["reused_plan"] is True
    assert sum(escaped) < len(plan.targets_utf8) // 10, escaped  # (the candidates not escaped again)
    monkeypatch.undo()
    report = run_job(integrity.check(demo_db))
    assert report.ok, report.text()
    draw_to_a_verified_record(demo_db, s)
    report = run_job(integrity.check(demo_db))
    assert report.ok, report.text()


def test_a_change_by_the_program_after_the_read_is_seen(demo_db: Database) -> None:
    plan = plan_of(demo_db)
    gone = plan.pool.pool.candidates.uscc[0]
    with demo_db.write("测试：注销一家") as conn:
        conn.exec_driver_sql("UPDATE target SET archived = 1 WHERE uscc = ?", (gone,))
    s = sessions.prepare(demo_db, TASK, on=ON, operator="测试员", plan=plan)
    assert prepare_event(demo_db, s)["reused_plan"] is False
    ids = candidate_ids(demo_db, s)
    assert gone not in ids and ids < set(plan.pool.pool.candidates.uscc)


def test_a_plan_of_another_day_or_task_is_not_used(demo_db: Database) -> None:
    for plan in (plan_of(demo_db, on=ON - timedelta(days=1)), plan_of(demo_db, task="RW-2026-04")):
        s = sessions.prepare(demo_db, TASK, on=ON, operator="测试员", plan=plan)
        assert prepare_event(demo_db, s)["reused_plan"] is False
        sessions.void(demo_db, s.id, "测试：作废")


def test_a_row_deleted_from_outside_after_the_read_is_seen(demo_db: Database) -> None:
    """Another tool deletes a candidate behind the program's back (triggers lifted, its seal removed):
    the draw's own write finds the tables changed and says so in the journal, so the pool is read again."""
    plan = plan_of(demo_db)
    gone = plan.pool.pool.candidates.uscc[-1]
    if demo_db.url is not None:
        with psycopg.connect(demo_db.url, autocommit=True) as pc:
            pc.execute("ALTER TABLE target DISABLE TRIGGER ALL")
            pc.execute("DELETE FROM target WHERE uscc = %s", (gone,))
            pc.execute("ALTER TABLE target ENABLE TRIGGER ALL")
    else:
        with sqlite3.connect(database_path(demo_db.data_dir)) as c:
            triggers = c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
            for name, _ in triggers:
                c.execute(f'DROP TRIGGER "{name}"')
            rowid = c.execute("SELECT rowid FROM target WHERE uscc = ?", (gone,)).fetchone()[0]
            c.execute("DELETE FROM target WHERE uscc = ?", (gone,))
            c.execute("DELETE FROM row_seal WHERE tbl = 'target' AND row_id = ?", (rowid,))
            for _, sql in triggers:
                c.execute(sql)
        c.close()
    s = sessions.prepare(demo_db, TASK, on=ON, operator="测试员", plan=plan)
    assert prepare_event(demo_db, s)["reused_plan"] is False
    assert gone not in candidate_ids(demo_db, s)
    with demo_db.read() as conn:
        actions = [r[0] for r in conn.exec_driver_sql("SELECT action FROM journal ORDER BY id")]
    assert guard_mod.OUTSIDE_CHANGE in actions


def test_a_pool_that_cannot_be_drawn_is_shown_and_refused_with_its_reasons(demo_db: Database) -> None:
    with demo_db.write("测试：停用全部执法人员") as conn:
        conn.exec_driver_sql("UPDATE inspector SET duty_status = '离岗'")
    plan = plan_of(demo_db)
    assert plan.targets is None and plan.pool.pool.candidates.uscc  # the pool is still shown
    try:
        sessions.prepare(demo_db, TASK, on=ON, operator="测试员", plan=plan)
    except sessions.DrawError as exc:
        assert "执法" in str(exc)
    else:
        raise AssertionError("a draw with no inspector was started")


def test_the_other_frozen_inputs_are_read_without_the_candidates(demo_db: Database) -> None:
    s = sessions.prepare(demo_db, TASK, on=ON, operator="测试员")
    with demo_db.read() as conn:
        lazy, full = sessions.load_session(conn, s.id), sessions.load_session(conn, s.id)
    assert lazy.inspector_names and lazy.frozen_input("params")["quotas"]
    assert "inputs" not in vars(lazy)  # (the candidates not decoded)
    for key in ("inspectors", "experts", "params", "strata", "exclusions"):
        assert lazy.frozen_input(key) == full.inputs[key]
    assert lazy.inspector_names == {p[0]: p[1] for p in full.inputs["inspectors"]}
    with pytest.raises(KeyError):
        lazy.frozen_input("targets")
    # Every candidate's name, made once per session object (screens look them up row by row and
    # frame by frame), and read-only.
    names = lazy.target_names
    assert names is lazy.target_names and dict(names) == full.inputs["names"]
    with pytest.raises(TypeError):
        names[next(iter(names))] = "改名"  # type: ignore[index]
