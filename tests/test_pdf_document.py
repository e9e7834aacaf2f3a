from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4

from dsj_desktop.errors import UserError
from dsj_desktop.pdf import fonts
from dsj_desktop.pdf.document import Column, PdfDocument
from dsj_desktop.pdf.text import TextMeasure

from .pdf_helpers import BUREAU, COLUMNS, TITLE, pdf_fonts, pdf_pages_text, sample_record, sample_rows


@pytest.fixture(scope="module")
def record_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PdfDocument]:
    doc = sample_record(rows=150)
    path = tmp_path_factory.mktemp("pdf") / "record.pdf"
    doc.save(path)
    return path, doc


def test_multi_page_record_embeds_the_cjk_font(record_pdf: tuple[Path, PdfDocument]) -> None:
    path, doc = record_pdf
    assert doc.page_count >= 3
    fonts_used = pdf_fonts(path)
    assert fonts_used, "no fonts listed"
    assert all(emb == "yes" for _, emb in fonts_used), fonts_used  # nothing left to the viewer
    assert any("WenQuanYi" in name for name, _ in fonts_used)


def test_every_page_has_header_and_page_numbers(record_pdf: tuple[Path, PdfDocument]) -> None:
    path, doc = record_pdf
    pages = pdf_pages_text(path)
    assert len(pages) == doc.page_count
    assert TITLE in pages[0]
    assert "一、基本信息" in pages[0]
    for i, text in enumerate(pages, start=1):
        assert f"第{i}页共{doc.page_count}页" in text, f"page {i}"
        assert BUREAU in text and "编号：CJ-2025-0001" in text, f"page {i}"
    # the table header row is repeated on every page the table runs over
    assert all("统一社会信用代码" in t for t in pages[1:-1])
    # every row made it, in order
    joined = "".join(pages)
    assert "91350100M000149Y49" in joined
    assert joined.index("91350100M000010Y40") < joined.index("91350100M000100Y40")


def test_stamp_area_is_recorded_inside_the_page(record_pdf: tuple[Path, PdfDocument]) -> None:
    _, doc = record_pdf
    placement = doc.stamp_placement
    assert placement is not None and placement.box is not None
    assert placement.page == doc.page_count - 1
    x1, y1, x2, y2 = placement.box
    width, height = A4
    assert 0 < x1 < x2 <= width and 0 < y1 < y2 <= height
    assert x2 - x1 == pytest.approx(75 * 72 / 25.4, abs=0.1)


def test_landscape_table_document(tmp_path: Path) -> None:
    doc = PdfDocument("2025 年度抽查事项清单", bureau=BUREAU, orientation="landscape")
    doc.heading(lines=["公示期：2025-03-01 至 2025-03-31"])
    n = doc.table(COLUMNS, sample_rows(80))
    doc.signature_lines(["制表人", "审核人", "负责人", "监督人"])
    path = tmp_path / "list.pdf"
    data = doc.save(path)
    assert n == 80
    assert path.read_bytes() == data
    assert doc.pagesize[0] > doc.pagesize[1]
    pages = pdf_pages_text(path)
    assert len(pages) == doc.page_count >= 2
    assert "2025年度抽查事项清单" in pages[0]
    assert f"第{doc.page_count}页共{doc.page_count}页" in pages[-1]
    assert "制表人：" in pages[-1]


def test_table_wraps_only_long_cells() -> None:
    doc = PdfDocument("表", bureau=BUREAU)
    doc.table([Column("名称", 1), Column("代码", 1)], [["短", "91350100M000100Y43"], ["很长" * 40, None]])
    table = doc.story[-2]
    cells = table._cellvalues
    assert cells[1] == ["短", "91350100M000100Y43"]
    assert "\n" in cells[2][0] and cells[2][1] == ""
    with pytest.raises(ValueError):
        doc.table(["a", "b"], [["only one"]])


def test_wrap_lines_respects_width_and_punctuation() -> None:
    measure = TextMeasure(fonts.register_cjk_font(), 9)
    text = "青山县城关镇工业园区纬三路8号化工有限公司（分公司），ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 hello"
    for width in (30, 45, 60, 100):
        lines = measure.wrap_lines(text, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for line in lines:
            assert measure.width(line) <= width + 0.01 or len(line) == 1, (width, line)
        for line in lines[1:]:
            assert line[0] not in "，。、）》", (width, lines)


def test_wrap_keeps_a_number_with_its_percent_and_comma() -> None:
    measure = TextMeasure(fonts.register_cjk_font(), 9)
    text = "重大100%，较大30%，一般10%，低5%"
    for width in range(40, 130, 3):
        lines = measure.wrap_lines(text, width)
        assert "".join(lines) == text
        for line in lines[1:]:
            assert line[0] not in "%，", (width, lines)


def test_missing_font_is_a_user_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fonts, "cjk_font_path", lambda: tmp_path / "missing.ttc")
    with pytest.raises(UserError, match="字体"):
        fonts.font_path()


def test_markup_is_escaped(tmp_path: Path) -> None:
    doc = PdfDocument("A&B <测试>", bureau="X&Y")
    doc.heading()
    doc.paragraph("1 < 2 & 3 > 2")
    doc.key_values({"名称": "<b>未加粗</b>"})
    path = tmp_path / "esc.pdf"
    doc.save(path)
    text = pdf_pages_text(path)[0]
    assert "A&B<测试>" in text and "1<2&3>2" in text and "<b>未加粗</b>" in text
