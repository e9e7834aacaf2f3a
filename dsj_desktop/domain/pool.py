"""A task's candidate pool, its exclusions (each with a reason), its strata and quotas.

Pure functions over plain rows: the same code gives the plan tab its live pool size, and the draw
its frozen inputs. Nothing here depends on a seed (DSJ-DRAW-1 section 7).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import compress
from typing import overload

from dsj_desktop import clock
from dsj_desktop.domain.ratio import Ratio, quota
from dsj_desktop.domain.rules import Rules
from dsj_desktop.domain.specs import RISK_LEVELS, TARGETS
from dsj_desktop.draw.algorithm import balance_regions as region_balance  # section 7, one implementation

DIRECTED = "定向"
UNDIRECTED = "不定向"
DRAW_TYPES = (DIRECTED, UNDIRECTED)
STRATUM_JOIN = "·"

# 对象条件: the flags a task may require (a target qualifies when it has any of them).
CONDITIONS: dict[str, str] = {f.header: f.attr for f in TARGETS.fields if f.is_flag}


@dataclass(frozen=True)
class TargetRow:
    uscc: str
    name: str
    industry: str
    region: str
    risk_level: str
    status: str
    blacklist: bool
    flags: frozenset[str] = frozenset()  # attrs of the flags that are set


@dataclass(frozen=True)
class Scope:
    """What a task says about its pool."""

    draw_type: str
    industries: frozenset[str] = frozenset()  # empty: every industry the items allow
    regions: frozenset[str] = frozenset()
    conditions: frozenset[str] = frozenset()  # flag attrs; empty: no condition
    item_industries: frozenset[str] | None = None  # union of the items' 抽查对象; None: unrestricted
    item_codes: frozenset[str] = frozenset()
    task_code: str = ""


@dataclass(frozen=True)
class PastSelection:
    """A confirmed earlier draw of a target (voided sessions never count)."""

    uscc: str
    session: str
    task_code: str
    item_codes: frozenset[str]
    drawn_on: date


@dataclass(frozen=True)
class Candidate:
    uscc: str
    name: str
    stratum: str
    region: str
    risk_level: str


class CandidateList(Sequence[Candidate]):
    """The candidates of a pool kept as columns (one list per field, in directory order).

    Reads like a list of :class:`Candidate` without holding 100,000 small objects: a candidate is
    made when it is asked for. The columns themselves (``uscc``, ``name``, ``stratum``, ``region``,
    ``risk_level``) are what the draw uses.
    """

    __slots__ = ("name", "region", "risk_level", "stratum", "uscc")

    def __init__(
        self,
        uscc: Sequence[str] = (),
        name: Sequence[str] = (),
        stratum: Sequence[str] = (),
        region: Sequence[str] = (),
        risk_level: Sequence[str] = (),
    ) -> None:
        # Lists are kept as given (not copied; two columns may even be one list): never mutate them.
        self.uscc, self.name, self.stratum, self.region, self.risk_level = (
            c if isinstance(c, list) else list(c) for c in (uscc, name, stratum, region, risk_level)
        )
        if (
            not len(self.uscc)
            == len(self.name)
            == len(self.stratum)
            == len(self.region)
            == len(self.risk_level)
        ):
            raise ValueError("candidate columns of different lengths")

    def __len__(self) -> int:
        return len(self.uscc)

    @overload
    def __getitem__(self, index: int) -> Candidate: ...

    @overload
    def __getitem__(self, index: slice) -> CandidateList: ...

    def __getitem__(self, index: int | slice) -> Candidate | CandidateList:
        if isinstance(index, slice):
            return CandidateList(*(col[index] for col in self._columns()))
        return Candidate(*(col[index] for col in self._columns()))

    def __iter__(self) -> Iterator[Candidate]:
        return map(Candidate, *self._columns())

    def _columns(self) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
        return self.uscc, self.name, self.stratum, self.region, self.risk_level

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CandidateList):
            return self._columns() == other._columns()
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CandidateList({len(self)} candidates)"


@dataclass(frozen=True)
class TargetColumns:
    """Targets in scope as columns, rows in directory order (see :func:`compute_pool`): the form in
    which a 100,000-row directory is read. ``blacklist`` holds any values, true or false."""

    uscc: Sequence[str]
    name: Sequence[str]
    region: Sequence[str]
    risk_level: Sequence[str]
    status: Sequence[str]
    blacklist: Sequence[object]

    def __post_init__(self) -> None:
        n = len(self.uscc)
        if any(len(c) != n for c in (self.name, self.region, self.risk_level, self.status, self.blacklist)):
            raise ValueError("target columns of different lengths")

    def __len__(self) -> int:
        return len(self.uscc)

    @staticmethod
    def of(rows: Iterable[TargetRow]) -> TargetColumns:
        rows = list(rows)
        return TargetColumns(
            [t.uscc for t in rows],
            [t.name for t in rows],
            [t.region for t in rows],
            [t.risk_level for t in rows],
            [t.status for t in rows],
            [t.blacklist for t in rows],
        )


@dataclass(frozen=True)
class Exclusion:
    uscc: str
    name: str
    reason: str


@dataclass
class Pool:
    candidates: CandidateList = field(default_factory=CandidateList)  # to be sampled
    mandatory: list[Candidate] = field(default_factory=list)  # 黑名单: inspected at 100 %
    exclusions: list[Exclusion] = field(default_factory=list)
    strata: dict[str, int] = field(default_factory=dict)  # stratum → candidates
    quotas: dict[str, int] = field(default_factory=dict)  # stratum → to draw
    problems: list[str] = field(default_factory=list)  # why the draw cannot be made as it stands
    in_scope: int = 0

    @property
    def sample_size(self) -> int:
        return sum(self.quotas.values())

    @property
    def total_selected(self) -> int:
        return self.sample_size + len(self.mandatory)


def in_scope(t: TargetRow, scope: Scope) -> bool:
    if scope.item_industries is not None and t.industry not in scope.item_industries:
        return False
    if scope.draw_type == DIRECTED:
        if scope.industries and t.industry not in scope.industries:
            return False
        if scope.regions and t.region not in scope.regions:
            return False
        if scope.conditions and not (scope.conditions & t.flags):
            return False
    return True


def _past_reason(rules: Rules, scope: Scope, past: Sequence[PastSelection], on: date) -> str | None:
    start, end, label = rules.cycle_of(on)
    if rules.once_per_cycle:
        for p in past:
            if not start <= p.drawn_on <= end:
                continue
            same = (
                rules.once_per_cycle_scope == "all"
                or (rules.once_per_cycle_scope == "task" and p.task_code == scope.task_code)
                or (rules.once_per_cycle_scope == "item" and p.item_codes & scope.item_codes)
            )
            if same:
                return f"本周期（{label}）已被抽中（场次 {p.session}，{p.drawn_on.isoformat()}）"
    return None


def compute_pool(
    targets: Iterable[TargetRow] | TargetColumns,
    scope: Scope,
    ratio: Ratio,
    rules: Rules,
    history: Iterable[PastSelection] = (),
    on: date | None = None,
) -> Pool:
    """The pool of *scope* among *targets*: rows (each tested with :func:`in_scope`), or columns
    holding only the targets in scope already (as :func:`dsj_desktop.services.plan.load_target_columns`
    reads them, the scope applied in SQL)."""
    on = on or clock.today()
    if isinstance(targets, TargetColumns):
        cols = targets
    else:
        # A task without item industries and not 定向 takes every target: in_scope need not be asked.
        everyone = scope.item_industries is None and scope.draw_type != DIRECTED
        cols = TargetColumns.of(t for t in targets if everyone or in_scope(t, scope))
    by_target: dict[str, list[PastSelection]] = defaultdict(list)
    for p in history:
        by_target[p.uscc].append(p)
    pool = Pool()
    n = pool.in_scope = len(cols)
    zero_cap = bool(rules.yearly_cap) and rules.yearly_cap <= 0  # a cap that even 0 draws reach
    # Most targets are in business, never drawn and not blacklisted: they are candidates as they
    # stand. Only the others (found column by column) are looked at one by one, in directory order.
    if zero_cap:
        special: Iterable[int] = range(n)
    else:
        marked = set(compress(range(n), map(frozenset(rules.excluded_statuses).__contains__, cols.status)))
        marked.update(compress(range(n), cols.blacklist))
        if by_target:
            marked.update(compress(range(n), map(by_target.__contains__, cols.uscc)))
        special = sorted(marked)
    removed: list[int] = []
    for i in special:
        uscc, name, status, blacklist = cols.uscc[i], cols.name[i], cols.status[i], bool(cols.blacklist[i])
        if status in rules.excluded_statuses:
            pool.exclusions.append(Exclusion(uscc, name, f"经营状态为{status}"))
            removed.append(i)
            continue
        past = by_target.get(uscc)
        if past is None:  # never drawn (most targets): nothing in this cycle, 0 times this year
            reason = None
            if zero_cap and not (blacklist and rules.blacklist_exempt_from_cap):
                reason = f"本年度已被抽查 0 次（每年最多 {rules.yearly_cap} 次）"
        else:
            reason = _past_reason(rules, scope, past, on)
            if reason is None and rules.yearly_cap and not (blacklist and rules.blacklist_exempt_from_cap):
                this_year = sum(1 for p in past if p.drawn_on.year == on.year)
                if this_year >= rules.yearly_cap:
                    reason = f"本年度已被抽查 {this_year} 次（每年最多 {rules.yearly_cap} 次）"
        if reason is not None:
            pool.exclusions.append(Exclusion(uscc, name, reason))
            removed.append(i)
            continue
        if blacklist and rules.blacklist_full:
            pool.mandatory.append(Candidate(uscc, name, "", cols.region[i], cols.risk_level[i]))
            removed.append(i)
    columns = (cols.uscc, cols.name, cols.region, cols.risk_level)
    if removed:
        keep = [True] * n
        for i in removed:
            keep[i] = False
        ids, names, regions, risks = (list(compress(c, keep)) for c in columns)
    else:
        ids, names, regions, risks = (list(c) for c in columns)

    undirected = scope.draw_type == UNDIRECTED

    # Each candidate's stratum: risk level and region (tiers, 不定向), risk level (tiers), region
    # (不定向) or none.
    tiers = ratio.kind == "tiers"
    if tiers:
        strata = (
            [f"{r}{STRATUM_JOIN}{g}" for r, g in zip(risks, regions, strict=True)] if undirected else risks
        )
    else:
        strata = regions if undirected else [""] * len(ids)
    pool.candidates = CandidateList(ids, names, strata, regions, risks)
    sizes = Counter(strata)
    pool.strata = dict(sorted(sizes.items(), key=lambda kv: kv[0].encode("utf-8")))

    # Quotas (section 7).
    if ratio.kind == "tiers":
        for level in RISK_LEVELS:
            bp = ratio.tier_bp(level)
            if undirected:
                tier = {s.split(STRATUM_JOIN, 1)[1]: n for s, n in pool.strata.items()
                        if s.split(STRATUM_JOIN, 1)[0] == level}  # fmt: skip
                k = quota(sum(tier.values()), bp)
                for region, kr in region_balance(k, tier).items():
                    pool.quotas[f"{level}{STRATUM_JOIN}{region}"] = kr
            elif level in pool.strata:
                pool.quotas[level] = quota(pool.strata[level], bp)
    else:
        n = len(pool.candidates)
        if ratio.kind == "rate":
            k = quota(n, ratio.bp)
        else:
            k = ratio.count
            if k > n:
                pool.problems.append(f"要抽取 {k} 家，但符合条件的检查对象只有 {n} 家")
                k = n
        if undirected:
            pool.quotas = region_balance(k, pool.strata)
        elif n:
            pool.quotas = {"": k}
    pool.quotas = {s: k for s, k in sorted(pool.quotas.items(), key=lambda kv: kv[0].encode("utf-8"))}
    if not pool.candidates and not pool.mandatory:
        pool.problems.append("没有符合条件的检查对象（候选名单为空）")
    for s, k in pool.quotas.items():
        if k > pool.strata.get(s, 0):
            pool.problems.append(f"分层“{s or '全部'}”要抽取 {k} 家，但只有 {pool.strata.get(s, 0)} 家")
    return pool
