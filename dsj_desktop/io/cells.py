"""Every workbook the program writes holds text as text: a name such as ``=cmd|' /C calc'!A0`` (or one
starting with ``+``, ``-``, ``@``, a tab or a carriage return) is never a live formula.

openpyxl turns a string that starts with ``=`` into a formula; Excel and WPS evaluate a cell that
starts with ``+``, ``-`` or ``@`` once someone edits it. Such cells get the data type ``s`` (a string)
set explicitly and the ``quotePrefix`` style (Excel's leading apostrophe: shown and kept as text).
The value itself is unchanged, so an exported file imports back exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell

RISKY_START = ("=", "+", "-", "@", "\t", "\r")


def risky(value: object) -> bool:
    """A string a spreadsheet could take for a formula."""
    return isinstance(value, str) and value.startswith(RISKY_START)


def as_text(cell: Any) -> None:
    cell.data_type = "s"
    cell.quotePrefix = True


def safe_row(ws: Any, values: Iterable[Any]) -> list[Any]:
    """A row for ``ws.append`` on a write-only sheet, risky strings as explicit text cells."""
    out: list[Any] = []
    for v in values:
        if isinstance(v, Cell):
            if risky(v.value):
                as_text(v)
        elif risky(v):
            v = WriteOnlyCell(ws, value=v)
            as_text(v)
        out.append(v)
    return out


def harden(wb: Workbook) -> int:
    """Every risky string in a (normal, not write-only) workbook as text; returns how many cells."""
    if getattr(wb, "write_only", False):
        return 0
    n = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if risky(cell.value):
                    as_text(cell)
                    n += 1
    return n
