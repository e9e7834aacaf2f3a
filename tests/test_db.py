"""The data file: WAL, foreign keys, versions, upgrades after a backup, refusal of newer files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Connection

from dsj_desktop.db import pg
from dsj_desktop.db.engine import APPLICATION_ID, Database, open_database
from dsj_desktop.db.migrations import SCHEMA_VERSION
from dsj_desktop.errors import DatabaseError
from dsj_desktop.paths import database_path, resolve_data_dir


def outside(data_dir: Path, sqlite_sql: str, server_sql: str) -> None:
    """Another tool changing the database directly: the sqlite3 shell on the file, or psql on the server."""
    server = pg.resolve_url(data_dir)
    if server is not None:
        import psycopg

        with psycopg.connect(server, autocommit=True) as pcon:
            pcon.execute(server_sql)  # type: ignore[arg-type]
        return
    with sqlite3.connect(database_path(data_dir)) as c:
        c.executescript(sqlite_sql)
    c.close()


def table_names(db: Database) -> set[str]:
    with db.read() as conn:
        if db.on_server:
            return set(pg.table_names(conn))
        return {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.sqlite_only(
    "SQLite pragmas (WAL, foreign_keys, application_id); server: test_postgres::test_new_database_on_server_checks_clean_and_names_the_server"
)
def test_new_database_is_current_wal_and_enforces_foreign_keys(data_dir: Path) -> None:
    db = open_database(data_dir)
    try:
        assert db.schema_version() == SCHEMA_VERSION
        assert db.scalar("PRAGMA journal_mode") == "wal"
        assert db.scalar("PRAGMA foreign_keys") == 1
        assert db.scalar("PRAGMA application_id") == APPLICATION_ID
        # Seeded industries from the bureau documents.
        assert db.scalar("SELECT count(*) FROM code_value WHERE list_name='industry'") == 13
    finally:
        db.close()


def test_data_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSJ_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(None) == (tmp_path / "env").resolve()
    assert resolve_data_dir(str(tmp_path / "cli")) == (tmp_path / "cli").resolve()
    monkeypatch.delenv("DSJ_DATA_DIR")
    assert "dsj-desktop" in str(resolve_data_dir(None))


def test_newer_database_is_refused_and_left_alone(data_dir: Path) -> None:
    open_database(data_dir).close()
    path = database_path(data_dir)
    newer = SCHEMA_VERSION + 1
    outside(data_dir, f"PRAGMA user_version = {newer}",
            f"UPDATE dsj_meta SET value = '{newer}' WHERE key = 'schema_version'")  # fmt: skip
    before = path.read_bytes() if path.exists() else b""
    with pytest.raises(DatabaseError, match="较新版本"):
        open_database(data_dir)
    assert (path.read_bytes() if path.exists() else b"") == before
    if pg.resolve_url(data_dir):  # on a server: the database left at its version, unopened
        import psycopg

        with psycopg.connect(pg.resolve_url(data_dir) or "") as pcon:
            row = pcon.execute("SELECT value FROM dsj_meta WHERE key = 'schema_version'").fetchone()
        assert row is not None and row[0] == str(newer)


@pytest.mark.sqlite_only(
    "a damaged data file; meaningless for a server database (no file in the data folder)"
)
def test_a_file_that_is_not_a_database_is_refused(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    path = database_path(data_dir)
    path.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 10)
    with pytest.raises(DatabaseError, match="不是数据库文件"):
        open_database(data_dir)


def test_another_programs_database_is_refused(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    outside(data_dir, "PRAGMA application_id = 1234; CREATE TABLE t (x)", "CREATE TABLE t (x integer)")
    with pytest.raises(DatabaseError, match="其他程序"):
        open_database(data_dir)


def _make_v1(data_dir: Path) -> None:
    db = open_database(data_dir, migrations={}, target_version=1)
    with db.write() as conn:
        conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('k', '\"v1\"')")
    db.close()


def test_upgrade_steps_run_in_order_after_a_backup(data_dir: Path) -> None:
    _make_v1(data_dir)

    def step1(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE extra (id INTEGER PRIMARY KEY, note TEXT)")

    def step2(conn: Connection) -> None:
        conn.exec_driver_sql("INSERT INTO extra (id, note) SELECT 1, value FROM setting WHERE key = 'k'")

    db = open_database(data_dir, migrations={1: step1, 2: step2}, target_version=3)
    try:
        assert db.schema_version() == 3
        assert db.scalar("SELECT note FROM extra") == '"v1"'
    finally:
        db.close()
    backups = list((data_dir / "backups").glob("upgrade-v1-to-v3-*.*"))
    assert len(backups) == 1
    if backups[0].suffix == ".pgdump":  # the server's backup: pg_dump's archive
        return
    with sqlite3.connect(backups[0]) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 1
        assert c.execute("SELECT value FROM setting WHERE key='k'").fetchone()[0] == '"v1"'
    c.close()


def test_a_failing_upgrade_step_leaves_the_previous_version_intact(data_dir: Path) -> None:
    _make_v1(data_dir)

    def good(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE extra (id INTEGER PRIMARY KEY)")

    def bad(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        raise RuntimeError("power cut in the middle of the step")

    with pytest.raises(RuntimeError):
        open_database(data_dir, migrations={1: good, 2: bad}, target_version=3)
    db = open_database(data_dir, migrations={}, target_version=2)
    try:
        # Step 1 committed with its version; step 2 left nothing behind.
        assert db.schema_version() == 2
        tables = table_names(db)
        assert "extra" in tables and "half_done" not in tables
    finally:
        db.close()


def test_missing_upgrade_step_is_a_clear_error(data_dir: Path) -> None:
    _make_v1(data_dir)
    with pytest.raises(DatabaseError, match="缺少升级步骤"):
        open_database(data_dir, migrations={}, target_version=2)


# --- the real upgrade path ---------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


def schema_of(path: Path) -> dict[str, object]:
    """Tables with their columns, indexes and foreign keys, as SQLite describes them."""
    with sqlite3.connect(path) as c:
        out: dict[str, object] = {}
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for t in tables:
            cols = [tuple(r[1:]) for r in c.execute(f"PRAGMA table_info('{t}')")]
            idx = sorted(
                (bool(r[2]), tuple(i[2] for i in c.execute(f"PRAGMA index_info('{r[1]}')")))
                for r in c.execute(f"PRAGMA index_list('{t}')")
            )
            fks = sorted(tuple(r[2:5]) for r in c.execute(f"PRAGMA foreign_key_list('{t}')"))
            out[t] = (cols, idx, fks)
    c.close()
    return out


def _restore_v1(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = database_path(data_dir)
    with sqlite3.connect(path) as c:
        c.executescript((FIXTURES / "schema-v1.sql").read_text(encoding="utf-8"))
    c.close()
    return path


@pytest.mark.sqlite_only(
    "the upgrade steps 1→6 exist for SQLite files only (a server database is created at version 6); "
    "server: test_postgres::test_a_versioned_upgrade_step_on_the_server"
)
def test_upgrade_from_version_1_keeps_the_data_and_matches_a_new_schema(tmp_path: Path) -> None:
    old_dir = tmp_path / "old"
    path = _restore_v1(old_dir)
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 1
        before = {t: c.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                  for t in ("target", "inspector", "expert", "conflict", "code_value", "setting")}  # fmt: skip
    c.close()
    db = open_database(old_dir)
    try:
        assert db.schema_version() == SCHEMA_VERSION
        with db.read() as conn:
            for t, rows in before.items():
                assert [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1")] == rows, t
    finally:
        db.close()
    assert list((old_dir / "backups").glob(f"upgrade-v1-to-v{SCHEMA_VERSION}-*.sqlite3"))
    new_dir = tmp_path / "new"
    open_database(new_dir).close()
    assert schema_of(path) == schema_of(database_path(new_dir))


def test_each_write_logs_every_table_s_rows_as_a_full_count_finds_them(db: Database) -> None:
    """A write's journal entry logs the rows of every table after it: counted when the write began
    and, for the tables it changed, again at its end (on SQLite the row triggers name them). Whatever
    way the rows change (an upsert, a row replaced, a savepoint rolled back, rows removed), the logged
    counts are those a full count finds."""
    from dsj_desktop.db import guard as guard_mod

    def logged_and_counted() -> tuple[dict[str, int] | None, dict[str, int]]:
        with db.read() as conn:
            return guard_mod.journal_head(conn)[2], guard_mod.table_counts(conn)

    steps = [
        "INSERT INTO setting (key, value) VALUES ('a', '1'), ('b', '2')",
        "INSERT INTO setting (key, value) VALUES ('a', '3') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        "INSERT OR REPLACE INTO setting (key, value) VALUES ('b', '4')",
        "DELETE FROM setting WHERE key = 'a'",
    ]
    if db.on_server:
        steps.remove("INSERT OR REPLACE INTO setting (key, value) VALUES ('b', '4')")
    for sql in steps:
        with db.write("测试") as conn:
            conn.exec_driver_sql(sql)
        logged, counted = logged_and_counted()
        assert logged == counted, sql
    with db.write("测试") as conn:
        with conn.begin_nested() as sp:
            conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('c', '5')")
            sp.rollback()
        conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('d', '6')")
    logged, counted = logged_and_counted()
    assert logged == counted and counted["setting"] == 2


@pytest.mark.sqlite_only("SQLite's change marks (data_version, total_changes); server: test_pg_write_marks")
def test_a_write_after_the_program_s_own_counts_only_what_changed_and_still_sees_outside_deletes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two writes of this program on one connection, with no other connection committing,
    the tables hold what the last entry logged: the next write takes those counts without counting.
    A row deleted meanwhile by another tool (its triggers lifted, its seal removed: a commit of
    another connection) is still found by the next write of the open program, and logged."""
    from dsj_desktop.db import guard as guard_mod

    calls: list[int] = []
    real = guard_mod.table_counts

    def counting(conn: Connection, names: object = None) -> dict[str, int]:
        calls.append(len(names) if isinstance(names, list) else -1)
        return real(conn, names)  # type: ignore[arg-type]

    with db.write("测试") as conn:
        conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('a', '1'), ('b', '2')")
    monkeypatch.setattr(guard_mod, "table_counts", counting)
    with db.write("测试") as conn:
        conn.exec_driver_sql("UPDATE setting SET value = '3' WHERE key = 'a'")
    assert all(n <= 1 for n in calls), calls  # no table counted in full: only the one changed, at the end
    with sqlite3.connect(database_path(db.data_dir)) as c:
        triggers = c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            c.execute(f'DROP TRIGGER "{name}"')
        rowid = c.execute("SELECT rowid FROM setting WHERE key = 'b'").fetchone()[0]
        c.execute("DELETE FROM setting WHERE key = 'b'")
        c.execute("DELETE FROM row_seal WHERE tbl = 'setting' AND row_id = ?", (rowid,))
        for _, sql in triggers:
            c.execute(sql)
    c.close()
    calls.clear()
    with db.write("测试") as conn:
        conn.exec_driver_sql("UPDATE setting SET value = '4' WHERE key = 'a'")
    assert any(n > 1 for n in calls)  # counted again
    with db.read() as conn:
        actions = [r[0] for r in conn.exec_driver_sql("SELECT action FROM journal ORDER BY id DESC LIMIT 2")]
        logged, counted = guard_mod.journal_head(conn)[2], real(conn)
    assert actions[1] == guard_mod.OUTSIDE_CHANGE and logged == counted
