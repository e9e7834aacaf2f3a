"""On a PostgreSQL server a program write skips counting every table when transaction ids prove that
nothing but the program's own last write changed the database since (engine.Database._before_write,
guard.write_mark). These tests show that the shortcut is taken when it may be, and that a row
inserted or deleted behind the program's back — from another connection with the triggers lifted,
by a transaction begun before the program's write and committed after it, inside a savepoint, or by
a trigger someone planted that runs inside the program's own transaction — is still found by the
next write, as when every write counted.

They always run against a real server (tests/pg_server.py), whatever ``--engine`` says."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db.engine import Database, open_database
from tests.pg_server import pg_bin_dir
from tests.server_helpers import add_target, check

pytestmark = pytest.mark.skipif(
    pg_bin_dir() is None and not os.environ.get("CI"), reason="no PostgreSQL server package installed"
)

REPLICA = "SET session_replication_role = replica"  # the triggers lifted, as a database owner can


def outside(url: str, *sql: str) -> None:
    """Another tool (psql, a database owner) changing the database directly, committed at once."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        for s in sql:
            con.execute(s)  # type: ignore[arg-type]


@contextmanager
def open_transaction(url: str, *sql: str) -> Iterator[Any]:
    """Another tool's transaction, left open (its id drawn) until the block ends; then committed."""
    import psycopg

    with psycopg.connect(url) as con:
        for s in sql:
            con.execute(s)  # type: ignore[arg-type]
        yield con
        con.commit()


def delete_target_and_seal(name: str) -> list[str]:
    """A target deleted together with its seal (``check`` sees it only in the row counts)."""
    return [
        f"DELETE FROM row_seal WHERE tbl = 'target' AND row_id = (SELECT id FROM target WHERE name = '{name}')",
        f"DELETE FROM target WHERE name = '{name}'",
    ]


class Counting:
    """Every table_counts call: the number of tables it counted (a full count: all of them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[int] = []
        real = guard_mod.table_counts

        def counting(conn: Connection, names: Any = None) -> dict[str, int]:
            found = real(conn, names)
            self.calls.append(len(found))
            return found

        monkeypatch.setattr(guard_mod, "table_counts", counting)

    def full(self) -> bool:
        """Whether every table was counted since the last call."""
        calls, self.calls = self.calls, []
        return any(n > 5 for n in calls)


def setting(db: Database, key: str, value: str = "1") -> None:
    with db.write("测试") as conn:
        conn.exec_driver_sql(
            "INSERT INTO setting (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def last_actions(db: Database, n: int = 3) -> list[str]:
    with db.read() as conn:
        return [
            str(r[0]) for r in conn.exec_driver_sql(f"SELECT action FROM journal ORDER BY id DESC LIMIT {n}")
        ]


def logged_and_counted(db: Database) -> tuple[dict[str, int] | None, dict[str, int]]:
    with db.read() as conn:
        return guard_mod.journal_head(conn)[2], guard_mod.table_counts(conn)


def outside_found(db: Database) -> bool:
    """Whether the last writes put an outside change on record, and the counts now logged are right."""
    logged, counted = logged_and_counted(db)
    assert logged == counted
    return guard_mod.OUTSIDE_CHANGE in last_actions(db)


def note_workstation(db: Database, session_id: str) -> None:
    """What a draw does between prepare and commit: note this workstation for *session_id* (a
    transaction of its own, hold_live), then let go of it."""
    held = db.hold_live(session_id)
    assert held is not None
    held.close()


@pytest.fixture
def targets(pdb: Database) -> Database:
    add_target(pdb, "91110000100000001X", "甲公司")
    add_target(pdb, "91110000100000002X", "乙公司")
    return pdb


def test_writes_in_a_row_take_the_logged_counts(targets: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writes in a row with nothing else happening on the server: the second counts no table in
    full (only those it changed, at its end). Autovacuum may draw a transaction id at any moment
    (then the write counts, rightly): a few tries."""
    counting = Counting(monkeypatch)
    skipped = 0
    for i in range(5):
        setting(targets, "a", str(i))
        counting.full()
        setting(targets, "a", f"{i}b")
        skipped += not counting.full()
        logged, counted = logged_and_counted(targets)
        assert logged == counted
    assert skipped >= 1
    assert guard_mod.OUTSIDE_CHANGE not in last_actions(targets, 20)


@pytest.mark.parametrize("change", ["delete", "insert"])
def test_a_row_changed_between_two_writes_with_the_triggers_lifted_is_found(
    targets: Database, server_url: str, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    counting = Counting(monkeypatch)
    setting(targets, "a")
    setting(targets, "b")
    if change == "delete":
        outside(server_url, REPLICA, *delete_target_and_seal("乙公司"))
    else:
        outside(server_url, REPLICA, "INSERT INTO setting (key, value) VALUES ('planted', 'x')")
    counting.full()
    setting(targets, "c")
    assert counting.full()  # another transaction committed: every table counted
    assert outside_found(targets)
    report = check(targets)
    assert not report.ok


@pytest.mark.parametrize("commit_at", ["after the write", "during the write", "after the next write began"])
def test_a_transaction_begun_before_a_write_and_committed_later_is_found(
    targets: Database, server_url: str, commit_at: str
) -> None:
    """A tool's transaction holds its id (its row deleted, not yet committed) when the program's
    write begins; it commits after that write committed, or while it runs (after it counted), or once
    the next write has begun and is waiting for nothing. The write after that finds the row gone."""
    setting(targets, "a")
    setting(targets, "b")
    with open_transaction(server_url, REPLICA, *delete_target_and_seal("乙公司")) as tool:
        if commit_at == "during the write":
            with targets.write("测试") as conn:
                conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('c', '1')")
                tool.commit()
        elif commit_at == "after the write":
            setting(targets, "c")
        else:
            setting(targets, "c")
            with targets.write("测试") as conn:
                tool.commit()
                conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('d', '1')")
    setting(targets, "e")
    assert outside_found(targets)


@pytest.mark.parametrize("committed", [True, False])
def test_a_transaction_that_draws_its_id_during_a_write_is_found(
    targets: Database, server_url: str, committed: bool
) -> None:
    """The program's write began cleanly; a tool changes a row while it runs (after its counts), and
    commits before the write ends, or after."""
    setting(targets, "a")
    setting(targets, "b")
    import psycopg

    with psycopg.connect(server_url) as tool:
        with targets.write("测试") as conn:
            conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('c', '1')")
            for s in (REPLICA, *delete_target_and_seal("乙公司")):
                tool.execute(s)  # type: ignore[arg-type]
            if committed:
                tool.commit()
        tool.commit()
    setting(targets, "d")
    assert outside_found(targets)


def test_a_change_in_a_tool_s_savepoint_is_found(targets: Database, server_url: str) -> None:
    setting(targets, "a")
    with open_transaction(
        server_url, REPLICA, "SAVEPOINT s1", *delete_target_and_seal("乙公司"), "RELEASE s1"
    ):
        setting(targets, "b")
    setting(targets, "c")
    assert outside_found(targets)


def test_a_write_with_savepoints_of_its_own_makes_the_next_count(
    targets: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids drawn by the write's own savepoints are not told apart from others: the next write counts,
    and finds the counts the write logged."""
    counting = Counting(monkeypatch)
    setting(targets, "a")
    with targets.write("测试") as conn:
        with conn.begin_nested():
            conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('s', '1')")
        with conn.begin_nested() as sp:
            conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('t', '1')")
            sp.rollback()
    counting.full()
    setting(targets, "b")
    assert counting.full()
    assert not outside_found(targets)


def test_another_workstation_s_write_makes_the_next_count(
    targets: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = open_database(tmp_path / "ws2")
    try:
        counting = Counting(monkeypatch)
        setting(targets, "a")
        add_target(other, "91110000100000003X", "丙公司")
        counting.full()
        setting(targets, "b")
        assert counting.full()
        assert not outside_found(targets)
        setting(other, "c")
        assert not outside_found(other)
    finally:
        other.close()


PLANT = """
CREATE FUNCTION planted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('session_replication_role', 'replica', true);
  DELETE FROM row_seal WHERE tbl = 'target' AND row_id = (SELECT id FROM target WHERE name = '乙公司');
  DELETE FROM target WHERE name = '乙公司';
  PERFORM set_config('session_replication_role', 'origin', true);
  RETURN NULL;
END $$
"""


@pytest.mark.parametrize("deferred", [False, True])
def test_a_deletion_by_a_trigger_planted_in_the_program_s_own_write_is_found(
    targets: Database, server_url: str, deferred: bool
) -> None:
    """Someone plants a trigger on a table the program writes: it deletes a target (and its seal)
    with the capture trigger lifted, inside the program's own transaction (at once, or deferred to
    its COMMIT). The program's write logs the targets it began with; the next write counts anyway
    (the server's own counts of that transaction show a table changed that the write did not count
    again) and finds the target gone."""
    setting(targets, "a")
    kind = "CONSTRAINT TRIGGER zz_planted AFTER INSERT ON setting DEFERRABLE INITIALLY DEFERRED"
    outside(server_url, PLANT, f"CREATE {kind if deferred else 'TRIGGER zz_planted AFTER INSERT ON setting'} "
            "FOR EACH ROW EXECUTE FUNCTION planted()")  # fmt: skip
    setting(targets, "b")  # counts (the trigger was planted since): the target is gone only after it
    setting(targets, "c")
    assert outside_found(targets)


def test_a_deletion_by_a_trigger_planted_on_the_workstation_note_is_found(
    targets: Database, server_url: str
) -> None:
    """The note a draw makes of its workstation (hold_live) is the program's own transaction between
    two writes; one planted trigger there that deletes a target makes the next write count. (The note
    is inserted, or updated where the same connection noted an earlier draw: the trigger does both.)"""
    setting(targets, "a")
    note_workstation(targets, "S-PLANTED-0")
    outside(server_url, PLANT, "CREATE TRIGGER zz_planted AFTER INSERT OR UPDATE ON dsj_workstation "
            "FOR EACH ROW EXECUTE FUNCTION planted()")  # fmt: skip
    setting(targets, "b")
    note_workstation(targets, "S-PLANTED-1")
    setting(targets, "c")
    assert outside_found(targets)


def test_the_workstation_note_alone_does_not_make_a_write_count(
    targets: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between prepare and commit a draw notes its workstation (a transaction of its own, on a table
    of the program's own never counted): the commit need not count because of it. Autovacuum may
    draw an id at any moment: a few tries."""
    counting = Counting(monkeypatch)
    skipped = 0
    for i in range(5):
        setting(targets, "a", str(i))
        held = targets.hold_live(f"S-NOTE-{i}")
        assert held is not None
        counting.full()
        setting(targets, "b", str(i))
        skipped += not counting.full()
        held.close()
    assert skipped >= 1
    assert not outside_found(targets)


def test_a_note_planted_in_the_program_s_own_write_is_found(targets: Database, server_url: str) -> None:
    """A planted trigger leaves, inside the program's write, a note in ``dsj_change`` that is not the
    write's own (a change the program did not make): the next write reads the notes and puts it on
    record, as when every write read them."""
    setting(targets, "a")
    outside(
        server_url,
        "CREATE FUNCTION planted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.key = 'c' THEN "
        "INSERT INTO dsj_change (tx, tbl, op, row_id) VALUES (1, 'target', 'U', 1); END IF; RETURN NULL; END $$",
        "CREATE TRIGGER zz_planted AFTER INSERT ON setting FOR EACH ROW EXECUTE FUNCTION planted()",
    )
    setting(targets, "b")  # counts and reads the notes (the trigger was planted since)
    setting(targets, "c")  # the note is left as it ends
    setting(targets, "d")
    assert outside_found(targets)
    with targets.read() as conn:
        detail = conn.exec_driver_sql(
            "SELECT detail FROM journal WHERE action = ? ORDER BY id DESC LIMIT 1",
            (guard_mod.OUTSIDE_CHANGE,),
        ).scalar()
    assert "（target）第 1 行 U" in detail


def test_a_noted_change_by_a_trigger_planted_on_the_workstation_note_is_found(
    targets: Database, server_url: str
) -> None:
    """A trigger planted on the workstation note changes a target with the capture trigger on: its note,
    left by the program's own transaction, is put on record by the next write."""
    setting(targets, "a")
    note_workstation(targets, "S-NOTED-0")
    outside(
        server_url,
        "CREATE FUNCTION planted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE target SET name = '丁公司' WHERE name = '乙公司'; RETURN NULL; END $$",
        "CREATE TRIGGER zz_planted AFTER INSERT OR UPDATE ON dsj_workstation FOR EACH ROW EXECUTE FUNCTION planted()",
    )
    setting(targets, "b")
    note_workstation(targets, "S-NOTED-1")
    setting(targets, "c")
    assert outside_found(targets)
