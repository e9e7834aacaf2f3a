"""Bar and pie charts drawn with QPainter (no QtCharts) from the core's :class:`~dsj_desktop.services.stats.Chart`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from dsj_desktop.services.stats import PALETTE, Chart

INK = QColor("#1f2328")
MUTED = QColor("#57606a")
GRIDLINE = QColor("#e1e4e8")


def _fmt(v: float, unit: str) -> str:
    if unit == "%":
        return f"{v:.1f}%"
    return f"{v:g}"


def paint_chart(p: QPainter, rect: QRectF, chart: Chart, font: QFont) -> None:
    """Draw *chart* into *rect* (used on screen and for PNG export alike)."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.fillRect(rect, QColor("#ffffff"))
    title_font = QFont(font)
    title_font.setBold(True)
    title_font.setPointSizeF(font.pointSizeF() + 1)
    p.setFont(title_font)
    p.setPen(INK)
    tfm = QFontMetrics(title_font)
    p.drawText(QRectF(rect.left() + 8, rect.top() + 4, rect.width() - 16, tfm.height() + 4),
               Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, chart.title)  # fmt: skip
    body = QRectF(
        rect.left() + 8, rect.top() + tfm.height() + 14, rect.width() - 16, rect.height() - tfm.height() - 22
    )
    p.setFont(font)
    total = sum(v for _, v in chart.data)
    if not chart.data or (chart.kind == "pie" and total <= 0):
        p.setPen(MUTED)
        p.drawText(body, Qt.AlignmentFlag.AlignCenter, "（暂无数据）")
    elif chart.kind == "pie":
        _pie(p, body, chart, font, total)
    else:
        _bars(p, body, chart, font)
    p.restore()


def _pie(p: QPainter, body: QRectF, chart: Chart, font: QFont, total: float) -> None:
    fm = QFontMetrics(font)
    size = min(body.height(), body.width() * 0.45)
    pie = QRectF(body.left(), body.top() + (body.height() - size) / 2, size, size)
    start = 90 * 16
    p.setPen(QPen(QColor("#ffffff"), 1.5))
    for i, (_, v) in enumerate(chart.data):
        span = -round(v / total * 360 * 16)
        p.setBrush(QColor(PALETTE[i % len(PALETTE)]))
        p.drawPie(pie, start, span)
        start += span
    # Legend to the right.
    x = pie.right() + 16
    line = fm.height() + 4
    y = body.top() + max(0.0, (body.height() - line * len(chart.data)) / 2)
    for i, (label, v) in enumerate(chart.data):
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(PALETTE[i % len(PALETTE)]))
        p.drawRect(QRectF(x, y + (line - 10) / 2, 10, 10))
        p.setPen(INK)
        text = f"{label}  {v:g}（{100 * v / total:.1f}%）"
        text = fm.elidedText(text, Qt.TextElideMode.ElideMiddle, int(body.right() - x - 16))
        p.drawText(QPointF(x + 16, y + (line + fm.ascent() - fm.descent()) / 2), text)
        y += line


def nice_scale(top: float, max_steps: int = 5) -> tuple[float, int]:
    """The end of a count axis and its number of steps: round steps (1, 2, 5 × 10ⁿ, whole numbers),
    so the ticks read 0, 2, 4, 6, 8 — never 0, 3, 5, 8."""
    if top <= 0:
        return 1.0, 1
    raw = top / max_steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1.0)
    steps = max(1, math.ceil(top / step))
    return step * steps, steps


def _bars(p: QPainter, body: QRectF, chart: Chart, font: QFont) -> None:
    fm = QFontMetrics(font)
    n = len(chart.data)
    label_w = min(max(fm.horizontalAdvance(label) for label, _ in chart.data) + 10, body.width() * 0.35)
    value_w = fm.horizontalAdvance("100.0%") + 8
    plot = QRectF(
        body.left() + label_w, body.top(), body.width() - label_w - value_w, body.height() - fm.height() - 4
    )
    top = max(v for _, v in chart.data)
    if chart.unit == "%" and top <= 100:
        vmax, steps = 100.0, 5
    else:
        vmax, steps = nice_scale(top)
    # Grid lines and the scale.
    p.setPen(QPen(GRIDLINE, 1))
    for k in range(steps + 1):
        x = plot.left() + plot.width() * k / steps
        p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
    p.setPen(MUTED)
    for k in range(steps + 1):
        x = plot.left() + plot.width() * k / steps
        text = _fmt(vmax * k / steps, chart.unit) if chart.unit == "%" else f"{vmax * k / steps:.0f}"
        tw = fm.horizontalAdvance(text)
        p.drawText(QPointF(x - tw / 2, plot.bottom() + fm.ascent() + 2), text)
    slot = plot.height() / n
    bar_h = max(4.0, min(22.0, slot * 0.66))
    for i, (label, v) in enumerate(chart.data):
        cy = plot.top() + slot * i + slot / 2
        p.setPen(INK)
        shown = fm.elidedText(label, Qt.TextElideMode.ElideRight, int(label_w - 8))
        p.drawText(QRectF(body.left(), cy - fm.height() / 2, label_w - 6, fm.height()),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown)  # fmt: skip
        w = plot.width() * (v / vmax) if vmax else 0.0
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(PALETTE[0]))
        p.drawRect(QRectF(plot.left(), cy - bar_h / 2, w, bar_h))
        p.setPen(INK)
        p.drawText(QPointF(plot.left() + w + 4, cy + (fm.ascent() - fm.descent()) / 2), _fmt(v, chart.unit))


class ChartWidget(QWidget):
    def __init__(self, chart: Chart, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = chart
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(360)
        self.setFixedHeight(self.preferred_height())

    def preferred_height(self) -> int:
        if self.chart.kind == "pie":
            return max(230, 60 + 22 * len(self.chart.data))
        return 70 + max(1, len(self.chart.data)) * 24

    def set_chart(self, chart: Chart) -> None:
        self.chart = chart
        self.setFixedHeight(self.preferred_height())
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(480, self.preferred_height())

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        paint_chart(p, QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), self.chart, self.font())
        p.setPen(QPen(QColor("#d0d7de"), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        p.end()

    def render_image(self, width: int = 900) -> QImage:
        """The chart alone at *width* pixels (for PNG export), independent of the widget's size."""
        height = int(self.preferred_height() * max(1.0, width / 600))
        img = QImage(width, height, QImage.Format.Format_ARGB32)
        img.fill(QColor("#ffffff"))
        p = QPainter(img)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * max(1.0, width / 600))
        paint_chart(p, QRectF(0, 0, width, height), self.chart, font)
        p.end()
        return img

    def save_png(self, path: Path, width: int = 900) -> None:
        image: Any = self.render_image(width)  # PySide6 6.9 wants the format as str; its stubs say bytes
        if not image.save(str(path), "PNG"):
            raise OSError(f"无法写入“{path}”")
