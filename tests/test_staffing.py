"""检查人员要求 is free text kept as written; the program derives only what it can name (required
执法专长, a minimum team size) and says so; a refusal names the items that caused it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.plan_specs import ITEMS
from dsj_desktop.domain.staffing import parse
from dsj_desktop.io.importer import import_directory
from dsj_desktop.progress import run_job
from dsj_desktop.services.draw_preview import pool_preview
from dsj_desktop.services.plan import get_task, task_pool
from tests.test_draw_sessions import add_task

KNOWN = ["危险化学品", "煤矿", "非煤矿山", "烟花爆竹", "工贸"]
ON = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("text", "specialties", "team", "notes"),
    [
        ("持有效执法证，2人以上", (), 2, ()),
        ("持有效执法证、2人以上", (), 2, ()),
        ("不少于3人", (), 3, ()),
        ("至少两人，具备危险化学品执法专长", ("危险化学品",), 2, ()),
        ("危险化学品", ("危险化学品",), 0, ()),
        ("非煤矿山", ("非煤矿山",), 0, ()),  # not 煤矿: the longest value wins
        ("熟悉烟花爆竹和危险化学品", ("烟花爆竹", "危险化学品"), 0, ()),
        ("执法人员2名以上；须有安全生产检查经验", (), 2, ("须有安全生产检查经验",)),
        ("持有效执法证，并经过岗前培训", (), 0, ("并经过岗前培训",)),
        ("", (), 0, ()),
    ],
)
def test_the_requirement_text_is_read_for_what_it_names(
    text: str, specialties: tuple[str, ...], team: int, notes: tuple[str, ...]
) -> None:
    req = parse(text, KNOWN)
    assert req.text == text
    assert req.specialties == specialties
    assert req.min_team == team
    assert req.notes == notes


def test_what_was_derived_reads_like_the_issue_says() -> None:
    req = parse("危险化学品，2人以上", KNOWN)
    assert req.derived == "要求执法专长：危险化学品；每组至少 2 人"
    assert "执法证有效且在岗（程序一律要求）" in req.explain()
    assert "作为说明保留：并经过岗前培训" in parse("并经过岗前培训", KNOWN).explain()


def _items_file(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["事项编码", "抽查事项", "抽查对象", "检查人员要求"])
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def _set_req(db: Database, code: str, text: str) -> None:
    with db.write("测试：修改检查人员要求") as conn:
        conn.exec_driver_sql("UPDATE item SET inspector_req = ? WHERE code = ?", (text, code))


def test_the_item_import_keeps_the_text_and_says_what_it_derived(demo_db: Database, tmp_path: Path) -> None:
    path = _items_file(
        tmp_path / "清单.xlsx",
        [
            ("YJ-101", "危化品企业检查", "危险化学品", "持有效执法证，2人以上"),
            ("YJ-102", "烟花爆竹检查", "烟花爆竹", "持有效执法证，2人以上"),
            ("YJ-103", "工贸企业检查", "机械", "危险化学品，不少于3人"),
        ],
    )
    summary = run_job(import_directory(demo_db, ITEMS, path))
    text = summary.text()
    assert "“持有效执法证，2人以上”（YJ-101、YJ-102）→ 每组至少 2 人；执法证有效且在岗" in text
    assert "“危险化学品，不少于3人”（YJ-103）→ 要求执法专长：危险化学品；每组至少 3 人" in text
    stored = demo_db.scalar("SELECT inspector_req FROM item WHERE code = 'YJ-101'")
    assert stored == "持有效执法证，2人以上"  # kept as written


def test_a_phrase_is_never_a_required_specialty(demo_db: Database) -> None:
    add_task(demo_db, "RW-S-1", items="YJ-004")
    _set_req(demo_db, "YJ-004", "持有效执法证，2人以上")
    with demo_db.read() as conn:
        tp = task_pool(conn, get_task(conn, "RW-S-1"), ON)
    assert tp.inspector_req == ()
    assert tp.min_team == 2
    assert tp.inspectors_eligible > 2 and not tp.problems


def test_a_refusal_names_the_items_whose_requirements_caused_it(demo_db: Database) -> None:
    add_task(demo_db, "RW-S-2", items="YJ-004")
    _set_req(demo_db, "YJ-004", "需具备矿山救护专长")  # not a known value: a note, nothing required
    with demo_db.read() as conn:
        assert not task_pool(conn, get_task(conn, "RW-S-2"), ON).problems
    with demo_db.write("测试：没有人有危险化学品专长") as conn:
        conn.exec_driver_sql(
            "UPDATE inspector SET specialties = '工贸' WHERE specialties LIKE '%危险化学品%'"
        )
    _set_req(demo_db, "YJ-004", "危险化学品，2人以上")
    with demo_db.read() as conn:
        tp = task_pool(conn, get_task(conn, "RW-S-2"), ON)
    text = "\n".join(tp.problems)
    assert "可抽取的执法人员只有 0 人" in text
    assert "YJ-004" in text and "要求危险化学品" in text and "抽查事项清单" in text


def test_a_team_smaller_than_an_item_asks_for_is_refused(demo_db: Database) -> None:
    add_task(demo_db, "RW-S-3", items="YJ-004", team_size=2)
    _set_req(demo_db, "YJ-004", "持有效执法证，不少于3人")
    with demo_db.read() as conn:
        tp = task_pool(conn, get_task(conn, "RW-S-3"), ON)
    assert any("每组至少 3 人" in p and "每组检查人数为 2" in p and "YJ-004" in p for p in tp.problems)


def test_the_rules_text_never_divides_by_zero(demo_db: Database) -> None:
    add_task(demo_db, "RW-S-4", items="YJ-004")
    with demo_db.write("测试：证件过期") as conn:
        conn.exec_driver_sql("UPDATE inspector SET cert_valid_until = '2000-01-01'")
    with demo_db.read() as conn:
        preview = pool_preview(conn, "RW-S-4", ON)
    text = "\n".join(preview.rules_text())
    assert "÷ 0" not in text
    assert "目前没有可抽取的执法检查人员" in text


def test_the_items_tab_shows_the_reading_beside_the_text(demo_db: Database, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    from dsj_desktop.ui.items_tab import ItemsTab

    _set_req(demo_db, "YJ-004", "持有效执法证，2人以上")
    tab = ItemsTab(demo_db)
    qtbot.addWidget(tab)
    model = tab.model
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    col = headers.index("程序识别的人员要求")
    assert headers[col - 1] == "检查人员要求"
    row = next(r for r in range(model.rowCount()) if model.data(model.index(r, 0)) == "YJ-004")
    assert model.data(model.index(row, col - 1)) == "持有效执法证，2人以上"
    assert model.data(model.index(row, col)) == "每组至少 2 人"
    tip = model.data(model.index(row, col), Qt.ItemDataRole.ToolTipRole)
    assert "执法证有效且在岗" in tip
