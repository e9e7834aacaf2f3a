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
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

SCHEMA_VERSION = 4

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


# MIGRATIONS[v] upgrades a database at version v to version v + 1.
# The row seals and the journal exist from version 4 on; every upgrade ends by re-sealing (engine.py).
GUARDED_FROM = 4
MIGRATIONS: dict[int, Step] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}
