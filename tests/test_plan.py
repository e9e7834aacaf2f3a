"""The item list, the annual plan, the rules, and each task's pool and implied sample size."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from dsj_desktop.cli import main
from dsj_desktop.db.engine import open_database
from dsj_desktop.domain.plan_specs import PLAN_ROWS
from dsj_desktop.domain.pool import (
    DIRECTED,
    UNDIRECTED,
    PastSelection,
    Scope,
    TargetRow,
    compute_pool,
    region_balance,
)
from dsj_desktop.domain.ratio import Ratio, RatioError, parse_ratio, quota
from dsj_desktop.domain.rules import Rules
from dsj_desktop.errors import ValidationError
from dsj_desktop.services.plan import get_task, read_rules, save_rules, task_pool
from tests.test_import import fingerprint

# --- ratios -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "canonical"),
    [
        ("5%", "rate", "5%"),
        ("5 ％", "rate", "5%"),
        ("0.25%", "rate", "0.25%"),
        ("100%", "rate", "100%"),
        ("全覆盖", "rate", "100%"),
        ("20家", "count", "20家"),
        ("20", "count", "20家"),
        ("重大:100%;较大:30%;一般:10%;低:5%", "tiers", "重大:100%;较大:30%;一般:10%;低:5%"),
        ("低风险：5%；重大风险：100%", "tiers", "重大:100%;低:5%"),
    ],
)
def test_ratio_forms(text: str, kind: str, canonical: str) -> None:
    r = parse_ratio(text)
    assert r.kind == kind and r.text() == canonical
    assert Ratio.from_json(r.to_json()) == r
    assert parse_ratio(r.text()) == r


def test_rates_are_exact_basis_points() -> None:
    assert parse_ratio("5%").bp == 500
    assert parse_ratio("0.01%").bp == 1
    assert parse_ratio("33.33%").bp == 3333
    assert '"bp": 3333' in parse_ratio("33.33%").to_json()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "不能为空"), ("五个百分点", "无法识别"), ("3.333%", "0.01%"), ("120%", "超过 100%"), ("0家", "大于 0"),
     ("特大:100%", "不是风险等级"), ("重大:5%;重大:6%", "写了两次"), ("重大 100%;较大:5%", "缺少冒号")],
)  # fmt: skip
def test_bad_ratios(text: str, fragment: str) -> None:
    with pytest.raises(RatioError, match=fragment):
        parse_ratio(text)


def test_quota_rounds_up_with_integers() -> None:
    assert quota(3000, 500) == 150
    assert quota(3001, 500) == 151  # 150.05 → 151
    assert quota(1, 1) == 1
    assert quota(0, 500) == 0
    assert quota(19, 10000) == 19
    assert quota(10**9 + 7, 333) == (10**9 + 7) * 333 // 10000 + 1


def test_region_balance_largest_remainder_and_ties() -> None:
    # K = 10 over 3 + 3 + 4 = 10: exact.
    assert region_balance(10, {"甲": 3, "乙": 3, "丙": 4}) == {"甲": 3, "乙": 3, "丙": 4}
    # K = 5 over sizes 7, 7, 6 (N = 20): floors 1, 1, 1; remainders 15, 15, 10 → the two 7s.
    assert region_balance(5, {"甲": 7, "乙": 7, "丙": 6}) == {"甲": 2, "乙": 2, "丙": 1}
    # K = 1 over two equal regions: the smaller name by UTF-8 bytes (乙 E4B999 < 甲 E794B2).
    assert region_balance(1, {"甲": 5, "乙": 5}) == {"甲": 0, "乙": 1}
    # Equal remainders, different sizes: the larger region first.
    assert region_balance(2, {"a": 2, "b": 4, "c": 6}) == {"a": 0, "b": 1, "c": 1}
    assert sum(region_balance(17, {"x": 13, "y": 29, "z": 31}).values()) == 17


# --- pools ------------------------------------------------------------------------------------


def T(n: int, industry: str = "机械", region: str = "城关镇", risk: str = "一般", status: str = "存续",
      blacklist: bool = False, flags: tuple[str, ...] = ()) -> TargetRow:  # fmt: skip
    fl = frozenset(flags) | ({"blacklist"} if blacklist else set())
    return TargetRow(f"U{n:04d}", f"企业{n}", industry, region, risk, status, blacklist, fl)


ON = date(2026, 6, 15)


def test_directed_filters_by_industry_region_and_conditions() -> None:
    ts = [T(1), T(2, industry="轻工"), T(3, region="北留镇"), T(4, flags=("dust_explosion",)),
          T(5, flags=("confined_space",)), T(6, industry="煤矿", flags=("dust_explosion",))]  # fmt: skip
    rate = Ratio("rate", bp=10000)
    pool = compute_pool(ts, Scope(DIRECTED, industries=frozenset({"机械"})), rate, Rules(), on=ON)
    assert [c.uscc for c in pool.candidates] == ["U0001", "U0003", "U0004", "U0005"]
    pool = compute_pool(ts, Scope(DIRECTED, regions=frozenset({"北留镇"})), rate, Rules(), on=ON)
    assert [c.uscc for c in pool.candidates] == ["U0003"]
    cond = frozenset({"dust_explosion", "confined_space"})  # any of them
    pool = compute_pool(ts, Scope(DIRECTED, conditions=cond), rate, Rules(), on=ON)
    assert [c.uscc for c in pool.candidates] == ["U0004", "U0005", "U0006"]
    # The items' 抽查对象 bound every task, directed or not.
    scope = Scope(DIRECTED, conditions=cond, item_industries=frozenset({"机械", "轻工"}))
    assert [c.uscc for c in compute_pool(ts, scope, rate, Rules(), on=ON).candidates] == ["U0004", "U0005"]
    scope = Scope(UNDIRECTED, industries=frozenset({"轻工"}), item_industries=frozenset({"机械"}))
    assert len(compute_pool(ts, scope, rate, Rules(), on=ON).candidates) == 4  # 不定向 ignores the filters


def test_rate_on_a_single_stratum() -> None:
    ts = [T(i) for i in range(1, 101)]
    pool = compute_pool(ts, Scope(DIRECTED), Ratio("rate", bp=500), Rules(), on=ON)
    assert pool.strata == {"": 100} and pool.quotas == {"": 5} and pool.sample_size == 5


def test_count_and_count_beyond_the_pool() -> None:
    ts = [T(i) for i in range(1, 11)]
    pool = compute_pool(ts, Scope(DIRECTED), Ratio("count", count=4), Rules(), on=ON)
    assert pool.quotas == {"": 4}
    pool = compute_pool(ts, Scope(DIRECTED), Ratio("count", count=12), Rules(), on=ON)
    assert any("要抽取 12 家" in p for p in pool.problems)


def test_undirected_balances_across_regions() -> None:
    ts = [T(i, region="城关镇") for i in range(60)] + [T(100 + i, region="北留镇") for i in range(30)]
    ts += [T(200 + i, region="马岭乡") for i in range(10)]
    pool = compute_pool(ts, Scope(UNDIRECTED), Ratio("rate", bp=1000), Rules(), on=ON)
    assert pool.strata == {"北留镇": 30, "城关镇": 60, "马岭乡": 10}
    assert pool.quotas == {"北留镇": 3, "城关镇": 6, "马岭乡": 1}
    assert all(c.stratum == c.region for c in pool.candidates)


def test_rates_by_risk_tier() -> None:
    ts = [T(i, risk="重大") for i in range(3)] + [T(10 + i, risk="较大") for i in range(10)]
    ts += [T(100 + i, risk="一般") for i in range(100)] + [T(300 + i, risk="低") for i in range(41)]
    ratio = parse_ratio("重大:100%;较大:30%;一般:10%")
    pool = compute_pool(ts, Scope(DIRECTED), ratio, Rules(), on=ON)
    assert pool.quotas == {"一般": 10, "低": 0, "较大": 3, "重大": 3}  # 低 not listed: none drawn
    assert pool.strata["低"] == 41
    # 不定向 with tiers: each tier balanced over regions.
    ts2 = [T(i, risk="较大", region="城关镇") for i in range(10)] + [T(50 + i, risk="较大", region="北留镇")
                                                                  for i in range(10)]  # fmt: skip
    pool = compute_pool(ts2, Scope(UNDIRECTED), parse_ratio("较大:25%"), Rules(), on=ON)
    # K = ceil(20 × 25%) = 5 → 2 + 2, one left; equal remainders and sizes → the smaller name (北 < 城).
    assert pool.quotas == {"较大·北留镇": 3, "较大·城关镇": 2}


def test_exclusions_status_and_blacklist_mandatory() -> None:
    ts = [T(1), T(2, status="注销"), T(3, status="吊销"), T(4, status="停产"), T(5, blacklist=True)]
    pool = compute_pool(ts, Scope(DIRECTED), Ratio("rate", bp=10000), Rules(), on=ON)
    assert {e.uscc: e.reason for e in pool.exclusions} == {
        "U0002": "经营状态为注销",
        "U0003": "经营状态为吊销",
    }
    assert [c.uscc for c in pool.mandatory] == ["U0005"]
    assert [c.uscc for c in pool.candidates] == ["U0001", "U0004"]
    assert pool.total_selected == 3
    # With the 100 % rule off, a blacklisted unit is sampled like the others.
    pool = compute_pool(ts, Scope(DIRECTED), Ratio("rate", bp=10000), Rules(blacklist_full=False), on=ON)
    assert not pool.mandatory and "U0005" in [c.uscc for c in pool.candidates]
    pool = compute_pool(ts, Scope(DIRECTED), Ratio("rate", bp=10000), Rules(excluded_statuses=()), on=ON)
    assert not pool.exclusions


def past(uscc: str, on: date, items: tuple[str, ...] = ("YJ-1",), task: str = "RW-1") -> PastSelection:
    return PastSelection(uscc, f"S-{uscc}-{on}", task, frozenset(items), on)


def test_cycle_exclusion_by_item_task_or_any() -> None:
    ts = [T(1), T(2), T(3)]
    hist = [past("U0001", date(2026, 3, 1)), past("U0002", date(2026, 3, 1), items=("YJ-9",), task="RW-9")]
    scope = Scope(DIRECTED, item_codes=frozenset({"YJ-1"}), task_code="RW-2")
    rate = Ratio("rate", bp=10000)
    pool = compute_pool(ts, scope, rate, Rules(), hist, ON)
    assert [e.uscc for e in pool.exclusions] == ["U0001"]
    assert "本周期（2026年）已被抽中" in pool.exclusions[0].reason
    pool = compute_pool(ts, scope, rate, Rules(once_per_cycle_scope="task"), hist, ON)
    assert pool.exclusions == []  # other tasks
    pool = compute_pool(ts, scope, rate, Rules(once_per_cycle_scope="all"), hist, ON)
    assert [e.uscc for e in pool.exclusions] == ["U0001", "U0002"]
    pool = compute_pool(ts, scope, rate, Rules(once_per_cycle=False, yearly_cap=0), hist, ON)
    assert pool.exclusions == []
    # A quarterly cycle: a draw in March does not block June.
    pool = compute_pool(ts, scope, rate, Rules(cycle="quarter"), hist, ON)
    assert pool.exclusions == []
    pool = compute_pool(ts, scope, rate, Rules(cycle="half"), hist, ON)
    assert [e.uscc for e in pool.exclusions] == ["U0001"]
    assert "2026年上半年" in pool.exclusions[0].reason


def test_yearly_cap_with_blacklist_exempt() -> None:
    ts = [T(1), T(2, blacklist=True), T(3)]
    hist = [past(u, d, items=(f"X{i}",), task=f"T{i}") for i, (u, d) in enumerate([
        ("U0001", date(2026, 1, 5)), ("U0001", date(2026, 2, 5)), ("U0002", date(2026, 1, 5)),
        ("U0002", date(2026, 2, 5)), ("U0003", date(2025, 5, 5)), ("U0003", date(2026, 2, 5))])]  # fmt: skip
    scope = Scope(DIRECTED, item_codes=frozenset({"YJ-1"}))
    pool = compute_pool(ts, scope, Ratio("rate", bp=10000), Rules(), hist, ON)
    assert {e.uscc: e.reason for e in pool.exclusions} == {"U0001": "本年度已被抽查 2 次（每年最多 2 次）"}
    assert [c.uscc for c in pool.mandatory] == ["U0002"]  # 黑名单 aside
    assert [c.uscc for c in pool.candidates] == ["U0003"]  # once last year, once this year
    pool = compute_pool(ts, scope, Ratio("rate", bp=10000), Rules(blacklist_exempt_from_cap=False), hist, ON)
    assert {e.uscc for e in pool.exclusions} == {"U0001", "U0002"}


def test_empty_pool_is_a_problem() -> None:
    pool = compute_pool([T(1, industry="轻工")], Scope(DIRECTED, industries=frozenset({"机械"})),
                        Ratio("rate", bp=500), Rules(), on=ON)  # fmt: skip
    assert any("候选名单为空" in p for p in pool.problems)


# --- the demo plan, end to end ----------------------------------------------------------------


def test_demo_tasks_have_pools_and_samples(demo_db: Any) -> None:
    with demo_db.read() as conn:
        tp = task_pool(conn, get_task(conn, "RW-2026-02"), on=date(2026, 6, 1))
    pool = tp.pool
    assert tp.task.draw_type == UNDIRECTED and len(pool.strata) == 12
    assert pool.sample_size == sum(pool.quotas.values()) == quota(len(pool.candidates), 500)
    assert tp.inspectors_eligible > 2 and not tp.problems
    n_gongmao = demo_db.scalar(
        "SELECT count(*) FROM target WHERE archived = 0 AND industry IN "
        "('冶金','有色','建材','机械','轻工','纺织','烟草','商贸')"
    )
    assert pool.in_scope == n_gongmao


def test_rules_are_saved_in_the_database(db: Any) -> None:
    assert read_rules(db) == Rules()
    save_rules(db, Rules(cycle="quarter", yearly_cap=3, excluded_statuses=("注销",)))
    r = read_rules(db)
    assert (r.cycle, r.yearly_cap, r.excluded_statuses) == ("quarter", 3, ("注销",))
    with pytest.raises(ValidationError, match="存续"):
        save_rules(db, Rules(excluded_statuses=("存续",)))


# --- plan import ------------------------------------------------------------------------------


def plan_row(code: str = "RW-T-01", **over: Any) -> list[Any]:
    rec = {
        "抽查计划编号": "JH-T", "抽查计划名称": "测试计划", "年度": 2026, "抽查任务编号": code,
        "抽查任务名称": "测试任务", "抽查类型": "定向", "抽查事项": "YJ-002", "行业领域": "机械",
        "所属区域": "", "对象条件": "", "抽查比例": "5%", "每组检查人数": 2, "每组专家人数": 0,
        "发起部门": "县应急管理局", "联合部门": "", "开始日期": date(2026, 3, 1), "结束日期": date(2026, 9, 30),
        "抽查对象范围": "",
    }  # fmt: skip
    rec.update(over)
    return [rec[h] for h in PLAN_ROWS.headers]


def plan_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    wb.active.append(PLAN_ROWS.headers)
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def test_plan_import_adds_updates_and_links_items(demo_data_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    path = plan_xlsx(
        tmp_path / "p.xlsx", [plan_row("RW-T-01"), plan_row("RW-T-02", 抽查事项="YJ-002、YJ-006")]
    )
    assert main(["import", "plan", str(path)]) == 0
    assert "新增 2" in capsys.readouterr().out
    db = open_database(demo_data_dir)
    try:
        assert db.scalar("SELECT count(*) FROM plan WHERE code = 'JH-T'") == 1
        links = db.scalar(
            "SELECT group_concat(i.code) FROM task_item ti JOIN item i ON i.id = ti.item_id "
            "JOIN task t ON t.id = ti.task_id WHERE t.code = 'RW-T-02'"
        )
        assert sorted(links.split(",")) == ["YJ-002", "YJ-006"]
        with db.read() as conn:
            t = get_task(conn, "RW-T-01")
        assert t.ratio == Ratio("rate", bp=500) and t.team_size == 2
    finally:
        db.close()
    path = plan_xlsx(
        tmp_path / "p2.xlsx",
        [plan_row("RW-T-01", 抽查比例="8%"), plan_row("RW-T-02", 抽查事项="YJ-002、YJ-006")],
    )
    assert main(["import", "plan", str(path)]) == 0
    assert "新增 0，更新 1，未变 1" in capsys.readouterr().out


BAD_PLAN_CASES = {
    "unknown item": ({"抽查事项": "YJ-999"}, ["第 2 行 G 列（抽查事项）", "YJ-999", "清单之外无检查"]),
    "retired item": ({"抽查事项": "YJ-010", "行业领域": ""}, ["第 2 行 G 列", "已停用"]),
    "team of one": ({"每组检查人数": 1}, ["第 2 行 L 列（每组检查人数）", "至少为 2"]),
    "bad ratio": ({"抽查比例": "百分之五"}, ["第 2 行 K 列（抽查比例）", "无法识别的抽查比例"]),
    "end before start": ({"结束日期": date(2026, 2, 1)}, ["第 2 行 Q 列（结束日期）", "早于开始日期"]),
    "undirected with filters": ({"抽查类型": "不定向"}, ["第 2 行 H 列（行业领域）", "不定向"]),
    "industry outside the items": (
        {"行业领域": "煤矿"},
        ["第 2 行 H 列（行业领域）", "不在所选抽查事项的抽查对象之内"],
    ),
    "unknown condition": ({"对象条件": "高温"}, ["第 2 行 J 列（对象条件）", "高温"]),
    "bad draw type": ({"抽查类型": "随机"}, ["第 2 行 F 列（抽查类型）", "定向、不定向"]),
}


@pytest.mark.parametrize("case", list(BAD_PLAN_CASES))
def test_bad_plan_rows_are_refused_whole(case: str, demo_data_dir: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    over, fragments = BAD_PLAN_CASES[case]
    path = plan_xlsx(tmp_path / "bad.xlsx", [plan_row("RW-T-01", **over), plan_row("RW-T-02")])
    before = fingerprint(demo_data_dir)
    assert main(["import", "plan", str(path)]) == 1
    err = capsys.readouterr().err
    for frag in fragments:
        assert frag in err, f"{frag!r} not in:\n{err}"
    assert fingerprint(demo_data_dir) == before


def test_duplicate_task_code_is_refused(
    demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan_xlsx(tmp_path / "dup.xlsx", [plan_row("RW-T-01"), plan_row("RW-T-01", 抽查任务名称="另一个")])
    before = fingerprint(demo_data_dir)
    assert main(["import", "plan", str(path)]) == 1
    assert "第 3 行 D 列（抽查任务编号）" in capsys.readouterr().err
    assert fingerprint(demo_data_dir) == before


def test_plan_and_items_round_trip(
    demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind in ("items", "plan"):
        out = tmp_path / f"{kind}.xlsx"
        assert main(["export", kind, str(out)]) == 0
        capsys.readouterr()
        assert main(["import", kind, str(out)]) == 0
        text = capsys.readouterr().out
        assert "新增 0，更新 0" in text, text
    assert main(["template", "plan", str(tmp_path / "tpl.xlsx")]) == 0


def test_item_used_by_a_task_can_be_retired_not_deleted(demo_db: Any) -> None:
    from dsj_desktop.domain.plan_specs import ITEMS
    from dsj_desktop.services.directory import DirectoryQuery, Filter

    q = DirectoryQuery(demo_db, ITEMS)
    row = demo_db.scalar("SELECT id FROM item WHERE code = 'YJ-002'")
    assert q.set_archived([row], True) == 1
    assert demo_db.scalar("SELECT count(*) FROM item") == 10
    assert "YJ-002" not in [q.get(i)["code"] for i in q.ids(Filter())]
    with demo_db.read() as conn:
        tp = task_pool(conn, get_task(conn, "RW-2026-02"))
    # The task planned with it keeps working (and says so); new tasks cannot use it.
    assert not tp.problems and any("已停用" in n for n in tp.notes)
