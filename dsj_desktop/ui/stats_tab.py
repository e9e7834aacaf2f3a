"""统计: the statistics of a plan year as cards, QPainter charts and tables; PNG / PDF / Excel export
and the year's archive. Every number comes from :func:`dsj_desktop.services.stats.year_statistics`,
computed off the GUI thread (a city's directory and its draws take a good part of a second): the tab
says “正在统计……” meanwhile and keeps the figures it shows (of the same year) until the new ones
arrive; the PNG / PDF / Excel exports, which write the figures shown, wait for them. The archive
computes its own statistics when it is made."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.io.exporter import save_workbook
from dsj_desktop.keys import KeyStore
from dsj_desktop.progress import Progress
from dsj_desktop.publish import stats_report
from dsj_desktop.publish.archive import export_archive
from dsj_desktop.services import settings, stats
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.charts import ChartWidget
from dsj_desktop.ui.runner import BackgroundJob, Outcome, report_failure, run_with_progress
from dsj_desktop.ui.table_model import RED, ListTableModel


class _Card(QFrame):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stat-card")
        self.setStyleSheet(
            "#stat-card { background: #ffffff; border: 1px solid #d0d7de; border-radius: 6px; }"
        )
        self.title = QLabel(title)
        self.title.setStyleSheet("color: #57606a;")
        self.value = QLabel("—")
        self.value.setStyleSheet("font-size: 18pt; font-weight: bold; color: #1f2328;")
        self.note = QLabel()
        self.note.setStyleSheet("color: #57606a;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.title)
        lay.addWidget(self.value)
        lay.addWidget(self.note)

    def set(self, value: str, note: str, alarm: bool = False) -> None:
        self.value.setText(value)
        self.note.setText(note)
        color = "#b00020" if alarm else "#1f2328"
        self.value.setStyleSheet(f"font-size: 18pt; font-weight: bold; color: {color};")


class StatsTab(QWidget):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("tab-stats")
        self.stats: stats.YearStats | None = None  # the figures shown (None: none)
        self.stale = True
        self._job: BackgroundJob | None = None
        self._generation = 0

        self.year = QComboBox()
        self.year.setObjectName("stats-year")
        self.btn_refresh = QPushButton("刷新")
        self.btn_png = QPushButton("导出图表 PNG…")
        self.btn_pdf = QPushButton("年度统计报告 PDF…")
        self.btn_pdf.setObjectName("btn-stats-pdf")
        self.btn_xlsx = QPushButton("统计表 Excel…")
        self.btn_archive = QPushButton("导出年度档案…")
        self.btn_archive.setObjectName("btn-archive")
        self.btn_archive.setToolTip(
            "抽取记录、检查结果、公示表、统计报告和 SHA-256 清单，存为一个文件夹（记录至少保存 5 年）"
        )
        top = QHBoxLayout()
        top.addWidget(QLabel("统计年度："))
        top.addWidget(self.year)
        top.addWidget(self.btn_refresh)
        self.status = QLabel()
        self.status.setObjectName("stats-status")
        # (The room left beside the buttons, never more: a long text is cut, whole in its tooltip.)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top.addWidget(self.status, 1)
        for b in (self.btn_png, self.btn_pdf, self.btn_xlsx, self.btn_archive):
            top.addWidget(b)

        self.cards = {
            "plan": _Card("计划完成率"),
            "inspect": _Card("检查完成率"),
            "black": _Card("黑名单覆盖"),
            "deadline": _Card("录入期限"),
        }
        cards = QHBoxLayout()
        for c in self.cards.values():
            cards.addWidget(c)

        self.chart_host = QWidget()
        self.chart_grid = QGridLayout(self.chart_host)
        self.chart_grid.setContentsMargins(4, 4, 4, 4)
        self.chart_grid.setSpacing(10)
        self.chart_widgets: list[ChartWidget] = []
        scroll = QScrollArea()
        scroll.setObjectName("stats-charts")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.chart_host)

        self.table_tabs = QTabWidget()
        self.table_tabs.setObjectName("stats-tables")
        self.table_models: list[ListTableModel] = []
        self.notes: list[QLabel] = []

        self.views = QTabWidget()
        self.views.addTab(scroll, "图表")
        self.views.addTab(self.table_tabs, "统计表")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(cards)
        layout.addWidget(self.views, 1)

        self.year.currentIndexChanged.connect(lambda _: self.refresh())
        self.btn_refresh.clicked.connect(self.refresh)
        self.btn_png.clicked.connect(self.export_png)
        self.btn_pdf.clicked.connect(self.export_pdf)
        self.btn_xlsx.clicked.connect(self.export_xlsx)
        self.btn_archive.clicked.connect(self.export_archive)
        self.reload_years()
        self._update_buttons()

    def reload_years(self) -> None:
        years = stats.read_plan_years(self.db)
        current = self.year.currentData()
        self.year.blockSignals(True)
        self.year.clear()
        for y in years:
            self.year.addItem(f"{y} 年", y)
        self.year.setCurrentIndex(max(0, self.year.findData(current)) if current else 0)
        self.year.blockSignals(False)

    def on_data_changed(self, kinds: data_hub.Kinds, source: object) -> None:
        if data_hub.touches(
            kinds, data_hub.PLAN, data_hub.DRAW, data_hub.RESULTS, data_hub.SETTINGS, "targets"
        ):
            self.reload_years()
            self.mark_stale()

    def mark_stale(self) -> None:
        self.stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        if self.stale:
            self.refresh()
        super().showEvent(event)

    @property
    def computing(self) -> bool:
        return self._job is not None

    def refresh(self) -> None:
        """Compute the chosen year's statistics again, in the background. The figures shown stay (or,
        of another year, are cleared) until the new ones arrive; a result asked for earlier is dropped."""
        self.stop()
        year = self.year.currentData()
        if year is None:
            return
        if self.stats is not None and self.stats.year != int(year):
            self._clear()
        self.stale = False
        job = BackgroundJob(stats.year_statistics_job(self.db, int(year)))
        job.setProperty("generation", self._generation)
        job.stepped.connect(self._on_step)
        job.finished.connect(self._on_done)
        self._job = job
        self._show_busy("正在统计……")
        self._update_buttons()
        job.start()

    def stop(self, wait: bool = False) -> None:
        """Stop the statistics being computed (its result, if it still comes, is dropped)."""
        self._generation += 1  # whatever it still sends is dropped
        if self._job is not None:
            self._job.cancel()
            if wait:
                self._job.wait()
            self._job = None
            self._update_buttons()

    def shutdown(self) -> None:
        """Stop the background work (the window is closing)."""
        self.stop(wait=True)

    def _current(self) -> bool:
        job = self.sender()
        return job is not None and bool(job.property("generation") == self._generation)

    @Slot(object)
    def _on_step(self, step: object) -> None:
        if self._current() and isinstance(step, Progress) and step.total:
            self._show_busy(f"正在统计（{step.done}/{step.total}）……")  # (the draws' ratios)

    @Slot(object)
    def _on_done(self, out: Outcome) -> None:
        if not self._current():
            return  # asked for before the year or the data changed: not what the user sees now
        self._job = None
        if out.ok:
            self._show(out.value)
        elif not out.cancelled:
            self._clear()
            self._show_status("统计失败，请点“刷新”重试", alarm=True)
            report_failure(self, "统计", out)
        self._update_buttons()

    def _show_busy(self, text: str) -> None:
        self._show_status(text + ("下面仍是上次的结果" if self.stats is not None else ""))

    def _show_status(self, text: str, alarm: bool = False) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.setStyleSheet("color: #b00020;" if alarm else "color: #57606a;")

    def _update_buttons(self) -> None:
        """The exports write the figures shown: only when they are there and no newer are coming."""
        ready = self.stats is not None and self._job is None
        for b in (self.btn_png, self.btn_pdf, self.btn_xlsx):
            b.setEnabled(ready)
            b.setToolTip("" if ready else "统计完成后才能导出")

    def _clear(self) -> None:
        """No figures (another year is being computed, or the computation failed)."""
        self.stats = None
        for card in self.cards.values():
            card.set("—", "")
        for w in self.chart_widgets:
            w.setParent(None)
        self.chart_widgets = []
        while self.table_tabs.count():  # (a removed page is not deleted by the tab widget)
            page = self.table_tabs.widget(0)
            self.table_tabs.removeTab(0)
            page.deleteLater()
        self.table_models, self.notes = [], []

    def _show(self, st: stats.YearStats) -> None:
        self.stats = st
        self._show_status(f"已按 {st.on.isoformat()} 的数据统计")
        pc, ic, bc = st.plan_completion, st.inspection_completion, st.blacklist_coverage
        self.cards["plan"].set(pc.pct_text, f"已确认抽取 {pc.num} / 计划任务 {pc.den}")
        self.cards["inspect"].set(ic.pct_text, f"已检查 {ic.num} / 应检查 {ic.den}")
        self.cards["black"].set(
            bc.pct_text if bc.den else "—",
            f"已抽中 {bc.num} / 黑名单 {bc.den}" + ("" if st.blacklist_ok else "，未达 100%"),
            alarm=not st.blacklist_ok,
        )
        d = st.deadlines
        self.cards["deadline"].set(
            f"逾期 {d.overdue + d.late}",
            f"未录入 {d.overdue}，逾期录入 {d.late}，即将到期 {d.due_soon}",
            alarm=bool(d.overdue + d.late),
        )
        self._fill_charts(st)
        self._fill_tables(st)

    def _fill_charts(self, st: stats.YearStats) -> None:
        charts = st.charts()
        if len(self.chart_widgets) != len(charts):
            for w in self.chart_widgets:
                w.setParent(None)
            self.chart_widgets = [ChartWidget(c) for c in charts]
            for i, w in enumerate(self.chart_widgets):
                w.setObjectName(f"chart-{i}")
                self.chart_grid.addWidget(w, i // 2, i % 2, Qt.AlignmentFlag.AlignTop)
            self.chart_grid.setRowStretch(len(charts) // 2 + 1, 1)
        else:
            for w, c in zip(self.chart_widgets, charts, strict=True):
                w.set_chart(c)
        self.chart_grid.activate()

    def _fill_tables(self, st: stats.YearStats) -> None:
        tables = st.tables()
        current = self.table_tabs.currentIndex()
        if len(self.table_models) != len(tables):
            self.table_tabs.clear()
            self.table_models, self.notes = [], []
            for t in tables:
                page = QWidget()
                lay = QVBoxLayout(page)
                note = QLabel()
                note.setWordWrap(True)
                model = ListTableModel(t.headers)
                view = QTableView()
                view.setModel(model)
                view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
                view.setAlternatingRowColors(True)
                view.horizontalHeader().setStretchLastSection(True)
                view.verticalHeader().setVisible(False)
                lay.addWidget(note)
                lay.addWidget(view, 1)
                self.table_tabs.addTab(page, t.title)
                self.table_models.append(model)
                self.notes.append(note)
        for i, (t, model, note) in enumerate(zip(tables, self.table_models, self.notes, strict=True)):
            model.set_rows([h or "项目" for h in t.headers], t.rows)
            note.setText(t.note)
            note.setVisible(bool(t.note))
            if t.title == "黑名单对象覆盖":
                note.setStyleSheet("" if st.blacklist_ok else "color: #b00020; font-weight: bold;")
                model.foreground = lambda r, c: RED
            if t.title == "各抽取场次实际比例":
                model.foreground = lambda r, c, rows=t.rows: RED if rows[r][-1] == "未达到" else None
            found = self.table_tabs.widget(i).findChild(QTableView)
            if found is not None:
                found.resizeColumnsToContents()
        self.table_tabs.setCurrentIndex(max(0, current))

    # -- export ---------------------------------------------------------------------------------

    def _year(self) -> int:
        return int(self.year.currentData())

    def export_png(self) -> None:
        if self.stats is None or self.computing:
            return
        folder = QFileDialog.getExistingDirectory(self, "选择保存图表的文件夹", str(Path.home()))
        if not folder:
            return
        written = []
        try:
            for i, w in enumerate(self.chart_widgets, start=1):
                path = Path(folder) / f"{self._year()}年统计图{i}-{w.chart.title.split('（')[0]}.png"
                w.save_png(path)
                written.append(path)
        except OSError as exc:
            QMessageBox.warning(self, "导出图表", str(exc))
            return
        QMessageBox.information(self, "导出图表", f"已导出 {len(written)} 张图表到：\n{folder}")

    def export_pdf(self) -> None:
        if self.stats is None or self.computing:
            return
        default = str(Path.home() / stats_report.default_pdf_name(self._year()))
        path, _ = QFileDialog.getSaveFileName(self, "保存年度统计报告", default, "PDF 文件 (*.pdf)")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        try:
            pages = stats_report.write_stats_pdf(
                self.stats, Path(path), bureau=settings.bureau_name(self.db), keys=KeyStore(self.db.data_dir)
            )
        except Exception as exc:  # UserError messages are Chinese already
            QMessageBox.warning(self, "年度统计报告", str(exc))
            return
        QMessageBox.information(self, "年度统计报告", f"已保存（{pages} 页）：\n{path}")

    def export_xlsx(self) -> None:
        if self.stats is None or self.computing:
            return
        default = str(Path.home() / f"{self._year()}年度抽查工作统计.xlsx")
        path, _ = QFileDialog.getSaveFileName(self, "保存统计表", default, "Excel 工作簿 (*.xlsx)")
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        try:
            save_workbook(stats_report.tables_workbook(self.stats), Path(path))
        except Exception as exc:
            QMessageBox.warning(self, "统计表", str(exc))
            return
        QMessageBox.information(self, "统计表", f"已保存：\n{path}")

    def export_archive(self) -> None:
        parent = QFileDialog.getExistingDirectory(self, "选择存放年度档案的位置", str(Path.home()))
        if not parent:
            return
        folder = Path(parent) / f"抽查档案-{self._year()}"
        n = 2
        while folder.exists():
            folder = Path(parent) / f"抽查档案-{self._year()}-{n}"
            n += 1
        out = run_with_progress(self, "导出年度档案", export_archive(self.db, self._year(), folder))
        if not out.ok:
            report_failure(self, "导出年度档案", out)
            return
        QMessageBox.information(self, "导出年度档案", out.value.text())
