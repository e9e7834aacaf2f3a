"""Importing a directory from a workbook: read, validate everything, then write in one transaction.

Nothing is written unless every row of the file is good. A refused import raises
:class:`ImportRefused` naming the file, sheet, row and column of each problem.
Re-importing updates existing rows by their key and reports added / updated / unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from dsj_desktop.clock import now_iso
from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db import lock
from dsj_desktop.db.engine import Database, guard_of, tx_state
from dsj_desktop.domain import codelists
from dsj_desktop.domain.fields import Converter, FieldSpec, Kind, convert_column
from dsj_desktop.domain.specs import CONFLICTS, TableSpec
from dsj_desktop.errors import UserError
from dsj_desktop.io.excel import auto_mapping, column_letter, find_header_row, read_sheet
from dsj_desktop.progress import Job, Progress

MAX_LISTED_PROBLEMS = 200
PROGRESS_EVERY = 5000
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


class ImportRefused(UserError):
    """The file was refused whole; the database is untouched."""

    def __init__(self, file: Path, sheet: str | None, problems: Sequence[Problem], total: int | None = None):
        self.file = file
        self.sheet = sheet
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        where = f"文件“{file.name}”" + (f"工作表“{sheet}”" if sheet else "")
        lines = [f"导入被拒绝：{where}中有 {self.total} 处问题，数据库未作任何改动。"]
        lines += [f"  {where} {p.text()}" for p in self.problems[:MAX_LISTED_PROBLEMS]]
        if self.total > MAX_LISTED_PROBLEMS:
            lines.append(f"  ……另有 {self.total - MAX_LISTED_PROBLEMS} 处问题未列出。")
        super().__init__("\n".join(lines))


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
        cols = [db_column(f, self.columns[f.attr]) for f in spec.fields]
        return list(zip(*cols, strict=True))


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
    notes: list[str] = field(default_factory=list)  # further sentences for the report

    def text(self) -> str:
        s = (
            f"{self.title}导入完成：文件“{self.file}”工作表“{self.sheet}”共 {self.rows} 行，"
            f"新增 {self.added}，更新 {self.updated}，未变 {self.unchanged}。"
        )
        if self.restored:
            s += f"其中 {self.restored} 条原已归档的记录已恢复。"
        for name, vals in self.codes_added.items():
            s += f"已加入{codelists.LIST_TITLES.get(name, name)}代码表：{'、'.join(vals)}。"
        return s + "".join(self.notes)


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
            path, sheet_name, [Problem(None, None, None, "工作表是空的，没有表头也没有数据。")]
        )
    hdr = find_header_row(rows, fields) if header_row is None else header_row - 1
    if hdr is None:
        expected = "、".join(f.header for f in fields if f.required)
        raise ImportRefused(
            path, sheet_name,
            [Problem(1, None, None, f"找不到表头：前 10 行中没有可识别的列名（至少需要：{expected}）。")],
        )  # fmt: skip
    header = rows[hdr]
    if mapping is None:
        mapping = auto_mapping(header, fields)
    problems: list[Problem] = []
    missing = [f for f in fields if f.required and f.attr not in mapping]
    for f in missing:
        problems.append(Problem(hdr + 1, None, f.header, f"缺少必填列“{f.header}”"))
    if missing:
        raise ImportRefused(path, sheet_name, problems)
    used = set(mapping.values())
    ignored = [str(header[j]) for j in range(len(header)) if j not in used and header[j] not in (None, "")]

    converters = [(f, mapping[f.attr], Converter(f, codes)) for f in fields if f.attr in mapping]
    for _, _, conv in converters:
        conv.tolerate_unknown = tolerate_unknown_codes

    data = rows[hdr + 1 :]
    width = len(header)
    if data and min(map(len, data)) < width:  # calamine gives equal rows; other readers may not
        data = [r + [None] * (width - len(r)) if len(r) < width else r for r in data]
    # Blank lines inside the sheet are skipped (any() is a quick first test; 0 and False need a second look).
    blank = {i for i, r in enumerate(data) if not any(r) and r.count(None) + r.count("") == len(r)}
    kept = [r for i, r in enumerate(data) if i not in blank] if blank else data
    row_numbers = [hdr + 2 + i for i in range(len(data)) if i not in blank]
    if not kept:
        raise ImportRefused(path, sheet_name, [Problem(hdr + 1, None, None, "表头下面没有数据行。")])

    columns: dict[str, list[Any]] = {}
    n_problems = 0
    for n, (f, j, conv) in enumerate(converters):
        yield Progress("正在检查数据……", n, len(converters))
        values, errors = convert_column(conv, list(map(itemgetter(j), kept)))
        columns[f.attr] = values
        for i, message in errors.items():
            n_problems += 1
            if len(problems) < MAX_LISTED_PROBLEMS * 4:
                problems.append(Problem(row_numbers[i], j, f.header, message))
    for f in fields:
        if f.attr not in columns:
            columns[f.attr] = [f.default] * len(kept)

    # Duplicate keys inside the file.
    key_col = mapping.get(spec.key[0])
    label = "、".join(spec.field(k).header for k in spec.key)
    seen: dict[tuple[Any, ...], int] = {}
    for key, rn in zip(zip(*(columns[k] for k in spec.key), strict=True), row_numbers, strict=True):
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
        raise ImportRefused(path, sheet_name, problems[:MAX_LISTED_PROBLEMS], n_problems)
    unknown = {
        f.codelist: conv.unknown_codes for f, _, conv in converters if f.codelist and conv.unknown_codes
    }
    return ParsedSheet(
        path, sheet_name, hdr + 1, dict(mapping), columns, row_numbers, unknown, ignored, problems
    )


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
        v = rec.get(f.attr, f.default)
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
) -> tuple[list[tuple[Any, ...]], list[tuple[int, tuple[Any, ...]]], int, int]:
    """(rows to add, (id, row) to update, unchanged count, restored count)."""
    key_pos = [spec.attrs.index(k) for k in spec.key]
    add: list[tuple[Any, ...]] = []
    update: list[tuple[int, tuple[Any, ...]]] = []
    unchanged = restored = 0
    for vals in rows:
        key = tuple(vals[p] for p in key_pos)
        old = existing.get(key)
        if old is None:
            add.append(vals)
        elif old[1] != vals or old[2]:
            update.append((old[0], vals))
            restored += old[2]
        else:
            unchanged += 1
    return add, update, unchanged, restored


def insert_sql(spec: TableSpec) -> str:
    """INSERT of a row in spec field order, then created_at, updated_at (a new row is not archived)."""
    cols = spec.attrs
    archived = "" if spec.archived_is_field else "archived, "
    zero = "" if spec.archived_is_field else "0, "
    return (
        f"INSERT INTO {spec.table} ({', '.join(cols)}, {archived}created_at, updated_at) "
        f"VALUES ({', '.join('?' * len(cols))}, {zero}?, ?)"
    )


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
) -> Job[None]:
    stamp = now_iso()
    cols = spec.attrs
    state = tx_state(conn)
    first_new = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) + 1 FROM {spec.table}").scalar_one()
    # A larger page cache for the duration of a bulk write (index pages of 100,000 rows), then back.
    default_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
    # Rows changed outside the program keep their broken seal (never re-sealed unverified).
    outside = (
        guard_mod.unverified_rows(conn, guard_of(conn), spec.table, [i for i, _ in update])
        if state.bulk
        else set()
    )
    try:
        yield from _write(conn, spec, cols, stamp, add, update)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(default_cache or -2000)}")
    if state.bulk:  # the row triggers were off: seal the written rows in one pass
        yield Progress("正在封存数据……")
        guard = guard_of(conn)
        last = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {spec.table}").scalar_one()
        if last - first_new + 1 == len(add):  # the new rows got consecutive rowids: seal from memory
            fixed = {"archived": 0, "created_at": stamp, "updated_at": stamp}
            guard_mod.seal_new_rows(conn, guard, spec.table, first_new, cols, add, fixed)
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
) -> Job[None]:
    if add:
        sql = insert_sql(spec)
        for start in range(0, len(add), PROGRESS_EVERY):
            chunk = add[start : start + PROGRESS_EVERY]
            conn.exec_driver_sql(sql, [(*v, stamp, stamp) for v in chunk])
            yield Progress("正在写入数据库……", start + len(chunk), len(add) + len(update))
    if update:
        sql = update_sql(spec, restore=True)
        for start in range(0, len(update), PROGRESS_EVERY):
            chunk = update[start : start + PROGRESS_EVERY]
            conn.exec_driver_sql(sql, [(*v, stamp, i) for i, v in chunk])
            yield Progress("正在写入数据库……", len(add) + start + len(chunk), len(add) + len(update))


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
) -> Job[ImportSummary]:
    """Validate the whole file, then (unless *dry_run*) write it in one transaction.

    *before_write* runs once the file is known to be good and before anything is written (the
    automatic backup); what it returns goes into the journal entry."""
    path = Path(path)
    marker = nullcontext() if dry_run else lock.operation(db.data_dir, f"导入{spec.title}：文件“{path.name}”")
    with marker:
        return (yield from _import_directory(db, spec, path, sheet, mapping, add_unknown_codes, dry_run,
                                             header_row, before_write))  # fmt: skip


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
        add, update, unchanged, restored = diff(spec, parsed.db_rows(spec), existing_rows(conn, spec))
        summary = ImportSummary(
            spec.kind, spec.title, path.name, parsed.sheet, len(parsed),
            len(add), len(update), unchanged, restored,
        )  # fmt: skip
        summary.preview = [parsed.record(i) for i in range(min(PREVIEW_ROWS, len(parsed)))]
        summary.ignored_headers = parsed.ignored_headers
        for list_name, vals in parsed.unknown_codes.items():
            ordered = sorted(vals)
            summary.codes_added[list_name] = ordered
            if not dry_run:
                codelists.add_values(conn, list_name, ordered)
        if not dry_run:
            yield from write_rows(conn, spec, add, update)
    return summary
