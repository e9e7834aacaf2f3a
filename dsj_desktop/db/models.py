"""The tables. Field names are English; their Chinese names live in :mod:`dsj_desktop.domain.specs`.

Rows referenced by a draw are never deleted: directories are *archived* instead.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import DDL, ForeignKeyConstraint, Index, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from dsj_desktop.clock import now_iso


class Setting(SQLModel, table=True):
    """Key/value settings stored in the database (JSON text values)."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True)
    value: str


class CodeValue(SQLModel, table=True):
    """Editable code lists (行业领域, 所属区域)."""

    __tablename__ = "code_value"
    __table_args__ = (UniqueConstraint("list_name", "value"),)
    id: int | None = Field(default=None, primary_key=True)
    list_name: str = Field(index=True)
    value: str
    sort_order: int = 0


class Target(SQLModel, table=True):
    """检查对象名录库."""

    __tablename__ = "target"
    # One composite index serves the region and region + industry filters; every further index
    # slows a 100,000-row import and a full scan of 100,000 rows takes milliseconds anyway.
    __table_args__ = (Index("ix_target_region_industry", "region", "industry"),)
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(unique=True)
    name: str
    industry: str
    region: str
    affiliation: str = ""
    scale: str = ""
    risk_level: str
    std_level: str = ""
    blacklist: bool = False
    major_hazard: bool = False
    dust_explosion: bool = False
    confined_space: bool = False
    ammonia_refrigeration: bool = False
    occupational_hazard: bool = False
    address: str = ""
    legal_rep: str = ""
    contact: str = ""
    phone: str = ""
    status: str = "存续"
    archived: bool = False
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class Inspector(SQLModel, table=True):
    """执法检查人员名录库."""

    __tablename__ = "inspector"
    id: int | None = Field(default=None, primary_key=True)
    cert_no: str = Field(unique=True)
    name: str = Field(index=True)
    department: str = ""
    cert_valid_until: date
    specialties: str = ""
    duty_status: str = "在岗"
    phone: str = ""
    archived: bool = False
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class Expert(SQLModel, table=True):
    """专家库."""

    __tablename__ = "expert"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    name: str = Field(index=True)
    field: str = ""
    employer: str = ""
    title: str = ""
    phone: str = ""
    archived: bool = False
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class Conflict(SQLModel, table=True):
    """回避关系: a person (执法证号 or 专家编号) who must never inspect a target."""

    __tablename__ = "conflict"
    __table_args__ = (UniqueConstraint("person_code", "uscc"),)
    id: int | None = Field(default=None, primary_key=True)
    person_code: str = Field(index=True)
    uscc: str = Field(index=True)
    reason: str = ""
    archived: bool = False
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class Item(SQLModel, table=True):
    """抽查事项清单: one spot-check item. Items are never deleted: a retired item (停用) is archived."""

    __tablename__ = "item"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    name: str
    category: str = "一般"
    basis: str = ""
    subject: str = ""
    industries: str = ""  # 抽查对象: 行业领域 joined by 、; empty: every industry
    content: str = ""
    method: str = ""
    ratio: str = ""
    frequency: str = ""
    inspector_req: str = ""  # 检查人员要求 as written (see domain/staffing.py); empty: any valid inspector
    remark: str = ""
    year: int
    archived: bool = False
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class Plan(SQLModel, table=True):
    """年度抽查计划."""

    __tablename__ = "plan"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    name: str
    year: int
    department: str = ""
    archived: bool = False
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class Task(SQLModel, table=True):
    """抽查任务: everything a draw needs."""

    __tablename__ = "task"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    code: str = Field(unique=True)
    name: str
    draw_type: str  # 定向 / 不定向
    items: str  # item codes joined by 、 (also linked in task_item)
    industries: str = ""
    regions: str = ""
    conditions: str = ""  # flags such as 重大危险源、黑名单
    ratio: str  # canonical text, e.g. 5% / 20家 / 重大:100%;较大:30%
    ratio_spec: str  # JSON, exact: {"kind": "rate", "bp": 500} ...
    team_size: int = 2
    expert_count: int = 0
    department: str = ""
    partners: str = ""  # 联合部门 joined by 、
    start_date: date
    end_date: date
    scope_note: str = ""
    archived: bool = False
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class TaskItem(SQLModel, table=True):
    __tablename__ = "task_item"
    task_id: int = Field(foreign_key="task.id", primary_key=True)
    item_id: int = Field(foreign_key="item.id", primary_key=True, index=True)


class DrawSession(SQLModel, table=True):
    """One attempt at drawing a task (抽取场次). Never deleted, never reused; every transition is an event."""

    __tablename__ = "draw_session"
    id: str = Field(primary_key=True)  # S-2026-0007-K3F9
    task_id: int = Field(foreign_key="task.id", index=True)
    task_code: str
    status: str  # prepared / committed / witnessed / revealed / confirmed / voided
    draw_date: date  # eligibility, cycle and yearly cap are judged on this day
    place: str = ""
    operator: str = ""
    hashes: str = ""  # JSON {targets, inspectors, experts, params}
    commitment: str = ""
    nonce: str = ""  # empty until the reveal: N lives only in the running program's memory before (spec §3.4)
    witnesses: str = "[]"  # JSON [{name, digits}]
    seed: str = ""
    result: str = ""  # JSON: selected, in assignment order (the teams as drawn)
    void_reason: str = ""
    record_version: int = 0  # the current version of its signed record (draw_record); 0: none yet
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class DrawInput(SQLModel, table=True):
    """A session's inputs, frozen at prepare, in a row written once (see :mod:`dsj_desktop.db.draw_inputs`)."""

    __tablename__ = "draw_input"
    session_id: str = Field(foreign_key="draw_session.id", primary_key=True)
    task: str  # JSON of the task as drawn
    targets: str  # the canonical JSON of the record's ``targets`` member (every version copies it)
    other: str  # JSON: people, params, exclusions, strata, previous attempts…
    created_at: str = Field(default_factory=now_iso)


class DrawEvent(SQLModel, table=True):
    """The trace of a session: every transition with its time, operator and details."""

    __tablename__ = "draw_event"
    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(foreign_key="draw_session.id", index=True)
    at: str = Field(default_factory=now_iso)
    operator: str = ""
    kind: str  # prepare / commit / witnesses_fixed / witness / reveal / confirm / void / substitute / record
    detail: str = "{}"  # JSON


class DrawSelection(SQLModel, table=True):
    """A confirmed drawn target (rows appear at confirmation; voided sessions keep theirs but stop counting)."""

    __tablename__ = "draw_selection"
    session_id: str = Field(foreign_key="draw_session.id", primary_key=True)
    uscc: str = Field(primary_key=True, index=True)
    position: int  # assignment order, from 1
    stratum: str = ""
    ticket: str
    mandatory: bool = False
    name: str = ""


class DrawMember(SQLModel, table=True):
    """Who inspects a drawn target now: the team as drawn, then as changed by substitutions."""

    __tablename__ = "draw_member"
    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(foreign_key="draw_session.id", index=True)
    uscc: str
    role: str  # inspector / expert
    person_code: str
    position: int
    active: bool = True
    replaced_by: str = ""


class DrawRecordVersion(SQLModel, table=True):
    """Every signed version of a session's record (a substitution makes a new one that keeps the old hash)."""

    __tablename__ = "draw_record"
    session_id: str = Field(foreign_key="draw_session.id", primary_key=True)
    version: int = Field(primary_key=True)
    sha256: str
    record: str  # JSON, signed (its candidates as null where targets_at says: db/draw_inputs.py)
    created_at: str = Field(default_factory=now_iso)
    # Schema 8: where (in characters) *record* has null for the session's frozen candidates
    # (draw_input.targets, the same text); None: *record* is the whole record.
    targets_at: int | None = None


class Account(SQLModel, table=True):
    """An operator account (管理员 / 操作员 / 查看). Passwords only as memory-hard hashes."""

    __tablename__ = "account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True)
    display_name: str
    role: str
    password_hash: str
    recovery_hash: str = ""  # administrators: the hash of the offline recovery code
    failed_count: int = 0
    locked_until: str = ""
    active: bool = True
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class JournalEntry(SQLModel, table=True):
    """操作日志: one entry per change, chained by hash and signed with the bureau's key."""

    __tablename__ = "journal"
    id: int | None = Field(default=None, primary_key=True)
    at: str
    actor: str
    action: str
    detail: str  # JSON
    prev_hash: str
    hash: str
    signature: str


class RowSeal(SQLModel, table=True):
    """The keyed seal of every data row, kept by triggers (see dsj_desktop.db.guard)."""

    __tablename__ = "row_seal"
    __table_args__ = {"sqlite_with_rowid": False}
    tbl: str = Field(primary_key=True)
    row_id: int = Field(primary_key=True)
    seal: bytes


# --- schema v5: inspection results, publication, holiday arrangements -------------------------


class InspectionResult(SQLModel, table=True):
    """The current state of one drawn target's inspection (检查结果). Every saved state is also kept,
    whole, in :class:`ResultVersion`; a correction never loses the earlier values."""

    __tablename__ = "inspection_result"
    __table_args__ = (
        UniqueConstraint("session_id", "uscc"),
        ForeignKeyConstraint(
            ["session_id", "uscc"], ["draw_selection.session_id", "draw_selection.uscc"]
        ),  # only a target drawn in that session can have a result
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: str
    uscc: str
    task_code: str = Field(index=True)
    inspected_on: date | None = None  # None: not inspected yet (待检查)
    inspectors: str = "[]"  # JSON [[code, name], ...]: who actually went
    method: str = ""
    category: str = ""  # '' until the result is entered (已检查待录入)
    hazards: int = 0
    rectify_by: date | None = None
    disposal: str = ""
    remarks: str = ""
    items: str = "[]"  # JSON [{code, name, checked, problem, disposal}]
    version: int = 0
    entered_by: str = ""  # of the current version
    entered_at: str = ""
    first_entered_at: str = ""  # when a result category was first saved: decides 逾期录入
    published_version: int = 0  # the version that was last published (0: never)
    published_at: str = ""
    published_by: str = ""
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class ResultVersion(SQLModel, table=True):
    """Every saved state of a result, with who, when and why (append-only)."""

    __tablename__ = "result_version"
    result_id: int = Field(foreign_key="inspection_result.id", primary_key=True)
    version: int = Field(primary_key=True)
    data: str  # JSON: the values of that version
    changed_by: str = ""
    changed_at: str = Field(default_factory=now_iso)
    reason: str = ""


class Publication(SQLModel, table=True):
    """One publication (公示) of results: per task or per period, with the files written."""

    __tablename__ = "publication"
    id: int | None = Field(default=None, primary_key=True)
    scope: str  # task / period
    task_code: str = ""
    period_from: date | None = None
    period_to: date | None = None
    title: str
    rows: int
    files: str = "[]"  # JSON [{name, sha256}]
    published_by: str = ""
    published_at: str = Field(default_factory=now_iso)


class PublicationItem(SQLModel, table=True):
    """Which version of which result a publication carried."""

    __tablename__ = "publication_item"
    publication_id: int = Field(foreign_key="publication.id", primary_key=True)
    result_id: int = Field(foreign_key="inspection_result.id", primary_key=True, index=True)
    version: int


class HolidayYear(SQLModel, table=True):
    """A year's official holiday arrangement entered by the operator (years the bundled calendar
    does not cover)."""

    __tablename__ = "holiday_year"
    year: int = Field(primary_key=True)
    note: str = ""
    entered_by: str = ""
    entered_at: str = Field(default_factory=now_iso)


class HolidayDay(SQLModel, table=True):
    """One day of an entered arrangement: 放假 (holiday) or 调休上班 (workday)."""

    __tablename__ = "holiday_day"
    day: date = Field(primary_key=True)
    year: int = Field(foreign_key="holiday_year.year", index=True)
    kind: str  # holiday / workday
    name: str = ""


def _protect_all() -> None:
    """Rows tied to a draw are kept at least five years: SQLite itself refuses to delete them."""
    from dsj_desktop.db.migrations import PROTECTED_TABLES, protect_triggers

    tables = SQLModel.metadata.tables
    for name, append_only in PROTECTED_TABLES:
        for ddl in protect_triggers(name, append_only=append_only):
            # (on PostgreSQL the guard installs their equivalents: dsj_desktop.db.pg.keep_trigger)
            event.listen(tables[name], "after_create", DDL(ddl).execute_if(dialect="sqlite"))  # type: ignore[no-untyped-call]


_protect_all()
