"""The import wizard: file → sheet → columns → preview with every problem listed → import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.codelists import LIST_TITLES
from dsj_desktop.domain.fields import Kind, display_value
from dsj_desktop.domain.specs import TableSpec
from dsj_desktop.errors import UserError
from dsj_desktop.io.excel import (
    HEADER_SCAN_ROWS,
    SheetInfo,
    auto_mapping,
    column_letter,
    find_header_row,
    list_sheets,
    read_sheet,
)
from dsj_desktop.io.importer import ImportRefused, ImportSummary, import_directory
from dsj_desktop.progress import Job
from dsj_desktop.ui.runner import report_failure, run_with_progress
from dsj_desktop.ui.table_model import ListTableModel

NOT_IMPORTED = "（不导入）"

# An import job for the wizard: (path, *, sheet, mapping, header_row, add_unknown_codes, dry_run).
# The default imports a directory; the annual plan passes its own (import_plan).
Importer = Callable[..., Job[ImportSummary]]


class ImportWizard(QWizard):
    def __init__(
        self,
        db: Database,
        spec: TableSpec,
        parent: QWidget | None = None,
        path: str = "",
        *,
        importer: Importer | None = None,
        new_codes: bool = True,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.spec = spec
        self.importer: Importer = importer or (lambda p, **kw: import_directory(db, spec, p, **kw))
        self.new_codes = new_codes  # whether unknown code-list values may be added by the import
        self.path = Path(path) if path else None
        self.sheets: list[SheetInfo] = []
        self.sheet: str | None = None
        self.header_row = 1
        self.mapping: dict[str, int] = {}
        self.add_codes = False
        self.summary: ImportSummary | None = None
        self.setWindowTitle(f"导入{spec.title}")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.setButtonText(QWizard.WizardButton.NextButton, "下一步 >")
        self.setButtonText(QWizard.WizardButton.BackButton, "< 上一步")
        self.setButtonText(QWizard.WizardButton.FinishButton, "导入")
        self.setButtonText(QWizard.WizardButton.CancelButton, "取消")
        self.resize(820, 600)
        self.file_page = FilePage(self)
        self.sheet_page = SheetPage(self)
        self.mapping_page = MappingPage(self)
        self.preview_page = PreviewPage(self)
        for page in (self.file_page, self.sheet_page, self.mapping_page, self.preview_page):
            self.addPage(page)

    def accept(self) -> None:
        assert self.path is not None
        job = self.importer(
            self.path,
            sheet=self.sheet,
            mapping=self.mapping,
            header_row=self.header_row,
            add_unknown_codes=self.add_codes,
        )
        out = run_with_progress(self, f"导入{self.spec.title}", job)
        if not out.ok:
            report_failure(self, f"导入{self.spec.title}", out)
            return
        self.summary = out.value
        super().accept()


class FilePage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 1 步：选择 Excel 文件")
        self.setSubTitle(
            f"选择要导入的{wizard.spec.title}工作簿（.xlsx / .xls / .ods）。导入前会检查每一行，"
            "有任何问题时整个文件都不导入，数据库不会被改动。"
        )
        self.edit = QLineEdit(str(wizard.path) if wizard.path else "")
        self.edit.setObjectName("file-edit")
        browse = QPushButton("浏览…")
        browse.clicked.connect(self.browse)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.edit.textChanged.connect(lambda _: self.completeChanged.emit())

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "选择 Excel 文件",
            str(Path.home()),
            "Excel 工作簿 (*.xlsx *.xlsm *.xls *.xlsb *.ods);;所有文件 (*)",
        )
        if path:
            self.edit.setText(path)

    def isComplete(self) -> bool:
        return bool(self.edit.text().strip())

    def validatePage(self) -> bool:
        path = Path(self.edit.text().strip())
        try:
            self.w.sheets = list_sheets(path)
        except UserError as exc:
            self.error.setText(str(exc))
            return False
        self.error.clear()
        self.w.path = path
        return True


class SheetPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 2 步：选择工作表")
        self.setSubTitle("选择数据所在的工作表。隐藏的工作表也列出，但通常不是要导入的表。")
        self.list = QListWidget()
        self.list.setObjectName("sheet-list")
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        self.list.currentRowChanged.connect(lambda _: self.completeChanged.emit())

    def initializePage(self) -> None:
        self.list.clear()
        first_visible = -1
        for i, s in enumerate(self.w.sheets):
            item = QListWidgetItem(s.name + ("" if s.visible else "（隐藏）"))
            item.setData(Qt.ItemDataRole.UserRole, s.name)
            self.list.addItem(item)
            if s.visible and first_visible < 0:
                first_visible = i
        self.list.setCurrentRow(max(first_visible, 0))

    def isComplete(self) -> bool:
        return self.list.currentItem() is not None

    def validatePage(self) -> bool:
        self.w.sheet = self.list.currentItem().data(Qt.ItemDataRole.UserRole)
        return True


class MappingPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 3 步：核对列的对应关系")
        self.setSubTitle(
            "程序已按列名自动对应（包括“信用代码”“单位名称”等常见写法）。请核对；必填项必须对应到某一列。"
        )
        self.rows: list[list[Any]] = []
        self.header_spin = QSpinBox()
        self.header_spin.setObjectName("header-row")
        self.header_spin.setRange(1, HEADER_SCAN_ROWS)
        self.header_spin.setPrefix("第 ")
        self.header_spin.setSuffix(" 行")
        self.combos: dict[str, QComboBox] = {}
        form = QFormLayout()
        form.addRow("表头所在行：", self.header_spin)
        for f in wizard.spec.fields:
            combo = QComboBox()
            combo.setObjectName(f"map-{f.attr}")
            combo.currentIndexChanged.connect(lambda _: self.completeChanged.emit())
            self.combos[f.attr] = combo
            form.addRow(f.header + ("（必填）" if f.required else ""), combo)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        inner = QWidget()
        inner.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error)
        self.header_spin.valueChanged.connect(lambda v: self.fill_columns(v - 1, auto=True))

    def initializePage(self) -> None:
        assert self.w.path is not None
        try:
            _, self.rows = read_sheet(self.w.path, self.w.sheet, max_rows=HEADER_SCAN_ROWS + 1)
        except UserError as exc:
            self.rows = []
            self.error.setText(str(exc))
        hdr = find_header_row(self.rows, self.w.spec.fields) if self.rows else None
        self.header_spin.blockSignals(True)
        self.header_spin.setValue((hdr or 0) + 1)
        self.header_spin.blockSignals(False)
        self.fill_columns(hdr or 0, auto=True)

    def fill_columns(self, hdr: int, auto: bool) -> None:
        header = self.rows[hdr] if hdr < len(self.rows) else []
        mapping = auto_mapping(header, self.w.spec.fields) if auto else self.w.mapping
        labels = [f"{column_letter(j)} 列：{'' if c is None else c}" for j, c in enumerate(header)]
        for attr, combo in self.combos.items():
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(NOT_IMPORTED, None)
            for j, label in enumerate(labels):
                combo.addItem(label, j)
            j = mapping.get(attr)
            combo.setCurrentIndex(0 if j is None else j + 1)
            combo.blockSignals(False)
        self.completeChanged.emit()

    def current_mapping(self) -> dict[str, int]:
        return {a: c.currentData() for a, c in self.combos.items() if c.currentData() is not None}

    def isComplete(self) -> bool:
        mapping = self.current_mapping()
        missing = [f.header for f in self.w.spec.fields if f.required and f.attr not in mapping]
        dupes = len(mapping) != len(set(mapping.values()))
        if missing:
            self.error.setText("还没有对应的必填项：" + "、".join(missing))
        elif dupes:
            self.error.setText("同一列不能对应两个项目。")
        else:
            self.error.clear()
        return not missing and not dupes

    def validatePage(self) -> bool:
        self.w.mapping = self.current_mapping()
        self.w.header_row = self.header_spin.value()
        return True


class PreviewPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.ok = False
        self.setTitle("第 4 步：检查与预览")
        self.summary = QLabel()
        self.summary.setObjectName("preview-summary")
        self.summary.setWordWrap(True)
        self.add_codes = QCheckBox("把代码表中还没有的行业领域、所属区域加入代码表")
        self.add_codes.setObjectName("add-codes")
        # Only single-value code-list columns can take new values during an import.
        self.add_codes.setVisible(
            wizard.new_codes and any(f.codelist and f.kind is Kind.CODELIST for f in wizard.spec.fields)
        )
        self.problems = QPlainTextEdit()
        self.problems.setObjectName("problems")
        self.problems.setReadOnly(True)
        self.preview_model = ListTableModel([f.header for f in wizard.spec.fields])
        self.table = QTableView()  # the first rows as they will be stored
        self.table.setObjectName("preview-table")
        self.table.setModel(self.preview_model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.add_codes)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.table, 1)
        self.add_codes.toggled.connect(lambda _: self.check())

    def initializePage(self) -> None:
        self.check()

    def check(self) -> None:
        assert self.w.path is not None
        self.w.add_codes = self.add_codes.isChecked()
        job = self.w.importer(
            self.w.path,
            sheet=self.w.sheet,
            mapping=self.w.mapping,
            header_row=self.w.header_row,
            add_unknown_codes=self.w.add_codes,
            dry_run=True,
        )
        out = run_with_progress(self, "检查文件", job)
        self.ok = out.ok
        if out.ok:
            s: ImportSummary = out.value
            text = (
                f"检查通过：共 {s.rows} 行，导入后将新增 {s.added}，更新 {s.updated}，未变 {s.unchanged}。"
                f"文件中没有的记录保持不变。"
            )
            if s.restored:
                text += f"其中 {s.restored} 条已归档的记录将被恢复。"
            for name, vals in s.codes_added.items():
                text += f"\n将加入{LIST_TITLES.get(name, name)}代码表：{'、'.join(vals)}"
            for note in s.notes:
                text += f"\n{note.strip()}"
            if s.ignored_headers:
                text += f"\n以下列不导入：{'、'.join(s.ignored_headers)}"
            self.summary.setText(text)
            self.summary.setStyleSheet("color: #1b5e20;")
            self.problems.hide()
            self.table.show()
            self._fill_preview(s.preview)
        else:
            self.table.hide()
            self.problems.show()
            if isinstance(out.error, ImportRefused):
                err = out.error
                coded = {f.header for f in self.w.spec.fields if f.codelist and f.kind is Kind.CODELIST}
                only_codes = bool(err.problems) and all(p.header in coded for p in err.problems)
                if only_codes and not self.add_codes.isHidden() and not self.add_codes.isChecked():
                    # The file may well be right: the code list is what is new (a first import).
                    self.summary.setText(
                        f"发现 {err.total} 处{'、'.join(sorted(coded))}不在代码表中。如果这些值是对的（例如本县的乡镇"
                        "第一次导入），请勾选上方“把代码表中还没有的行业领域、所属区域加入代码表”；"
                        "如果是写错了，请在 Excel 中改正后重新选择文件："
                    )
                else:
                    self.summary.setText(
                        f"发现 {err.total} 处问题，不能导入。请在 Excel 中改正后重新选择文件："
                    )
                self.problems.setPlainText("\n".join(p.text() for p in err.problems))
                if err.total > len(err.problems):
                    self.problems.appendPlainText(f"……另有 {err.total - len(err.problems)} 处问题未列出。")
            elif isinstance(out.error, UserError):
                self.summary.setText("不能导入：")
                self.problems.setPlainText(str(out.error))
            else:
                report_failure(self, "检查文件", out)
                self.summary.setText("检查时出错。")
            self.summary.setStyleSheet("color: #b00020;")
        self.completeChanged.emit()

    def _fill_preview(self, records: list[dict[str, Any]]) -> None:
        fields = self.w.spec.fields
        rows = [[display_value(f, rec.get(f.attr)) for f in fields] for rec in records]
        self.preview_model.set_rows([f.header for f in fields], rows)
        self.table.resizeColumnsToContents()

    def isComplete(self) -> bool:
        return self.ok
