"""Reading and exporting the journal (操作日志)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsj_desktop.db.engine import Database
from dsj_desktop.db.guard import HIDDEN, SECRET_COLUMNS
from dsj_desktop.errors import UserError
from dsj_desktop.fileutil import atomic_write_bytes

HEADERS = ("序号", "时间", "账户", "操作", "详情", "哈希")


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    actor: str
    action: str
    detail: str
    hash: str

    def detail_text(self, limit: int = 400) -> str:
        try:
            d: dict[str, Any] = json.loads(self.detail)
        except ValueError:
            return self.detail[:limit]
        d.pop("rows", None)
        d.pop("state", None)  # the row counts of every table (for the integrity check)
        text = json.dumps(d, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= limit else text[:limit] + "…"


def redact(detail: str) -> str:
    """An entry's detail without secret values (password and recovery-code hashes), as exported.
    Entries written by this version never hold them (the guard writes 〈已隐藏〉); older ones may."""
    try:
        d = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(d, dict) or not isinstance(d.get("rows"), list):
        return detail
    changed = False
    for row in d["rows"]:
        secret = SECRET_COLUMNS.get(row.get("table", "")) if isinstance(row, dict) else None
        if not secret:
            continue
        for part in ("values", "changed"):
            values = row.get(part)
            if isinstance(values, dict):
                for k in secret & set(values):
                    values[k] = [HIDDEN, HIDDEN] if part == "changed" else HIDDEN
                    changed = True
    return json.dumps(d, ensure_ascii=False, sort_keys=True) if changed else detail


def _where(text: str, actor: str, since: str, until: str) -> tuple[str, list[str]]:
    where, params = [], []
    if text:
        where.append("(action LIKE ? OR detail LIKE ?)")
        params += [f"%{text}%", f"%{text}%"]
    if actor:
        where.append("actor LIKE ?")
        params.append(f"%{actor}%")
    if since:
        where.append("at >= ?")
        params.append(since)
    if until:
        where.append("at < ?")
        params.append(until + "T99")
    return (" WHERE " + " AND ".join(where)) if where else "", params


def entries(
    db: Database,
    *,
    text: str = "",
    actor: str = "",
    since: str = "",
    until: str = "",
    limit: int | None = None,
    newest_first: bool = True,
) -> list[Entry]:
    where, params = _where(text, actor, since, until)
    sql = "SELECT id, at, actor, action, detail, hash FROM journal" + where
    sql += " ORDER BY id " + ("DESC" if newest_first else "ASC")
    if limit:
        sql += f" LIMIT {int(limit)}"
    with db.read() as conn:
        return [Entry(*r) for r in conn.exec_driver_sql(sql, tuple(params))]


def entry_ids(
    db: Database,
    *,
    text: str = "",
    actor: str = "",
    since: str = "",
    until: str = "",
    newest_first: bool = True,
) -> list[int]:
    """The ids of the matching entries (for a lazy view of a long journal; see :func:`entries_by_id`)."""
    where, params = _where(text, actor, since, until)
    sql = "SELECT id FROM journal" + where + " ORDER BY id " + ("DESC" if newest_first else "ASC")
    with db.read() as conn:
        return [int(r[0]) for r in conn.exec_driver_sql(sql, tuple(params))]


def entry_count(db: Database) -> int:
    """How many entries the journal holds."""
    return int(db.scalar("SELECT count(*) FROM journal") or 0)


def entries_by_id(db: Database, ids: Sequence[int]) -> dict[int, Entry]:
    out: dict[int, Entry] = {}
    with db.read() as conn:
        for i in range(0, len(ids), 500):
            chunk = [int(x) for x in ids[i : i + 500]]
            marks = ",".join("?" * len(chunk))
            for r in conn.exec_driver_sql(
                f"SELECT id, at, actor, action, detail, hash FROM journal WHERE id IN ({marks})", tuple(chunk)
            ):
                out[int(r[0])] = Entry(*r)
    return out


def actors(db: Database) -> list[str]:
    with db.read() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT DISTINCT actor FROM journal ORDER BY actor")]


def export(db: Database, path: Path, **filters: Any) -> int:
    """The journal (or a filtered part) as .xlsx or .json; the export itself is journalled."""
    path = Path(path)
    rows = entries(db, newest_first=False, **filters)
    if path.suffix.lower() == ".json":
        data = [dict(e.__dict__, detail=redact(e.detail)) for e in rows]
        atomic_write_bytes(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
    elif path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        from dsj_desktop.io.cells import safe_row
        from dsj_desktop.io.exporter import save_workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("操作日志")
        ws.append(list(HEADERS))
        for e in rows:
            ws.append(
                safe_row(
                    ws,
                    [
                        e.id,
                        e.at,
                        e.actor,
                        e.action,
                        Entry(**dict(e.__dict__, detail=redact(e.detail))).detail_text(2000),
                        e.hash,
                    ],
                )
            )
        save_workbook(wb, path)
    else:
        raise UserError("操作日志只能导出为 .xlsx 或 .json 文件。")
    db.record("导出操作日志", {"file": path.name, "entries": len(rows)})
    return len(rows)
