"""Reading workbooks with python-calamine, with Chinese messages for every way a file can be wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine as pc

from dsj_desktop.domain.fields import FieldSpec, normalize_header
from dsj_desktop.errors import UserError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
HEADER_SCAN_ROWS = 10


class WorkbookError(UserError):
    """The file cannot be read as a workbook at all."""


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    s = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass(frozen=True)
class SheetInfo:
    name: str
    visible: bool


def _open(path: Path) -> pc.CalamineWorkbook:
    name = path.name
    if not path.exists():
        raise WorkbookError(f"找不到文件“{path}”。")
    if path.is_dir():
        raise WorkbookError(f"“{path}”是文件夹，不是 Excel 文件。")
    if path.stat().st_size == 0:
        raise WorkbookError(f"文件“{name}”是空文件（0 字节），不是 Excel 工作簿。")
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0") and path.suffix.lower() in (".xlsx", ".xlsm", ".xlsb"):
        # An OLE container with an .xlsx name is how Excel stores a password-protected workbook.
        raise WorkbookError(f"文件“{name}”设置了打开密码（已加密），请在 Excel 中取消密码后另存，再导入。")
    try:
        return pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError:
        raise WorkbookError(
            f"文件“{name}”设置了打开密码（已加密），请在 Excel 中取消密码后另存，再导入。"
        ) from None
    except (pc.CalamineError, pc.ZipError, pc.XmlError, ValueError, OSError) as exc:
        kinds = "、".join(WORKBOOK_SUFFIXES)
        raise WorkbookError(
            f"文件“{name}”不是可读取的 Excel 工作簿（支持 {kinds}），可能已损坏或是其他类型的文件。"
            f"（详情：{exc}）"
        ) from None


def list_sheets(path: Path) -> list[SheetInfo]:
    wb = _open(path)
    try:
        return [SheetInfo(m.name, str(m.visible).lower().endswith("visible")) for m in wb.sheets_metadata]
    finally:
        wb.close()


def read_sheet(
    path: Path, sheet: str | None = None, max_rows: int | None = None
) -> tuple[str, list[list[Any]]]:
    """The sheet's cells; row ``i`` of the result is Excel row ``i + 1``, column ``j`` is letter ``j``.

    Without *sheet*, the first visible sheet is read; *max_rows* reads only the top of the sheet.
    """
    wb = _open(path)
    try:
        metas = list(wb.sheets_metadata)
        if not metas:
            raise WorkbookError(f"文件“{path.name}”中没有工作表。")
        if sheet is None:
            visible = [m for m in metas if str(m.visible).lower().endswith("visible")]
            sheet = (visible or metas)[0].name
        elif sheet not in [m.name for m in metas]:
            names = "、".join(m.name for m in metas)
            raise WorkbookError(f"文件“{path.name}”中没有名为“{sheet}”的工作表（现有：{names}）。")
        try:
            ws = wb.get_sheet_by_name(sheet)
            rows = ws.to_python(skip_empty_area=False, nrows=max_rows)
        except (pc.CalamineError, pc.XmlError, pc.ZipError, ValueError) as exc:
            raise WorkbookError(
                f"文件“{path.name}”的工作表“{sheet}”无法读取，可能已损坏。（详情：{exc}）"
            ) from None
    finally:
        wb.close()
    # Trailing rows that are entirely empty are not data.
    end = len(rows)
    while end and all(c in (None, "") for c in rows[end - 1]):
        end -= 1
    return sheet, rows[:end]


def header_index(fields: Sequence[FieldSpec]) -> dict[str, str]:
    """Normalised header text (canonical and aliases) → field attr."""
    index: dict[str, str] = {}
    for f in fields:
        for name in (f.header, *f.aliases):
            index.setdefault(normalize_header(name), f.attr)
    # Canonical headers win over another field's alias.
    for f in fields:
        index[normalize_header(f.header)] = f.attr
    return index


def find_header_row(rows: list[list[Any]], fields: Sequence[FieldSpec]) -> int | None:
    """The row (0-based) among the first few that names the most known columns.

    Bureau sheets often carry a title row ("××县检查对象名录") above the headers.
    """
    index = header_index(fields)
    best, best_hits = None, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = len({index[h] for h in (normalize_header(c) for c in row) if h in index})
        if hits > best_hits:
            best, best_hits = i, hits
    return best


def auto_mapping(header: Sequence[Any], fields: Sequence[FieldSpec]) -> dict[str, int]:
    """Field attr → column index, recognising canonical headers and common variants.

    An exact canonical header wins over an alias when both appear.
    """
    index = header_index(fields)
    canonical = {normalize_header(f.header): f.attr for f in fields}
    mapping: dict[str, int] = {}
    exact: set[str] = set()
    for j, cell in enumerate(header):
        h = normalize_header(cell)
        if not h:
            continue
        attr = index.get(h)
        if attr is None:
            continue
        is_exact = canonical.get(h) == attr
        if attr not in mapping or (is_exact and attr not in exact):
            mapping[attr] = j
            if is_exact:
                exact.add(attr)
    return mapping
