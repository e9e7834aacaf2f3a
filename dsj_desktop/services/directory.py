"""Queries and edits on a directory, for the tables, the edit dialogs and the command line.

Filtering and sorting happen in SQL; the table models only hold the list of matching ids and
fetch the visible rows page by page, so 100,000 rows stay responsive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from dsj_desktop.clock import now_iso, today
from dsj_desktop.db.engine import Database
from dsj_desktop.domain import codelists
from dsj_desktop.domain.fields import CellError, Converter, Kind
from dsj_desktop.domain.specs import CONFLICTS, INSPECTORS, ON_DUTY, TableSpec
from dsj_desktop.errors import ValidationError
from dsj_desktop.io.importer import insert_sql, to_db, update_sql

ELIGIBLE = "eligible"
INELIGIBLE = "ineligible"

# Read-only columns shown beside a directory's own fields: (header, SQL expression, display width).
EXTRA_COLUMNS: dict[str, list[tuple[str, str, int]]] = {
    CONFLICTS.kind: [
        (
            "人员姓名",
            "coalesce((SELECT i.name FROM inspector i WHERE i.cert_no = conflict.person_code),"
            " (SELECT e.name || '（专家）' FROM expert e WHERE e.code = conflict.person_code), '')",
            16,
        ),
        ("企业名称", "coalesce((SELECT t.name FROM target t WHERE t.uscc = conflict.uscc), '')", 32),
    ],
}


@dataclass
class Filter:
    text: str = ""
    equals: dict[str, Any] = field(default_factory=dict)  # attr → value
    flags: list[str] = field(default_factory=list)  # boolean attrs that must be true
    include_archived: bool = False
    eligibility: str | None = None  # inspectors: ELIGIBLE / INELIGIBLE on today's date


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class DirectoryQuery:
    def __init__(self, db: Database, spec: TableSpec) -> None:
        self.db = db
        self.spec = spec
        self._attrs = set(spec.attrs)

    # --- reading ---------------------------------------------------------------------------------

    def where(self, flt: Filter) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if not flt.include_archived:
            clauses.append("archived = 0")
        for i, word in enumerate(flt.text.split()):
            params[f"w{i}"] = f"%{_like_escape(word)}%"
            ors = " OR ".join(f"{a} LIKE :w{i} ESCAPE '\\'" for a in self.spec.search)
            clauses.append(f"({ors})")
        for i, (attr, value) in enumerate(sorted(flt.equals.items())):
            if attr not in self._attrs:
                raise KeyError(attr)
            f = self.spec.field(attr)
            if f.kind is Kind.LIST:
                clauses.append(f"('、' || {attr} || '、') LIKE ('%、' || :e{i} || '、%') ESCAPE '\\'")
                params[f"e{i}"] = _like_escape(str(value))
            else:
                params[f"e{i}"] = int(bool(value)) if f.kind is Kind.BOOL else value
                clauses.append(f"{attr} = :e{i}")
        for attr in flt.flags:
            if attr not in self._attrs:
                raise KeyError(attr)
            clauses.append(f"{attr} = 1")
        if flt.eligibility and self.spec is INSPECTORS:
            params["today"] = today().isoformat()
            params["on_duty"] = ON_DUTY
            ok = "(cert_valid_until >= :today AND duty_status = :on_duty)"
            clauses.append(ok if flt.eligibility == ELIGIBLE else f"NOT {ok}")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def ids(self, flt: Filter, sort: str | None = None, descending: bool = False) -> list[int]:
        # Without a chosen column: the order the records were entered or imported in.
        sort = sort if sort in self._attrs else "id"
        where, params = self.where(flt)
        order = f"{sort} {'DESC' if descending else 'ASC'}, id"
        with self.db.read() as conn:
            return [r[0] for r in conn.exec_driver_sql(f"SELECT id FROM {self.spec.table}{where} ORDER BY {order}",
                                                       params)]  # fmt: skip

    def count(self, flt: Filter) -> int:
        where, params = self.where(flt)
        return int(self.db.scalar(f"SELECT count(*) FROM {self.spec.table}{where}", params))

    @property
    def extras(self) -> list[tuple[str, str, int]]:
        return EXTRA_COLUMNS.get(self.spec.kind, [])

    def rows(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """id → (values in spec field order..., archived, extra columns...)."""
        if not ids:
            return {}
        cols = ", ".join([*self.spec.attrs, "archived", *(expr for _, expr, _ in self.extras)])
        out: dict[int, tuple[Any, ...]] = {}
        with self.db.read() as conn:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT id, {cols} FROM {self.spec.table} WHERE id IN ({marks})"
                for r in conn.exec_driver_sql(sql, tuple(chunk)):
                    out[r[0]] = tuple(r[1:])
        return out

    def get(self, row_id: int) -> dict[str, Any]:
        vals = self.rows([row_id]).get(row_id)
        if vals is None:
            raise ValidationError(f"{self.spec.noun}记录不存在（id={row_id}）。")
        rec = dict(zip([*self.spec.attrs, "archived"], vals[: len(self.spec.attrs) + 1], strict=True))
        for f in self.spec.fields:  # stored forms back to values: 0/1 → bool, ISO text → date
            if f.kind is Kind.BOOL:
                rec[f.attr] = bool(rec[f.attr])
            elif f.kind is Kind.DATE and isinstance(rec[f.attr], str) and rec[f.attr]:
                rec[f.attr] = date.fromisoformat(rec[f.attr])
        rec["archived"] = bool(rec["archived"])
        rec["id"] = row_id
        return rec

    def distinct(self, attr: str) -> list[str]:
        if attr not in self._attrs:
            raise KeyError(attr)
        f = self.spec.field(attr)
        with self.db.read() as conn:
            vals = [r[0] for r in conn.exec_driver_sql(
                f"SELECT DISTINCT {attr} FROM {self.spec.table} WHERE {attr} != '' ORDER BY {attr}")]  # fmt: skip
        if f.kind is Kind.LIST:
            parts: dict[str, None] = {}
            for v in vals:
                for p in str(v).split("、"):
                    parts[p] = None
            return sorted(parts)
        return [str(v) for v in vals]

    # --- editing -------------------------------------------------------------------------------

    def validate(self, conn: Connection, values: Mapping[str, Any], row_id: int | None) -> dict[str, Any]:
        """Check a record typed into a dialog with the same rules as the import; returns stored values."""
        codes = codelists.all_lists(conn)
        rec: dict[str, Any] = {}
        problems: list[str] = []
        for f in self.spec.fields:
            raw = values.get(f.attr, f.default)
            if isinstance(raw, date) and f.kind is not Kind.DATE:
                raw = raw.isoformat()
            try:
                rec[f.attr] = Converter(f, codes)(raw)
            except CellError as exc:
                problems.append(f"{f.header}：{exc}")
        if not problems:
            key_where = " AND ".join(f"{k} = :{k}" for k in self.spec.key)
            params = {k: rec[k] for k in self.spec.key}
            params["id"] = -1 if row_id is None else row_id
            clash = conn.exec_driver_sql(
                f"SELECT id, archived FROM {self.spec.table} WHERE {key_where} AND id != :id", params
            ).first()
            if clash:
                label = "、".join(self.spec.field(k).header for k in self.spec.key)
                sp = self.spec
                extra = (
                    f"（{sp.archived_word}，可在“显示{sp.archived_word}”中找到并{sp.restore_verb}）"
                    if clash[1]
                    else ""
                )
                problems.append(f"{label}“{self.spec.key_text(rec)}”已存在{extra}")
        if not problems and self.spec is CONFLICTS:
            person = conn.exec_driver_sql(
                "SELECT 1 FROM inspector WHERE cert_no = :p UNION SELECT 1 FROM expert WHERE code = :p",
                {"p": rec["person_code"]},
            ).first()
            if not person:
                problems.append(f"人员编号：“{rec['person_code']}”不在执法检查人员名录库或专家库中")
            if not conn.exec_driver_sql("SELECT 1 FROM target WHERE uscc = :u", {"u": rec["uscc"]}).first():
                problems.append(f"统一社会信用代码：“{rec['uscc']}”不在检查对象名录库中")
        if problems:
            raise ValidationError("；".join(problems), problems)
        return rec

    def add(self, values: Mapping[str, Any]) -> int:
        with self.db.write(f"新增{self.spec.noun}") as conn:
            rec = self.validate(conn, values, None)
            stamp = now_iso()
            cur = conn.exec_driver_sql(insert_sql(self.spec), (*to_db(self.spec, rec), stamp, stamp))
            return int(cur.lastrowid or 0)

    def update(self, row_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
        """Save an edited record; returns the values before the edit."""
        before = self.get(row_id)
        with self.db.write(f"修改{self.spec.noun}：{self.spec.key_text(before)}") as conn:
            rec = self.validate(conn, values, row_id)
            for k in self.spec.key:
                if rec[k] != before[k]:
                    raise ValidationError(
                        f"{self.spec.field(k).header}是记录的标识，不能修改；"
                        f"如需更正，请{self.spec.archive_verb}此记录后新增。"
                    )
            conn.exec_driver_sql(
                update_sql(self.spec, restore=False), (*to_db(self.spec, rec), now_iso(), row_id)
            )
        return before

    def set_archived(self, ids: Sequence[int], archived: bool) -> int:
        """Archive (or restore) records. Nothing is ever hard-deleted."""
        if not ids:
            return 0
        verb = self.spec.archive_verb if archived else self.spec.restore_verb
        with self.db.write(f"{verb}{self.spec.noun} {len(ids)} 条", {"ids": list(ids)}) as conn:
            marks = ", ".join("?" * len(ids))
            cur = conn.exec_driver_sql(
                f"UPDATE {self.spec.table} SET archived = ?, updated_at = ? WHERE id IN ({marks}) AND archived != ?",
                (int(archived), now_iso(), *ids, int(archived)),
            )
            return int(cur.rowcount)


@dataclass(frozen=True)
class Counts:
    total: int
    archived: int


def directory_counts(db: Database, spec: TableSpec) -> Counts:
    with db.read() as conn:
        total, archived = conn.exec_driver_sql(
            f"SELECT count(*), coalesce(sum(archived), 0) FROM {spec.table}"
        ).one()
    return Counts(int(total) - int(archived), int(archived))
