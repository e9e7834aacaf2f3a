"""How a draw session is stored (schema 7): its inputs once, in a row that never changes; its record
once, in draw_record; the row that changes at each step small. The upgrade from schema 6 on a file
made by the previous program (tests/fixtures/schema-v6-draws), and outside edits of the big rows."""

from __future__ import annotations

import hashlib
import json
import lzma
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.db import draw_inputs
from dsj_desktop.db.engine import APPLICATION_ID, Database, open_database
from dsj_desktop.db.guard import table_title
from dsj_desktop.db.migrations import SCHEMA_VERSION
from dsj_desktop.draw.record import target_rows_json, verify_record
from dsj_desktop.paths import database_path
from dsj_desktop.services import sessions

from .test_draw_sessions import ON, W1, W2, full_draw
from .test_history import Shell, report_of

V6 = Path(__file__).parent / "fixtures" / "schema-v6-draws"


def _restore_v6(data_dir: Path) -> Path:
    """The data folder the program at schema 6 left: its file (from an SQL dump), keys and anchor.
    Four sessions: confirmed with a 递补 (record v2), confirmed then voided, revealed but not yet
    confirmed, voided after its commit (its nonce disclosed)."""
    data_dir.mkdir(parents=True)
    shutil.copytree(V6 / "keys", data_dir / "keys")
    shutil.copy(V6 / "journal-anchor.json", data_dir)
    path = database_path(data_dir)
    con = sqlite3.connect(path)
    with lzma.open(V6 / "dsj.sql.xz", "rt", encoding="utf-8") as dump:
        con.executescript(dump.read())
    con.execute("PRAGMA user_version = 6")
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.commit()
    con.close()
    return path


def _v6_contents(path: Path) -> tuple[dict[str, Any], dict[tuple[str, int], str]]:
    con = sqlite3.connect(path)
    inputs = {sid: json.loads(text) for sid, text in con.execute("SELECT id, inputs FROM draw_session")}
    records = {
        (sid, v): text for sid, v, text in con.execute("SELECT session_id, version, record FROM draw_record")
    }
    con.close()
    return inputs, records


def _same_inputs(now: dict[str, Any], before: dict[str, Any]) -> None:
    assert sorted(map(tuple, now["targets"])) == sorted(map(tuple, before["targets"]))
    assert now["names"] == before["names"]
    assert {k: v for k, v in now.items() if k not in ("targets", "names")} == {
        k: v for k, v in before.items() if k not in ("targets", "names")
    }


@pytest.mark.sqlite_only("the fixture is an SQLite file of the previous program; server: test_postgres")
def test_upgrade_from_schema_6_moves_the_inputs_and_keeps_every_record(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = _restore_v6(data)
    inputs, records = _v6_contents(path)
    db = open_database(data)
    try:
        assert db.schema_version() == SCHEMA_VERSION == 7
        assert any("从版本 6 升级到 7" in w for w in db.warnings), db.warnings
        assert list((data / "backups").glob("upgrade-v6-to-v7-*.sqlite3"))
        report = report_of(db)
        assert report.ok, report.text()
        with db.read() as conn:
            cols = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info('draw_session')")]
            assert "inputs" not in cols and "record" not in cols
            for sid, before in inputs.items():
                s = sessions.load_session(conn, sid)
                _same_inputs(s.inputs, before)
                assert s.task == before["task"]
                # every version as it was signed (only draw_record ever held them all)
                for version, _sha, record in sessions.record_versions(conn, sid):
                    assert record == json.loads(records[(sid, version)])
                if s.record_version:
                    assert s.record == json.loads(records[(sid, s.record_version)])
        by_status = {s.status: s for s in sessions.list_sessions(db.engine.connect())}
        # The session revealed before the upgrade is confirmed after it: its record verifies.
        revealed = by_status["revealed"]
        done = sessions.confirm(db, revealed.id, operator="测试员")
        assert done.record is not None and verify_record(done.record).ok
        _same_inputs(done.inputs, inputs[revealed.id])
        # A 递补 on the session confirmed before the upgrade: version 3 supersedes version 2.
        s = next(
            x
            for x in sessions.list_sessions(db.engine.connect())
            if x.record_version == 2 and x.status == "confirmed"
        )
        sel = s.result[1]
        sessions.substitute(db, s.id, sel["id"], sel["inspectors"][0], "出差", operator="测试员")
        s3 = sessions.get_session(db, s.id)
        assert s3.record is not None and verify_record(s3.record).ok
        assert s3.record["supersedes"] == {
            "version": 2,
            "sha256": sessions.record_sha256(json.loads(records[(s.id, 2)])),
        }
        assert len(s3.substitutions) == 2
        report = report_of(db)
        assert report.ok, report.text()
    finally:
        db.close()


@pytest.mark.sqlite_only("the fixture is an SQLite file of the previous program; server: test_postgres")
def test_inputs_changed_outside_before_the_upgrade_stay_visible_after_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = _restore_v6(data)
    con = sqlite3.connect(path)
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        con.execute(f'DROP TRIGGER "{name}"')
    sid, text = con.execute("SELECT id, inputs FROM draw_session WHERE status = 'revealed'").fetchone()
    forged = json.loads(text)
    forged["names"] = {k: "改过的名称" for k in forged["names"]}
    con.execute(
        "UPDATE draw_session SET inputs = ? WHERE id = ?", (json.dumps(forged, ensure_ascii=False), sid)
    )
    for _, sql in triggers:
        con.execute(sql)
    con.commit()
    con.close()
    db = open_database(data)
    try:
        report = report_of(db)
        rows = [f for f in report.findings if f.area == "数据行"]
        # The session row (changed) and the inputs moved out of it (never sealed) are both named.
        assert any(f.table == table_title("draw_session") for f in rows), report.text()
        assert any(f.table == table_title("draw_input") for f in rows), report.text()
        # and no binding record is signed from them
        with pytest.raises(sessions.DrawError, match="不能据此签署"):
            sessions.confirm(db, sid)
    finally:
        db.close()


def test_each_step_writes_a_small_row_and_the_inputs_once(demo_db: Database) -> None:
    s = sessions.prepare(demo_db, "RW-2026-04", on=ON, place="会议室", operator="测试员")
    with demo_db.read() as conn:
        inputs_before = conn.exec_driver_sql(
            "SELECT rowid, task, targets, other FROM draw_input WHERE session_id = ?", (s.id,)
        ).one()
    s = sessions.commit(demo_db, s.id)
    for name, digits in (W1, W2):
        s = sessions.add_witness(demo_db, s.id, name, digits)
    s = sessions.do_reveal(demo_db, s.id)
    s = sessions.confirm(demo_db, s.id)
    with demo_db.read() as conn:
        assert tuple(conn.exec_driver_sql(
            "SELECT rowid, task, targets, other FROM draw_input WHERE session_id = ?", (s.id,)
        ).one()) == tuple(inputs_before)  # fmt: skip
        widest = conn.exec_driver_sql(
            "SELECT max(length(hashes) + length(witnesses) + length(result) + length(commitment)) FROM draw_session"
        ).scalar()
        # the journal of every step after prepare names no change of draw_input
        details = [json.loads(r[0]) for r in conn.exec_driver_sql(
            "SELECT detail FROM journal WHERE action LIKE '%' || ? || '%' ORDER BY id", (s.id,))]  # fmt: skip
        sha, text = conn.exec_driver_sql(
            "SELECT sha256, record FROM draw_record WHERE session_id = ? AND version = 1", (s.id,)
        ).one()
    assert widest is not None and widest < 20_000  # the session row: no candidates, no record
    assert details and not any("draw_input" in d.get("changes", {}) for d in details)
    # The record is stored once, as its canonical JSON: the stored text hashes to its digest.
    assert s.record is not None and verify_record(s.record).ok
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == sha == sessions.record_sha256(s.record)
    # the candidates in the record are exactly the stored inputs' text
    assert json.loads(inputs_before[2]) == s.record["targets"]
    assert sorted(s.inputs["targets"]) == sorted([t["id"], t["stratum"]] for t in s.record["targets"])


def test_prepare_freezes_each_candidate_with_its_own_name_in_id_order(demo_db: Database) -> None:
    """The candidates are frozen in id order (the directory's order is another), each with its name
    as the directory holds it, in the record's canonical text."""
    s = sessions.prepare(demo_db, "RW-2026-04", on=ON, place="会议室", operator="测试员")
    with demo_db.read() as conn:
        directory = {r[0]: r[1] for r in conn.exec_driver_sql("SELECT uscc, name FROM target ORDER BY id")}
        text = conn.exec_driver_sql(
            "SELECT targets FROM draw_input WHERE session_id = ?", (s.id,)
        ).scalar_one()
        candidates = json.loads(
            conn.exec_driver_sql(
                "SELECT detail FROM draw_event WHERE session_id = ? AND kind = 'prepare'", (s.id,)
            ).scalar_one()
        )["candidates"]
    pool = [t for t in s.inputs["targets"]]
    ids = [t[0] for t in pool]
    assert len(ids) == candidates > 10
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    in_directory_order = [u for u in directory if u in set(ids)]
    assert in_directory_order != ids  # the directory's order is not the draw's: names follow their ids
    rows = json.loads(text)
    assert [r["id"] for r in rows] == ids
    assert all(r["name"] == directory[r["id"]] for r in rows)
    assert text == target_rows_json([(t[0], t[1]) for t in pool], directory)
    sessions.void(demo_db, s.id, "测试")


def test_inputs_cannot_be_changed_or_deleted_by_the_program(demo_db: Database) -> None:
    s = full_draw(demo_db, "RW-2026-04")
    for sql in (
        "UPDATE draw_input SET task = '{}' WHERE session_id = ?",
        "DELETE FROM draw_input WHERE session_id = ?",
    ):
        with pytest.raises(Exception, match="不能删除或改写"), demo_db.write("测试") as conn:
            conn.exec_driver_sql(sql, (s.id,))


def test_big_rows_edited_behind_the_programs_back_are_found(demo_db: Database) -> None:
    done = full_draw(demo_db, "RW-2026-04")
    open_ = sessions.prepare(demo_db, "RW-2026-05", on=ON)
    sessions.commit(demo_db, open_.id)
    for name, digits in (W1, W2):
        sessions.add_witness(demo_db, open_.id, name, digits)
    sessions.do_reveal(demo_db, open_.id)
    with Shell(demo_db) as sh:
        text = sh.execute("SELECT targets FROM draw_input WHERE session_id = ?", (open_.id,)).fetchone()[0]
        rows = json.loads(text)
        rows[0]["name"] = "冒名企业"
        sh.execute(
            "UPDATE draw_input SET targets = ? WHERE session_id = ?",
            (json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":")), open_.id),
        )
        record = sh.execute("SELECT record FROM draw_record WHERE session_id = ?", (done.id,)).fetchone()[0]
        sh.execute(
            "UPDATE draw_record SET record = ? WHERE session_id = ?",
            (record.replace("会议室", "办公室"), done.id),
        )
    report = report_of(demo_db)
    text = report.text()
    assert not report.ok
    assert any(f.table == table_title("draw_input") for f in report.findings), text
    assert any(f.table in ("draw_record", table_title("draw_record")) for f in report.findings), text
    with pytest.raises(sessions.DrawError, match="不能据此签署") as refused:
        sessions.confirm(demo_db, open_.id)
    # Named as the frozen inputs (their seal is compared while confirm goes on), and nothing kept.
    assert table_title("draw_input") in str(refused.value)
    assert sessions.get_session(demo_db, open_.id).status == sessions.REVEALED
    with demo_db.read() as conn:
        assert not conn.exec_driver_sql(
            "SELECT count(*) FROM draw_selection WHERE session_id = ?", (open_.id,)
        ).scalar_one()


def test_names_of_a_few_candidates_from_the_stored_text_or_its_utf8() -> None:
    """Confirm names the drawn targets from the frozen candidates' canonical JSON as read from the
    database (its UTF-8): the same names as from the text, whatever the names hold."""
    rows = [(f"9114{n:014d}", "一般") for n in range(0, 3000, 3)]
    odd = ['{"id":"91140000000000000003","name":"x"}', 'a"b\\c', "，。：“”", "", "企业"]
    names = {tid: odd[i % len(odd)] + str(i) for i, (tid, _) in enumerate(rows)}
    text = target_rows_json(rows, names)
    wanted = [
        rows[0][0],
        rows[-1][0],
        rows[500][0],
        "91140000000000000001",
        "0",
        "Z",
        *(r[0] for r in rows[7::97]),
    ]
    found = draw_inputs.names_of(text, wanted)
    assert found == {w: names[w] for w in wanted if w in names}
    assert draw_inputs.names_of(text.encode("utf-8"), wanted) == found
