"""Schema versions and the steps between them.

``SCHEMA_VERSION`` is the version this program writes. A new database is created directly at
that version from the SQLModel metadata; an older one is upgraded one step at a time, each step
in its own transaction together with the new ``user_version``, after a backup copy of the file.
``tests/test_db.py`` checks that upgrading the oldest fixture gives the same schema as a new file.

History:
    1  directories (targets, inspectors, experts, conflicts), code lists, settings
    2  the item list (item) and the annual plan (plan, task, task_item)
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

SCHEMA_VERSION = 2

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


# MIGRATIONS[v] upgrades a database at version v to version v + 1.
MIGRATIONS: dict[int, Step] = {1: _v1_to_v2}
