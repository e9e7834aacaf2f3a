"""The program on a PostgreSQL server: the same guarantees as on the SQLite file (a row edited behind
the program's back is found by ``check``, even with the triggers lifted), several workstations
writing at once, a client killed mid-transaction, backups with pg_dump/pg_restore.

These tests always run against a real server (tests/pg_server.py starts one), whatever ``--engine``
says; they are skipped only where no PostgreSQL server package is installed (and fail in CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db import pg
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.draw.record import verify_record
from dsj_desktop.errors import DatabaseError
from dsj_desktop.progress import run_job
from tests.demo_dates import DEMO_YEAR
from tests.pg_server import PgServer, pg_bin_dir
from tests.server_helpers import add_target, check

pytestmark = pytest.mark.skipif(
    pg_bin_dir() is None and not os.environ.get("CI"), reason="no PostgreSQL server package installed"
)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pdb(tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    d = tmp_path / "ws1"
    monkeypatch.setenv("DSJ_DATA_DIR", str(d))
    database = open_database(d)
    yield database
    database.close()


def outside(url: str, *sql: str) -> None:
    """Another tool (psql, a database owner) changing the database directly."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        for s in sql:
            con.execute(s)  # type: ignore[arg-type]


def test_new_database_on_server_checks_clean_and_names_the_server(pdb: Database, server_url: str) -> None:
    assert pdb.on_server and pdb.location == server_url
    assert pdb.schema_version() >= 6
    add_target(pdb, "91110000100000001X", "甲公司")
    report = check(pdb)
    assert report.ok, report.text()
    assert report.rows_checked > 0 and report.journal_entries >= 2


def test_row_edited_with_triggers_lifted_is_found(pdb: Database, server_url: str) -> None:
    add_target(pdb, "91110000100000001X", "甲公司")
    outside(server_url, "SET session_replication_role = replica",
            "UPDATE target SET name = '乙公司' WHERE uscc = '91110000100000001X'")  # fmt: skip
    report = check(pdb)
    assert not report.ok
    assert any("被改动过" in f.detail and "91110000100000001X" in f.row for f in report.findings), (
        report.text()
    )


def test_row_edited_with_triggers_on_is_found_and_recorded(pdb: Database, server_url: str) -> None:
    add_target(pdb, "91110000100000001X", "甲公司")
    outside(server_url, "UPDATE target SET name = '乙公司' WHERE uscc = '91110000100000001X'")
    report = check(pdb)
    assert any(f.area == "程序之外的改动" for f in report.findings), report.text()
    assert any("被改动过" in f.detail for f in report.findings)
    add_target(pdb, "91110000100000002X", "丙公司")  # the next write puts it on record for good
    report = check(pdb)
    assert any("写入前发现程序之外的改动" in f.detail for f in report.findings), report.text()


def test_row_deleted_with_its_seal_shows_in_the_counts(pdb: Database, server_url: str) -> None:
    add_target(pdb, "91110000100000001X", "甲公司")
    add_target(pdb, "91110000100000002X", "丙公司")
    outside(server_url, "SET session_replication_role = replica",
            "DELETE FROM row_seal WHERE tbl = 'target' AND row_id = (SELECT id FROM target WHERE name = '丙公司')",
            "DELETE FROM target WHERE name = '丙公司'")  # fmt: skip
    report = check(pdb)
    assert any("日志记载 2 行，现有 1 行" in f.detail for f in report.findings), report.text()


def test_disabled_or_dropped_trigger_is_found_and_restored(
    pdb: Database, server_url: str, tmp_path: Path
) -> None:
    outside(server_url, "ALTER TABLE target DISABLE TRIGGER ALL")
    report = check(pdb)
    assert any(f.area == "保护触发器" for f in report.findings), report.text()
    pdb.close()
    again = open_database(tmp_path / "ws1")
    try:
        assert any("保护触发器" in w for w in again.warnings)
        with again.read() as conn:
            assert all("enabled=" not in v for v in pg.all_triggers(conn).values())
    finally:
        again.close()


def test_journal_cannot_be_rewritten_on_the_server(pdb: Database, server_url: str) -> None:
    import psycopg

    with pytest.raises(psycopg.errors.RaiseException, match="操作日志只能追加"):
        outside(server_url, "UPDATE journal SET action = 'x'")


def test_another_programs_database_on_the_server_is_refused(server_url: str, tmp_path: Path) -> None:
    outside(server_url, "CREATE TABLE t (x integer)")
    with pytest.raises(DatabaseError, match="其他程序的数据库"):
        open_database(tmp_path / "ws1")
    outside(server_url, "SELECT 1 FROM t")  # left alone


def test_url_saved_without_password(tmp_path: Path) -> None:
    pg.save_url(tmp_path, "postgresql://clerk:s3cret@db.example:5432/dsj")
    text = (tmp_path / pg.URL_FILE).read_text(encoding="utf-8")
    assert "s3cret" not in text
    assert pg.saved_url(tmp_path) == "postgresql://clerk@db.example:5432/dsj"


def test_placeholders_translated() -> None:
    assert pg.translate("SELECT * FROM t WHERE a = ? AND b LIKE '%?%'", (1,)) == (
        "SELECT * FROM t WHERE a = %s AND b LIKE '%%?%%'"
    )
    assert pg.translate("SELECT :a, x::text FROM t", {"a": 1}) == "SELECT %(a)s, x::text FROM t"
    assert pg.translate("SELECT %(a)s", {"a": 1}) == "SELECT %(a)s"
    assert pg.translate("INSERT OR IGNORE INTO t (a) VALUES (?)", (1,)) == (
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING"
    )


WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from dsj_desktop.db.engine import open_database
    db = open_database(Path(sys.argv[1]))
    tag, n = sys.argv[2], int(sys.argv[3])
    for i in range(n):
        with db.write("并发写入") as conn:
            conn.exec_driver_sql(
                "INSERT INTO setting (key, value) VALUES (?, ?)", (f"{tag}-{i}", str(os.getpid())))
            if sys.argv[4:] == ["hang"] and i == n - 1:
                print("inside", flush=True)
                time.sleep(60)
    print("done", flush=True)
    """
)


def _writer(data_dir: Path, tag: str, n: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir), tag, str(n), *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True, env=dict(os.environ))  # fmt: skip


def test_workstations_writing_at_once_keep_one_journal_chain(pdb: Database, tmp_path: Path) -> None:
    procs = [_writer(tmp_path / "ws1", tag, 15) for tag in ("a", "b", "c")]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0 and "done" in out
    with pdb.read() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM setting WHERE key ~ '^[abc]-'").scalar()
        chain = conn.exec_driver_sql("SELECT prev_hash, hash FROM journal ORDER BY id").fetchall()
    assert n == 45
    assert all(chain[i][0] == chain[i - 1][1] for i in range(1, len(chain)))  # one chain, no fork
    report = check(pdb)
    assert report.ok, report.text()


def test_client_killed_mid_transaction_leaves_nothing_half_written(pdb: Database, tmp_path: Path) -> None:
    p = _writer(tmp_path / "ws1", "k", 3, "hang")
    assert p.stdout is not None
    while (line := p.stdout.readline()) and "inside" not in line:
        pass
    p.kill()
    p.wait(timeout=30)
    add_target(pdb, "91110000100000003X", "丁公司")  # the killed write's lock is gone: others go on
    with pdb.read() as conn:
        keys = [
            r[0] for r in conn.exec_driver_sql("SELECT key FROM setting WHERE key LIKE 'k-%' ORDER BY key")
        ]
        notes = conn.exec_driver_sql("SELECT count(*) FROM dsj_change").scalar()
    assert keys == ["k-0", "k-1"]  # the third transaction never committed
    assert notes == 0
    report = check(pdb)
    assert report.ok, report.text()


def test_backup_and_restore_with_pg_dump(pdb: Database, server_url: str, tmp_path: Path) -> None:
    from dsj_desktop.db import pg_backup

    add_target(pdb, "91110000100000001X", "甲公司")
    dump = pdb.backup_to(tmp_path / "backup.dump")
    assert pg_backup.is_dump(dump)
    add_target(pdb, "91110000100000002X", "丙公司")
    head_after = pdb.journal_head()
    pdb.close()
    pg_backup.restore(server_url, dump)
    db = open_database(tmp_path / "ws1")
    try:
        with db.read() as conn:
            names = [r[0] for r in conn.exec_driver_sql("SELECT name FROM target ORDER BY id")]
        assert names == ["甲公司"]
        assert db.journal_head()["seq"] < head_after["seq"]
        report = check(db)  # the anchor file remembers the later head: the restore is named
        assert any(f.area == "操作日志锚定" for f in report.findings), report.text()
        assert all(f.area == "操作日志锚定" for f in report.findings), report.text()
    finally:
        db.close()


def test_demo_county_with_draws_checks_clean(pdb: Database) -> None:
    from dsj_desktop.demo import fill_demo

    run_job(fill_demo(pdb, draws=True, year=DEMO_YEAR))
    report = check(pdb)
    assert report.ok, report.text()
    assert report.records_checked >= 1
    with pdb.read() as conn:
        detail = conn.exec_driver_sql("SELECT detail FROM journal ORDER BY id DESC LIMIT 1").scalar()
    assert isinstance(json.loads(detail), dict)


# --- several workstations drawing at once ------------------------------------------------------

DRAWER = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from pathlib import Path
    from dsj_desktop.db.engine import open_database
    from dsj_desktop.services import sessions
    db = open_database(Path(sys.argv[1]))
    task, go = sys.argv[2], sys.argv[3]
    try:
        s = sessions.prepare(db, task, on=date(2026, 6, 1), place="会议室", operator="测试员")
        print("prepared", s.id, flush=True)
        while go and not Path(go).exists():
            time.sleep(0.05)
        s = sessions.commit(db, s.id, operator="测试员")
        for name, digits in (("企业代表", "3141592653"), ("纪检监督员", "2718281828")):
            s = sessions.add_witness(db, s.id, name, digits, operator="测试员")
        s = sessions.do_reveal(db, s.id, operator="测试员")
        s = sessions.confirm(db, s.id, operator="测试员")
        print("confirmed", s.id, flush=True)
    except Exception as exc:
        print("refused", type(exc).__name__, exc, flush=True)
    """
)


@pytest.fixture
def workstations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_server: PgServer
) -> Iterator[tuple[Path, Path, Database]]:
    """The demo county on the server, and two workstations' data folders: the second one new, it joins
    the server with the key passphrase (``DSJ_KEY_PASSPHRASE``) on its first start."""
    from tests.conftest import _demo_copy

    one = _demo_copy(tmp_path, monkeypatch, draws=False, server=pg_server)
    two = tmp_path / "ws2"
    two.mkdir()
    db = open_database(one)
    yield one, two, db
    db.close()


def _drawer(data_dir: Path, task: str, go: Path | None, workstation: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DSJ_WORKSTATION": workstation, "DSJ_DATA_DIR": str(data_dir)}
    return subprocess.Popen([sys.executable, "-c", DRAWER, str(data_dir), task, str(go or "")],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip


def _confirmed(db: Database, task: str) -> list[str]:
    with db.read() as conn:
        return [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT id FROM draw_session WHERE task_code = ? AND status = 'confirmed'", (task,)
            )
        ]


def test_two_draws_of_different_tasks_at_once_both_complete(
    workstations: tuple[Path, Path, Database],
) -> None:
    one, two, db = workstations
    procs = [_drawer(one, "RW-2026-03", None, "抽取室"), _drawer(two, "RW-2026-04", None, "二楼办公室")]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all("confirmed" in o for o in outs), outs
    assert len(_confirmed(db, "RW-2026-03")) == 1 and len(_confirmed(db, "RW-2026-04")) == 1
    report = check(db)
    assert report.ok, report.text()


def test_same_task_from_two_workstations_gives_one_draw(
    workstations: tuple[Path, Path, Database], tmp_path: Path
) -> None:
    one, two, db = workstations
    go = tmp_path / "go"
    first = _drawer(one, "RW-2026-04", go, "抽取室")
    assert first.stdout is not None
    line = first.stdout.readline()
    assert line.startswith("prepared"), line
    sid = line.split()[1]
    second = _drawer(two, "RW-2026-04", None, "二楼办公室")
    out2 = second.communicate(timeout=600)[0]
    go.touch()
    out1 = first.communicate(timeout=600)[0]
    assert "confirmed" in out1
    assert out2.startswith("refused"), out2
    assert sid in out2 and "抽取室" in out2  # names the session and the workstation drawing it
    assert _confirmed(db, "RW-2026-04") == [sid]
    report = check(db)
    assert report.ok, report.text()


def test_import_and_draw_at_once_both_complete(
    workstations: tuple[Path, Path, Database], tmp_path: Path
) -> None:
    import random

    from dsj_desktop.demo.county import make_targets
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.exporter import export_rows

    one, two, db = workstations
    with db.read() as conn:
        before = conn.exec_driver_sql("SELECT count(*) FROM target").scalar_one()
        known = {r[0] for r in conn.exec_driver_sql("SELECT uscc FROM target")}
    records = [r for r in make_targets(random.Random(7), scale=4) if r["uscc"] not in known]
    xlsx = tmp_path / "新增检查对象.xlsx"
    run_job(export_rows(xlsx, "检查对象", TARGETS.fields, records, len(records)))
    env = {**os.environ, "DSJ_WORKSTATION": "二楼办公室", "DSJ_DATA_DIR": str(two)}
    importer = subprocess.Popen([sys.executable, "-m", "dsj_desktop", "import", "targets", str(xlsx)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)  # fmt: skip
    drawer = _drawer(one, "RW-2026-03", None, "抽取室")
    out_i = importer.communicate(timeout=600)[0]
    out_d = drawer.communicate(timeout=600)[0]
    assert importer.returncode == 0, out_i
    assert "confirmed" in out_d, out_d
    with db.read() as conn:
        after = conn.exec_driver_sql("SELECT count(*) FROM target").scalar_one()
    assert after == before + len(records)
    report = check(db)
    assert report.ok, report.text()


def test_backup_and_restore_commands_on_the_server(pdb: Database, tmp_path: Path) -> None:
    from dsj_desktop.services import backup

    add_target(pdb, "91110000100000001X", "甲公司")
    info = backup.auto_backup(pdb, "测试")
    assert info.ok, info.text()
    assert info.path.suffix == ".pgdump" and backup.manifest_path(info.path).is_file()
    assert info.counts["检查对象"] == 1 and info.journal_entries >= 2
    assert backup.list_backups(pdb) == [info.path]
    add_target(pdb, "91110000100000002X", "丙公司")
    safety, restored = backup.restore(pdb, info.path)
    assert safety.suffix == ".pgdump"
    db = open_database(tmp_path / "ws1")
    try:
        backup.note_restore(db, safety, restored)
        with db.read() as conn:
            names = [r[0] for r in conn.exec_driver_sql("SELECT name FROM target ORDER BY id")]
        assert names == ["甲公司"]
        report = check(db)
        assert report.ok, report.text()
    finally:
        db.close()


def test_tampered_dump_is_refused(pdb: Database, server_url: str, tmp_path: Path) -> None:
    from dsj_desktop.services import backup

    add_target(pdb, "91110000100000001X", "甲公司")
    info = backup.auto_backup(pdb, "测试")
    outside(server_url, "SET session_replication_role = replica", "UPDATE target SET name = '乙公司'")
    forged = tmp_path / "forged.pgdump"
    pdb.backup_to(forged)  # a dump of data changed behind the program's back
    problems = backup.verify_candidate(forged, tmp_path / "ws1", server_url)
    assert any("被改动过" in p for p in problems), problems
    assert backup.verify_candidate(info.path, tmp_path / "ws1", server_url) == []


def test_a_versioned_upgrade_step_on_the_server(pdb: Database, tmp_path: Path, server_url: str) -> None:
    """The upgrade mechanism on a server: a backup first, the step and its version in one transaction,
    the rows that verified before sealed again, a row changed outside the program still named."""
    from dsj_desktop.db.migrations import MIGRATIONS, SCHEMA_VERSION

    add_target(pdb, "91110000100000001X", "甲公司")
    add_target(pdb, "91110000100000002X", "丙公司")
    pdb.close()
    outside(
        server_url,
        "SET session_replication_role = replica",
        "UPDATE target SET name = '乙公司' WHERE name = '丙公司'",
    )

    def add_column(conn: Any) -> None:
        conn.exec_driver_sql("ALTER TABLE target ADD COLUMN note VARCHAR NOT NULL DEFAULT ''")

    steps = {**MIGRATIONS, SCHEMA_VERSION: add_column}
    db = open_database(tmp_path / "ws1", migrations=steps, target_version=SCHEMA_VERSION + 1)
    try:
        assert db.schema_version() == SCHEMA_VERSION + 1
        assert any(w.startswith("数据库已从版本") for w in db.warnings)
        assert list((tmp_path / "ws1" / "backups").glob("upgrade-*.pgdump"))
        report = check(db)
        bad = [f for f in report.findings if f.area == "数据行"]
        assert len(bad) == 1 and "91110000100000002X" in bad[0].row, report.text()
    finally:
        db.close()


# --- bulk import with COPY ----------------------------------------------------------------------


def _bulk_file(tmp_path: Path, start: int, n: int, name: str = "big.xlsx") -> Path:
    from dsj_desktop.io.importer import BULK_ROWS
    from tests.test_import import target_row, write_xlsx

    assert n >= BULK_ROWS
    rows = [
        target_row(
            i,
            企业名称=f"企业{i}“%s”%d{{}}\\'\"",
            地址="" if i % 7 else "城关镇1号 ☃ 𝌆",
            所属区域=f"乙{i % 3}镇",
        )
        for i in range(start, start + n)
    ]
    return write_xlsx(tmp_path / name, rows)


def _state(url: str) -> dict[str, Any]:
    """What a failed import must leave as it was (read with a tool of its own)."""
    import psycopg

    with psycopg.connect(url) as con:

        def one(sql: str) -> Any:
            row = con.execute(sql).fetchone()
            return None if row is None else row[0]

        return {
            "targets": one("SELECT count(*) FROM target"),
            "seals": one("SELECT count(*) FROM row_seal"),
            "journal": one("SELECT max(id) FROM journal"),
            "notes": one("SELECT count(*) FROM dsj_change"),
            "codes": one("SELECT count(*) FROM code_value"),
            "triggers off": one(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O'"
            ),
        }


def test_bulk_import_with_copy_is_sealed_journalled_and_checks_clean(
    pdb: Database, server_url: str, tmp_path: Path
) -> None:
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.importer import BULK_ROWS, import_directory

    add_target(pdb, "91110000100000001X", "甲公司")
    n = BULK_ROWS + 7
    run_job(import_directory(pdb, TARGETS, _bulk_file(tmp_path, 100, n), add_unknown_codes=True))
    report = check(pdb)
    assert report.ok, report.text()
    state = _state(server_url)
    assert state["targets"] == n + 1 and state["notes"] == 0 and state["triggers off"] == 0
    with pdb.read() as conn:
        action, detail = conn.exec_driver_sql(
            "SELECT action, detail FROM journal ORDER BY id DESC LIMIT 1"
        ).one()
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM target ORDER BY id")]
    detail = json.loads(detail)
    assert action.startswith("导入检查对象名录库")
    assert detail["changes"]["target"] == {"insert": n, "update": 0}  # counted once, not from notes too
    assert detail["changes"]["code_value"] == {"insert": 3}
    assert detail["state"]["target"] == n + 1
    assert len(set(ids)) == n + 1  # ids drawn from the table's sequence
    # A row edited behind the program's back afterwards is still found.
    outside(server_url, "SET session_replication_role = replica",
            f"UPDATE target SET name = '改过的名称' WHERE id = {ids[n // 2]}")  # fmt: skip
    report = check(pdb)
    assert any("被改动过" in f.detail for f in report.findings), report.text()
    # A re-import with one more row edited outside (triggers on): the import's updates never seal
    # again a row whose seal did not verify; both edited rows stay found, and the outside change is
    # on record.
    outside(server_url, f"UPDATE target SET name = '再改' WHERE id = {ids[1]}")
    # A second later at least: within the first import's second the update would write back exactly
    # the sealed row (updated_at has whole seconds), whose seal then rightly verifies again.
    time.sleep(1.1)
    run_job(import_directory(pdb, TARGETS, _bulk_file(tmp_path, 100, n), add_unknown_codes=True))
    report = check(pdb)
    changed = [f.row for f in report.findings if "被改动过" in f.detail]
    assert len(changed) == 2, report.text()
    for rid in (ids[1], ids[n // 2]):
        assert any(f"第 {rid} 行" in row for row in changed), report.text()
    assert any(f.area == "程序之外的改动" for f in report.findings), report.text()


@pytest.mark.parametrize("how", ["failure", "cancel"])
def test_bulk_import_failing_midway_leaves_nothing(
    pdb: Database, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    from dsj_desktop.db import guard as guard_mod
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.importer import BULK_ROWS, import_directory

    monkeypatch.setattr(guard_mod, "COPY_CHUNK", 500)  # several chunks, progress between them
    add_target(pdb, "91110000100000001X", "甲公司")
    before = _state(server_url)
    n = BULK_ROWS + 1000
    job = import_directory(pdb, TARGETS, _bulk_file(tmp_path, 100, n), add_unknown_codes=True)
    while True:  # until half of the rows have gone to the server inside the COPY
        step = next(job)
        if step.message == "正在写入数据库……" and step.done >= n // 2:
            break
    assert _state(server_url) == before  # (another connection sees nothing of it meanwhile)
    if how == "failure":
        with pytest.raises(RuntimeError, match="网络中断"):
            job.throw(RuntimeError("网络中断"))
    else:
        job.close()  # the user cancels: GeneratorExit at the yield
    assert _state(server_url) == before
    report = check(pdb)
    assert report.ok, report.text()
    run_job(import_directory(pdb, TARGETS, _bulk_file(tmp_path, 100, n), add_unknown_codes=True))
    assert check(pdb).ok


def test_bulk_import_where_the_capture_trigger_stays_on(
    pdb: Database, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workstation whose account does not own the tables cannot switch the capture trigger off:
    the trigger notes the copied rows and the import removes those notes (sealed already)."""
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.importer import BULK_ROWS, import_directory

    monkeypatch.setattr(pg, "pause_capture", lambda conn, table, trigger: False)
    n = BULK_ROWS + 3
    run_job(import_directory(pdb, TARGETS, _bulk_file(tmp_path, 100, n), add_unknown_codes=True))
    report = check(pdb)
    assert report.ok, report.text()
    assert _state(server_url)["notes"] == 0
    with pdb.read() as conn:
        detail = json.loads(
            conn.exec_driver_sql("SELECT detail FROM journal ORDER BY id DESC LIMIT 1").scalar_one()
        )
    assert detail["changes"]["target"] == {"insert": n, "update": 0}


@pytest.mark.parametrize("spoil", ["no template", "texts differ"])
def test_bulk_import_reads_the_rows_back_when_it_cannot_render_them(
    pdb: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spoil: str
) -> None:
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.importer import BULK_ROWS, import_directory

    if spoil == "no template":
        monkeypatch.setattr(pg, "row_json_template", lambda *a: None)
    else:
        real = pg.render_rows
        monkeypatch.setattr(pg, "render_rows", lambda *a: [t.replace("企业", "X") for t in real(*a)])
    run_job(import_directory(pdb, TARGETS, _bulk_file(tmp_path, 100, BULK_ROWS + 3), add_unknown_codes=True))
    report = check(pdb)
    assert report.ok, report.text()


def test_rows_rendered_in_the_program_are_the_servers_jsonb_text(pdb: Database) -> None:
    """The seals of copied rows are made over the row's JSON as the program renders it: exactly
    ``to_jsonb(row)::text`` for every kind of text (quotes, backslashes, control characters, '%',
    characters outside the BMP, U+2028), numbers and the fixed columns."""
    from dsj_desktop.db import guard as guard_mod
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.importer import import_directory  # noqa: F401  (the import path's module)

    nasty = ["", "a\"b", "back\\slash", "tab\there", "new\nline\r\n", "\x01\x1f\x7f", "%s %d %%", "☃𝌆\u2028\u2029",
             "'quote'", "{\"json\": [1]}", "\\u0000", " lead and trail "]  # fmt: skip
    attrs = TARGETS.attrs
    types = [int if f.kind.name == "BOOL" else str for f in TARGETS.fields]
    rows = []
    for i in range(len(nasty) * 3):
        rows.append(tuple(
            (i + j) % 2 if t is int else (f"U{i:05d}" if a == "uscc" else nasty[(i + j) % len(nasty)])
            for j, (a, t) in enumerate(zip(attrs, types, strict=True))
        ))  # fmt: skip
    fixed = {"archived": 0, "created_at": "2026-12-07T08:00:00+08:00", "updated_at": '时间"%'}
    with pdb.write("导入", bulk=True) as conn:
        ids = run_job(guard_mod.copy_new_rows(conn, pdb.guard, "target", attrs, rows, fixed, types))
        template = pg.row_json_template(pg.column_types(conn, "target"), attrs, types, fixed)
        assert template is not None
        mine = dict(zip(ids, pg.render_rows(template, pg.transpose(ids, rows)), strict=True))
        assert pg.row_texts(conn, "target", ids) == mine
        tx_state = conn.connection.info["dsj_tx"]
        tx_state.count("target", "insert", len(rows))
    report = check(pdb)
    assert report.ok, report.text()


def test_rows_and_entries_the_program_cannot_render_are_sealed_by_the_server(
    pdb: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end of a server write reads the rows it changed and writes its journal entry in a few round
    trips, rendering the rows' text itself. Where a table has a column whose text is not certain here
    (a float), its rows are rendered by the server instead, and so is the entry when the journal has
    such a column: the seals and the chain still hold, and the next write still knows, from the
    server's own counts, that nothing else changed."""
    from dsj_desktop.db.migrations import MIGRATIONS, SCHEMA_VERSION

    add_target(pdb, "91110000100000001X", "甲公司")
    pdb.close()

    def add_columns(conn: Any) -> None:
        conn.exec_driver_sql("ALTER TABLE target ADD COLUMN weight DOUBLE PRECISION NOT NULL DEFAULT 0.5")
        conn.exec_driver_sql("ALTER TABLE journal ADD COLUMN weight DOUBLE PRECISION NOT NULL DEFAULT 0.25")

    steps = {**MIGRATIONS, SCHEMA_VERSION: add_columns}
    db = open_database(tmp_path / "ws1", migrations=steps, target_version=SCHEMA_VERSION + 1)
    try:
        recounted: list[int] = []
        real = guard_mod.table_counts

        def counting(conn: Any, names: Any = None) -> dict[str, int]:
            found = real(conn, names)
            recounted.append(len(found))
            return found

        monkeypatch.setattr(guard_mod, "table_counts", counting)
        for i in range(3):  # (autovacuum may draw an id between two writes: then the next one counts)
            add_target(db, f"9111000010000001{i}X", f"乙公司{i}")
            with db.write("改名") as conn:
                conn.exec_driver_sql(
                    "UPDATE target SET name = ? WHERE uscc = ?", (f"丙公司{i}", "91110000100000001X")
                )
        monkeypatch.undo()
        assert sum(n > 5 for n in recounted) < 6  # some of the six writes took the logged counts
        with db.read() as conn:
            entries = conn.exec_driver_sql(
                "SELECT action, weight FROM journal ORDER BY id DESC LIMIT 2"
            ).all()
            assert [e[1] for e in entries] == [0.25, 0.25] and entries[0][0] == "改名"
            texts = pg.sealed_texts(conn, "target", [1])
            assert texts[1][1] is None and '"weight": 0.5' in texts[1][0]  # rendered by the server
        report = check(db)
        assert report.ok, report.text()
        assert guard_mod.OUTSIDE_CHANGE not in [e[0] for e in entries]
    finally:
        db.close()


def test_rows_read_as_stored_are_rendered_as_the_server_renders_them(pdb: Database) -> None:
    """Where the program reads a few rows as they are stored and writes their JSON itself (the seal's
    input, instead of the server's ``to_jsonb(row)::text``), every row of every table comes out as the
    server's own text: texts of every kind, integers, dates, NULLs."""
    from dsj_desktop.demo import fill_demo

    run_job(fill_demo(pdb, draws=True))
    nasty = 'a"b\\c\td\ne\r\x01\x1f\x7f %s ☃𝌆\u2028 \'q\' {"j": [1]} \\u0000 '
    with pdb.write("改名") as conn:
        conn.exec_driver_sql(
            "UPDATE inspector SET name = ? WHERE rowid = (SELECT min(rowid) FROM inspector)", (nasty,)
        )
        conn.exec_driver_sql(
            "UPDATE setting SET value = ? WHERE rowid = (SELECT min(rowid) FROM setting)", (nasty,)
        )
    rendered = 0
    with pdb.read() as conn:
        for table in [*guard_mod.guarded_tables(conn), "journal"]:
            ids = [int(r[0]) for r in conn.exec_driver_sql(f'SELECT rowid FROM "{table}"')]
            for start in range(0, len(ids), pg.CLIENT_RENDERED_ROWS):
                chunk = ids[start : start + pg.CLIENT_RENDERED_ROWS]
                mine = pg.sealed_texts(conn, table, chunk)
                assert {k: v[0] for k, v in mine.items()} == pg.row_texts(conn, table, chunk), table
                rendered += sum(1 for _, values in mine.values() if values is not None)
        assert (
            rendered
            == sum(guard_mod.table_counts(conn).values())
            + conn.exec_driver_sql("SELECT count(*) FROM journal").scalar_one()
        )  # every row rendered here (none of the program's columns needs the server)
    report = check(pdb)
    assert report.ok, report.text()


def test_long_texts_sealed_and_checked_as_their_utf8(pdb: Database) -> None:
    """A long text (64 K characters on) is sent, escaped and sealed as its UTF-8, and read back as it
    for a check before signing: the same seal as the server's text gives, for texts of every kind
    (quotes, backslashes, control characters, characters outside the BMP); a change made behind the
    program's back is found both ways."""
    long = 1 << 16  # a text as long as a draw's long texts are sent (64 K characters)
    nasty = 'a"b\\c\td\ne\r\x01\x1f\x7f %s ☃𝌆\u2028 {"j": [1]} \\u0000 '
    values = {
        "plain": "名称" * long,
        "quoted": ('{"k": "v\\\\"}' * long)[: long + 7],
        "nasty": nasty * (long // len(nasty) + 1),
    }
    with pdb.write("长文本") as conn:
        for key, value in values.items():
            data = value.encode("utf-8")
            guard_mod.insert_text_row(conn, pdb.guard, "setting", {"key": key}, "value", data, len(value))
        ids = {
            str(k): int(r)
            for k, r in conn.exec_driver_sql(
                "SELECT key, rowid FROM setting WHERE key = ANY(%s)", (list(values),)
            )
        }
        assert all(("setting", i) in conn.connection.info["dsj_tx"].known for i in ids.values())
    report = check(pdb)
    assert report.ok, report.text()
    with pdb.read() as conn:
        for key, rid in ids.items():
            found = guard_mod.sealed_row(conn, pdb.guard, "setting", rid, utf8=("value",))
            assert found is not None and found[1], key
            assert found[0]["value"] == values[key].encode("utf-8")
            assert pg.utf8_length(found[0]["value"]) == len(values[key])
    outside(pdb.url or "", f"UPDATE setting SET value = value || 'x' WHERE rowid = {ids['nasty']}")
    with pdb.read() as conn:
        found = guard_mod.sealed_row(conn, pdb.guard, "setting", ids["nasty"], utf8=("value",))
        assert found is not None and not found[1]
    assert not check(pdb).ok


def test_a_draw_s_big_rows_are_sealed_without_reading_them_back(
    pdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a server, prepare seals the frozen inputs (7 MB at city scale) from the values it sends, and
    confirming sends the selections and teams with COPY and the signed record once, sealing them from
    the values sent: none of these rows is read back (but the first and last of each COPY), and
    ``check`` passes."""
    from datetime import date

    from dsj_desktop.demo import fill_demo
    from dsj_desktop.services import sessions

    run_job(fill_demo(pdb, draws=False))
    read: list[str] = []
    real_texts, real_rows = pg.sealed_texts_and, pg.row_texts

    def sealed_texts_and(conn: Any, wanted: Any, also: Any = ()) -> Any:
        read.extend(table for table, ids in wanted.items() if ids)
        return real_texts(conn, wanted, also)

    def row_texts(conn: Any, table: str, ids: Any) -> Any:
        read.extend([table] * len(ids))
        return real_rows(conn, table, ids)

    real_after = pg.after_copy

    def after_copy(conn: Any, table: str, trigger: Any, ids: Any) -> Any:
        read.extend([table] * len(ids))
        return real_after(conn, table, trigger, ids)

    monkeypatch.setattr(pg, "sealed_texts_and", sealed_texts_and)
    monkeypatch.setattr(pg, "row_texts", row_texts)
    monkeypatch.setattr(pg, "after_copy", after_copy)
    s = sessions.prepare(pdb, "RW-2026-04", on=date(2026, 6, 1), place="会议室", operator="测试员")
    assert "draw_input" not in read and "draw_session" in read
    sessions.commit(pdb, s.id)
    for name, digits in (("企业代表", "3141592653"), ("纪检监督员", "2718281828")):
        sessions.add_witness(pdb, s.id, name, digits)
    sessions.do_reveal(pdb, s.id)
    read.clear()
    done = sessions.confirm(pdb, s.id)
    monkeypatch.undo()
    assert done.status == sessions.CONFIRMED and len(done.result) > 1
    assert "draw_record" not in read  # (the 10 MB record at city scale)
    # The first and the last row of each COPY are compared with the server's text; no other is read.
    assert read.count("draw_selection") == 2 and read.count("draw_member") == 2, read
    report = check(pdb)
    assert report.ok, report.text()


def _revealed(pdb: Database, task: str = "RW-2026-04") -> Any:
    from datetime import date

    from dsj_desktop.services import sessions

    s = sessions.prepare(pdb, task, on=date(2026, 6, 1), place="会议室", operator="测试员")
    sessions.commit(pdb, s.id)
    for name, digits in (("企业代表", "3141592653"), ("纪检监督员", "2718281828")):
        sessions.add_witness(pdb, s.id, name, digits)
    sessions.do_reveal(pdb, s.id)
    return s


def assert_nothing_confirmed(pdb: Database, session_id: str) -> None:
    """No selection, team member or record of the session was written."""
    with pdb.read() as conn:
        for table in ("draw_selection", "draw_member", "draw_record"):
            assert not conn.exec_driver_sql(
                f"SELECT count(*) FROM {table} WHERE session_id = %s", (session_id,)
            ).scalar_one(), table


def test_a_draw_whose_live_hold_was_lost_holds_it_again_at_its_next_step(
    pdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ended the connection holding a draw's live hold (the workstation was off the network
    for over a minute): other workstations see nobody drawing the session; its next step on this
    workstation takes the hold again, and the draw goes on to a record that verifies."""
    from datetime import date

    import psycopg

    from dsj_desktop.demo import fill_demo
    from dsj_desktop.services import sessions

    run_job(fill_demo(pdb, draws=False))
    s = sessions.prepare(pdb, "RW-2026-04", on=date(2026, 6, 1), place="会议室", operator="测试员")
    assert pdb.live_elsewhere(s.id)  # (the hold has a connection of its own: seen as a workstation)
    held = sessions._LIVE[s.id].hold
    assert isinstance(held, pg.LiveHold)
    with psycopg.connect(pdb.url or "", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (held._raw.driver_connection.info.backend_pid,))
    deadline = time.monotonic() + 30
    while pdb.live_elsewhere(s.id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pdb.live_elsewhere(s.id) is None
    sessions.commit(pdb, s.id)  # (the hold answered just now, at prepare: not asked yet)
    assert pdb.live_elsewhere(s.id) is None
    monkeypatch.setattr(pg, "LIVE_RECHECK_S", 0)  # (as if the step came LIVE_RECHECK_S later)
    sessions.add_witness(pdb, s.id, "企业代表", "3141592653")
    assert pdb.live_elsewhere(s.id)  # held again
    sessions.add_witness(pdb, s.id, "纪检监督员", "2718281828")
    sessions.do_reveal(pdb, s.id)
    done = sessions.confirm(pdb, s.id)
    assert done.record is not None and verify_record(done.record).ok
    report = check(pdb)
    assert report.ok, report.text()


def test_a_live_hold_let_go_gives_its_connection_back_to_the_pool_holding_nothing(pdb: Database) -> None:
    """At the end of a draw its live hold is let go where every workstation sees it, and its connection
    goes back to the pool holding no lock (the program's next steps need no new server process, whose
    caches start cold). A hold whose connection broke is let go without a word, and not pooled."""
    import psycopg

    held = pdb.hold_live("S-POOL-1")
    assert isinstance(held, pg.LiveHold)
    pid = held._raw.driver_connection.info.backend_pid
    assert pdb.live_elsewhere("S-POOL-1")
    held.close()
    assert pdb.live_elsewhere("S-POOL-1") is None
    with psycopg.connect(pdb.url or "", autocommit=True) as admin:
        alive = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        locks = admin.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'advisory'", (pid,)
        ).fetchone()
    assert alive == (1,) and locks == (0,)
    assert pid in _pooled(pdb)
    broken = pdb.hold_live("S-POOL-2")
    assert isinstance(broken, pg.LiveHold)
    pid = broken._raw.driver_connection.info.backend_pid
    with psycopg.connect(pdb.url or "", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    broken.close()
    assert pid not in _pooled(pdb)
    assert pdb.live_elsewhere("S-POOL-2") is None
    add_target(pdb, "91110000100000001X", "甲公司")  # (the pool's connections still serve)
    report = check(pdb)
    assert report.ok, report.text()


def _pooled(pdb: Database) -> set[int]:
    """The server processes of the connections now idle in the pool (each checked out, then returned)."""
    out = [pdb.engine.raw_connection() for _ in range(pdb.engine.pool.checkedin())]  # type: ignore[attr-defined]
    pids = {int(c.driver_connection.info.backend_pid) for c in out}  # type: ignore[union-attr]
    for c in out:
        c.close()
    return pids


def test_the_key_passphrase_is_asked_before_the_write_lock_is_taken(
    pdb: Database, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys locked again (30 minutes after their last use): confirming, 递补 and voiding ask the key
    passphrase before their write takes the write lock, so no other workstation's write waits while a
    person types."""
    import psycopg

    from dsj_desktop import keyvault
    from dsj_desktop.demo import fill_demo
    from dsj_desktop.services import sessions

    run_job(fill_demo(pdb, draws=False))
    s = _revealed(pdb)
    asked: list[bool] = []  # at each ask: whether another workstation could take the write lock
    real_ask = keyvault.ask

    def ask(purpose: str, message: str, **kw: Any) -> str:
        with psycopg.connect(server_url) as other:
            row = other.execute(f"SELECT pg_try_advisory_xact_lock({pg.WRITE_LOCK_KEY})").fetchone()
            asked.append(bool(row and row[0]))
        return real_ask(purpose, message, **kw)

    monkeypatch.setattr(keyvault, "ask", ask)
    pdb.key_source.lock()
    done = sessions.confirm(pdb, s.id)
    assert asked == [True]
    pdb.key_source.lock()
    team = done.result[0]
    sessions.substitute(pdb, done.id, team["id"], team["inspectors"][0], "出差")
    assert asked == [True, True]
    pdb.key_source.lock()
    sessions.void(pdb, done.id, "测试作废")
    assert asked == [True, True, True]
    report = check(pdb)
    assert report.ok, report.text()


def test_confirm_checks_the_inputs_it_wrote_without_reading_them_back(
    pdb: Database, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The frozen inputs this program wrote at prepare (9 MB at city scale) are compared at confirm by
    the server's SHA-256 of the stored text, their other values and their seal, not read back; the
    record copies them as they were written, and ``check`` passes. Without them in memory (another
    process confirms), the row is read and its seal computed as before: the same record."""
    from dsj_desktop.demo import fill_demo
    from dsj_desktop.services import sessions

    run_job(fill_demo(pdb, draws=False))
    read: list[str] = []
    real_parts = pg.sealed_parts

    def sealed_parts(conn: Any, table: str, rowid: int, utf8: Any) -> Any:
        read.append(table)
        return real_parts(conn, table, rowid, utf8)

    escaped: list[int] = []  # the bytes escaped for a seal
    real_chunks = pg.json_string_body_chunks

    def chunks(data: bytes, size: int = pg.ESCAPE_CHUNK) -> Any:
        escaped.append(len(data))
        return real_chunks(data, size)

    monkeypatch.setattr(pg, "sealed_parts", sealed_parts)
    monkeypatch.setattr(pg, "json_string_body_chunks", chunks)
    s = _revealed(pdb)
    assert pdb.guard.long_row is not None and pdb.guard.long_row.table == "draw_input"
    candidates = len(pdb.guard.long_row.texts["targets"])
    read.clear()
    escaped.clear()
    done = sessions.confirm(pdb, s.id)
    assert done.status == sessions.CONFIRMED and "draw_input" not in read
    # The record's row: without its candidates (they stay in draw_input), only the rest escaped for
    # its seal.
    with pdb.read() as conn:
        size, at = conn.exec_driver_sql(
            "SELECT octet_length(record), targets_at FROM draw_record WHERE session_id = %s", (s.id,)
        ).one()
    assert at is not None and sum(escaped) == size, (escaped, size, candidates)
    assert pdb.guard.long_row is None  # (let go of once the record is stored)
    record = done.record
    assert record is not None and verify_record(record).ok
    with pdb.read() as conn:
        stored = conn.exec_driver_sql(
            "SELECT targets FROM draw_input WHERE session_id = %s", (s.id,)
        ).scalar()
    assert json.loads(stored) == record["targets"]
    # Another process: nothing kept, the inputs read and compared as before.
    other = _revealed(pdb, "RW-2026-05")
    pdb.guard.long_row = None
    read.clear()
    assert sessions.confirm(pdb, other.id).status == sessions.CONFIRMED and "draw_input" in read
    report = check(pdb)
    assert report.ok, report.text()


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE draw_input SET targets = replace(targets, '\"name\":\"', '\"name\":\"冒名') WHERE session_id = '{sid}'",
        "UPDATE draw_input SET other = other || ' ' WHERE session_id = '{sid}'",
        "UPDATE draw_input SET created_at = '2020-01-01T00:00:00' WHERE session_id = '{sid}'",
        "UPDATE row_seal SET seal = '\\x00' WHERE tbl = 'draw_input' AND row_id = "
        "(SELECT rowid FROM draw_input WHERE session_id = '{sid}')",
    ],
    ids=["candidates", "other-inputs", "created-at", "seal"],
)
def test_inputs_edited_outside_after_prepare_are_refused_at_confirm(
    pdb: Database, server_url: str, edit: str
) -> None:
    """An edit behind the program's back (triggers lifted) of the frozen inputs this program wrote and
    still holds in memory, in the candidates, another column or the seal, is refused at confirm
    with the same message as always, and nothing of the confirmation is written."""
    from dsj_desktop.demo import fill_demo
    from dsj_desktop.services import sessions

    run_job(fill_demo(pdb, draws=False))
    s = _revealed(pdb)
    assert pdb.guard.long_row is not None
    outside(server_url, "SET session_replication_role = replica", edit.format(sid=s.id))
    with pytest.raises(sessions.DrawError, match="不能据此签署") as refused:
        sessions.confirm(pdb, s.id)
    assert guard_mod.table_title("draw_input") in str(refused.value)
    assert sessions.get_session(pdb, s.id).status == sessions.REVEALED
    assert_nothing_confirmed(pdb, s.id)


def test_a_record_whose_signature_fails_its_check_is_not_stored(
    pdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signature is checked while the server stores the record: if the check fails, the whole
    confirmation is rolled back (nothing half-written), and the database checks clean."""
    from cryptography.exceptions import InvalidSignature

    from dsj_desktop.demo import fill_demo
    from dsj_desktop.draw import record as record_mod
    from dsj_desktop.services import sessions

    run_job(fill_demo(pdb, draws=False))
    s = _revealed(pdb)
    real = record_mod.SignedUtf8.checked

    def failing(self: Any) -> None:
        real(self)
        raise InvalidSignature

    monkeypatch.setattr(record_mod.SignedUtf8, "checked", failing)
    with pytest.raises(InvalidSignature):
        sessions.confirm(pdb, s.id)
    monkeypatch.undo()
    assert sessions.get_session(pdb, s.id).status == sessions.REVEALED
    assert_nothing_confirmed(pdb, s.id)
    assert sessions.confirm(pdb, s.id).status == sessions.CONFIRMED
    report = check(pdb)
    assert report.ok, report.text()


def test_long_text_escaped_in_pieces_is_escaped_as_a_whole() -> None:
    """A long text's seal is hashed a piece at a time while the next piece is escaped: the pieces,
    cut between characters, make the text escaped as a whole, whatever it holds."""
    nasty = 'a"b\\c\td\ne\r\x01\x1f\x7f 名称☃𝌆\u2028 {"j": [1]} \\u0000 '
    for text in (nasty * 50, "名" * 1000, "x" * 999 + "名" + "y" * 5, ""):
        data = text.encode("utf-8")
        for size in (1, 2, 3, 7, 64, 1 << 20):
            assert b"".join(pg.json_string_body_chunks(data, size)) == pg.json_string_body(data), (
                text[:9],
                size,
            )


def test_a_text_escaped_with_a_span_escaped_before_is_escaped_as_a_whole() -> None:
    """A long text's seal takes spans of it escaped ahead (the frozen candidates, escaped when the task
    was chosen): the pieces make the text escaped as a whole; a span whose bytes are not the ones
    given is escaped afresh."""
    inner = '[{"id":"1","name":"名\\"称"}]'.encode()
    data = b'{"a":"x\\"y","targets":' + inner + b',"z":"\xe2\x98\x83"}'
    start = data.index(inner)
    whole = pg.json_string_body(data)
    pieces = list(pg.json_string_body_chunks(inner, 4))
    for known in (
        {(start, start + len(inner)): (inner, pieces)},
        {(start, start + len(inner)): (inner.replace(b"1", b"2"), [b"wrong"])},
        {(start, start + len(inner) - 1): (inner, [b"wrong"])},
    ):
        assert b"".join(guard_mod._escaped_pieces(data, known)) == whole
    # (Taken as given where the bytes are those: never escaped again.)
    taken = {(start, start + len(inner)): (inner, [b"given"])}
    assert b"".join(guard_mod._escaped_pieces(data, taken)).count(b"given") == 1


def test_bulk_writes_of_every_directory_are_sealed_on_the_server(pdb: Database) -> None:
    """Every kind of directory through the COPY path (dates, integers, a column the spec does not
    cover): rendered in the program where it can, read back where it cannot; honest either way."""
    from dsj_desktop.domain import codelists
    from dsj_desktop.domain.plan_specs import ITEMS
    from dsj_desktop.domain.specs import CONFLICTS, EXPERTS, INSPECTORS, TARGETS
    from dsj_desktop.io.importer import ParsedSheet, diff, existing_rows, write_rows
    from tests.test_import import code

    records: list[tuple[Any, list[dict[str, Any]]]] = [
        (TARGETS, [{"uscc": code(i), "name": f"企业{i}", "industry": "机械", "region": "城关镇",
                    "risk_level": "一般", "major_hazard": i % 2 == 0} for i in range(1, 40)]),
        (INSPECTORS, [{"cert_no": f"1499{i:07d}", "name": f"执法人员{i}", "cert_valid_until": "2030-12-31"}
                      for i in range(30)]),
        (EXPERTS, [{"code": f"ZJ{i:04d}", "name": f"专家{i}", "field": "化工;机械"} for i in range(30)]),
        (CONFLICTS, [{"person_code": f"1499{i:07d}", "uscc": code(i + 1), "reason": "亲属"} for i in range(5)]),
        (ITEMS, [{"code": f"YJ-{i:03d}", "name": f"事项{i}", "year": 2026} for i in range(30)]),
    ]  # fmt: skip
    with pdb.write("批量写入", bulk=True) as conn:
        codelists.add_values(conn, codelists.REGION, ["城关镇"])  # noted by the trigger, sealed at the end
        codes = codelists.all_lists(conn)
        for spec, recs in records:
            parsed = ParsedSheet.from_records(spec, recs, codes, "测试")
            rows, types = parsed.db_rows_and_types(spec)
            add, update, _, _ = diff(spec, rows, existing_rows(conn, spec))
            run_job(write_rows(conn, spec, add, update, types))
    report = check(pdb)
    assert report.ok, report.text()
    with pdb.read() as conn:
        for spec, recs in records:
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {spec.table}").scalar_one() == len(recs)


def test_new_ids_take_a_run_of_the_sequence_in_one_step(pdb: Database) -> None:
    """The ids a COPY takes are the numbers nextval would give, and the sequence goes on after them."""
    with pdb.write("编号") as conn:
        assert list(pg.new_ids(conn, "target", 0)) == []
        ids = pg.new_ids(conn, "target", 5)
        assert list(ids) == list(range(ids[0], ids[0] + 5))
        assert list(pg.new_ids(conn, "target", 1)) == [ids[-1] + 1]
        assert conn.exec_driver_sql("SELECT nextval('target_id_seq')").scalar_one() == ids[-1] + 2


def test_bulk_import_with_ids_not_in_one_run(pdb: Database, server_url: str, tmp_path: Path) -> None:
    """The ids a COPY import draws from the table's sequence need not be consecutive (a sequence
    stepping by 2 here): each row gets and is sealed under its own, and the sequence goes on after them."""
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.importer import BULK_ROWS, import_directory

    add_target(pdb, "91110000100000001X", "甲公司")
    outside(server_url, "ALTER SEQUENCE target_id_seq INCREMENT BY 2")
    n = BULK_ROWS + 3
    run_job(import_directory(pdb, TARGETS, _bulk_file(tmp_path, 100, n), add_unknown_codes=True))
    report = check(pdb)
    assert report.ok, report.text()
    with pdb.read() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM target ORDER BY id")]
    assert len(ids) == n + 1 and all(b - a == 2 for a, b in pairwise(ids[1:]))
    add_target(pdb, "91110000100000002X", "乙公司")  # an ordinary INSERT: the sequence's next number
    with pdb.read() as conn:
        assert conn.exec_driver_sql("SELECT max(id) FROM target").scalar_one() == ids[-1] + 2
    assert check(pdb).ok


def test_bulk_import_by_an_account_that_does_not_own_the_tables(
    pdb: Database, server_url: str, tmp_path: Path
) -> None:
    """A workstation connecting with an account that may write the tables but does not own them
    cannot switch the capture trigger off: the import still completes, sealed and honest."""
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.importer import BULK_ROWS, import_directory

    role = f"clerk_{os.getpid()}_{tmp_path.name[-12:]}".replace("-", "_").lower()
    outside(server_url, f"CREATE ROLE {role} LOGIN",
            f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")  # fmt: skip
    pdb.close()
    clerk = open_database(tmp_path / "ws1", url=server_url.replace("postgres@", f"{role}@", 1))
    try:
        n = BULK_ROWS + 3
        run_job(import_directory(clerk, TARGETS, _bulk_file(tmp_path, 100, n), add_unknown_codes=True))
        with clerk.read() as conn:
            assert conn.exec_driver_sql("SELECT current_user").scalar_one() == role
        report = check(clerk)
        assert report.ok, report.text()
        state = _state(server_url)
        assert state["targets"] == n and state["notes"] == 0 and state["triggers off"] == 0
    finally:
        clerk.close()
        outside(server_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_the_schema_7_step_on_the_server(pdb: Database, tmp_path: Path, server_url: str) -> None:
    """Upgrade 6 → 7 (and on) on a server (a database of schema 6 made here from the current one, as
    the previous program left it: inputs and record in draw_session, no draw_input, every record
    version stored whole): every session's inputs moved, records kept, a session row changed outside
    the program before the upgrade still named after it."""
    from dsj_desktop.db.migrations import SCHEMA_VERSION
    from dsj_desktop.demo.county import fill_demo
    from dsj_desktop.services import sessions
    from tests.test_draw_sessions import ON, W1, W2, full_draw

    run_job(fill_demo(pdb, draws=False, year=DEMO_YEAR))
    done = full_draw(pdb, "RW-2026-04")
    open_ = sessions.prepare(pdb, "RW-2026-05", on=ON)
    sessions.commit(pdb, open_.id)
    for name, digits in (W1, W2):
        sessions.add_witness(pdb, open_.id, name, digits)
    sessions.do_reveal(pdb, open_.id)
    before = {sid: sessions.get_session(pdb, sid) for sid in (done.id, open_.id)}
    old = {sid: (s.inputs, s.record_json) for sid, s in before.items()}
    with pdb.engine.connect() as conn, conn.begin():  # the previous program's layout, honestly sealed
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(
            "ALTER TABLE draw_session ADD COLUMN inputs VARCHAR NOT NULL DEFAULT '', "
            "ADD COLUMN record VARCHAR NOT NULL DEFAULT ''"
        )
        for sid, (inputs, record) in old.items():
            conn.exec_driver_sql(
                "UPDATE draw_session SET inputs = %s, record = %s WHERE id = %s",
                (json.dumps(inputs, ensure_ascii=False), record, sid),
            )
        conn.exec_driver_sql(  # each record version whole (schema 8 stores it without its candidates)
            "UPDATE draw_record AS r SET record = overlay(r.record placing i.targets from r.targets_at + 1 for 4) "
            "FROM draw_input AS i WHERE i.session_id = r.session_id AND r.targets_at IS NOT NULL"
        )
        conn.exec_driver_sql("ALTER TABLE draw_record DROP COLUMN targets_at")
        conn.exec_driver_sql("DELETE FROM row_seal WHERE tbl = 'draw_input'")
        conn.exec_driver_sql("DROP TABLE draw_input")
        conn.exec_driver_sql("UPDATE dsj_meta SET value = '6' WHERE key = 'schema_version'")
        pg.seal_where(conn, pdb.guard.seal, "draw_session")
        pg.seal_where(conn, pdb.guard.seal, "draw_record")
    pdb.close()
    forged = dict(old[open_.id][0])
    forged["names"] = {k: "改过的名称" for k in forged["names"]}
    outside(server_url, "SET session_replication_role = replica",
            "UPDATE draw_session SET inputs = '" + json.dumps(forged, ensure_ascii=False).replace("'", "''")
            + f"' WHERE id = '{open_.id}'")  # fmt: skip
    db = open_database(tmp_path / "ws1")
    try:
        assert db.schema_version() == SCHEMA_VERSION
        with db.read() as conn:
            s = sessions.load_session(conn, done.id)
            assert s.inputs["names"] == old[done.id][0]["names"]
            assert sorted(map(tuple, s.inputs["targets"])) == sorted(map(tuple, old[done.id][0]["targets"]))
            assert s.record_json and json.loads(s.record_json) == json.loads(old[done.id][1])
        report = check(db)
        bad = sorted(f.table for f in report.findings if f.area == "数据行")
        assert bad == sorted([guard_mod.table_title("draw_session"), guard_mod.table_title("draw_input")]), (
            report.text()
        )
        with pytest.raises(sessions.DrawError, match="不能据此签署"):
            sessions.confirm(db, open_.id)
        sessions.substitute(db, done.id, done.result[0]["id"], done.result[0]["inspectors"][0], "出差")
        assert verify_record(sessions.get_session(db, done.id).record or {}).ok
    finally:
        db.close()
