"""Long tables (PdfDocument.table, PagedTable): laid out in time linear in their rows, and printed
exactly as reportlab's own Table(data, colWidths, rowHeights, repeatRows=1, style) prints them."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from reportlab.platypus import Table, TableStyle
from reportlab.platypus import tables as rl_tables

from dsj_desktop.pdf import document
from dsj_desktop.pdf.document import Column, PagedTable, PdfDocument

from .pdf_helpers import BUREAU, COLUMNS, need, pdf_pages_text, sample_rows

HEADER = ["序号", "统一社会信用代码", "名称", "分层"]
CANDIDATE_COLUMNS = [
    Column(HEADER[0], 0.6, "center"),
    Column(HEADER[1], fit="91350100M000100Y43"),
    Column(HEADER[2], 3.4),
    Column(HEADER[3], 1.4, "right"),
]


def candidate_rows(n: int, seed: int = 3) -> list[list[str]]:
    """Rows like the record's appendix of candidates; one name in six wraps to two or more lines."""
    rng = random.Random(seed)
    parts = ("锦绣纺织品进出口贸易", "青松新型环保建材科技开发", "汇通国际物流供应链管理", "凤翔精细化工")
    rows = []
    for i in range(1, n + 1):
        name = "青山县" + "".join(rng.choice(parts) for _ in range(1 if rng.random() < 5 / 6 else 3))
        rows.append([str(i), f"91140522{i:09d}X", f"{name}有限公司{i}", rng.choice(("城关镇", "青山镇", ""))])
    return rows


def plain_table(data: list[list[str]], widths: Any, heights: Any, style: Any) -> Table:
    """What PdfDocument.table made before PagedTable: one reportlab Table of every row."""
    table = Table(data, colWidths=widths, rowHeights=heights, repeatRows=1, style=TableStyle(style))
    table.hAlign = "LEFT"
    return table


def long_document(rows: int, *, zebra: bool = True) -> PdfDocument:
    doc = PdfDocument("抽查对象随机抽取记录", bureau=BUREAU, doc_id="S-2026-0001-TEST")
    doc.heading(lines=["抽取时间：2026-06-01 09:30:12"])
    doc.section("附录一　候选检查对象名单")
    doc.table(CANDIDATE_COLUMNS, candidate_rows(rows), font_size=8.0, zebra=zebra)
    doc.section("附录二　其他")
    doc.table(COLUMNS, sample_rows(70))
    doc.paragraph("以上。")
    return doc


def build_both(monkeypatch: pytest.MonkeyPatch, make: Any, tmp_path: Path) -> tuple[Path, Path]:
    """*make()*'s document built as it is now and with plain reportlab Tables."""
    paged = tmp_path / "paged.pdf"
    make().save(paged)
    with monkeypatch.context() as m:
        m.setattr(document, "PagedTable", plain_table)
        plain = tmp_path / "plain.pdf"
        make().save(plain)
    return paged, plain


def test_a_long_table_prints_exactly_what_one_reportlab_table_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paged, plain = build_both(monkeypatch, lambda: long_document(900), tmp_path)
    pages = pdf_pages_text(paged)
    assert len(pages) >= 10
    assert pages == pdf_pages_text(plain)  # the same rows on the same pages, footers included
    table_pages = [p for p in pages if "S-2026-0001-TEST" in p and "91140522" in p]
    assert len(table_pages) >= 10
    for i, page in enumerate(table_pages):
        # The header on every page the table spans (pdftotext reads the right-aligned column last).
        assert "".join(HEADER[:3]) in page and HEADER[3] in page, i
    text = "".join(pages)
    positions = [text.index(f"91140522{i:09d}X") for i in range(1, 901)]
    assert positions == sorted(positions)  # every row once, in order
    # Rendered, every page is the same picture (stripes, rules, alignment, wrapped rows).
    for path in (paged, plain):
        subprocess.run([need("pdftoppm"), "-r", "30", str(path), str(path.with_suffix(""))], check=True)
    shots = sorted(tmp_path.glob("paged-*.ppm"))
    assert len(shots) == len(pages)
    for shot in shots:
        assert shot.read_bytes() == (tmp_path / shot.name.replace("paged", "plain")).read_bytes(), shot.name


def test_page_by_page_the_parts_are_the_tables_reportlab_makes() -> None:
    """Split the same table both ways, page after page (the first page partly used): each page's
    Table has the same cells, heights, cell styles and line and background commands."""
    doc = PdfDocument("表", bureau=BUREAU)
    doc.table(CANDIDATE_COLUMNS, candidate_rows(400), font_size=8.0)
    paged = doc.story[-2]
    assert isinstance(paged, PagedTable)
    plain = plain_table(paged._cellvalues, paged._col_widths, paged._row_heights, paged._style.getCommands())
    width, height = doc.frame_width, doc.frame_height

    def same(a: Table, b: Table) -> None:
        a.wrap(width, height)
        b.wrap(width, height)
        assert a._cellvalues == b._cellvalues
        assert a._rowHeights == b._rowHeights and a._height == b._height and a._width == b._width
        assert a._linecmds == b._linecmds
        assert a._bkgrndcmds == b._bkgrndcmds
        assert getattr(a, "_cornerRadii", None) == getattr(b, "_cornerRadii", None)
        assert (a.hAlign, a.vAlign) == (b.hAlign, b.vAlign)

        def styles(t: Table) -> list[list[dict[str, Any]]]:
            return [[{k: v for k, v in vars(c).items() if k != "name"} for c in row] for row in t._cellStyles]

        assert styles(a) == styles(b)

    avail, pages = height * 0.37, 0
    while True:
        assert paged.wrap(width, avail) == plain.wrap(width, avail)
        if plain._height <= avail:
            same(paged._rest_table(len(paged._cellvalues)), plain)
            break
        parts, expected = paged.split(width, avail), plain.split(width, avail)
        assert len(parts) == len(expected) == 2
        same(parts[0], expected[0])
        paged, plain = parts[1], expected[1]
        avail, pages = height, pages + 1
    assert pages >= 6


def test_a_page_too_short_for_a_row_is_refused_as_reportlab_refuses_it() -> None:
    doc = PdfDocument("表", bureau=BUREAU)
    doc.table(CANDIDATE_COLUMNS, candidate_rows(30))
    paged = doc.story[-2]
    header = paged._row_heights[0]
    assert paged.split(doc.frame_width, header * 1.01) == []  # only the header would fit
    assert paged.split(doc.frame_width, header / 2) == []
    first, rest = paged.split(doc.frame_width, header + paged._row_heights[1] + 0.01)
    assert first._cellvalues == paged._cellvalues[:2]
    assert rest._cellvalues is paged._cellvalues and rest._offset == 2


def test_a_long_table_is_laid_out_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts the rows reportlab's Tables are made of while a 5,000-row table is laid out on ~110
    pages: each row about once (a Table per page), not rows × pages / 2 as when one Table was split
    page by page (a new Table of all the remaining rows each page: 273,524 rows in 216 Tables)."""
    made: list[int] = []
    original = rl_tables.Table.__init__

    def counting(self: Table, data: Any, *args: Any, **kwargs: Any) -> None:
        made.append(len(data))
        original(self, data, *args, **kwargs)

    doc = PdfDocument("表", bureau=BUREAU)
    doc.table(CANDIDATE_COLUMNS[:3], (r[:3] for r in candidate_rows(5000)), font_size=8.0)
    monkeypatch.setattr(rl_tables.Table, "__init__", counting)
    doc.build()
    assert doc.page_count >= 80
    assert 5000 < sum(made) < 2 * 5000, (sum(made), len(made))
    assert max(made) < 100  # no Table of more than a page of rows
