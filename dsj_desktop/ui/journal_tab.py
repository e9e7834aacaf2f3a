"""操作日志 as a tab: a lazy view of the journal (newest first), filters (text, account, dates),
the full detail of the selected entry in readable form, export, and the integrity check."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCalendarWidget,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db import guard
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.plan_specs import ITEMS, PLAN_ROWS
from dsj_desktop.domain.result_specs import RESULT_ROWS
from dsj_desktop.domain.specs import CONFLICTS, EXPERTS, INSPECTORS, TARGETS
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services import journal
from dsj_desktop.services.journal import Entry
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.ops import announce
from dsj_desktop.ui.runner import report_failure, run_with_progress
from dsj_desktop.ui.table_model import GREY, Column, LazyTableModel

SEARCH_DELAY_MS = 250
NO_DATE = QDate(2000, 1, 1)  # the minimum of the date fields, shown as "不限"
ALL_ACCOUNTS = "全部账户"
HIDDEN = ("password_hash", "recovery_hash")
OPS = {"I": "新增", "U": "修改", "D": "删除", "insert": "新增", "update": "修改", "delete": "删除"}

COMMON_COLUMNS = {
    "id": "编号", "archived": "已归档", "created_at": "建立时间", "updated_at": "更新时间",
    "username": "账户名", "display_name": "姓名", "role": "角色", "active": "启用",
    "failed_count": "连续输错次数", "locked_until": "锁定至", "password_hash": "密码（哈希）",
    "recovery_hash": "恢复码（哈希）", "key": "设置项", "value": "值", "list_name": "代码表",
    "sort_order": "排序",
}  # fmt: skip
DETAIL_KEYS = {
    "file": "文件", "entries": "条数", "size": "大小（字节）", "backup": "备份文件", "made": "备份时间",
    "safety_copy": "恢复前数据的备份", "role": "角色", "username": "账户", "ok": "全部一致",
    "findings": "发现问题", "triggers": "触发器", "schema_version": "数据库版本", "failed": "连续输错次数",
    "locked": "已锁定", "active": "启用", "ids": "记录编号", "record_key": "抽取记录签名密钥指纹",
    "pdf_certificate": "PDF 签章证书指纹", "retired": "原证书指纹",
}  # fmt: skip


def _column_titles() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for spec in (TARGETS, INSPECTORS, EXPERTS, CONFLICTS, ITEMS, PLAN_ROWS, RESULT_ROWS):
        out.setdefault(spec.table, {}).update({f.attr: f.header for f in spec.fields})
    return out


_COLUMN_TITLES = _column_titles()


def column_title(table: str, column: str) -> str:
    return _COLUMN_TITLES.get(table, {}).get(column) or COMMON_COLUMNS.get(column) or column


def _value(column: str, value: Any) -> str:
    if column in HIDDEN and value:
        return "（已隐藏）"
    if value is None:
        return "（空）"
    if value == "":
        return "（空白）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def when(at: str) -> str:
    """2026-11-23T08:16:36+08:00 → 2026-11-23 08:16:36."""
    return at[:19].replace("T", " ")


def summary(entry: Entry) -> str:
    """One line of what changed, for the table."""
    try:
        detail = json.loads(entry.detail)
    except ValueError:
        return ""
    counts = detail.get("changes") if isinstance(detail, dict) else None
    if not isinstance(counts, dict):
        return ""
    parts = []
    for table, c in sorted(counts.items()):
        if isinstance(c, dict):
            done = "、".join(f"{OPS.get(o, o)} {n:,}" for o, n in c.items() if n)
            parts.append(f"{guard.table_title(table)} {done}")
    return "；".join(parts)


def _e(text: Any) -> str:
    return html.escape(str(text))


def detail_html(entry: Entry) -> str:
    """The whole entry for reading: changes per table, each listed row with before → after."""
    out = [
        f"<h3 style='margin:0'>第 {entry.id} 条　{_e(entry.action)}</h3>",
        f"<p>时间：{_e(when(entry.at))}　　账户：{_e(entry.actor)}</p>",
    ]
    try:
        detail = json.loads(entry.detail) if entry.detail else {}
    except ValueError:
        detail = entry.detail
    if not isinstance(detail, dict):
        out.append(f"<pre>{_e(detail)}</pre>")
        detail = {}
    counts = detail.pop("changes", None)
    rows = detail.pop("rows", None)
    if detail:
        out.append("<p><b>说明</b></p><table cellpadding='2'>")
        for k, v in detail.items():
            out.append(
                f"<tr><td style='color:#57606a'>{_e(DETAIL_KEYS.get(k, k))}</td><td>{_e(_value(k, v))}</td></tr>"
            )
        out.append("</table>")
    listed = 0
    if isinstance(counts, dict) and counts:
        out.append("<p><b>改动</b></p><ul style='margin-top:0'>")
        for table, c in sorted(counts.items()):
            if isinstance(c, dict):
                done = "、".join(f"{OPS.get(o, o)} {n:,} 行" for o, n in c.items() if n)
                out.append(f"<li>{_e(guard.table_title(table))}：{_e(done)}</li>")
        out.append("</ul>")
    if isinstance(rows, list) and rows:
        out.append("<p><b>逐行</b></p>")
        for row in rows:
            if not isinstance(row, dict):
                continue
            listed += 1
            table = str(row.get("table", ""))
            op = OPS.get(str(row.get("op", "")), str(row.get("op", "")))
            out.append(
                f"<p style='margin-bottom:2px'>{_e(guard.table_title(table))}　第 {_e(row.get('rowid', ''))} 行"
                f"　<b>{_e(op)}</b></p>"
            )
            changed = row.get("changed")
            values = row.get("values")
            if isinstance(changed, dict) and changed:
                out.append(
                    "<table border='1' cellspacing='0' cellpadding='3' style='border-color:#d0d7de'>"
                    "<tr style='background:#eef1f4'><th>字段</th><th>原值</th><th>新值</th></tr>"
                )
                for col, pair in changed.items():
                    before, after = pair if isinstance(pair, list) and len(pair) == 2 else ("", pair)
                    out.append(
                        f"<tr><td>{_e(column_title(table, col))}</td><td>{_e(_value(col, before))}</td>"
                        f"<td>{_e(_value(col, after))}</td></tr>"
                    )
                out.append("</table>")
            elif isinstance(values, dict) and values:
                out.append(
                    "<table border='1' cellspacing='0' cellpadding='3' style='border-color:#d0d7de'>"
                    "<tr style='background:#eef1f4'><th>字段</th><th>值</th></tr>"
                )
                for col, v in values.items():
                    out.append(
                        f"<tr><td>{_e(column_title(table, col))}</td><td>{_e(_value(col, v))}</td></tr>"
                    )
                out.append("</table>")
    if isinstance(counts, dict):
        total = sum(
            n for c in counts.values() if isinstance(c, dict) for n in c.values() if isinstance(n, int)
        )
        if total > listed and listed:
            out.append(
                f"<p style='color:#57606a'>共改动 {total:,} 行，前 {listed} 行逐行列出，其余只计数"
                f"（一次操作最多逐行记录 {guard.ROWS_IN_JOURNAL} 行）。</p>"
            )
    out.append(
        f"<p style='color:#57606a'>哈希：<span style='font-family:monospace'>{_e(entry.hash)}</span></p>"
    )
    return "\n".join(out)


@dataclass(frozen=True)
class JournalFilter:
    text: str = ""
    actor: str = ""
    since: str = ""  # YYYY-MM-DD
    until: str = ""  # YYYY-MM-DD, inclusive

    def kwargs(self) -> dict[str, str]:
        return {"text": self.text, "actor": self.actor, "since": self.since, "until": self.until}

    @property
    def active(self) -> bool:
        return any(self.kwargs().values())


class JournalSource:
    """The journal as a :class:`dsj_desktop.ui.table_model.RowSource`: ids newest first, rows by id."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def ids(self, flt: JournalFilter | None, sort: str | None = None, descending: bool = False) -> list[int]:
        flt = flt or JournalFilter()
        return journal.entry_ids(self.db, text=flt.text, actor=flt.actor, since=flt.since, until=flt.until)

    def rows(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        return {i: (e, summary(e)) for i, e in journal.entries_by_id(self.db, ids).items()}


COLUMNS = (
    Column("序号", lambda v: str(v[0].id), align_center=True),
    Column("时间", lambda v: when(v[0].at)),
    Column("账户", lambda v: v[0].actor),
    Column("操作", lambda v: v[0].action, tooltip=lambda v: v[0].action if len(v[0].action) > 30 else None),
    Column("改动", lambda v: v[1], tooltip=lambda v: v[1] if len(v[1]) > 40 else None),
)


def _export_job(db: Database, path: Path, flt: JournalFilter) -> Job[int]:
    yield Progress("正在导出操作日志……")
    return journal.export(db, path, **flt.kwargs())


class _OpenAtToday(QObject):
    """A date field showing "不限" opens its calendar at this month, not at the year 2000."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Show
            and isinstance(watched, QCalendarWidget)
            and watched.selectedDate() == NO_DATE
        ):
            today = QDate.currentDate()
            watched.setCurrentPage(today.year(), today.month())
        return False


class JournalTab(QWidget):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("journal-tab")

        self.search = QLineEdit()
        self.search.setObjectName("journal-search")
        self.search.setPlaceholderText("搜索操作和详情，如：导入、登录失败、统一社会信用代码")
        self.search.setClearButtonEnabled(True)
        self.actor_combo = QComboBox()
        self.actor_combo.setObjectName("journal-actor")
        self.actor_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._calendar_filter = _OpenAtToday(self)
        self.since = self._date_edit("journal-since")
        self.until = self._date_edit("journal-until")
        self.btn_clear = QPushButton("清除筛选")
        self.btn_clear.clicked.connect(self.clear_filters)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("搜索："))
        bar.addWidget(self.search, 1)
        bar.addWidget(self.actor_combo)
        bar.addWidget(QLabel("日期从"))
        bar.addWidget(self.since)
        bar.addWidget(QLabel("到"))
        bar.addWidget(self.until)
        bar.addWidget(self.btn_clear)

        self.model = LazyTableModel(JournalSource(db), COLUMNS, JournalFilter(), self)
        self.model.row_foreground = lambda v: GREY if v[0].actor == "系统" else None
        self.table = QTableView()
        self.table.setObjectName("journal-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for i, width in enumerate((64, 150, 150, 320)):
            header.resizeSection(i, width)

        self.detail = QTextBrowser()
        self.detail.setObjectName("journal-detail")
        self.detail.setOpenLinks(False)
        self.detail.setPlaceholderText(
            "选中一条日志，这里显示它的全部内容：改了哪些表、哪几行、改前改后的值。"
        )

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)

        self.count_label = QLabel()
        self.count_label.setObjectName("journal-count")
        self.btn_refresh = QPushButton("刷新")
        self.btn_export = QPushButton("导出…")
        self.btn_export.setToolTip("把当前筛选出的日志导出为 Excel（.xlsx）或 JSON 文件")
        self.btn_check = QPushButton("完整性检查")
        self.btn_check.setObjectName("integrity-button")
        self.btn_check.setToolTip("核对数据库、操作日志的哈希链和签名、每一行数据的封存和抽取记录的签名")
        self.btn_refresh.clicked.connect(self.refresh)
        self.btn_export.clicked.connect(self.export_file)
        self.btn_check.clicked.connect(self.check_integrity)
        buttons = QHBoxLayout()
        buttons.addWidget(self.count_label)
        buttons.addStretch(1)
        buttons.addWidget(self.btn_refresh)
        buttons.addWidget(self.btn_export)
        buttons.addWidget(self.btn_check)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _=None: self._timer.start())
        self.actor_combo.currentIndexChanged.connect(lambda _=None: self.apply_filter())
        self.since.dateChanged.connect(lambda _=None: self.apply_filter())
        self.until.dateChanged.connect(lambda _=None: self.apply_filter())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.show_selected())
        self._loaded = False
        self.reload_actors()
        self.apply_filter()

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(NO_DATE)
        edit.setSpecialValueText("不限")
        edit.setDate(NO_DATE)
        edit.calendarWidget().installEventFilter(self._calendar_filter)
        return edit

    # --- filtering --------------------------------------------------------------------------

    def reload_actors(self) -> None:
        current = self.actor_combo.currentData()
        self.actor_combo.blockSignals(True)
        self.actor_combo.clear()
        self.actor_combo.addItem(ALL_ACCOUNTS, "")
        for name in journal.actors(self.db):
            self.actor_combo.addItem(name, name)
        pos = self.actor_combo.findData(current) if current else 0
        self.actor_combo.setCurrentIndex(max(pos, 0))
        self.actor_combo.blockSignals(False)

    def current_filter(self) -> JournalFilter:
        def day(edit: QDateEdit) -> str:
            d = edit.date()
            return "" if d == NO_DATE else d.toString("yyyy-MM-dd")

        return JournalFilter(
            text=self.search.text().strip(),
            actor=str(self.actor_combo.currentData() or ""),
            since=day(self.since),
            until=day(self.until),
        )

    def set_dates(self, since: date | None, until: date | None) -> None:
        self.since.setDate(QDate(since.year, since.month, since.day) if since else NO_DATE)
        self.until.setDate(QDate(until.year, until.month, until.day) if until else NO_DATE)

    def clear_filters(self) -> None:
        for w in (self.search, self.actor_combo, self.since, self.until):
            w.blockSignals(True)
        self.search.clear()
        self.actor_combo.setCurrentIndex(0)
        self.since.setDate(NO_DATE)
        self.until.setDate(NO_DATE)
        for w in (self.search, self.actor_combo, self.since, self.until):
            w.blockSignals(False)
        self.apply_filter()

    def apply_filter(self) -> None:
        self._timer.stop()
        flt = self.current_filter()
        self.model.set_filter(flt)
        total = journal.entry_count(self.db)
        shown = self.model.rowCount()
        text = f"操作日志共 {total:,} 条"
        if flt.active:
            text += f"，当前显示 {shown:,} 条"
        self.count_label.setText(text)
        if shown:
            self.table.selectRow(0)
        else:
            self.detail.clear()

    def refresh(self) -> None:
        self.reload_actors()
        self.apply_filter()

    def on_data_changed(self, kinds: data_hub.Kinds, source: object) -> None:
        """Every change adds an entry: shown at once when visible (else on showing, see showEvent)."""
        if source is not self and self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._loaded:
            self.refresh()  # entries were added while the tab was hidden
        self._loaded = True

    # --- detail -----------------------------------------------------------------------------

    def selected_entry(self) -> Entry | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            return None
        values = self.model.values(index.row())
        return values[0] if values else None

    def show_selected(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            self.detail.clear()
        else:
            self.detail.setHtml(detail_html(entry))

    # --- actions ----------------------------------------------------------------------------

    def export_file(self) -> Path | None:
        default = str(Path.home() / f"操作日志-{date.today():%Y%m%d}.xlsx")
        path, chosen = QFileDialog.getSaveFileName(
            self, "导出操作日志", default, "Excel 工作簿 (*.xlsx);;JSON 文件 (*.json)"
        )
        if not path:
            return None
        p = Path(path)
        if p.suffix.lower() not in (".xlsx", ".json"):
            p = p.with_name(p.name + (".json" if "json" in chosen.lower() else ".xlsx"))
        flt = self.current_filter()
        out = run_with_progress(self, "导出操作日志", _export_job(self.db, p, flt), cancellable=False)
        if not out.ok:
            report_failure(self, "导出操作日志", out)
            return None
        what = "当前筛选出的" if flt.active else "全部"
        QMessageBox.information(self, "导出操作日志", f"已导出{what}操作日志 {out.value:,} 条到：\n{p}")
        self.refresh()
        announce(self, {data_hub.JOURNAL}, source=self)  # it reloaded itself above
        return p

    def check_integrity(self) -> None:
        from dsj_desktop.ui.integrity import run_integrity_check

        run_integrity_check(self.db, self)  # announced on the data hub (when in the window)
        self.refresh()


__all__ = ["JournalFilter", "JournalSource", "JournalTab", "detail_html", "summary"]
