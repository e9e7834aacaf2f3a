"""完整性检查 in the GUI: on demand with a progress dialog and a report (``run_integrity_check``),
or in the background at start (``BackgroundIntegrityCheck``, which emits ``finished(report)``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.publish.integrity_report import write_integrity_report
from dsj_desktop.services import integrity
from dsj_desktop.services.integrity import IntegrityReport
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.ops import WriteOp
from dsj_desktop.ui.runner import BackgroundJob, Outcome
from dsj_desktop.ui.table_model import ListTableModel
from dsj_desktop.ui.trust_widgets import note_label

TITLE = "完整性检查"
WHAT_TO_DO = (
    "怎么办：① 先不要继续修改数据；② 点“导出为文本…”保存这份报告；③ 与管理员核实是谁、为什么用其他工具改过"
    "数据库；④ 如需回到改动之前，可从改动之前的备份恢复（恢复前会自动备份当前数据）。"
)


def summary_text(report: IntegrityReport) -> str:
    counts = (
        f"数据行 {report.rows_checked:,} 行、操作日志 {report.journal_entries:,} 条、"
        f"抽取记录 {report.records_checked:,} 份"
    )
    if report.ok:
        return f"全部一致：{counts}都与本程序写入时相同，未发现程序以外的改动。"
    return f"发现 {len(report.findings):,} 处问题（已核对{counts}）：可能有人用其他工具改过数据库。"


class IntegrityReportDialog(QDialog):
    def __init__(self, report: IntegrityReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self.setObjectName("integrity-report")
        self.setWindowTitle(f"{TITLE}报告")
        self.summary = QLabel(summary_text(report))
        self.summary.setObjectName("integrity-summary")
        self.summary.setWordWrap(True)
        colour = "#1a7f37" if report.ok else "#b00020"
        self.summary.setStyleSheet(f"font-size: 12pt; font-weight: bold; color: {colour};")
        self.model = ListTableModel(
            ("类别", "表", "行", "说明"), [(f.area, f.table, f.row, f.detail) for f in report.findings]
        )
        self.table = QTableView()
        self.table.setObjectName("integrity-findings")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        for col, cap in ((0, 110), (1, 160), (2, 330)):
            header.resizeSection(col, min(header.sectionSize(col), cap))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("导出为文本…", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self.export_text)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        if report.ok:
            layout.addWidget(
                note_label(
                    "检查了：数据库文件的结构、保护触发器、操作日志的哈希链和签名、每一行数据的封存、"
                    "每份抽取记录的签名。"
                )
            )
            self.table.hide()
            self.resize(560, 160)
        else:
            layout.addWidget(self.table, 1)
            layout.addWidget(note_label(WHAT_TO_DO))
            self.resize(940, 520)
        layout.addWidget(self.buttons)

    def export_text(self) -> Path | None:
        default = str(Path.home() / f"完整性检查报告-{date.today():%Y%m%d}.txt")
        path, _ = QFileDialog.getSaveFileName(self, "导出完整性检查报告", default, "文本文件 (*.txt)")
        if not path:
            return None
        try:
            p = write_integrity_report(self.report, Path(path))
        except UserError as exc:
            QMessageBox.warning(self, "导出", str(exc))
            return None
        QMessageBox.information(self, "导出", f"已导出到：\n{p}")
        return p


def show_report(report: IntegrityReport, parent: QWidget | None = None) -> None:
    IntegrityReportDialog(report, parent).exec()


def run_integrity_check(db: Database, parent: QWidget | None = None) -> IntegrityReport | None:
    """Check now (progress dialog), show the report, return it (None when it failed or was cancelled)."""
    out = WriteOp(parent, TITLE, integrity.check_and_record(db), changes={data_hub.JOURNAL}).run()
    if not out.ok:
        return None
    report: IntegrityReport = out.value
    show_report(report, parent)
    return report


class BackgroundIntegrityCheck(QObject):
    """The check at start, without a dialog: ``start()``; later ``finished(report)`` (or
    ``failed(message)``). Show a problem with :func:`show_report`."""

    finished = Signal(object)  # IntegrityReport
    failed = Signal(str)

    def __init__(self, db: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.report: IntegrityReport | None = None
        self._job: BackgroundJob | None = None

    def start(self) -> None:
        if self.running:
            return
        self.report = None
        self._job = BackgroundJob(
            integrity.check_and_record(self.db, "（启动时）")
        )  # no Qt parent: see BackgroundJob
        self._job.finished.connect(self._done)
        self._job.start()

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def wait(self, timeout_s: float = 60.0) -> bool:
        return self._job is None or self._job.wait(timeout_s)

    @Slot(object)
    def _done(self, out: Outcome) -> None:
        if out.ok:
            self.report = out.value
            self.finished.emit(out.value)
        elif not out.cancelled:
            self.failed.emit(str(out.error))


__all__ = [
    "BackgroundIntegrityCheck",
    "IntegrityReportDialog",
    "run_integrity_check",
    "show_report",
    "summary_text",
]
