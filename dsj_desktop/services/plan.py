"""The annual plan and its tasks: import / export, rules settings, and each task's live pool."""

from __future__ import annotations

import calendar
import json
import operator
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from dsj_desktop.clock import now_iso, today
from dsj_desktop.db import pg
from dsj_desktop.db.engine import Database
from dsj_desktop.domain import codelists, staffing
from dsj_desktop.domain.fields import CellError, Converter, FieldSpec, cell_to_text, split_list
from dsj_desktop.domain.plan_specs import PLAN_ROWS
from dsj_desktop.domain.pool import (
    CONDITIONS,
    DIRECTED,
    UNDIRECTED,
    PastSelection,
    Pool,
    Scope,
    TargetColumns,
    TargetRow,
    compute_pool,
)
from dsj_desktop.domain.ratio import Ratio, RatioError, parse_ratio
from dsj_desktop.domain.rules import SETTING_KEY, Rules
from dsj_desktop.domain.specs import ON_DUTY, RISK_LEVELS, STATUSES, TARGETS
from dsj_desktop.domain.staffing import StaffRequirement
from dsj_desktop.errors import UserError, ValidationError
from dsj_desktop.io.excel import HEADER_SCAN_ROWS, auto_mapping, find_header_row, header_labels, read_sheet
from dsj_desktop.io.exporter import export_rows
from dsj_desktop.io.importer import (
    MAX_LISTED_PROBLEMS,
    ImportRefused,
    ImportSummary,
    ParsedSheet,
    Problem,
    read_records,
)
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services import settings

FLAG_ATTRS = [f.attr for f in TARGETS.fields if f.is_flag]


# --- rules ------------------------------------------------------------------------------------


def load_rules(conn: Connection) -> Rules:
    raw = settings.get(conn, SETTING_KEY)
    return Rules.from_json(json.dumps(raw) if raw is not None else None)


def read_rules(db: Database) -> Rules:
    with db.read() as conn:
        return load_rules(conn)


def save_rules(db: Database, rules: Rules) -> None:
    rules.validate()
    with db.write("修改抽查规则设置", {"rules": json.loads(rules.to_json())}) as conn:
        settings.put(conn, SETTING_KEY, json.loads(rules.to_json()))


# --- tasks ------------------------------------------------------------------------------------


TASK_COLUMNS = (
    "id", "plan_id", "code", "name", "draw_type", "items", "industries", "regions", "conditions", "ratio",
    "ratio_spec", "team_size", "expert_count", "department", "partners", "start_date", "end_date",
    "scope_note", "archived",
)  # fmt: skip


@dataclass(frozen=True)
class TaskInfo:
    id: int
    plan_id: int
    plan_code: str
    plan_name: str
    plan_year: int
    code: str
    name: str
    draw_type: str
    item_codes: tuple[str, ...]
    industries: tuple[str, ...]
    regions: tuple[str, ...]
    conditions: tuple[str, ...]  # 对象条件 headers (重大危险源 …)
    ratio: Ratio
    team_size: int
    expert_count: int
    department: str
    partners: tuple[str, ...]
    start_date: date
    end_date: date
    scope_note: str
    archived: bool


@dataclass(frozen=True)
class ItemInfo:
    code: str
    name: str
    industries: tuple[str, ...]
    inspector_req: str  # 检查人员要求 as written
    archived: bool


def _parts(s: str) -> tuple[str, ...]:
    return tuple(split_list(s)) if s else ()


def _task_from_row(r: Mapping[Any, Any]) -> TaskInfo:
    return TaskInfo(
        id=r["id"], plan_id=r["plan_id"], plan_code=r["plan_code"], plan_name=r["plan_name"],
        plan_year=int(r["plan_year"]), code=r["code"], name=r["name"], draw_type=r["draw_type"],
        item_codes=_parts(r["items"]), industries=_parts(r["industries"]), regions=_parts(r["regions"]),
        conditions=_parts(r["conditions"]), ratio=Ratio.from_json(r["ratio_spec"]), team_size=int(r["team_size"]),
        expert_count=int(r["expert_count"]), department=r["department"], partners=_parts(r["partners"]),
        start_date=date.fromisoformat(str(r["start_date"])), end_date=date.fromisoformat(str(r["end_date"])),
        scope_note=r["scope_note"], archived=bool(r["archived"]),
    )  # fmt: skip


_TASK_SELECT = (
    "SELECT " + ", ".join(f"t.{c}" for c in TASK_COLUMNS)
    + ", p.code AS plan_code, p.name AS plan_name, p.year AS plan_year FROM task t JOIN plan p ON p.id = t.plan_id"
)  # fmt: skip


def list_tasks(
    conn: Connection, *, include_archived: bool = False, plan_id: int | None = None
) -> list[TaskInfo]:
    where = [] if include_archived else ["t.archived = 0", "p.archived = 0"]
    params: dict[str, Any] = {}
    if plan_id is not None:
        where.append("t.plan_id = :plan")
        params["plan"] = plan_id
    sql = (
        _TASK_SELECT
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY p.year DESC, p.code, t.code"
    )
    return [_task_from_row(r._mapping) for r in conn.exec_driver_sql(sql, params)]


def read_tasks(db: Database, *, include_archived: bool = False, plan_id: int | None = None) -> list[TaskInfo]:
    with db.read() as conn:
        return list_tasks(conn, include_archived=include_archived, plan_id=plan_id)


def read_known_specialties(db: Database) -> list[str]:
    """The specialties the directories know (see :func:`domain.staffing.known_specialties`)."""
    with db.read() as conn:
        return staffing.known_specialties(conn)


def get_task(conn: Connection, code: str) -> TaskInfo:
    row = conn.exec_driver_sql(_TASK_SELECT + " WHERE t.code = ?", (code,)).first()
    if row is None:
        raise UserError(f"没有编号为“{code}”的抽查任务。")
    return _task_from_row(row._mapping)


def items_of(conn: Connection, codes: tuple[str, ...]) -> list[ItemInfo]:
    if not codes:
        return []
    marks = ", ".join("?" * len(codes))
    rows = conn.exec_driver_sql(
        f"SELECT code, name, industries, inspector_req, archived FROM item WHERE code IN ({marks})",
        tuple(codes),
    )
    by_code = {r[0]: ItemInfo(r[0], r[1], _parts(r[2]), str(r[3] or ""), bool(r[4])) for r in rows}
    return [by_code[c] for c in codes if c in by_code]


def scope_of(task: TaskInfo, items: list[ItemInfo]) -> Scope:
    """A task's pool definition; the items' 抽查对象 bound it ("清单之外无检查")."""
    item_industries: frozenset[str] | None = frozenset()
    for it in items:
        if not it.industries:
            item_industries = None  # an item for every industry
            break
        assert item_industries is not None
        item_industries |= frozenset(it.industries)
    return Scope(
        draw_type=task.draw_type,
        industries=frozenset(task.industries),
        regions=frozenset(task.regions),
        conditions=frozenset(CONDITIONS[c] for c in task.conditions),
        item_industries=item_industries,
        item_codes=frozenset(task.item_codes),
        task_code=task.code,
    )


MAX_LISTED = 900  # values listed in one statement's IN (…): well within SQLite's and PostgreSQL's limits


def load_targets(conn: Connection, scope: Scope, usccs: Collection[str] | None = None) -> list[TargetRow]:
    """The directory's live targets, narrowed in SQL where the scope allows (for speed at 100,000 rows);
    *usccs*: only these (a draw's few hundred drawn targets, not the whole directory)."""
    where = ["archived = 0"]
    params: list[Any] = []
    if scope.draw_type == DIRECTED and scope.regions:
        where.append(f"region IN ({', '.join('?' * len(scope.regions))})")
        params += sorted(scope.regions)
    if scope.draw_type == DIRECTED and scope.industries:
        where.append(f"industry IN ({', '.join('?' * len(scope.industries))})")
        params += sorted(scope.industries)
    cols = "uscc, name, industry, region, risk_level, status, " + ", ".join(FLAG_ATTRS)
    if usccs is None:
        sql = f"SELECT {cols} FROM target WHERE {' AND '.join(where)} ORDER BY id"
        rows = raw_rows(conn, sql, params)
    else:  # a few hundred at a time, then in directory order
        wanted, found = sorted(usccs), []
        for start in range(0, len(wanted), MAX_LISTED):
            chunk = wanted[start : start + MAX_LISTED]
            among = f"uscc IN ({', '.join('?' * len(chunk))})"
            found += raw_rows(conn, f"SELECT id, {cols} FROM target WHERE {' AND '.join([*where, among])}",
                              [*params, *chunk])  # fmt: skip
        rows = [r[1:] for r in sorted(found, key=lambda r: int(r[0]))]
    none: frozenset[str] = frozenset()
    out = []
    for r in rows:
        flags = frozenset(a for a, v in zip(FLAG_ATTRS, r[6:], strict=True) if v) if any(r[6:]) else none
        out.append(TargetRow(r[0], r[1], r[2], r[3], r[4], r[5], "blacklist" in flags, flags))
    return out


def scope_where(scope: Scope) -> tuple[str, list[Any]]:
    """The SQL condition (and its parameters) that holds for exactly the live targets
    :func:`dsj_desktop.domain.pool.in_scope` admits: the items' 抽查对象 and, 定向, the task's
    行业领域, 所属区域 and 对象条件 (any of the flags, stored as 0/1 on both engines)."""
    where = ["archived = 0"]
    params: list[Any] = []

    def among(column: str, values: frozenset[str]) -> None:
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(sorted(values))
        else:
            where.append("1 = 0")  # an empty set admits nothing

    if scope.item_industries is not None:
        among("industry", scope.item_industries)
    if scope.draw_type == DIRECTED:
        if scope.industries:
            among("industry", scope.industries)
        if scope.regions:
            among("region", scope.regions)
        if scope.conditions:
            unknown = scope.conditions - set(FLAG_ATTRS)
            if unknown:
                raise ValueError(f"unknown target flags: {sorted(unknown)}")
            where.append("(" + " OR ".join(f"{a} <> 0" for a in sorted(scope.conditions)) + ")")
    return " AND ".join(where), params


_TARGET_COLUMNS = ("uscc", "name", "region", "risk_level", "status")
_TEXT_COLUMNS = ("uscc", "name", "region")  # read as texts joined by _COLUMN_SEP
_COLUMN_SEP = "\x1e"  # joins a column's values in one text (a value holding it takes the slow way)
# Columns with a few known values come as one letter per row ("?": a value not known here).
_CODED_COLUMNS = {"risk_level": RISK_LEVELS, "status": STATUSES}


def load_target_columns(conn: Connection, scope: Scope) -> TargetColumns:
    """The targets in *scope* (:func:`scope_where`) as columns, in directory order: what
    :func:`dsj_desktop.domain.pool.compute_pool` needs, read at 100,000 rows without a Python object
    per row. Each column comes back from the database as one text (``group_concat`` / ``string_agg``):
    texts joined, split here; 风险等级 and 经营状态 one letter per row; on a server, the ids, to put
    the rows in id order should they come otherwise (SQLite's table scan gives them in id order).
    Should a value hold the separator or be none of the known ones, the rows are read one by one
    instead."""
    where, params = scope_where(scope)
    coded: list[str] = []
    code_params: list[Any] = []
    for column, values in _CODED_COLUMNS.items():
        whens = " ".join(f"WHEN ? THEN '{chr(65 + i)}'" for i in range(len(values)))
        coded.append(f"CASE {column} {whens} ELSE '?' END")
        code_params.extend(values)
    blacklist = "CASE WHEN blacklist <> 0 THEN '1' ELSE '0' END"
    letters = [blacklist, *coded]  # one letter per row each
    server = pg.is_pg(conn)
    if server:
        # No ORDER BY: the server would sort 100,000 rows (once per aggregate, if inside each);
        # every aggregate sees the rows in the same order, and the ids put them in order here.
        agg, rs, id_agg, source = "string_agg", "chr(30)", ", string_agg(id::text, ',')", "target"
    else:
        # A scan of the table itself (NOT INDEXED: no index may be used) walks the table's b-tree,
        # whose key is the rowid (= id), in key order: the rows come in id order, no ids needed.
        agg, rs, id_agg, source = "group_concat", "char(30)", "", "target NOT INDEXED"
    sql = (
        "SELECT count(*), "
        + ", ".join(f"{agg}({e}, '')" for e in letters)
        + ", "
        + ", ".join(f"{agg}({c}, {rs})" for c in _TEXT_COLUMNS)
        + f"{id_agg} FROM {source} WHERE {where}"
    )
    row = raw_rows(conn, sql, [*code_params, *params])[0]
    n = int(row[0])
    if n == 0:
        return TargetColumns([], [], [], [], [], [])
    flags, risk_codes, status_codes = row[1:4]
    uscc, name, region = (t.split(_COLUMN_SEP) for t in row[4:7])  # (row[7]: the ids, on a server)
    if (
        any(len(c) != n for c in (flags, risk_codes, status_codes, uscc, name, region))
        or "?" in risk_codes
        or "?" in status_codes
    ):
        return _target_columns_by_row(conn, where, params)
    risk_level, status = (
        list(map({chr(65 + i): v for i, v in enumerate(values)}.__getitem__, codes))
        for codes, values in zip((risk_codes, status_codes), _CODED_COLUMNS.values(), strict=True)
    )
    black = list(map("1".__eq__, flags))
    region = _shared(region)
    if not server:
        return TargetColumns(uscc, name, region, risk_level, status, black)
    ids = list(map(int, str(row[7]).split(",")))
    if len(ids) != n:
        return _target_columns_by_row(conn, where, params)
    if not all(map(operator.lt, ids, islice(ids, 1, None))):  # not in id order: put them in order
        order = sorted(range(n), key=ids.__getitem__)
        uscc, name, region, risk_level, status = (
            list(map(c.__getitem__, order)) for c in (uscc, name, region, risk_level, status)
        )
        black = list(map(black.__getitem__, order))
    return TargetColumns(uscc, name, region, risk_level, status, black)


def _shared(values: list[str]) -> list[str]:
    """The same values, each distinct text one object (a region's name once, not 100,000 times)."""
    first: dict[str, str] = {}
    return list(map(first.setdefault, values, values))


def _target_columns_by_row(conn: Connection, where: str, params: Sequence[Any]) -> TargetColumns:
    rows = raw_rows(
        conn, f"SELECT {', '.join(_TARGET_COLUMNS)}, blacklist FROM target WHERE {where} ORDER BY id", params
    )
    uscc, name, region, risk_level, status, blacklist = (list(map(itemgetter(i), rows)) for i in range(6))
    return TargetColumns(uscc, name, region, risk_level, status, [bool(v) for v in blacklist])


def raw_rows(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """All rows at once through the driver's own cursor: 100,000 rows without per-row overhead."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    return list(dbapi.execute(sql, tuple(params)).fetchall())


def confirmed_history(conn: Connection, year: int) -> list[PastSelection]:
    """Targets of the confirmed draw sessions of *year* (voided sessions never count), session by
    session in the order they were made, each session's targets by 统一社会信用代码."""
    where = "s.status = 'confirmed' AND s.draw_date BETWEEN ? AND ?"
    span = (f"{year}-01-01", f"{year}-12-31")
    # The item codes frozen in each session's inputs, taken out by the database: a session's inputs
    # (up to 100,000 candidates) are neither sent once per drawn target nor decoded here.
    items = {
        sid: frozenset(json.loads(codes) if codes else ())
        for sid, codes in conn.exec_driver_sql(
            "SELECT s.id, json_extract(i.task, '$.item_codes') FROM draw_session s "
            f"LEFT JOIN draw_input i ON i.session_id = s.id WHERE {where}",
            span,
        )
    }
    rows = conn.exec_driver_sql(
        "SELECT s.id, s.task_code, s.draw_date, sel.uscc FROM draw_selection sel "
        f"JOIN draw_session s ON s.id = sel.session_id WHERE {where} ORDER BY s.rowid, sel.uscc",
        span,
    )
    return [
        PastSelection(uscc, sid, task_code, items[sid], date.fromisoformat(str(drawn_on)))
        for sid, task_code, drawn_on, uscc in rows
    ]


@dataclass
class TaskPool:
    task: TaskInfo
    items: list[ItemInfo]
    pool: Pool
    rules: Rules
    on: date
    inspectors_eligible: int = 0
    inspectors_total: int = 0
    inspector_req: tuple[str, ...] = ()  # the 执法专长 the items' 检查人员要求 name (any one of them)
    experts: int = 0
    # What was read in each item's 检查人员要求 (items with text only).
    staffing: list[tuple[ItemInfo, StaffRequirement]] = field(default_factory=list)
    min_team: int = 0  # the largest team size an item asks for (0: none stated)
    problems: list[str] = field(default_factory=list)  # the draw cannot be made
    notes: list[str] = field(default_factory=list)  # worth knowing, not blocking


def eligible_inspectors(conn: Connection, on: date, required: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(执法证号, 姓名, 所属科室) of the inspectors who may be drawn on *on*: a valid certificate, 在岗,
    not archived, and — when the task's items require it — one of the required 执法专长."""
    rows = conn.exec_driver_sql(
        "SELECT cert_no, name, department, specialties FROM inspector "
        "WHERE archived = 0 AND duty_status = ? AND cert_valid_until >= ? ORDER BY cert_no",
        (ON_DUTY, on.isoformat()),
    )
    need = set(required)
    return [(r[0], r[1], r[2]) for r in rows if not need or need & set(_parts(r[3]))]


def task_pool(conn: Connection, task: TaskInfo, on: date | None = None) -> TaskPool:
    on = on or today()
    items = items_of(conn, task.item_codes)
    rules = load_rules(conn)
    scope = scope_of(task, items)
    pool = compute_pool(
        load_target_columns(conn, scope), scope, task.ratio, rules, confirmed_history(conn, on.year), on
    )
    known = staffing.known_specialties(conn) if any(it.inspector_req for it in items) else []
    reqs = [(it, staffing.parse(it.inspector_req, known)) for it in items if it.inspector_req.strip()]
    required = tuple(dict.fromkeys(r for _, req in reqs for r in req.specialties))
    inspectors = eligible_inspectors(conn, on, required)
    total = conn.exec_driver_sql("SELECT count(*) FROM inspector WHERE archived = 0").scalar_one()
    experts = conn.exec_driver_sql("SELECT count(*) FROM expert WHERE archived = 0").scalar_one()
    tp = TaskPool(task, items, pool, rules, on, len(inspectors), int(total), required, int(experts))
    tp.staffing = reqs
    tp.min_team = max((req.min_team for _, req in reqs), default=0)
    tp.problems = list(pool.problems)
    missing = [c for c in task.item_codes if c not in {it.code for it in items}]
    retired = [it.code for it in items if it.archived]
    if missing:
        tp.problems.append(f"抽查事项 {'、'.join(missing)} 不在清单中")
    if retired:
        # Planned while the item was listed: the task keeps it; new tasks cannot use it any more.
        tp.notes.append(f"抽查事项 {'、'.join(retired)} 已停用：本任务按原计划仍可抽取，新任务不能再使用")
    for it, req in reqs:
        if req.min_team > task.team_size:
            tp.problems.append(
                f"抽查事项 {it.code}“{it.name}”的检查人员要求“{req.text}”：每组至少 {req.min_team} 人，"
                f"本任务每组检查人数为 {task.team_size}，请在年度计划中修改每组检查人数"
            )
    if len(inspectors) < task.team_size:
        causes = [
            f"{it.code}“{it.name}”要求{'、'.join(req.specialties)}" for it, req in reqs if req.specialties
        ]
        if causes:
            need = (
                f"（执法证有效、在岗且具备执法专长：{'、'.join(required)}。"
                f"专长来自抽查事项的检查人员要求：{'；'.join(causes)}；"
                "如要求写错，请在“抽查事项清单”中修改）"
            )
        else:
            need = "（执法证有效且在岗）"
        tp.problems.append(f"可抽取的执法人员只有 {len(inspectors)} 人{need}，少于每组 {task.team_size} 人")
    if task.expert_count and experts < task.expert_count:
        tp.problems.append(f"专家库只有 {experts} 人，少于每组 {task.expert_count} 人")
    return tp


# --- import / export --------------------------------------------------------------------------


def _check_plan_rows(conn: Connection, parsed: ParsedSheet) -> list[Problem]:
    cols: dict[str, list[Any]] = parsed.columns
    col_of = parsed.mapping
    items = {
        r[0]: (bool(r[1]), _parts(r[2]))
        for r in conn.exec_driver_sql("SELECT code, archived, industries FROM item")
    }
    problems: list[Problem] = []
    plan_seen: dict[str, tuple[str, int, int]] = {}
    for i, rn in enumerate(parsed.row_numbers):
        rec = {a: c[i] for a, c in cols.items()}
        codes = _parts(rec["items"])
        for c in codes:
            if c not in items:
                problems.append(Problem(rn, col_of.get("items"), "抽查事项",
                                        f"事项编码“{c}”不在抽查事项清单中（清单之外无检查）"))  # fmt: skip
            elif items[c][0]:
                problems.append(
                    Problem(rn, col_of.get("items"), "抽查事项", f"抽查事项“{c}”已停用，不能再用于新任务")
                )
        if rec["end_date"] < rec["start_date"]:
            problems.append(Problem(rn, col_of.get("end_date"), "结束日期",
                                    f"结束日期 {rec['end_date']} 早于开始日期 {rec['start_date']}"))  # fmt: skip
        if rec["draw_type"] == UNDIRECTED:
            for attr, header in (
                ("industries", "行业领域"),
                ("regions", "所属区域"),
                ("conditions", "对象条件"),
            ):
                if rec[attr]:
                    problems.append(Problem(rn, col_of.get(attr), header,
                                            f"不定向抽查面向全部名录（按所属区域均衡），{header}应留空；"
                                            "如需按条件筛选，请把抽查类型改为“定向”"))  # fmt: skip
        elif codes and all(c in items for c in codes):
            allowed: set[str] | None = set()
            for c in codes:
                if not items[c][1]:
                    allowed = None
                    break
                assert allowed is not None
                allowed |= set(items[c][1])
            outside = [x for x in _parts(rec["industries"]) if allowed is not None and x not in allowed]
            if outside:
                problems.append(Problem(rn, col_of.get("industries"), "行业领域",
                                        f"行业领域“{'、'.join(outside)}”不在所选抽查事项的抽查对象之内"
                                        f"（{'、'.join(sorted(allowed or ()))}）"))  # fmt: skip
        plan = (rec["plan_name"], rec["plan_year"], rn)
        first = plan_seen.setdefault(rec["plan_code"], plan)
        if first[:2] != plan[:2]:
            problems.append(Problem(rn, col_of.get("plan_name"), "抽查计划名称",
                                    f"同一抽查计划编号“{rec['plan_code']}”在第 {first[2]} 行的名称或年度不同"))  # fmt: skip
    return problems


def _task_values(rec: Mapping[str, Any]) -> dict[str, Any]:
    ratio = parse_ratio(rec["ratio"])
    return {
        "code": rec["code"], "name": rec["name"], "draw_type": rec["draw_type"], "items": rec["items"],
        "industries": rec["industries"], "regions": rec["regions"], "conditions": rec["conditions"],
        "ratio": ratio.text(), "ratio_spec": ratio.to_json(), "team_size": rec["team_size"],
        "expert_count": rec["expert_count"], "department": rec["department"], "partners": rec["partners"],
        "start_date": rec["start_date"].isoformat(), "end_date": rec["end_date"].isoformat(),
        "scope_note": rec["scope_note"],
    }  # fmt: skip


def import_plan(
    db: Database,
    path: Path,
    *,
    sheet: str | None = None,
    mapping: Mapping[str, int] | None = None,
    header_row: int | None = None,
    dry_run: bool = False,
    before_write: Callable[[], Mapping[str, Any]] | None = None,
    ignore_columns: Collection[str] = (),
    choices: Mapping[str, Mapping[str, str]] | None = None,
) -> Job[ImportSummary]:
    """Import plans and tasks (one row per task); refused whole on any problem. *before_write*,
    *ignore_columns*: as for :func:`dsj_desktop.io.importer.import_directory`. *choices*: for a
    published plan table, task code → {draw_type / ratio / items: value} chosen in the wizard (the
    prose they replace is kept in the task's 抽查对象范围)."""
    path = Path(path)
    with db.read() as conn:
        codes = codelists.all_lists(conn)
        item_codes = {r[0] for r in conn.exec_driver_sql("SELECT code FROM item")}
    published = is_published_layout(path, sheet, header_row)
    parsed = yield from read_records(
        PLAN_ROWS, path, sheet=sheet, mapping=mapping, codes=codes, header_row=header_row,
        fields=PUBLISHED_FIELDS if published else None,
    )  # fmt: skip
    present = set(parsed.mapping)
    if published:
        _, top = read_sheet(path, parsed.sheet, max_rows=parsed.header_row)
        title = " ".join(cell_to_text(c) for row in top[: parsed.header_row - 1] for c in row)
        if choices:
            _apply_choices(parsed, choices)
        problems = _derive_published(parsed, title, item_codes)
        if problems:
            advice = ["这是上一年度公布的计划表格式：年度、开始和结束日期、每组检查人数（2 人）已按表格推算；"
                      "上面列出的单元格需要您选定：在 Excel 中改好后重新导入，或在导入向导中逐项选择。"]  # fmt: skip
            if all(p.header in CHOICES for p in problems):
                raise PlanChoicesNeeded(path, parsed.sheet, problems, advice, _choice_tasks(parsed, problems))
            raise ImportRefused(path, parsed.sheet, problems, advice=advice)
        present |= set(DERIVED)
    yield Progress("正在核对抽查事项和计划……")
    detail: dict[str, Any] = {"rows": len(parsed)}
    if before_write is not None and not dry_run:
        with db.read() as conn:  # the file must fit the item list before anything else happens
            problems = _check_plan_rows(conn, parsed)
        if problems:
            raise ImportRefused(path, parsed.sheet, problems[:MAX_LISTED_PROBLEMS], len(problems))
        detail.update(before_write())
    ctx = db.read() if dry_run else db.write(f"导入年度抽查计划：文件“{path.name}”", detail)
    with ctx as conn:
        summary = apply_plan(conn, parsed, dry_run=dry_run, present=present)
    if published:
        summary.notes.append(
            "（按上一年度公布的计划表格式导入：年度、开始和结束日期取自标题和抽查时间，每组检查人数为 2。）"
        )
    return summary


def apply_plan(
    conn: Connection, parsed: ParsedSheet, *, dry_run: bool = False, present: Collection[str] | None = None
) -> ImportSummary:
    """Check the plan rows against the item list and write them (inside the caller's transaction).
    *present*: the columns the file has; an existing task keeps its stored value of the others."""
    path = parsed.file
    problems = _check_plan_rows(conn, parsed)
    if problems:
        raise ImportRefused(path, parsed.sheet, problems[:MAX_LISTED_PROBLEMS], len(problems))
    summary = ImportSummary(PLAN_ROWS.kind, PLAN_ROWS.title, path.name, parsed.sheet, len(parsed))
    summary.preview = [parsed.record(i) for i in range(min(50, len(parsed)))]
    summary.ignored_headers = parsed.ignored_headers
    if present is not None:
        summary.absent_fields = [f.header for f in PLAN_ROWS.fields if f.attr not in present]
    stamp = now_iso()
    plans = {
        r[1]: (r[0], r[2], r[3], r[4])
        for r in conn.exec_driver_sql("SELECT id, code, name, year, department FROM plan")
    }
    item_ids = {r[1]: r[0] for r in conn.exec_driver_sql("SELECT id, code FROM item")}
    tasks = {
        r._mapping["code"]: r._mapping
        for r in conn.exec_driver_sql(f"SELECT {', '.join(TASK_COLUMNS)} FROM task")
    }
    new_plans = 0
    for i in range(len(parsed)):
        rec = parsed.record(i)
        pcode = rec["plan_code"]
        want = (rec["plan_name"], rec["plan_year"], rec["department"])
        if pcode not in plans:
            new_plans += 1
            if not dry_run:
                cur = conn.exec_driver_sql(
                    "INSERT INTO plan (code, name, year, department, archived, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, 0, ?, ?)",
                    (pcode, *want, stamp, stamp),
                )
                plans[pcode] = (int(cur.lastrowid or 0), *want)
            else:
                plans[pcode] = (-1, *want)
        elif plans[pcode][1:3] != want[:2] and not dry_run:
            conn.exec_driver_sql("UPDATE plan SET name = ?, year = ?, archived = 0, updated_at = ? WHERE code = ?",
                                 (want[0], want[1], stamp, pcode))  # fmt: skip
        values = _task_values(rec)
        plan_id = plans[pcode][0]
        old = tasks.get(rec["code"])
        if old is not None and present is not None:  # a column the file lacks keeps what is stored
            kept = {"ratio_spec": "ratio"}
            values = {k: v if kept.get(k, k) in present or k == "code" else old[k] for k, v in values.items()}
        if old is None:
            summary.added += 1
            if dry_run:
                continue
            cols = ["plan_id", *values]
            cur = conn.exec_driver_sql(
                f"INSERT INTO task ({', '.join(cols)}, archived, created_at, updated_at) "
                f"VALUES ({', '.join('?' * len(cols))}, 0, ?, ?)",
                (plan_id, *values.values(), stamp, stamp),
            )
            task_id = int(cur.lastrowid or 0)
        else:
            same = (
                old["plan_id"] == plan_id
                and not old["archived"]
                and all(str(old[k]) == str(v) for k, v in values.items())
            )
            if same:
                summary.unchanged += 1
                continue
            summary.updated += 1
            if dry_run:
                continue
            task_id = old["id"]
            sets = ", ".join(f"{k} = ?" for k in values)
            conn.exec_driver_sql(
                f"UPDATE task SET plan_id = ?, {sets}, archived = 0, updated_at = ? WHERE id = ?",
                (plan_id, *values.values(), stamp, task_id),
            )
            conn.exec_driver_sql("DELETE FROM task_item WHERE task_id = ?", (task_id,))
        conn.exec_driver_sql(
            "INSERT INTO task_item (task_id, item_id) VALUES (?, ?)",
            [(task_id, item_ids[c]) for c in _parts(rec["items"])],
        )
    if new_plans:
        summary.notes.append(f"新建抽查计划 {new_plans} 个。")
    return summary


def plan_rows(
    conn: Connection, *, year: int | None = None, plan_code: str | None = None
) -> list[dict[str, Any]]:
    """One dict per task, keyed by the PLAN_ROWS attrs (for export and publication)."""
    out = []
    for t in list_tasks(conn):
        if year is not None and t.plan_year != year:
            continue
        if plan_code is not None and t.plan_code != plan_code:
            continue
        out.append({
            "plan_code": t.plan_code, "plan_name": t.plan_name, "plan_year": t.plan_year, "code": t.code,
            "name": t.name, "draw_type": t.draw_type, "items": "、".join(t.item_codes),
            "industries": "、".join(t.industries), "regions": "、".join(t.regions),
            "conditions": "、".join(t.conditions), "ratio": t.ratio.text(), "team_size": t.team_size,
            "expert_count": t.expert_count, "department": t.department, "partners": "、".join(t.partners),
            "start_date": t.start_date, "end_date": t.end_date, "scope_note": t.scope_note,
        })  # fmt: skip
    return out


def export_plan(db: Database, path: Path, *, year: int | None = None) -> Job[int]:
    path = Path(path)
    with db.read() as conn:
        rows = plan_rows(conn, year=year)
    n = yield from export_rows(path, PLAN_ROWS.title, PLAN_ROWS.fields, rows, len(rows))
    return n


def archive_task(db: Database, code: str, archived: bool = True) -> None:
    with db.write(f"{'归档' if archived else '恢复'}抽查任务 {code}") as conn:
        cur = conn.exec_driver_sql("UPDATE task SET archived = ?, updated_at = ? WHERE code = ?",
                                   (int(archived), now_iso(), code))  # fmt: skip
        if not cur.rowcount:
            raise ValidationError(f"没有编号为“{code}”的抽查任务。")


def tasks_using_items(conn: Connection, item_ids: Sequence[int]) -> dict[str, list[str]]:
    """Item code → codes of the tasks (not archived) that use it, for the items among *item_ids*
    that are used at all (retiring such an item warns first)."""
    if not item_ids:
        return {}
    marks = ", ".join("?" * len(item_ids))
    out: dict[str, list[str]] = {}
    for item_code, task_code in conn.exec_driver_sql(
        "SELECT i.code, t.code FROM task_item ti JOIN item i ON i.id = ti.item_id "
        f"JOIN task t ON t.id = ti.task_id WHERE t.archived = 0 AND i.id IN ({marks}) ORDER BY i.code, t.code",
        tuple(item_ids),
    ):
        out.setdefault(item_code, []).append(task_code)
    return out


def read_tasks_using_items(db: Database, item_ids: Sequence[int]) -> dict[str, list[str]]:
    with db.read() as conn:
        return tasks_using_items(conn, item_ids)


def save_task(db: Database, values: Mapping[str, Any], *, new: bool) -> TaskInfo:
    """Add (*new*) or update one task typed into a dialog, checked by exactly the plan import's rules
    (each cell, then the rows against the item list via :func:`apply_plan`). Raises
    :class:`ValidationError` listing every problem; nothing is written unless all is well."""
    with db.write(f"{'新增' if new else '修改'}抽查任务 {values.get('code', '')}") as conn:
        codes = codelists.all_lists(conn)
        problems: list[str] = []
        rec: dict[str, Any] = {}
        for f in PLAN_ROWS.fields:
            try:
                rec[f.attr] = Converter(f, codes)(values.get(f.attr, f.empty_value()))
            except CellError as exc:
                problems.append(f"{f.header}：{exc}")
        if problems:
            raise ValidationError("；".join(problems), problems)
        row = conn.exec_driver_sql("SELECT archived FROM task WHERE code = ?", (rec["code"],)).first()
        if new and row is not None:
            extra = "（已归档，可在“显示已归档任务”中找到并恢复）" if row[0] else ""
            raise ValidationError(f"抽查任务编号“{rec['code']}”已存在{extra}")
        if not new and row is None:
            raise ValidationError(f"没有编号为“{rec['code']}”的抽查任务。")
        parsed = ParsedSheet.from_records(PLAN_ROWS, [values], codes, "抽查任务")
        try:
            apply_plan(conn, parsed)
        except ImportRefused as exc:
            found = [f"{p.header}：{p.message}" if p.header else p.message for p in exc.problems]
            raise ValidationError("；".join(found), found) from None
        return get_task(conn, rec["code"])


# --- the published plan table ---------------------------------------------------------------------

PERIOD = FieldSpec("period", "抽查时间", aliases=("检查时间", "抽查时限", "实施时间", "抽查时间安排"))
DERIVED = ("plan_year", "team_size", "start_date", "end_date")
DEFAULT_TEAM_SIZE = 2  # the rules: at least two inspectors per target
# The published table: 年度, 每组检查人数 and the dates may be missing (derived), 抽查类型 may be empty and
# 抽查比例 may be prose (both named cell by cell), 抽查时间 gives the months.
PUBLISHED_FIELDS = (
    *(
        replace(f, required=False) if f.attr in (*DERIVED, "draw_type")
        else replace(f, parser=None, max_len=2000) if f.attr == "ratio"
        else replace(f, max_len=2000) if f.attr == "items"
        else f
        for f in PLAN_ROWS.fields
    ),
    PERIOD,
)  # fmt: skip
_YEAR = re.compile(r"(20\d\d)")
_MONTHS = re.compile(
    r"(20\d\d)\s*[年.\-/]\s*(\d{1,2})\s*月?(?:\s*(\d{1,2})\s*日)?\s*(?:至|到|[-–—~～])\s*"
    r"(?:(20\d\d)\s*[年.\-/]\s*)?(\d{1,2})\s*月?(?:\s*(\d{1,2})\s*日)?(?:底|末)?"
)


def is_published_layout(path: Path, sheet: str | None, header_row: int | None) -> bool:
    """Whether the sheet is the plan table as bureaus publish it: 抽查时间 instead of the dates."""
    _, rows = read_sheet(path, sheet, max_rows=HEADER_SCAN_ROWS + 2)
    hdr = find_header_row(rows, PUBLISHED_FIELDS) if header_row is None else header_row - 1
    if hdr is None:
        return False
    labels, _ = header_labels(rows, hdr, PUBLISHED_FIELDS)
    mapping = auto_mapping(labels, PUBLISHED_FIELDS)
    return "period" in mapping and not ("start_date" in mapping and "end_date" in mapping)


def period_dates(text: str) -> tuple[date, date] | None:
    """“2023年2月至11月” → 2023-02-01, 2023-11-30; “2023年3月1日至2023年11月30日” → those days."""
    m = _MONTHS.search(text)
    if not m:
        whole = re.search(r"(20\d\d)\s*年?\s*(?:全年|年内|全年度)", text)
        if whole:
            y = int(whole.group(1))
            return date(y, 1, 1), date(y, 12, 31)
        return None
    y1, m1, d1, y2, m2, d2 = m.groups()
    year1 = int(y1)
    year2 = int(y2) if y2 else year1
    try:
        start = date(year1, int(m1), int(d1) if d1 else 1)
        last = calendar.monthrange(year2, int(m2))[1]
        end = date(year2, int(m2), int(d2) if d2 else last)
    except ValueError:
        return None
    return (start, end) if end >= start else None


def _derive_published(parsed: ParsedSheet, title: str, item_codes: set[str]) -> list[Problem]:
    """Fill in what the published table leaves out, and name each cell that needs a choice."""
    cols = parsed.columns
    col_of = parsed.mapping
    problems: list[Problem] = []
    title_year = _YEAR.search(title)
    for i, rn in enumerate(parsed.row_numbers):
        period = cols["period"][i] if "period" in col_of else ""
        dates = period_dates(period) if period else None
        if "start_date" not in col_of or "end_date" not in col_of:
            if dates is None:
                what = f"“{period}”" if period else "空着"
                problems.append(Problem(rn, col_of.get("period"), "抽查时间",
                                        f"{what}，无法确定开始和结束日期：请写作“2023年2月至11月”"
                                        "或“2023年3月1日至2023年11月30日”"))  # fmt: skip
            else:
                cols["start_date"][i], cols["end_date"][i] = dates
        if "plan_year" not in col_of:
            found = title_year or _YEAR.search(cols["plan_code"][i] or "") or _YEAR.search(period or "")
            if found is None:
                problems.append(Problem(rn, col_of.get("plan_code"), "抽查计划编号",
                                        "无法确定年度：请在表格上方的标题中写明年度（如“2023年度”），或加一列“年度”"))  # fmt: skip
            else:
                cols["plan_year"][i] = int(found.group(1))
        if "team_size" not in col_of:
            cols["team_size"][i] = DEFAULT_TEAM_SIZE
        if not cols["draw_type"][i]:
            problems.append(Problem(rn, col_of.get("draw_type"), "抽查类型",
                                    f"未填写。请为任务“{cols['name'][i]}”填写“定向”（按行业领域、区域、对象条件）"
                                    "或“不定向”（全部名录）"))  # fmt: skip
        ratio = cols["ratio"][i]
        try:
            cols["ratio"][i] = parse_ratio(ratio).text()
        except RatioError:
            problems.append(Problem(rn, col_of.get("ratio"), "抽查比例",
                                    f"“{_short(ratio)}”是文字说明，抽取需要具体的比例：请改为 5%、20家，或按风险等级写作"
                                    "“重大:100%;较大:30%;一般:10%;低:5%”（原文可写入“抽查对象范围”保留）"))  # fmt: skip
        items = cols["items"][i]
        parts = _parts(items)
        prose = len(parts) == 1 or len(items) > 40 or max(map(len, parts), default=0) > 12
        if items and not any(p in item_codes for p in parts) and prose:
            problems.append(Problem(rn, col_of.get("items"), "抽查事项",
                                    f"“{_short(items)}”是文字说明，不是事项编码：请改为抽查事项清单中的事项编码，"
                                    "多个用“、”分隔（原文可写入“抽查对象范围”保留）"))  # fmt: skip
    return problems


def _short(s: str, limit: int = 24) -> str:
    return s if len(s) <= limit else s[:limit] + "…"


CHOICES = {"抽查类型": "draw_type", "抽查比例": "ratio", "抽查事项": "items"}


@dataclass
class TaskChoice:
    """A task of a published plan table that needs choices: attr → the text the table has."""

    code: str
    name: str
    row: int
    needs: dict[str, str]


class PlanChoicesNeeded(ImportRefused):
    """A published plan table that imports once the listed choices are made (see ``tasks``)."""

    def __init__(self, file: Path, sheet: str | None, problems: Sequence[Problem], advice: Sequence[str],
                 tasks: Sequence[TaskChoice]):  # fmt: skip
        super().__init__(file, sheet, problems, None, advice)
        self.tasks = list(tasks)


def _choice_tasks(parsed: ParsedSheet, problems: Sequence[Problem]) -> list[TaskChoice]:
    by_row: dict[int, TaskChoice] = {}
    index = {rn: i for i, rn in enumerate(parsed.row_numbers)}
    cols = parsed.columns
    for p in problems:
        if p.row is None or p.header not in CHOICES:
            continue
        i = index[p.row]
        attr = CHOICES[p.header]
        task = by_row.setdefault(p.row, TaskChoice(cols["code"][i], cols["name"][i], p.row, {}))
        task.needs[attr] = str(cols[attr][i] or "")
    return [by_row[r] for r in sorted(by_row)]


def _apply_choices(parsed: ParsedSheet, choices: Mapping[str, Mapping[str, str]]) -> None:
    """Put the wizard's choices into the rows; the prose a choice replaces goes into the task's note."""
    cols = parsed.columns
    headers = {a: h for h, a in CHOICES.items()}
    for i, code in enumerate(cols["code"]):
        for attr, value in choices.get(code, {}).items():
            if attr not in headers or not value.strip():
                continue
            old = cols[attr][i] or ""
            new = "、".join(split_list(value)) if attr == "items" else value.strip()
            if attr in ("ratio", "items") and old and old != new:
                note = cols["scope_note"][i] or ""
                cols["scope_note"][i] = (note + "\n" if note else "") + f"{headers[attr]}（原文）：{old}"
            cols[attr][i] = new
