"""Settings kept in the database (JSON values), so they travel with the data and its backups."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from dsj_desktop.db.engine import Database

BUREAU_NAME = "bureau_name"
TITLES = {BUREAU_NAME: "单位名称", "rules": "抽查规则", "backup_keep": "自动备份保留份数"}


def get(conn: Connection, key: str, default: Any = None) -> Any:
    row = conn.exec_driver_sql("SELECT value FROM setting WHERE key = ?", (key,)).first()
    return default if row is None else json.loads(row[0])


def put(conn: Connection, key: str, value: Any) -> None:
    conn.exec_driver_sql(
        "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value, ensure_ascii=False, sort_keys=True)),
    )


def read(db: Database, key: str, default: Any = None) -> Any:
    with db.read() as conn:
        return get(conn, key, default)


def write(db: Database, key: str, value: Any) -> None:
    with db.write(f"修改设置：{TITLES.get(key, key)}") as conn:
        put(conn, key, value)


def bureau_name(db: Database) -> str:
    return str(read(db, BUREAU_NAME, "") or "")
