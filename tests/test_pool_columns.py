"""The columnar pool (targets read as columns, the scope applied in SQL) gives exactly the pool the
row-by-row computation gave: the same candidates in the same order, the same exclusions with the same
reasons, the same 必查, strata, quotas and problems (tests/pool_reference.py keeps the old code)."""

from __future__ import annotations

import json
import random
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.pool import (
    CONDITIONS,
    DIRECTED,
    UNDIRECTED,
    CandidateList,
    PastSelection,
    Pool,
    Scope,
    TargetColumns,
    TargetRow,
    compute_pool,
    in_scope,
)
from dsj_desktop.domain.ratio import Ratio
from dsj_desktop.domain.rules import Rules
from dsj_desktop.domain.specs import RISK_LEVELS, STATUSES
from dsj_desktop.draw.algorithm import DrawInputError, DrawSetup, TargetRows, _encode_ids, sort_target_columns
from dsj_desktop.services import plan as plan_service
from dsj_desktop.services import sessions
from tests.pool_reference import RefPool
from tests.pool_reference import compute_pool as reference_pool

INDUSTRIES = ("机械", "轻工", "冶金", "烟花爆竹")
REGIONS = ("城关镇", "北留镇", "马岭乡", "润城镇")
FLAGS = tuple(CONDITIONS.values())  # blacklist included
ITEMS = ("YJ-1", "YJ-2", "YJ-3")
ON = date(2026, 6, 15)


def assert_same(pool: Pool, ref: RefPool) -> None:
    assert list(pool.candidates) == ref.candidates
    assert pool.candidates == ref.candidates
    assert pool.mandatory == ref.mandatory
    assert pool.exclusions == ref.exclusions
    assert list(pool.strata.items()) == list(ref.strata.items())
    assert list(pool.quotas.items()) == list(ref.quotas.items())
    assert pool.problems == ref.problems
    assert pool.in_scope == ref.in_scope


@st.composite
def targets(draw: Any) -> list[TargetRow]:
    numbers = draw(st.lists(st.integers(0, 60), unique=True, max_size=40))
    out = []
    for n in numbers:
        flags = frozenset(draw(st.lists(st.sampled_from(FLAGS), max_size=3)))
        out.append(
            TargetRow(
                f"U{n:04d}",
                draw(st.sampled_from(("企业", "公司", " 有限公司", ""))) + str(n),
                draw(st.sampled_from(INDUSTRIES)),
                draw(st.sampled_from(REGIONS)),
                draw(st.sampled_from(RISK_LEVELS)),
                draw(st.sampled_from(STATUSES)),
                "blacklist" in flags,
                flags,
            )
        )
    return out


def subset(values: tuple[str, ...]) -> Any:
    return st.frozensets(st.sampled_from(values))


scopes = st.builds(
    Scope,
    draw_type=st.sampled_from((DIRECTED, UNDIRECTED)),
    industries=subset(INDUSTRIES),
    regions=subset(REGIONS),
    conditions=subset(FLAGS),
    item_industries=st.none() | subset(INDUSTRIES),
    item_codes=subset(ITEMS),
    task_code=st.sampled_from(("RW-1", "RW-2")),
)
ratios = st.one_of(
    st.builds(Ratio, kind=st.just("rate"), bp=st.integers(0, 10000)),
    st.builds(Ratio, kind=st.just("count"), count=st.integers(1, 30)),
    st.lists(st.tuples(st.sampled_from(RISK_LEVELS), st.integers(0, 10000)), min_size=1, max_size=4).map(
        lambda ts: Ratio("tiers", tiers=tuple((lv, dict(ts)[lv]) for lv in RISK_LEVELS if lv in dict(ts)))
    ),
)
rules = st.builds(
    Rules,
    cycle=st.sampled_from(("year", "half", "quarter")),
    once_per_cycle=st.booleans(),
    once_per_cycle_scope=st.sampled_from(("item", "task", "all")),
    yearly_cap=st.integers(-1, 3),  # -1: a cap even 0 draws reach (every target looked at one by one)
    blacklist_exempt_from_cap=st.booleans(),
    blacklist_full=st.booleans(),
    excluded_statuses=st.lists(st.sampled_from(STATUSES), unique=True).map(tuple),
)
history = st.lists(
    st.builds(
        PastSelection,
        uscc=st.integers(0, 60).map(lambda n: f"U{n:04d}"),  # often a target of the draw
        session=st.sampled_from(("S-1", "S-2", "S-3")),
        task_code=st.sampled_from(("RW-1", "RW-2", "RW-3")),
        item_codes=subset(ITEMS),
        drawn_on=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(targets(), scopes, ratios, rules, history)
def test_the_pool_is_the_row_by_row_pool(
    ts: list[TargetRow], scope: Scope, ratio: Ratio, rules: Rules, hist: list[PastSelection]
) -> None:
    ref = reference_pool(ts, scope, ratio, rules, hist, ON)
    assert_same(compute_pool(ts, scope, ratio, rules, hist, ON), ref)
    # The same targets as columns, the scope applied beforehand (as SQL applies it).
    cols = TargetColumns.of(t for t in ts if in_scope(t, scope))
    assert_same(compute_pool(cols, scope, ratio, rules, hist, ON), ref)


def test_candidate_list_reads_like_a_list() -> None:
    cl = CandidateList(
        ["A", "B", "C"], ["甲", "乙", "丙"], ["x", "y", "x"], ["x", "y", "x"], ["低", "低", "重大"]
    )
    assert len(cl) == 3 and cl[1].uscc == "B" and cl[-1].risk_level == "重大"
    assert [c.name for c in cl[1:]] == ["乙", "丙"] and cl[1:] == list(cl)[1:]
    assert cl == list(cl) and list(cl) == cl and cl != list(cl)[:2]
    assert CandidateList() == [] and not CandidateList()


# --- against the database (both engines) ------------------------------------------------------


def _scopes(db: Database) -> list[Scope]:
    """Every demo task's scope, and random ones over the demo county's own values."""
    with db.read() as conn:
        out = []
        for task in plan_service.list_tasks(conn, include_archived=True):
            out.append(plan_service.scope_of(task, plan_service.items_of(conn, task.item_codes)))
        industries = sorted({r[0] for r in conn.exec_driver_sql("SELECT DISTINCT industry FROM target")})
        regions = sorted({r[0] for r in conn.exec_driver_sql("SELECT DISTINCT region FROM target")})
    rnd = random.Random(17)

    def some(values: list[str]) -> frozenset[str]:
        return frozenset(rnd.sample(values, rnd.randint(0, min(3, len(values)))))

    for _ in range(30):
        out.append(
            Scope(
                draw_type=rnd.choice((DIRECTED, UNDIRECTED)),
                industries=some(industries),
                regions=some(regions),
                conditions=some(list(FLAGS)),
                item_industries=rnd.choice((None, some(industries), frozenset())),
            )
        )
    return out


def _check_scopes(db: Database) -> None:
    with db.read() as conn:
        for scope in _scopes(db):
            rows = plan_service.load_targets(
                conn, scope
            )  # narrowed in SQL only partly; in_scope does the rest
            cols = plan_service.load_target_columns(conn, scope)
            assert cols == TargetColumns.of(t for t in rows if in_scope(t, scope)), scope
            for ratio in (Ratio("rate", bp=500), Ratio("tiers", tiers=(("重大", 10000), ("一般", 1000)))):
                assert_same(
                    compute_pool(cols, scope, ratio, Rules(), on=ON),
                    reference_pool(rows, scope, ratio, Rules(), on=ON),
                )


def test_the_scope_in_sql_is_in_scope(demo_db: Database) -> None:
    with demo_db.write() as conn:  # some flags, some closed, some archived
        conn.exec_driver_sql("UPDATE target SET blacklist = 1, major_hazard = 1 WHERE id % 7 = 0")
        conn.exec_driver_sql("UPDATE target SET status = '注销' WHERE id % 11 = 0")
        conn.exec_driver_sql("UPDATE target SET archived = 1 WHERE id % 13 = 0")
    _check_scopes(demo_db)


def test_a_value_holding_the_separator_is_read_row_by_row(demo_db: Database) -> None:
    with demo_db.write() as conn:
        first = conn.exec_driver_sql("SELECT min(id) FROM target").scalar_one()
        conn.exec_driver_sql("UPDATE target SET name = ? WHERE id = ?", ("奇怪\x1e名称\x1e", first))
        conn.exec_driver_sql("UPDATE target SET region = ? WHERE id = ?", ("城\x1e关", first + 1))
    with demo_db.read() as conn:
        cols = plan_service.load_target_columns(conn, Scope(UNDIRECTED))
    assert "奇怪\x1e名称\x1e" in cols.name and "城\x1e关" in cols.region
    _check_scopes(demo_db)


def test_prepare_hands_the_draw_columns(demo_db: Database) -> None:
    """DrawSetup from the candidate columns is the DrawSetup from (id, stratum) pairs."""
    with demo_db.read() as conn:
        tp = plan_service.task_pool(conn, plan_service.get_task(conn, "RW-2026-02"), on=date(2026, 6, 1))
    c = tp.pool.candidates
    params = {
        "quotas": dict(tp.pool.quotas),
        "team_size": 2,
        "mandatory": sorted(m.uscc for m in tp.pool.mandatory),
    }
    people = tuple(f"P{i:03d}" for i in range(40))
    nonce = "0123456789abcdef" * 2
    a = DrawSetup("S-1", TargetRows(c.uscc, c.stratum), people, (), params, nonce)
    b = DrawSetup("S-1", [(x.uscc, x.stratum) for x in c], people, (), params, nonce)
    assert a.hashes == b.hashes and a.targets == b.targets and a.groups == b.groups and a.encoded == b.encoded


# --- the draw's column helpers ----------------------------------------------------------------

_IDS = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=18, max_size=18)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_IDS, st.sampled_from(("", "城关镇", "重大·北留镇"))), max_size=60))
def test_sorting_the_target_columns(rows: list[tuple[str, str]]) -> None:
    ids, strata = [r[0] for r in rows], [r[1] for r in rows]
    if len(set(ids)) < len(ids):
        with pytest.raises(DrawInputError, match="重复出现"):
            sort_target_columns(ids, strata)
        return
    expected = sorted(rows)
    assert sort_target_columns(ids, strata) == ([r[0] for r in expected], [r[1] for r in expected])
    assert _encode_ids(ids) == [i.encode() for i in ids]


def test_a_repeated_target_is_named() -> None:
    ids = ["B" * 18, "A" * 18, "B" * 18]
    with pytest.raises(DrawInputError, match=r"“B{18}”在候选名单中重复出现"):
        sort_target_columns(ids, ["", "", ""])


# --- the history of confirmed draws -------------------------------------------------------------


def old_confirmed_history(conn: Any, year: int) -> list[PastSelection]:
    """confirmed_history as it was: each session's frozen task sent with every drawn target and
    decoded in Python (before schema 7, the whole inputs: seconds per session at 100,000 candidates)."""
    rows = conn.exec_driver_sql(
        "SELECT s.id, s.task_code, s.draw_date, i.task, sel.uscc FROM draw_selection sel "
        "JOIN draw_session s ON s.id = sel.session_id LEFT JOIN draw_input i ON i.session_id = s.id "
        "WHERE s.status = 'confirmed' AND s.draw_date BETWEEN ? AND ?",
        (f"{year}-01-01", f"{year}-12-31"),
    )
    items: dict[str, frozenset[str]] = {}
    out = []
    for sid, task_code, drawn_on, task, uscc in rows:
        if sid not in items:
            items[sid] = frozenset(json.loads(task or "{}").get("item_codes", []))
        out.append(PastSelection(uscc, sid, task_code, items[sid], date.fromisoformat(str(drawn_on))))
    return out


def test_confirmed_history_is_what_it_was(demo_results_db: Database, engine: str) -> None:
    from tests.test_draw_sessions import full_draw

    full_draw(demo_results_db, "RW-2026-06", on=date(2026, 6, 2))  # a third confirmed session
    sessions.void(demo_results_db, sessions.prepare(demo_results_db, "RW-2026-04", on=ON).id, "作废")
    with demo_results_db.read() as conn:
        new = plan_service.confirmed_history(conn, 2026)
        old = old_confirmed_history(conn, 2026)
        assert plan_service.confirmed_history(conn, 2025) == []
    assert len({p.session for p in new}) >= 3 and all(p.item_codes for p in new)

    def key(p: PastSelection) -> tuple[str, str]:
        return p.session, p.uscc

    assert sorted(new, key=key) == sorted(old, key=key)
    if engine == "sqlite":  # the order SQLite gave (PostgreSQL gave none in particular)
        assert new == old


def test_a_status_or_risk_level_not_known_is_read_row_by_row(demo_db: Database) -> None:
    with demo_db.write() as conn:
        first = conn.exec_driver_sql("SELECT min(id) FROM target").scalar_one()
        conn.exec_driver_sql("UPDATE target SET status = ? WHERE id = ?", ("歇业", first))
        conn.exec_driver_sql("UPDATE target SET risk_level = ? WHERE id = ?", ("未评定", first + 2))
    with demo_db.read() as conn:
        cols = plan_service.load_target_columns(conn, Scope(UNDIRECTED))
    assert "歇业" in cols.status and "未评定" in cols.risk_level
    _check_scopes(demo_db)
    with demo_db.read() as conn:  # and the letters decode to the very texts
        rows = plan_service.load_targets(conn, Scope(UNDIRECTED))
    assert cols == TargetColumns.of(rows)


def test_rows_out_of_id_order_are_put_in_order(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    """A server may hand the aggregates the rows in any order (PostgreSQL after updates does): the
    ids that come with them put them back in directory order. SQLite's scan of the table itself walks
    it in id order (its b-tree's key), even for a row written last with an id below the others'."""
    with demo_db.read() as conn:
        expected = plan_service.load_target_columns(conn, Scope(UNDIRECTED))
    if engine == "sqlite":
        with demo_db.write() as conn:
            low = conn.exec_driver_sql("SELECT min(id) FROM target").scalar_one()
            cols = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info('target')") if r[1] != "id"]
            picked = ", ".join("?" if c == "uscc" else c for c in cols)
            conn.exec_driver_sql(
                f"INSERT INTO target (id, {', '.join(cols)}) SELECT ?, {picked} FROM target WHERE id = ?",
                (low - 1, "91110000MA000LOW1X", low),
            )
        with demo_db.read() as conn:
            got = plan_service.load_target_columns(conn, Scope(UNDIRECTED))
            in_order = [
                r[0] for r in conn.exec_driver_sql("SELECT uscc FROM target WHERE archived = 0 ORDER BY id")
            ]
        assert list(got.uscc) == in_order and in_order[0] == "91110000MA000LOW1X"
        assert list(got.uscc[1:]) == list(expected.uscc)
        return
    real = plan_service.raw_rows

    def shuffled(conn: Any, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        rows = real(conn, sql, params)
        if "group_concat" not in sql and "string_agg" not in sql:
            return rows
        n, *aggs = rows[0]
        if not n:
            return rows
        order = list(range(n))
        random.Random(5).shuffle(order)
        out: list[Any] = [n]
        for text in aggs:
            sep = "," if text is aggs[-1] else ("" if len(text) == n else "\x1e")
            parts = list(text) if sep == "" else text.split(sep)
            out.append(sep.join(parts[i] for i in order))
        return [tuple(out)]

    monkeypatch.setattr(plan_service, "raw_rows", shuffled)
    with demo_db.read() as conn:
        assert plan_service.load_target_columns(conn, Scope(UNDIRECTED)) == expected
    _check_scopes(demo_db)
