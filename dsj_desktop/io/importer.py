"""Importing a directory from a workbook: read, validate everything, then write in one transaction.

Nothing is written unless every row of the file is good. A refused import raises
:class:`ImportRefused` naming the file, sheet, row and column of each problem.
Re-importing updates existing rows by their key and reports added / updated / unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from dsj_desktop.clock import now_iso
from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db import lock, pg
from dsj_desktop.db.engine import Database, guard_of, tx_state
from dsj_desktop.domain import codelists, staffing
from dsj_desktop.domain.fields import (
    Converter,
    FieldSpec,
    Kind,
    _preview,
    convert_column,
    normalize_header,
    strip_note,
)
from dsj_desktop.domain.plan_specs import ITEMS
from dsj_desktop.domain.specs import CONFLICTS, TableSpec
from dsj_desktop.errors import UserError
from dsj_desktop.io import excel as excel_mod
from dsj_desktop.io.excel import (
    HEADER_SCAN_ROWS,
    auto_mapping,
    column_letter,
    filtered_rows,
    find_header_row,
    header_labels,
    is_blank_row,
    list_sheets,
    read_sheet,
)
from dsj_desktop.progress import Job, Progress

MAX_LISTED_PROBLEMS = 200
PROGRESS_EVERY = 5000
_BLANK = excel_mod._WS  # what is_blank_row takes for space
PREVIEW_ROWS = 50
BULK_ROWS = 2000  # from this many rows an import seals its rows in one pass
BULK_CACHE_KIB = -65536  # negative: KiB, i.e. 64 MiB


@dataclass(frozen=True)
class Problem:
    row: int | None  # Excel row number (1-based)
    col: int | None  # column index (0-based)
    header: str | None
    message: str

    def where(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.col is not None:
            parts.append(f"{column_letter(self.col)} 列")
        text = " ".join(parts)
        if self.header:
            text += f"（{self.header}）"
        return text

    def text(self) -> str:
        w = self.where()
        return f"{w}：{self.message}" if w else self.message


MAX_LISTED_RUNS = 8  # row ranges shown for one problem before “等”
DEFAULT_ADVICE = "请在 Excel 中改正上面列出的单元格，保存后重新导入；文件中任何一处有问题时整个文件都不导入。"


def format_rows(rows: Iterable[int]) -> str:
    """Excel row numbers as a clerk reads them: 第 2–2381 行（共 2,380 行）, 第 3、5 行."""
    ordered = sorted(set(rows))
    runs: list[list[int]] = []
    for r in ordered:
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    parts = [str(a) if a == b else f"{a}–{b}" for a, b in runs]
    text = "第 " + "、".join(parts[:MAX_LISTED_RUNS]) + ("等" if len(parts) > MAX_LISTED_RUNS else "") + " 行"
    if len(ordered) > 1 and (len(parts) != len(ordered) or len(ordered) > 3):
        text += f"（共 {len(ordered):,} 行）"
    return text


def group_problems(problems: Sequence[Problem]) -> list[str]:
    """One line per column and reason, with the rows it concerns, in the order of the first row."""
    groups: dict[tuple[int | None, str | None, str], list[int]] = {}
    for p in problems:
        groups.setdefault((p.col, p.header, p.message), []).append(p.row if p.row is not None else 0)
    order = sorted(groups.items(), key=lambda kv: (min(kv[1]), kv[0][0] if kv[0][0] is not None else -1))
    lines = []
    for (col, header, message), rows in order:
        where = [format_rows(rows)] if any(rows) else []
        if col is not None:
            where.append(f"{column_letter(col)} 列")
        text = " ".join(where) + (f"（{header}）" if header else "")
        lines.append(f"{text}：{message}" if text else message)
    return lines


class ImportRefused(UserError):
    """The file was refused whole; the database is untouched. *advice*: what to do, once each."""

    def __init__(
        self,
        file: Path,
        sheet: str | None,
        problems: Sequence[Problem],
        total: int | None = None,
        advice: Sequence[str] = (),
    ):
        self.file = file
        self.sheet = sheet
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        self.advice = list(dict.fromkeys(advice)) or [DEFAULT_ADVICE]
        where = f"文件“{file.name}”" + (f"工作表“{sheet}”" if sheet else "")
        lines = [f"导入被拒绝：{where}中有 {self.total:,} 处问题，数据库未作任何改动。"]
        lines += [f"  {line}" for line in self.lines()]
        lines += self.advice
        super().__init__("\n".join(lines))

    def lines(self) -> list[str]:
        """The problems, the same reason on many rows given once with its rows."""
        lines = group_problems(self.problems)
        shown = lines[:MAX_LISTED_PROBLEMS]
        listed = len(self.problems)
        if len(lines) > MAX_LISTED_PROBLEMS:
            shown.append(f"……另有 {len(lines) - MAX_LISTED_PROBLEMS} 类问题未列出。")
        elif self.total > listed:
            shown.append(f"……另有 {self.total - listed:,} 处问题未列出。")
        return shown


class UnconfirmedColumns(ImportRefused):
    """Columns the draw depends on are in the file but would not be imported (see ``columns``)."""

    def __init__(self, file: Path, sheet: str | None, problems: Sequence[Problem], advice: Sequence[str],
                 columns: Sequence[str]):  # fmt: skip
        super().__init__(file, sheet, problems, None, advice)
        self.columns = list(columns)


@dataclass
class ParsedSheet:
    """A sheet whose every cell passed the checks, held column by column."""

    file: Path
    sheet: str
    header_row: int  # Excel row number of the header
    mapping: dict[str, int]
    columns: dict[str, list[Any]]  # field attr → stored values, one per data row
    row_numbers: list[int]  # Excel row number of each data row
    unknown_codes: dict[str, set[str]] = field(default_factory=dict)
    ignored_headers: list[str] = field(default_factory=list)
    # With read_records(keep_going=True): the refused cells (their values are None), for callers that
    # check the other rows further and then refuse the file with every problem at once.
    problems: list[Problem] = field(default_factory=list)
    # Columns of the file that look like a column the draw depends on but are not imported:
    # (column index, header as written, the field it looks like).
    suspect_columns: list[tuple[int, str, FieldSpec]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # sentences for the summary (nothing refused)
    text_columns: set[str] = field(default_factory=set)  # fields whose every value the checks showed is text

    def __len__(self) -> int:
        return len(self.row_numbers)

    def record(self, i: int) -> dict[str, Any]:
        return {a: col[i] for a, col in self.columns.items()}

    @property
    def records(self) -> list[dict[str, Any]]:
        attrs = list(self.columns)
        return [dict(zip(attrs, vals, strict=True)) for vals in zip(*self.columns.values(), strict=True)]

    @staticmethod
    def from_records(
        spec: TableSpec, records: Sequence[Mapping[str, Any]], codes: Mapping[str, Sequence[str]], source: str
    ) -> ParsedSheet:
        """Records made by the program (the demo county) checked by exactly the import's rules."""
        columns: dict[str, list[Any]] = {}
        for f in spec.fields:
            conv = Converter(f, codes)
            values, errors = convert_column(conv, [r.get(f.attr, f.empty_value()) for r in records])
            if errors:
                i, message = next(iter(errors.items()))
                raise UserError(f"{source}第 {i + 1} 条{spec.noun}的{f.header}有误：{message}")
            columns[f.attr] = values
        mapping = {f.attr: j for j, f in enumerate(spec.fields)}
        return ParsedSheet(Path(source), source, 1, mapping, columns, list(range(2, len(records) + 2)))

    def db_rows(self, spec: TableSpec) -> list[tuple[Any, ...]]:
        """The rows as SQLite stores them, in the spec's field order (see :func:`to_db`)."""
        return self.db_rows_and_types(spec)[0]

    def db_rows_and_types(self, spec: TableSpec) -> tuple[list[tuple[Any, ...]], list[type] | None]:
        """:meth:`db_rows`, and the type (str or int) of each column's every value when that is
        certain: a flag column is stored as 1 or 0, a column the checks found all text is text, any
        other column is looked at whole. ``None`` when a column holds other or mixed types."""
        cols = [db_column(f, self.columns[f.attr]) for f in spec.fields]
        types: list[type] = []
        for f, col in zip(spec.fields, cols, strict=True):
            if f.kind is Kind.BOOL:
                types.append(int)  # db_column: 1 or 0
            elif f.attr in self.text_columns:
                types.append(str)
            else:
                found = set(map(type, col))
                if len(found) != 1 or not found <= {str, int}:
                    return list(zip(*cols, strict=True)), None
                types.append(found.pop())
        return list(zip(*cols, strict=True)), types


@dataclass
class ImportSummary:
    kind: str
    title: str
    file: str
    sheet: str
    rows: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: int = 0  # archived rows brought back by the import (counted in updated)
    codes_added: dict[str, list[str]] = field(default_factory=dict)
    preview: list[dict[str, Any]] = field(default_factory=list)  # the first records, as read
    ignored_headers: list[str] = field(default_factory=list)  # columns of the file that were not imported
    absent_fields: list[str] = field(default_factory=list)  # headers of fields the file does not have
    notes: list[str] = field(default_factory=list)  # further sentences for the report
    warnings: list[str] = field(default_factory=list)  # imported, but worth a look

    def text(self, *, planned: bool = False) -> str:
        """What the import did; with *planned*, what it will do (the check before anything is written)."""
        if planned:
            s = (
                f"检查通过：共 {self.rows} 行，导入后将新增 {self.added}，更新 {self.updated}，未变 {self.unchanged}。"
                "文件中没有的记录保持不变。"
            )
            restored, codes, notes = "其中 {} 条已归档的记录将被恢复。", "\n将加入{}代码表：{}", "\n"
        else:
            s = (
                f"{self.title}导入完成：文件“{self.file}”工作表“{self.sheet}”共 {self.rows:,} 行，"
                f"新增 {self.added:,}，更新 {self.updated:,}，未变 {self.unchanged:,}。"
            )
            restored, codes, notes = "其中 {} 条原已归档的记录已恢复。", "已加入{}代码表：{}。", ""
        if self.restored:
            s += restored.format(self.restored)
        for name, vals in self.codes_added.items():
            s += codes.format(codelists.LIST_TITLES.get(name, name), "、".join(vals))
        s += "".join(notes + (n.strip() if planned else n) for n in self.notes)
        for line in self.column_lines():
            s += "\n" + line
        for w in self.warnings:
            s += "\n注意：" + w
        return s

    def column_lines(self) -> list[str]:
        """What of the file was not imported, and what the file did not have."""
        lines = []
        if self.ignored_headers:
            lines.append(f"未导入的列：{'、'.join(self.ignored_headers)}。")
        if self.absent_fields:
            lines.append(
                f"文件中没有的项目：{'、'.join(self.absent_fields)}（已有记录的这些项目保持原值，新记录取默认值）。"
            )
        return lines


def _no_header(path: Path, sheet: str, fields: Sequence[FieldSpec]) -> ImportRefused:
    """“No header” naming the workbook's other sheets, the one that looks like data first."""
    expected = "、".join(f.header for f in fields if f.required)
    problem = Problem(
        1, None, None, f"找不到表头：前 {HEADER_SCAN_ROWS} 行中没有可识别的列名（至少需要：{expected}）。"
    )
    advice = []
    try:
        others = [s.name for s in list_sheets(path) if s.name != sheet]
    except UserError:
        others = []
    if others:
        likely = []
        for name in others:
            try:
                _, top = read_sheet(path, name, max_rows=HEADER_SCAN_ROWS + 1)
            except UserError:
                continue
            if top and find_header_row(top, fields) is not None:
                likely.append(name)
        names = "、".join(f"“{n}”" for n in others)
        hint = f"其中{'、'.join(f'“{n}”' for n in likely)}有可识别的表头。" if likely else ""
        pick = likely[0] if likely else others[0]
        advice.append(
            f"本文件还有工作表：{names}。{hint}请选择数据所在的工作表：命令行加 --sheet {pick}，"
            "或在导入向导第 2 步中选择。"
        )
    else:
        advice.append(f"请在表头行写上列名（可先生成导入模板，照它的表头填写），至少需要：{expected}。")
    return ImportRefused(path, sheet, [problem], advice=advice)


def _looks_like(label: str, f: FieldSpec) -> bool:
    """Whether an unrecognised header is probably a variant of *f*'s (经营状况 for 经营状态)."""
    h = strip_note(normalize_header(label))
    if not h:
        return False
    for name in (f.header, *f.aliases):
        n = strip_note(normalize_header(name))
        if n and (n in h or SequenceMatcher(None, h, n).ratio() > 0.5):
            return True
    return False


def suspect_columns(
    spec: TableSpec, labels: Sequence[str], mapping: Mapping[str, int], fields: Sequence[FieldSpec]
) -> list[tuple[int, str, FieldSpec]]:
    """Columns of the file that are not imported but look like a column the draw depends on."""
    used = set(mapping.values())
    auto = auto_mapping(labels, fields)
    out: list[tuple[int, str, FieldSpec]] = []
    seen: set[int] = set()
    for f in fields:
        if f.attr not in spec.draw_fields or f.attr in mapping:
            continue
        for j, label in enumerate(labels):
            if j in used or j in seen or not label:
                continue
            if auto.get(f.attr) == j or _looks_like(label, f):
                out.append((j, label, f))
                seen.add(j)
    return out


def _phone_warnings(f: FieldSpec, col: int, raw: Sequence[Any], row_numbers: Sequence[int]) -> list[str]:
    """Phone numbers typed as numbers: Excel drops a landline's leading 0 (0351… → 351…)."""
    try:
        "".join(raw)
        return []  # every cell text: no number among them
    except TypeError:
        pass
    lost = []
    for v, rn in zip(raw, row_numbers, strict=True):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer():
            digits = str(int(v))
            if len(digits) in (9, 10, 11) and not (len(digits) == 11 and digits[0] == "1"):
                lost.append((rn, digits))
    if not lost:
        return []
    example = lost[0][1]
    return [
        f"{f.header}（{column_letter(col)} 列）{format_rows(r for r, _ in lost)}是数字格式，开头的 0 可能已经丢失"
        f"（如 {example} 原本可能是 0{example}）；已按 Excel 显示的内容导入。请在 Excel 中把这一列设为“文本”格式、"
        "补上开头的 0 后重新导入。"
    ]


def read_records(
    spec: TableSpec,
    path: Path,
    *,
    sheet: str | None = None,
    mapping: Mapping[str, int] | None = None,
    codes: Mapping[str, Sequence[str]] | None = None,
    tolerate_unknown_codes: bool = False,
    fields: Sequence[FieldSpec] | None = None,
    header_row: int | None = None,
    keep_going: bool = False,
) -> Job[ParsedSheet]:
    """Parse and check every cell of the sheet; raise :class:`ImportRefused` listing all problems.
    *keep_going*: return the sheet with its cell problems in ``problems`` instead of raising (a
    caller that checks the rows further raises with all of them)."""
    fields = tuple(fields or spec.fields)
    yield Progress(f"正在读取“{path.name}”……")
    sheet_name, rows = read_sheet(path, sheet)
    if not rows:
        raise ImportRefused(
            path, sheet_name, [Problem(None, None, None, "工作表是空的，没有表头也没有数据。")],
            advice=["请确认选择的是数据所在的工作表（命令行用 --sheet 指定，导入向导第 2 步中选择）。"],
        )  # fmt: skip
    hdr = find_header_row(rows, fields) if header_row is None else header_row - 1
    if hdr is None:
        raise _no_header(path, sheet_name, fields)
    header, span = header_labels(rows, hdr, fields)
    if mapping is None:
        mapping = auto_mapping(header, fields)
    problems: list[Problem] = []
    missing = [f for f in fields if f.required and f.attr not in mapping]
    for f in missing:
        problems.append(Problem(hdr + 1, None, f.header, f"缺少必填列“{f.header}”"))
    if missing:
        raise ImportRefused(
            path, sheet_name, problems,
            advice=[f"请在表头中加上缺少的列（列名照导入模板写，如“{missing[0].header}”），"
                    "或在导入向导第 3 步把它们对应到文件中的列。"],
        )  # fmt: skip
    used = set(mapping.values())
    ignored = [str(header[j]) for j in range(len(header)) if j not in used and header[j] not in (None, "")]

    converters = [(f, mapping[f.attr], Converter(f, codes)) for f in fields if f.attr in mapping]
    for _, _, conv in converters:
        conv.tolerate_unknown = tolerate_unknown_codes

    first_data = hdr + span
    data = rows[first_data:]
    width = max(len(header), max(mapping.values(), default=-1) + 1)
    # Blank lines inside the sheet are skipped (cells empty or holding only spaces).
    # (A row whose first cell holds a number or text starting with a visible character is data.)
    blank = {
        i
        for i, r in enumerate(data)
        if not r
        or ((not r[0] or (r[0].__class__ is str and r[0][0] in _BLANK)) and (not any(r) or is_blank_row(r)))
    }
    kept = [r for i, r in enumerate(data) if i not in blank] if blank else data
    row_numbers = [first_data + 1 + i for i in range(len(data)) if i not in blank]
    if kept and min(map(len, kept)) < width:  # calamine gives equal rows; CSV rows may be short
        kept = [r + [None] * (width - len(r)) if len(r) < width else r for r in kept]
    if not kept:
        raise ImportRefused(path, sheet_name, [Problem(hdr + 1, None, None, "表头下面没有数据行。")],
                            advice=["请把数据写在表头下面的行中，再导入。"])  # fmt: skip

    columns: dict[str, list[Any]] = {}
    text_columns: set[str] = set()
    warnings: list[str] = []
    n_problems = 0
    advice: list[str] = []
    # The sheet column by column, in one pass over its rows (the rows are at least *width* long).
    by_column = list(islice(zip(*kept, strict=False), width))
    for n, (f, j, conv) in enumerate(converters):
        yield Progress("正在检查数据……", n, len(converters))
        raw = list(by_column[j])
        values, errors = convert_column(conv, raw)
        columns[f.attr] = values
        if conv.texts_only:
            text_columns.add(f.attr)
        for i, message in errors.items():
            n_problems += 1
            problems.append(Problem(row_numbers[i], j, f.header, message))
        if conv.refused_codes:
            advice.append(
                f"{f.header}代码表中现有：{_preview(conv.ordered)}。如果上面的{f.header}是新值：命令行导入时加 "
                "--add-codes，或在导入向导第 4 步勾选“把代码表中还没有的行业领域、所属区域加入代码表”，"
                "即可一并加入代码表；否则请改为代码表中的值。"
            )
        if f.attr == "phone":
            warnings += _phone_warnings(f, j, raw, row_numbers)
    del by_column
    for f in fields:
        if f.attr not in columns:  # a column the file lacks: the field's empty value (年度: this year)
            columns[f.attr] = [f.empty_value()] * len(kept)

    # Duplicate keys inside the file.
    key_col = mapping.get(spec.key[0])
    label = "、".join(spec.field(k).header for k in spec.key)
    seen: dict[tuple[Any, ...], int] = {}
    key_cols = [columns[k] for k in spec.key]
    keys: Sequence[Any] = key_cols[0] if len(key_cols) == 1 else list(zip(*key_cols, strict=True))
    # The common case, every key distinct, is tested in one pass; the row loop only looks for the duplicates.
    check_rows = row_numbers if len(set(keys)) != len(keys) else []
    for key, rn in zip(zip(*key_cols, strict=True), check_rows, strict=False):
        if None in key:
            continue  # that cell was refused already
        first = seen.setdefault(key, rn)
        if first != rn:
            n_problems += 1
            problems.append(
                Problem(
                    rn,
                    key_col,
                    label,
                    f"与第 {first} 行重复（{' / '.join(map(str, key))}），同一文件中每条记录只能出现一次",
                )
            )
    if n_problems and not keep_going:
        problems.sort(key=lambda p: (p.row or 0, p.col or 0))
        raise ImportRefused(path, sheet_name, problems, n_problems, [*advice, DEFAULT_ADVICE])
    unknown = {
        f.codelist: conv.unknown_codes for f, _, conv in converters if f.codelist and conv.unknown_codes
    }
    parsed = ParsedSheet(
        path, sheet_name, hdr + 1, dict(mapping), columns, row_numbers, unknown, ignored, problems
    )
    parsed.suspect_columns = suspect_columns(spec, header, mapping, fields)
    hidden = filtered_rows(path, sheet_name)
    if hidden:
        n_hidden = len(hidden.intersection(row_numbers))
        if n_hidden:
            warnings.append(
                f"工作表设有筛选，其中 {n_hidden:,} 行被筛选隐藏（{format_rows(hidden.intersection(row_numbers))}），"
                "这些行也已一并检查和导入；如果它们不该导入，请在 Excel 中删除这些行后重新导入。"
            )
    parsed.warnings = warnings
    parsed.text_columns = text_columns
    return parsed


def unconfirmed(parsed: ParsedSheet, ignore_columns: Collection[str]) -> UnconfirmedColumns | None:
    """The refusal for columns the draw depends on that would be dropped without the user's word."""
    ok = {normalize_header(c) for c in ignore_columns}
    left = [(j, label, f) for j, label, f in parsed.suspect_columns if normalize_header(label) not in ok]
    if not left:
        return None
    problems = []
    for j, label, f in left:
        default = f"“{f.default}”" if isinstance(f.default, str) and f.default else "默认值"
        problems.append(
            Problem(parsed.header_row, j, label,
                    f"这一列不会导入，但它看起来是“{f.header}”；抽取要用到{f.header}，不导入时新记录的{f.header}"
                    f"取{default}")
        )  # fmt: skip
    _, _, f = left[0]
    names = " ".join(f"--ignore-column {label}" for _, label, _ in left)
    advice = [
        f"如果这一列就是{f.header}：请把表头改为“{f.header}”（或在导入向导第 3 步把“{f.header}”对应到这一列）后重新导入。",
        f"如果确实不要导入：命令行加 {names}；导入向导中请勾选“不导入这些列”确认。",
    ]
    return UnconfirmedColumns(parsed.file, parsed.sheet, problems, advice, [label for _, label, _ in left])


# --- writing -----------------------------------------------------------------------------------


def db_column(f: FieldSpec, values: list[Any]) -> list[Any]:
    """A column as SQLite stores it (bool → 0/1, date → ISO text); the same rules as :func:`to_db`."""
    if f.kind is Kind.BOOL:
        return [1 if v else 0 for v in values]
    if f.kind is Kind.DATE:
        return [v.isoformat() if isinstance(v, date) else v for v in values]
    return values


def to_db(spec: TableSpec, rec: Mapping[str, Any]) -> tuple[Any, ...]:
    """A record as the tuple of column values SQLite stores (bool → 0/1, date → ISO text)."""
    out: list[Any] = []
    for f in spec.fields:
        v = rec[f.attr] if f.attr in rec else f.empty_value()
        if f.kind is Kind.BOOL:
            v = 1 if v else 0
        elif isinstance(v, date):
            v = v.isoformat()
        out.append(v)
    return tuple(out)


def existing_rows(
    conn: Connection, spec: TableSpec
) -> dict[tuple[Any, ...], tuple[int, tuple[Any, ...], bool]]:
    """Key → (id, stored values in spec order, archived)."""
    cols = ", ".join(spec.attrs)
    key_pos = [spec.attrs.index(k) for k in spec.key]
    explicit = spec.archived_is_field  # then the file decides, and nothing counts as "restored"
    out: dict[tuple[Any, ...], tuple[int, tuple[Any, ...], bool]] = {}
    dbapi = conn.connection.driver_connection  # 100,000 rows in one fetch, without per-row wrappers
    assert dbapi is not None
    for row in dbapi.execute(f"SELECT id, archived, {cols} FROM {spec.table}").fetchall():
        vals = row[2:]
        out[tuple(vals[p] for p in key_pos)] = (row[0], vals, bool(row[1]) and not explicit)
    return out


def check_references(conn: Connection, spec: TableSpec, parsed: ParsedSheet) -> list[Problem]:
    """Cross-table checks: a conflict must name a known person and a known target."""
    if spec is not CONFLICTS:
        return []
    persons = {
        r[0] for r in conn.exec_driver_sql("SELECT cert_no FROM inspector UNION SELECT code FROM expert")
    }
    targets = {r[0] for r in conn.exec_driver_sql("SELECT uscc FROM target")}
    pcol = parsed.mapping.get("person_code")
    tcol = parsed.mapping.get("uscc")
    problems = []
    cols = parsed.columns
    for person, code, rn in zip(cols["person_code"], cols["uscc"], parsed.row_numbers, strict=True):
        if person not in persons:
            problems.append(Problem(rn, pcol, "人员编号", f"“{person}”不在执法检查人员名录库或专家库中"))
        if code not in targets:
            problems.append(Problem(rn, tcol, "统一社会信用代码", f"“{code}”不在检查对象名录库中"))
    return problems


def diff(
    spec: TableSpec,
    rows: Iterable[tuple[Any, ...]],
    existing: Mapping[tuple[Any, ...], tuple[int, tuple[Any, ...], bool]],
    present: Collection[str] | None = None,
) -> tuple[list[tuple[Any, ...]], list[tuple[int, tuple[Any, ...]]], int, int]:
    """(rows to add, (id, row) to update, unchanged count, restored count).

    *present*: the fields the file has; an existing row keeps its stored value of every other field
    (a column missing from the file never resets what is stored)."""
    if not existing:  # an empty table: every row is new
        return list(rows), [], 0, 0
    key_pos = [spec.attrs.index(k) for k in spec.key]
    keep = [p for p, a in enumerate(spec.attrs) if present is not None and a not in present]
    add: list[tuple[Any, ...]] = []
    update: list[tuple[int, tuple[Any, ...]]] = []
    unchanged = restored = 0
    for vals in rows:
        key = tuple(vals[p] for p in key_pos)
        old = existing.get(key)
        if old is None:
            add.append(vals)
            continue
        if keep:
            merged = list(vals)
            for p in keep:
                merged[p] = old[1][p]
            vals = tuple(merged)
        if old[1] != vals or old[2]:
            update.append((old[0], vals))
            restored += old[2]
        else:
            unchanged += 1
    return add, update, unchanged, restored


def insert_sql(spec: TableSpec, stamp: str | None = None) -> str:
    """INSERT of a row in spec field order, then created_at, updated_at (a new row is not archived).
    With *stamp*, both times are that text in the statement (the parameters are the row alone)."""
    cols = spec.attrs
    archived = "" if spec.archived_is_field else "archived, "
    zero = "" if spec.archived_is_field else "0, "
    times = "?, ?" if stamp is None else ", ".join([_sql_text(stamp)] * 2)
    return (
        f"INSERT INTO {spec.table} ({', '.join(cols)}, {archived}created_at, updated_at) "
        f"VALUES ({', '.join('?' * len(cols))}, {zero}{times})"
    )


def _sql_text(s: str) -> str:
    """*s* as an SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def update_sql(spec: TableSpec, *, restore: bool) -> str:
    """UPDATE of a row by id in spec field order, then updated_at, id. *restore* un-archives the row
    (an import of a record brings it back), unless the archived flag is a column of its own."""
    sets = ", ".join(f"{c} = ?" for c in spec.attrs)
    if restore and not spec.archived_is_field:
        sets += ", archived = 0"
    return f"UPDATE {spec.table} SET {sets}, updated_at = ? WHERE id = ?"


def write_rows(
    conn: Connection,
    spec: TableSpec,
    add: Sequence[tuple[Any, ...]],
    update: Sequence[tuple[int, tuple[Any, ...]]],
    types: Sequence[type] | None = None,
) -> Job[None]:
    """Insert *add*, update *update*; in a bulk transaction seal them. *types*: the type (str or int)
    of each column's every value in *add* (tuples), when the caller has made sure of it (see
    :meth:`ParsedSheet.db_rows_and_types`): the seals are then made from one template.

    On a PostgreSQL server a bulk write sends its new rows with COPY and seals them as it goes
    (:func:`dsj_desktop.db.guard.copy_new_rows`); its updated rows are sealed with every other row
    the transaction changed, at its end."""
    stamp = now_iso()
    cols = spec.attrs
    state = tx_state(conn)
    fixed = {"archived": 0, "created_at": stamp, "updated_at": stamp}
    if spec.archived_is_field:
        del fixed["archived"]
    # Rows changed outside the program keep their broken seal (never re-sealed unverified).
    outside = (
        guard_mod.unverified_rows(conn, guard_of(conn), spec.table, [i for i, _ in update])
        if state.bulk
        else set()
    )
    if state.bulk and pg.is_pg(conn):
        yield from guard_mod.copy_new_rows(conn, guard_of(conn), spec.table, cols, add, fixed, types,
                                           len(add) + len(update))  # fmt: skip
        yield from _write(conn, spec, cols, stamp, [], update, len(add))
        state.count(spec.table, "insert", len(add))
        state.count(spec.table, "update", len(update))
        return
    first_new = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) + 1 FROM {spec.table}").scalar_one()
    # A larger page cache for the duration of a bulk write (index pages of 100,000 rows), then back.
    sqlite = conn.dialect.name == "sqlite"  # (a PostgreSQL server sizes its own cache)
    default_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
    try:
        yield from _write(conn, spec, cols, stamp, add, update)
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(default_cache or -2000)}")
    if state.bulk:  # the row triggers were off: seal the written rows in one pass
        yield Progress("正在封存数据……")
        guard = guard_of(conn)
        last = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {spec.table}").scalar_one()
        if last - first_new + 1 == len(add):  # the new rows got consecutive rowids: seal from memory
            guard_mod.seal_new_rows(conn, guard, spec.table, first_new, cols, add, fixed, types)
        else:
            guard_mod.seal_rows(conn, guard, spec.table, "WHERE rowid >= ?", (first_new,))
        ids = [i for i, _ in update if i not in outside]
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            guard_mod.seal_rows(
                conn, guard, spec.table, f"WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk
            )
        state.count(spec.table, "insert", len(add))
        state.count(spec.table, "update", len(update))


def _write(
    conn: Connection,
    spec: TableSpec,
    cols: list[str],
    stamp: str,
    add: Sequence[tuple[Any, ...]],
    update: Sequence[tuple[int, tuple[Any, ...]]],
    done: int = 0,
) -> Job[None]:
    """INSERT *add*, UPDATE *update*; *done*: rows written before (for the progress reports)."""
    total = done + len(add) + len(update)
    if add:
        sql = insert_sql(spec, stamp)  # the rows as they are: no per-row tuple with the times
        for start in range(0, len(add), PROGRESS_EVERY):
            chunk = add[start : start + PROGRESS_EVERY]
            conn.exec_driver_sql(sql, chunk)
            yield Progress("正在写入数据库……", done + start + len(chunk), total)
    if update:
        sql = update_sql(spec, restore=True)
        for start in range(0, len(update), PROGRESS_EVERY):
            chunk = update[start : start + PROGRESS_EVERY]
            conn.exec_driver_sql(sql, [(*v, stamp, i) for i, v in chunk])
            yield Progress("正在写入数据库……", done + len(add) + start + len(chunk), total)


def _add_codes(conn: Connection, list_name: str, values: list[str]) -> None:
    """Code values an import adds go through the row triggers even in a bulk import (a few rows):
    sealed, counted and listed like any other change, and named in the journal entry."""
    state = tx_state(conn)
    bulk, state.bulk = state.bulk, False
    try:
        added = codelists.add_values(conn, list_name, values)
    finally:
        state.bulk = bulk
    if added:
        state.detail.setdefault("codes_added", {})[codelists.LIST_TITLES.get(list_name, list_name)] = values


def import_directory(
    db: Database,
    spec: TableSpec,
    path: Path,
    *,
    sheet: str | None = None,
    mapping: Mapping[str, int] | None = None,
    add_unknown_codes: bool = False,
    dry_run: bool = False,
    header_row: int | None = None,
    before_write: Callable[[], Mapping[str, Any]] | None = None,
    ignore_columns: Collection[str] = (),
) -> Job[ImportSummary]:
    """Validate the whole file, then (unless *dry_run*) write it in one transaction.

    *before_write* runs once the file is known to be good and before anything is written (the
    automatic backup); what it returns goes into the journal entry. A column the draw depends on
    that is in the file but not imported refuses the file (:class:`UnconfirmedColumns`) unless its
    header is in *ignore_columns*."""
    path = Path(path)
    marker = nullcontext() if dry_run else lock.operation(db.data_dir, f"导入{spec.title}：文件“{path.name}”")
    with marker:
        return (yield from _import_directory(db, spec, path, sheet, mapping, add_unknown_codes, dry_run,
                                             header_row, before_write, ignore_columns))  # fmt: skip


def _import_directory(
    db: Database,
    spec: TableSpec,
    path: Path,
    sheet: str | None,
    mapping: Mapping[str, int] | None,
    add_unknown_codes: bool,
    dry_run: bool,
    header_row: int | None,
    before_write: Callable[[], Mapping[str, Any]] | None,
    ignore_columns: Collection[str],
) -> Job[ImportSummary]:
    with db.read() as conn:
        codes = codelists.all_lists(conn)
    parsed = yield from read_records(
        spec,
        path,
        sheet=sheet,
        mapping=mapping,
        codes=codes,
        tolerate_unknown_codes=add_unknown_codes,
        header_row=header_row,
    )
    refusal = unconfirmed(parsed, ignore_columns)
    if refusal is not None:
        raise refusal
    yield Progress("正在与数据库比对……")
    # The final diff is made inside the write transaction, against exactly what it changes.
    action = f"导入{spec.title}：文件“{path.name}”"
    detail: dict[str, Any] = {"file": path.name, "rows": len(parsed)}
    if before_write is not None and not dry_run:
        yield Progress("正在备份……")
        detail.update(before_write())
    ctx = db.read() if dry_run else db.write(action, detail, bulk=len(parsed) >= BULK_ROWS)
    with ctx as conn:
        refs = check_references(conn, spec, parsed)
        if refs:
            raise ImportRefused(path, parsed.sheet, refs[:MAX_LISTED_PROBLEMS], len(refs))
        present = set(parsed.mapping)
        rows, types = parsed.db_rows_and_types(spec)
        add, update, unchanged, restored = diff(spec, rows, existing_rows(conn, spec), present)
        del rows
        summary = ImportSummary(
            spec.kind, spec.title, path.name, parsed.sheet, len(parsed),
            len(add), len(update), unchanged, restored,
        )  # fmt: skip
        summary.preview = [parsed.record(i) for i in range(min(PREVIEW_ROWS, len(parsed)))]
        summary.ignored_headers = parsed.ignored_headers
        if spec.kind == ITEMS.kind:  # what the program reads in each 检查人员要求
            known = staffing.known_specialties(conn)
            summary.notes += ["\n" + s for s in staffing.import_notes(parsed.records, known)]
        summary.absent_fields = [f.header for f in spec.fields if f.attr not in present]
        summary.warnings = list(parsed.warnings)
        for list_name, vals in parsed.unknown_codes.items():
            ordered = sorted(vals)
            summary.codes_added[list_name] = ordered
            if not dry_run:
                _add_codes(conn, list_name, ordered)
        if not dry_run:
            yield from write_rows(conn, spec, add, update, types)
    return summary
