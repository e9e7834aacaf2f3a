"""Statistics (统计) of one plan year, computed once here and shown everywhere from the same numbers:
the statistics tab (tables and QPainter charts), its PNG export and the annual summary PDF.

Definitions (the plan year decides what belongs to a year):

* 计划完成率 = planned tasks with at least one confirmed draw / planned tasks (not archived);
* 检查完成率 = drawn targets already inspected / drawn targets (应检查), over the confirmed
  draws of the year's tasks;
* coverage by industry, region and risk tier = distinct targets drawn / live targets in the
  directory with that value (and how many of the drawn were inspected);
* achieved ratio per confirmed draw = drawn / pool (candidates and 必查 together), compared with
  the task's 抽查比例 (per risk tier for tiered ratios); the pool's sizes are counted from the
  session's frozen inputs without decoding its candidates (:func:`draw_pool`);
* 黑名单 coverage = blacklisted live targets drawn in a confirmed draw of the year / all of them
  (must be 100 %; the missing ones are listed);
* inspector workload = targets each person was assigned (current teams after 递补) and the
  inspections they actually went to (as entered).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection

from dsj_desktop.clock import today
from dsj_desktop.db import draw_inputs
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.pool import STRATUM_JOIN
from dsj_desktop.domain.ratio import Ratio as TaskRatio
from dsj_desktop.domain.result_specs import CATEGORIES
from dsj_desktop.domain.specs import RISK_LEVELS
from dsj_desktop.progress import Job, Progress, run_job
from dsj_desktop.services import holidays
from dsj_desktop.services.results import Counts, ResultRow, count, load_rows

# Chart colours (the GUI charts and the PDF use the same ones).
PALETTE = (
    "#3b6ea5", "#e0893a", "#4f9a5a", "#c2453d", "#8a6bb3", "#8c6a55", "#d07aa8", "#7f7f7f", "#b5a33b",
    "#3aa6b5",
)  # fmt: skip


@dataclass(frozen=True)
class Share:
    num: int
    den: int

    @property
    def pct(self) -> float | None:
        return None if self.den == 0 else 100.0 * self.num / self.den

    @property
    def pct_text(self) -> str:
        p = self.pct
        return "—" if p is None else f"{p:.1f}%"

    @property
    def text(self) -> str:
        return f"{self.num}/{self.den}（{self.pct_text}）"


@dataclass(frozen=True)
class CoverageRow:
    label: str
    targets: int  # live targets in the directory
    drawn: int  # distinct targets drawn this year
    inspected: int

    @property
    def coverage(self) -> Share:
        return Share(self.drawn, self.targets)


@dataclass(frozen=True)
class DrawRatioRow:
    task_code: str
    task_name: str
    session_id: str
    ratio_text: str  # the task's 抽查比例
    pool: int
    drawn: int
    inspected: int
    meets: bool
    detail: str  # per tier for tiered ratios

    @property
    def achieved(self) -> Share:
        return Share(self.drawn, self.pool)


@dataclass(frozen=True)
class PersonLoad:
    code: str
    name: str
    assigned: int
    inspected: int


@dataclass(frozen=True)
class Missing:
    uscc: str
    name: str
    industry: str
    region: str


@dataclass(frozen=True)
class StatTable:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    kind: str  # bar / pie
    data: list[tuple[str, float]]
    unit: str = ""


@dataclass
class YearStats:
    year: int
    on: date
    planned_tasks: int = 0
    drawn_tasks: int = 0
    due: int = 0  # 应检查
    inspected: int = 0
    entered: int = 0
    published: int = 0
    categories: list[tuple[str, int]] = field(default_factory=list)
    by_industry: list[CoverageRow] = field(default_factory=list)
    by_region: list[CoverageRow] = field(default_factory=list)
    by_risk: list[CoverageRow] = field(default_factory=list)
    ratios: list[DrawRatioRow] = field(default_factory=list)
    blacklist_total: int = 0
    blacklist_drawn: int = 0
    blacklist_inspected: int = 0
    blacklist_missing: list[Missing] = field(default_factory=list)
    workload: list[PersonLoad] = field(default_factory=list)
    deadlines: Counts = field(default_factory=Counts)
    hazards: int = 0

    @property
    def plan_completion(self) -> Share:
        return Share(self.drawn_tasks, self.planned_tasks)

    @property
    def inspection_completion(self) -> Share:
        return Share(self.inspected, self.due)

    @property
    def blacklist_coverage(self) -> Share:
        return Share(self.blacklist_drawn, self.blacklist_total)

    @property
    def blacklist_ok(self) -> bool:
        return self.blacklist_drawn == self.blacklist_total

    # -- the same numbers as tables and charts --------------------------------------------------

    def summary(self) -> list[tuple[str, str]]:
        d = self.deadlines
        return [
            ("计划完成率", self.plan_completion.text + "（已确认抽取的任务/计划任务）"),
            ("检查完成率", self.inspection_completion.text + "（已检查/应检查）"),
            ("已录入结果", f"{self.entered} 家，其中已公示 {self.published} 家"),
            ("发现隐患", f"{self.hazards} 项"),
            ("黑名单覆盖", self.blacklist_coverage.text + ("" if self.blacklist_ok else "　未达 100%")),
            ("录入期限", f"逾期未录入 {d.overdue}，逾期录入 {d.late}，即将到期 {d.due_soon}"
                        + (f"，无法计算 {d.unknown}" if d.unknown else "")),
        ]  # fmt: skip

    def tables(self) -> list[StatTable]:
        cov_headers = ("", "名录数", "抽中", "覆盖率", "已检查")

        def cov(title: str, rows: Sequence[CoverageRow], first: str) -> StatTable:
            return StatTable(
                title,
                (first, *cov_headers[1:]),
                [
                    (r.label, str(r.targets), str(r.drawn), r.coverage.pct_text, str(r.inspected))
                    for r in rows
                ],
            )

        out = [
            StatTable("总体情况", ("指标", "数值"), [(k, v) for k, v in self.summary()]),
            StatTable(
                "检查结果分布",
                ("检查结果", "家数", "占比"),
                [(c, str(n), Share(n, self.entered).pct_text) for c, n in self.categories],
            ),
            cov("按行业领域覆盖", self.by_industry, "行业领域"),
            cov("按所属区域覆盖", self.by_region, "所属区域"),
            cov("按风险等级覆盖", self.by_risk, "风险等级"),
            StatTable(
                "各抽取场次实际比例",
                ("抽查任务", "抽取场次", "抽查比例", "候选", "抽中", "实际比例", "已检查", "是否达到"),
                [self._ratio_cells(r) for r in self.ratios],
            ),
            StatTable(
                "黑名单对象覆盖",
                ("统一社会信用代码", "企业名称", "行业领域", "所属区域"),
                [(m.uscc, m.name, m.industry, m.region) for m in self.blacklist_missing],
                note=(
                    f"黑名单对象 {self.blacklist_total} 家，已抽中 {self.blacklist_drawn} 家，"
                    f"已检查 {self.blacklist_inspected} 家。"
                    + ("全部覆盖。" if self.blacklist_ok else "以下对象尚未抽中（应 100% 检查）：")
                ),
            ),
            StatTable(
                "检查人员工作量",
                ("执法证号/专家编号", "姓名", "分派检查对象", "实际参加检查"),
                [(p.code, p.name, str(p.assigned), str(p.inspected)) for p in self.workload],
            ),
        ]
        return out

    @staticmethod
    def _ratio_cells(r: DrawRatioRow) -> tuple[str, ...]:
        achieved = r.achieved.pct_text + (f"（{r.detail}）" if r.detail else "")
        return (f"{r.task_code} {r.task_name}", r.session_id, r.ratio_text, str(r.pool), str(r.drawn), achieved,
                str(r.inspected), "达到" if r.meets else "未达到")  # fmt: skip

    def charts(self) -> list[Chart]:
        top = sorted(self.workload, key=lambda p: (-p.assigned, p.code))[:12]
        return [
            Chart("检查完成情况", "pie", [
                ("已检查", float(self.inspected)), ("待检查", float(self.due - self.inspected))]),
            Chart("检查结果分布", "pie", [(c, float(n)) for c, n in self.categories if n]),
            Chart("按行业领域覆盖率", "bar",
                  [(r.label, r.coverage.pct or 0.0) for r in self.by_industry if r.targets], "%"),
            Chart("按所属区域覆盖率", "bar",
                  [(r.label, r.coverage.pct or 0.0) for r in self.by_region if r.targets], "%"),
            Chart("按风险等级覆盖率", "bar", [(r.label, r.coverage.pct or 0.0) for r in self.by_risk], "%"),
            Chart("检查人员工作量（前 12 名，分派家数）", "bar", [(p.name, float(p.assigned)) for p in top], "家"),
        ]  # fmt: skip


def _tier_of(stratum: str) -> str:
    return stratum.split(STRATUM_JOIN, 1)[0]


@dataclass(frozen=True)
class DrawPool:
    """What a confirmed draw's achieved ratio needs of its frozen inputs (``draw_input``)."""

    candidates: int  # the candidates drawn from (the 必查 targets not among them)
    mandatory: tuple[str, ...]  # params.mandatory, as stored
    strata: dict[str, int]  # candidates per stratum (counted only when asked for)


def pool_of_texts(targets: str, other: str, *, strata: bool) -> DrawPool:
    """:class:`DrawPool` from the stored ``targets`` and ``other`` texts of a session's inputs: the
    candidates (100,000 at city scale, 9 MB of JSON) counted, and their strata when *strata*, without
    decoding them (:func:`dsj_desktop.db.draw_inputs.count_candidates`)."""
    params = json.loads(other).get("params", {})
    assert isinstance(params, dict)
    n, sizes = draw_inputs.count_candidates(targets, strata=strata)
    return DrawPool(n, tuple(params.get("mandatory", [])), dict(sizes))


def draw_pool(conn: Connection, session_id: str, *, strata: bool) -> DrawPool:
    """The confirmed draw *session_id*'s pool: see :func:`pool_of_texts`."""
    targets, other = conn.exec_driver_sql(
        "SELECT targets, other FROM draw_input WHERE session_id = ?", (session_id,)
    ).one()
    return pool_of_texts(str(targets), str(other), strata=strata)


def _draw_ratio(
    task_name: str, session_id: str, task_code: str, pool: DrawPool, rows: list[ResultRow],
    strata: dict[str, str], ratio: TaskRatio,
) -> DrawRatioRow:  # fmt: skip
    mandatory = pool.mandatory
    size = pool.candidates + len(mandatory)
    drawn = len(rows)
    inspected = sum(1 for r in rows if r.inspected_on)
    detail = ""
    if ratio.kind == "rate":
        meets = drawn * 10000 >= ratio.bp * size
    elif ratio.kind == "count":
        meets = drawn >= min(ratio.count, pool.candidates) + len(mandatory)
    else:
        sizes: Counter[str] = Counter()
        for stratum, n in pool.strata.items():
            sizes[_tier_of(stratum)] += n
        got: Counter[str] = Counter(_tier_of(strata.get(r.uscc, "")) for r in rows if r.uscc not in mandatory)
        parts = []
        meets = True
        for tier, bp in ratio.tiers:
            n, k = sizes.get(tier, 0), got.get(tier, 0)
            if n:
                parts.append(f"{tier} {k}/{n}")
                meets = meets and k * 10000 >= bp * n
        detail = "；".join(parts)
    return DrawRatioRow(task_code, task_name, session_id, ratio.text(), size, drawn, inspected, meets, detail)


def year_statistics(conn: Connection, year: int, on: date | None = None) -> YearStats:
    """Every statistic of the plan year *year* (see the module documentation)."""
    return run_job(year_statistics_steps(conn, year, on))


def year_statistics_steps(conn: Connection, year: int, on: date | None = None) -> Job[YearStats]:
    """:func:`year_statistics` as a job: a step before the directory's coverage and before each
    confirmed draw's ratio (where a cancelled job stops)."""
    on = on or today()
    st = YearStats(year, on)
    yield Progress("正在统计检查结果……")
    tasks = conn.exec_driver_sql(
        "SELECT t.code, t.name, t.ratio_spec FROM task t JOIN plan p ON p.id = t.plan_id "
        "WHERE p.year = ? AND t.archived = 0 AND p.archived = 0 ORDER BY t.code",
        (year,),
    ).all()
    task_names = {r[0]: r[1] for r in tasks}
    st.planned_tasks = len(tasks)
    rows = [r for r in load_rows(conn) if r.task_code in task_names]
    st.drawn_tasks = len({r.task_code for r in rows})
    st.due = len(rows)
    st.inspected = sum(1 for r in rows if r.inspected_on)
    entered = [r for r in rows if r.category]
    st.entered = len(entered)
    st.published = sum(1 for r in entered if r.status == "已公示")
    st.hazards = sum(r.hazards for r in entered)
    cats = Counter(r.category for r in entered)
    st.categories = [(c, cats.get(c, 0)) for c in CATEGORIES]
    st.deadlines = count(rows, holidays.load_calendar(conn), holidays.deadline_days(conn), on)

    # Coverage over the live directory.
    yield Progress("正在统计覆盖情况……")
    live = conn.exec_driver_sql(
        "SELECT uscc, name, industry, region, risk_level, blacklist FROM target WHERE archived = 0"
    ).all()
    drawn_ids = {r.uscc for r in rows}
    inspected_ids = {r.uscc for r in rows if r.inspected_on}
    attrs = {r[0]: r for r in live}
    # Drawn targets archived since still count as drawn (under their stored attributes).
    for uscc in drawn_ids - set(attrs):
        found = conn.exec_driver_sql(
            "SELECT uscc, name, industry, region, risk_level, blacklist FROM target WHERE uscc = ?", (uscc,)
        ).first()
        if found is not None:
            attrs[uscc] = found

    def coverage(pos: int, order: Sequence[str] | None = None) -> list[CoverageRow]:
        total: Counter[str] = Counter(r[pos] for r in live)
        drawn: Counter[str] = Counter(attrs[u][pos] for u in drawn_ids if u in attrs)
        insp: Counter[str] = Counter(attrs[u][pos] for u in inspected_ids if u in attrs)
        labels = list(order) if order else sorted(set(total) | set(drawn), key=lambda s: (-total[s], s))
        return [CoverageRow(x, total.get(x, 0), drawn.get(x, 0), insp.get(x, 0)) for x in labels]

    st.by_industry = coverage(2)
    st.by_region = coverage(3)
    st.by_risk = coverage(4, RISK_LEVELS)

    # Achieved ratio of each confirmed draw.
    by_session: dict[str, list[ResultRow]] = {}
    for r in rows:
        by_session.setdefault(r.session_id, []).append(r)
    ratio_specs = {r[0]: TaskRatio.from_json(r[2]) for r in tasks}
    sessions = sorted(by_session.items(), key=lambda kv: (kv[1][0].task_code, kv[0]))
    for i, (sid, srows) in enumerate(sessions):
        yield Progress("正在统计各场次的抽取比例……", i, len(sessions))
        code = srows[0].task_code
        pool = draw_pool(conn, sid, strata=ratio_specs[code].kind == "tiers")
        strata = {
            u: s
            for u, s in conn.exec_driver_sql(
                "SELECT uscc, stratum FROM draw_selection WHERE session_id = ?", (sid,)
            )
        }
        st.ratios.append(_draw_ratio(task_names[code], sid, code, pool, srows, strata, ratio_specs[code]))

    # 黑名单: every live blacklisted target must be drawn.
    black = [r for r in live if r[5]]
    st.blacklist_total = len(black)
    st.blacklist_drawn = sum(1 for r in black if r[0] in drawn_ids)
    st.blacklist_inspected = sum(1 for r in black if r[0] in inspected_ids)
    st.blacklist_missing = [Missing(r[0], r[1], r[2], r[3]) for r in black if r[0] not in drawn_ids]

    # Workload.
    assigned: Counter[str] = Counter()
    went: Counter[str] = Counter()
    names: dict[str, str] = {}
    for r in rows:
        for code, name in r.team:
            assigned[code] += 1
            names.setdefault(code, name)
        if r.inspected_on:
            for code, name in r.people:
                went[code] += 1
                names.setdefault(code, name)
    st.workload = sorted(
        (PersonLoad(c, names[c], assigned.get(c, 0), went.get(c, 0)) for c in set(assigned) | set(went)),
        key=lambda p: (-p.assigned, -p.inspected, p.code),
    )
    return st


def plan_years(conn: Connection) -> list[int]:
    years = [int(r[0]) for r in conn.exec_driver_sql("SELECT DISTINCT year FROM plan ORDER BY year DESC")]
    return years or [today().year]


def read_plan_years(db: Database) -> list[int]:
    with db.read() as conn:
        return plan_years(conn)


def read_year_statistics(db: Database, year: int, on: date | None = None) -> YearStats:
    return run_job(year_statistics_job(db, year, on))


def year_statistics_job(db: Database, year: int, on: date | None = None) -> Job[YearStats]:
    """:func:`year_statistics` in one read transaction of its own, as a job (the statistics tab runs
    it off the GUI thread; cancelled, the transaction ends at once)."""
    with db.read() as conn:
        return (yield from year_statistics_steps(conn, year, on))
