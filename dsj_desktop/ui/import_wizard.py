"""The import wizard: file → sheet → columns → preview with every problem listed → import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.fields import FieldSpec, Kind, display_value
from dsj_desktop.domain.plan_specs import PLAN_ROWS
from dsj_desktop.domain.specs import TableSpec
from dsj_desktop.errors import UserError
from dsj_desktop.io.excel import (
    HEADER_SCAN_ROWS,
    SheetInfo,
    auto_mapping,
    column_letter,
    find_header_row,
    header_labels,
    list_sheets,
    read_sheet,
)
from dsj_desktop.io.importer import ImportRefused, ImportSummary, UnconfirmedColumns, import_directory
from dsj_desktop.progress import Job
from dsj_desktop.services.plan import PUBLISHED_FIELDS, PlanChoicesNeeded, TaskChoice, is_published_layout
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.ops import WriteOp
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
        self.ignore_columns: list[str] = []  # columns the draw depends on, confirmed as not imported
        self.plan_choices: dict[str, dict[str, str]] = {}  # a published plan table: choices per task
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
            ignore_columns=self.ignore_columns,
            **self.choice_args(),
        )
        changes = {self.spec.kind, data_hub.CODES} if self.add_codes else {self.spec.kind}
        WriteOp(self, f"导入{self.spec.title}", job, changes=changes).success(self._imported).run()

    def _imported(self, summary: ImportSummary) -> None:
        self.summary = summary
        super().accept()

    def choice_args(self) -> dict[str, Any]:
        return {"choices": self.plan_choices} if self.plan_choices else {}


class FilePage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 1 步：选择 Excel 文件")
        self.setSubTitle(
            f"选择要导入的{wizard.spec.title}工作簿（.xlsx / .xls / .ods）或 CSV 文件。导入前会检查每一行，"
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
            "Excel 工作簿或 CSV 文件 (*.xlsx *.xlsm *.xls *.xlsb *.ods *.et *.csv);;所有文件 (*)",
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
        self.span_note = QLabel()
        self.span_note.setObjectName("header-span")
        self.header_spin = QSpinBox()
        self.header_spin.setObjectName("header-row")
        self.header_spin.setRange(1, HEADER_SCAN_ROWS)
        self.header_spin.setPrefix("第 ")
        self.header_spin.setSuffix(" 行")
        self.combos: dict[str, QComboBox] = {}
        form = QFormLayout()
        head = QHBoxLayout()
        head.addWidget(self.header_spin)
        head.addWidget(self.span_note, 1)
        form.addRow("表头所在行：", head)
        self.form = form
        self.fields: tuple[FieldSpec, ...] = ()
        self._build(wizard.spec.fields)
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

    def _build(self, fields: Sequence[FieldSpec]) -> None:
        """One row per field (the published plan table has 抽查时间 and fewer required columns)."""
        if tuple(fields) == self.fields:
            return
        while self.form.rowCount() > 1:
            self.form.removeRow(1)
        self.combos.clear()
        self.fields = tuple(fields)
        for f in fields:
            combo = QComboBox()
            combo.setObjectName(f"map-{f.attr}")
            combo.currentIndexChanged.connect(lambda _: self.completeChanged.emit())
            self.combos[f.attr] = combo
            self.form.addRow(f.header + ("（必填）" if f.required else ""), combo)

    def initializePage(self) -> None:
        assert self.w.path is not None
        try:
            _, self.rows = read_sheet(self.w.path, self.w.sheet, max_rows=HEADER_SCAN_ROWS + 1)
        except UserError as exc:
            self.rows = []
            self.error.setText(str(exc))
        fields: Sequence[FieldSpec] = self.w.spec.fields
        if self.w.spec.kind == PLAN_ROWS.kind and self.rows:
            try:
                if is_published_layout(self.w.path, self.w.sheet, None):
                    fields = PUBLISHED_FIELDS
            except UserError:
                pass
        self._build(fields)
        hdr = find_header_row(self.rows, self.fields) if self.rows else None
        self.header_spin.blockSignals(True)
        self.header_spin.setValue((hdr or 0) + 1)
        self.header_spin.blockSignals(False)
        self.fill_columns(hdr or 0, auto=True)

    def fill_columns(self, hdr: int, auto: bool) -> None:
        header, span = header_labels(self.rows, hdr, self.fields) if hdr < len(self.rows) else ([], 1)
        self.span_note.setText(
            f"表头占两行（第 {hdr + 1}–{hdr + 2} 行），列名按上下两格合起来识别；合并的单元格按左上角的内容读取。"
            if span == 2
            else ""
        )
        mapping = auto_mapping(header, self.fields) if auto else self.w.mapping
        labels = [f"{column_letter(j)} 列：{c}" for j, c in enumerate(header)]
        for attr, combo in self.combos.items():
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(NOT_IMPORTED, None)
            for j, label in enumerate(labels):
                combo.addItem(label, j)
            col = mapping.get(attr)
            combo.setCurrentIndex(0 if col is None else col + 1)
            combo.blockSignals(False)
        self.completeChanged.emit()

    def current_mapping(self) -> dict[str, int]:
        return {a: c.currentData() for a, c in self.combos.items() if c.currentData() is not None}

    def isComplete(self) -> bool:
        mapping = self.current_mapping()
        missing = [f.header for f in self.fields if f.required and f.attr not in mapping]
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
        self.confirm_ignore = QCheckBox()
        self.confirm_ignore.setObjectName("confirm-ignore")
        self.confirm_ignore.setStyleSheet("color: #8a4b00;")
        self.confirm_ignore.hide()
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
        layout.addWidget(self.confirm_ignore)
        layout.addWidget(self.problems, 1)
        self.choices = QTableWidget()  # a published plan table: what each task needs chosen
        self.choices.setObjectName("plan-choices")
        self.choices.hide()
        self.apply_choices = QPushButton("按以上选择重新检查")
        self.apply_choices.setObjectName("apply-choices")
        self.apply_choices.hide()
        self.apply_choices.clicked.connect(self._on_apply_choices)
        layout.addWidget(self.choices, 1)
        layout.addWidget(self.apply_choices, 0, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.table, 1)
        self.add_codes.toggled.connect(lambda _: self.check())
        self.confirm_ignore.toggled.connect(self._on_confirm_ignore)
        self.pending_ignore: list[str] = []

    def _on_confirm_ignore(self, checked: bool) -> None:
        self.w.ignore_columns = list(self.pending_ignore) if checked else []
        self.check()

    def initializePage(self) -> None:
        self.choice_tasks: list[TaskChoice] = []
        self.w.ignore_columns = []
        self.pending_ignore = []
        self.confirm_ignore.blockSignals(True)
        self.confirm_ignore.setChecked(False)
        self.confirm_ignore.blockSignals(False)
        self.confirm_ignore.hide()
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
            ignore_columns=self.w.ignore_columns,
            dry_run=True,
            **self.w.choice_args(),
        )
        out = run_with_progress(self, "检查文件", job)
        self.ok = out.ok
        if out.ok:
            s: ImportSummary = out.value
            text = s.text(planned=True)
            self.summary.setText(text)
            self.summary.setStyleSheet("color: #1b5e20;")
            self.choices.hide()
            self.apply_choices.hide()
            self.problems.hide()
            self.table.show()
            self._fill_preview(s.preview, set(s.absent_fields))
        else:
            self.table.hide()
            self.problems.show()
            if isinstance(out.error, PlanChoicesNeeded):
                err = out.error
                self.summary.setText(
                    f"这是上一年度公布的计划表：年度、日期和每组检查人数已推算，还有 {len(err.tasks)} 项任务需要您选定"
                    "抽查类型、比例或事项（原来的文字说明会保存在任务的“抽查对象范围”中）："
                )
                self.summary.setStyleSheet("color: #8a4b00;")
                self.problems.setPlainText("\n".join(err.lines()))
                self._fill_choices(err.tasks)
                self.completeChanged.emit()
                return
            self.choices.hide()
            self.apply_choices.hide()
            if isinstance(out.error, UnconfirmedColumns):
                unconfirmed = out.error
                names = "、".join(f"“{c}”" for c in unconfirmed.columns)
                self.summary.setText(
                    f"请确认：文件中的{names}列不会导入。抽取要用到这些信息，不导入时新记录取默认值、已有记录保持原值。"
                    "如果它就是某一项，请点“上一步”在第 3 步把它对应过去；如果确实不要导入，请勾选下面的确认。"
                )
                self.pending_ignore = list(unconfirmed.columns)
                self.confirm_ignore.setText(f"不导入这些列：{'、'.join(unconfirmed.columns)}（我已核对）")
                self.confirm_ignore.show()
                self.problems.setPlainText("\n".join([*unconfirmed.lines(), "", *unconfirmed.advice]))
                self.summary.setStyleSheet("color: #8a4b00;")
                self.completeChanged.emit()
                return
            if isinstance(out.error, ImportRefused):
                refused = out.error
                coded = {f.header for f in self.w.spec.fields if f.codelist and f.kind is Kind.CODELIST}
                only_codes = bool(refused.problems) and all(p.header in coded for p in refused.problems)
                if only_codes and not self.add_codes.isHidden() and not self.add_codes.isChecked():
                    # The file may well be right: the code list is what is new (a first import).
                    self.summary.setText(
                        f"发现 {refused.total:,} 处{'、'.join(sorted(coded))}不在代码表中。如果这些值是对的（例如本县的乡镇"
                        "第一次导入），请勾选上方“把代码表中还没有的行业领域、所属区域加入代码表”；"
                        "如果是写错了，请在 Excel 中改正后重新选择文件："
                    )
                else:
                    self.summary.setText(
                        f"发现 {refused.total:,} 处问题，不能导入。请在 Excel 中改正后重新选择文件："
                    )
                self.problems.setPlainText("\n".join([*refused.lines(), "", *refused.advice]))
            elif isinstance(out.error, UserError):
                self.summary.setText("不能导入：")
                self.problems.setPlainText(str(out.error))
            else:
                report_failure(self, "检查文件", out)
                self.summary.setText("检查时出错。")
            self.summary.setStyleSheet("color: #b00020;")
        self.completeChanged.emit()

    COLUMNS = ("任务编号", "任务名称", "抽查类型", "抽查比例", "抽查事项（事项编码）")

    def _fill_choices(self, tasks: list[TaskChoice]) -> None:
        self.choices.clear()
        self.choices.setColumnCount(len(self.COLUMNS))
        self.choices.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.choices.setRowCount(len(tasks))
        self.choice_tasks = tasks
        for r, task in enumerate(tasks):
            for c, text in enumerate((task.code, task.name)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.choices.setItem(r, c, item)
            chosen = self.w.plan_choices.get(task.code, {})
            combo = QComboBox()
            combo.addItems(["（请选择）", "定向", "不定向"])
            combo.setEnabled("draw_type" in task.needs)
            if chosen.get("draw_type"):
                combo.setCurrentText(chosen["draw_type"])
            self.choices.setCellWidget(r, 2, combo)
            for c, attr, hint in ((3, "ratio", "如 5%、20家 或 重大:100%;较大:30%;一般:10%;低:5%"),
                                  (4, "items", "如 YJ-001、YJ-002")):  # fmt: skip
                edit = QLineEdit(chosen.get(attr, ""))
                edit.setPlaceholderText(hint if attr in task.needs else "（不需要更改）")
                edit.setEnabled(attr in task.needs)
                if attr in task.needs:
                    edit.setToolTip(f"表中原文：{task.needs[attr]}")
                self.choices.setCellWidget(r, c, edit)
        self.choices.resizeColumnsToContents()
        self.choices.setColumnWidth(3, max(self.choices.columnWidth(3), 300))
        self.choices.horizontalHeader().setStretchLastSection(True)
        self.choices.show()
        self.apply_choices.show()

    def _on_apply_choices(self) -> None:
        picked: dict[str, dict[str, str]] = {}
        for r, task in enumerate(self.choice_tasks):
            combo = self.choices.cellWidget(r, 2)
            values: dict[str, str] = {}
            if isinstance(combo, QComboBox) and combo.currentIndex() > 0:
                values["draw_type"] = combo.currentText()
            for c, attr in ((3, "ratio"), (4, "items")):
                edit = self.choices.cellWidget(r, c)
                if isinstance(edit, QLineEdit) and edit.text().strip():
                    values[attr] = edit.text().strip()
            if values:
                picked[task.code] = values
        self.w.plan_choices = picked
        self.check()

    def _fill_preview(
        self, records: list[dict[str, Any]], absent: frozenset[str] | set[str] = frozenset()
    ) -> None:
        # A column the file does not have is left as stored: shown empty, not as its default.
        fields = self.w.spec.fields
        rows = [
            ["" if f.header in absent else display_value(f, rec.get(f.attr)) for f in fields]
            for rec in records
        ]
        headers = [f"{f.header}（文件中没有）" if f.header in absent else f.header for f in fields]
        self.preview_model.set_rows(headers, rows)
        self.table.resizeColumnsToContents()

    def isComplete(self) -> bool:
        return self.ok
