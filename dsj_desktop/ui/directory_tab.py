"""One directory (检查对象 / 执法检查人员 / 专家 / 回避关系) as a tab: search as you type, filters on
the classification fields, a lazy table, add / edit / archive, import / export / template, counts."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.clock import today
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.fields import NO, YES, FieldSpec, Kind, display_value
from dsj_desktop.domain.specs import INSPECTORS, TableSpec, inspector_eligibility
from dsj_desktop.io.exporter import export_directory, write_template
from dsj_desktop.services.codes import all_code_lists
from dsj_desktop.services.directory import ELIGIBLE, INELIGIBLE, DirectoryQuery, Filter, directory_counts
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.kit import save_template
from dsj_desktop.ui.ops import WriteOp
from dsj_desktop.ui.runner import report_failure, run_with_progress
from dsj_desktop.ui.table_model import GREY, RED, Column, LazyTableModel

ALL = "全部"
SEARCH_DELAY_MS = 150


def _fmt_count(n: int) -> str:
    return f"{n:,}"


def full_text_tooltip(text: str) -> str | None:
    """A tooltip showing a long text whole, wrapped (rich text wraps; plain text would not)."""
    if not text:
        return None
    return f"<p style='white-space: pre-wrap;'>{html.escape(text)}</p>"


def has_labels(f: FieldSpec) -> bool:
    """A yes/no field with words of its own (an item's 状态: 停用 / 启用)."""
    return f.kind is Kind.BOOL and f.labels != (YES, NO)


Row = tuple[Any, ...]
R = TypeVar("R")


def _at(i: int, show: Callable[[Any], R]) -> Callable[[Row], R]:
    """A column's text: *show* applied to the row's *i*-th value."""
    return lambda v: show(v[i])


def _labelled(f: FieldSpec, value: Any) -> str:
    return f.labels[0] if value else f.labels[1]


def _yes(value: Any) -> str:
    return "是" if value else ""


def _plain(value: Any) -> str:
    return str(value or "")


def _one_line(value: Any) -> str:
    return " ".join(str(value or "").split("\n"))


def _full_text(value: Any) -> str | None:
    return full_text_tooltip(str(value or ""))


def build_columns(spec: TableSpec, query: DirectoryQuery) -> list[Column]:
    cols: list[Column] = []
    for i, f in enumerate(spec.fields):
        if has_labels(f):
            cols.append(Column(f.header, _at(i, partial(_labelled, f)), f.attr, align_center=True))
        elif f.kind is Kind.BOOL:
            cols.append(Column(f.header, _at(i, _yes), f.attr, align_center=True))
        elif f.multiline:
            # One line in the table; the whole text in the tooltip.
            cols.append(Column(f.header, _at(i, _one_line), f.attr, tooltip=_at(i, _full_text)))
        else:
            cols.append(Column(f.header, _at(i, partial(display_value, f)), f.attr))
    if spec is INSPECTORS:
        valid = spec.attrs.index("cert_valid_until")
        duty = spec.attrs.index("duty_status")

        def eligibility(v: tuple[Any, ...]) -> str:
            return inspector_eligibility(v[valid], v[duty], today()) or "可抽取"

        cols.insert(
            2,
            Column(
                "抽取资格",
                eligibility,
                None,
                foreground=lambda v: None if eligibility(v) == "可抽取" else RED,
                tooltip=lambda v: "执法证在有效期内且在岗的人员才会被抽取",
                width=24,
            ),
        )
    base = len(spec.attrs) + 1  # after the fields and the archived flag
    for j, (header, _, width) in enumerate(query.extras):
        cols.insert(1 + 2 * j, Column(header, _at(base + j, _plain), None, width=width))
    return cols


class DirectoryTab(QWidget):
    def __init__(self, db: Database, spec: TableSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.spec = spec
        self.query = DirectoryQuery(db, spec)
        self.setObjectName(f"tab-{spec.kind}")

        # Search and filters.
        self.search = QLineEdit()
        self.search.setPlaceholderText("搜索：" + "、".join(spec.field(a).header for a in spec.search))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(300)
        self.filters: dict[str, QComboBox] = {}
        self.flag_combo: QComboBox | None = None
        self.eligibility_combo: QComboBox | None = None
        self.show_archived = QCheckBox(f"显示{spec.archived_word}")
        self.show_archived.setObjectName("show-archived")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("搜索："))
        bar.addWidget(self.search, 1)
        filter_bar = QHBoxLayout()
        flags = [f for f in spec.fields if f.kind is Kind.BOOL and f.filterable and not has_labels(f)]
        for f in spec.fields:
            if f.filterable and (f.kind is not Kind.BOOL or has_labels(f)):
                combo = QComboBox()
                combo.setObjectName(f"filter-{f.attr}")
                combo.setToolTip(f"按{f.header}筛选")
                combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
                self.filters[f.attr] = combo
                filter_bar.addWidget(combo)
        if flags:
            self.flag_combo = QComboBox()
            self.flag_combo.setObjectName("filter-flags")
            self.flag_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            self.flag_combo.addItem("标记：全部", None)
            for f in flags:
                self.flag_combo.addItem(f.header, f.attr)
            filter_bar.addWidget(self.flag_combo)
        if spec is INSPECTORS:
            self.eligibility_combo = QComboBox()
            self.eligibility_combo.setObjectName("filter-eligibility")
            self.eligibility_combo.addItem("抽取资格：全部", None)
            self.eligibility_combo.addItem("可抽取", ELIGIBLE)
            self.eligibility_combo.addItem("不可抽取", INELIGIBLE)
            filter_bar.addWidget(self.eligibility_combo)
        filter_bar.addStretch(1)
        bar.addWidget(self.show_archived)

        # Table.
        self.model = LazyTableModel(self.query, self.build_columns(), self.current_filter(), self)
        archived_pos = len(spec.attrs)
        self.model.row_foreground = lambda v: GREY if v[archived_pos] else None
        self.table = QTableView()
        self.table.setObjectName(f"table-{spec.kind}")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        for i, col in enumerate(self.model.columns):
            width = col.width or next((f.width for f in spec.fields if f.header == col.header), 10)
            header.resizeSection(i, max(60, width * 7 + 12))
        self.table.doubleClicked.connect(lambda _=None: self.edit_selected())

        # Buttons and counts.
        self.count_label = QLabel()
        self.count_label.setObjectName("count-label")
        self.btn_add = QPushButton("新增")
        self.btn_edit = QPushButton("编辑")
        self.btn_archive = QPushButton(spec.archive_verb)
        self.btn_restore = QPushButton(spec.restore_verb)
        self.btn_import = QPushButton("导入 Excel…")
        self.btn_export = QPushButton("导出 Excel…")
        self.btn_template = QPushButton("下载模板…")
        self.btn_archive.setToolTip(self.archive_tooltip())
        buttons = QHBoxLayout()
        self.buttons_layout = buttons
        for b in (self.btn_add, self.btn_edit, self.btn_archive, self.btn_restore):
            buttons.addWidget(b)
        if spec.kind == "targets":
            self.btn_codes = QPushButton("代码表…")
            self.btn_codes.setToolTip("维护行业领域和所属区域的取值")
            self.btn_codes.clicked.connect(self.edit_code_lists)
            buttons.addWidget(self.btn_codes)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        buttons.addStretch(1)
        for b in (self.btn_import, self.btn_export, self.btn_template):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        if filter_bar.count() > 1:
            layout.addLayout(filter_bar)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        for combo in self.filters.values():
            combo.currentIndexChanged.connect(lambda _: self.apply_filter())
        for extra in (self.flag_combo, self.eligibility_combo):
            if extra is not None:
                extra.currentIndexChanged.connect(lambda _: self.apply_filter())
        self.show_archived.toggled.connect(lambda _: self.apply_filter())
        self.btn_add.clicked.connect(self.add_record)
        self.btn_edit.clicked.connect(self.edit_selected)
        self.btn_archive.clicked.connect(lambda: self.archive_selected(True))
        self.btn_restore.clicked.connect(lambda: self.archive_selected(False))
        self.btn_import.clicked.connect(self.import_file)
        self.btn_export.clicked.connect(self.export_file)
        self.btn_template.clicked.connect(self.save_template)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.reload_filter_values()
        self.apply_filter()

    # --- filtering --------------------------------------------------------------------------

    def reload_filter_values(self) -> None:
        codes = all_code_lists(self.db)
        for attr, combo in self.filters.items():
            f = self.spec.field(attr)
            values: list[Any]
            if has_labels(f):
                values = [(f.labels[0], True), (f.labels[1], False)]
            elif f.kind is Kind.CHOICE:
                values = list(f.choices)
            elif f.kind is Kind.CODELIST and f.codelist:
                values = codes.get(f.codelist, [])
            else:
                values = self.query.distinct(attr)
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(f"{f.header}：{ALL}", None)
            for v in values:
                label, data = v if isinstance(v, tuple) else (v, v)
                combo.addItem(label, data)
            pos = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(pos, 0))
            combo.blockSignals(False)

    def current_filter(self) -> Filter:
        flt = Filter(text=self.search.text().strip(), include_archived=self.show_archived.isChecked())
        for attr, combo in self.filters.items():
            if combo.currentData() is not None:
                flt.equals[attr] = combo.currentData()
                if attr == "archived":  # a chosen 状态 shows those records, archived or not
                    flt.include_archived = True
        if self.flag_combo is not None and self.flag_combo.currentData():
            flt.flags.append(self.flag_combo.currentData())
        if self.eligibility_combo is not None:
            flt.eligibility = self.eligibility_combo.currentData()
        return flt

    def apply_filter(self) -> None:
        self._search_timer.stop()
        self.model.set_filter(self.current_filter())
        self.update_counts()
        self._update_buttons()

    def update_counts(self) -> None:
        counts = directory_counts(self.db, self.spec)
        shown = self.model.rowCount()
        unit = self.spec.unit
        text = f"共 {_fmt_count(counts.total)} {unit}"
        flt = self.current_filter()
        if flt.text or flt.equals or flt.flags or flt.eligibility or flt.include_archived:
            text += f"，当前显示 {_fmt_count(shown)} {unit}"
        if counts.archived:
            text += f"，{self.spec.archived_word} {_fmt_count(counts.archived)} {unit}"
        if self.spec is INSPECTORS:
            eligible = self.query.count(Filter(eligibility=ELIGIBLE))
            text += f"，今日可抽取 {_fmt_count(eligible)} {unit}"
        self.count_label.setText(text)

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.row_id(r) for r in rows]

    def _update_buttons(self) -> None:
        ids = self.selected_ids()
        self.btn_edit.setEnabled(len(ids) == 1)
        self.btn_archive.setEnabled(bool(ids))
        self.btn_restore.setVisible(self.current_filter().include_archived)
        self.btn_restore.setEnabled(bool(ids))

    def build_columns(self) -> list[Column]:
        return build_columns(self.spec, self.query)

    def watches(self) -> tuple[str, ...]:
        """The kinds of data this tab shows (see :mod:`dsj_desktop.ui.data_hub`)."""
        return (*data_hub.DIRECTORIES, data_hub.CODES)

    def on_data_changed(self, kinds: data_hub.Kinds, source: object) -> None:
        if source is not self and data_hub.touches(kinds, *self.watches()):
            self.reload_filter_values()
            self.apply_filter()

    def refresh(self) -> None:
        self.reload_filter_values()
        self.apply_filter()

    # --- editing ----------------------------------------------------------------------------

    def add_record(self) -> None:
        from dsj_desktop.ui.record_dialog import RecordDialog

        dlg = RecordDialog(self.db, self.spec, None, self)
        if dlg.exec():  # the dialog's write was announced: this tab has reloaded
            self.select_id(dlg.saved_id)

    def edit_selected(self) -> None:
        from dsj_desktop.ui.record_dialog import RecordDialog

        ids = self.selected_ids()
        if len(ids) != 1:
            return
        dlg = RecordDialog(self.db, self.spec, ids[0], self)
        if dlg.exec():
            self.select_id(ids[0])

    def select_id(self, row_id: int | None) -> None:
        if row_id is None:
            return
        row = self.model.row_of(row_id)
        if row is not None:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def archive_tooltip(self) -> str:
        return f"{self.spec.archive_verb}后不再参加抽取，记录仍保留；被抽取过的记录永远不会被删除"

    def archive_question(self, ids: list[int]) -> str:
        """The question asked before archiving *ids* (a tab for a particular directory may add to it)."""
        verb = self.spec.archive_verb
        return (
            f"确定{verb}选中的 {len(ids)} 条{self.spec.noun}记录吗？\n"
            f"{verb}后不再参加抽取，记录仍然保留，可随时{self.spec.restore_verb}。"
        )

    def archive_selected(self, archived: bool) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        verb = self.spec.archive_verb if archived else self.spec.restore_verb
        if archived:
            answer = QMessageBox.question(self, f"{verb}{self.spec.noun}", self.archive_question(ids))
            if answer != QMessageBox.StandardButton.Yes:
                return
        title = f"{verb}{self.spec.noun}"
        WriteOp(
            self, title, lambda: self.query.set_archived(ids, archived), changes={self.spec.kind}
        ).success(lambda n: QMessageBox.information(self, title, f"已{verb} {n} 条记录。")).run()

    def edit_code_lists(self) -> None:
        from dsj_desktop.ui.codelist_dialog import CodeListDialog

        CodeListDialog(self.db, self).exec()  # its changes reach this tab through the data hub

    # --- files ------------------------------------------------------------------------------

    def import_file(self) -> None:
        from dsj_desktop.ui.import_wizard import ImportWizard

        wizard = ImportWizard(self.db, self.spec, self)  # its import is announced on the data hub
        if wizard.exec() and wizard.summary is not None:
            QMessageBox.information(self, f"导入{self.spec.title}", wizard.summary.text())

    def export_file(self) -> None:
        default = str(Path.home() / f"{self.spec.title}-{date.today():%Y%m%d}.xlsx")
        path, _ = QFileDialog.getSaveFileName(
            self, f"导出{self.spec.title}", default, "Excel 工作簿 (*.xlsx)"
        )
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        out = run_with_progress(
            self, f"导出{self.spec.title}", export_directory(self.db, self.spec, Path(path))
        )
        if not out.ok:
            report_failure(self, f"导出{self.spec.title}", out)
            return
        QMessageBox.information(self, f"导出{self.spec.title}", f"已导出 {out.value} 条记录到：\n{path}")

    def save_template(self) -> None:
        def write(path: Path) -> None:
            write_template(path, self.spec, all_code_lists(self.db))

        save_template(self, f"{self.spec.title}导入模板.xlsx", write)
