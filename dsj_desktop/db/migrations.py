"""Schema versions and the steps between them.

``SCHEMA_VERSION`` is the version this program writes. A new database is created directly at
that version from the SQLModel metadata; an older one is upgraded one step at a time, each step
in its own transaction together with the new ``user_version``, after a backup copy of the file.
``tests/test_db.py`` checks that upgrading the oldest fixture gives the same schema as a new file.

History:
    1  directories (targets, inspectors, experts, conflicts), code lists, settings
    2  the item list (item) and the annual plan (plan, task, task_item)
    3  draw sessions (draw_session, draw_event, draw_selection, draw_member, draw_record)
    4  accounts, the hash-chained journal and the row seals (account, journal, row_seal)
    5  inspection results and their versions (inspection_result, result_version), publications
       (publication, publication_item), operator-entered holiday arrangements (holiday_year,
       holiday_day); triggers that refuse to delete anything tied to a draw
    6  the journal append-only (triggers) and sealed like every row; its head anchored outside the
       file (``journal-anchor.json``, see :mod:`dsj_desktop.db.anchor`)
    7  a draw session's frozen inputs in a row of their own that never changes (draw_input, see
       :mod:`dsj_desktop.db.draw_inputs`), and its signed record only in draw_record (the session
       keeps the number of its current version): the row of draw_session, changed at every step of
       a draw, is small (draw_session.inputs and draw_session.record are gone)
    8  a record version stored without the candidates it copies from the session's frozen inputs
       (draw_record.targets_at: where they go back; see :mod:`dsj_desktop.db.draw_inputs`); the
       versions stored whole before stay as they are
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

SCHEMA_VERSION = 8

Step = Callable[[Connection], None]


def _v1_to_v2(conn: Connection) -> None:
    conn.exec_driver_sql("""
        CREATE TABLE item (
            id INTEGER NOT NULL PRIMARY KEY, code VARCHAR NOT NULL UNIQUE, name VARCHAR NOT NULL,
            category VARCHAR NOT NULL, basis VARCHAR NOT NULL, subject VARCHAR NOT NULL,
            industries VARCHAR NOT NULL, content VARCHAR NOT NULL, method VARCHAR NOT NULL,
            ratio VARCHAR NOT NULL, frequency VARCHAR NOT NULL, inspector_req VARCHAR NOT NULL,
            remark VARCHAR NOT NULL, year INTEGER NOT NULL, archived BOOLEAN NOT NULL,
            created_at VARCHAR NOT NULL, updated_at VARCHAR NOT NULL)""")
    conn.exec_driver_sql("""
        CREATE TABLE plan (
            id INTEGER NOT NULL PRIMARY KEY, code VARCHAR NOT NULL UNIQUE, name VARCHAR NOT NULL,
            year INTEGER NOT NULL, department VARCHAR NOT NULL, archived BOOLEAN NOT NULL,
            created_at VARCHAR NOT NULL, updated_at VARCHAR NOT NULL)""")
    conn.exec_driver_sql("""
        CREATE TABLE task (
            id INTEGER NOT NULL PRIMARY KEY, plan_id INTEGER NOT NULL REFERENCES plan (id),
            code VARCHAR NOT NULL UNIQUE, name VARCHAR NOT NULL, draw_type VARCHAR NOT NULL,
            items VARCHAR NOT NULL, industries VARCHAR NOT NULL, regions VARCHAR NOT NULL,
            conditions VARCHAR NOT NULL, ratio VARCHAR NOT NULL, ratio_spec VARCHAR NOT NULL,
            team_size INTEGER NOT NULL, expert_count INTEGER NOT NULL, department VARCHAR NOT NULL,
            partners VARCHAR NOT NULL, start_date DATE NOT NULL, end_date DATE NOT NULL,
            scope_note VARCHAR NOT NULL, archived BOOLEAN NOT NULL,
            created_at VARCHAR NOT NULL, updated_at VARCHAR NOT NULL)""")
    conn.exec_driver_sql("CREATE INDEX ix_task_plan_id ON task (plan_id)")
    conn.exec_driver_sql("""
        CREATE TABLE task_item (
            task_id INTEGER NOT NULL REFERENCES task (id), item_id INTEGER NOT NULL REFERENCES item (id),
            PRIMARY KEY (task_id, item_id))""")
    conn.exec_driver_sql("CREATE INDEX ix_task_item_item_id ON task_item (item_id)")


def _v2_to_v3(conn: Connection) -> None:
    for ddl in (
        """CREATE TABLE draw_session (
            id VARCHAR NOT NULL PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES task (id),
            task_code VARCHAR NOT NULL, status VARCHAR NOT NULL, draw_date DATE NOT NULL,
            place VARCHAR NOT NULL, operator VARCHAR NOT NULL, inputs VARCHAR NOT NULL, hashes VARCHAR NOT NULL,
            commitment VARCHAR NOT NULL, nonce VARCHAR NOT NULL, witnesses VARCHAR NOT NULL, seed VARCHAR NOT NULL,
            result VARCHAR NOT NULL, void_reason VARCHAR NOT NULL, record VARCHAR NOT NULL,
            record_version INTEGER NOT NULL, created_at VARCHAR NOT NULL, updated_at VARCHAR NOT NULL)""",
        "CREATE INDEX ix_draw_session_task_id ON draw_session (task_id)",
        """CREATE TABLE draw_event (
            id INTEGER NOT NULL PRIMARY KEY, session_id VARCHAR NOT NULL REFERENCES draw_session (id),
            at VARCHAR NOT NULL, operator VARCHAR NOT NULL, kind VARCHAR NOT NULL, detail VARCHAR NOT NULL)""",
        "CREATE INDEX ix_draw_event_session_id ON draw_event (session_id)",
        """CREATE TABLE draw_selection (
            session_id VARCHAR NOT NULL REFERENCES draw_session (id), uscc VARCHAR NOT NULL,
            position INTEGER NOT NULL, stratum VARCHAR NOT NULL, ticket VARCHAR NOT NULL,
            mandatory BOOLEAN NOT NULL, name VARCHAR NOT NULL, PRIMARY KEY (session_id, uscc))""",
        "CREATE INDEX ix_draw_selection_uscc ON draw_selection (uscc)",
        """CREATE TABLE draw_member (
            id INTEGER NOT NULL PRIMARY KEY, session_id VARCHAR NOT NULL REFERENCES draw_session (id),
            uscc VARCHAR NOT NULL, role VARCHAR NOT NULL, person_code VARCHAR NOT NULL, position INTEGER NOT NULL,
            active BOOLEAN NOT NULL, replaced_by VARCHAR NOT NULL)""",
        "CREATE INDEX ix_draw_member_session_id ON draw_member (session_id)",
        """CREATE TABLE draw_record (
            session_id VARCHAR NOT NULL REFERENCES draw_session (id), version INTEGER NOT NULL,
            sha256 VARCHAR NOT NULL, record VARCHAR NOT NULL, created_at VARCHAR NOT NULL,
            PRIMARY KEY (session_id, version))""",
    ):
        conn.exec_driver_sql(ddl)


def _v3_to_v4(conn: Connection) -> None:
    for ddl in (
        """CREATE TABLE account (
            id INTEGER NOT NULL PRIMARY KEY, username VARCHAR NOT NULL UNIQUE, display_name VARCHAR NOT NULL,
            role VARCHAR NOT NULL, password_hash VARCHAR NOT NULL, recovery_hash VARCHAR NOT NULL,
            failed_count INTEGER NOT NULL, locked_until VARCHAR NOT NULL, active BOOLEAN NOT NULL,
            created_at VARCHAR NOT NULL, updated_at VARCHAR NOT NULL)""",
        """CREATE TABLE journal (
            id INTEGER NOT NULL PRIMARY KEY, at VARCHAR NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL,
            detail VARCHAR NOT NULL, prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL, signature VARCHAR NOT NULL)""",
        """CREATE TABLE row_seal (
            tbl VARCHAR NOT NULL, row_id INTEGER NOT NULL, seal BLOB NOT NULL, PRIMARY KEY (tbl, row_id))
            WITHOUT ROWID""",
    ):
        conn.exec_driver_sql(ddl)


# The row seals and the journal exist from version 4 on; every upgrade ends by re-sealing (engine.py).
GUARDED_FROM = 4


KEEP_MESSAGE = "抽取和检查结果记录至少保存 5 年，不能删除或改写"

# (table, append-only): nothing tied to a draw is ever deleted; logs are never rewritten either.
PROTECTED_TABLES = (
    ("draw_session", False), ("draw_selection", False), ("draw_member", False), ("draw_event", True),
    ("draw_record", True), ("inspection_result", False), ("result_version", True), ("publication", True),
    ("publication_item", True),
)  # fmt: skip


def protect_triggers(table: str, *, append_only: bool = False, message: str = KEEP_MESSAGE) -> list[str]:
    """Triggers that make SQLite refuse a DELETE (and, for append-only tables, an UPDATE)."""
    out = [
        f"CREATE TRIGGER keep_{table}_rows BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    ]
    if append_only:
        out.append(
            f"CREATE TRIGGER keep_{table}_unchanged BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
    return out


def _v4_to_v5(conn: Connection) -> None:
    for ddl in (
        """CREATE TABLE inspection_result (
            id INTEGER NOT NULL PRIMARY KEY, session_id VARCHAR NOT NULL, uscc VARCHAR NOT NULL,
            task_code VARCHAR NOT NULL, inspected_on DATE, inspectors VARCHAR NOT NULL, method VARCHAR NOT NULL,
            category VARCHAR NOT NULL, hazards INTEGER NOT NULL, rectify_by DATE, disposal VARCHAR NOT NULL,
            remarks VARCHAR NOT NULL, items VARCHAR NOT NULL, version INTEGER NOT NULL, entered_by VARCHAR NOT NULL,
            entered_at VARCHAR NOT NULL, first_entered_at VARCHAR NOT NULL, published_version INTEGER NOT NULL,
            published_at VARCHAR NOT NULL, published_by VARCHAR NOT NULL, created_at VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL, UNIQUE (session_id, uscc),
            FOREIGN KEY (session_id, uscc) REFERENCES draw_selection (session_id, uscc))""",
        "CREATE INDEX ix_inspection_result_task_code ON inspection_result (task_code)",
        """CREATE TABLE result_version (
            result_id INTEGER NOT NULL REFERENCES inspection_result (id), version INTEGER NOT NULL,
            data VARCHAR NOT NULL, changed_by VARCHAR NOT NULL, changed_at VARCHAR NOT NULL, reason VARCHAR NOT NULL,
            PRIMARY KEY (result_id, version))""",
        """CREATE TABLE publication (
            id INTEGER NOT NULL PRIMARY KEY, scope VARCHAR NOT NULL, task_code VARCHAR NOT NULL, period_from DATE,
            period_to DATE, title VARCHAR NOT NULL, rows INTEGER NOT NULL, files VARCHAR NOT NULL,
            published_by VARCHAR NOT NULL, published_at VARCHAR NOT NULL)""",
        """CREATE TABLE publication_item (
            publication_id INTEGER NOT NULL REFERENCES publication (id),
            result_id INTEGER NOT NULL REFERENCES inspection_result (id), version INTEGER NOT NULL,
            PRIMARY KEY (publication_id, result_id))""",
        "CREATE INDEX ix_publication_item_result_id ON publication_item (result_id)",
        """CREATE TABLE holiday_year (
            year INTEGER NOT NULL PRIMARY KEY, note VARCHAR NOT NULL, entered_by VARCHAR NOT NULL,
            entered_at VARCHAR NOT NULL)""",
        """CREATE TABLE holiday_day (
            day DATE NOT NULL PRIMARY KEY, year INTEGER NOT NULL REFERENCES holiday_year (year),
            kind VARCHAR NOT NULL, name VARCHAR NOT NULL)""",
        "CREATE INDEX ix_holiday_day_year ON holiday_day (year)",
    ):
        conn.exec_driver_sql(ddl)
    for table, append_only in PROTECTED_TABLES:
        for ddl in protect_triggers(table, append_only=append_only):
            conn.exec_driver_sql(ddl)


# From version 6 on the journal is append-only and its head is anchored outside the file.
ANCHORED_FROM = 6
JOURNAL_TABLE = ("journal", True)
JOURNAL_MESSAGE = "操作日志只能追加，不能删除或改写"


# From version 7 on a session's frozen inputs have a table of their own, written once.
FROZEN_FROM = 7
INPUTS_TABLE = ("draw_input", True)


def keep_triggers(version: int, *, server: bool = False) -> dict[str, str]:
    """The ``keep_*`` triggers a file of *version* has: {name: the SQL SQLite keeps for it}; on a
    PostgreSQL server (*server*) the same triggers as PostgreSQL reports them."""
    if server:
        from dsj_desktop.db import pg

        out: dict[str, str] = {}
        tables = [*PROTECTED_TABLES] if version >= 5 else []
        if version >= ANCHORED_FROM:
            tables.append(JOURNAL_TABLE)
        if version >= FROZEN_FROM:
            tables.append(INPUTS_TABLE)
        for table, append_only in tables:
            message = JOURNAL_MESSAGE if (table, append_only) == JOURNAL_TABLE else KEEP_MESSAGE
            out[f"keep_{table}_rows"] = pg.keep_trigger(f"keep_{table}_rows", table, "DELETE", message)
            if append_only:
                name = f"keep_{table}_unchanged"
                out[name] = pg.keep_trigger(name, table, "UPDATE", message)
        return out
    ddls = (
        [d for t, a in PROTECTED_TABLES for d in protect_triggers(t, append_only=a)] if version >= 5 else []
    )
    if version >= ANCHORED_FROM:
        ddls += _journal_triggers()
    if version >= FROZEN_FROM:
        ddls += protect_triggers(INPUTS_TABLE[0], append_only=INPUTS_TABLE[1])
    return {ddl.split()[2]: ddl for ddl in ddls}


def _journal_triggers() -> list[str]:
    table, append_only = JOURNAL_TABLE
    return protect_triggers(table, append_only=append_only, message=JOURNAL_MESSAGE)


def _v5_to_v6(conn: Connection) -> None:
    # The journal's rows are sealed by the re-seal that ends every upgrade (engine.py).
    for ddl in _journal_triggers():
        conn.exec_driver_sql(ddl)


DRAW_INPUT_DDL = """CREATE TABLE draw_input (
    session_id VARCHAR NOT NULL PRIMARY KEY REFERENCES draw_session (id), task VARCHAR NOT NULL,
    targets VARCHAR NOT NULL, other VARCHAR NOT NULL, created_at VARCHAR NOT NULL)"""


def _v6_to_v7(conn: Connection) -> None:
    """Each session's inputs into draw_input (one session at a time: 100,000 candidates each), then
    draw_session without its two large columns (the record stays in draw_record, which always held
    every version). Rows are sealed after the step: see :data:`DERIVED_ROWS`. (A file made at an
    earlier version number from the current tables, as tests of the mechanism make them, has the
    tables already: only what is missing is done.)"""
    import json

    from dsj_desktop.db import draw_inputs, pg

    server = pg.is_pg(conn)
    tables = (
        pg.table_names(conn)
        if server
        else [r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    )
    if "draw_input" not in tables:
        conn.exec_driver_sql(DRAW_INPUT_DDL)
        if server:
            pg.add_rowid(conn, "draw_input")
    if "inputs" in pg.table_columns(conn, "draw_session"):
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM draw_session ORDER BY rowid")]
        for sid in ids:
            text, created = conn.exec_driver_sql(
                "SELECT inputs, created_at FROM draw_session WHERE id = ?", (sid,)
            ).one()
            task, targets, other = draw_inputs.split(json.loads(text), lenient=True)
            del text
            conn.exec_driver_sql(
                "INSERT INTO draw_input (session_id, task, targets, other, created_at) VALUES (?, ?, ?, ?, ?)",
                (sid, task, targets, other, created),
            )
        if not server:  # SQLite drops a column only when no trigger names it (the guard's are made
            # again, for the new columns, by the re-seal that ends the upgrade: engine.py)
            for (name,) in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'draw_session' "
                "AND name LIKE 'dsj_guard_%'"
            ).fetchall():
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        conn.exec_driver_sql("ALTER TABLE draw_session DROP COLUMN inputs")
        conn.exec_driver_sql("ALTER TABLE draw_session DROP COLUMN record")
    have = (
        pg.all_triggers(conn)
        if server
        else {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    )
    table = INPUTS_TABLE[0]
    for name, sql in keep_triggers(FROZEN_FROM, server=server).items():
        if name.startswith(f"keep_{table}_") and name not in have:
            if server:
                pg.create_trigger(conn, sql)
            else:
                conn.exec_driver_sql(sql)


def _v7_to_v8(conn: Connection) -> None:
    """draw_record.targets_at (NULL: the record stored whole, as every version written before)."""
    from dsj_desktop.db import pg

    if "targets_at" not in pg.table_columns(conn, "draw_record"):
        conn.exec_driver_sql("ALTER TABLE draw_record ADD COLUMN targets_at INTEGER")


# Tables a step fills from the rows of another: (the table the rows came from, SQL giving each new
# row's rowid with the rowid it came from). After the upgrade only the new rows made from rows that
# verified before it are sealed (:func:`dsj_desktop.db.guard.reseal_verified`): inputs moved out of
# a session row changed outside the program stay unsealed, and `check` names them.
DERIVED_ROWS = {
    "draw_input": (
        "draw_session",
        "SELECT i.rowid, s.rowid FROM draw_input AS i JOIN draw_session AS s ON s.id = i.session_id",
    )
}


# MIGRATIONS[v] upgrades a database at version v to version v + 1.
MIGRATIONS: dict[int, Step] = {
    1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5, 5: _v5_to_v6, 6: _v6_to_v7, 7: _v7_to_v8,
}  # fmt: skip
