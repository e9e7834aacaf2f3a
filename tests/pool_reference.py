"""The candidate pool (domain/pool.py) as it was computed row by row, one TargetRow object per
target, before the columnar version: tests compare the program's pools with it, so the fast path
cannot drift from the rules it replaced (the same exclusions with the same reasons, the same
candidate order, strata and quotas)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from dsj_desktop.domain.pool import (
    DIRECTED,
    STRATUM_JOIN,
    UNDIRECTED,
    Candidate,
    Exclusion,
    PastSelection,
    Scope,
    TargetRow,
)
from dsj_desktop.domain.ratio import Ratio, quota
from dsj_desktop.domain.rules import Rules
from dsj_desktop.domain.specs import RISK_LEVELS
from dsj_desktop.draw.algorithm import balance_regions as region_balance


@dataclass
class RefPool:
    candidates: list[Candidate] = field(default_factory=list)
    mandatory: list[Candidate] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)
    strata: dict[str, int] = field(default_factory=dict)
    quotas: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    in_scope: int = 0


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
    targets: Iterable[TargetRow],
    scope: Scope,
    ratio: Ratio,
    rules: Rules,
    history: Iterable[PastSelection] = (),
    on: date | None = None,
) -> RefPool:
    on = on or date.today()
    by_target: dict[str, list[PastSelection]] = defaultdict(list)
    for p in history:
        by_target[p.uscc].append(p)
    pool = RefPool()
    normal: list[TargetRow] = []
    zero_cap = bool(rules.yearly_cap) and rules.yearly_cap <= 0  # a cap that even 0 draws reach
    # A task without item industries and not 定向 takes every target: in_scope need not be asked.
    everyone = scope.item_industries is None and scope.draw_type != DIRECTED
    for t in targets:
        if not everyone and not in_scope(t, scope):
            continue
        pool.in_scope += 1
        if t.status in rules.excluded_statuses:
            pool.exclusions.append(Exclusion(t.uscc, t.name, f"经营状态为{t.status}"))
            continue
        past = by_target.get(t.uscc)
        if past is None:  # never drawn (most targets): nothing in this cycle, 0 times this year
            reason = None
            if zero_cap and not (t.blacklist and rules.blacklist_exempt_from_cap):
                reason = f"本年度已被抽查 0 次（每年最多 {rules.yearly_cap} 次）"
        else:
            reason = _past_reason(rules, scope, past, on)
            if reason is None and rules.yearly_cap and not (t.blacklist and rules.blacklist_exempt_from_cap):
                this_year = sum(1 for p in past if p.drawn_on.year == on.year)
                if this_year >= rules.yearly_cap:
                    reason = f"本年度已被抽查 {this_year} 次（每年最多 {rules.yearly_cap} 次）"
        if reason is not None:
            pool.exclusions.append(Exclusion(t.uscc, t.name, reason))
            continue
        if t.blacklist and rules.blacklist_full:
            pool.mandatory.append(Candidate(t.uscc, t.name, "", t.region, t.risk_level))
        else:
            normal.append(t)

    undirected = scope.draw_type == UNDIRECTED

    # Each candidate's stratum: risk level and region (tiers, 不定向), risk level (tiers), region
    # (不定向) or none.
    tiers = ratio.kind == "tiers"
    candidates = pool.candidates
    for t in normal:
        if tiers:
            stratum = f"{t.risk_level}{STRATUM_JOIN}{t.region}" if undirected else t.risk_level
        else:
            stratum = t.region if undirected else ""
        candidates.append(Candidate(t.uscc, t.name, stratum, t.region, t.risk_level))
    sizes: dict[str, int] = defaultdict(int)
    for c in pool.candidates:
        sizes[c.stratum] += 1
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
