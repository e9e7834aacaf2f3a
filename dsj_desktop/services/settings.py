"""Settings kept in the database (JSON values), so they travel with the data and its backups."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from dsj_desktop.db.engine import Database

BUREAU_NAME = "bureau_name"
TITLES = {
    BUREAU_NAME: "单位名称", "rules": "抽查规则", "backup_keep": "自动备份保留份数",
    "draw_projector_screen": "投影屏幕", "draw_last_place": "抽取地点", "draw_last_operator": "抽取操作人员",
    "draw_animation_speed": "抽取动画速度", "results_operator": "检查结果录入人员",
    "result_deadline_days": "检查结果录入期限（工作日）", "auto_login": "单用户免密码登录",
}  # fmt: skip
MIN_BUREAU_NAME = 4


def check_bureau_name(name: str) -> str | None:
    """Why *name* cannot be the bureau's full name (None when it can)."""
    from dsj_desktop.keys import MAX_BUREAU_NAME

    name = name.strip()
    if not name:
        return "请填写本局全称。"
    if len(name) < MIN_BUREAU_NAME:
        return f"“{name}”太短：请填写全称，例如“青山县应急管理局”。"
    if len(name) > MAX_BUREAU_NAME:
        return f"名称过长（{len(name)} 个字），最多 {MAX_BUREAU_NAME} 个字。"
    if any(c in name for c in "\r\n\t"):
        return "名称中不能有换行。"
    return None


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


def read_all(db: Database) -> dict[str, Any]:
    """Every setting kept, by key in order."""
    with db.read() as conn:
        rows = conn.exec_driver_sql("SELECT key, value FROM setting ORDER BY key").fetchall()
    return {str(k): json.loads(v) for k, v in rows}


def write(db: Database, key: str, value: Any) -> None:
    with db.write(f"修改设置：{TITLES.get(key, key)}") as conn:
        put(conn, key, value)


def bureau_name(db: Database) -> str:
    return str(read(db, BUREAU_NAME, "") or "")
