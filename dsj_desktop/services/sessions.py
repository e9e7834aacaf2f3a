"""Draw sessions (抽取场次): prepare → commit → witnesses → reveal → confirm, or void at any point;
substitutions (递补) after confirmation. Every transition is one transaction and leaves an event.

A session's inputs are frozen when it is prepared. Sessions are never deleted and their ids never
reused; a voided session stays forever and the next session of its task lists it under
``previous``. No code path replaces a revealed result without leaving that trace.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection

from dsj_desktop import actor as actor_mod
from dsj_desktop.clock import now_iso, today
from dsj_desktop.db import draw_inputs, lock
from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db.engine import Database, guard_of
from dsj_desktop.domain.pool import Scope, compute_pool
from dsj_desktop.draw.algorithm import (
    MIN_WITNESS_DIGITS,
    DrawInputError,
    DrawResult,
    DrawSetup,
    PreparedTargets,
    SelectedTarget,
    Substituter,
    Substitution,
    SubstitutionRequest,
    TargetRows,
    Witness,
    canonical_conflicts,
    canonical_json,
    commitment_of,
    default_cap,
    gc_paused,
    new_nonce,
    normalize_witness,
    normalize_witnesses,
    reveal,
)
from dsj_desktop.draw.record import (
    EncodedUtf8,
    PreviousAttempt,
    SignedUtf8,
    build_record,
    sign_utf8,
    target_columns_json,
)
from dsj_desktop.errors import UserError
from dsj_desktop.keys import KeyStore
from dsj_desktop.services import draw_ready, settings
from dsj_desktop.services import plan as plan_service

PREPARED = "prepared"
COMMITTED = "committed"
REVEALED = "revealed"
CONFIRMED = "confirmed"
VOIDED = "voided"
STATUS_TITLES = {
    PREPARED: "已准备", COMMITTED: "已公告", REVEALED: "已开奖", CONFIRMED: "已确认", VOIDED: "已作废",
}  # fmt: skip
OPEN = (PREPARED, COMMITTED, REVEALED)
# Text that goes onto the projector and into the signed record and its PDF: bounded, checked before a
# session exists (prepare, and the command line before it) and again when a witness is entered.
MAX_WITNESS_NAME = 40
MAX_WITNESS_DIGITS = 200  # one witness's digits
MAX_PLACE = 60
MAX_OPERATOR = 40
INTERRUPTED = "开奖前中断"  # the void reason of a session whose nonce was lost before the reveal (spec §3.4)
INSPECTOR, EXPERT = "inspector", "expert"
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class DrawError(UserError):
    """A draw step was refused; the message says why, in Chinese."""


# --- reading sessions -------------------------------------------------------------------------


class _Reader:
    """Reads a session's large texts (its frozen inputs, its record) when first asked: on the
    connection the session was loaded with while its transaction lasts (a write sees its own rows),
    else in a read transaction of its own. The inputs never change once stored, and the record is
    read at the version the session was loaded with."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def row(self, sql: str, params: tuple[Any, ...]) -> Any:
        c = self.conn
        if not c.closed and c.in_transaction():
            return c.exec_driver_sql(sql, params).first()
        with c.engine.connect() as fresh, fresh.begin():
            return fresh.exec_driver_sql(sql, params).first()


@dataclass
class Session:
    """A session as stored: the small row of ``draw_session``. Its frozen inputs (up to 100,000
    candidates, in ``draw_input``) and its signed record (``draw_record``) are read and decoded
    only when first used."""

    id: str
    task_id: int
    task_code: str
    status: str
    draw_date: date
    place: str
    operator: str
    hashes_json: str = field(repr=False)
    commitment: str
    nonce: str = field(repr=False)
    witnesses_json: str = field(repr=False)
    seed: str
    result_json: str = field(repr=False)
    void_reason: str
    record_version: int
    created_at: str
    reader: _Reader | None = field(default=None, repr=False, compare=False)

    def _row(self, sql: str, *more: Any) -> Any:
        """One row of *sql*, whose parameters are this session's id and then *more*."""
        if self.reader is None:
            raise DrawError(f"场次 {self.id} 的数据未从数据库读取。")
        return self.reader.row(sql, (self.id, *more))

    @cached_property
    def inputs(self) -> dict[str, Any]:
        row = self._row("SELECT task, targets, other FROM draw_input WHERE session_id = ?")
        if row is None:
            raise DrawError(f"场次 {self.id} 的抽取输入缺失（数据库可能被程序之外改动），请运行完整性检查。")
        return draw_inputs.joined(*row)

    @cached_property
    def record_json(self) -> str:
        """The signed record's text as stored (empty before the first record)."""
        if not self.record_version:
            return ""
        row = self._row(draw_inputs.RECORD_SQL, self.record_version)
        return _record_text(self.id, row) if row is not None else ""

    @cached_property
    def hashes(self) -> dict[str, str]:
        return dict(json.loads(self.hashes_json)) if self.hashes_json else {}

    @cached_property
    def witnesses(self) -> list[dict[str, str]]:
        return list(json.loads(self.witnesses_json))

    @cached_property
    def result(self) -> list[dict[str, Any]]:
        return list(json.loads(self.result_json)) if self.result_json else []

    @cached_property
    def record(self) -> dict[str, Any] | None:
        return dict(json.loads(self.record_json)) if self.record_json else None

    @cached_property
    def substitutions(self) -> list[dict[str, Any]]:
        if not self.record_version:
            return []
        if "record" in vars(self) and self.record is not None:
            return list(self.record.get("substitutions", []))
        row = self._row(  # without decoding the whole record (100,000 candidates)
            "SELECT json_extract(record, '$.substitutions') FROM draw_record "
            f"WHERE session_id = ? AND version = {self.record_version:d}"
        )
        return list(json.loads(row[0])) if row is not None and row[0] else []

    @property
    def status_title(self) -> str:
        return STATUS_TITLES.get(self.status, self.status)

    @property
    def digits(self) -> int:
        return sum(len(w["digits"]) for w in self.witnesses)

    @property
    def task(self) -> dict[str, Any]:
        if "inputs" in vars(self):
            return dict(self.inputs.get("task", {}))
        row = self._row("SELECT task FROM draw_input WHERE session_id = ?")  # without the candidates
        return dict(json.loads(row[0])) if row is not None else {}

    @cached_property
    def _other_inputs(self) -> dict[str, Any]:
        row = self._row("SELECT other FROM draw_input WHERE session_id = ?")  # without the candidates
        return dict(json.loads(row[0])) if row is not None else {}

    def frozen_input(self, key: str, default: Any = None) -> Any:
        """One frozen input other than the candidates and their names (``inspectors``, ``experts``,
        ``params``, ``strata``, ``exclusions``…), without decoding the candidates (7 MB at city scale)
        unless :attr:`inputs` has been decoded already."""
        if key in ("task", "targets", "names"):
            raise KeyError(f"{key}: not among the other inputs (see task, inputs)")
        if "inputs" in vars(self):
            return self.inputs.get(key, default)
        return self._other_inputs.get(key, default)

    @cached_property
    def target_names(self) -> Mapping[str, str]:
        """Every candidate's name by id, read-only: made once per session object (100,000 at city
        scale; screens look names up row by row and frame by frame)."""
        return MappingProxyType(self.inputs.get("names", {}))

    @property
    def inspector_names(self) -> dict[str, str]:
        return {p[0]: p[1] for p in self.frozen_input("inspectors", [])}

    @property
    def expert_names(self) -> dict[str, str]:
        return {p[0]: p[1] for p in self.frozen_input("experts", [])}

    def current_teams(self) -> dict[str, dict[str, list[str]]]:
        """target → {inspector: [...], expert: [...]} after the substitutions so far."""
        teams = {s["id"]: {INSPECTOR: list(s["inspectors"]), EXPERT: list(s["experts"])} for s in self.result}
        for sub in self.substitutions:
            team = teams[sub["target"]][sub.get("kind", INSPECTOR)]
            team[team.index(sub["removed"])] = sub["substitute"]
        return teams


_SESSION_COLUMNS = (
    "id, task_id, task_code, status, draw_date, place, operator, hashes, commitment, nonce, witnesses, "
    "seed, result, void_reason, record_version, created_at"
)


def _session_from_row(r: Any, conn: Connection) -> Session:
    return Session(
        id=r[0], task_id=r[1], task_code=r[2], status=r[3], draw_date=date.fromisoformat(str(r[4])), place=r[5],
        operator=r[6], hashes_json=r[7], commitment=r[8], nonce=r[9], witnesses_json=r[10],
        seed=r[11], result_json=r[12], void_reason=r[13], record_version=int(r[14]),
        created_at=r[15], reader=_Reader(conn),
    )  # fmt: skip


def load_session(conn: Connection, session_id: str) -> Session:
    row = conn.exec_driver_sql(
        f"SELECT {_SESSION_COLUMNS} FROM draw_session WHERE id = ?", (session_id,)
    ).first()
    if row is None:
        raise DrawError(f"没有编号为“{session_id}”的抽取场次。")
    return _session_from_row(row, conn)


def get_session(db: Database, session_id: str) -> Session:
    with db.read() as conn:
        return load_session(conn, session_id)


def list_sessions(conn: Connection, task_code: str | None = None) -> list[Session]:
    where, params = ("WHERE task_code = ?", (task_code,)) if task_code else ("", ())
    rows = conn.exec_driver_sql(
        f"SELECT {_SESSION_COLUMNS} FROM draw_session {where} ORDER BY created_at, id", params
    )
    return [_session_from_row(r, conn) for r in rows]


@dataclass(frozen=True)
class SessionSummary:
    """The few columns of a session that lists need (without its large JSON)."""

    id: str
    task_code: str
    status: str
    draw_date: date
    commitment: str
    nonce: str = field(repr=False)
    void_reason: str = ""
    selected: int = 0
    created_at: str = ""

    @property
    def status_title(self) -> str:
        return STATUS_TITLES.get(self.status, self.status)


def session_summaries(
    conn: Connection, task_code: str | None = None, *, selected: bool = True
) -> list[SessionSummary]:
    """The sessions (of *task_code*, or all) in the order made; *selected*: with the number of targets
    each drew (else 0: each session's stored selection is then not read)."""
    where, params = ("WHERE task_code = ?", (task_code,)) if task_code else ("", ())
    count = "CASE WHEN result = '' THEN 0 ELSE json_array_length(result) END" if selected else "0"
    rows = conn.exec_driver_sql(
        "SELECT id, task_code, status, draw_date, commitment, nonce, void_reason, "
        f"{count}, created_at FROM draw_session {where} ORDER BY created_at, id",
        params,
    )
    return [SessionSummary(r[0], r[1], r[2], date.fromisoformat(str(r[3])), *r[4:]) for r in rows]


def events(conn: Connection, session_id: str) -> list[dict[str, Any]]:
    rows = conn.exec_driver_sql(
        "SELECT at, operator, kind, detail FROM draw_event WHERE session_id = ? ORDER BY id", (session_id,)
    )
    return [{"at": r[0], "operator": r[1], "kind": r[2], "detail": json.loads(r[3])} for r in rows]


def _event(conn: Connection, session_id: str, kind: str, by: str, /, **detail: Any) -> None:
    """*detail* may hold any key, ``kind`` included (an expert substitution's own kind)."""
    by = by or actor_mod.label()
    conn.exec_driver_sql(
        "INSERT INTO draw_event (session_id, at, operator, kind, detail) VALUES (?, ?, ?, ?, ?)",
        (session_id, now_iso(), by, kind, json.dumps(detail, ensure_ascii=False, sort_keys=True)),
    )


def _set(conn: Connection, session_id: str, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.exec_driver_sql(
        f"UPDATE draw_session SET {sets}, updated_at = ? WHERE id = ?",
        (*values.values(), now_iso(), session_id),
    )


def _require(s: Session, *allowed: str, action: str) -> None:
    if s.status not in allowed:
        titles = "、".join(STATUS_TITLES[a] for a in allowed)
        raise DrawError(f"场次 {s.id} 当前为“{s.status_title}”，不能{action}（只有“{titles}”的场次可以）。")


# --- prepare ----------------------------------------------------------------------------------


def _new_session_id(conn: Connection, year: int) -> str:
    n = conn.exec_driver_sql(
        "SELECT count(*) FROM draw_session WHERE id LIKE ?", (f"S-{year}-%",)
    ).scalar_one()
    suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(4))
    return f"S-{year}-{int(n) + 1:04d}-{suffix}"


def _previous(summaries: Iterable[SessionSummary]) -> list[PreviousAttempt]:
    """The task's earlier announced attempts, from its :func:`session_summaries` (a new session is
    only prepared once all are closed)."""
    return [
        # Every announced session discloses its nonce once closed (a void before the reveal included),
        # except one interrupted before its reveal: its nonce is gone (nonce_revealed false).
        PreviousAttempt(s.id, s.status, s.void_reason, s.commitment, s.nonce or False)
        for s in summaries
        if s.commitment  # never announced: nothing public to list (its events stay in the database)
    ]


def confirmed_sessions(conn: Connection, task_code: str) -> list[str]:
    """The task's confirmed sessions (a new draw of it needs a reason)."""
    return [s.id for s in session_summaries(conn, task_code, selected=False) if s.status == CONFIRMED]


def _conflicts(rows: Sequence[Any], people: set[str], targets: set[str]) -> list[list[str]]:
    """The 回避 pairs (*rows*: person, target) of these people and targets, as params holds them."""
    return canonical_conflicts([p, t] for p, t in rows if p in people and t in targets)


class OutsidePeriod(DrawError):
    """The draw date lies outside the task's period and no reason was given."""


def outside_period(task: Any, on: date) -> str:
    """Why *on* lies outside the task's 开始日期–结束日期 (empty when it does not)."""
    if task.start_date <= on <= task.end_date:
        return ""
    return (
        f"抽取日期 {on.isoformat()} 不在抽查任务 {task.code} 的检查期限"
        f"（{task.start_date.isoformat()} 至 {task.end_date.isoformat()}）内"
    )


def check_text(*, place: str = "", operator: str = "", witnesses: Iterable[tuple[str, str]] = ()) -> None:
    """Refuse, in Chinese, a place, operator or witness longer than the record and its PDF take."""
    problems = []
    if len(place.strip()) > MAX_PLACE:
        problems.append(f"抽取地点不能超过 {MAX_PLACE} 个字（现有 {len(place.strip())} 个字）。")
    if len(operator.strip()) > MAX_OPERATOR:
        problems.append(f"操作人员不能超过 {MAX_OPERATOR} 个字（现有 {len(operator.strip())} 个字）。")
    for n, (name, digits) in enumerate(witnesses, start=1):
        if len(name.strip()) > MAX_WITNESS_NAME:
            problems.append(
                f"第 {n} 位见证人的姓名不能超过 {MAX_WITNESS_NAME} 个字（现有 {len(name.strip())} 个字），"
                "单位或身份可以简写，例如“张三（企业代表）”。"
            )
        if len(digits.strip()) > MAX_WITNESS_DIGITS:
            problems.append(
                f"第 {n} 位见证人的数字不能超过 {MAX_WITNESS_DIGITS} 位（现有 {len(digits.strip())} 位）。"
            )
    if problems:
        raise DrawError("\n".join(problems))


@dataclass(eq=False)
class DrawPlan:
    """What a draw of a task on a day is made from, read from the database as it stood at one journal
    entry (*head*), with the work that needs no nonce done: the pool, the people who may be drawn, the
    回避 pairs, the candidates normalised, sorted, grouped and hashed, and their text for the record.

    The draw screen makes one when a task is chosen (it shows the pool from it); :func:`prepare` given
    it freezes it as it is if the journal still ends at *head* (every write the program makes ends
    with an entry, and one made to the rows from outside is entered by the next write), else reads
    the data again. So a draw starts from the pool on the screen, at once, or from the data as they
    are now."""

    task_code: str
    on: date
    head: tuple[int, str] | None  # None: the data changed while they were read (not reused)
    pool: plan_service.TaskPool
    inspectors: list[tuple[str, str, str]]  # (执法证号, 姓名, 科室)
    experts: list[tuple[str, str, str]]  # (编号, 姓名, 单位); empty when the task draws none
    conflicts: list[tuple[str, str]]  # 回避 pairs (person, target) in force
    targets: PreparedTargets | None = field(default=None, repr=False)  # None: pool refused (problems)
    targets_text: str | None = field(default=None, repr=False)  # the record's ``targets`` member
    # On a server: that text's UTF-8 and the same escaped as its seal takes it (guard.escaped_ahead),
    # made here rather than after 开始抽取 (some 20 ms at city scale); None on SQLite.
    targets_utf8: bytes | None = field(default=None, repr=False)
    targets_escaped: Any = field(default=None, repr=False)

    def fits(self, conn: Connection, task_code: str, on: date) -> bool:
        """Whether this plan is that of *task_code* on *on* with the data unchanged since it was read."""
        return (
            self.targets is not None
            and self.head is not None
            and (self.task_code, self.on) == (task_code, on)
            and guard_mod.journal_head(conn)[:2] == self.head
        )


def plan_draw(conn: Connection, task_code: str, on: date) -> DrawPlan:
    """The :class:`DrawPlan` of *task_code* on *on* (about 0.3 s for 100,000 candidates, half of it
    the candidates' work, done when the pool can be drawn). Reads only; raises what ``get_task`` raises."""
    with gc_paused():  # (allocation-heavy, no cycles: see gc_paused)
        return _plan_draw(conn, task_code, on, ahead=True)


def _plan_draw(conn: Connection, task_code: str, on: date, *, ahead: bool) -> DrawPlan:
    """*ahead*: also the candidates' text as it will be stored (read before the write that stores it;
    in that write, the text is escaped while the server stores it)."""
    head: tuple[int, str] | None = guard_mod.journal_head(conn)[:2]
    task = plan_service.get_task(conn, task_code)
    tp = plan_service.task_pool(conn, task, on)
    inspectors = plan_service.eligible_inspectors(conn, on, tp.inspector_req)
    experts: list[tuple[str, str, str]] = []
    if task.expert_count:
        experts = [
            (r[0], r[1], r[2])
            for r in conn.exec_driver_sql(
                "SELECT code, name, employer FROM expert WHERE archived = 0 ORDER BY code"
            )
        ]
    conflicts = [
        (str(r[0]), str(r[1]))
        for r in conn.exec_driver_sql("SELECT person_code, uscc FROM conflict WHERE archived = 0")
    ]
    if guard_mod.journal_head(conn)[:2] != head:  # (a server between statements: another PC wrote)
        head = None
    plan = DrawPlan(task_code, on, head, tp, inspectors, experts, conflicts)
    if not tp.problems:
        candidates = tp.pool.candidates
        try:
            plan.targets = PreparedTargets(TargetRows(candidates.uscc, candidates.stratum))
            plan.targets_text = _targets_text(candidates, plan.targets)
            if ahead:  # (kept only where there is an escaped form: on SQLite prepare encodes it)
                utf8 = plan.targets_text.encode("utf-8")
                plan.targets_escaped = guard_mod.escaped_ahead(conn, utf8)
                plan.targets_utf8 = utf8 if plan.targets_escaped is not None else None
        except DrawInputError:
            pass  # prepare does it again and refuses, saying why
    return plan


def _targets_text(candidates: Any, ordered: TargetRows) -> str:
    """The record's ``targets`` member: the candidates in the draw's order (by id), with their names
    found by id (a name missing or none: shown empty). Refuses a name the record could not print."""
    names = dict(zip(candidates.uscc, candidates.name, strict=True))
    return target_columns_json(ordered.ids, ordered.strata, list(map(names.get, ordered.ids)))


def prepare(
    db: Database,
    task_code: str,
    *,
    on: date | None = None,
    place: str = "",
    operator: str = "",
    outside_period_reason: str = "",
    out_dir: Path | None = None,
    again: str = "",
    plan: DrawPlan | None = None,
) -> Session:
    """Freeze a task's inputs for a new session (nothing random yet). Refused, with every reason,
    when the draw cannot be made as it stands — or its record could not be signed and written
    (into *out_dir*, by default the data folder's records). A draw outside the task's period needs
    *outside_period_reason*, which the record prints. A task that already has a confirmed session
    is drawn *again* only with a reason, printed in the new record. *plan*: the pool read before
    (the draw screen's), frozen as it is if the data are unchanged since (:class:`DrawPlan`)."""
    this_day = today()
    on = on or this_day
    if on > this_day:  # a record would carry a day that has not come yet
        raise DrawError(
            f"抽取日期 {on.isoformat()} 还没有到（今天是 {this_day.isoformat()}）：抽取在当天进行，"
            "请用今天的日期（若电脑的日期不对，请先改正电脑的日期）。"
        )
    check_text(place=place, operator=operator)
    unsignable = draw_ready.signing_problems(db, out_dir, create=True)
    if unsignable:
        raise DrawError("无法开始抽取（抽取记录将无法签署）：\n" + "\n".join(f"· {p}" for p in unsignable))
    void_interrupted(db, task_code, operator=operator)
    # The cyclic collector paused (restored on leaving): this work makes hardly any cycles, and each
    # collection would walk the 100,000 candidates' objects again (what it leaves, a later one takes).
    with gc_paused(), db.write(f"抽取准备：任务 {task_code}") as conn:
        task = plan_service.get_task(conn, task_code)
        if task.archived:
            raise DrawError(f"抽查任务 {task_code} 已归档，不能抽取。")
        outside = outside_period(task, on)
        outside_period_reason = outside_period_reason.strip()
        if outside and not outside_period_reason:
            raise OutsidePeriod(f"{outside}。确需在期限外抽取的，请写明原因（原因将印在抽取记录上）。")
        if not outside:
            outside_period_reason = ""
        summaries = session_summaries(conn, task_code, selected=False)  # once: open, confirmed, previous
        open_ = [s.id for s in summaries if s.status in OPEN]
        if open_:
            where = [w for w in map(db.live_elsewhere, open_) if w]  # on a server: which workstation
            at = f"（正在工作站“{'、'.join(where)}”上进行）" if where else ""
            raise DrawError(
                f"抽查任务 {task_code} 已有进行中的抽取场次 {'、'.join(open_)}{at}，请先完成或作废它。"
            )
        confirmed = [s.id for s in summaries if s.status == CONFIRMED]
        again = again.strip()
        if confirmed and not again:
            raise DrawError(
                f"抽查任务 {task_code} 已有确认的抽取场次 {'、'.join(confirmed)}。再次抽取须写明原因"
                "（原因和此前的场次将写入新的抽取记录；命令行请用 --again 原因）。"
            )
        reused = plan is not None and plan.fits(conn, task_code, on)
        if plan is None or not reused:  # the data as they are now
            plan = _plan_draw(conn, task_code, on, ahead=False)
        tp = plan.pool
        if tp.problems:
            raise DrawError("无法抽取：\n" + "\n".join(f"· {p}" for p in tp.problems))
        pool = tp.pool
        inspectors, experts, conflicts = plan.inspectors, plan.experts, plan.conflicts
        candidates = pool.candidates  # columns: uscc, name, stratum …
        # The targets named by a 回避 pair that are in this draw (not a set of the 100,000 candidates).
        named = {t for _, t in conflicts}
        target_ids = set(filter(named.__contains__, candidates.uscc)) if named else set()
        target_ids |= {c.uscc for c in pool.mandatory}
        total = pool.total_selected
        params: dict[str, Any] = {
            "quotas": dict(pool.quotas),
            "mandatory": sorted(c.uscc for c in pool.mandatory),
            "team_size": task.team_size,
            "inspector_cap": default_cap(total, task.team_size, len(inspectors)),
            "inspector_conflicts": _conflicts(conflicts, {i[0] for i in inspectors}, target_ids),
            "expert_count": task.expert_count,
            "expert_cap": default_cap(total, task.expert_count, len(experts)) if task.expert_count else 0,
            "expert_conflicts": _conflicts(conflicts, {e[0] for e in experts}, target_ids)
            if task.expert_count
            else [],
            "task": task.code,
            "draw_date": on.isoformat(),
        }
        session_id = _new_session_id(conn, on.year)
        nonce = new_nonce()  # in this process's memory only until the reveal (spec §3.4)
        try:  # validate everything and check feasibility now, before anything is announced
            setup = DrawSetup(
                session_id,
                plan.targets or TargetRows(candidates.uscc, candidates.stratum),
                tuple(i[0] for i in inspectors),
                tuple(e[0] for e in experts),
                params,
                nonce,
            )
        except DrawInputError as exc:
            raise DrawError(f"无法抽取：{exc}") from None
        assert isinstance(setup.targets, TargetRows)
        targets_text = plan.targets_text or _targets_text(candidates, setup.targets)
        bureau = settings.get(conn, settings.BUREAU_NAME, "") or ""
        inputs = {
            "task": {
                "code": task.code, "name": task.name, "plan_code": task.plan_code, "plan_name": task.plan_name,
                "year": task.plan_year, "draw_type": task.draw_type, "ratio": task.ratio.text(),
                "item_codes": list(task.item_codes),
                "items": [{"code": it.code, "name": it.name} for it in tp.items],
                "industries": list(task.industries), "regions": list(task.regions),
                "conditions": list(task.conditions), "team_size": task.team_size,
                "expert_count": task.expert_count, "department": task.department,
                "partners": list(task.partners), "start_date": task.start_date.isoformat(),
                "end_date": task.end_date.isoformat(), "inspector_req": list(tp.inspector_req),
                "rules": tp.rules.describe(), "bureau": bureau, "draw_date": on.isoformat(),
                "place": place, "operator": operator,
                **({"again": {"reason": again, "confirmed": confirmed}} if confirmed else {}),
            }
            | ({"outside_period_reason": outside_period_reason} if outside_period_reason else {}),
            "names": {c.uscc: c.name for c in pool.mandatory},  # the candidates' names: targets_text
            "mandatory_reasons": {c.uscc: "黑名单（100% 必查）" for c in pool.mandatory},
            "inspectors": [list(i) for i in inspectors],
            "experts": [list(e) for e in experts],
            "params": params,
            "exclusions": [[e.uscc, e.reason] for e in pool.exclusions],
            "exclusion_names": {e.uscc: e.name for e in pool.exclusions},
            "strata": pool.strata,
            "previous": [p.to_json() for p in _previous(summaries)],
        }  # fmt: skip
        # Stored once, in a row that never changes: the candidates as the record's ``targets`` member
        # (names checked now, as every version of the record will copy them), the rest as JSON.
        task_text, _, other_text = draw_inputs.split(inputs, targets_json=targets_text)
        del inputs
        now = now_iso()
        # The nonce stays here; the lock tells other processes that this session is alive.
        _LIVE[session_id] = _Live(setup, db.hold_live(session_id))
        conn.exec_driver_sql(
            "INSERT INTO draw_session (id, task_id, task_code, status, draw_date, place, operator, hashes, "
            "commitment, nonce, witnesses, seed, result, void_reason, record_version, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, '', '', '', '[]', '', '', '', 0, ?, ?)",
            (session_id, task.id, task.code, PREPARED, on.isoformat(), place, operator, now, now),
        )  # fmt: skip
        # The candidates (9 MB at city scale) sealed and described for the journal from their UTF-8,
        # encoded once (the row trigger would decode them, encode them twice and hash them again).
        ahead = plan.targets_utf8 is not None and targets_text is plan.targets_text
        targets_utf8 = plan.targets_utf8 if ahead and plan.targets_utf8 else targets_text.encode("utf-8")
        guard_mod.insert_text_row(
            conn, guard_of(conn), "draw_input",
            {"session_id": session_id, "task": task_text, "other": other_text, "created_at": now},
            "targets", targets_utf8, len(targets_text), text=targets_text,
            escaped=plan.targets_escaped if ahead else None,
        )  # fmt: skip
        del targets_text, targets_utf8
        _event(conn, session_id, "prepare", operator, task=task.code, candidates=len(setup.targets),
               mandatory=len(pool.mandatory), inspectors=len(inspectors), experts=len(experts),
               exclusions=len(pool.exclusions), sample=total,
               # the journal entry the data were read at; reused: read before (the draw screen's pool)
               data_at=plan.head[0] if plan.head else None, reused_plan=reused)  # fmt: skip
        return load_session(conn, session_id)


# --- sessions before their reveal -------------------------------------------------------------
# Between prepare and the reveal the nonce N exists only in the memory of the running program
# (spec §3.4): never in the database (draw_session.nonce stays empty), a file, a log or a backup.
# A session whose process is gone can never be revealed: it ends void with INTERRUPTED and the next
# record lists it with ``nonce_revealed: false``. While a session is live its process holds an OS
# lock on ``draw-<session>.lock`` in the data folder (the file holds nothing), so another copy of
# the program can tell a session running elsewhere from an interrupted one.


@dataclass(eq=False)
class _Live:
    setup: DrawSetup = field(repr=False)  # holds the nonce
    hold: lock.Held | None = field(default=None, repr=False)


_LIVE: dict[str, _Live] = {}


def _hold_path(db: Database, session_id: str) -> Path:
    return db.data_dir / f"draw-{session_id}.lock"


def _forget(db: Database, session_id: str) -> None:
    """Drop a session's nonce from memory (revealed, or voided) and its lock file."""
    live = _LIVE.pop(session_id, None)
    if live is not None and live.hold is not None:
        live.hold.close()
    path = _hold_path(db, session_id)
    if not lock.held_elsewhere(path):
        path.unlink(missing_ok=True)


def is_live(session_id: str) -> bool:
    """Whether this process holds the session's nonce (it can still be revealed here)."""
    return session_id in _LIVE


def is_interrupted(db: Database, s: Session | SessionSummary) -> bool:
    """A session before its reveal whose nonce no running copy of the program holds."""
    if s.status not in (PREPARED, COMMITTED) or s.id in _LIVE:
        return False
    return db.live_elsewhere(s.id) is None


def void_interrupted(db: Database, task_code: str | None = None, *, operator: str = "") -> list[Session]:
    """Void (开奖前中断) every session of *task_code* (or of all tasks) interrupted before its reveal."""
    with db.read() as conn:
        stale = [s.id for s in session_summaries(conn, task_code, selected=False) if is_interrupted(db, s)]
    return [void(db, sid, INTERRUPTED, operator=operator) for sid in stale]


def _require_live(db: Database, session_id: str, operator: str) -> None:
    """Before a step that needs the nonce: a session whose nonce is gone is voided, and the step refused.
    A session alive here whose hold was lost (a server that ended this workstation's connection) is
    held again (should another workstation have voided it meanwhile, the step's own check refuses)."""
    live = _LIVE.get(session_id)
    if live is not None:
        live.hold = db.renew_live(session_id, live.hold)
        return
    s = get_session(db, session_id)
    if s.status not in (PREPARED, COMMITTED):
        return  # the step's own status check says why
    where = db.live_elsewhere(s.id)
    if where is not None:
        at = f"（工作站“{where}”）" if where else ""
        raise DrawError(f"场次 {s.id} 正在另一个已打开的本程序{at}中进行，只能在那里继续（或作废）。")
    void(db, s.id, INTERRUPTED, operator=operator)
    raise DrawError(
        f"场次 {s.id} 在开奖前中断（程序曾关闭或重新启动）。随机数 N 只保存在程序内存中，已无法公开，"
        f"该场次已作废（{INTERRUPTED}），并将列入本任务下一次抽取的记录。请重新开始抽取。"
    )


def _frozen_setup(s: Session, nonce: str) -> DrawSetup:
    inp = s.inputs
    return DrawSetup(
        s.id,
        [(t[0], t[1]) for t in inp["targets"]],
        tuple(i[0] for i in inp["inspectors"]),
        tuple(e[0] for e in inp["experts"]),
        inp["params"],
        nonce,
    )


# Validated setups of recently revealed sessions: their inputs are frozen, so (id, nonce) identifies
# one exactly, and a session driven step by step (reveal, confirm, each 递补) validates its 100,000
# candidates only once. At most four, and candidates for about one city-scale draw in all (each
# 100,000 take some 15 MB): the newest is always kept. A voided session's is dropped (it draws no more).
_SETUPS: dict[tuple[str, str], DrawSetup] = {}
_SETUPS_KEPT = 4
_SETUPS_CANDIDATES = 120_000


def _keep_setup(key: tuple[str, str], setup: DrawSetup) -> None:
    _SETUPS.pop(key, None)
    _SETUPS[key] = setup  # (the newest last)
    while len(_SETUPS) > 1 and (
        len(_SETUPS) > _SETUPS_KEPT or sum(len(x.targets) for x in _SETUPS.values()) > _SETUPS_CANDIDATES
    ):
        del _SETUPS[next(iter(_SETUPS))]


def _drop_setups(session_id: str) -> None:
    for key in [k for k in _SETUPS if k[0] == session_id]:
        del _SETUPS[key]


def _setup(s: Session) -> DrawSetup:
    live = _LIVE.get(s.id)
    if live is not None:
        return live.setup
    if not s.nonce:
        raise DrawError(f"场次 {s.id} 的随机数 N 已不在程序内存中（开奖前中断），无法继续。")
    key = (s.id, s.nonce)
    setup = _SETUPS.get(key)
    if setup is None:
        setup = _frozen_setup(s, s.nonce)
        _keep_setup(key, setup)
    return setup


# --- commit, witnesses, reveal ----------------------------------------------------------------


def commit(db: Database, session_id: str, *, operator: str = "") -> Session:
    """Publish the commitment to the (secret) nonce with the four input hashes (抽取前公告)."""
    _require_live(db, session_id, operator)
    with db.write(f"抽取前公告：场次 {session_id}") as conn:
        s = load_session(conn, session_id)
        _require(s, PREPARED, action="公告")
        setup = _setup(s)
        hashes = setup.hashes.to_json()
        _set(
            conn,
            s.id,
            status=COMMITTED,
            commitment=setup.commitment,
            hashes=json.dumps(hashes, sort_keys=True),
        )
        _event(conn, s.id, "commit", operator, commitment=setup.commitment, hashes=hashes)
        return load_session(conn, s.id)


def fix_witnesses(db: Database, session_id: str, *, operator: str = "") -> Session:
    """The operator confirms that every witness has written down (or rolled) their digits and none has
    been read out yet (spec §3.5): a witness who does not know the others' digits cannot steer the
    seed even if N leaked. Recorded as the event ``witnesses_fixed``."""
    _require_live(db, session_id, operator)
    with db.write(f"见证人已写定数字：场次 {session_id}") as conn:
        s = load_session(conn, session_id)
        _require(s, COMMITTED, action="确认见证人已写定数字")
        if not witnesses_fixed(conn, s.id):
            _event(conn, s.id, "witnesses_fixed", operator, witnesses_before=len(s.witnesses))
        return load_session(conn, s.id)


def witnesses_fixed(conn: Connection, session_id: str) -> bool:
    """Whether the operator confirmed that the witnesses fixed their digits before any was read out."""
    return bool(
        conn.exec_driver_sql(
            "SELECT count(*) FROM draw_event WHERE session_id = ? AND kind = 'witnesses_fixed'", (session_id,)
        ).scalar()
    )


def add_witness(db: Database, session_id: str, name: str, digits: str, *, operator: str = "") -> Session:
    """Record one witness's name and digits (in the order given)."""
    _require_live(db, session_id, operator)
    with db.write(f"见证人输入：场次 {session_id}") as conn:
        s = load_session(conn, session_id)
        _require(s, COMMITTED, action="录入见证人数字")
        check_text(witnesses=[(name, digits)])
        try:
            w = normalize_witness(name, digits, len(s.witnesses) + 1)
        except DrawInputError as exc:
            raise DrawError(str(exc)) from None
        if not w.name:
            raise DrawError("请填写见证人姓名。")
        if not w.digits:
            raise DrawError(f"请填写见证人“{w.name}”给出的数字。")
        witnesses = [*s.witnesses, w.to_json()]
        _set(conn, s.id, witnesses=json.dumps(witnesses, ensure_ascii=False))
        _event(conn, s.id, "witness", operator, name=w.name, digits=w.digits, position=len(witnesses))
        return load_session(conn, s.id)


def do_reveal(db: Database, session_id: str, *, operator: str = "") -> Session:
    """Reveal the nonce (only now written to the database), compute the seed, the selection and the
    teams. Refused when H(N) differs from the commitment announced at commit."""
    _require_live(db, session_id, operator)
    with gc_paused(), db.write(f"开奖：场次 {session_id}") as conn:
        s = load_session(conn, session_id)
        _require(s, COMMITTED, action="开奖")
        if s.digits < MIN_WITNESS_DIGITS:
            raise DrawError(f"见证人数字共 {s.digits} 位，至少需要 {MIN_WITNESS_DIGITS} 位后才能开奖。")
        setup = _setup(s)
        _check_commitment(s, setup.nonce)
        result = reveal(setup, [(w["name"], w["digits"]) for w in s.witnesses])
        selected = [x.to_json() for x in result.selected]
        _set(conn, s.id, status=REVEALED, nonce=setup.nonce, seed=result.seed,
             result=json.dumps(selected, ensure_ascii=False))  # fmt: skip
        _event(conn, s.id, "reveal", operator, nonce=setup.nonce, seed=result.seed, selected=len(selected))
        out = load_session(conn, s.id)
    _forget(db, s.id)
    _keep_setup((s.id, setup.nonce), setup)
    return out


def _check_commitment(s: Session, nonce: str) -> None:
    """H(N) must equal the commitment stored (and announced) at commit."""
    if not s.commitment or commitment_of(nonce) != s.commitment:
        raise DrawError(
            f"场次 {s.id} 的随机数 N 与抽取前公告的承诺值 C 不符，拒绝开奖（可能被改动过）。请作废本场次后重新抽取。"
        )


def _result(s: Session) -> DrawResult:
    setup = _setup(s)
    ws = normalize_witnesses([(w["name"], w["digits"]) for w in s.witnesses])
    selected = tuple(
        SelectedTarget(
            x["id"], x["stratum"], x["mandatory"], x["ticket"], tuple(x["inspectors"]), tuple(x["experts"])
        )
        for x in s.result
    )
    return DrawResult(setup, ws, s.seed, selected)


# --- records ----------------------------------------------------------------------------------


def _keys_open(db: Database) -> None:
    """Before a write that signs a record, on a server: the bureau's keys opened, the key passphrase
    asked now if they were locked again (30 minutes after their last use), not inside the write,
    where every other workstation's write would wait while a person types."""
    if db.on_server:
        KeyStore(db.data_dir).record_private_key()


def _private_key(db: Database) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = KeyStore(db.data_dir).record_private_key()
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def record_sha256(record: dict[str, Any]) -> str:
    """The hash a later version of a record carries of the earlier one (canonical JSON, signed)."""
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def _substitution_objects(subs: Iterable[dict[str, Any]]) -> list[Substitution]:
    return [
        Substitution(
            x["target"],
            x["removed"],
            x["reason"],
            tuple((k["id"], k["reason"]) for k in x["skipped"]),
            x["substitute"],
            x.get("kind", INSPECTOR),
            x.get("at", ""),
            x.get("operator", ""),
        )
        for x in subs
    ]


_MODIFIED = (
    "场次 {sid} 保存的数据（{what}）与程序写入时不符，可能被程序之外改动过，不能据此签署抽取记录。"
    "请运行“完整性检查”，查明后作废本场次。"
)


def _frozen(conn: Connection, s: Session, *, verify: bool = False) -> tuple[str, EncodedUtf8, str]:
    """The session's stored inputs (task, targets, other: see :mod:`dsj_desktop.db.draw_inputs`), read
    once per step; *verify*: refused unless the row still matches its seal (what the program wrote),
    found out while the step goes on and asked for before its record is stored (:func:`_frozen_verified`).
    The candidates (7 MB at city scale) as their UTF-8, sealed and copied into the record as they are."""
    cached: tuple[str, EncodedUtf8, str] | None = vars(s).get("_frozen_texts")
    if cached is not None and not verify:
        return cached
    rowid = conn.exec_driver_sql("SELECT rowid FROM draw_input WHERE session_id = ?", (s.id,)).scalar()
    read = guard_mod.sealed_row_later if verify else guard_mod.sealed_row
    rid = None if rowid is None else int(rowid)
    found = read(conn, guard_of(conn), "draw_input", rid, utf8=("targets",)) if rid is not None else None
    if found is None or rid is None:
        raise DrawError(f"场次 {s.id} 的抽取输入缺失（数据库可能被程序之外改动），请运行完整性检查。")
    values, matches = found
    if verify:  # (its seal compared in a thread meanwhile)
        vars(s)["_frozen_matches"] = matches
    targets = values["targets"]
    if type(targets) is bytes:  # its length in characters known if this program wrote them, else
        # counted only if a journal line shows it
        chars = guard_mod.long_text_chars(guard_of(conn), "draw_input", rid, "targets")
        candidates = EncodedUtf8(targets, chars)
    else:
        candidates = EncodedUtf8(str(targets).encode("utf-8"), len(str(targets)))
    texts = (str(values["task"]), candidates, str(values["other"]))
    vars(s)["_frozen_texts"] = texts
    vars(s).pop("_frozen_other", None)  # (decoded again from these texts when asked)
    return texts


def _frozen_verified(s: Session) -> None:
    """Refused unless the inputs read by ``_frozen(verify=True)`` match their seal (waits for the
    comparison; nothing to wait for once asked, or without it)."""
    matches = vars(s).pop("_frozen_matches", None)
    if matches is not None and not matches():
        raise DrawError(_MODIFIED.format(sid=s.id, what=guard_mod.table_title("draw_input")))


def _frozen_other(conn: Connection, s: Session) -> dict[str, Any]:
    """The ``other`` inputs of :func:`_frozen` decoded, once per step (names, people, exclusions…)."""
    parsed: dict[str, Any] | None = vars(s).get("_frozen_other")
    if parsed is None:
        parsed = vars(s)["_frozen_other"] = dict(json.loads(_frozen(conn, s)[2]))
    return parsed


def _source_rows_verify(conn: Connection, s: Session, *, wait: bool = True) -> None:
    """Before a binding record is signed: the rows it is made from — the session's (its witnesses,
    seed and selection as the reveal stored them), its frozen inputs and its current record — still
    match their seals, i.e. hold what the program wrote. (Much cheaper than verifying the new record
    in full, which repeats the whole draw; ``check`` does that for every stored record.) Not *wait*:
    the frozen inputs' seal (9 MB hashed) is compared in a thread while the step goes on (on a server,
    for inputs this program wrote, by the server: the caller leaves the connection alone meanwhile);
    the record is not stored, nor anything written or refused for another reason, before
    :func:`_frozen_verified` says so."""
    guard = guard_of(conn)
    sources = [("draw_session", "SELECT rowid FROM draw_session WHERE id = ?")]
    if s.record_version:
        sources.append(
            (
                "draw_record",
                f"SELECT rowid FROM draw_record WHERE session_id = ? AND version = {s.record_version:d}",
            )
        )
    for table, sql in sources:
        rowids = [int(r[0]) for r in conn.exec_driver_sql(sql, (s.id,))]
        if not rowids or guard_mod.unverified_rows(conn, guard, table, rowids):
            raise DrawError(_MODIFIED.format(sid=s.id, what=guard_mod.table_title(table)))
    _frozen(conn, s, verify=True)
    if wait:
        _frozen_verified(s)


@dataclass
class _Signed:
    """A record version made and signed, not yet stored (:func:`_sign_record`)."""

    version: int
    signed: SignedUtf8
    # The session's frozen candidates as draw_input holds them (UTF-8): the record's copy of them is
    # not stored again (draw_inputs.record_without_candidates).
    targets: bytes | None = None


def _write_record(
    db: Database,
    conn: Connection,
    s: Session,
    draw: DrawResult | DrawSetup,
    *,
    status: str,
    void_reason: str | None = None,
    substitutions: Sequence[Substitution] = (),
    disclose_nonce: str | None = None,
) -> tuple[int, str]:
    """Sign and store the session's next record version; returns (its version, its digest, see
    :func:`record_sha256`). The record is stored once, in draw_record, as its canonical JSON (so its
    digest is the SHA-256 of the stored text); the session row only names the version."""
    _frozen_verified(s)  # the inputs the record copies hold what the program wrote
    made = _sign_record(db, conn, s, draw, status=status, void_reason=void_reason,
                        substitutions=substitutions, disclose_nonce=disclose_nonce)  # fmt: skip
    return made.version, _store_record(conn, s, made)


def _sign_record(
    db: Database,
    conn: Connection,
    s: Session,
    draw: DrawResult | DrawSetup,
    *,
    status: str,
    void_reason: str | None = None,
    substitutions: Sequence[Substitution] = (),
    disclose_nonce: str | None = None,
    head: tuple[int, str] | None = None,
) -> _Signed:
    """The session's next record version made and signed (:func:`_write_record`), nothing written
    (its signature checked as it is stored). *head*: the journal's head (id, hash) if read already
    (the connection is then not used for it)."""
    superseded = None
    if s.record_version:  # the digest of the version this one supersedes, as stored with it
        superseded = conn.exec_driver_sql(
            "SELECT sha256 FROM draw_record WHERE session_id = ? AND version = ?", (s.id, s.record_version)
        ).scalar_one()
    task_text, candidates, _ = _frozen(conn, s)
    inp = _frozen_other(conn, s)
    record = build_record(
        draw,
        commitment=s.commitment,  # as announced, never recomputed from the nonce
        status=status,
        void_reason=void_reason,
        task=json.loads(task_text),
        target_names=inp["mandatory_names"],
        inspector_names={i[0]: i[1] for i in inp["inspectors"]},
        inspector_units={i[0]: i[2] for i in inp["inspectors"]},
        expert_names={e[0]: e[1] for e in inp["experts"]},
        mandatory_reasons=inp["mandatory_reasons"],
        witnesses=[(w["name"], w["digits"]) for w in s.witnesses],
        substitutions=substitutions,
        exclusions=[(e[0], e[1]) for e in inp["exclusions"]],
        previous=[PreviousAttempt(**p) for p in inp["previous"]],
        targets_json=candidates,  # the candidates' canonical JSON, made once at prepare
    )
    targets = candidates.data
    del candidates
    vars(s).pop("_frozen_texts", None)
    vars(s).pop("_frozen_other", None)
    if disclose_nonce is not None and record.get("nonce") is None:
        # A session voided before its reveal still discloses its nonce, so anyone can see what it
        # would have drawn: voiding can never hide an unwelcome result.
        _check_commitment(s, disclose_nonce)
        record["nonce"] = disclose_nonce
    version = s.record_version + 1
    record["version"] = version
    if superseded is not None:
        record["supersedes"] = {"version": s.record_version, "sha256": superseded}
    # Binds the PDF signature to the record key: one published fingerprint pins both.
    record["pdf_key_fingerprint"] = KeyStore(db.data_dir).pdf_public_key_fingerprint()
    # The journal's head when the record was signed: a copy of the record kept elsewhere shows
    # whether the journal up to that entry was later cut or rewritten (``check`` compares them).
    seq, head_hash = head if head is not None else guard_mod.journal_head(conn)[:2]
    record["journal_head"] = {"seq": seq, "hash": head_hash}
    # Encoded to UTF-8 once: the signature, the digest, the row, its seal and its journal line all use
    # these bytes.
    signed = sign_utf8(record, _private_key(db))
    del record
    return _Signed(version, signed, targets)


def _store_record(conn: Connection, s: Session, made: _Signed) -> str:
    """Store a record version made by :func:`_sign_record`; returns its digest. Its signature is
    checked while the row is stored (raising, it rolls the write back)."""
    guard = guard_of(conn)
    version, signed = made.version, made.signed
    digest = signed.sha256
    # Its candidates (10 MB at city scale) are the session's frozen ones, stored once in draw_input:
    # the row holds the rest of the record (a few hundred kB at most), and where the candidates go back.
    cut = None
    if made.targets is not None and "targets" in signed.spans:
        cut = draw_inputs.record_without_candidates(signed.data, signed.spans["targets"], made.targets)
    row = {"session_id": s.id, "version": version, "sha256": digest, "created_at": now_iso(),
           "targets_at": None if cut is None else cut[1]}  # fmt: skip
    # Stored whole, its 9 MB are copied from the WAL into the file by a thread after the COMMIT: the
    # people watching a confirmation wait for the COMMIT, not for the copy.
    data, chars, sha256_hex = (signed.data, signed.chars, digest) if cut is None else (cut[0], None, None)
    guard_mod.insert_text_row(conn, guard, "draw_record", row, "record", data, chars, sha256_hex,
                              checkpoint_later=cut is None, remember=False, meanwhile=signed.checked)  # fmt: skip
    guard_mod.forget_long_row(guard)  # (the frozen inputs a record copies, kept since prepare)
    _set(conn, s.id, record_version=version)
    s.record_version = version
    for cached in ("record", "record_json", "substitutions"):
        vars(s).pop(cached, None)
    return digest


# --- confirm, void ----------------------------------------------------------------------------


def _recheck(conn: Connection, s: Session) -> list[str]:
    """Confirmations made since this session was prepared must not make it break the rules."""
    task = plan_service.get_task(conn, s.task_code)
    rules = plan_service.load_rules(conn)
    drawn = {x["id"] for x in s.result}
    history = [p for p in plan_service.confirmed_history(conn, s.draw_date.year) if p.uscc in drawn]
    if not history:
        return []
    items = plan_service.items_of(conn, task.item_codes)
    scope: Scope = plan_service.scope_of(task, items)
    rows = plan_service.load_targets(conn, scope, usccs=drawn)  # the drawn ones only, in directory order
    pool = compute_pool(rows, scope, task.ratio, rules, history, s.draw_date)
    return [f"{e.name}（{e.uscc}）：{e.reason}" for e in pool.exclusions]


def _drawn_names(conn: Connection, s: Session) -> dict[str, str]:
    """The frozen names of the session's drawn targets (not of all its candidates)."""
    _, candidates, _ = _frozen(conn, s)
    names = dict(_frozen_other(conn, s).get("mandatory_names", {}))
    # The mandatory ones are named already (and not sought among the candidates, where they are not).
    names.update(draw_inputs.names_of(candidates.data, [x["id"] for x in s.result if x["id"] not in names]))
    return names


_SELECTION_COLUMNS = ("session_id", "uscc", "position", "stratum", "ticket", "mandatory", "name")
_MEMBER_COLUMNS = ("session_id", "uscc", "role", "person_code", "position")


def confirm(db: Database, session_id: str, *, operator: str = "") -> Session:
    """Make the result binding: the targets now count towards the cycle and the yearly cap."""
    # The collector paused, as in prepare and the reveal: the tens of thousands of objects made here
    # (the record's members, the rows) set off collections that walk all the process holds (~7 ms).
    _keys_open(db)
    with gc_paused(), db.write(f"确认抽取结果：场次 {session_id}") as conn:
        s = load_session(conn, session_id)
        _require(s, REVEALED, action="确认")
        head = guard_mod.journal_head(conn)[:2]  # (for the record, read before the connection is lent)
        # The inputs' seal compared meanwhile (on a server, by the server, while the record is made and
        # signed here: nothing written, nor the connection used, before that comparison is asked for).
        _source_rows_verify(conn, s, wait=False)
        names = _drawn_names(conn, s)
        made = _sign_record(db, conn, s, _result(s), status=CONFIRMED, head=head)
        _frozen_verified(s)  # (an input changed outside the program is said first)
        clash = _recheck(conn, s)
        if clash:
            raise DrawError(
                "抽取准备之后，另有场次确认了其中的检查对象，本场次已不符合抽取规则，请作废后重新抽取：\n"
                + "\n".join(f"· {c}" for c in clash)
            )
        sel_rows, member_rows = [], []
        for pos, x in enumerate(s.result, start=1):
            sel_rows.append((s.id, x["id"], pos, x["stratum"] or "", x["ticket"], int(x["mandatory"]),
                             names.get(x["id"], "")))  # fmt: skip
            for role in (INSPECTOR, EXPERT):
                for j, p in enumerate(x[role + "s"], start=1):
                    member_rows.append((s.id, x["id"], role, p, j))
        # Some 2,000 rows at city scale: sealed and journalled as the row triggers would, in one pass.
        guard = guard_of(conn)
        guard_mod.insert_rows(conn, guard, "draw_selection", _SELECTION_COLUMNS, sel_rows, {})
        guard_mod.insert_rows(conn, guard, "draw_member", _MEMBER_COLUMNS, member_rows,
                              {"active": 1, "replaced_by": ""}, (str, str, str, str, int))  # fmt: skip
        _set(conn, s.id, status=CONFIRMED)
        s.status = CONFIRMED
        digest = _store_record(conn, s, made)
        del made
        _event(conn, s.id, "confirm", operator, selected=len(s.result), record_sha256=digest)
        return load_session(conn, s.id)


def void(db: Database, session_id: str, reason: str, *, operator: str = "") -> Session:
    """Void a session at any point, with a reason. It stays in the database forever."""
    reason = reason.strip()
    if not reason:
        raise DrawError("作废必须写明原因。")
    _keys_open(db)
    with db.write(f"作废抽取场次：{session_id}") as conn:
        s = load_session(conn, session_id)
        _require(s, PREPARED, COMMITTED, REVEALED, CONFIRMED, action="作废")
        was = s.status
        live = _LIVE.get(s.id)
        _set(conn, s.id, status=VOIDED, void_reason=reason)
        s.status, s.void_reason = VOIDED, reason
        digest = None
        if was in (REVEALED, CONFIRMED):
            subs = _substitution_objects(s.substitutions)
            _, digest = _write_record(
                db, conn, s, _result(s), status=VOIDED, void_reason=reason, substitutions=subs
            )
        elif was == COMMITTED and live is not None and commitment_of(live.setup.nonce) == s.commitment:
            setup = live.setup
            draw: DrawResult | DrawSetup = setup
            if s.digits >= MIN_WITNESS_DIGITS:
                draw = reveal(setup, [(w["name"], w["digits"]) for w in s.witnesses])
            _set(conn, s.id, nonce=setup.nonce)  # disclosed by the void: public from now on
            _, digest = _write_record(
                db, conn, s, draw, status=VOIDED, void_reason=reason, disclose_nonce=setup.nonce
            )
        elif was == COMMITTED:  # the nonce is gone (开奖前中断) or not the announced one: commitment only
            throwaway = _frozen_setup(s, new_nonce())  # for the frozen lists and hashes; its nonce is unused
            _, digest = _write_record(db, conn, s, throwaway, status=VOIDED, void_reason=reason)
        if was == CONFIRMED:
            conn.exec_driver_sql("UPDATE draw_member SET active = 0 WHERE session_id = ?", (s.id,))
        _event(conn, s.id, "void", operator, reason=reason, was=was,
               record_sha256=digest)  # fmt: skip
        out = load_session(conn, s.id)
    _forget(db, s.id)
    _drop_setups(s.id)
    return out


# --- substitution (递补) ----------------------------------------------------------------------


def substitute(
    db: Database,
    session_id: str,
    target: str,
    removed: str,
    reason: str,
    *,
    unavailable: Sequence[tuple[str, str]] = (),
    kind: str = INSPECTOR,
    operator: str = "",
) -> Substitution:
    """Replace a team member who cannot serve (section 6); a new signed record version follows."""
    if not reason.strip():
        raise DrawError("递补必须写明原因。")
    _keys_open(db)
    with db.write(f"递补：场次 {session_id}") as conn:
        s = load_session(conn, session_id)
        _require(s, CONFIRMED, action="递补")
        _source_rows_verify(conn, s)
        result = _result(s)
        setup = result.setup
        subst = Substituter(result.seed, setup.inspectors, setup.experts, setup.parsed, result.selected)
        done = _substitution_objects(s.substitutions)
        for d in done:
            subst.apply(
                SubstitutionRequest(d.target, d.removed, d.reason, d.skipped, d.kind, d.at, d.operator)
            )
        req = SubstitutionRequest(target.strip().upper(), removed.strip(), reason.strip(),
                                  tuple((i.strip(), r.strip()) for i, r in unavailable), kind,  # type: ignore[arg-type]
                                  now_iso(), operator)  # fmt: skip
        try:
            new = subst.apply(req)
        except DrawInputError as exc:
            raise DrawError(str(exc)) from None
        conn.exec_driver_sql(
            "UPDATE draw_member SET active = 0, replaced_by = ? "
            "WHERE session_id = ? AND uscc = ? AND role = ? AND person_code = ? AND active = 1",
            (new.substitute, s.id, new.target, kind, new.removed),
        )
        pos = conn.exec_driver_sql(
            "SELECT position FROM draw_member WHERE session_id = ? AND uscc = ? AND role = ? AND person_code = ? "
            "ORDER BY id DESC LIMIT 1",
            (s.id, new.target, kind, new.removed),
        ).scalar_one()
        conn.exec_driver_sql(
            "INSERT INTO draw_member (session_id, uscc, role, person_code, position, active, replaced_by) "
            "VALUES (?, ?, ?, ?, ?, 1, '')",
            (s.id, new.target, kind, new.substitute, pos),
        )
        version, digest = _write_record(db, conn, s, result, status=CONFIRMED, substitutions=[*done, new])
        _event(conn, s.id, "substitute", operator, **new.to_json(), record_version=version,
               record_sha256=digest)  # fmt: skip
        return new


def record_versions(conn: Connection, session_id: str) -> list[tuple[int, str, dict[str, Any]]]:
    """Every version of the session's signed record: (version, digest, record)."""
    versions = conn.exec_driver_sql(
        "SELECT version, sha256 FROM draw_record WHERE session_id = ? ORDER BY version", (session_id,)
    ).all()
    out = []
    for version, digest in versions:  # (one at a time: each may take 10 MB)
        row = conn.exec_driver_sql(draw_inputs.RECORD_SQL, (session_id, version)).one()
        out.append((int(version), str(digest), json.loads(_record_text(session_id, row))))
    return out


def _record_text(session_id: str, row: Any) -> str:
    """A record version's text from its row (:data:`draw_inputs.RECORD_SQL`)."""
    try:
        return draw_inputs.record_with_candidates(str(row[0]), row[1], row[2])
    except ValueError:
        raise DrawError(
            f"场次 {session_id} 的签名记录与其抽取输入对不上（数据库可能被程序之外改动），请运行完整性检查。"
        ) from None


def witness_list(pairs: Iterable[str]) -> list[Witness]:
    """``NAME=DIGITS`` strings from the command line."""
    out = []
    for p in pairs:
        if "=" not in p:
            raise DrawError(f"见证人“{p}”的格式应为 姓名=数字，例如 张三=31415926")
        name, digits = p.split("=", 1)
        out.append(Witness(name.strip(), digits.strip()))
    return out
