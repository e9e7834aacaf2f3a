"""A publication table as a formatted Excel sheet (ready to print: landscape A4, fit to width, the
header row repeated) or as a landscape A4 PDF in the bundled Chinese font."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from dsj_desktop.errors import UserError
from dsj_desktop.io.exporter import save_workbook
from dsj_desktop.pdf.document import Column, PdfDocument
from dsj_desktop.pdf.text import TextMeasure
from dsj_desktop.publish.tables import PublicTable

FORMATS = (".xlsx", ".pdf")
PDF_TABLE_SIZE = 8.5
MAX_FIT_CHARS = 12  # a "fit" column never gets wider than this many characters

TITLE_ROW = 1
META_ROW = 2
HEADER_ROW = 3
FIRST_DATA_ROW = 4

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def check_target(path: Path) -> str:
    """The format chosen by the file name (``.xlsx`` or ``.pdf``); refuses anything else."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"公示文件名“{path.name}”应以 .xlsx（Excel）或 .pdf 结尾。")
    if not path.parent.exists():
        raise UserError(f"文件夹“{path.parent}”不存在。")
    return suffix


def write_xlsx(table: PublicTable, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = table.short_title[:31].replace("“", "").replace("”", "")
    n_cols = len(table.columns)
    last = get_column_letter(n_cols)

    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    title = ws.cell(row=TITLE_ROW, column=1, value=table.title)
    title.font = Font(name="宋体", size=16, bold=True)
    title.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[TITLE_ROW].height = 36

    ws.merge_cells(f"A{META_ROW}:{last}{META_ROW}")
    meta = ws.cell(
        row=META_ROW, column=1, value=(table.subtitle + "　　" if table.subtitle else "") + table.meta_line
    )
    meta.font = Font(size=10, color="555555")
    meta.alignment = Alignment(horizontal="right", vertical="center")
    ws.row_dimensions[META_ROW].height = 20

    for j, col in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = col.xlsx_width
        c = ws.cell(row=HEADER_ROW, column=j, value=col.header)
        c.font = Font(bold=True, size=11)
        c.fill = _HEADER_FILL
        c.border = _BORDER
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[HEADER_ROW].height = 24

    for i, row in enumerate(table.rows):
        r = FIRST_DATA_ROW + i
        for j, (value, col) in enumerate(zip(row, table.columns, strict=True), start=1):
            cell_value: str | int = int(value) if j == 1 and value.isdigit() else value  # 序号
            c = ws.cell(row=r, column=j, value=cell_value)
            c.border = _BORDER
            c.font = Font(size=10)
            c.alignment = Alignment(horizontal=col.align, vertical="center", wrap_text=True)

    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A{TITLE_ROW}:{last}{FIRST_DATA_ROW + len(table.rows) - 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages as needed
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.size = 9
    save_workbook(wb, path)


def write_pdf(table: PublicTable, path: Path) -> int:
    """Write the PDF; returns its number of pages."""
    doc = PdfDocument(table.short_title, bureau=table.bureau, orientation="landscape", subject=table.title)
    doc.heading(table.title, subtitle=table.subtitle or None, lines=[table.meta_line])
    measure = TextMeasure(doc.font, PDF_TABLE_SIZE)
    columns = []
    for j, c in enumerate(table.columns):
        fit = None
        if c.fit:
            lines = [c.header, *(line for row in table.rows for line in row[j].split("\n"))]
            fit = max((s[:MAX_FIT_CHARS] for s in lines), key=measure.width)
        columns.append(Column(c.header, c.pdf_width, c.align, fit=fit))
    doc.table(columns, table.rows, font_size=PDF_TABLE_SIZE)
    doc.save(path)
    return doc.page_count


def write_publication(table: PublicTable, path: Path) -> None:
    """Excel or PDF, by the file name."""
    if check_target(path) == ".pdf":
        write_pdf(table, path)
    else:
        write_xlsx(table, path)
