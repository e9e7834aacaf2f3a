"""How a draw session is stored (schema 7 on): its inputs once, in a row that never changes; each
version of its record in draw_record, without the candidates it copies from those inputs (schema 8);
the row that changes at each step small. The upgrade from schema 6 on a file
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
        assert db.schema_version() == SCHEMA_VERSION == 8
        assert any(f"从版本 6 升级到 {SCHEMA_VERSION}" in w for w in db.warnings), db.warnings
        assert list((data / "backups").glob(f"upgrade-v6-to-v{SCHEMA_VERSION}-*.sqlite3"))
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
        sha, text, at = conn.exec_driver_sql(
            "SELECT sha256, record, targets_at FROM draw_record WHERE session_id = ? AND version = 1", (s.id,)
        ).one()
    assert widest is not None and widest < 20_000  # the session row: no candidates, no record
    assert details and not any("draw_input" in d.get("changes", {}) for d in details)
    assert s.record is not None and verify_record(s.record).ok
    # The record is stored as its canonical JSON without the candidates: null where they go back,
    # and with them (the stored inputs' text, as it is) it hashes to its digest.
    candidates = inputs_before[2]
    assert len(candidates) > 1000 and candidates not in text and json.loads(text)["targets"] is None
    assert text[at : at + 4] == "null"
    whole = text[:at] + candidates + text[at + 4 :]
    assert hashlib.sha256(whole.encode("utf-8")).hexdigest() == sha == sessions.record_sha256(s.record)
    assert s.record_json == whole
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


def _rename_first_candidate(sh: Any, session_id: str) -> None:
    """Behind the program's back: the session's first frozen candidate renamed."""
    text = sh.execute("SELECT targets FROM draw_input WHERE session_id = ?", (session_id,)).fetchone()[0]
    rows = json.loads(text)
    rows[0]["name"] = "冒名企业"
    sh.execute(
        "UPDATE draw_input SET targets = ? WHERE session_id = ?",
        (json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":")), session_id),
    )


def test_big_rows_edited_behind_the_programs_back_are_found(demo_db: Database) -> None:
    done = full_draw(demo_db, "RW-2026-04")
    open_ = sessions.prepare(demo_db, "RW-2026-05", on=ON)
    sessions.commit(demo_db, open_.id)
    for name, digits in (W1, W2):
        sessions.add_witness(demo_db, open_.id, name, digits)
    sessions.do_reveal(demo_db, open_.id)
    with Shell(demo_db) as sh:
        _rename_first_candidate(sh, open_.id)
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


def test_every_record_version_is_stored_without_the_candidates_and_read_whole(demo_db: Database) -> None:
    """Confirm, a 递补 and a void each add a version of the signed record; none stores the candidates
    again (they are the session's frozen inputs, stored once), each reads back whole, verifies, and
    its text hashes to its digest."""
    s = full_draw(demo_db, "RW-2026-04")
    team = s.result[0]
    sessions.substitute(demo_db, s.id, team["id"], team["inspectors"][0], "出差")
    sessions.void(demo_db, s.id, "测试：作废")
    with demo_db.read() as conn:
        candidates = conn.exec_driver_sql(
            "SELECT targets FROM draw_input WHERE session_id = ?", (s.id,)
        ).scalar_one()
        rows = conn.exec_driver_sql(
            "SELECT version, sha256, record, targets_at FROM draw_record WHERE session_id = ? ORDER BY version",
            (s.id,),
        ).all()
        versions = sessions.record_versions(conn, s.id)
    assert [r[0] for r in rows] == [1, 2, 3] == [v[0] for v in versions]
    for (version, sha, text, at), (_, digest, record) in zip(rows, versions, strict=True):
        assert at is not None and candidates not in text and text[at : at + 4] == "null", version
        assert sha == digest == sessions.record_sha256(record) and verify_record(record).ok
        assert json.loads(candidates) == record["targets"]
    assert versions[-1][2]["status"] == "voided" and versions[1][2]["supersedes"]["version"] == 1
    last = sessions.get_session(demo_db, s.id)
    assert last.record == versions[-1][2] and len(last.substitutions) == 1
    report = report_of(demo_db)
    assert report.ok, report.text()


def test_candidates_or_their_place_changed_outside_are_found_in_the_records_too(demo_db: Database) -> None:
    """The records' candidates are the frozen inputs' text: changed outside the program, the inputs
    row breaks its seal and every record version copying it its digest and signature; a record row
    whose place for them is moved is named as well, and reading it says what to do."""
    done = full_draw(demo_db, "RW-2026-04")
    other = full_draw(demo_db, "RW-2026-05")
    with Shell(demo_db) as sh:
        _rename_first_candidate(sh, done.id)
        sh.execute("UPDATE draw_record SET targets_at = targets_at - 1 WHERE session_id = ?", (other.id,))
    report = report_of(demo_db)
    assert not report.ok
    inputs = [f for f in report.findings if f.table == table_title("draw_input")]
    records = [f for f in report.findings if f.table in ("draw_record", table_title("draw_record"))]
    assert any(done.id in f.row for f in inputs), report.text()
    assert any(done.id in f.row and "哈希不符" in f.detail for f in records), report.text()
    assert any(other.id in f.row and "候选名单的位置不对" in f.detail for f in records), report.text()
    with pytest.raises(sessions.DrawError, match="请运行完整性检查"):
        _ = sessions.get_session(demo_db, other.id).record


def test_a_record_is_cut_only_where_it_holds_the_inputs_text_exactly() -> None:
    rows = [(f"9114{n:014d}", "一般") for n in range(50)]
    targets = target_rows_json(rows, {r[0]: f"企业{i}" for i, r in enumerate(rows)})
    record = '{"a":"甲乙","targets":' + targets + ',"z":1}'
    data = record.encode("utf-8")
    start = data.index(b'"targets":') + len(b'"targets":')
    span = (start, start + len(targets.encode("utf-8")))
    cut = draw_inputs.record_without_candidates(data, span, targets.encode("utf-8"))
    assert cut is not None
    stored, at = cut[0].decode("utf-8"), cut[1]
    assert stored == '{"a":"甲乙","targets":null,"z":1}' and stored[at:].startswith("null,")
    assert draw_inputs.record_with_candidates(stored, at, targets) == record
    assert draw_inputs.record_with_candidates(record, None, None) == record  # stored whole
    # other candidates than the inputs' (one name differs): stored whole
    assert (
        draw_inputs.record_without_candidates(data, span, targets.replace("企业7", "企业8").encode()) is None
    )
    for bad in ((stored, at + 1, targets), (stored, at, None), (stored, 0, targets)):
        with pytest.raises(ValueError):
            draw_inputs.record_with_candidates(*bad)
