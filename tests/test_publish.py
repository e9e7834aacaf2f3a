"""Publication exports: the item list and the annual plan, as Excel and PDF, from the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dsj_desktop.cli import main
from dsj_desktop.db.engine import open_database
from dsj_desktop.demo.county import BUREAU, demo_items, demo_tasks
from dsj_desktop.services.plan import archive_task

from .demo_dates import DEMO_YEAR
from .pdf_helpers import pdf_fonts, pdf_pages_text

PHONE = re.compile(r"1[3-9]\d{9}")
ACTIVE_ITEMS = [i for i in demo_items(DEMO_YEAR) if not i.get("archived")]


def _sheet_rows(path: Path) -> tuple[list[str], list[str], list[list[object]]]:
    ws = load_workbook(path).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return [str(v) for v in rows[0] if v], [str(v) for v in rows[2]], rows[3:]


def test_item_list_xlsx_has_exactly_the_active_items(demo_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "items.xlsx"
    assert main(["publish-items", str(out)]) == 0
    title, headers, rows = _sheet_rows(out)
    assert title == [f"{BUREAU}2026年度随机抽查事项清单"]
    assert headers == ["序号", "事项编码", "抽查事项", "抽查类别", "抽查依据", "抽查主体", "抽查对象", "抽查内容",
                       "抽查方式", "抽查比例", "抽查频次"]  # fmt: skip
    assert [r[1] for r in rows] == [i["code"] for i in ACTIVE_ITEMS]  # YJ-010 is retired
    assert [r[0] for r in rows] == list(range(1, len(ACTIVE_ITEMS) + 1))
    ws = load_workbook(out).active
    assert "A1:K1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws["C4"].alignment.wrap_text and ws["C4"].border.left.style == "thin"
    assert ws["A3"].font.bold


def test_plan_pdf_and_xlsx(demo_data_dir: Path, tmp_path: Path) -> None:
    db = open_database(demo_data_dir)
    try:
        archive_task(db, "RW-2026-04")
    finally:
        db.close()
    live = [t for t in demo_tasks(DEMO_YEAR) if t["code"] != "RW-2026-04"]
    xlsx = tmp_path / "plan.xlsx"
    assert main(["publish-plan", str(xlsx), "--year", "2026"]) == 0
    title, headers, rows = _sheet_rows(xlsx)
    assert "2026" in title[0] and BUREAU in title[0]
    assert headers == ["序号", "抽查计划编号", "抽查任务名称", "抽查类型", "抽查事项", "抽查对象", "抽查比例",
                       "发起部门", "联合部门", "抽查时间"]  # fmt: skip
    assert [r[2] for r in rows] == [t["name"] for t in live]
    assert rows[0][4] == "危险化学品生产经营单位安全生产检查"  # names, not codes
    joint = next(r for r in rows if r[2] == "有限空间作业部门联合抽查")
    assert joint[8] == "县市场监督管理局、县消防救援大队"

    pdf = tmp_path / "plan.pdf"
    assert main(["publish-plan", str(pdf), "--plan", "JH-2026-01"]) == 0
    pages = pdf_pages_text(pdf)
    text = "".join(pages)
    assert BUREAU in text and "2026年度" in text
    for t in live:
        assert t["name"] in text
    assert "烟花爆竹经营单位抽查" not in text  # archived
    assert "第1页共" in pages[0]
    assert not PHONE.search(text)
    assert all(emb == "yes" for _, emb in pdf_fonts(pdf))


def test_item_list_pdf(demo_data_dir: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "items.pdf"
    assert main(["publish-items", str(pdf), "--year", "2026"]) == 0
    pages = pdf_pages_text(pdf)
    text = "".join(pages)
    assert BUREAU in text and "2026年度" in text and "第1页共" in pages[0]
    for item in ACTIVE_ITEMS:
        assert item["code"] in text
    assert "YJ-010" not in text
    assert not PHONE.search(text)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["publish-plan", "plan.doc"], ".xlsx（Excel）或 .pdf"),
        (["publish-plan", "plan.pdf", "--year", "2031"], "2031 年度计划中没有未归档的任务"),
        (["publish-plan", "plan.pdf", "--plan", "JH-404"], "JH-404"),
        (["publish-items", "items.pdf", "--year", "2020"], "没有可公示的抽查事项"),
    ],
)
def test_refusals(demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                  argv: list[str], message: str) -> None:  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    assert main([argv[0], str(out / argv[1]), *argv[2:]]) == 1
    assert message in capsys.readouterr().err
    assert not list(out.iterdir())


def test_needs_the_bureau_name(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish-items", str(tmp_path / "x.xlsx")]) == 1
    assert "单位名称" in capsys.readouterr().err
