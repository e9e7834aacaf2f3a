"""Reading workbooks with python-calamine, with Chinese messages for every way a file can be wrong."""

from __future__ import annotations

import csv
import html
import io
import re
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine as pc

from dsj_desktop.domain.fields import FieldSpec, cell_to_text, normalize_header, strip_note
from dsj_desktop.errors import UserError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
HEADER_SCAN_ROWS = 10
LARGE_RANGE = 200_000  # rows of a used range from which a sheet is read row by row


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


CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_WS = " \t\r\n\u3000\u00a0\ufeff\u200b"


def _refuse_other_kinds(path: Path) -> None:
    """Files that are not workbooks but are often picked as one: clear messages, no reader's detail."""
    name = path.name
    if not path.exists():
        raise WorkbookError(f"找不到文件“{path}”。请检查文件名和所在的文件夹。")
    if path.is_dir():
        raise WorkbookError(f"“{path}”是文件夹，不是 Excel 文件。请选择文件夹中的 Excel 文件。")
    if name.startswith("~$"):
        raise WorkbookError(
            f"文件“{name}”是 Excel 或 WPS 打开工作簿时生成的临时锁定文件（文件名以 ~$ 开头），不是数据。"
            f"请选择同一文件夹中的“{name[2:]}”。"
        )
    if path.stat().st_size == 0:
        raise WorkbookError(
            f"文件“{name}”是空文件（0 字节），不是 Excel 工作簿。请重新保存或重新导出后再导入。"
        )
    with path.open("rb") as f:
        head = f.read(2048)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    html = text.startswith(b"<") and any(t in text for t in (b"<html", b"<table", b"<!doctype html"))
    if html or text.startswith(b"mime-version"):
        raise WorkbookError(
            f"文件“{name}”是网页格式的表格（其他系统导出时常用 .xls 的名字保存网页），不能直接导入。"
            "这是网页格式的表格，请在 Excel 中另存为 .xlsx（文件→另存为→Excel 工作簿），再导入另存的文件。"
        )
    if head.startswith(b"\xd0\xcf\x11\xe0") and path.suffix.lower() in (".xlsx", ".xlsm", ".xlsb"):
        # An OLE container with an .xlsx name is how Excel stores a password-protected workbook.
        raise WorkbookError(f"文件“{name}”设置了打开密码（已加密），请在 Excel 中取消密码后另存，再导入。")


def is_csv(path: Path) -> bool:
    return path.suffix.lower() in CSV_SUFFIXES


def _open(path: Path) -> pc.CalamineWorkbook:
    name = path.name
    _refuse_other_kinds(path)
    try:
        return pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError:
        raise WorkbookError(
            f"文件“{name}”设置了打开密码（已加密），请在 Excel 中取消密码后另存，再导入。"
        ) from None
    except (pc.CalamineError, pc.ZipError, pc.XmlError, ValueError, OSError):
        kinds = "、".join(WORKBOOK_SUFFIXES)
        raise WorkbookError(
            f"文件“{name}”不是可读取的 Excel 工作簿（支持 {kinds} 和 .csv），可能已损坏或是其他类型的文件。"
            "请在 Excel 或 WPS 中打开它，另存为 .xlsx 后再导入。"
        ) from None


def read_csv(path: Path, max_rows: int | None = None) -> list[list[Any]]:
    """A CSV file as Excel on Chinese Windows saves it: UTF-8 (with or without BOM) or GB18030/GBK."""
    _refuse_other_kinds(path)
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte sequence
        raise WorkbookError(f"文件“{path.name}”的文字编码无法识别，请在 Excel 中另存为 .xlsx 再导入。")
    if "\x00" in text:
        raise WorkbookError(
            f"文件“{path.name}”不是文本格式的 CSV 文件。请在 Excel 中打开它，另存为 .xlsx 后再导入。"
        )
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    rows: list[list[Any]] = []
    for row in csv.reader(io.StringIO(text, newline=""), dialect):
        rows.append(list(row))
        if max_rows is not None and len(rows) >= max_rows:
            break
    width = max(map(len, rows), default=0)
    return [r + [""] * (width - len(r)) if len(r) < width else r for r in rows]


def list_sheets(path: Path) -> list[SheetInfo]:
    if is_csv(path):
        _refuse_other_kinds(path)
        return [SheetInfo(path.stem, True)]
    wb = _open(path)
    try:
        return [SheetInfo(m.name, str(m.visible).lower().endswith("visible")) for m in wb.sheets_metadata]
    finally:
        wb.close()


def is_blank_row(row: Sequence[Any]) -> bool:
    """Empty cells, or cells holding only spaces (a space typed far below the data is not a row)."""
    for c in row:  # a data row returns at its first cell
        if c is None or c == "" or (type(c) is str and not c.strip(_WS)):
            continue
        return False
    return True


def _rows_without_trailing_blanks(ws: pc.CalamineSheet, max_rows: int | None) -> list[list[Any]]:
    """The sheet's rows up to the last one that holds something. Blank rows are kept only as one
    shared empty list, so a sheet whose used range runs to row 1,048,576 costs next to nothing."""
    if max_rows is not None:
        rows = ws.to_python(skip_empty_area=False, nrows=max_rows)
        end = len(rows)
        while end and is_blank_row(rows[end - 1]):
            end -= 1
        del rows[end:]
        return rows
    # Row by row: about half the peak memory of one to_python() call; a blank row costs one pointer.
    blank: list[Any] = []
    rows = []
    last = 0
    append = rows.append
    for row in ws.iter_rows():
        first = row[0] if row else None
        # A row whose first cell holds a number or text starting with a visible character is data.
        if (not first or (first.__class__ is str and first[0] in _WS)) and (
            not any(row) or is_blank_row(row)
        ):
            append(blank)
        else:
            append(row)
            last = len(rows)
    del rows[last:]
    return rows


def _fill_merged(rows: list[list[Any]], ranges: Sequence[Any]) -> None:
    """Every cell of a merged range reads as the range's top-left value (merged headers, a town
    written once for all its rows)."""
    n = len(rows)
    for (r0, c0), (r1, c1) in ranges:
        if r0 >= n:
            continue
        top = rows[r0]
        value = top[c0] if c0 < len(top) else None
        if value in (None, ""):
            continue
        for r in range(r0, min(r1, n - 1) + 1):
            row = rows[r]
            if not row:  # a blank row inside a merged range: give it cells of its own
                row = rows[r] = [""] * len(top)
            for c in range(c0, min(c1, len(row) - 1) + 1):
                row[c] = value


def read_sheet(
    path: Path, sheet: str | None = None, max_rows: int | None = None
) -> tuple[str, list[list[Any]]]:
    """The sheet's cells; row ``i`` of the result is Excel row ``i + 1``, column ``j`` is letter ``j``.

    Without *sheet*, the first visible sheet is read; *max_rows* reads only the top of the sheet.
    Merged cells read as their top-left value; trailing blank rows are dropped; a blank row inside
    the data may be an empty list. CSV files (UTF-8, UTF-8 with BOM, GB18030) read as one sheet.
    """
    if is_csv(path):
        rows = read_csv(path, max_rows)
        end = len(rows)
        while end and is_blank_row(rows[end - 1]):
            end -= 1
        return path.stem, rows[:end]
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
            raise WorkbookError(
                f"文件“{path.name}”中没有名为“{sheet}”的工作表（现有：{names}）。请在 --sheet 后写其中之一。"
            )
        if max_rows is None:
            with tempfile.TemporaryDirectory(prefix="dsj-sheet-") as tmp:
                # A used range of a million mostly blank rows (a space far below the data, rows
                # formatted down to the end): read a copy without the blank rows.
                trimmed = trimmed_copy(path, sheet, Path(tmp))
                if trimmed is not None:
                    small = pc.CalamineWorkbook.from_path(str(trimmed))
                    try:
                        rows, merged = _read(small, path, sheet, None)
                    finally:
                        small.close()
                    return sheet, _filled(rows, merged)
        rows, merged = _read(wb, path, sheet, max_rows)
    finally:
        wb.close()
    return sheet, _filled(rows, merged)


def _read(
    wb: pc.CalamineWorkbook, path: Path, sheet: str, max_rows: int | None
) -> tuple[list[list[Any]], Any]:
    try:
        ws = wb.get_sheet_by_name(sheet)
        return _rows_without_trailing_blanks(ws, max_rows), ws.merged_cell_ranges or []
    except (pc.CalamineError, pc.XmlError, pc.ZipError, ValueError):
        raise WorkbookError(
            f"文件“{path.name}”的工作表“{sheet}”无法读取，可能已损坏。请在 Excel 中打开它，另存为 .xlsx 后再导入。"
        ) from None


def _filled(rows: list[list[Any]], merged: Any) -> list[list[Any]]:
    if merged:
        _fill_merged(rows, merged)
    return rows


def header_index(fields: Sequence[FieldSpec]) -> dict[str, str]:
    """Normalised header text (canonical and aliases, with and without bracketed notes) → field attr."""
    index: dict[str, str] = {}
    for f in fields:
        for name in (f.header, *f.aliases):
            h = normalize_header(name)
            index.setdefault(h, f.attr)
            index.setdefault(strip_note(h), f.attr)
    # Canonical headers win over another field's alias.
    for f in fields:
        index[normalize_header(f.header)] = f.attr
    return index


def match_header(index: dict[str, str], cell: Any) -> str | None:
    """The field a header cell names: as written, else without its notes (“风险等级（重大/较大/一般/低）”)."""
    h = normalize_header(cell)
    if not h:
        return None
    attr = index.get(h)
    if attr is None:
        attr = index.get(strip_note(h))
    return attr


def _text(cell: Any) -> str:
    return cell_to_text(cell).strip(_WS)


def header_labels(rows: list[list[Any]], hdr: int, fields: Sequence[FieldSpec]) -> tuple[list[str], int]:
    """The column names of the header at row *hdr* (0-based) and how many rows it spans (1 or 2).

    Offices often write two header rows: a group name over its columns (“风险信息” over “风险等级”,
    “标准化等级”), with the other header cells merged down. Each column is named by the lower cell,
    the upper cell or both together, whichever names a known column."""
    index = header_index(fields)
    top = rows[hdr] if hdr < len(rows) else []
    single = [_text(c) for c in top]
    below = rows[hdr + 1] if hdr + 1 < len(rows) else []
    if not below:
        return single, 1
    width = max(len(top), len(below))
    combined: list[str] = []
    for j in range(width):
        a = single[j] if j < len(single) else ""
        b = _text(below[j]) if j < len(below) else ""
        candidates = [b, a, a + b] if b and b != a else [a]
        label = next((c for c in candidates if c and match_header(index, c)), None)
        if label is None:
            label = a if not b or a == b else (f"{a}/{b}" if a else b)
        combined.append(label)

    def hits(labels: Sequence[Any]) -> set[str]:
        return {a for a in (match_header(index, c) for c in labels) if a}

    n_single, n_combined, n_below = len(hits(single)), len(hits(combined)), len(hits(below))
    if n_combined > n_single or (n_below >= 2 and n_combined >= n_single):
        return combined, 2
    return single, 1


def find_header_row(rows: list[list[Any]], fields: Sequence[FieldSpec]) -> int | None:
    """The row (0-based) among the first few that names the most known columns (with the row below
    it, for a two-row header).

    Bureau sheets often carry a title row (“××县检查对象名录”) above the headers.
    """
    index = header_index(fields)
    best, best_hits = None, 0
    for i in range(min(HEADER_SCAN_ROWS, len(rows))):
        if not rows[i]:
            continue
        labels, _ = header_labels(rows, i, fields)
        hits = len({a for a in (match_header(index, c) for c in labels) if a})
        if hits > best_hits:
            best, best_hits = i, hits
    return best


def auto_mapping(header: Sequence[Any], fields: Sequence[FieldSpec]) -> dict[str, int]:
    """Field attr → column index, recognising canonical headers and common variants.

    An exact canonical header wins over an alias when both appear, and a header as written wins over
    one recognised only without its notes.
    """
    index = header_index(fields)
    canonical = {normalize_header(f.header): f.attr for f in fields}
    mapping: dict[str, int] = {}
    rank: dict[str, int] = {}
    for j, cell in enumerate(header):
        h = normalize_header(cell)
        if not h:
            continue
        attr = match_header(index, cell)
        if attr is None:
            continue
        r = 2 if canonical.get(h) == attr else 1 if index.get(h) == attr else 0
        if attr not in mapping or r > rank[attr]:
            mapping[attr] = j
            rank[attr] = r
    return mapping


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_FILTER_NAME = re.compile(rb"<(?:\w+:)?definedName\b[^>]*name=\"_xlnm\._FilterDatabase\"[^>]*>")
_HIDDEN_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*\bhidden=\"(?:1|true)\"[^>]*>")
_ROW_NUMBER = re.compile(rb"\br=\"(\d+)\"")


def filtered_rows(path: Path, sheet: str) -> set[int]:
    """Excel row numbers hidden in a sheet that has an autofilter (.xlsx / .xlsm only; others: none).

    Excel names a sheet's filter range ``_xlnm._FilterDatabase`` in workbook.xml, so the sheet itself
    is scanned only when it has a filter."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not zipfile.is_zipfile(path):
        return set()
    try:
        with zipfile.ZipFile(path) as zf:
            found = _sheet_part(zf, sheet)
            if found is None:
                return set()
            index, name = found
            book = zf.read("xl/workbook.xml")
            local = [dict(_ATTR.findall(m.group())).get(b"localSheetId") for m in _FILTER_NAME.finditer(book)]
            if str(index).encode() not in local:
                return set()
            xml = zf.read(name)
    except (KeyError, OSError, EOFError, zlib.error, zipfile.BadZipFile, UnicodeDecodeError):
        return set()  # a damaged part: the reader itself gives the clear message
    hidden = set()
    for m in _HIDDEN_ROW.finditer(xml):
        r = _ROW_NUMBER.search(m.group())
        if r:
            hidden.add(int(r.group(1)))
    return hidden


def _unescape(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> tuple[int, str] | None:
    """(index, part name) of the sheet called *sheet* in an .xlsx package."""
    book = zf.read("xl/workbook.xml")
    sheets = [dict(_ATTR.findall(m.group())) for m in _SHEET_TAG.finditer(book)]
    index = next((i for i, a in enumerate(sheets) if _unescape(a.get(b"name", b"")) == sheet), None)
    if index is None:
        return None
    rid = next((v for k, v in sheets[index].items() if k.endswith(b":id")), b"")
    rels = zf.read("xl/_rels/workbook.xml.rels")
    target = next(
        (dict(_ATTR.findall(m.group())).get(b"Target", b"") for m in re.finditer(rb"<Relationship\b[^>]*>", rels)
         if dict(_ATTR.findall(m.group())).get(b"Id") == rid),
        b"",
    )  # fmt: skip
    name = target.decode().lstrip("/")
    return index, name if name.startswith("xl/") else f"xl/{name}"


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]+\d+:[A-Z]+(\d+)\"")
_ROW_ELEMENT = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", re.S)
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_TEXT = re.compile(rb"<(?:\w+:)?t\b[^>]*>([^<]*)</(?:\w+:)?t>")
_SI = re.compile(rb"<(?:\w+:)?si>(.*?)</(?:\w+:)?si>", re.S)


def _blank_shared_strings(zf: zipfile.ZipFile) -> set[int]:
    """Indexes of the shared strings that hold only spaces."""
    try:
        sst = zf.read("xl/sharedStrings.xml")
    except KeyError:
        return set()
    blank = set()
    for i, m in enumerate(_SI.finditer(sst)):
        text = b"".join(_TEXT.findall(m.group(1)))
        if not _unescape(text).strip(_WS):
            blank.add(i)
    return blank


def _row_is_blank(row: bytes, blank_strings: set[int]) -> bool:
    if b"<v>" not in row and b"<t" not in row and b":v>" not in row and b":t" not in row:
        return True  # cells with a format and no value
    for cell in _CELL.finditer(row):  # a data row returns at its first cell
        attrs, inner = cell.groups()
        if not inner:
            continue
        v = _VALUE.search(inner)
        if b't="inlineStr"' in attrs or (v is None and b"<is>" in inner):
            if _unescape(b"".join(_TEXT.findall(inner))).strip(_WS):
                return False
        elif v is not None:
            if b't="s"' in attrs:
                if not v.group(1).strip().isdigit() or int(v.group(1)) not in blank_strings:
                    return False
            elif b't="str"' in attrs:
                if _unescape(v.group(1)).strip(_WS):
                    return False
            else:
                return False
    return True


def trimmed_copy(path: Path, sheet: str, folder: Path) -> Path | None:
    """For an .xlsx sheet whose used range runs past :data:`LARGE_RANGE` rows because of blank cells
    far below the data (a space typed in A1048576): a copy of the workbook in *folder* whose sheet
    ends after its last row that holds something, so that the reader does not hold a million empty
    rows. ``None``: no need (formatted cells without values do not extend what the reader holds)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            found = _sheet_part(zf, sheet)
            if found is None:
                return None
            part = found[1]
            with zf.open(part) as f:
                m = _DIMENSION.search(f.read(4096))
            if m is None or int(m.group(1)) <= LARGE_RANGE:
                return None
            cut = _end_of_last_filled_row(zf, part, _blank_shared_strings(zf))
            if cut is None:
                return None
            end, tail = cut
            out_path = folder / f"trimmed{path.suffix.lower()}"
            with zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
                for item in zf.infolist():
                    if item.filename != part:
                        out.writestr(item, zf.read(item.filename))
                        continue
                    with zf.open(part) as src, out.open(part, "w") as dst:
                        left = end
                        while left > 0:
                            chunk = src.read(min(left, 1 << 22))
                            if not chunk:
                                break
                            dst.write(chunk)
                            left -= len(chunk)
                        dst.write(tail)
            return out_path
    except (KeyError, OSError, EOFError, zlib.error, zipfile.BadZipFile, ValueError):
        return None  # a damaged part: the reader itself gives the clear message


TAIL_WINDOW = 1 << 21


def _end_of_last_filled_row(
    zf: zipfile.ZipFile, part: str, blank_strings: set[int]
) -> tuple[int, bytes] | None:
    """(offset just after the last row that holds something, the XML from ``</sheetData>`` on), when
    blank rows holding values (spaces) follow it; else ``None``. Reads the sheet once, keeping only
    its last two megabytes."""
    window = b""
    total = 0
    with zf.open(part) as f:
        while chunk := f.read(1 << 22):
            total += len(chunk)
            window = (window + chunk)[-TAIL_WINDOW:]
    close = window.rfind(b"sheetData>")
    if close < 0:
        return None
    close = window.rfind(b"<", 0, close)
    rows = list(_ROW_ELEMENT.finditer(window, 0, close))
    if len(rows) < 2:
        return None
    trailing_blank = 0
    for r in reversed(rows[1:]):  # the first may be cut by the window's start
        if not _row_is_blank(r.group(), blank_strings):
            break
        trailing_blank += 1
    else:
        return None  # blank rows all through the window: leave the sheet as it is
    if not trailing_blank:
        return None
    last = rows[len(rows) - 1 - trailing_blank]
    start_of_window = total - len(window)
    return start_of_window + last.end(), window[close:]
