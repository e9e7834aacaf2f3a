"""What the plan tab and the publications show about plans and tasks: plain summaries of each task's
scope and ratio, and a compact summary of its live pool (computed as a job, one task at a time)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection

from dsj_desktop.clock import today
from dsj_desktop.db.engine import Database
from dsj_desktop.domain import codelists
from dsj_desktop.domain.pool import STRATUM_JOIN, UNDIRECTED, Exclusion
from dsj_desktop.domain.ratio import Ratio, format_bp
from dsj_desktop.domain.specs import RISK_LEVELS
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services.plan import ItemInfo, TaskInfo, TaskPool, get_task, items_of, list_tasks, task_pool
from dsj_desktop.services.sessions import confirmed_sessions

ALL_STRATUM = "全部"


@dataclass(frozen=True)
class PlanInfo:
    id: int
    code: str
    name: str
    year: int
    department: str
    archived: bool
    tasks: int  # tasks not archived

    def label(self) -> str:
        return f"{self.year}年 {self.code} {self.name}"


def list_plans(conn: Connection, *, include_archived: bool = False) -> list[PlanInfo]:
    """The plans, newest year first."""
    where = "" if include_archived else "WHERE p.archived = 0"
    rows = conn.exec_driver_sql(
        "SELECT p.id, p.code, p.name, p.year, p.department, p.archived, "
        "(SELECT count(*) FROM task t WHERE t.plan_id = p.id AND t.archived = 0) "
        f"FROM plan p {where} ORDER BY p.year DESC, p.code"
    )
    return [PlanInfo(r[0], r[1], r[2], int(r[3]), r[4] or "", bool(r[5]), int(r[6])) for r in rows]


def read_plans(db: Database, *, include_archived: bool = False) -> list[PlanInfo]:
    with db.read() as conn:
        return list_plans(conn, include_archived=include_archived)


@dataclass(frozen=True)
class TaskFormChoices:
    """What the task form offers: the code lists, every plan (archived too) and the items in use."""

    codes: dict[str, list[str]]
    plans: list[PlanInfo]
    items: list[tuple[str, str]]  # (code, name) of the items not archived, by code


def task_form_choices(db: Database) -> TaskFormChoices:
    with db.read() as conn:
        codes = codelists.all_lists(conn)
        plans = list_plans(conn, include_archived=True)
        items = conn.exec_driver_sql("SELECT code, name FROM item WHERE archived = 0 ORDER BY code").all()
    return TaskFormChoices(codes, plans, [(str(c), str(n)) for c, n in items])


def ratio_label(ratio: Ratio, *, multiline: bool = False) -> str:
    """A ratio as a person reads it: 5%, 20家, or 按风险等级：重大100%，较大30%，… (one tier a line
    when *multiline*)."""
    if ratio.kind == "tiers":
        tiers = [f"{level}{format_bp(bp)}" for level, bp in ratio.tiers]
        return "按风险等级：\n" + "\n".join(tiers) if multiline else "按风险等级：" + "，".join(tiers)
    return ratio.text()


def item_industries(items: Sequence[ItemInfo]) -> tuple[str, ...] | None:
    """The union of the items' 抽查对象 (行业领域); ``None`` when any item is for every industry."""
    out: dict[str, None] = {}
    for it in items:
        if not it.industries:
            return None
        out.update(dict.fromkeys(it.industries))
    return tuple(out) if items else None


def scope_summary(task: TaskInfo, items: Sequence[ItemInfo]) -> str:
    """Who a task inspects, in one line: the draw type's reach, 行业领域, 所属区域, 对象条件."""
    bound = item_industries(items)
    parts: list[str] = []
    if task.draw_type == UNDIRECTED:
        parts.append("全部检查对象，按所属区域均衡抽取")
        if bound is not None:
            parts.append("行业领域：" + "、".join(bound))
    else:
        industries = task.industries or bound
        parts.append("行业领域：" + ("、".join(industries) if industries else "不限"))
        if task.regions:
            parts.append("所属区域：" + "、".join(task.regions))
        if task.conditions:
            parts.append(
                "对象条件："
                + "、".join(task.conditions)
                + ("（符合其一）" if len(task.conditions) > 1 else "")
            )
    return "；".join(parts)


def item_names(items: Sequence[ItemInfo], codes: Sequence[str]) -> list[str]:
    """The items' names in the task's order (a code not in the list stays a code)."""
    by_code = {it.code: it.name for it in items}
    return [by_code.get(c, c) for c in codes]


@dataclass(frozen=True)
class TaskRow:
    """A task with its items, as the plan tab and the publications list it."""

    task: TaskInfo
    items: tuple[ItemInfo, ...]

    @property
    def item_names(self) -> list[str]:
        return item_names(self.items, self.task.item_codes)

    @property
    def scope(self) -> str:
        return scope_summary(self.task, self.items)

    @property
    def ratio(self) -> str:
        return ratio_label(self.task.ratio)


def task_rows(
    conn: Connection, *, plan_id: int | None = None, include_archived: bool = False
) -> list[TaskRow]:
    tasks = list_tasks(conn, include_archived=include_archived, plan_id=plan_id)
    codes = tuple(dict.fromkeys(c for t in tasks for c in t.item_codes))
    by_code = {it.code: it for it in items_of(conn, codes)}
    return [TaskRow(t, tuple(by_code[c] for c in t.item_codes if c in by_code)) for t in tasks]


def read_task_rows(
    db: Database, *, plan_id: int | None = None, include_archived: bool = False
) -> list[TaskRow]:
    with db.read() as conn:
        return task_rows(conn, plan_id=plan_id, include_archived=include_archived)


# --- pool summaries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stratum:
    label: str  # 全部 / 城关镇 / 较大 / 较大·城关镇
    size: int  # candidates
    quota: int  # to draw


@dataclass(frozen=True)
class PoolSummary:
    """A task's pool in numbers and short lists, small enough to keep for every task on screen."""

    task_code: str
    on: date
    in_scope: int
    candidates: int
    sample: int  # drawn at random from the candidates
    mandatory: tuple[tuple[str, str], ...]  # 黑名单 inspected at 100 %: (统一社会信用代码, 企业名称)
    strata: tuple[Stratum, ...]
    exclusions: tuple[Exclusion, ...]
    inspectors_eligible: int
    inspectors_total: int
    inspector_req: tuple[str, ...]
    experts: int
    expert_count: int  # per group, from the task
    team_size: int
    partners: tuple[str, ...]
    rules: tuple[str, ...]  # Rules.describe()
    problems: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    drawn: tuple[str, ...] = field(default=())  # confirmed sessions: drawing again needs a reason
    period: str = ""  # on a day outside the task's period: what that means for a draw (see period_state)
    # (item code, what its 检查人员要求 was read as)
    staffing: tuple[tuple[str, str], ...] = field(default=())

    @property
    def to_inspect(self) -> int:
        """The implied number of units inspected: the sample plus the mandatory 黑名单 units."""
        return self.sample + len(self.mandatory)

    @property
    def ok(self) -> bool:
        return not self.problems


PERIOD_ENDED, PERIOD_AHEAD = "期限已过", "期限未到"
PERIOD_REASON = "抽取须写明原因"


def period_word(task: TaskInfo, on: date) -> str:
    """期限已过 or 期限未到 when *on* lies outside the task's 检查期限, else empty."""
    return PERIOD_ENDED if on > task.end_date else PERIOD_AHEAD if on < task.start_date else ""


def period_state(task: TaskInfo, on: date) -> str:
    """How *on* stands to the task's 检查期限, for the plan and draw tabs: empty within the period;
    outside it a draw needs a written reason (sessions.prepare refuses one without, the draw tab then
    asks for it, the command line wants --outside-period), which the record prints."""
    word = period_word(task, on)
    if not word:
        return ""
    when = (
        f"{task.end_date.isoformat()} 截止" if word == PERIOD_ENDED else f"{task.start_date.isoformat()} 开始"
    )
    return f"{word}（{when}），{PERIOD_REASON}"


def _stratum_order(label: str) -> tuple[int, bytes]:
    """Risk tiers from 重大 to 低, then regions by UTF-8 bytes (the order of DSJ-DRAW-1)."""
    level = label.split(STRATUM_JOIN, 1)[0]
    rank = RISK_LEVELS.index(level) if level in RISK_LEVELS else len(RISK_LEVELS)
    return rank, label.encode("utf-8")


def summarize(tp: TaskPool, drawn: Sequence[str] = ()) -> PoolSummary:
    pool = tp.pool
    labels = sorted(dict.fromkeys([*pool.strata, *pool.quotas]), key=_stratum_order)
    strata = tuple(Stratum(s or ALL_STRATUM, pool.strata.get(s, 0), pool.quotas.get(s, 0)) for s in labels)
    return PoolSummary(
        task_code=tp.task.code,
        on=tp.on,
        in_scope=pool.in_scope,
        candidates=len(pool.candidates),
        sample=pool.sample_size,
        mandatory=tuple((c.uscc, c.name) for c in pool.mandatory),
        strata=strata,
        exclusions=tuple(pool.exclusions),
        inspectors_eligible=tp.inspectors_eligible,
        inspectors_total=tp.inspectors_total,
        inspector_req=tp.inspector_req,
        experts=tp.experts,
        expert_count=tp.task.expert_count,
        team_size=tp.task.team_size,
        partners=tp.task.partners,
        rules=tuple(tp.rules.describe()),
        problems=tuple(tp.problems),
        notes=tuple(tp.notes),
        drawn=tuple(drawn),
        period=period_state(tp.task, tp.on),
        staffing=tuple((it.code, f"“{req.text}”→ {req.explain()}") for it, req in tp.staffing),
    )


@dataclass(frozen=True)
class PoolReady(Progress):
    """A progress step that carries one task's finished summary (for a live table)."""

    summary: PoolSummary | None = None


def pool_summaries(db: Database, codes: Sequence[str], on: date | None = None) -> Job[dict[str, PoolSummary]]:
    """Each task's pool, one task at a time (each in its own read transaction), yielding every
    result as soon as it is ready. With 100,000 targets a task takes a fraction of a second."""
    on = on or today()
    out: dict[str, PoolSummary] = {}
    total = len(codes)
    for i, code in enumerate(codes):
        with db.read() as conn:
            summary = summarize(task_pool(conn, get_task(conn, code), on), confirmed_sessions(conn, code))
        out[code] = summary
        yield PoolReady("正在计算候选名单……", i + 1, total, summary)
    return out
