"""Property tests over random pools: quotas, strata, teams, caps, mandatory targets, input order."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsj_desktop.draw.algorithm import (
    DrawInput,
    DrawResult,
    assign_people,
    canonical_conflicts,
    inspector_ticket,
    run_draw,
    target_ticket,
)

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
STRATA = ["", "城关镇", "北留镇", "中", "国", "A区", "z"]  # 中/国 and ASCII vs CJK exercise byte order
PERSON_CHARS = "0123456789ABCxyz中国-"


@dataclass(frozen=True)
class Pool:
    targets: list[tuple[str, str]]
    inspectors: list[str]
    experts: list[str]
    params: dict[str, Any]
    witnesses: list[tuple[str, str]]
    session: str


@st.composite
def pools(draw: st.DrawFn) -> Pool:
    ids = draw(st.lists(st.text(USCC_CHARS, min_size=18, max_size=18), min_size=2, max_size=60, unique=True))
    n_mandatory = draw(st.integers(0, min(3, len(ids) - 1)))
    mandatory, candidates = ids[:n_mandatory], ids[n_mandatory:]
    strata = draw(st.lists(st.sampled_from(STRATA), min_size=1, max_size=4, unique=True))
    targets = [(t, draw(st.sampled_from(strata))) for t in candidates]
    sizes = Counter(s for _, s in targets)
    quotas = {s: draw(st.integers(0, n)) for s, n in sizes.items()}
    if sum(quotas.values()) + len(mandatory) == 0:
        first = next(iter(sizes))
        quotas[first] = 1
    inspectors = draw(
        st.lists(st.text(PERSON_CHARS, min_size=1, max_size=6), min_size=2, max_size=12, unique=True)
    )
    inspectors = [p for p in inspectors if p.strip() == p] or ["P1", "P2"]
    if len(inspectors) < 2:
        inspectors.append(inspectors[0] + "x")
    team_size = draw(st.integers(2, min(4, len(inspectors))))
    experts = draw(
        st.lists(
            st.text(PERSON_CHARS, min_size=1, max_size=5).map(lambda s: "E" + s), max_size=6, unique=True
        )
    )
    expert_count = draw(st.integers(0, min(2, len(experts))))
    # Conflicts: each target keeps at least team_size inspectors / expert_count experts.
    conflicts: list[list[str]] = []
    expert_conflicts: list[list[str]] = []
    for t in ids:
        if draw(st.booleans()):
            k = draw(st.integers(0, len(inspectors) - team_size))
            conflicts.extend([p, t] for p in draw(st.permutations(inspectors))[:k])
        if experts and draw(st.booleans()):
            k = draw(st.integers(0, len(experts) - expert_count))
            expert_conflicts.extend([p, t] for p in draw(st.permutations(experts))[:k])
    total = sum(quotas.values()) + len(mandatory)
    params: dict[str, Any] = {
        "quotas": quotas,
        "mandatory": sorted(mandatory),
        "team_size": team_size,
        "expert_count": expert_count,
        "inspector_conflicts": canonical_conflicts(conflicts),
        "expert_conflicts": canonical_conflicts(expert_conflicts),
    }
    if draw(st.booleans()):  # sometimes a looser cap than the default
        params["inspector_cap"] = -(-total * team_size // len(inspectors)) + draw(st.integers(0, 3))
    digits = draw(st.text("0123456789", min_size=20, max_size=30))
    return Pool(targets, inspectors, experts, params, [("甲", digits[:10]), ("乙", digits[10:])], "S-prop")


def run(pool: Pool, rnd: random.Random | None = None) -> DrawResult:
    targets, inspectors, experts = list(pool.targets), list(pool.inspectors), list(pool.experts)
    params = dict(pool.params)
    if rnd is not None:
        for seq in (targets, inspectors, experts):
            rnd.shuffle(seq)
        for key in ("inspector_conflicts", "expert_conflicts"):
            shuffled = list(params[key])
            rnd.shuffle(shuffled)
            params[key] = canonical_conflicts(shuffled)
        mandatory = list(params["mandatory"])
        rnd.shuffle(mandatory)
        params["mandatory"] = mandatory  # the draw sorts it
        params["quotas"] = dict(reversed(list(params["quotas"].items())))
    return run_draw(DrawInput(pool.session, targets, inspectors, experts, params, pool.witnesses, "ab" * 16))


COMMON = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(pools())
def test_selection_respects_quotas_strata_and_mandatory(pool: Pool) -> None:
    result = run(pool)
    stratum_of = dict(pool.targets)
    ids = [s.id for s in result.selected]
    assert len(ids) == len(set(ids))
    drawn = Counter(s.stratum for s in result.selected if not s.mandatory)
    for stratum, k in pool.params["quotas"].items():
        assert drawn.get(stratum, 0) == k
    for item in result.selected:
        if item.mandatory:
            assert item.stratum is None and item.id not in stratum_of
        else:
            assert stratum_of[item.id] == item.stratum
    assert sorted(s.id for s in result.selected if s.mandatory) == sorted(pool.params["mandatory"])
    tickets = [(s.ticket, s.id) for s in result.selected]
    assert tickets == sorted(tickets)
    # Within each stratum the drawn ones are exactly those with the smallest tickets.
    for stratum, k in pool.params["quotas"].items():
        members = sorted((target_ticket(result.seed, t), t) for t, s in pool.targets if s == stratum)
        assert {t for _, t in members[:k]} == {
            s.id for s in result.selected if s.stratum == stratum and not s.mandatory
        }


@COMMON
@given(pools())
def test_teams_distinct_non_conflicting_and_capped_when_possible(pool: Pool) -> None:
    result = run(pool)
    p = result.setup.parsed
    for kind, size, cap, people in (
        ("inspector", p.team_size, p.inspector_cap, pool.inspectors),
        ("expert", p.expert_count, p.expert_cap, pool.experts),
    ):
        conflicts = p.conflicts(kind)  # type: ignore[arg-type]
        count: Counter[str] = Counter()
        for item in result.selected:
            team = item.inspectors if kind == "inspector" else item.experts
            assert len(team) == size
            assert len(set(team)) == size
            assert set(team) <= set(people)
            assert not set(team) & conflicts.get(item.id, frozenset())
            # Anyone at or over the cap is only taken when fewer than `size` others were free.
            under = [x for x in people if x not in conflicts.get(item.id, frozenset()) and count[x] < cap]
            if any(count[x] >= cap for x in team):
                assert len(under) < size
                assert set(under) <= set(team)
            else:
                assert set(team) <= set(under)
            count.update(team)
        if size:
            # Sufficient condition for the greedy rule to keep the cap: at any step at most
            # floor((K-1)·size/cap) people are full, and every target still has `size` others.
            k = len(result.selected)
            full_at_most = (k - 1) * size // cap
            if all(
                len(people) - len(conflicts.get(i.id, frozenset()) & set(people)) - full_at_most >= size
                for i in result.selected
            ):
                assert max(count.values()) <= cap


@COMMON
@given(pools(), st.randoms(use_true_random=False))
def test_independent_of_input_order(pool: Pool, rnd: random.Random) -> None:
    a = run(pool)
    b = run(pool, rnd)
    assert a.hashes == b.hashes
    assert a.seed == b.seed
    assert a.to_json() == b.to_json()


def _teams_by_the_letter(
    seed: str, order: list[str], people: list[str], size: int, cap: int, conflicts: dict[str, frozenset[str]]
) -> list[tuple[str, ...]]:
    """Section 5.3 as written: rank everybody, drop conflicts, walk for those below the cap, then anyone."""
    count = dict.fromkeys(people, 0)
    teams = []
    for t in order:
        ranked = [
            p
            for p in sorted(people, key=lambda p: (inspector_ticket(seed, t, p), p))
            if p not in conflicts.get(t, frozenset())
        ]
        team = [p for p in ranked if count[p] < cap][:size]
        team += [p for p in ranked if p not in team][: size - len(team)]
        for p in team:
            count[p] += 1
        teams.append(tuple(team))
    return teams


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_teams_equal_the_rule_as_written_for_large_pools(rnd: random.Random) -> None:
    """assign_people ranks only the head of a ranking when that suffices: same teams as the full rule."""
    people = [f"P{i:03d}" for i in range(rnd.randint(2, 80))]
    order = [f"T{i:03d}" for i in range(rnd.randint(1, 120))]
    size = rnd.randint(1, min(4, len(people)))
    cap = rnd.randint(1, 5)
    conflicts = {
        t: frozenset(rnd.sample(people, rnd.randint(0, len(people) - size)))
        for t in order
        if rnd.random() < 0.5
    }
    seed = f"{rnd.getrandbits(256):064x}"
    expected = _teams_by_the_letter(seed, order, people, size, cap, conflicts)
    assert assign_people(seed, "inspector", order, people, size, cap, conflicts) == expected
