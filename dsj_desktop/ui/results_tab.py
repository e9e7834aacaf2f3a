"""结果录入: every confirmed draw's targets with their status and deadline; entry, batch entry,
correction, history, publication, import / export, and the deadline settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.result_specs import PUBLISHED, STATUSES
from dsj_desktop.domain.workdays import DeadlineState
from dsj_desktop.publish import result_publication
from dsj_desktop.services import results
from dsj_desktop.services.results import DEADLINE_FILTERS, ResultFilter, ResultQuery, ResultRow
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.kit import ok_cancel, remember, remembered, save_template
from dsj_desktop.ui.ops import WriteOp
from dsj_desktop.ui.runner import report_failure, run_with_progress
from dsj_desktop.ui.scan_entry import ScanField, open_scanned
from dsj_desktop.ui.table_model import GREY, ORANGE, RED, Column, LazyTableModel, ListTableModel

OPERATOR_KEY = "results_operator"
SEARCH_DELAY_MS = 150


def deadline_brush(v: tuple[Any, ...]) -> Any:
    dl = v[1]
    if dl.is_overdue:
        return RED
    if dl.state is DeadlineState.DUE_SOON:
        return ORANGE
    if dl.state is DeadlineState.UNKNOWN:
        return GREY
    return None


def _when(text: str) -> str:
    return text[:16].replace("T", " ")


def result_columns() -> list[Column]:
    def c(header: str, fn: Any, key: str | None = None, width: int | None = None, **kw: Any) -> Column:
        return Column(header, lambda v: fn(v[0]), key, width=width, **kw)

    return [
        c("企业名称", lambda r: r.name, "name", 28),
        Column("状态", lambda v: v[0].status_text, "status", width=12,
               foreground=lambda v: RED if v[0].republish_needed else None),
        c("检查日期", lambda r: r.inspected_on.isoformat() if r.inspected_on else "", "inspected_on", 11),
        Column("录入期限", lambda v: v[1].due_text, "due", width=14, foreground=deadline_brush),
        Column("期限情况", lambda v: v[1].text, None, width=24, foreground=deadline_brush),
        c("检查结果", lambda r: r.category, "category", 26),
        c("隐患", lambda r: str(r.hazards) if r.category else "", None, 5, align_center=True),
        c("处置措施", lambda r: r.disposal, None, 12),
        c("检查人员", lambda r: "、".join(n for _, n in r.people), None, 20),
        c("统一社会信用代码", lambda r: r.uscc, "uscc", 20),
        c("抽查任务", lambda r: r.task_code, "task_code", 12),
        c("抽取场次", lambda r: r.session_id, None, 18),
        c("录入人", lambda r: r.entered_by, None, 8),
        c("录入时间", lambda r: _when(r.entered_at), "entered_at", 16),
        c("公示时间", lambda r: _when(r.published_at), None, 16),
    ]  # fmt: skip


def counts_html(c: results.Counts, days: int) -> str:
    def part(label: str, n: int, color: str | None = None) -> str:
        if color and n:
            return f'{label} <span style="color:{color}; font-weight:bold;">{n}</span>'
        return f"{label} {n}"

    parts = [part(s, c.by_status.get(s, 0)) for s in STATUSES]
    warn = [
        part("即将到期", c.due_soon, "#b36b00"),
        part("已逾期未录入", c.overdue, "#b00020"),
        part("逾期录入", c.late, "#b00020"),
    ]
    if c.unknown:
        warn.append(part("期限无法计算", c.unknown, "#8a8a8a"))
    return " · ".join(parts) + "　｜　" + " · ".join(warn) + f"　｜　录入期限：检查后 {days} 个工作日"


class ResultsTab(QWidget):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("tab-results")
        self.query = ResultQuery(db)
        self.sessions: list[results.SessionChoice] = []
        self.counts = results.Counts()

        self.counts_label = QLabel()
        self.counts_label.setObjectName("results-counts")
        self.banner = QFrame()
        self.banner.setObjectName("holiday-banner")
        self.banner.setStyleSheet(
            "#holiday-banner { background: #fff8e1; border: 1px solid #f0c36d; border-radius: 4px; }"
        )
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        banner_btn = QPushButton("录入节假日安排…")
        banner_btn.clicked.connect(self.edit_holidays)
        bl = QHBoxLayout(self.banner)
        bl.addWidget(self.banner_label, 1)
        bl.addWidget(banner_btn)

        self.search = QLineEdit()
        self.search.setObjectName("results-search")
        self.search.setPlaceholderText("搜索：企业名称、统一社会信用代码、场次、任务编号")
        self.search.setClearButtonEnabled(True)
        self.task_combo = QComboBox()
        self.task_combo.setObjectName("filter-task")
        self.task_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.session_combo = QComboBox()
        self.session_combo.setObjectName("filter-session")
        self.session_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("filter-status")
        self.status_combo.addItem("状态：全部", None)
        for s in STATUSES:
            self.status_combo.addItem(s, s)
        self.deadline_combo = QComboBox()
        self.deadline_combo.setObjectName("filter-deadline")
        self.deadline_combo.addItem("期限：全部", None)
        for k, label in DEADLINE_FILTERS.items():
            self.deadline_combo.addItem(label, k)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("搜索："))
        bar.addWidget(self.search, 1)
        bar.addWidget(self.task_combo)
        bar.addWidget(self.session_combo)
        bar.addWidget(self.status_combo)
        bar.addWidget(self.deadline_combo)
        self.scan = ScanField(self)
        bar.addWidget(self.scan)

        self.model = LazyTableModel(self.query, result_columns(), self.current_filter(), self)
        self.table = QTableView()
        self.table.setObjectName("table-results")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, self.table.horizontalHeader().sortIndicatorOrder())
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setStretchLastSection(True)
        for i, col in enumerate(self.model.columns):
            self.table.horizontalHeader().resizeSection(i, max(48, (col.width or 10) * 7 + 12))
        self.table.doubleClicked.connect(lambda _=None: self.enter_selected())

        self.btn_enter = QPushButton("录入结果…")
        self.btn_enter.setObjectName("btn-enter")
        self.btn_enter.setToolTip("选中一家录入或更正；选中多家则批量录入相同的结果")
        self.btn_inspected = QPushButton("登记检查日期…")
        self.btn_inspected.setToolTip("只登记已检查（结果稍后录入），录入期限从检查日期起算")
        self.btn_history = QPushButton("修改记录…")
        self.btn_publish = QPushButton("公示…")
        self.btn_publish.setObjectName("btn-publish")
        self.btn_import = QPushButton("导入 Excel…")
        self.btn_export = QPushButton("导出 Excel…")
        self.btn_template = QPushButton("下载模板…")
        self.btn_settings = QPushButton("节假日与期限…")
        self.btn_settings.setObjectName("btn-holidays")
        self.selection_label = QLabel()
        buttons = QHBoxLayout()
        for b in (self.btn_enter, self.btn_inspected, self.btn_history):
            buttons.addWidget(b)
        buttons.addWidget(self.selection_label)
        buttons.addStretch(1)
        for b in (self.btn_publish, self.btn_import, self.btn_export, self.btn_template, self.btn_settings):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.banner)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _: self._timer.start())
        self.task_combo.currentIndexChanged.connect(lambda _: self._task_changed())
        for combo in (self.session_combo, self.status_combo, self.deadline_combo):
            combo.currentIndexChanged.connect(lambda _: self.apply_filter())
        self.btn_enter.clicked.connect(self.enter_selected)
        self.scan.returnPressed.connect(lambda: self.enter_scanned(self.scan.take()))
        self.btn_inspected.clicked.connect(self.record_inspection)
        self.btn_history.clicked.connect(self.show_history)
        self.btn_publish.clicked.connect(self.publish)
        self.btn_import.clicked.connect(self.import_file)
        self.btn_export.clicked.connect(self.export_file)
        self.btn_template.clicked.connect(self.save_template)
        self.btn_settings.clicked.connect(self.edit_holidays)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.refresh()

    # -- filters --------------------------------------------------------------------------------

    def reload_filter_values(self) -> None:
        self.sessions = results.confirmed_session_choices(self.db)
        current = self.task_combo.currentData()
        self.task_combo.blockSignals(True)
        self.task_combo.clear()
        self.task_combo.addItem("抽查任务：全部", None)
        for code, name in dict.fromkeys((s.task_code, s.task_name) for s in self.sessions):
            self.task_combo.addItem(f"{code} {name}", code)
        self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(current)) if current else 0)
        self.task_combo.blockSignals(False)
        self._fill_sessions()

    def _fill_sessions(self) -> None:
        task = self.task_combo.currentData()
        current = self.session_combo.currentData()
        self.session_combo.blockSignals(True)
        self.session_combo.clear()
        self.session_combo.addItem("抽取场次：全部", None)
        for s in self.sessions:
            if task is None or s.task_code == task:
                self.session_combo.addItem(f"{s.session_id}（{s.draw_date}）", s.session_id)
        self.session_combo.setCurrentIndex(max(0, self.session_combo.findData(current)) if current else 0)
        self.session_combo.blockSignals(False)

    def _task_changed(self) -> None:
        self._fill_sessions()
        self.apply_filter()

    def current_filter(self) -> ResultFilter:
        return ResultFilter(
            text=self.search.text().strip(),
            task_code=self.task_combo.currentData(),
            session_id=self.session_combo.currentData(),
            status=self.status_combo.currentData(),
            deadline=self.deadline_combo.currentData(),
        )

    def set_deadline_filter(self, key: str | None) -> None:
        self.deadline_combo.setCurrentIndex(max(0, self.deadline_combo.findData(key)) if key else 0)

    def apply_filter(self) -> None:
        self._timer.stop()
        self.model.set_filter(self.current_filter())
        self.update_counts()
        self._update_buttons()

    def update_counts(self) -> None:
        q = self.query
        all_rows = results.read_rows(self.db)
        c = results.count(all_rows, q.calendar, q.days, q.on)
        text = counts_html(c, q.days)
        shown = self.model.rowCount()
        if shown != c.total:
            text += f"　｜　当前显示 {shown} 家"
        self.counts_label.setText(text)
        self.counts = c
        if c.missing_years:
            years = "、".join(str(y) for y in sorted(c.missing_years))
            self.banner_label.setText(
                f"<b>缺少 {years} 年节假日安排：</b>程序自带的法定节假日数据不含这一年，{c.unknown} 条检查结果的录入期限"
                "无法计算。请在国务院办公厅公布该年节假日安排后录入，程序不会自行推测。"
            )
        self.banner.setVisible(bool(c.missing_years))

    def refresh(self) -> None:
        self.reload_filter_values()
        self.apply_filter()

    def on_data_changed(self, kinds: data_hub.Kinds, source: object) -> None:
        """A confirmed draw lists its targets here at once (待检查)."""
        watched = (data_hub.DRAW, data_hub.RESULTS, data_hub.SETTINGS, "targets", "inspectors", "experts")
        if source is not self and data_hub.touches(kinds, *watched):
            self.refresh()

    # -- selection ------------------------------------------------------------------------------

    def selected_rows(self) -> list[ResultRow]:
        idx = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        out = []
        for r in idx:
            vals = self.model.values(r)
            if vals:
                out.append(vals[0])
        return out

    def _update_buttons(self) -> None:
        rows = self.selected_rows()
        self.btn_enter.setEnabled(bool(rows))
        self.btn_enter.setText(
            "批量录入结果…" if len(rows) > 1 else ("更正结果…" if rows and rows[0].category else "录入结果…")
        )
        self.btn_inspected.setEnabled(bool(rows) and all(not r.category for r in rows))
        self.btn_history.setEnabled(len(rows) == 1 and rows[0].result_id is not None)
        self.selection_label.setText(f"已选 {len(rows)} 家" if len(rows) > 1 else "")

    def select_keys(self, keys: set[tuple[str, str]]) -> None:
        sel = self.table.selectionModel()
        sel.clearSelection()
        for r in range(self.model.rowCount()):
            vals = self.model.values(r)
            if vals and vals[0].key in keys:
                self.table.selectRow(r) if len(keys) == 1 else sel.select(
                    self.model.index(r, 0), sel.SelectionFlag.Select | sel.SelectionFlag.Rows
                )

    # -- actions --------------------------------------------------------------------------------

    def operator(self) -> str:
        return str(remembered(self.db, OPERATOR_KEY, "") or "")

    def _remember(self, name: str) -> None:
        """The name typed as 录入人 is offered next time on this PC: a preference of whoever works
        here, not one of the bureau's settings (which operators, who enter results, may not change)."""
        if name and name != self.operator():
            remember(self.db, OPERATOR_KEY, name)

    def _after_save(self, keys: set[tuple[str, str]]) -> None:
        """The saved rows selected (the tab has reloaded already: the save was announced)."""
        self.select_keys(keys)

    def enter_selected(self) -> None:
        from dsj_desktop.ui.result_dialog import ResultDialog

        rows = self.selected_rows()
        if not rows:
            return
        dlg = ResultDialog(self.db, rows, operator=self.operator(), parent=self)
        if dlg.exec():
            self._remember(dlg.operator.text().strip())
            self._after_save({r.key for r in rows})

    def enter_scanned(self, text: str) -> Any:
        """The result form of the target whose paper was scanned (see ui.scan_entry)."""
        return open_scanned(self, text)

    def record_inspection(self) -> None:
        from dsj_desktop.ui.result_dialog import InspectionDialog

        rows = self.selected_rows()
        if not rows:
            return
        dlg = InspectionDialog(self.db, rows, operator=self.operator(), parent=self)
        if dlg.exec():
            self._remember(dlg.operator.text().strip())
            self._after_save({r.key for r in rows})

    def show_history(self) -> None:
        from dsj_desktop.ui.result_dialog import HistoryDialog

        rows = self.selected_rows()
        if len(rows) == 1 and rows[0].result_id is not None:
            HistoryDialog(self.db, rows[0], self).exec()

    def edit_holidays(self) -> None:
        from dsj_desktop.ui.holiday_dialog import HolidayDialog

        years = sorted(self.counts.missing_years)
        dlg = HolidayDialog(self.db, self, select_year=years[0] if years else None)
        dlg.exec()  # its writes are announced on the data hub

    def publish(self) -> None:
        dlg = PublishDialog(self.db, self.task_combo.currentData(), self.operator(), self)
        if dlg.exec():
            self._remember(dlg.operator.text().strip())

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "导入检查结果", str(Path.home()), "Excel 工作簿 (*.xlsx *.xlsm *.xls *.ods)"
        )
        if not path:
            return
        job = results.import_results(self.db, Path(path), operator=self.operator())
        WriteOp(self, "导入检查结果", job, changes={data_hub.RESULTS}).success(
            lambda summary: QMessageBox.information(self, "导入检查结果", summary.text())
        ).run()

    def export_file(self) -> None:
        default = str(Path.home() / f"检查结果-{date.today():%Y%m%d}.xlsx")
        path, _ = QFileDialog.getSaveFileName(self, "导出检查结果", default, "Excel 工作簿 (*.xlsx)")
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        out = run_with_progress(
            self,
            "导出检查结果",
            results.export_results(self.db, Path(path), task_code=self.task_combo.currentData()),
        )
        if not out.ok:
            report_failure(self, "导出检查结果", out)
            return
        QMessageBox.information(self, "导出检查结果", f"已导出 {out.value} 条到：\n{path}")

    def save_template(self) -> None:
        save_template(
            self, "检查结果导入模板.xlsx", lambda path: results.write_results_template(self.db, path)
        )


class PublishDialog(QDialog):
    """Publish per task or per period; lists the earlier publications."""

    def __init__(
        self, db: Database, task_code: str | None, operator: str, parent: QWidget | None = None
    ) -> None:
        from dsj_desktop.ui.result_dialog import date_edit

        super().__init__(parent)
        self.db = db
        self.outcome: result_publication.PublicationOutcome | None = None
        self.setObjectName("publish-dialog")
        self.setWindowTitle("公示检查结果")
        self.resize(760, 520)
        self.by_task = QRadioButton("按抽查任务公示")
        self.by_period = QRadioButton("按检查日期公示")
        group = QButtonGroup(self)
        group.addButton(self.by_task)
        group.addButton(self.by_period)
        self.task = QComboBox()
        self.task.setObjectName("publish-task")
        rows = results.read_rows(db)
        pubs = result_publication.read_publications(db)
        entered: dict[str, list[ResultRow]] = {}
        for r in rows:
            if r.category:
                entered.setdefault(r.task_code, []).append(r)
        for code, rs in entered.items():
            new = sum(1 for r in rs if r.status != PUBLISHED)
            self.task.addItem(f"{code} {rs[0].task_name}（已录入 {len(rs)} 家，待公示 {new} 家）", code)
        if task_code:
            self.task.setCurrentIndex(max(0, self.task.findData(task_code)))
        first, last = result_publication.default_period()
        self.date_from = date_edit(first)
        self.date_to = date_edit(last)
        period = QHBoxLayout()
        period.addWidget(self.date_from)
        period.addWidget(QLabel("至"))
        period.addWidget(self.date_to)
        period.addStretch(1)
        self.folder = QLineEdit(str(Path.home()))
        self.folder.setObjectName("publish-folder")
        browse = QPushButton("选择…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.operator = QLineEdit(operator)
        self.operator.setPlaceholderText("公示人姓名")
        self.by_task.setChecked(self.task.count() > 0)
        self.by_period.setChecked(self.task.count() == 0)
        form = QFormLayout()
        form.addRow(self.by_task, self.task)
        form.addRow(self.by_period, period)
        form.addRow("保存到文件夹", folder_row)
        form.addRow("公示人", self.operator)
        note = QLabel(
            "生成公示用的 Excel 和 PDF（横向 A4），只含：企业名称、统一社会信用代码、抽查事项、检查日期、检查结果、"
            "处置情况、检查机关；不含联系电话、身份证号、执法人员姓名和备注。生成后这些结果标记为“已公示”并记下时间。"
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #57606a;")
        self.history = ListTableModel(
            ("公示时间", "范围", "家数", "公示人", "文件"),
            [(_when(p.published_at), p.title, str(p.rows), p.published_by, "、".join(f["name"] for f in p.files))
             for p in reversed(pubs)],
        )  # fmt: skip
        view = QTableView()
        view.setObjectName("publication-history")
        view.setModel(self.history)
        view.verticalHeader().setVisible(False)
        view.horizontalHeader().setStretchLastSection(True)
        view.resizeColumnsToContents()
        buttons, self.go, _ = ok_cancel(self, lambda: self.run(mark=True), ok="生成并标记为已公示")
        self.draft = buttons.addButton("只生成草稿", QDialogButtonBox.ButtonRole.ActionRole)
        self.draft.clicked.connect(lambda: self.run(mark=False))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(QLabel("以往的公示："))
        layout.addWidget(view, 1)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "选择保存公示文件的文件夹", self.folder.text())
        if path:
            self.folder.setText(path)

    def run(self, *, mark: bool) -> None:
        from dsj_desktop.ui.result_dialog import pydate

        kwargs: dict[str, Any] = {}
        if self.by_task.isChecked():
            kwargs["task_code"] = self.task.currentData()
        else:
            kwargs["period"] = (pydate(self.date_from.date()), pydate(self.date_to.date()))
        job = result_publication.publish(
            self.db, Path(self.folder.text()), operator=self.operator.text().strip(), mark=mark, **kwargs
        )
        WriteOp(
            self, "公示检查结果", job, changes={data_hub.RESULTS} if mark else {data_hub.JOURNAL}
        ).success(lambda value: self._published(value, mark)).run()

    def _published(self, outcome: result_publication.PublicationOutcome, mark: bool) -> None:
        self.outcome = outcome
        files = "\n".join(str(p) for p in outcome.files)
        what = (
            f"已标记为已公示 {outcome.marked} 家（共 {outcome.rows} 家）。"
            if mark
            else "草稿未标记为已公示。"
        )
        QMessageBox.information(self, "公示检查结果", f"已生成公示文件：\n{files}\n{what}")
        if mark:
            self.accept()
