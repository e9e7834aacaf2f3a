"""Painting a draw session's public stage: the same picture on the operator's preview and on the
projector, each at its own size (:class:`StageView`). Every step is laid out in units of the stage's
size, measured dry first and scaled to fit; what was painted is recorded (for tests and checks)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from dsj_desktop.draw.algorithm import MIN_WITNESS_DIGITS
from dsj_desktop.keys import group_hex
from dsj_desktop.services import sessions
from dsj_desktop.ui.draw.controller import DrawController
from dsj_desktop.ui.draw.stage import (
    CLOSED,
    MANDATORY,
    NOTICE,
    RESULT,
    RESULT_ROWS_PER_PAGE,
    REVEAL,
    ROLLING,
    STEP_TITLES,
    STEPS,
    TARGET,
    TEAM,
    WITNESSES,
    Reel,
)
from dsj_desktop.ui.fonts import stage_fonts


@dataclass(frozen=True)
class Theme:
    bg: str = "#0b1622"
    panel: str = "#132a40"
    line: str = "#2d4b69"
    fg: str = "#ffffff"
    muted: str = "#b3c5d7"
    dim: str = "#6f8aa6"
    accent: str = "#ffd54f"
    ok: str = "#6ef0a6"
    bad: str = "#ff7070"
    on_accent: str = "#10202f"


THEME = Theme()
MAX_SCALE = 1.8  # a step with little to say is shown larger, up to this factor
MIN_SCALE = 0.45


class _Painter:
    """Text helpers on a QPainter, sized in units *u* (a fraction of the stage); with ``dry``
    set they only measure, so a step can be laid out, measured and scaled down to fit."""

    def __init__(self, painter: QPainter, u: float, record: list[str]) -> None:
        self.p = painter
        self.base_u = u
        self.u = u
        self.dry = False
        self.record = record
        self.family, self.mono = stage_fonts()

    def font(self, size: float, *, bold: bool = False, mono: bool = False) -> QFont:
        f = QFont(self.mono if mono else self.family)
        f.setPixelSize(max(7, round(size * self.u)))
        f.setBold(bold)
        return f

    def text(
        self,
        x: float,
        y: float,
        w: float,
        text: str,
        size: float,
        color: str,
        *,
        bold: bool = False,
        mono: bool = False,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
        elide: bool = False,
    ) -> float:
        """One line at (x, y), shrunk (or elided) to fit *w*; returns the height used."""
        f = self.font(size, bold=bold, mono=mono)
        fm = QFontMetricsF(f)
        width = fm.horizontalAdvance(text)
        whole = text  # recorded whole, even where a long name is shortened on a small stage
        if width > w > 0:
            if elide:
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, w)
            else:
                f.setPixelSize(max(7, math.floor(f.pixelSize() * w / width)))
                fm = QFontMetricsF(f)
        h = fm.height()
        if not self.dry:
            self.p.setFont(f)
            self.p.setPen(QColor(color))
            self.p.drawText(QRectF(x, y, w, h), int(align | Qt.AlignmentFlag.AlignVCenter), text)
            self.record.append(whole)
        return h

    def para(
        self, x: float, y: float, w: float, text: str, size: float, color: str, *, bold: bool = False
    ) -> float:
        """Wrapped text; returns the height used."""
        f = self.font(size, bold=bold)
        fm = QFontMetricsF(f)
        flags = int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        h = fm.boundingRect(QRectF(0, 0, w, 1e6), flags, text).height()
        if not self.dry:
            self.p.setFont(f)
            self.p.setPen(QColor(color))
            self.p.drawText(QRectF(x, y, w, h + 2), flags, text)
            self.record.append(text)
        return h

    def hexvalue(self, x: float, y: float, w: float, value: str, size: float, color: str) -> float:
        """A hash in groups of four: on one line when it fits, else on two lines (shrunk a little if
        it must), four only when two would be too small to read. Never clipped."""
        if not value:
            return self.text(x, y, w, "—", size, color)
        groups = group_hex(value).split(" ")
        fm = QFontMetricsF(self.font(size, mono=True))

        def split(per_line: int) -> list[str]:
            return [" ".join(groups[i : i + per_line]) for i in range(0, len(groups), per_line)]

        lines = split(len(groups))
        if fm.horizontalAdvance(lines[0]) > w:
            lines = split(math.ceil(len(groups) / 2))
            widest = max(fm.horizontalAdvance(ln) for ln in lines)
            if widest > w and w / widest < 0.7:
                lines = split(math.ceil(len(groups) / 4))
        h = 0.0
        for ln in lines:
            h += self.text(x, y + h, w, ln, size, color, mono=True)
        return h

    def rect(
        self, r: QRectF, fill: str | None, border: str | None = None, width: float = 1.0, radius: float = 0
    ) -> None:
        if self.dry:
            return
        self.p.setPen(QPen(QColor(border), width) if border else Qt.PenStyle.NoPen)
        self.p.setBrush(QColor(fill) if fill else Qt.BrushStyle.NoBrush)
        self.p.drawRoundedRect(r, radius, radius)


class StageView(QWidget):
    """Paints the current step of a :class:`DrawController` (operator preview or projector)."""

    def __init__(
        self, controller: DrawController, *, projector: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.projector = projector
        self.theme = THEME
        self.painted: list[str] = []  # the texts of the last paint (what the public saw)
        self.painted_step = ""
        self.setObjectName("projector-stage" if projector else "operator-stage")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(320, 180)
        controller.changed.connect(self.update)
        controller.frame.connect(self.update)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._paint(QPainter(self), QRectF(self.rect()))

    def render_image(self, size: QSize | None = None) -> QImage:
        """The stage as it would be painted now at *size* (default: the view's size), e.g. to check
        what the public sees even while the window is covered."""
        size = size or self.size()
        image = QImage(size, QImage.Format.Format_RGB32)
        self._paint(QPainter(image), QRectF(0, 0, size.width(), size.height()))
        return image

    def _paint(self, painter: QPainter, rect: QRectF) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        record: list[str] = []
        try:
            _paint_stage(painter, rect, self.controller, self.theme, record)
        finally:
            painter.end()
        self.painted = record
        self.painted_step = self.controller.step


def _paint_stage(p: QPainter, rect: QRectF, c: DrawController, th: Theme, record: list[str]) -> None:
    p.fillRect(rect, QColor(th.bg))
    u = max(6.0, min(rect.width() / 40, rect.height() / 22.5))
    pen = _Painter(p, u, record)
    margin = 0.8 * u
    x, w = rect.left() + margin, rect.width() - 2 * margin
    y = rect.top() + 0.5 * u
    s = c.session
    task = s.task
    head_w = w * 0.62
    pen.text(x, y, head_w, f"{task.get('bureau', '')}　“双随机、一公开”随机抽取", 0.6, th.muted, elide=True)
    pen.text(x + head_w, y, w - head_w, f"场次 {s.id}", 0.6, th.muted, align=Qt.AlignmentFlag.AlignRight)
    y += 0.95 * u
    pen.text(x, y, w, f"{task.get('code', '')}　{task.get('name', '')}", 0.8, th.fg, bold=True, elide=True)
    y += 1.3 * u
    y += _step_bar(pen, x, y, w, c, th) + 0.6 * u
    body = QRectF(x, y, w, rect.bottom() - y - 0.6 * u)
    painters: dict[str, Callable[[_Painter, QRectF, DrawController, Theme], float]] = {
        NOTICE: _notice, WITNESSES: _witnesses, REVEAL: _reveal, RESULT: _result, CLOSED: _closed,
    }  # fmt: skip
    if c.step == ROLLING:
        _rolling(pen, body, c, th)
        return
    fn = painters[c.step]

    def need(scale: float) -> float:
        pen.dry, pen.u = True, u * scale
        return fn(pen, body, c, th)

    pen.u = u * _fit_scale(need, body.height())
    pen.dry = False
    fn(pen, body, c, th)
    pen.u = u


def _fit_scale(need: Callable[[float], float], room: float) -> float:
    """The largest scale (within MIN_SCALE..MAX_SCALE) at which the measured height fits *room*,
    found in a few measurements (heights jump where a hash moves to two lines)."""
    fits: float | None = None
    fails: float | None = None
    scale = 1.0
    for _ in range(10):
        h = need(scale)
        if h <= room:
            fits = scale if fits is None else max(fits, scale)
            if h >= 0.92 * room or scale >= MAX_SCALE:
                break
            nxt = min(MAX_SCALE, scale * min(room / max(h, 1.0), 1.3))
        else:
            fails = scale if fails is None else min(fails, scale)
            if scale <= MIN_SCALE:
                break
            nxt = max(MIN_SCALE, scale * room / h * 0.98)
        if fits is not None and fails is not None:
            nxt = min(max(nxt, fits), fails)
            if fails - fits < 0.02:
                break
            if not fits < nxt < fails:
                nxt = (fits + fails) / 2
        scale = nxt
    return fits if fits is not None else MIN_SCALE


def _step_bar(pen: _Painter, x: float, y: float, w: float, c: DrawController, th: Theme) -> float:
    """The five steps, the current one highlighted; a closed session ends in 已确认 or 已作废."""
    s = c.session
    current = STEPS.index(RESULT if c.step == CLOSED else c.step)
    happened = [bool(s.commitment), bool(s.witnesses), bool(s.seed), bool(s.result), False]
    n = len(STEPS)
    gap = 0.3 * pen.u
    cw = (w - gap * (n - 1)) / n
    h = 1.2 * pen.u
    for i, step in enumerate(STEPS):
        r = QRectF(x + i * (cw + gap), y, cw, h)
        title = STEP_TITLES[step]
        if c.step == CLOSED:
            done = happened[i]
            if i == n - 1:
                voided = s.status == sessions.VOIDED
                fill, color, title = (
                    (th.bad, th.on_accent, "已作废") if voided else (th.ok, th.on_accent, "已确认")
                )
            else:
                fill, color = None, th.muted if done else th.dim
        else:
            done = i < current
            fill, color = (th.accent, th.on_accent) if i == current else (None, th.muted if done else th.dim)
        pen.rect(r, fill or th.panel, None if fill else th.line, radius=0.25 * pen.u)
        mark = "✔" if done and fill is None else ("" if c.step == CLOSED and i == n - 1 else str(i + 1))
        label = f"{mark}  {title}".strip()
        th_ = pen.font(0.6).pixelSize()
        pen.text(r.left() + 0.2 * pen.u, r.top() + (h - th_ * 1.3) / 2, cw - 0.4 * pen.u, label, 0.6, color,
                 bold=fill is not None, align=Qt.AlignmentFlag.AlignCenter)  # fmt: skip
    return h


def _kv_hash(
    pen: _Painter, x: float, y: float, w: float, label: str, value: str, size: float, color: str, th: Theme
) -> float:
    """A label on the left, a hash on the right (on as many lines as it needs)."""
    label_w = min(w * 0.3, 9.5 * pen.u)
    line_h = QFontMetricsF(pen.font(size, mono=True)).height()
    label_h = QFontMetricsF(pen.font(0.55)).height()
    h1 = pen.text(x, y + max(0.0, (line_h - label_h) / 2), label_w - 0.3 * pen.u, label, 0.55, th.muted)
    h2 = pen.hexvalue(x + label_w, y, w - label_w, value, size, color)
    return max(h1, h2)


def _notice(pen: _Painter, r: QRectF, c: DrawController, th: Theme) -> float:
    s = c.session
    u = pen.u
    x, y, w = r.left(), r.top(), r.width()
    inp = s.inputs
    params = inp["params"]
    quotas = params["quotas"]
    y += pen.text(x, y, w, "抽取前公告", 1.15, th.accent, bold=True) + 0.2 * u
    if not s.commitment:
        y += pen.para(x, y, w, "本场次已准备，尚未生成承诺值。请操作人员生成承诺值并公告。", 0.7, th.fg)
        return y - r.top()
    counts = (
        f"候选检查对象 {len(inp['targets'])} 家（{len(quotas)} 层），本次抽取 {sum(quotas.values())} 家"
        + (f"，必查 {len(params['mandatory'])} 家" if params["mandatory"] else "")
        + f"；执法检查人员 {len(inp['inspectors'])} 人，每组 {params['team_size']} 人"
        + (f"；专家 {len(inp['experts'])} 人" if inp["experts"] else "")
    )
    y += pen.para(x, y, w, counts, 0.62, th.fg) + 0.45 * u
    for key, title in (("targets", "检查对象名单摘要"), ("inspectors", "执法人员名单摘要"),
                       ("experts", "专家名单摘要"), ("params", "抽取参数摘要")):  # fmt: skip
        y += _kv_hash(pen, x, y, w, title, s.hashes.get(key, ""), 0.6, th.fg, th) + 0.3 * u
    y += 0.2 * u
    y += _kv_hash(pen, x, y, w, "承诺值 C = H(N)", s.commitment, 0.85, th.accent, th) + 0.45 * u
    y += pen.para(
        x, y, w,
        f"随机数 N 已经产生，但暂不公开，先公布它的摘要 C。请见证人给出数字（合计至少 {MIN_WITNESS_DIGITS} 位），"
        "之后公开 N，现场核对 H(N) = C。",
        0.5, th.muted,
    )  # fmt: skip
    return y - r.top()


def _witnesses(pen: _Painter, r: QRectF, c: DrawController, th: Theme) -> float:
    s = c.session
    u = pen.u
    x, y, w = r.left(), r.top(), r.width()
    y += pen.text(x, y, w, "见证人给出数字", 1.15, th.accent, bold=True) + 0.3 * u
    if s.status == sessions.COMMITTED and not c.digits_fixed:
        # Spec §3.5: every witness fixes their digits before any is read out.
        y += pen.para(x, y, w, WRITE_FIRST, 0.85, th.fg, bold=True) + 0.4 * u
        y += pen.para(x, y, w, WRITE_FIRST_WHY, 0.6, th.muted) + 0.4 * u
        if s.commitment:
            y += _kv_hash(pen, x, y, w, "承诺值 C（已公布）", s.commitment, 0.45, th.muted, th)
        return y - r.top()
    total = s.digits
    # progress bar towards the 20 digits
    bar = QRectF(x, y + 0.15 * u, w * 0.55, 0.55 * u)
    pen.rect(bar, th.panel, th.line, radius=0.2 * u)
    filled = QRectF(bar.left(), bar.top(), bar.width() * min(1.0, total / MIN_WITNESS_DIGITS), bar.height())
    pen.rect(filled, th.ok if total >= MIN_WITNESS_DIGITS else th.accent, None, radius=0.2 * u)
    status = (
        f"✔ 已录入 {total} 位，可以开奖"
        if total >= MIN_WITNESS_DIGITS
        else f"已录入 {total} 位 / 至少 {MIN_WITNESS_DIGITS} 位"
    )
    pen.text(bar.right() + 0.5 * u, y, w - bar.width() - 0.5 * u, status, 0.6,
             th.ok if total >= MIN_WITNESS_DIGITS else th.fg)  # fmt: skip
    y += 1.1 * u
    rows: list[tuple[str, str, str, str]] = [
        (str(i), w_["name"], w_["digits"], th.accent) for i, w_ in enumerate(s.witnesses, start=1)
    ]
    name, digits = c.pending
    if name or digits:
        rows.append(("…", name or "（正在录入）", digits, th.muted))
    if not rows:
        y += pen.para(
            x,
            y,
            w,
            "数字已全部写定。请见证人按顺序逐一宣读姓名和数字，操作人员当场录入。",
            0.62,
            th.muted,
        )
    name_w = w * 0.4
    for no, who, ds, color in rows:
        row_top = y
        pen.text(x, y, 1.2 * u, no, 0.6, th.muted)
        pen.text(x + 1.2 * u, y, name_w - 1.6 * u, who, 0.7, th.fg)
        spaced = group_hex(ds)
        h = pen.text(x + name_w, y, w - name_w, spaced or "—", 0.95, color, mono=True)
        y = row_top + max(h, 1.0 * u) + 0.25 * u
    if s.commitment:
        y += 0.3 * u
        y += _kv_hash(pen, x, y, w, "承诺值 C（已公布）", s.commitment, 0.45, th.muted, th)
    return y - r.top()


WRITE_FIRST = "请每位见证人先在纸上写下自己的数字（或掷骰子并记下点数）。全部写好之前，任何人都不要宣读。"
WRITE_FIRST_WHY = (
    "全部写定后再按顺序逐一宣读、当场录入。每位见证人写数字时不知道别人的数字，"
    "因此任何人都无法借此操纵抽取结果。"
)


def _reveal(pen: _Painter, r: QRectF, c: DrawController, th: Theme) -> float:
    s = c.session
    u = pen.u
    x, y, w = r.left(), r.top(), r.width()
    y += pen.text(x, y, w, "开奖：公开随机数 N", 1.15, th.accent, bold=True) + 0.3 * u
    y += _kv_hash(pen, x, y, w, "随机数 N", s.nonce, 0.95, th.accent, th) + 0.35 * u
    h, ok = c.nonce_check()
    y += _kv_hash(pen, x, y, w, "H(N)（现场计算）", h, 0.6, th.fg, th) + 0.2 * u
    y += _kv_hash(pen, x, y, w, "承诺值 C（抽取前公布）", s.commitment, 0.6, th.fg, th) + 0.3 * u
    verdict = "✔ H(N) = C：随机数在见证人给出数字之前已经确定" if ok else "✘ H(N) 与承诺值 C 不一致！"
    y += pen.text(x, y, w, verdict, 0.75, th.ok if ok else th.bad, bold=True) + 0.4 * u
    digits = "、".join(f"{w_['name']} {w_['digits']}" for w_ in s.witnesses)
    y += pen.para(x, y, w, f"见证人数字：{digits}", 0.5, th.muted) + 0.2 * u
    y += _kv_hash(pen, x, y, w, "随机种子 seed", s.seed, 0.7, th.fg, th) + 0.2 * u
    y += pen.para(
        x, y, w,
        "seed = H(DSJ-DRAW-1 | 场次编号 | 四个名单与参数摘要 | 各见证人数字 | N)。抽取结果由 seed 唯一确定，下面逐一展示。",
        0.48, th.muted,
    )  # fmt: skip
    return y - r.top()


def _result_table(pen: _Painter, r: QRectF, c: DrawController, th: Theme, title: str, color: str) -> float:
    """A page of the result (names only), RESULT_ROWS_PER_PAGE rows, paging on a timer."""
    u = pen.u
    x, y, w = r.left(), r.top(), r.width()
    rows = c.result_view()
    pages = c.pages()
    page = min(c.result_page, pages - 1)
    y += pen.text(x, y, w * 0.7, title, 1.0, color, bold=True)
    summary = f"共 {len(rows)} 家" + (f"　第 {page + 1}/{pages} 页" if pages > 1 else "")
    pen.text(x + w * 0.7, y - 1.1 * u, w * 0.3, summary, 0.55, th.muted, align=Qt.AlignmentFlag.AlignRight)
    y += 0.25 * u
    experts = any(row["experts"] for row in rows)
    cols: list[tuple[str, float]] = [("序号", 0.06), ("检查对象", 0.42 if c.stratified else 0.52)]
    if c.stratified:  # strata, or only 必查 beside the random draw (then it says how each was chosen)
        cols.append(("分层" if set(c.session.inputs["params"]["quotas"]) != {""} else "抽取方式", 0.12))
    cols.append(("执法检查人员", 0.40 if not experts else 0.26))
    if experts:
        cols.append(("专家", 0.14))
    total = sum(f for _, f in cols)
    widths = [w * f / total for _, f in cols]
    avail = r.bottom() - y
    row_h = min(2.0 * u, avail / (RESULT_ROWS_PER_PAGE + 1))
    size = min(0.9, row_h / u * 0.5)
    page_rows = rows[page * RESULT_ROWS_PER_PAGE : (page + 1) * RESULT_ROWS_PER_PAGE]
    cells_of = [_result_cells(row, c.stratified, experts) for row in page_rows]
    # The people must be read in full (a target's name may be shortened): shrink to fit them.
    fm = QFontMetricsF(pen.font(size))
    for j in range(2, len(cols)):
        widest = max((fm.horizontalAdvance(cells[j]) for cells in cells_of), default=0.0)
        room = widths[j] - 0.4 * u
        if widest > room > 0:
            size = min(size, size * room / widest)
    pen.rect(QRectF(x, y, w, row_h), th.panel, None)
    cx = x
    for (head, _), cw in zip(cols, widths, strict=True):
        pen.text(cx + 0.2 * u, y + (row_h - pen.font(size * 0.85).pixelSize() * 1.3) / 2, cw - 0.4 * u, head,
                 size * 0.85, th.muted)  # fmt: skip
        cx += cw
    y += row_h
    for i, cells in enumerate(cells_of):
        if i % 2:
            pen.rect(QRectF(x, y, w, row_h), "#0f2133", None)
        cx = x
        for j, (cell, cw) in enumerate(zip(cells, widths, strict=True)):
            pen.text(cx + 0.2 * u, y + (row_h - pen.font(size).pixelSize() * 1.3) / 2, cw - 0.4 * u, cell, size,
                     th.fg if j else th.muted, elide=j == 1)  # fmt: skip
            cx += cw
        y += row_h
    return y - r.top()


def _result_cells(row: dict[str, Any], stratified: bool, experts: bool) -> list[str]:
    cells = [str(row["no"]), row["name"]]
    if stratified:
        cells.append(row["stratum"])
    cells.append("、".join(row["inspectors"]))
    if experts:
        cells.append("、".join(row["experts"]) or "—")
    return cells


def _result(pen: _Painter, r: QRectF, c: DrawController, th: Theme) -> float:
    h = _result_table(pen, r, c, th, "抽取结果（待确认）", th.accent)
    return h


def _closed(pen: _Painter, r: QRectF, c: DrawController, th: Theme) -> float:
    s = c.session
    u = pen.u
    x, y, w = r.left(), r.top(), r.width()
    if s.status == sessions.VOIDED:
        y += pen.text(x, y, w, "本场次已作废", 1.3, th.bad, bold=True) + 0.2 * u
        y += pen.para(x, y, w, f"作废原因：{s.void_reason}", 0.7, th.fg) + 0.3 * u
        if c.nonce_public:
            _, ok = c.nonce_check()
            y += _kv_hash(pen, x, y, w, "随机数 N（作废后公开）", s.nonce, 0.7, th.accent, th) + 0.2 * u
            check = "✔ H(N) = 抽取前公布的承诺值 C" if ok else "✘ H(N) 与承诺值 C 不一致"
            y += pen.text(x, y, w, check, 0.6, th.ok if ok else th.bad) + 0.3 * u
        y += (
            pen.para(
                x, y, w, "作废的场次永久保留，并列入本任务下一次抽取的记录；其结果不生效。", 0.5, th.muted
            )
            + 0.4 * u
        )
        if s.result:
            rest = QRectF(x, y, w, max(4 * u, r.bottom() - y))
            y += _result_table(pen, rest, c, th, "作废前的抽取结果（不生效）", th.muted)
        return y - r.top()
    sub = c.last_substitution or (s.substitutions[-1] if s.substitutions else None)
    foot = 1.2 * u if sub is not None else 0.0
    table_h = _result_table(pen, QRectF(x, y, w, r.height() - foot), c, th, "抽取结果已确认（生效）", th.ok)
    if sub is not None:
        people = s.inspector_names | s.expert_names
        line = (
            f"最近一次递补：{s.target_names.get(sub['target'], sub['target'])}　"
            f"{people.get(sub['removed'], sub['removed'])} → {people.get(sub['substitute'], sub['substitute'])}"
            f"（原因：{sub['reason']}）"
        )
        pen.text(x, r.bottom() - foot + 0.2 * u, w, line, 0.5, th.accent, elide=True)
    return table_h + foot


def _rolling(pen: _Painter, r: QRectF, c: DrawController, th: Theme) -> None:
    roll = c.roll
    s = c.session
    u = pen.u
    if roll is None:
        return
    beat = roll.beat
    x, y, w = r.left(), r.top(), r.width()
    left_w = w * 0.58
    right_x = x + left_w + 0.8 * u
    right_w = w - left_w - 0.8 * u
    names = s.target_names
    if beat is None:
        pen.text(x, y, w, "展示完毕", 1.0, th.accent, bold=True)
        return
    if beat.kind in (MANDATORY, TARGET):
        pen.text(x, y, w, "第一步：抽取检查对象", 1.0, th.accent, bold=True)
    else:
        pen.text(x, y, w, "第二步：为每个检查对象抽取检查组", 1.0, th.accent, bold=True)
    y += 1.5 * u
    if beat.kind == MANDATORY:
        pen.text(
            x, y, left_w, f"必查对象 {len(beat.indices)} 家（黑名单，100% 检查，不参加随机抽取）", 0.65, th.fg
        )
        yy = y + 1.2 * u
        line = 1.05 * u
        room = max(1, int((r.bottom() - yy) / line))
        shown = beat.indices if len(beat.indices) <= room else beat.indices[: room - 1]
        for i in shown:
            pen.text(
                x + 0.5 * u,
                yy,
                left_w - 0.5 * u,
                names.get(s.result[i]["id"], ""),
                0.6,
                th.accent,
                elide=True,
            )
            yy += line
        if len(shown) < len(beat.indices):
            pen.text(x + 0.5 * u, yy, left_w - 0.5 * u, f"…… 另有 {len(beat.indices) - len(shown)} 家，见结果清单",
                     0.55, th.muted)  # fmt: skip
    elif beat.kind == TARGET:
        x_ = s.result[beat.indices[0]]
        stratum = x_["stratum"]
        size = c.stratum_sizes().get(stratum, 0)
        quota = s.inputs["params"]["quotas"].get(stratum, 0)
        in_stratum = sum(
            1
            for i in roll.landed_targets
            if s.result[i]["stratum"] == stratum and not s.result[i]["mandatory"]
        )
        done = beat.indices[0] in roll.landed_targets
        label = f"分层：{stratum}　" if stratum else ""
        where = f"抽中第 {in_stratum} 家" if done else f"正在抽第 {in_stratum + 1} 家"
        pen.text(x, y, left_w, f"{label}候选 {size} 家，抽取 {quota} 家　{where}",
                 0.6, th.fg, elide=True)  # fmt: skip
        drum = QRectF(x, y + 1.2 * u, left_w, min(r.bottom() - y - 4.0 * u, 20.0 * u))
        _drum(pen, drum, beat.reels[0], roll.t, th, size=1.3)
        ty = drum.bottom() + 0.4 * u
        if done:
            pen.text(x, ty, left_w, f"票号 T = {group_hex(x_['ticket'][:24])} …", 0.6, th.accent, mono=True)
        pen.text(x, ty + 1.1 * u, left_w, f"第 {beat.number} / {beat.of} 家", 0.6, th.muted)
    else:
        x_ = s.result[beat.indices[0]]
        pen.text(
            x, y, left_w, f"检查对象：{names.get(x_['id'], x_['id'])}", 0.75, th.fg, bold=True, elide=True
        )
        n = len(beat.reels)
        gap = 0.5 * u
        rw = (left_w - gap * (n - 1)) / max(1, n)
        top = y + 1.6 * u
        height = min(r.bottom() - top - 2.6 * u, 18.0 * u)
        for j, reel in enumerate(beat.reels):
            rx = x + j * (rw + gap)
            pen.text(rx, top, rw, reel.label, 0.6, th.muted, align=Qt.AlignmentFlag.AlignCenter)
            _drum(pen, QRectF(rx, top + 0.9 * u, rw, height), reel, roll.t, th, size=1.2)
        pen.text(x, top + height + 1.3 * u, left_w, f"第 {beat.number} / {beat.of} 家", 0.6, th.muted)
    # the right-hand list: what has landed so far, numbered in the order shown
    panel = QRectF(right_x, r.top(), right_w, r.height())
    pen.rect(panel, th.panel, th.line, radius=0.3 * u)
    px, pw = panel.left() + 0.4 * u, panel.width() - 0.8 * u
    py = panel.top() + 0.3 * u
    teams = beat.kind == TEAM
    landed = roll.landed_teams if teams else roll.landed_targets
    total = len(s.result)
    heading = f"已分配检查组 {len(landed)} / {total}" if teams else f"已抽中 {len(landed)} / {total}"
    py += pen.text(px, py, pw, heading, 0.68, th.accent, bold=True) + 0.3 * u
    line_h = 1.9 * u
    fit = max(1, int((panel.bottom() - py) / line_h))
    first = max(0, len(landed) - fit)
    for k, i in enumerate(landed[first:], start=first + 1):
        x_ = s.result[i]
        pen.text(px, py, pw, f"{k}. {names.get(x_['id'], '')}", 0.6, th.fg, elide=True)
        if teams:
            team = [s.inspector_names.get(p, p) for p in x_["inspectors"]]
            team += [s.expert_names.get(p, p) for p in x_["experts"]]
            pen.text(px + 0.8 * u, py + 0.85 * u, pw - 0.8 * u, "、".join(team), 0.58, th.accent, elide=True)
        else:
            tag = "必查" if x_["mandatory"] else (x_["stratum"] or "")
            pen.text(px + 0.8 * u, py + 0.85 * u, pw - 0.8 * u,
                     (f"[{tag}] " if tag else "") + f"票号 {x_['ticket'][:12]}…", 0.5, th.muted, mono=True)  # fmt: skip
        py += line_h


def _drum(pen: _Painter, r: QRectF, reel: Reel, t: float, th: Theme, *, size: float) -> None:
    """A window onto the reel: names scroll up through it, slowing, and stop in the marked row."""
    u = pen.u
    pen.rect(r, th.panel, th.line, radius=0.3 * u)
    rows = 5
    row_h = r.height() / rows
    pos = reel.position(t)
    center_y = r.top() + row_h * (rows // 2)
    p = pen.p
    if not pen.dry:
        p.save()
        p.setClipRect(r.adjusted(1, 1, -1, -1))
    first = math.floor(pos) - rows // 2 - 1
    for j in range(first, first + rows + 3):
        if not 0 <= j < len(reel.strip):
            continue
        offset = j - pos
        yy = center_y + offset * row_h
        dist = abs(offset)
        color = QColor(th.fg)
        color.setAlphaF(max(0.15, 1.0 - 0.32 * dist))
        stopped = reel.stopped(t) and j == len(reel.strip) - 1
        txt_size = min(size, row_h / u * 0.55) * (1.0 if dist < 0.5 else 0.8)
        f = pen.font(txt_size, bold=dist < 0.5)
        fm = QFontMetricsF(f)
        text = fm.elidedText(reel.strip[j], Qt.TextElideMode.ElideRight, r.width() - 0.8 * u)
        if not pen.dry:
            p.setFont(f)
            p.setPen(QColor(th.accent) if stopped else color)
            p.drawText(
                QRectF(r.left() + 0.4 * u, yy, r.width() - 0.8 * u, row_h),
                int(Qt.AlignmentFlag.AlignCenter),
                text,
            )
        if dist < 0.5:
            pen.record.append(reel.strip[j])
    if not pen.dry:
        p.restore()
    window = QRectF(r.left() + 0.15 * u, center_y, r.width() - 0.3 * u, row_h)
    pen.rect(window, None, th.accent, width=max(2.0, 0.12 * u), radius=0.25 * u)
