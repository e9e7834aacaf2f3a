"""The papers the inspectors carry to each drawn target (检查文书): the 检查通知书 and the
实地检查记录表, filled from the session's current signed record (substitutions applied).

What was drawn comes from the record alone: the targets in record order, the team of each after
every 递补, the task and its items. The particulars the record does not carry (a unit's address,
法定代表人, 联系人 and phone; an item's 抽查依据 and 抽查内容; an expert's employer) are read from the
directories as they are now.

Every page carries the session, the record version and a QR code holding
``SESSION|CREDIT CODE|RECORD SHA-256`` (:func:`scan_text`); a clerk scans it (a USB scanner types
it) on the result screen and lands on that target's result form (:func:`resolve_scan`).

Each notice gets a 文号 from a pattern the bureau sets (:data:`PATTERN_KEY`, e.g.
``X应急双随机〔{year}〕第{n}号``): numbers run without gaps per year (the draw's year) and are
assigned once per target, in one write that leaves a ``paper_numbers`` event on the session (sealed
and journalled like every row); printing the papers again shows the same numbers.

:func:`make_papers` is the job (progress, cancellable); one PDF per session (each paper on a new
page, page numbers per target and overall) or one file per target, written to temporary files and
renamed only when all are complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
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
from sqlalchemy import Connection

from dsj_desktop import __version__
from dsj_desktop import actor as actor_mod
from dsj_desktop.clock import now_iso
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.result_specs import DISPOSALS
from dsj_desktop.errors import UserError
from dsj_desktop.pdf import document as _document  # also: the Chinese line-breaking rules
from dsj_desktop.pdf.fonts import register_cjk_font
from dsj_desktop.pdf.text import TextMeasure, markup
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services import results, sessions, settings
from dsj_desktop.services.results import ResultRow

NOTICE, RECORD, BOTH = "notice", "record", "both"
KINDS = (NOTICE, RECORD, BOTH)
NOTICE_TITLE = "检查通知书"
RECORD_TITLE = "实地检查记录表"
KIND_TITLES = {NOTICE: NOTICE_TITLE, RECORD: RECORD_TITLE, BOTH: f"{NOTICE_TITLE}和{RECORD_TITLE}"}

PATTERN_KEY = "papers_number_pattern"
CONTACT_KEY = "papers_contact"
DEFAULT_PATTERN = "应急双随机〔{year}〕第{n}号"
NUMBER_EVENT = "paper_numbers"
settings.TITLES.setdefault(PATTERN_KEY, "检查通知书文号格式")
settings.TITLES.setdefault(CONTACT_KEY, "检查通知书联系人及电话")

SCAN_SEPARATOR = "|"

# Geometry (points): room at the top for the page's session line and QR code.
PAGE_W, PAGE_H = A4
MARGIN_X = _document.MARGIN_X
MARGIN_TOP = 32 * mm
MARGIN_BOTTOM = 16 * mm
QR_SIZE = 22 * mm
FRAME_W = PAGE_W - 2 * MARGIN_X

INK = colors.black
BODY = 11.0
SMALL = 9.0
CELL = 10.0
PAD = 3.0
LINE = 0.6


class PapersError(UserError):
    """The papers were refused; the message says why, in Chinese."""


# --- what the papers say -----------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    unit: str = ""


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    basis: str
    content: str

    @property
    def contents(self) -> list[str]:
        """The item's 抽查内容 one point per row (split at 、；; and line breaks)."""
        parts = [p.strip() for p in re.split(r"[、；;\n]+", self.content)]
        return [p for p in parts if p] or [self.content.strip() or self.name]


@dataclass(frozen=True)
class Target:
    position: int
    uscc: str
    name: str
    address: str
    legal_rep: str
    contact: str
    phone: str
    inspectors: tuple[Person, ...]
    experts: tuple[Person, ...]
    number: str = ""  # the notice's 文号 ('' until numbered)


@dataclass
class Papers:
    """Everything printed for one session."""

    session_id: str
    record_version: int
    record_sha256: str
    bureau: str
    contact: str
    task: dict[str, Any]
    draw_date: str
    items: list[Item]
    targets: list[Target]
    written: list[Path] = field(default_factory=list)
    pages: int = 0

    def scan_text(self, t: Target) -> str:
        return scan_text(self.session_id, t.uscc, self.record_sha256)


def scan_text(session_id: str, uscc: str, record_sha256: str) -> str:
    """What a paper's QR code holds (and a USB scanner types)."""
    return SCAN_SEPARATOR.join((session_id, uscc, record_sha256))


# --- settings -----------------------------------------------------------------------------------


def check_pattern(pattern: str) -> str:
    """The 文号 pattern, checked: ``{year}`` and ``{n}`` (e.g. ``{n:03d}``) are its only fields."""
    pattern = pattern.strip()
    if "{n" not in pattern:
        raise PapersError(f"文号格式“{pattern}”中没有序号 {{n}}，例如：X应急双随机〔{{year}}〕第{{n}}号")
    try:
        pattern.format(year=2026, n=1)
    except (KeyError, IndexError, ValueError):
        raise PapersError(
            f"文号格式“{pattern}”无法使用：只能含 {{year}}（年度）和 {{n}}（序号），"
            "例如：X应急双随机〔{year}〕第{n}号"
        ) from None
    return pattern


def number_pattern(conn: Connection) -> str:
    return str(settings.get(conn, PATTERN_KEY, "") or DEFAULT_PATTERN)


def set_number_pattern(db: Database, pattern: str) -> None:
    settings.write(db, PATTERN_KEY, check_pattern(pattern))


def set_contact(db: Database, text: str) -> None:
    settings.write(db, CONTACT_KEY, text.strip())


def read_number_settings(db: Database) -> tuple[str, str]:
    """(the number pattern, the contact line) printed on the papers."""
    with db.read() as conn:
        return number_pattern(conn), str(settings.get(conn, CONTACT_KEY, "") or "")


# --- reading a session --------------------------------------------------------------------------


def check_printable(s: sessions.Session) -> None:
    """Refuses (:class:`PapersError`) a voided or not yet confirmed session."""
    if s.status == sessions.VOIDED:
        raise PapersError(
            f"场次 {s.id} 已作废（原因：{s.void_reason}），不能打印检查文书：作废场次抽中的单位不应被检查。"
        )
    if s.status != sessions.CONFIRMED or s.record is None:
        raise PapersError(
            f"场次 {s.id} 当前为“{s.status_title}”，抽取结果尚未确认，不能打印检查文书（确认抽取结果后再打印）。"
        )


def load_papers(conn: Connection, session_id: str) -> Papers:
    """The content of the papers of a confirmed session; refused for an unknown, voided or not yet
    confirmed session."""
    s = sessions.load_session(conn, session_id.strip())
    check_printable(s)
    record = s.record
    assert record is not None
    inp = s.inputs
    task = dict(inp.get("task", {}))
    inspectors = {
        p["id"]: Person(p["id"], p.get("name") or "", p.get("unit") or "")
        for p in record.get("inspectors", [])
    }
    experts = {e[0]: Person(e[0], e[1], e[2] if len(e) > 2 else "") for e in inp.get("experts", [])}
    for e in record.get("experts", []):
        experts.setdefault(e["id"], Person(e["id"], e.get("name") or ""))

    codes = [str(c) for c in task.get("item_codes", [])]
    frozen = {it["code"]: it.get("name", "") for it in task.get("items", [])}
    found: dict[str, Item] = {}
    if codes:
        marks = ",".join("?" * len(codes))
        for code, name, basis, content in conn.exec_driver_sql(
            f"SELECT code, name, basis, content FROM item WHERE code IN ({marks})", tuple(codes)
        ):
            found[code] = Item(code, frozen.get(code) or name, basis or "", content or "")
    items = [found.get(c) or Item(c, frozen.get(c, c), "", "") for c in codes]

    details = {
        r[0]: r[1:]
        for r in conn.exec_driver_sql(
            "SELECT t.uscc, t.address, t.legal_rep, t.contact, t.phone FROM target t "
            "JOIN draw_selection sel ON sel.uscc = t.uscc WHERE sel.session_id = ?",
            (s.id,),
        )
    }
    names = s.target_names
    teams = s.current_teams()
    targets = []
    for pos, x in enumerate(s.result, start=1):
        uscc = x["id"]
        address, legal_rep, contact, phone = details.get(uscc, ("", "", "", ""))
        team = teams[uscc]
        targets.append(
            Target(
                pos, uscc, names.get(uscc, ""), address or "", legal_rep or "", contact or "", phone or "",
                tuple(inspectors.get(p, Person(p, p)) for p in team[sessions.INSPECTOR]),
                tuple(experts.get(p, Person(p, p)) for p in team[sessions.EXPERT]),
            )
        )  # fmt: skip
    return Papers(
        session_id=s.id,
        record_version=s.record_version,
        record_sha256=sessions.record_sha256(record),
        bureau=str(
            record.get("task", {}).get("bureau")
            or task.get("bureau")
            or settings.get(conn, settings.BUREAU_NAME, "")
            or ""
        ),
        contact=str(settings.get(conn, CONTACT_KEY, "") or ""),
        task=task,
        draw_date=s.draw_date.isoformat(),
        items=items,
        targets=targets,
    )


# --- 文号 -------------------------------------------------------------------------------------


def assigned_numbers(conn: Connection, session_id: str) -> dict[str, tuple[int, str]]:
    """uscc → (number, 文号 as printed) of the notices of a session numbered so far."""
    out: dict[str, tuple[int, str]] = {}
    for (detail,) in conn.exec_driver_sql(
        "SELECT detail FROM draw_event WHERE session_id = ? AND kind = ? ORDER BY id",
        (session_id, NUMBER_EVENT),
    ):
        for uscc, (n, text) in json.loads(detail).get("numbers", {}).items():
            out.setdefault(uscc, (int(n), str(text)))
    return out


def last_number(conn: Connection, year: int) -> int:
    """The last 文号 number given in *year* (0 if none)."""
    n = conn.exec_driver_sql(
        "SELECT max(CAST(json_extract(detail, '$.last') AS INTEGER)) FROM draw_event "
        "WHERE kind = ? AND CAST(json_extract(detail, '$.year') AS INTEGER) = ?",
        (NUMBER_EVENT, year),
    ).scalar()
    return int(n or 0)


def number_notices(db: Database, papers: Papers, *, operator: str = "") -> Papers:
    """Give every target of *papers* its notice's 文号: the numbers already assigned to this session's
    targets are kept; the others get the next numbers of the year, in record order, in one write
    (an event on the session, sealed and journalled). A session fully numbered writes nothing."""
    year = int(papers.draw_date[:4])
    with db.read() as conn:
        have = assigned_numbers(conn, papers.session_id)
    if any(t.uscc not in have for t in papers.targets):
        with db.write(f"检查通知书编号：场次 {papers.session_id}") as conn:
            check_printable(sessions.load_session(conn, papers.session_id))  # not voided meanwhile
            have = assigned_numbers(conn, papers.session_id)
            missing = [t.uscc for t in papers.targets if t.uscc not in have]
            if missing:
                pattern = check_pattern(number_pattern(conn))
                first = last_number(conn, year) + 1
                new = {u: (first + i, pattern.format(year=year, n=first + i)) for i, u in enumerate(missing)}
                detail = {"year": year, "first": first, "last": first + len(missing) - 1, "pattern": pattern,
                          "numbers": {u: list(v) for u, v in new.items()}}  # fmt: skip
                conn.exec_driver_sql(
                    "INSERT INTO draw_event (session_id, at, operator, kind, detail) VALUES (?, ?, ?, ?, ?)",
                    (papers.session_id, now_iso(), operator or actor_mod.label(), NUMBER_EVENT,
                     json.dumps(detail, ensure_ascii=False, sort_keys=True)),
                )  # fmt: skip
                have = {**have, **new}
    papers.targets = [replace(t, number=have[t.uscc][1]) for t in papers.targets]
    return papers


# --- scanning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanMatch:
    session_id: str
    uscc: str
    record_version: int  # the version the paper was printed from
    current_version: int

    @property
    def outdated(self) -> bool:
        return self.record_version != self.current_version


def parse_scan(text: str) -> tuple[str, str, str]:
    """``SESSION|CODE|HASH`` as typed by a scanner (full-width bars and stray spaces tolerated)."""
    parts = [p.strip() for p in text.strip().replace("｜", SCAN_SEPARATOR).split(SCAN_SEPARATOR)]
    if len(parts) != 3 or not all(parts) or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[2]):
        raise PapersError(
            f"“{text.strip()[:80]}”不是检查文书上的二维码内容（应为 场次|统一社会信用代码|记录摘要）。"
        )
    return parts[0].upper(), parts[1].upper(), parts[2].lower()


def scanned_row(db: Database, text: str) -> tuple[ScanMatch, ResultRow]:
    """The scanned paper's session and target (:func:`resolve_scan`) with its result row."""
    with db.read() as conn:
        match = resolve_scan(conn, text)
        return match, results.get_row(conn, match.session_id, match.uscc)


def resolve_scan(conn: Connection, text: str) -> ScanMatch:
    """The drawn target a scanned paper belongs to; refused if the code names no target of that
    session or its record hash is none of the session's record versions."""
    sid, uscc, digest = parse_scan(text)
    s = sessions.load_session(conn, sid)
    if not any(x["id"] == uscc for x in s.result):
        raise PapersError(f"统一社会信用代码 {uscc} 不是场次 {sid} 抽中的检查对象。")
    version = next((v for v, sha, _ in sessions.record_versions(conn, sid) if sha == digest), None)
    if version is None:
        raise PapersError(
            f"二维码中的记录摘要与场次 {sid} 的任何一版抽取记录都不符：这张检查文书不是本程序为该场次打印的。"
        )
    if s.status == sessions.VOIDED:
        raise PapersError(f"场次 {sid} 已作废（原因：{s.void_reason}），不能录入检查结果。")
    return ScanMatch(sid, uscc, version, s.record_version)


# --- layout -------------------------------------------------------------------------------------


def _styles(font: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=BODY, leading=BODY * 1.55, textColor=INK,
                          wordWrap="CJK", firstLineIndent=2 * BODY, spaceAfter=2)  # fmt: skip
    return {
        "body": body,
        "plain": ParagraphStyle("plain", parent=body, firstLineIndent=0),
        "bureau": ParagraphStyle(
            "bureau", parent=body, fontSize=18, leading=24, alignment=TA_CENTER, firstLineIndent=0
        ),
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontSize=17,
            leading=23,
            alignment=TA_CENTER,
            firstLineIndent=0,
            spaceAfter=4,
        ),
        "number": ParagraphStyle("number", parent=body, alignment=TA_CENTER, firstLineIndent=0, spaceAfter=6),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT, firstLineIndent=0),
        "small": ParagraphStyle("small", parent=body, fontSize=SMALL, leading=SMALL * 1.5, firstLineIndent=0),
    }


class _Mark(Flowable):  # type: ignore[misc]
    """Marks where a target's papers begin (zero size); tells the canvas and the progress."""

    def __init__(self, index: int, on_draw: Callable[[int, int], None]) -> None:
        super().__init__()
        self.index = index
        self._on_draw = on_draw

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self._on_draw(self.index, self.canv.getPageNumber())


class _Cancelled(Exception):
    pass


class _Builder:
    """Lays out the papers of some targets into one PDF."""

    def __init__(self, papers: Papers, kind: str, targets: Sequence[Target]) -> None:
        self.p = papers
        self.kind = kind
        self.targets = list(targets)
        self.font = register_cjk_font()
        self.styles = _styles(self.font)
        self.measure = TextMeasure(self.font, CELL)
        self.starts: list[tuple[int, int]] = []  # (page, target index), in page order
        self.done = 0
        self.cancel = threading.Event()
        self.page_count = 0

    # -- cells ---------------------------------------------------------------------------------

    def wrap(self, text: str, width: float) -> str:
        avail = width - 2 * PAD
        if "\n" not in text and self.measure.fits(text, avail):
            return text
        return "\n".join(self.measure.wrap_lines(text, avail))

    def grid(self, rows: list[list[Any]], widths: Sequence[float], extra: Iterable[tuple[Any, ...]] = (),
             heights: Sequence[float | None] | None = None, repeat: int = 0, ruled: bool = True) -> Table:  # fmt: skip
        """A black-ruled table of plain (pre-wrapped) strings (*ruled* False: only the lines in *extra*)."""
        style: list[tuple[Any, ...]] = [
            ("FONTNAME", (0, 0), (-1, -1), self.font),
            ("FONTSIZE", (0, 0), (-1, -1), CELL),
            ("LEADING", (0, 0), (-1, -1), CELL * 1.35),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), PAD),
            ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            *([("GRID", (0, 0), (-1, -1), LINE, INK)] if ruled else []),
            *extra,
        ]
        table = Table(
            rows, colWidths=list(widths), rowHeights=heights, style=TableStyle(style), repeatRows=repeat
        )
        table.hAlign = "LEFT"
        return table

    def para(self, text: str, style: str = "body") -> Paragraph:
        return Paragraph(markup(text), self.styles[style])

    # -- the two papers ------------------------------------------------------------------------

    def notice(self, t: Target) -> list[Flowable]:
        p, task = self.p, self.p.task
        out: list[Flowable] = [
            self.para(p.bureau or "（单位名称）", "bureau"),
            self.para(NOTICE_TITLE, "title"),
            self.para(t.number or " ", "number"),
            self.para(f"{t.name}：", "plain"),
            self.para(
                f"根据《{task.get('plan_name') or task.get('plan_code', '')}》抽查任务“{task.get('name', '')}”"
                f"（任务编号 {task.get('code', '')}），经 {p.draw_date} 公开随机抽取（抽取场次 {p.session_id}），"
                f"你单位被确定为本次“双随机、一公开”抽查的检查对象。我局将派出检查组，于 {_period(task)} 期间"
                "依法对你单位开展监督检查。现将有关事项通知如下："
            ),
        ]
        w = FRAME_W
        lw = 30 * mm
        unit_rows = [
            ["被检查单位", self.wrap(t.name, w - lw)],
            ["统一社会信用代码", t.uscc],
            ["地址", self.wrap(t.address or "", w - lw)],
        ]
        out += [self.para("一、被检查单位", "plain"), self.grid(unit_rows, [lw, w - lw])]
        cw = [12 * mm, 0.0, 0.0, 0.0]
        rest = w - cw[0]
        cw[1], cw[2], cw[3] = rest * 0.28, rest * 0.36, rest * 0.36
        item_rows: list[list[Any]] = [["序号", "抽查事项", "抽查依据", "抽查内容"]]
        for i, it in enumerate(p.items, start=1):
            item_rows.append(
                [str(i), self.wrap(it.name, cw[1]), self.wrap(it.basis, cw[2]), self.wrap(it.content, cw[3])]
            )
        out += [
            Spacer(1, 2 * mm),
            self.para("二、抽查事项", "plain"),
            self.grid(
                item_rows,
                cw,
                [("ALIGN", (0, 0), (-1, 0), "CENTER"), ("ALIGN", (0, 1), (0, -1), "CENTER")],
                repeat=1,
            ),
        ]
        tw = [24 * mm, 36 * mm, w - 60 * mm]
        team_rows: list[list[Any]] = [["身份", "姓名", "执法证号 / 工作单位"]]
        team_rows += [["执法人员", x.name, x.id] for x in t.inspectors]
        team_rows += [["专家", x.name, self.wrap(x.unit or "—", tw[2])] for x in t.experts]
        out += [
            Spacer(1, 2 * mm),
            self.para("三、检查组", "plain"),
            self.grid(team_rows, tw, [("ALIGN", (0, 0), (-1, 0), "CENTER")], repeat=1),
            Spacer(1, 2 * mm),
            self.para(f"四、检查时间：{_period(task)}", "plain"),
            self.para(
                "五、检查人员不少于两人，检查时出示行政执法证件。请你单位按规定配合检查，如实提供有关资料，"
                "安排负责人或熟悉情况的人员陪同。检查人员与你单位有利害关系的，你单位有权申请其回避。",
                "plain",
            ),
            self.para(f"六、联系人及电话：{p.contact or '＿＿＿＿＿＿＿＿＿＿＿＿＿＿'}", "plain"),
        ]
        seal = KeepTogether([
            Spacer(1, 4 * mm),
            self.grid([[f"{p.bureau or '（单位名称）'}（印章）"], ["年　　月　　日"]], [w],
                      [("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                       ("FONTSIZE", (0, 0), (-1, -1), BODY), ("RIGHTPADDING", (0, 0), (-1, -1), 6 * mm)],
                      ruled=False),
            Spacer(1, 4 * mm),
            self.grid([["被检查单位签收：", "", "签收日期：", "年　　月　　日"]],
                      [30 * mm, w - 30 * mm - 24 * mm - 40 * mm, 24 * mm, 40 * mm],
                      [("LINEBELOW", (1, 0), (1, 0), LINE, INK),
                       ("LINEBELOW", (3, 0), (3, 0), LINE, INK)], ruled=False),
            Spacer(1, 3 * mm),
            self.para("本通知书一式两份，一份送达被检查单位，一份由检查组带回存档。", "small"),
        ])  # fmt: skip
        out.append(seal)
        return out

    def record(self, t: Target) -> list[Flowable]:
        p, task = self.p, self.p.task
        w = FRAME_W
        lw, vw = 30 * mm, (w - 60 * mm) / 2
        wide = w - lw
        team = "\n".join(f"{x.name}（执法证号：{x.id}）" for x in t.inspectors)
        rows: list[list[Any]] = [
            ["被检查单位", self.wrap(t.name, wide), "", ""],
            ["统一社会信用代码", t.uscc, "法定代表人", self.wrap(t.legal_rep, vw)],
            ["单位地址", self.wrap(t.address, wide), "", ""],
            ["联系人", self.wrap(t.contact, vw), "联系电话", self.wrap(t.phone, vw)],
            ["检查时间", "　　　　年　　月　　日　　时　　分 至 　　时　　分", "", ""],
            ["检查地点", "", "", ""],
            [
                "抽查任务",
                self.wrap(f"{task.get('code', '')} {task.get('name', '')}（抽取场次 {p.session_id}）", wide),
                "",
                "",
            ],
            ["检查人员", self.wrap(team, wide), "", ""],
        ]
        if t.experts:
            rows.append(
                [
                    "专家",
                    self.wrap(
                        "\n".join(f"{x.name}（{x.unit}）" if x.unit else x.name for x in t.experts), wide
                    ),
                    "",
                    "",
                ]
            )
        spans = [("SPAN", (1, r), (3, r)) for r in range(len(rows)) if rows[r][2] == ""]
        rows.append(["检查人员已出示执法证件，并告知被检查单位依法享有的权利和应履行的义务。", "", "", ""])
        last = len(rows) - 1
        spans.append(("SPAN", (0, last), (3, last)))
        heights: list[float | None] = [None] * len(rows)
        heights[5] = 9 * mm
        head = self.grid(rows, [lw, vw, lw, vw], spans, heights)

        cw = [12 * mm, 0.0, 20 * mm, 0.0]
        rest = w - cw[0] - cw[2]
        cw[1], cw[3] = rest * 0.45, rest * 0.55
        check: list[list[Any]] = [["序号", "抽查内容", "检查结论", "检查情况"]]
        extra: list[tuple[Any, ...]] = [
            ("ALIGN", (0, 0), (-1, 0), "CENTER"),
            ("ALIGN", (0, 1), (0, -1), "CENTER"),
        ]
        n = 0
        for i, it in enumerate(p.items, start=1):
            r = len(check)
            check.append([self.wrap(f"{_cn(i)}、{it.name}（{it.code}）", w), "", "", ""])
            extra += [("SPAN", (0, r), (3, r)), ("ALIGN", (0, r), (0, r), "LEFT")]
            for c in it.contents:
                n += 1
                check.append([str(n), self.wrap(c, cw[1]), "□ 符合\n□ 不符合\n□ 不适用", ""])
        items_table = self.grid(check, cw, extra, repeat=1)

        measures = "　".join(f"□ {d}" for d in DISPOSALS)
        tail_rows: list[list[Any]] = [
            ["发现问题", ""],
            ["处理措施", self.wrap(measures + "\n（责令改正的，整改期限：　　　　年　　月　　日）", wide)],
        ]
        tail = self.grid(tail_rows, [lw, wide], [("VALIGN", (1, 0), (1, 0), "TOP")], [30 * mm, None])

        sw = [58 * mm, 0.0, 14 * mm, 36 * mm]
        sw[1] = w - sw[0] - sw[2] - sw[3]
        date = "年　　月　　日"
        sign: list[list[Any]] = []
        for i, _ in enumerate(t.inspectors, start=1):
            sign.append([f"检查人员{_cn(i)}（签字）：", "", "日期：", date])
        for i, _ in enumerate(t.experts, start=1):
            sign.append([f"专家{_cn(i) if len(t.experts) > 1 else ''}（签字）：", "", "日期：", date])
        sign.append(["被检查单位负责人签字（盖章）：", "", "日期：", date])
        sign.append(["无法取得签字或盖章的原因：", "", "", ""])
        sign.append(["见证人（签字）：", "", "日期：", date])
        reason_row = len(sign) - 2
        lines: list[tuple[Any, ...]] = [
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ]
        for r in range(len(sign)):
            lines.append(("LINEBELOW", (1, r), (1, r), LINE, INK))
            if r != reason_row:
                lines.append(("LINEBELOW", (3, r), (3, r), LINE, INK))
        lines += [
            ("SPAN", (1, reason_row), (3, reason_row)),
            ("LINEBELOW", (1, reason_row), (3, reason_row), LINE, INK),
        ]
        signatures = self.grid(sign, sw, lines, [9 * mm] * len(sign), ruled=False)
        return [
            self.para(RECORD_TITLE, "title"),
            Spacer(1, 2 * mm),
            head,
            Spacer(1, 3 * mm),
            items_table,
            Spacer(1, 3 * mm),
            KeepTogether(tail),
            KeepTogether([Spacer(1, 3 * mm), signatures, Spacer(1, 1 * mm),
                          self.para("注：无法取得被检查单位签字或盖章的，检查人员应注明原因，必要时可邀请有关人员作为见证人。", "small")]),
        ]  # fmt: skip

    def story(self) -> list[Flowable]:
        out: list[Flowable] = []
        for i, t in enumerate(self.targets):
            papers: list[list[Flowable]] = []
            if self.kind in (NOTICE, BOTH):
                papers.append(self.notice(t))
            if self.kind in (RECORD, BOTH):
                papers.append(self.record(t))
            for j, paper in enumerate(papers):
                if out:
                    out.append(PageBreak())
                if j == 0:
                    out.append(_Mark(i, self._started))
                out += paper
        return out

    def _started(self, index: int, page: int) -> None:
        if self.cancel.is_set():
            raise _Cancelled
        self.starts.append((page, index))
        self.done = index + 1

    # -- the page decorations ----------------------------------------------------------------

    def _decorate(self, canv: Canvas, page: int, total: int, forms: set[str]) -> None:
        """Session line, QR code and page numbers; drawn once the page count is known."""
        index, first, count = self._page_target(page, total)
        t = self.targets[index]
        form = f"qr{index}"
        if form not in forms:
            forms.add(form)
            canv.beginForm(form, 0, 0, QR_SIZE, QR_SIZE)
            draw_qr(canv, self.p.scan_text(t), QR_SIZE)
            canv.endForm()
        canv.saveState()
        top = PAGE_H - 8 * mm
        canv.translate(PAGE_W - MARGIN_X - QR_SIZE, top - QR_SIZE)
        canv.doForm(form)
        canv.restoreState()
        canv.saveState()
        canv.setFillColor(INK)
        canv.setFont(self.font, 9)
        x = MARGIN_X
        canv.drawString(x, top - 9, f"{self.p.bureau}　检查文书")
        canv.drawString(x, top - 21, f"抽取场次：{self.p.session_id}　抽取记录第 {self.p.record_version} 版")
        canv.drawString(x, top - 33, f"检查对象：{t.uscc}（第 {t.position} 家，共 {len(self.p.targets)} 家）")
        canv.setFont(self.font, 7)
        canv.drawString(x, top - 44, f"记录摘要：{self.p.record_sha256}")
        canv.setLineWidth(0.5)
        canv.line(
            MARGIN_X,
            PAGE_H - MARGIN_TOP + 3 * mm,
            PAGE_W - MARGIN_X - QR_SIZE - 3 * mm,
            PAGE_H - MARGIN_TOP + 3 * mm,
        )
        canv.setFont(self.font, 9)
        canv.drawCentredString(PAGE_W / 2, 8 * mm,
                               f"本单位第 {page - first + 1} 页 共 {count} 页　｜　第 {page} 页 共 {total} 页")  # fmt: skip
        canv.restoreState()

    def _page_target(self, page: int, total: int) -> tuple[int, int, int]:
        """(target index, its first page, its page count) of a 1-based page."""
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:  # the last start at or before the page
            mid = (lo + hi + 1) // 2
            if self.starts[mid][0] <= page:
                lo = mid
            else:
                hi = mid - 1
        first, index = self.starts[lo]
        end = self.starts[lo + 1][0] - 1 if lo + 1 < len(self.starts) else total
        return index, first, end - first + 1

    def build(self) -> bytes:
        import io

        builder = self
        forms: set[str] = set()

        def decorate(canv: Canvas, total: int) -> None:
            builder.page_count = total
            builder._decorate(canv, canv.getPageNumber(), total, forms)

        out = io.BytesIO()
        title = f"{KIND_TITLES[self.kind]}（{self.p.session_id}）"
        template = BaseDocTemplate(
            out, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM, title=title, author=self.p.bureau, subject=title,
            creator=f"dsj-desktop {__version__}", lang="zh-CN", initialFontName=self.font,
        )  # fmt: skip
        frame = Frame(MARGIN_X, MARGIN_BOTTOM, FRAME_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")  # fmt: skip
        template.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        template.build(self.story(), canvasmaker=_document.numbered_canvas(decorate))
        return out.getvalue()


QR_BORDER = 2  # modules of quiet zone inside the drawn square (the page margin adds more)
QR_MASK = 0  # a fixed mask pattern: the search for the best of eight costs 7x the encoding


def qr_modules(text: str) -> list[list[bool]]:
    """The QR code (error correction level M) of *text*, as rows of dark/light modules.

    reportlab's encoder, with a fixed mask pattern: any of the eight is valid and every decoder
    reads it; choosing the "best" one would cost some 20 ms per code (20 s for 1,000 targets).
    """
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.version = qr.calculate_version()
    qr.makeImpl(False, QR_MASK)
    return [[bool(m) for m in row] for row in qr.modules]


def draw_qr(canv: Canvas, text: str, size: float) -> None:
    """Draw the QR code of *text* as a black *size* square at the origin: one filled path of the
    dark runs of each row, written as PDF operators in module units (integers, so no float
    formatting for the few hundred rectangles)."""
    rows = qr_modules(text)
    n = len(rows)
    box = size / (n + 2 * QR_BORDER)
    ops = [f"q 0 g {box:.5f} 0 0 {box:.5f} {QR_BORDER * box:.5f} {QR_BORDER * box:.5f} cm"]
    for r, row in enumerate(rows):
        y = n - 1 - r
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                ops.append(f"{start} {y} {c - start} 1 re")
            else:
                c += 1
    ops.append("f Q")
    canv.addLiteral("\n".join(ops))


def _period(task: dict[str, Any]) -> str:
    start, end = task.get("start_date") or "", task.get("end_date") or ""
    return f"{start} 至 {end}" if start or end else "＿＿＿＿"


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


# --- files ---------------------------------------------------------------------------------------


def _check_folder(out: Path) -> None:
    """The output folder exists (or can be made) and can be written; nothing is left in it."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".dsj-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise PapersError(
            f"文件夹“{out}”无法写入（{exc.strerror or exc}）：U 盘可能写保护或已满，请换一个文件夹。"
        ) from None


def _safe(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("._")[:40]


def file_name(papers: Papers, kind: str, target: Target | None = None) -> str:
    base = f"{papers.session_id}-{KIND_TITLES[kind] if kind != BOTH else '检查文书'}"
    if target is None:
        return f"{base}.pdf"
    return f"{base}-{target.position:04d}-{target.uscc}-{_safe(target.name)}.pdf"


def _write_all(files: list[tuple[Path, bytes]]) -> list[Path]:
    """Write every file to a temporary name first, then rename them all: a failure leaves nothing."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in files:
            fd, name = tempfile.mkstemp(prefix=f".{path.stem[:40]}.", suffix=".part", dir=path.parent)
            temps.append((Path(name), path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if os.name == "posix":
                os.chmod(name, 0o644)
        for tmp, path in temps:
            os.replace(tmp, path)
    except OSError as exc:
        for part, _ in temps:
            with contextlib.suppress(OSError):
                part.unlink()
        where = files[0][0].parent if files else ""
        raise PapersError(
            f"无法写入文件夹“{where}”：{exc.strerror or exc}。已写的部分已删除，请换一个文件夹重试。"
        ) from None
    return [path for path, _ in files]


def _layout(
    papers: Papers, kind: str, targets: Sequence[Target], message: str, offset: int, total: int
) -> Job[tuple[bytes, int]]:
    """Lay out *targets* on a helper thread, reporting the targets laid out so far."""
    builder = _Builder(papers, kind, targets)
    result: list[bytes] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(builder.build())
        except BaseException as exc:  # handed to the job's thread
            error.append(exc)

    thread = threading.Thread(target=run, name="papers-layout", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
            yield Progress(message, offset + builder.done, total)
    finally:
        builder.cancel.set()  # a cancelled job stops the layout at the next target
        thread.join()
    if error:
        raise error[0]
    return result[0], builder.page_count


def make_papers(
    db: Database,
    session_id: str,
    out: Path,
    *,
    kind: str = BOTH,
    per_target: bool = False,
    operator: str = "",
) -> Job[Papers]:
    """Write the papers of a confirmed session into the folder *out*: one PDF with every target (or
    one per target). Returns the papers (``written``: the files, ``pages``: pages in all)."""
    if kind not in KINDS:
        raise PapersError(
            f"文书种类“{kind}”无效，应为 notice（检查通知书）、record（实地检查记录表）或 both。"
        )
    out = Path(out)
    yield Progress("正在读取抽取记录……")
    with db.read() as conn:
        papers = load_papers(conn, session_id)
    if not papers.targets:
        raise PapersError(f"场次 {papers.session_id} 没有抽中任何检查对象，无需打印检查文书。")
    _check_folder(out)
    if kind in (NOTICE, BOTH):
        yield Progress("正在为检查通知书编号……")
        number_notices(db, papers, operator=operator)
    n = len(papers.targets)
    files: list[tuple[Path, bytes]] = []
    message = f"正在生成{KIND_TITLES[kind]}……"
    if per_target:
        for i, t in enumerate(papers.targets):
            data, pages = yield from _layout(papers, kind, [t], message, i, n)
            files.append((out / file_name(papers, kind, t), data))
            papers.pages += pages
    else:
        data, papers.pages = yield from _layout(papers, kind, papers.targets, message, 0, n)
        files.append((out / file_name(papers, kind), data))
    yield Progress("正在写入文件……", n, n)
    papers.written = _write_all(files)
    return papers
