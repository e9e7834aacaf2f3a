"""Summaries of tasks and pools for the plan tab and the publications."""

from __future__ import annotations

from datetime import date
from typing import Any

from dsj_desktop.domain.ratio import parse_ratio
from dsj_desktop.services.plan import get_task, task_pool, tasks_using_items
from dsj_desktop.services.plan_overview import (
    PoolReady,
    list_plans,
    period_state,
    pool_summaries,
    ratio_label,
    summarize,
    task_rows,
)

ON = date(2026, 6, 1)


def test_pool_summaries_arrive_one_task_at_a_time(demo_db: Any) -> None:
    with demo_db.read() as conn:
        codes = [r.task.code for r in task_rows(conn)]
    job = pool_summaries(demo_db, codes, on=ON)
    seen = []
    while True:
        try:
            step = next(job)
        except StopIteration as stop:
            result = stop.value
            break
        assert isinstance(step, PoolReady) and step.summary is not None
        seen.append(step.summary.task_code)
        assert step.done == len(seen) and step.total == len(codes)
    assert seen == codes and list(result) == codes
    s = result["RW-2026-02"]
    with demo_db.read() as conn:
        tp = task_pool(conn, get_task(conn, "RW-2026-02"), on=ON)
    assert s == summarize(tp)
    assert s.candidates == len(tp.pool.candidates) and s.sample == tp.pool.sample_size
    assert s.to_inspect == tp.pool.total_selected == s.sample + len(s.mandatory)
    assert sum(st.quota for st in s.strata) == s.sample
    assert s.rules[0].startswith("抽查周期")


def test_task_rows_scope_and_items(demo_db: Any) -> None:
    with demo_db.read() as conn:
        rows = {r.task.code: r for r in task_rows(conn)}
        plans = list_plans(conn)
    assert [(p.code, p.tasks) for p in plans] == [("JH-2026-01", 6)]
    assert rows["RW-2026-01"].item_names == ["危险化学品生产经营单位安全生产检查"]
    assert rows["RW-2026-01"].scope == "行业领域：危险化学品"
    assert rows["RW-2026-02"].scope.startswith("全部检查对象，按所属区域均衡抽取；行业领域：冶金")
    assert rows["RW-2026-03"].scope.endswith("对象条件：粉尘涉爆")
    assert rows["RW-2026-06"].scope == "行业领域：不限；对象条件：职业病危害"
    assert ratio_label(parse_ratio("重大:100%;低:5%")) == "按风险等级：重大100%，低5%"
    assert ratio_label(parse_ratio("重大:100%;低:5%"), multiline=True) == "按风险等级：\n重大100%\n低5%"


def test_tasks_using_items(demo_db: Any) -> None:
    with demo_db.read() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM item WHERE code IN ('YJ-002', 'YJ-009')")]
        assert tasks_using_items(conn, ids) == {"YJ-002": ["RW-2026-02"]}


def test_save_task_uses_the_import_rules(demo_db: Any) -> None:
    import pytest

    from dsj_desktop.errors import ValidationError
    from dsj_desktop.services.plan import save_task

    values = {
        "plan_code": "JH-2026-01", "plan_name": "青山县应急管理局2026年度“双随机、一公开”抽查计划",
        "plan_year": 2026, "code": "RW-X", "name": "测试", "draw_type": "定向", "items": "YJ-004",
        "industries": "烟花爆竹", "ratio": "5%", "team_size": 1, "start_date": date(2026, 5, 1),
        "end_date": date(2026, 4, 1),
    }  # fmt: skip
    with pytest.raises(ValidationError) as err:
        save_task(demo_db, values, new=True)
    assert err.value.problems == ["每组检查人数：每组检查人数至少为 2，不能是 1"]
    with pytest.raises(ValidationError) as err:
        save_task(demo_db, {**values, "team_size": 2}, new=True)
    assert err.value.problems == ["结束日期：结束日期 2026-04-01 早于开始日期 2026-05-01"]
    with pytest.raises(ValidationError, match="已存在"):
        save_task(demo_db, {**values, "team_size": 2, "code": "RW-2026-01"}, new=True)
    task = save_task(demo_db, {**values, "team_size": 2, "end_date": date(2026, 6, 1)}, new=True)
    assert (task.code, task.plan_code, task.item_codes) == ("RW-X", "JH-2026-01", ("YJ-004",))
    task = save_task(demo_db, {**values, "team_size": 3, "end_date": date(2026, 6, 1)}, new=False)
    assert task.team_size == 3
    assert demo_db.scalar("SELECT count(*) FROM task") == 7


def test_a_day_outside_the_task_period_is_named_with_its_consequence(demo_db: Any) -> None:
    """RW-2026-03 runs 2026-04-01 to 2026-10-31: within it nothing is said; before or after, the
    summary says so and that a draw then needs a written reason (what sessions.prepare requires)."""
    with demo_db.read() as conn:
        task = get_task(conn, "RW-2026-03")
        inside = summarize(task_pool(conn, task, on=date(2026, 10, 31)))
        after = summarize(task_pool(conn, task, on=date(2026, 11, 1)))
        before = summarize(task_pool(conn, task, on=date(2026, 3, 31)))
    assert period_state(task, date(2026, 4, 1)) == inside.period == ""
    assert after.period == "期限已过（2026-10-31 截止），抽取须写明原因"
    assert before.period == "期限未到（2026-04-01 开始），抽取须写明原因"
