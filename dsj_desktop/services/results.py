"""Inspection results (结果录入): every confirmed draw's targets, their inspection and its result.

A result belongs to one target drawn in one confirmed session; anything else is refused. Every
save is one transaction and keeps the saved state whole in ``result_version`` (who, when, why),
so a correction never loses the earlier values. Nothing here deletes a row (the database refuses
it anyway, see :mod:`dsj_desktop.db.migrations`).

Deadlines: a result is due N working days (a setting, default 7) after the inspection; see
:mod:`dsj_desktop.domain.workdays`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from dsj_desktop import actor as actor_mod
from dsj_desktop.clock import now, now_iso, today
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.fields import FieldSpec, split_list
from dsj_desktop.domain.result_specs import (
    CATEGORIES,
    DISPOSALS,
    ENTERED,
    INSPECTED,
    METHODS,
    MIN_ON_SITE_INSPECTORS,
    NO_HAZARD_CATEGORIES,
    ON_SITE,
    PUBLISHED,
    RESULT_ROWS,
    TODO,
)
from dsj_desktop.domain.workdays import Deadline, DeadlineState, WorkCalendar, deadline
from dsj_desktop.errors import ValidationError
from dsj_desktop.io.exporter import export_rows, write_template
from dsj_desktop.io.importer import (
    MAX_LISTED_PROBLEMS,
    ImportRefused,
    ImportSummary,
    ParsedSheet,
    Problem,
    read_records,
)
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services import holidays

CONFIRMED, VOIDED = "confirmed", "voided"
Key = tuple[str, str]  # (session id, 统一社会信用代码)


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    """The result of one spot-check item of the task (是否检查, 发现问题, 处置)."""

    code: str
    name: str = ""
    checked: bool = True
    problem: str = ""
    disposal: str = ""

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> ItemResult:
        return ItemResult(str(d.get("code", "")), str(d.get("name", "")), bool(d.get("checked", True)),
                          str(d.get("problem", "")), str(d.get("disposal", "")))  # fmt: skip


@dataclass(frozen=True)
class ResultInput:
    """What the operator enters for one target. ``category`` empty: only the inspection is recorded
    (已检查待录入). ``inspectors`` None: the current drawn team; ``items`` None: keep / default."""

    inspected_on: date
    category: str = ""
    hazards: int = 0
    disposal: str = ""
    method: str = ON_SITE
    inspectors: tuple[str, ...] | None = None  # person codes (执法证号 / 专家编号)
    rectify_by: date | None = None
    remarks: str = ""
    items: tuple[ItemResult, ...] | None = None


@dataclass(frozen=True)
class ResultRow:
    """One drawn target of a confirmed (or voided) session with the state of its inspection."""

    rowid: int
    session_id: str
    session_status: str
    draw_date: date
    task_code: str
    task_name: str
    uscc: str
    name: str
    position: int
    mandatory: bool
    team: tuple[tuple[str, str], ...]  # the current drawn team (after 递补): (code, name)
    result_id: int | None = None
    inspected_on: date | None = None
    inspectors: tuple[tuple[str, str], ...] = ()
    method: str = ""
    category: str = ""
    hazards: int = 0
    rectify_by: date | None = None
    disposal: str = ""
    remarks: str = ""
    items: tuple[ItemResult, ...] = ()
    version: int = 0
    entered_by: str = ""
    entered_at: str = ""
    first_entered_at: str = ""
    published_version: int = 0
    published_at: str = ""
    published_by: str = ""

    @property
    def key(self) -> Key:
        return (self.session_id, self.uscc)

    @property
    def status(self) -> str:
        if self.inspected_on is None:
            return TODO
        if not self.category:
            return INSPECTED
        if self.published_version and self.published_version == self.version:
            return PUBLISHED
        return ENTERED

    @property
    def republish_needed(self) -> bool:
        """Corrected after it was published."""
        return bool(self.published_version) and self.published_version != self.version and bool(self.category)

    @property
    def status_text(self) -> str:
        return f"{ENTERED}（更正后待重新公示）" if self.republish_needed else self.status

    @property
    def entered_on(self) -> date | None:
        return date.fromisoformat(self.first_entered_at[:10]) if self.first_entered_at else None

    def deadline(self, cal: WorkCalendar, days: int, on: date) -> Deadline:
        return deadline(cal, self.inspected_on, days, self.entered_on, on)

    @property
    def people(self) -> tuple[tuple[str, str], ...]:
        """Who inspected: as entered, else the drawn team."""
        return self.inspectors or self.team

    def as_input(self) -> ResultInput:
        assert self.inspected_on is not None
        return ResultInput(self.inspected_on, self.category, self.hazards, self.disposal, self.method or ON_SITE,
                           tuple(c for c, _ in self.inspectors) or None, self.rectify_by, self.remarks,
                           self.items or None)  # fmt: skip


def _d(v: Any) -> date | None:
    return date.fromisoformat(str(v)) if v else None


# --- reading ----------------------------------------------------------------------------------

_ROW_SELECT = """
SELECT sel.rowid, sel.session_id, s.status, s.draw_date, s.task_code, coalesce(t.name, ''), sel.uscc, sel.name,
       sel.position, sel.mandatory,
       r.id, r.inspected_on, r.inspectors, r.method, r.category, r.hazards, r.rectify_by, r.disposal, r.remarks,
       r.items, r.version, r.entered_by, r.entered_at, r.first_entered_at, r.published_version, r.published_at,
       r.published_by
FROM draw_selection sel
JOIN draw_session s ON s.id = sel.session_id
LEFT JOIN task t ON t.id = s.task_id
LEFT JOIN inspection_result r ON r.session_id = sel.session_id AND r.uscc = sel.uscc
"""


def _teams(conn: Connection, session_ids: Iterable[str]) -> dict[Key, tuple[tuple[str, str], ...]]:
    ids = sorted(set(session_ids))
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = conn.exec_driver_sql(
        "SELECT m.session_id, m.uscc, m.person_code, coalesce(i.name, e.name, m.person_code) FROM draw_member m "
        "LEFT JOIN inspector i ON i.cert_no = m.person_code LEFT JOIN expert e ON e.code = m.person_code "
        f"WHERE m.active = 1 AND m.session_id IN ({marks}) ORDER BY m.role DESC, m.position, m.id",
        tuple(ids),
    )
    out: dict[Key, list[tuple[str, str]]] = {}
    for sid, uscc, code, name in rows:
        out.setdefault((sid, uscc), []).append((code, name))
    return {k: tuple(v) for k, v in out.items()}


def _row(r: Any, teams: Mapping[Key, tuple[tuple[str, str], ...]]) -> ResultRow:
    base = ResultRow(
        rowid=int(r[0]), session_id=r[1], session_status=r[2], draw_date=date.fromisoformat(str(r[3])),
        task_code=r[4], task_name=r[5], uscc=r[6], name=r[7], position=int(r[8]), mandatory=bool(r[9]),
        team=teams.get((r[1], r[6]), ()),
    )  # fmt: skip
    if r[10] is None:
        return base
    return replace(
        base, result_id=int(r[10]), inspected_on=_d(r[11]),
        inspectors=tuple((p[0], p[1]) for p in json.loads(r[12] or "[]")), method=r[13], category=r[14],
        hazards=int(r[15]), rectify_by=_d(r[16]), disposal=r[17], remarks=r[18],
        items=tuple(ItemResult.from_json(x) for x in json.loads(r[19] or "[]")), version=int(r[20]),
        entered_by=r[21], entered_at=r[22], first_entered_at=r[23], published_version=int(r[24]),
        published_at=r[25], published_by=r[26],
    )  # fmt: skip


def load_rows(
    conn: Connection,
    *,
    year: int | None = None,
    task_code: str | None = None,
    session_id: str | None = None,
    rowids: Sequence[int] | None = None,
    include_voided: bool = False,
) -> list[ResultRow]:
    """Drawn targets with their results, in draw order (newest draw first). ``year``: the draw year."""
    where = ["s.status IN ('confirmed', 'voided')" if include_voided else "s.status = 'confirmed'"]
    params: list[Any] = []
    if year is not None:
        where.append("s.draw_date BETWEEN ? AND ?")
        params += [f"{year}-01-01", f"{year}-12-31"]
    if task_code:
        where.append("s.task_code = ?")
        params.append(task_code)
    if session_id:
        where.append("sel.session_id = ?")
        params.append(session_id)
    if rowids is not None:
        if not rowids:
            return []
        where.append(f"sel.rowid IN ({', '.join(str(int(i)) for i in rowids)})")
    rows = conn.exec_driver_sql(
        _ROW_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY s.draw_date DESC, s.id, sel.position",
        tuple(params),
    ).all()
    teams = _teams(conn, {r[1] for r in rows})
    return [_row(r, teams) for r in rows]


def read_rows(db: Database) -> list[ResultRow]:
    """Every drawn target of a confirmed session with its result (see :func:`load_rows`)."""
    with db.read() as conn:
        return load_rows(conn)


@dataclass(frozen=True)
class SessionChoice:
    """A confirmed session, as the results screen offers it in its filters."""

    task_code: str
    task_name: str
    session_id: str
    draw_date: str


def confirmed_session_choices(db: Database) -> list[SessionChoice]:
    """Every confirmed session with its task, by task code then draw date."""
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT s.task_code, coalesce(t.name, ''), s.id, s.draw_date FROM draw_session s "
            "LEFT JOIN task t ON t.id = s.task_id WHERE s.status = 'confirmed' ORDER BY s.task_code, s.draw_date"
        ).all()
    return [SessionChoice(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def get_row(conn: Connection, session_id: str, uscc: str) -> ResultRow:
    rows = conn.exec_driver_sql(
        _ROW_SELECT + " WHERE sel.session_id = ? AND sel.uscc = ?", (session_id, uscc)
    ).all()
    if not rows:
        raise ValidationError(f"企业 {uscc} 不是抽取场次 {session_id} 抽中的检查对象。")
    return _row(rows[0], _teams(conn, [session_id]))


def task_items(conn: Connection, session_id: str) -> list[ItemResult]:
    """The spot-check items of a session's frozen task, as default per-item results."""
    raw = conn.exec_driver_sql(
        "SELECT json_extract(task, '$.items') FROM draw_input WHERE session_id = ?", (session_id,)
    ).scalar()
    return [ItemResult(it["code"], it.get("name", "")) for it in json.loads(raw or "[]")]


@dataclass(frozen=True)
class VersionInfo:
    version: int
    changed_by: str
    changed_at: str
    reason: str
    data: dict[str, Any]


def history(conn: Connection, result_id: int) -> list[VersionInfo]:
    rows = conn.exec_driver_sql(
        "SELECT version, changed_by, changed_at, reason, data FROM result_version WHERE result_id = ? "
        "ORDER BY version",
        (result_id,),
    )
    return [VersionInfo(int(r[0]), r[1], r[2], r[3], json.loads(r[4])) for r in rows]


def read_history(db: Database, result_id: int) -> list[VersionInfo]:
    with db.read() as conn:
        return history(conn, result_id)


@dataclass(frozen=True)
class EntryChoices:
    """What the result form offers: every person's name by number, and the items to check."""

    people: dict[str, str]
    items: list[ItemResult]


def entry_choices(db: Database, rows: Sequence[ResultRow]) -> EntryChoices:
    """For entering the result of *rows*: the items of their task (the single target's own items
    when it has them; none for targets of different sessions) and the names of the people."""
    first = rows[0]
    with db.read() as conn:
        people = people_names(conn)
        same_task = len({r.session_id for r in rows}) == 1
        own = list(first.items) if len(rows) == 1 else []
        items = (own or task_items(conn, first.session_id)) if same_task else []
    return EntryChoices(people, items)


def people_names(conn: Connection) -> dict[str, str]:
    """执法证号 / 专家编号 → name, every person ever in the directories (archived included)."""
    rows = conn.exec_driver_sql("SELECT cert_no, name FROM inspector UNION ALL SELECT code, name FROM expert")
    return {r[0]: r[1] for r in rows}


# --- counting and filtering -------------------------------------------------------------------


@dataclass
class Counts:
    by_status: dict[str, int] = field(default_factory=dict)
    due_soon: int = 0
    overdue: int = 0  # not entered, past due
    late: int = 0  # entered after the due date (逾期录入)
    unknown: int = 0  # due date not computable (missing holiday arrangement)
    missing_years: set[int] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def count(rows: Iterable[ResultRow], cal: WorkCalendar, days: int, on: date) -> Counts:
    c = Counts({s: 0 for s in (TODO, INSPECTED, ENTERED, PUBLISHED)})
    for r in rows:
        c.by_status[r.status] += 1
        dl = r.deadline(cal, days, on)
        if dl.state is DeadlineState.DUE_SOON:
            c.due_soon += 1
        elif dl.state is DeadlineState.OVERDUE:
            c.overdue += 1
        elif dl.state is DeadlineState.LATE:
            c.late += 1
        elif dl.state is DeadlineState.UNKNOWN:
            c.unknown += 1
            if dl.missing_year is not None:
                c.missing_years.add(dl.missing_year)
    return c


def deadline_counts(db: Database, on: date | None = None) -> Counts:
    """Counts over every confirmed draw (for the start page)."""
    with db.read() as conn:
        rows = load_rows(conn)
        cal = holidays.load_calendar(conn)
        days = holidays.deadline_days(conn)
    return count(rows, cal, days, on or today())


DEADLINE_FILTERS = {
    "due_soon": "即将到期",
    "overdue": "已逾期未录入",
    "late": "逾期录入",
    "any_overdue": "逾期（全部）",
    "unknown": "期限无法计算",
}


@dataclass
class ResultFilter:
    text: str = ""
    task_code: str | None = None
    session_id: str | None = None
    status: str | None = None
    deadline: str | None = None  # a key of DEADLINE_FILTERS
    year: int | None = None


def matches(r: ResultRow, flt: ResultFilter, dl: Deadline) -> bool:
    if flt.status and r.status != flt.status:
        return False
    for word in flt.text.split():
        w = word.upper()
        if w not in r.name.upper() and w not in r.uscc and w not in r.session_id and w not in r.task_code:
            return False
    if flt.deadline:
        s = dl.state
        want = {
            "due_soon": s is DeadlineState.DUE_SOON,
            "overdue": s is DeadlineState.OVERDUE,
            "late": s is DeadlineState.LATE,
            "any_overdue": dl.is_overdue,
            "unknown": s is DeadlineState.UNKNOWN,
        }
        if not want.get(flt.deadline, True):
            return False
    return True


SORT_KEYS = ("name", "uscc", "status", "inspected_on", "due", "task_code", "category", "entered_at")


class ResultQuery:
    """The rows of the results tab: ids are ``draw_selection`` rowids (the model holds only those)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.calendar = WorkCalendar()
        self.days = 7
        self.on = today()

    def reload_settings(self) -> None:
        with self.db.read() as conn:
            self.calendar = holidays.load_calendar(conn)
            self.days = holidays.deadline_days(conn)
        self.on = today()

    def all_rows(self, flt: ResultFilter) -> list[ResultRow]:
        with self.db.read() as conn:
            rows = load_rows(conn, year=flt.year, task_code=flt.task_code, session_id=flt.session_id)
        return [r for r in rows if matches(r, flt, self.deadline(r))]

    def deadline(self, r: ResultRow) -> Deadline:
        return r.deadline(self.calendar, self.days, self.on)

    def ids(self, flt: Any, sort: str | None = None, descending: bool = False) -> list[int]:
        self.reload_settings()
        rows = self.all_rows(flt or ResultFilter())
        if sort in SORT_KEYS:

            def key(r: ResultRow) -> Any:
                if sort == "due":
                    d = self.deadline(r).due
                    return d.isoformat() if d else "9999"
                v = getattr(r, sort) if sort != "status" else r.status
                return "" if v is None else str(v)

            rows.sort(key=key, reverse=descending)
        return [r.rowid for r in rows]

    def rows(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        with self.db.read() as conn:
            found = load_rows(conn, rowids=list(ids), include_voided=True)
        return {r.rowid: (r, self.deadline(r)) for r in found}


# --- checking and saving ----------------------------------------------------------------------


class _Context:
    """What the checks need, loaded once per transaction."""

    def __init__(self, conn: Connection, on: date) -> None:
        self.conn = conn
        self.on = on
        self.sessions: dict[str, tuple[str, date, str] | None] = {}
        self.drawn: dict[str, set[str]] = {}
        self.people = people_names(conn)
        self._items: dict[str, list[ItemResult]] = {}

    def session(self, sid: str) -> tuple[str, date, str] | None:
        if sid not in self.sessions:
            r = self.conn.exec_driver_sql(
                "SELECT status, draw_date, task_code FROM draw_session WHERE id = ?", (sid,)
            ).first()
            self.sessions[sid] = None if r is None else (r[0], date.fromisoformat(str(r[1])), r[2])
            self.drawn[sid] = {
                x[0]
                for x in self.conn.exec_driver_sql(
                    "SELECT uscc FROM draw_selection WHERE session_id = ?", (sid,)
                )
            }
        return self.sessions[sid]

    def items(self, sid: str) -> list[ItemResult]:
        if sid not in self._items:
            self._items[sid] = task_items(self.conn, sid)
        return self._items[sid]


Found = tuple[str | None, str]  # (field attr or None, message)


def _check_key(ctx: _Context, sid: str, uscc: str) -> list[Found]:
    s = ctx.session(sid)
    if s is None:
        return [("session_id", f"没有编号为“{sid}”的抽取场次")]
    status, _, _ = s
    if status == VOIDED:
        return [("session_id", f"抽取场次 {sid} 已作废，不能录入检查结果")]
    if status != CONFIRMED:
        return [("session_id", f"抽取场次 {sid} 尚未确认，不能录入检查结果")]
    if uscc not in ctx.drawn[sid]:
        return [("uscc", f"企业 {uscc} 不是抽取场次 {sid} 抽中的检查对象，不能录入检查结果")]
    return []


def _check_values(ctx: _Context, sid: str, inp: ResultInput, inspectors: Sequence[str]) -> list[Found]:
    out: list[Found] = []
    s = ctx.session(sid)
    assert s is not None
    drawn_on = s[1]
    if inp.inspected_on < drawn_on:
        out.append(("inspected_on", f"检查日期 {inp.inspected_on} 早于抽取日期 {drawn_on}"))
    if inp.inspected_on > ctx.on:
        out.append(("inspected_on", f"检查日期 {inp.inspected_on} 晚于今天（{ctx.on}）"))
    if inp.method not in METHODS:
        out.append(("method", f"“{inp.method}”不是检查方式（可选：{'、'.join(METHODS)}）"))
    if inp.category and inp.category not in CATEGORIES:
        out.append(("category", f"“{inp.category}”不是检查结果类别（可选：{'、'.join(CATEGORIES)}）"))
    if inp.category and not inp.disposal:
        out.append(("disposal", "请选择处置措施"))
    if inp.disposal and inp.disposal not in DISPOSALS:
        out.append(("disposal", f"“{inp.disposal}”不是处置措施（可选：{'、'.join(DISPOSALS)}）"))
    if inp.hazards < 0:
        out.append(("hazards", "隐患数量不能为负数"))
    elif inp.hazards and inp.category in NO_HAZARD_CATEGORIES:
        out.append(("hazards", f"检查结果为“{inp.category}”时隐患数量应为 0，而不是 {inp.hazards}"))
    if inp.rectify_by is not None and inp.rectify_by < inp.inspected_on:
        out.append(("rectify_by", f"整改期限 {inp.rectify_by} 早于检查日期 {inp.inspected_on}"))
    unknown = [c for c in inspectors if c not in ctx.people]
    if unknown:
        out.append(("inspectors", f"“{'、'.join(unknown)}”不在执法检查人员名录库或专家库中"))
    if len(set(inspectors)) != len(inspectors):
        out.append(("inspectors", "检查人员有重复"))
    if not inspectors:
        out.append(("inspectors", "请填写实际参加检查的人员"))
    elif inp.method == ON_SITE and len(inspectors) < MIN_ON_SITE_INSPECTORS:
        out.append(("inspectors", f"实地检查的执法人员不得少于 {MIN_ON_SITE_INSPECTORS} 人"))
    if inp.items is not None:
        codes = {it.code for it in ctx.items(sid)}
        for it in inp.items:
            if it.code not in codes:
                out.append(("items", f"抽查事项 {it.code} 不是本任务的事项"))
            if it.disposal and it.disposal not in DISPOSALS:
                out.append(("items", f"事项 {it.code} 的处置“{it.disposal}”不是处置措施"))
    return out


def _snapshot(
    inp: ResultInput, people: Sequence[tuple[str, str]], items: Sequence[ItemResult]
) -> dict[str, Any]:
    return {
        "inspected_on": inp.inspected_on.isoformat(), "inspectors": [list(p) for p in people], "method": inp.method,
        "category": inp.category, "hazards": inp.hazards,
        "rectify_by": inp.rectify_by.isoformat() if inp.rectify_by else None, "disposal": inp.disposal,
        "remarks": inp.remarks, "items": [asdict(it) for it in items],
    }  # fmt: skip


def _current_snapshot(row: ResultRow) -> dict[str, Any] | None:
    if row.result_id is None or row.inspected_on is None:
        return None
    return _snapshot(row.as_input(), row.inspectors, row.items)


def _new_snapshot(ctx: _Context, row: ResultRow, inp: ResultInput) -> dict[str, Any]:
    people = [(c, ctx.people.get(c, c)) for c in _resolve_codes(inp, row)]
    items = list(inp.items) if inp.items is not None else list(row.items) or ctx.items(row.session_id)
    return _snapshot(replace(inp, remarks=inp.remarks.strip()), people, items)


@dataclass(frozen=True)
class SaveOutcome:
    key: Key
    result_id: int
    version: int
    changed: bool
    corrected: bool  # an entered result was changed


def _save(
    ctx: _Context, row: ResultRow, inp: ResultInput, *, operator: str, reason: str, stamp: str
) -> SaveOutcome:
    """Write one result (already checked) and its version row."""
    conn = ctx.conn
    snap = _new_snapshot(ctx, row, inp)
    old = _current_snapshot(row)
    if old == snap:
        assert row.result_id is not None
        return SaveOutcome(row.key, row.result_id, row.version, False, False)
    corrected = bool(row.category)
    version = row.version + 1
    first = row.first_entered_at or (stamp if inp.category else "")
    values = (
        snap["inspected_on"], json.dumps(snap["inspectors"], ensure_ascii=False), inp.method, inp.category,
        inp.hazards, snap["rectify_by"], inp.disposal, snap["remarks"], json.dumps(snap["items"], ensure_ascii=False),
        version, operator, stamp, first,
    )  # fmt: skip
    if row.result_id is None:
        cur = conn.exec_driver_sql(
            "INSERT INTO inspection_result (session_id, uscc, task_code, inspected_on, inspectors, method, category, "
            "hazards, rectify_by, disposal, remarks, items, version, entered_by, entered_at, first_entered_at, "
            "published_version, published_at, published_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', '', ?, ?)",
            (row.session_id, row.uscc, row.task_code, *values, stamp, stamp),
        )
        result_id = int(cur.lastrowid or 0)
    else:
        result_id = row.result_id
        conn.exec_driver_sql(
            "UPDATE inspection_result SET inspected_on = ?, inspectors = ?, method = ?, category = ?, hazards = ?, "
            "rectify_by = ?, disposal = ?, remarks = ?, items = ?, version = ?, entered_by = ?, entered_at = ?, "
            "first_entered_at = ?, updated_at = ? WHERE id = ?",
            (*values, stamp, result_id),
        )
    conn.exec_driver_sql(
        "INSERT INTO result_version (result_id, version, data, changed_by, changed_at, reason) VALUES (?, ?, ?, ?, ?, ?)",
        (
            result_id,
            version,
            json.dumps(snap, ensure_ascii=False, sort_keys=True),
            operator,
            stamp,
            reason.strip(),
        ),
    )
    return SaveOutcome(row.key, result_id, version, True, corrected)


def _resolve_codes(inp: ResultInput, row: ResultRow) -> list[str]:
    return list(inp.inspectors) if inp.inspectors is not None else [c for c, _ in row.team]


def _refusal(problems: Sequence[str], what: str) -> ValidationError:
    shown = list(problems[:MAX_LISTED_PROBLEMS])
    more = f"\n……另有 {len(problems) - len(shown)} 处问题未列出。" if len(problems) > len(shown) else ""
    return ValidationError(f"{what}被拒绝，数据库未作任何改动：\n" + "\n".join(f"· {p}" for p in shown) + more,
                           list(problems))  # fmt: skip


def save_results(
    db: Database,
    keys: Sequence[Key],
    inp: ResultInput,
    *,
    operator: str = "",
    reason: str = "",
    at: datetime | None = None,
) -> list[SaveOutcome]:
    """Save the same outcome for one or many drawn targets (batch entry), in one transaction.
    Refused whole, listing every problem, when any target or value is wrong. Changing a result
    that was already entered is a correction and needs a *reason*; only recording the inspection
    (empty category) cannot overwrite an entered result. *at*: the time of the entry (default now)."""
    if not keys:
        raise ValidationError("没有选择检查对象。")
    at = at or now()
    if actor_mod.current() is not None:  # with accounts, the entry is the logged-in account's
        operator = actor_mod.label()
    what = "更正检查结果" if reason.strip() else "录入检查结果"
    with db.write(f"{what}：{len(keys)} 家", {"category": inp.category, "reason": reason}) as conn:
        ctx = _Context(conn, at.date())
        problems: list[str] = []
        rows: list[ResultRow] = []
        for sid, uscc in keys:
            found = _check_key(ctx, sid, uscc)
            if found:
                problems += [m for _, m in found]
                continue
            row = get_row(conn, sid, uscc)
            label = f"{row.name}（{uscc}）"
            if row.category and not inp.category:
                problems.append(f"{label}：已录入检查结果，只登记检查日期会覆盖结果，请使用“更正”")
            if (
                row.category
                and inp.category
                and not reason.strip()
                and _new_snapshot(ctx, row, inp) != _current_snapshot(row)
            ):
                problems.append(f"{label}：已录入的检查结果只能更正，须写明更正原因")
            problems += [f"{label}：{m}" for _, m in _check_values(ctx, sid, inp, _resolve_codes(inp, row))]
            rows.append(row)
        if problems:
            raise _refusal(problems, "保存检查结果")
        stamp = at.isoformat()
        return [_save(ctx, row, inp, operator=operator, reason=reason, stamp=stamp) for row in rows]


def save_result(
    db: Database,
    session_id: str,
    uscc: str,
    inp: ResultInput,
    *,
    operator: str = "",
    reason: str = "",
    at: datetime | None = None,
) -> SaveOutcome:
    return save_results(db, [(session_id, uscc)], inp, operator=operator, reason=reason, at=at)[0]


# --- import / export --------------------------------------------------------------------------


def _inspector_codes(text: str, ctx: _Context, row: ResultRow) -> tuple[list[str], list[str]]:
    """检查人员 cells: codes, names, or 姓名（证号); names are looked up in the drawn team first."""
    by_name: dict[str, list[str]] = {}
    for code, name in ctx.people.items():
        by_name.setdefault(name, []).append(code)
    team = dict(row.team)
    codes, bad = [], []
    for part in split_list(text.replace("（", "(").replace("）", ")")):
        if "(" in part and part.endswith(")"):
            part = part[part.index("(") + 1 : -1].strip()
        if part in ctx.people:
            codes.append(part)
            continue
        in_team = [c for c, n in team.items() if n == part]
        cands = in_team or by_name.get(part, [])
        if len(cands) == 1:
            codes.append(cands[0])
        elif cands:
            bad.append(f"“{part}”有重名，请写执法证号")
        else:
            bad.append(f"“{part}”不在执法检查人员名录库或专家库中")
    return codes, bad


def import_results(
    db: Database,
    path: Path,
    *,
    sheet: str | None = None,
    mapping: Mapping[str, int] | None = None,
    header_row: int | None = None,
    dry_run: bool = False,
    operator: str = "",
    on: date | None = None,
) -> Job[ImportSummary]:
    """A batch of results from a sheet; refused whole (with row and column) on any problem."""
    path = Path(path)
    parsed = yield from read_records(
        RESULT_ROWS, path, sheet=sheet, mapping=mapping, header_row=header_row, keep_going=True
    )
    yield Progress("正在核对抽取场次和检查对象……")
    ctx_db = (
        db.read() if dry_run else db.write(f"导入检查结果：文件“{parsed.file.name}”", {"rows": len(parsed)})
    )
    with ctx_db as conn:
        return apply_results(conn, parsed, operator=operator, on=on or today(), dry_run=dry_run)


def apply_results(
    conn: Connection, parsed: ParsedSheet, *, operator: str, on: date, dry_run: bool = False
) -> ImportSummary:
    ctx = _Context(conn, on)
    col = parsed.mapping
    header = {f.attr: f.header for f in RESULT_ROWS.fields}
    # Rows left blank (no date, result or disposal, as in an exported sheet not yet filled in) are skipped.
    blank_cols = {col.get(a) for a in ("inspected_on", "category", "disposal")}
    empties: dict[int | None, set[int | None]] = {}
    for p in parsed.problems:
        if p.message == "必填，不能为空" and p.col in blank_cols:
            empties.setdefault(p.row, set()).add(p.col)
    blank = {rn for rn, cols in empties.items() if cols == blank_cols}
    problems: list[Problem] = [p for p in parsed.problems if p.row not in blank]
    bad_cells = {(p.row, p.col) for p in parsed.problems}
    bad_rows = {p.row for p in parsed.problems}
    todo: list[tuple[ResultRow, ResultInput]] = []
    for i, rn in enumerate(parsed.row_numbers):
        rec = parsed.record(i)
        if rn in blank:
            continue
        if (rn, col.get("session_id")) in bad_cells or (rn, col.get("uscc")) in bad_cells:
            continue
        sid, uscc = str(rec["session_id"]).strip().upper(), str(rec["uscc"])
        found = _check_key(ctx, sid, uscc)
        if found:
            problems += [Problem(rn, col.get(a or ""), header.get(a or ""), m) for a, m in found]
            continue
        row = get_row(conn, sid, uscc)
        codes: list[str] | None = None
        if rn in bad_rows:
            continue  # a refused cell: the values cannot be checked together
        if rec.get("inspectors"):
            codes, bad = _inspector_codes(str(rec["inspectors"]), ctx, row)
            problems += [Problem(rn, col.get("inspectors"), "检查人员", m) for m in bad]
            if bad:
                continue
        inp = ResultInput(
            inspected_on=rec["inspected_on"], category=rec["category"], hazards=int(rec["hazards"] or 0),
            disposal=rec["disposal"], method=rec["method"] or ON_SITE,
            inspectors=tuple(codes) if codes is not None else (tuple(c for c, _ in row.inspectors) or None),
            rectify_by=rec["rectify_by"], remarks=rec["remarks"] or "", items=None,
        )  # fmt: skip
        for a, m in _check_values(ctx, sid, inp, _resolve_codes(inp, row)):
            problems.append(Problem(rn, col.get(a or ""), header.get(a or ""), m))
        todo.append((row, inp))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.col or 0))
        raise ImportRefused(parsed.file, parsed.sheet, problems[:MAX_LISTED_PROBLEMS], len(problems))
    summary = ImportSummary(RESULT_ROWS.kind, RESULT_ROWS.title, parsed.file.name, parsed.sheet, len(parsed))
    if blank:
        summary.notes.append(f"检查日期、检查结果和处置措施都未填写的 {len(blank)} 行已跳过。")
    summary.preview = [parsed.record(i) for i in range(min(50, len(parsed)))]
    summary.ignored_headers = parsed.ignored_headers
    stamp = now_iso()
    corrected = 0
    for row, inp in todo:
        if dry_run:
            old = _current_snapshot(row)
            if old is None:
                summary.added += 1
            else:
                summary.updated += 1
            continue
        out = _save(ctx, row, inp, operator=operator, reason=f"导入文件“{parsed.file.name}”", stamp=stamp)
        if not out.changed:
            summary.unchanged += 1
        elif row.result_id is None or row.inspected_on is None:
            summary.added += 1
        else:
            summary.updated += 1
            corrected += out.corrected
    if corrected:
        summary.notes.append(f"其中更正已录入的结果 {corrected} 条（原结果保留在修改记录中）。")
    return summary


EXPORT_EXTRA = (
    FieldSpec("task_code", "抽查任务编号", width=14),
    FieldSpec("task_name", "抽查任务名称", width=26),
    FieldSpec("name", "企业名称", width=30),
    FieldSpec("status", "状态", width=14),
    FieldSpec("due", "录入期限", width=14),
    FieldSpec("deadline", "期限情况", width=18),
    FieldSpec("entered_by", "录入人", width=10),
    FieldSpec("entered_at", "录入时间", width=20),
    FieldSpec("published_at", "公示时间", width=20),
)
EXPORT_FIELDS = (*RESULT_ROWS.fields, *EXPORT_EXTRA)


def export_record(r: ResultRow, dl: Deadline) -> dict[str, Any]:
    return {
        "session_id": r.session_id, "uscc": r.uscc, "inspected_on": r.inspected_on or "", "category": r.category,
        "hazards": r.hazards if r.inspected_on else "", "disposal": r.disposal, "remarks": r.remarks,
        "method": r.method, "rectify_by": r.rectify_by or "",
        "inspectors": "、".join(f"{n}（{c}）" for c, n in r.people), "task_code": r.task_code,
        "task_name": r.task_name, "name": r.name, "status": r.status_text, "due": dl.due_text, "deadline": dl.text,
        "entered_by": r.entered_by, "entered_at": r.entered_at, "published_at": r.published_at,
    }  # fmt: skip


def export_results(
    db: Database, path: Path, *, year: int | None = None, task_code: str | None = None, on: date | None = None
) -> Job[int]:
    """Every drawn target with its result (the import's columns first, so the file can be edited
    and imported back)."""
    path = Path(path)
    with db.read() as conn:
        rows = load_rows(conn, year=year, task_code=task_code)
        cal = holidays.load_calendar(conn)
        days = holidays.deadline_days(conn)
    day = on or today()
    records = [export_record(r, r.deadline(cal, days, day)) for r in rows]
    n = yield from export_rows(path, RESULT_ROWS.title, EXPORT_FIELDS, records, len(records))
    return n


def write_results_template(db: Database, path: Path) -> None:
    example = {
        "session_id": "S-2026-0001-K3F9", "uscc": "91350100M000100Y43", "inspected_on": "2026-03-12",
        "category": "发现问题已责令改正", "hazards": 2, "disposal": "责令改正", "remarks": "",
        "method": ON_SITE, "rectify_by": "2026-03-31", "inspectors": "",
    }  # fmt: skip
    write_template(path, RESULT_ROWS, {}, example=example)
