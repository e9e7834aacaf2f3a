"""A small builder for the program's A4 documents (portrait records, landscape publication tables).

Typical use::

    doc = PdfDocument("抽查对象随机抽取记录", bureau="青山县应急管理局", doc_id="CJ-2025-001")
    doc.heading(subtitle="2025 年第一批次", lines=["抽取时间：2025-03-01 09:30"])
    doc.key_values([("抽查事项", "危险化学品安全检查"), ("抽取数量", "12 家")])
    doc.section("一、抽取结果")
    doc.table([Column("序号", 0.6, "center"), Column("企业名称", 3), ...], rows)
    doc.signature_lines(["操作人员", "见证人", "监督人"])
    doc.stamp_area()               # where the visible signature stamp will go
    pdf_bytes = doc.build()        # doc.page_count and doc.stamp_placement are now known

Every page carries a running header (bureau name, document title, optional document id) and a
footer "第 x 页 共 y 页". Only the bundled CJK font is used, and it is embedded.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from reportlab import rl_config
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib import textsplit as _rl_textsplit
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import paragraph as _rl_paragraph
from reportlab.platypus.tables import LINECOMMANDS as _RL_LINE_COMMANDS

from dsj_desktop import __version__
from dsj_desktop.fileutil import atomic_write_bytes
from dsj_desktop.pdf.fonts import register_cjk_font
from dsj_desktop.pdf.text import TextMeasure, markup

Align = Literal["left", "center", "right"]

# reportlab's CJK line breaking lets full-width Chinese punctuation ("，；：？！") start a line;
# add it to the characters that may not (they hang in the margin instead, as in Chinese print).
_CHINESE_NO_START = "，；：？！…》”’"
for _module in (_rl_paragraph, _rl_textsplit):
    if not set(_CHINESE_NO_START) <= set(_module.ALL_CANNOT_START):
        _module.ALL_CANNOT_START += _CHINESE_NO_START

# Colours: restrained, print well in black and white.
INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#5f6368")
RULE = colors.HexColor("#9aa0a6")
GRID = colors.HexColor("#b8bcc2")
HEADER_FILL = colors.HexColor("#e3e8ef")
ZEBRA_FILL = colors.HexColor("#f5f6f8")
LABEL_FILL = colors.HexColor("#f0f2f5")
WATERMARK = colors.HexColor("#c62828")

# Page geometry (points).
MARGIN_X = 18 * mm
MARGIN_TOP = 22 * mm  # room for the running header
MARGIN_BOTTOM = 18 * mm  # room for the page footer
HEADER_Y = 12 * mm  # baseline of the running header, from the top edge
FOOTER_Y = 9 * mm  # baseline of the page footer, from the bottom edge

BODY_SIZE = 10.5  # 五号
TABLE_SIZE = 9.0
CELL_PAD_X = 3.0
CELL_PAD_Y = 2.5
# No table cell may grow taller than this share of a page: reportlab cannot split a row, and a row
# taller than the page would make the whole document fail. Longer text is cut, and says so (the
# signed JSON record attached to every record PDF holds it whole).
MAX_CELL_SHARE = 0.3
CLIPPED = "……（过长，以下从略；全文见所附电子记录）"


def clip_lines(lines: list[str], max_lines: int) -> list[str]:
    """*lines* cut to *max_lines* (at least 2), the last one saying so."""
    max_lines = max(2, max_lines)
    return lines if len(lines) <= max_lines else [*lines[: max_lines - 1], CLIPPED]


def clip_text(text: str, measure: TextMeasure, width: float, max_height: float, leading: float) -> str:
    """*text* as at most as many lines of *width* as fit *max_height* (see :data:`MAX_CELL_SHARE`)."""
    max_lines = int(max_height // leading)
    if len(text) <= max_lines * 2 and text.count("\n") < max_lines:  # cannot need more lines: no wrapping
        return text
    lines = measure.wrap_lines(text, max(width, 1.0))
    return text if len(lines) <= max_lines else "\n".join(clip_lines(lines, max_lines))


@dataclass(frozen=True)
class StampPlacement:
    """Where the visible signature stamp goes.

    ``page`` is 0-based (negative counts from the end, -1 = last page); ``box`` is
    ``(x1, y1, x2, y2)`` in PDF points from the page's lower-left corner, or ``None`` for the
    default spot in the lower right corner of the page.
    """

    page: int = -1
    box: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class Column:
    """A table column: header text, relative width, alignment of its cells.

    ``fit`` is a sample of the widest text that must stay on one line (e.g. an 18-character
    credit code): the column then gets exactly that width and ``width`` is ignored; the other
    columns share what is left by their relative ``width``.
    """

    title: str
    width: float = 1.0
    align: Align = "left"
    fit: str | None = None


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=BODY_SIZE,
        leading=BODY_SIZE * 1.55,
        textColor=INK,
        wordWrap="CJK",
        alignment=TA_LEFT,
        spaceAfter=3,
    )
    return {
        "body": base,
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=12, leading=17, alignment=TA_CENTER, spaceAfter=2
        ),
        "meta": ParagraphStyle(
            "meta", parent=base, fontSize=9, leading=13, alignment=TA_CENTER, textColor=MUTED, spaceAfter=0
        ),
        "section": ParagraphStyle(
            "section", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4
        ),
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=13, spaceAfter=2),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=12, textColor=MUTED, spaceAfter=2),
        "cell": ParagraphStyle(
            "cell", parent=base, fontSize=TABLE_SIZE, leading=TABLE_SIZE * 1.3, spaceAfter=0
        ),
    }


class _StampArea(Flowable):  # type: ignore[misc]
    """Reserves room for the signature stamp (right-aligned) and records where it landed."""

    def __init__(self, width: float, height: float, record: Any) -> None:
        super().__init__()
        self.box_width = width
        self.box_height = height
        self._record = record

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self._avail_width = avail_width
        return avail_width, self.box_height

    def draw(self) -> None:
        x0 = self._avail_width - self.box_width
        x1, y1 = self.canv.absolutePosition(x0, 0)
        x2, y2 = self.canv.absolutePosition(self._avail_width, self.box_height)
        self._record(self.canv.getPageNumber() - 1, (x1, y1, x2, y2))


# The rows a style command of a PagedTable may address: the header, the body, or all rows.
_PAGED_ROWS = {(0, 0), (1, -1), (0, -1)}
# The style commands a Table keeps as commands (the others set the cells' styles).
_TABLE_COMMANDS = {*_RL_LINE_COMMANDS, "BACKGROUND", "ROWBACKGROUNDS", "COLBACKGROUNDS"}
# What the rest of a PagedTable shares with the table it was split from.
_SHARED = ("_cellvalues", "_row_heights", "_col_widths", "_style", "_cell_style", "_sums", "_width", "_avail")


class PagedTable(Flowable):  # type: ignore[misc]
    """A long table, header repeated on every page, laid out in time linear in its rows.

    It prints exactly what ``Table(data, colWidths, rowHeights, repeatRows=1, style)`` prints, but
    that Table, split at the end of each page, builds a new Table of all the rows still to come
    (``Table.__init__``, ``_calc_height``, ``_cr_1_1`` over every remaining row): a 96,000-row
    table on 2,100 pages took minutes. This flowable keeps the rows; ``split`` finds how many fit
    as Table does (so the page breaks fall where they did) and returns the Table of just those,
    made as ``Table._splitRows`` makes a first part, and a new PagedTable of the rest. The line and
    background commands are carried from page to page as Table carries them (``_splitLineCmds``,
    ``_cr_0``, what ``_cr_1_1`` does), on the commands only: as with Table, the zebra stripes
    start again on each page under the repeated header. ``wrap`` reports the height a Table of the
    remaining rows would (the same compensated sum); ``drawOn`` of a rest that fits draws one
    Table of it.

    ``data`` is the header row then the rows (plain strings), ``row_heights`` explicit. Style
    commands may address any columns but only the header row (0 to 0), the body (1 to -1) or all
    rows (0 to -1); no SPAN or NOSPLIT.
    """

    def __init__(
        self,
        data: list[list[str]],
        col_widths: Sequence[float],
        row_heights: Sequence[float],
        style: Sequence[tuple[Any, ...]],
    ) -> None:
        super().__init__()
        if len(row_heights) != len(data) or not data or None in row_heights:
            raise ValueError("a PagedTable needs a header row and one explicit height per row")
        for cmd in style:
            if (cmd[1][1], cmd[2][1]) not in _PAGED_ROWS or cmd[0] in ("SPAN", "NOSPLIT"):
                raise ValueError(f"style command not supported by PagedTable: {cmd!r}")
        self.hAlign = "LEFT"
        self._cellvalues = data  # the name reportlab's Table gives them
        self._row_heights = list(row_heights)
        self._col_widths = list(col_widths)
        self._style = TableStyle(list(style))
        self._cell_style = TableStyle([c for c in style if c[0] not in _TABLE_COMMANDS])
        self._offset = 1  # the first row (of data) not yet on a page
        # The line and background commands as they stand in the Table of the rows from _offset on
        # (header first), kept on a Table that holds only the header row.
        self._commands = Table([data[0]], colWidths=self._col_widths, style=self._style)
        self._commands._nrows = len(data)
        if self._commands._spanCmds or self._commands._nosplitCmds or self._commands._srflcmds:
            raise ValueError("a PagedTable takes no SPAN, NOSPLIT or splitfirst/splitlast commands")
        self._sums = _reverse_sums(self._row_heights)
        width = 0.0
        for w in self._col_widths:  # as Table._calc_width adds them
            width = width + w
        self._width = width
        self._avail = (0.0, 0.0)

    def _rest_table(self, stop: int) -> Table:
        """A Table of the header and rows ``_offset:stop``: the cells styled by the style, the line
        and background commands those of this rest (the original ones before any split)."""
        data, heights = self._cellvalues, self._row_heights
        table = Table(
            [data[0], *data[self._offset : stop]],
            colWidths=self._col_widths,
            rowHeights=[heights[0], *heights[self._offset : stop]],
            repeatRows=1,
            style=self._cell_style,
        )
        table.hAlign = self.hAlign
        if self._offset > 1:
            table._setCornerRadii(None)  # as Table._splitRows makes the second part of a split
        table._linecmds = list(self._commands._linecmds)
        table._bkgrndcmds = list(self._commands._bkgrndcmds)
        return table

    def _height(self) -> float:
        """The height of a Table of the header and the rows from _offset on, summed as
        Table._calc_height sums it (from the last row up, compensated)."""
        height, c = self._sums[0][self._offset], self._sums[1][self._offset]
        y = self._row_heights[0] - c
        return height + y

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self._avail = (availWidth, availHeight)
        self.width, self.height = self._width, self._height()
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        """As Table.split (by row, the header repeated) splits a Table of the rest: the Table of
        the header and the rows that fit, and the rest of the rest."""
        data, heights, offset = self._cellvalues, self._row_heights, self._offset
        nrows = len(data) - offset + 1  # rows of the rest, header included
        # How many rows fit, added up as Table._getFirstPossibleSplitRowPosition adds them.
        n, h = 0, 0.0
        while n < nrows:
            rh = heights[offset + n - 1] if n else heights[0]
            if h + rh > availHeight:
                break
            h = h + rh
            n += 1
        if self._width > availWidth and not rl_config.allowTableBoundsErrors & 1:
            return []
        if n <= 1:  # not one row under the header
            return []
        if n == nrows:
            return [self]
        # The first part as Table._splitRows makes it: the rows, then _cr_0 of the commands.
        first = Table(
            [data[0], *data[offset : offset + n - 1]],
            colWidths=self._col_widths,
            rowHeights=[heights[0], *heights[offset : offset + n - 1]],
            repeatRows=1,
            style=self._cell_style,
            cornerRadii=None,
        )
        lines = self._commands._splitLineCmds(n)
        first._cr_0(n, lines, nrows, 0)
        first._cr_0(n, self._commands._bkgrndcmds, nrows, 0, _srflMode=True)
        first.hAlign = self.hAlign
        return [first, self._rest(n, lines)]

    def _rest(self, n: int, lines: list[tuple[Any, ...]]) -> PagedTable:
        """What is left when the rest is split at its row *n* (header and n - 1 rows go first)."""
        rest = PagedTable.__new__(PagedTable)
        Flowable.__init__(rest)  # a new flowable: not postponed, on no canvas yet
        rest.hAlign = self.hAlign
        for name in _SHARED:
            setattr(rest, name, getattr(self, name))
        rest._offset = self._offset + n - 1
        rest._commands = self._carry(n, lines)
        return rest

    def _carry(self, n: int, lines: list[tuple[Any, ...]]) -> Table:
        """The commands of the second part when the rest is split at row *n*, as Table._splitRows
        makes them: _splitLineCmds, then what _cr_1_1 does with the header row repeated (no special
        rows, no row split range here), without its set of every row a command spans (O(rows)
        per command and page)."""
        src = self._commands
        nrows = src._nrows
        dst = Table.__new__(Table)
        dst.__dict__.update(src.__dict__)
        dst._linecmds, dst._bkgrndcmds = [], []
        dst._nrows = nrows - n + 1
        for cmd in (*lines, *src._bkgrndcmds):
            (sc, sr), (ec, er) = cmd[1:3]
            if sr < 0:
                sr += nrows
            if er < 0:
                er += nrows
            if sr <= 0 <= er:  # spans the header row: it goes with the repeated header
                dst._addCommand((cmd[0], (sc, 0), (ec, 0), *cmd[3:]))
            if er >= n:
                dst._addCommand((cmd[0], (sc, max(sr - n, 0) + 1), (ec, max(er - n, 0) + 1), *cmd[3:]))
        return dst

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:
        table = self._rest_table(len(self._cellvalues))
        table.wrapOn(canvas, *self._avail)
        table.drawOn(canvas, x, y, _sW)


def _reverse_sums(heights: list[float]) -> tuple[list[float], list[float]]:
    """For each i ≥ 1, the state (sum, compensation) of Table._calc_height's compensated sum of
    heights[-1], heights[-2], ..., heights[i] (index len(heights): nothing added yet)."""
    n = len(heights)
    sums, comps = [0.0] * (n + 1), [0.0] * (n + 1)
    height = c = 0.0
    for i in range(n - 1, 0, -1):
        y = heights[i] - c
        t = height + y
        c = (t - height) - y
        height = t
        sums[i], comps[i] = height, c
    return sums, comps


def numbered_canvas(footer: Any) -> type[Canvas]:
    """A canvas that defers each page until the page count is known, then draws the footer."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved_pages)
            for state in self._saved_pages:
                self.__dict__.update(state)
                footer(self, total)
                super().showPage()
            super().save()

    return NumberedCanvas


class PdfDocument:
    """An A4 document under construction; see the module documentation."""

    def __init__(
        self,
        title: str,
        *,
        bureau: str,
        doc_id: str | None = None,
        orientation: Literal["portrait", "landscape"] = "portrait",
        subject: str | None = None,
        watermark: str | None = None,
        header_mark: str | None = None,
    ) -> None:
        self.title = title
        self.watermark = watermark
        self.header_mark = header_mark  # e.g. "已作废": in red in every page header
        self.bureau = bureau
        self.doc_id = doc_id
        self.subject = subject
        self.pagesize: tuple[float, float] = landscape(A4) if orientation == "landscape" else A4
        self.font = register_cjk_font()
        self.styles = _styles(self.font)
        self.story: list[Flowable] = []
        self.page_count = 0
        self.stamp_placement: StampPlacement | None = None

    # -- geometry -----------------------------------------------------------------------------

    @property
    def frame_width(self) -> float:
        """Usable width between the margins, in points."""
        return float(self.pagesize[0] - 2 * MARGIN_X)

    @property
    def frame_height(self) -> float:
        return float(self.pagesize[1] - MARGIN_TOP - MARGIN_BOTTOM)

    # -- content ------------------------------------------------------------------------------

    def add(self, *flowables: Flowable) -> None:
        """Append any reportlab flowables (escape hatch for special layouts)."""
        self.story.extend(flowables)

    def clip(self, text: str, width: float, *, size: float = TABLE_SIZE, leading: float | None = None) -> str:
        """*text* cut so that, wrapped to *width*, it stays within :data:`MAX_CELL_SHARE` of a page."""
        measure = TextMeasure(self.font, size)
        return clip_text(text, measure, width, self.frame_height * MAX_CELL_SHARE, leading or size * 1.3)

    def paragraph(self, text: str, *, style: str = "body") -> None:
        """Plain text (escaped; ``\\n`` breaks lines) in one of :attr:`styles`."""
        self.story.append(Paragraph(markup(text), self.styles[style]))

    def note(self, text: str) -> None:
        """Small grey text, e.g. an explanation under a table."""
        self.paragraph(text, style="note")

    def heading(
        self, title: str | None = None, *, subtitle: str | None = None, lines: Sequence[str] = ()
    ) -> None:
        """The title block: a large centred title (the document title by default), an optional
        subtitle and small grey lines such as "编号：… 生成时间：…"."""
        parts: list[Flowable] = [Paragraph(markup(title or self.title), self.styles["title"])]
        if subtitle:
            parts.append(Paragraph(markup(subtitle), self.styles["subtitle"]))
        parts.extend(Paragraph(markup(line), self.styles["meta"]) for line in lines)
        parts.append(Spacer(1, 4 * mm))
        self.story.append(KeepTogether(parts))

    def section(self, text: str) -> None:
        """A section heading, kept on the same page as what follows it."""
        self.story.append(CondPageBreak(30 * mm))
        self.story.append(Paragraph(markup(text), self.styles["section"]))

    def spacer(self, height_mm: float) -> None:
        self.story.append(Spacer(1, height_mm * mm))

    def page_break(self) -> None:
        self.story.append(PageBreak())

    def key_values(self, items: Sequence[tuple[str, str]] | Mapping[str, str], *, columns: int = 2) -> None:
        """A boxed block of label–value pairs, *columns* pairs per row (1 for long values)."""
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        if not pairs:
            return
        columns = max(1, min(columns, len(pairs)))
        measure = TextMeasure(self.font, TABLE_SIZE)
        label_w = min(
            max(measure.width(k) for k, _ in pairs) + 2 * CELL_PAD_X + 2,
            self.frame_width / columns * 0.45,
        )
        value_w = self.frame_width / columns - label_w
        cell = self.styles["cell"]
        rows: list[list[Any]] = []
        for i in range(0, len(pairs), columns):
            row: list[Any] = []
            for key, value in pairs[i : i + columns]:
                row.append(Paragraph(markup(key), cell))
                inner = value_w - 2 * (CELL_PAD_X + 1) - 2
                row.append(Paragraph(markup(self.clip(value, inner, leading=cell.leading)), cell))
            row.extend([""] * (2 * columns - len(row)))
            rows.append(row)
        style: list[tuple[Any, ...]] = [
            ("FONTNAME", (0, 0), (-1, -1), self.font),
            ("FONTSIZE", (0, 0), (-1, -1), TABLE_SIZE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("GRID", (0, 0), (-1, -1), 0.5, GRID),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
            ("TOPPADDING", (0, 0), (-1, -1), CELL_PAD_Y + 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PAD_Y + 1),
        ]
        style.extend(("BACKGROUND", (2 * c, 0), (2 * c, -1), LABEL_FILL) for c in range(columns))
        table = Table(rows, colWidths=[label_w, value_w] * columns, style=TableStyle(style))
        table.hAlign = "LEFT"
        self.story.extend([table, Spacer(1, 3 * mm)])

    def table(
        self,
        columns: Sequence[Column | str],
        rows: Iterable[Sequence[object]],
        *,
        font_size: float = TABLE_SIZE,
        zebra: bool = True,
    ) -> int:
        """A long table: header row repeated on every page, relative column widths, light zebra
        stripes. Cells are plain strings, wrapped (by width) only where they do not fit, which
        keeps a table of thousands of rows fast. ``None`` becomes an empty cell. Returns the
        number of data rows."""
        cols = [c if isinstance(c, Column) else Column(c) for c in columns]
        measure = TextMeasure(self.font, font_size)
        fixed = {i: measure.width(c.fit) + 2 * CELL_PAD_X + 1 for i, c in enumerate(cols) if c.fit}
        rest = self.frame_width - sum(fixed.values())
        total = sum(c.width for i, c in enumerate(cols) if i not in fixed)
        if rest <= 0 or (total <= 0 < len(cols) - len(fixed)):
            raise ValueError("table columns do not fit the page width")
        widths = [fixed[i] if i in fixed else rest * c.width / total for i, c in enumerate(cols)]
        inner = [w - 2 * CELL_PAD_X for w in widths]
        leading = font_size * 1.25
        pad_h = 2 * CELL_PAD_Y
        max_lines = int((self.frame_height * MAX_CELL_SHARE - pad_h) // leading)

        def cells(values: Sequence[object]) -> tuple[list[str], int]:
            out: list[str] = []
            n_lines = 1
            for value, avail in zip(values, inner, strict=True):
                text = "" if value is None else str(value)
                if "\n" in text or not measure.fits(text, avail):
                    lines = clip_lines(measure.wrap_lines(text, avail), max_lines)
                    n_lines = max(n_lines, len(lines))
                    text = "\n".join(lines)
                out.append(text)
            return out, n_lines

        header, header_lines = cells([c.title for c in cols])
        data: list[list[str]] = [header]
        heights: list[float] = [header_lines * leading + pad_h + 2]
        for row in rows:
            if len(row) != len(cols):
                raise ValueError(f"row has {len(row)} cells, table has {len(cols)} columns: {row!r}")
            values, n_lines = cells(row)
            data.append(values)
            heights.append(n_lines * leading + pad_h)

        style: list[tuple[Any, ...]] = [
            ("FONTNAME", (0, 0), (-1, -1), self.font),
            ("FONTSIZE", (0, 0), (-1, -1), font_size),
            ("LEADING", (0, 0), (-1, -1), leading),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_X),
            ("TOPPADDING", (0, 0), (-1, -1), CELL_PAD_Y),
            ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PAD_Y),
            ("GRID", (0, 0), (-1, -1), 0.4, GRID),
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, RULE),
            ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ]
        for i, c in enumerate(cols):
            if c.align != "left":
                style.append(("ALIGN", (i, 1), (i, -1), c.align.upper()))
        if zebra and len(data) > 2:
            style.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA_FILL]))
        self.story.extend([PagedTable(data, widths, heights, style), Spacer(1, 3 * mm)])
        return len(data) - 1

    def qr_code(self, data: str, *, size_mm: float = 28, caption: str | None = None) -> None:
        """A QR code (error correction level M), with an optional caption to its right."""
        size = size_mm * mm
        widget = QrCodeWidget(data, barLevel="M")
        widget.barWidth = widget.barHeight = size
        drawing = Drawing(size, size)
        drawing.initialFontName = self.font  # or the renderer selects (unembedded) Helvetica
        drawing.add(widget)
        if caption is None:
            drawing.hAlign = "LEFT"
            self.story.append(drawing)
            return
        text = Paragraph(markup(caption), self.styles["small"])
        table = Table(
            [[drawing, text]],
            colWidths=[size + 2 * mm, self.frame_width - size - 2 * mm],
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),  # else the cell selects Helvetica
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (0, 0), 0),
                    ("LEFTPADDING", (1, 0), (1, 0), 2 * mm),
                ]
            ),
        )
        table.hAlign = "LEFT"
        self.story.append(KeepTogether([table, Spacer(1, 2 * mm)]))

    def signature_lines(
        self,
        roles: Sequence[str] = ("操作人员", "见证人", "监督人"),
        *,
        with_date: bool = True,
        per_row: int | None = None,
    ) -> None:
        """Lines to sign by hand, "操作人员：______" with "日期：____年___月___日" under each,
        *per_row* roles side by side (3 in portrait, 4 in landscape by default). Never split
        across pages."""
        if not roles:
            return
        if per_row is None:
            per_row = 3 if self.pagesize[0] < self.pagesize[1] else 4
        per_row = max(1, min(per_row, len(roles)))
        measure = TextMeasure(self.font, BODY_SIZE)
        # A role (a witness's name) never takes more than a third of the line: cut, as on a form.
        labels = [_shorten(f"{r}：", measure, self.frame_width / 3) for r in roles]
        label_w = max(measure.width(s) for s in [*labels, "日期："]) + 2
        gap = 8 * mm
        # Fewer per row when long labels would leave too short a line for a signature and the date.
        min_line = max(28 * mm, measure.width("年　　月　　日") + 6 * mm)
        while per_row > 1 and (self.frame_width + gap) / per_row - label_w - gap < min_line:
            per_row -= 1
        line_w = (self.frame_width + gap) / per_row - label_w - gap
        widths = ([label_w, line_w, gap] * per_row)[:-1]
        style: list[tuple[Any, ...]] = [
            ("FONTNAME", (0, 0), (-1, -1), self.font),
            ("FONTSIZE", (0, 0), (-1, -1), BODY_SIZE),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        rows: list[list[str]] = []
        heights: list[float] = []
        for start in range(0, len(roles), per_row):
            chunk = labels[start : start + per_row]
            r = len(rows)
            sign_row: list[str] = []
            date_row: list[str] = []
            for j, label in enumerate(chunk):
                sign_row += [label, "", ""]
                date_row += ["日期：", "年　　月　　日", ""]
                style.append(("LINEBELOW", (3 * j + 1, r), (3 * j + 1, r), 0.6, INK))
                if with_date:
                    style.append(("LINEBELOW", (3 * j + 1, r + 1), (3 * j + 1, r + 1), 0.6, INK))
            n = 3 * per_row - 1
            rows.append((sign_row + [""] * n)[:n])
            heights.append(12 * mm)
            if with_date:
                rows.append((date_row + [""] * n)[:n])
                heights.append(9 * mm)
        table = Table(rows, colWidths=widths, rowHeights=heights, style=TableStyle(style))
        table.hAlign = "LEFT"
        self.story.append(KeepTogether([Spacer(1, 3 * mm), table, Spacer(1, 4 * mm)]))

    def stamp_area(self, *, width_mm: float = 75, height_mm: float = 30) -> None:
        """Reserve a right-aligned box for the visible signature stamp, on the same page as the
        block just before it (e.g. :meth:`signature_lines`). After :meth:`build`,
        :attr:`stamp_placement` says where it landed (pass it to :func:`~dsj_desktop.pdf.sign.sign_pdf`)."""

        def record(page: int, box: tuple[float, float, float, float]) -> None:
            self.stamp_placement = StampPlacement(page, tuple(round(v, 2) for v in box))  # type: ignore[arg-type]

        area = _StampArea(width_mm * mm, height_mm * mm, record)
        last = self.story[-1] if self.story else None
        if isinstance(last, KeepTogether):
            # Keep the stamp with the signature lines (or QR block) it belongs to.
            self.story[-1] = KeepTogether([*last._content, area])
        else:
            self.story.append(area)

    # -- output -------------------------------------------------------------------------------

    def _draw_header(self, canv: Canvas, _doc: Any) -> None:
        width, height = self.pagesize
        canv.saveState()
        size = 8.0
        left = f"{self.bureau}　{self.title}"
        right = f"编号：{self.doc_id}" if self.doc_id else ""
        mark = f"【{self.header_mark}】" if self.header_mark else ""
        avail = width - 2 * MARGIN_X
        while (
            size > 5
            and canv.stringWidth(left, self.font, size) + canv.stringWidth(mark + right, self.font, size) + 12
            > avail
        ):
            size -= 0.5
        canv.setFont(self.font, size)
        canv.setFillColor(MUTED)
        y = height - HEADER_Y
        canv.drawString(MARGIN_X, y, left)
        if right:
            canv.drawRightString(width - MARGIN_X, y, right)
        if mark:
            canv.setFillColor(WATERMARK)
            canv.drawRightString(width - MARGIN_X - canv.stringWidth(right, self.font, size), y, mark)
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        canv.line(MARGIN_X, y - 2.5 * mm, width - MARGIN_X, y - 2.5 * mm)
        canv.restoreState()

    def _draw_watermark(self, canv: Canvas, _doc: Any = None) -> None:
        """Large diagonal text across the page, e.g. "作废" on a voided record: drawn above the
        content (no table or picture can hide it; a page taken out still shows it), translucent
        so the page stays legible."""
        if not self.watermark:
            return
        width, height = self.pagesize
        text = self.watermark or ""
        size = min(160.0, 0.9 * min(width, height) / max(1, len(text)))
        canv.saveState()
        canv.setFillColor(WATERMARK)
        canv.setFillAlpha(0.2)
        canv.setFont(self.font, size)
        canv.translate(width / 2, height / 2)
        canv.rotate(35)
        canv.drawCentredString(0, -size / 3, text)
        canv.restoreState()

    def _draw_footer(self, canv: Canvas, total: int) -> None:
        width, _ = self.pagesize
        canv.saveState()
        canv.setFont(self.font, 9)
        canv.setFillColor(MUTED)
        canv.drawCentredString(width / 2, FOOTER_Y, f"第 {canv.getPageNumber()} 页 共 {total} 页")
        canv.restoreState()

    def build(self) -> bytes:
        """Lay out the document and return the PDF. Sets :attr:`page_count` and, if
        :meth:`stamp_area` was used, :attr:`stamp_placement`."""
        out = io.BytesIO()
        template = BaseDocTemplate(
            out,
            pagesize=self.pagesize,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=self.title,
            author=self.bureau,
            subject=self.subject or self.title,
            creator=f"dsj-desktop {__version__}",
            lang="zh-CN",
            initialFontName=self.font,
        )
        frame = Frame(
            MARGIN_X,
            MARGIN_BOTTOM,
            self.frame_width,
            self.frame_height,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="body",
        )
        template.addPageTemplates(
            [
                PageTemplate(
                    id="page", frames=[frame], onPage=self._draw_header, onPageEnd=self._draw_watermark
                )
            ]
        )
        template.build(list(self.story), canvasmaker=numbered_canvas(self._draw_footer))
        self.page_count = template.page
        return out.getvalue()

    def save(self, path: Path) -> bytes:
        """Build and write the PDF atomically; returns the bytes written."""
        data = self.build()
        atomic_write_bytes(Path(path), data)
        return data


def _shorten(label: str, measure: TextMeasure, width: float) -> str:
    """A "role：" label cut to *width*, ending "…：" when cut."""
    if measure.fits(label, width):
        return label
    body = label.removesuffix("：")
    while body and not measure.fits(body + "…：", width):
        body = body[: len(body) * 3 // 4] if len(body) > 64 else body[:-1]
    return body + "…："


def default_stamp_box(page_width: float) -> tuple[float, float, float, float]:
    """The lower-right spot used when no box is given: inside the margins, above the footer."""
    w, h = 75 * mm, 30 * mm
    x2 = page_width - MARGIN_X
    y1 = MARGIN_BOTTOM
    return (x2 - w, y1, x2, y1 + h)
