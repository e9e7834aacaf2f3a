"""The annual summary PDF (年度统计报告): the tables and charts of :func:`stats.year_statistics`,
drawn with reportlab graphics, so the PDF shows exactly the numbers of the statistics tab."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm

from dsj_desktop.keys import KeyStore
from dsj_desktop.pdf.document import Column, PdfDocument
from dsj_desktop.pdf.sign import sign_pdf
from dsj_desktop.services.stats import PALETTE, Chart, YearStats


def _pie(chart: Chart, font: str, width: float) -> Drawing:
    height = 50 * mm
    d = Drawing(width, height)
    d.add(String(0, height - 10, chart.title, fontName=font, fontSize=10.5))
    total = sum(v for _, v in chart.data)
    if not chart.data or total <= 0:
        d.add(String(0, height - 30, "（暂无数据）", fontName=font, fontSize=9, fillColor=colors.grey))
        return d
    pie = Pie()
    size = height - 22
    pie.x, pie.y, pie.width, pie.height = 6, 4, size, size
    pie.data = [v for _, v in chart.data]
    pie.labels = None
    pie.simpleLabels = 1
    pie.slices.strokeColor = colors.white
    pie.slices.strokeWidth = 0.8
    for i in range(len(chart.data)):
        pie.slices[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
    d.add(pie)
    legend = Legend()
    legend.x, legend.y = size + 24, height - 22
    legend.fontName = font
    legend.fontSize = 8.5
    legend.alignment = "right"
    legend.dx = legend.dy = 7
    legend.deltay = 12
    legend.columnMaximum = 12
    legend.colorNamePairs = [
        (colors.HexColor(PALETTE[i % len(PALETTE)]), f"{label}  {v:g}（{100 * v / total:.1f}%）")
        for i, (label, v) in enumerate(chart.data)
    ]
    d.add(legend)
    return d


def _bars(chart: Chart, font: str, width: float) -> Drawing:
    n = max(1, len(chart.data))
    bar_h = 13.0
    height = 26 + n * bar_h + 18
    d = Drawing(width, height)
    d.add(String(0, height - 10, chart.title, fontName=font, fontSize=10.5))
    if not chart.data:
        d.add(String(0, height - 30, "（暂无数据）", fontName=font, fontSize=9, fillColor=colors.grey))
        return d
    bc = HorizontalBarChart()
    bc.x, bc.y = 70, 14
    bc.width, bc.height = width - 70 - 40, n * bar_h
    # Top to bottom in the given order.
    bc.data = [[v for _, v in reversed(chart.data)]]
    bc.categoryAxis.categoryNames = [label for label, _ in reversed(chart.data)]
    bc.categoryAxis.labels.fontName = font
    bc.categoryAxis.labels.fontSize = 8
    bc.categoryAxis.labels.boxAnchor = "e"
    bc.categoryAxis.labels.dx = -3
    bc.valueAxis.labels.fontName = font
    bc.valueAxis.labels.fontSize = 7.5
    bc.valueAxis.valueMin = 0
    top = max(v for _, v in chart.data)
    if chart.unit == "%":
        bc.valueAxis.valueMax = 100 if top <= 100 else top
        bc.valueAxis.valueStep = 20
        bc.valueAxis.labelTextFormat = "%d%%"
    else:
        bc.valueAxis.valueMax = max(1.0, top * 1.15)
    bc.bars[0].fillColor = colors.HexColor(PALETTE[0])
    bc.bars[0].strokeColor = None
    bc.barLabelFormat = "%.1f%%" if chart.unit == "%" else "%g"
    bc.barLabels.fontName = font
    bc.barLabels.fontSize = 7.5
    bc.barLabels.boxAnchor = "w"
    bc.barLabels.dx = 3
    d.add(bc)
    return d


def chart_drawing(chart: Chart, font: str, width: float) -> Drawing:
    d = _pie(chart, font, width) if chart.kind == "pie" else _bars(chart, font, width)
    d.initialFontName = font  # or the renderer selects (unembedded) Helvetica
    return d


_COLUMNS = {
    "企业名称": Column("企业名称", 3.0),
    "抽查任务": Column("抽查任务", 2.4),
    "抽取场次": Column("抽取场次", fit="S-2026-0000-XXXX"),
    "抽查比例": Column("抽查比例", 1.6),
    "实际比例": Column("实际比例", 2.6),
    "是否达到": Column("是否达到", align="center", fit="未达到"),
    "检查结果": Column("检查结果", 3.0),
    "统一社会信用代码": Column("统一社会信用代码", fit="91350100M000100Y43"),
    "执法证号/专家编号": Column("执法证号/专家编号", fit="执法证号/专家编号"),
    "覆盖率": Column("覆盖率", align="right", fit="100.0%"),
    "占比": Column("占比", align="right", fit="100.0%"),
}
_NUMBERS = ("名录数", "抽中", "已检查", "候选", "家数", "分派检查对象", "实际参加检查")


def _column(header: str) -> Column:
    if header in _COLUMNS:
        return _COLUMNS[header]
    if header in _NUMBERS:
        return Column(header, align="right", fit=header if len(header) > 3 else "000000")
    return Column(header or "项目", 1.4)


def write_stats_pdf(stats: YearStats, path: Path, *, bureau: str, keys: KeyStore | None = None) -> int:
    """The annual summary; returns the number of pages. With *keys* (the data folder's), it is
    signed like a draw record: the bureau's certification signature, no later changes allowed."""
    doc = PdfDocument(f"{stats.year} 年度“双随机、一公开”抽查工作统计", bureau=bureau or "（未设置单位名称）")
    doc.heading(
        lines=[f"统计日期：{stats.on.isoformat()}　统计口径：{stats.year} 年度抽查计划的任务及其已确认的抽取"]
    )
    tables = stats.tables()
    doc.key_values(stats.summary(), columns=1)
    doc.section("一、图表")
    for chart in stats.charts():
        drawing = chart_drawing(chart, doc.font, doc.frame_width)
        drawing.hAlign = "LEFT"
        doc.add(drawing)
        doc.spacer(4)
    for i, t in enumerate(tables[1:], start=2):
        doc.section(f"{'二三四五六七八九十'[i - 2]}、{t.title}")
        if t.note:
            doc.paragraph(t.note)
        if t.rows:
            doc.table([_column(h) for h in t.headers], t.rows)
        elif not t.note:
            doc.note("（无）")
    if keys is None:
        doc.save(path)
        return doc.page_count
    doc.signature_lines(["制表人", "审核人"], per_row=2)
    doc.stamp_area()
    data = doc.build()
    sign_pdf(data, keys, bureau, stamp=doc.stamp_placement, reason="年度抽查工作统计").save(path)
    return doc.page_count


def default_pdf_name(year: int) -> str:
    return f"{year}年度抽查工作统计.pdf"


def tables_workbook(stats: YearStats) -> Workbook:
    """The statistics tables as a workbook, one sheet per table (the same numbers as the PDF)."""
    wb = Workbook()
    wb.remove(wb.active)
    for t in stats.tables():
        ws = wb.create_sheet(t.title[:31])
        ws.append([f"{stats.year} 年度 {t.title}"])
        ws["A1"].font = Font(bold=True, size=12)
        if t.note:
            ws.append([t.note])
        ws.append([h or "项目" for h in t.headers])
        for c in ws[ws.max_row]:
            c.font = Font(bold=True)
            c.fill = PatternFill("solid", fgColor="DDEBF7")
        for row in t.rows:
            ws.append([int(v) if v.isdigit() else v for v in row])
        for j in range(1, len(t.headers) + 1):
            ws.column_dimensions[get_column_letter(j)].width = 40 if j == 1 else 16
    return wb
