"""Publication (公示) of inspection results for the website: per task or per period, as Excel and as a
landscape PDF, with only the columns the public may see; then the results are marked 已公示.

Never published: phone numbers, personal ids, legal representatives, contacts, addresses, the
names of the inspectors, remarks (they may name people). Only :data:`PUBLIC_COLUMNS` leave.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection

from dsj_desktop.clock import now, today
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.fields import FieldSpec
from dsj_desktop.errors import UserError
from dsj_desktop.io.exporter import export_rows
from dsj_desktop.pdf.document import Column, PdfDocument
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services import settings
from dsj_desktop.services.results import ResultRow, load_rows

PUBLIC_COLUMNS = ("企业名称", "统一社会信用代码", "抽查事项", "检查日期", "检查结果", "处置情况", "检查机关")
PUBLIC_FIELDS = (
    FieldSpec("name", "企业名称", width=34),
    FieldSpec("uscc", "统一社会信用代码", width=22),
    FieldSpec("items", "抽查事项", width=34),
    FieldSpec("inspected_on", "检查日期", width=12),
    FieldSpec("category", "检查结果", width=28),
    FieldSpec("disposal", "处置情况", width=30),
    FieldSpec("authority", "检查机关", width=26),
)
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


@dataclass(frozen=True)
class PublicRow:
    name: str
    uscc: str
    items: str
    inspected_on: str
    category: str
    disposal: str
    authority: str

    def cells(self) -> list[str]:
        return [
            self.name,
            self.uscc,
            self.items,
            self.inspected_on,
            self.category,
            self.disposal,
            self.authority,
        ]

    def record(self) -> dict[str, str]:
        return {f.attr: v for f, v in zip(PUBLIC_FIELDS, self.cells(), strict=True)}


def disposal_text(r: ResultRow) -> str:
    parts = []
    if r.hazards:
        parts.append(f"发现隐患 {r.hazards} 项")
    parts.append(r.disposal)
    text = "，".join(p for p in parts if p)
    if r.rectify_by:
        text += f"（整改期限 {r.rectify_by.isoformat()}）"
    return text


@dataclass(frozen=True)
class _TaskInfo:
    items: list[tuple[str, str]]
    partners: list[str]


def _task_infos(conn: Connection, session_ids: set[str]) -> dict[str, _TaskInfo]:
    out = {}
    for sid in sorted(session_ids):
        row = conn.exec_driver_sql(
            "SELECT json_extract(task, '$.items'), json_extract(task, '$.partners') "
            "FROM draw_input WHERE session_id = ?",
            (sid,),
        ).first()
        items = [(it["code"], it.get("name", "")) for it in json.loads((row[0] if row else None) or "[]")]
        partners = list(json.loads((row[1] if row else None) or "[]"))
        out[sid] = _TaskInfo(items, partners)
    return out


def public_row(r: ResultRow, info: _TaskInfo, bureau: str) -> PublicRow:
    checked = {it.code for it in r.items if it.checked} if r.items else None
    names = [name or code for code, name in info.items if checked is None or code in checked]
    items = (
        names[0]
        if len(names) == 1
        else "；".join(f"{CIRCLED[i] if i < 10 else i + 1}{n}" for i, n in enumerate(names))
    )
    authority = "、".join([bureau, *info.partners]) if bureau else "、".join(info.partners)
    return PublicRow(
        r.name, r.uscc, items, r.inspected_on.isoformat() if r.inspected_on else "", r.category, disposal_text(r),
        authority,
    )  # fmt: skip


@dataclass
class Selection:
    """What one publication carries."""

    scope: str  # task / period
    title: str
    subtitle: str
    file_stem: str
    task_code: str
    period: tuple[date, date] | None
    rows: list[ResultRow]
    public: list[PublicRow]
    bureau: str


def select(
    conn: Connection, *, task_code: str | None = None, period: tuple[date, date] | None = None
) -> Selection:
    """The entered results of a task (all its confirmed draws), or of a period (by inspection date)."""
    if (task_code is None) == (period is None):
        raise UserError("请指定要公示的抽查任务，或公示的起止日期（二者选一）。")
    bureau = str(settings.get(conn, settings.BUREAU_NAME, "") or "")
    if task_code is not None:
        name = conn.exec_driver_sql("SELECT name FROM task WHERE code = ?", (task_code,)).scalar()
        if name is None:
            raise UserError(f"没有编号为“{task_code}”的抽查任务。")
        rows = [r for r in load_rows(conn, task_code=task_code) if r.category]
        scope, title, subtitle, stem = (
            "task",
            "“双随机、一公开”抽查结果公示",
            f"{task_code} {name}",
            task_code,
        )
        if not rows:
            raise UserError(f"抽查任务 {task_code} 还没有已录入的检查结果，无可公示的内容。")
    else:
        assert period is not None
        first, last = period
        if last < first:
            raise UserError(f"公示期间的结束日期 {last} 早于开始日期 {first}。")
        rows = [
            r for r in load_rows(conn) if r.category and r.inspected_on and first <= r.inspected_on <= last
        ]
        scope, title = "period", "“双随机、一公开”抽查结果公示"
        subtitle, stem = (
            f"检查日期 {first.isoformat()} 至 {last.isoformat()}",
            f"{first:%Y%m%d}-{last:%Y%m%d}",
        )
        if not rows:
            raise UserError(f"{first} 至 {last} 期间没有已录入的检查结果，无可公示的内容。")
    rows.sort(key=lambda r: (r.task_code, r.inspected_on or date.min, r.session_id, r.position))
    infos = _task_infos(conn, {r.session_id for r in rows})
    public = [public_row(r, infos[r.session_id], bureau) for r in rows]
    return Selection(scope, title, subtitle, stem, task_code or "", period, rows, public, bureau)


def write_pdf(sel: Selection, path: Path, *, on: date) -> int:
    doc = PdfDocument(sel.title, bureau=sel.bureau or "（未设置单位名称）", orientation="landscape",
                      subject=sel.subtitle)  # fmt: skip
    doc.heading(subtitle=sel.subtitle, lines=[f"公示日期：{on.isoformat()}　共 {len(sel.public)} 家"])
    doc.table(
        [
            Column("序号", align="center", fit="0000"),
            Column("企业名称", 3.0),
            Column("统一社会信用代码", fit="91350100M000100Y43"),
            Column("抽查事项", 2.6),
            Column("检查日期", align="center", fit="2026-10-10"),
            Column("检查结果", 2.4),
            Column("处置情况", 2.4),
            Column("检查机关", 2.0),
        ],
        ([str(i), *p.cells()] for i, p in enumerate(sel.public, start=1)),
    )
    doc.note(
        "本表依据“双随机、一公开”监管要求公示抽查结果，不含个人信息。对公示内容有异议的，可向检查机关提出。"
    )
    doc.save(path)
    return doc.page_count


@dataclass
class PublicationOutcome:
    publication_id: int | None
    rows: int
    files: list[Path]
    title: str
    marked: int  # results newly marked 已公示 (or republished after a correction)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def publish(
    db: Database,
    out_dir: Path,
    *,
    task_code: str | None = None,
    period: tuple[date, date] | None = None,
    operator: str = "",
    mark: bool = True,
    at: datetime | None = None,
) -> Job[PublicationOutcome]:
    """Write the publication files (.xlsx and .pdf) into *out_dir*; then, when *mark*, record the
    publication and mark its results 已公示 with the time (one transaction, after the files exist)."""
    at = at or now()
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise UserError(f"文件夹“{out_dir}”不存在。")
    with db.read() as conn:
        sel = select(conn, task_code=task_code, period=period)
    xlsx = out_dir / f"检查结果公示-{sel.file_stem}.xlsx"
    pdf = out_dir / f"检查结果公示-{sel.file_stem}.pdf"
    yield Progress("正在写入 Excel……")
    yield from export_rows(
        xlsx, "检查结果公示", PUBLIC_FIELDS, [p.record() for p in sel.public], len(sel.public)
    )
    yield Progress("正在生成 PDF……")
    write_pdf(sel, pdf, on=at.date())
    files = [xlsx, pdf]
    if not mark:
        return PublicationOutcome(None, len(sel.public), files, sel.subtitle, 0)
    stamp = at.isoformat()
    with db.write(
        f"公示检查结果：{sel.subtitle}", {"rows": len(sel.rows), "files": [f.name for f in files]}
    ) as conn:
        cur = conn.exec_driver_sql(
            "INSERT INTO publication (scope, task_code, period_from, period_to, title, rows, files, published_by, "
            "published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sel.scope, sel.task_code, sel.period[0].isoformat() if sel.period else None,
             sel.period[1].isoformat() if sel.period else None, sel.subtitle, len(sel.rows),
             json.dumps([{"name": p.name, "sha256": _sha256(p)} for p in files], ensure_ascii=False), operator,
             stamp),
        )  # fmt: skip
        pub_id = int(cur.lastrowid or 0)
        marked = 0
        for r in sel.rows:
            assert r.result_id is not None
            conn.exec_driver_sql(
                "INSERT INTO publication_item (publication_id, result_id, version) VALUES (?, ?, ?)",
                (pub_id, r.result_id, r.version),
            )
            if r.published_version != r.version:
                marked += 1
                conn.exec_driver_sql(
                    "UPDATE inspection_result SET published_version = ?, published_at = ?, published_by = ?, "
                    "updated_at = ? WHERE id = ? AND version = ?",
                    (r.version, stamp, operator, stamp, r.result_id, r.version),
                )
    return PublicationOutcome(pub_id, len(sel.rows), files, sel.subtitle, marked)


@dataclass(frozen=True)
class PublicationInfo:
    id: int
    scope: str
    title: str
    rows: int
    files: list[dict[str, str]]
    published_by: str
    published_at: str


def read_publications(db: Database, *, year: int | None = None) -> list[PublicationInfo]:
    with db.read() as conn:
        return publications(conn, year=year)


def publications(conn: Connection, *, year: int | None = None) -> list[PublicationInfo]:
    where, params = ("WHERE published_at LIKE ?", (f"{year}-%",)) if year else ("", ())
    rows = conn.exec_driver_sql(
        f"SELECT id, scope, title, rows, files, published_by, published_at FROM publication {where} ORDER BY id",
        params,
    )
    return [PublicationInfo(int(r[0]), r[1], r[2], int(r[3]), json.loads(r[4]), r[5], r[6]) for r in rows]


def default_period(on: date | None = None) -> tuple[date, date]:
    """The previous calendar month (a common publication rhythm)."""
    d = on or today()
    first_this = d.replace(day=1)
    last_prev = date.fromordinal(first_this.toordinal() - 1)
    return last_prev.replace(day=1), last_prev
