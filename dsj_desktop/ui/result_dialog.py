"""Entering a result for one drawn target, or the same outcome for many (batch), and correcting it;
recording only the inspection date; the history of a result."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.clock import today
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.result_specs import CATEGORIES, DISPOSALS, METHODS, NO_HAZARD_CATEGORIES, ON_SITE
from dsj_desktop.services import results
from dsj_desktop.services.results import ItemResult, ResultInput, ResultRow
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.kit import ok_cancel
from dsj_desktop.ui.ops import WriteOp, refusal_in
from dsj_desktop.ui.table_model import ListTableModel

Index = QModelIndex | QPersistentModelIndex


def qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


def date_edit(d: date) -> QDateEdit:
    e = QDateEdit(qdate(d))
    e.setCalendarPopup(True)
    e.setDisplayFormat("yyyy-MM-dd")
    return e


class ItemsModel(QAbstractTableModel):
    """Per-item results (事项, 是否检查, 发现问题, 处置), edited in place."""

    HEADERS = ("抽查事项", "是否检查", "发现问题", "处置")

    def __init__(self, items: list[ItemResult], parent: Any = None) -> None:
        super().__init__(parent)
        self.items = list(items)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 4

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 1:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        if index.column() in (2, 3):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        it = self.items[index.row()]
        c = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return (f"{it.code} {it.name}", "", it.problem, it.disposal)[c]
        if role == Qt.ItemDataRole.CheckStateRole and c == 1:
            return Qt.CheckState.Checked if it.checked else Qt.CheckState.Unchecked
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid():
            return False
        it = self.items[index.row()]
        c = index.column()
        if c == 1 and role == Qt.ItemDataRole.CheckStateRole:
            checked = Qt.CheckState(value) == Qt.CheckState.Checked
            self.items[index.row()] = replace(it, checked=checked)
        elif c == 2 and role == Qt.ItemDataRole.EditRole:
            self.items[index.row()] = replace(it, problem=str(value).strip())
        elif c == 3 and role == Qt.ItemDataRole.EditRole:
            self.items[index.row()] = replace(it, disposal=str(value))
        else:
            return False
        self.dataChanged.emit(index, index)
        return True


class DisposalDelegate(QStyledItemDelegate):
    def createEditor(self, parent: QWidget, option: Any, index: Index) -> QWidget:
        combo = QComboBox(parent)
        combo.addItem("")
        combo.addItems(DISPOSALS)
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole) or ""))

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class ResultDialog(QDialog):
    """One target (entry or correction) or several (batch entry of the same outcome)."""

    def __init__(
        self, db: Database, rows: list[ResultRow], *, operator: str = "", parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.db = db
        self.rows = rows
        self.saved: list[results.SaveOutcome] = []
        self.batch = len(rows) > 1
        first = rows[0]
        self.correcting = any(r.category for r in rows)
        self.setObjectName("result-dialog")
        title = (
            f"批量录入检查结果（{len(rows)} 家）"
            if self.batch
            else ("更正检查结果" if first.category else "录入检查结果")
        )
        self.setWindowTitle(title)
        self.setMinimumWidth(640)

        choices = results.entry_choices(db, rows)
        self.people, items = choices.people, choices.items
        head = QLabel()
        head.setWordWrap(True)
        if self.batch:
            names = "、".join(r.name for r in rows[:5]) + (f" 等 {len(rows)} 家" if len(rows) > 5 else "")
            head.setText(f"<b>{names}</b><br>将为以上检查对象保存相同的检查结果。")
        else:
            head.setText(
                f"<b>{first.name}</b>（{first.uscc}）<br>抽查任务 {first.task_code} {first.task_name}　"
                f"抽取场次 {first.session_id}（{first.draw_date}）"
            )

        self.inspected_on = date_edit(first.inspected_on or today())
        self.inspected_on.setMaximumDate(qdate(today()))
        self.inspected_on.setMinimumDate(qdate(max(r.draw_date for r in rows)))
        self.method = QComboBox()
        self.method.addItems(METHODS)
        self.method.setCurrentText(first.method or ON_SITE)
        self.category = QComboBox()
        self.category.setObjectName("category")
        self.category.addItem("（请选择）", "")
        for c in CATEGORIES:
            self.category.addItem(c, c)
        self.category.setCurrentIndex(max(0, self.category.findData(first.category)) if not self.batch else 0)
        self.hazards = QSpinBox()
        self.hazards.setRange(0, 9999)
        self.hazards.setValue(first.hazards if not self.batch else 0)
        self.has_rectify = QCheckBox("责令限期整改，整改期限：")
        self.rectify_by = date_edit(first.rectify_by or (first.inspected_on or today()))
        self.has_rectify.setChecked(first.rectify_by is not None and not self.batch)
        self.rectify_by.setEnabled(self.has_rectify.isChecked())
        self.has_rectify.toggled.connect(self.rectify_by.setEnabled)
        rect_row = QHBoxLayout()
        rect_row.addWidget(self.has_rectify)
        rect_row.addWidget(self.rectify_by)
        rect_row.addStretch(1)
        self.disposal = QComboBox()
        self.disposal.setObjectName("disposal")
        self.disposal.addItem("（请选择）", "")
        for d in DISPOSALS:
            self.disposal.addItem(d, d)
        self.disposal.setCurrentIndex(max(0, self.disposal.findData(first.disposal)) if not self.batch else 0)
        self.remarks = QPlainTextEdit(first.remarks if not self.batch else "")
        self.remarks.setPlaceholderText("备注不公示")
        self.remarks.setFixedHeight(56)
        self.category.currentIndexChanged.connect(self._category_changed)

        # Inspectors: the drawn team checked by default, others can be added.
        self.own_teams = QCheckBox("各对象使用抽取（含递补）确定的检查组")
        self.own_teams.setChecked(True)
        self.inspectors = QListWidget()
        self.inspectors.setObjectName("inspectors")
        self.inspectors.setMaximumHeight(92)
        chosen = [c for c, _ in (first.people if not self.batch else first.team)]
        for code, name in first.team:
            self._add_person(code, name, code in chosen)
        for code, name in first.inspectors:
            if not self._has(code):
                self._add_person(code, name, True)
        self.add_person = QComboBox()
        self.add_person.setEditable(True)
        self.add_person.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.add_person.addItem("")
        for code, name in sorted(self.people.items(), key=lambda kv: kv[0]):
            self.add_person.addItem(f"{name}（{code}）", code)
        completer = self.add_person.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        add_btn = QPushButton("添加人员")
        add_btn.clicked.connect(self._add_selected_person)
        people_box = QVBoxLayout()
        if self.batch:
            people_box.addWidget(self.own_teams)
            self.own_teams.toggled.connect(lambda on: self.inspectors.setEnabled(not on))
            self.inspectors.setEnabled(False)
        people_box.addWidget(self.inspectors)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_person, 1)
        add_row.addWidget(add_btn)
        people_box.addLayout(add_row)

        self.items_model = ItemsModel(items, self)
        self.items_view = QTableView()
        self.items_view.setObjectName("items")
        self.items_view.setModel(self.items_model)
        self.items_view.setItemDelegateForColumn(3, DisposalDelegate(self.items_view))
        self.items_view.verticalHeader().setVisible(False)
        self.items_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )  # fmt: skip
        hh = self.items_view.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.resizeSection(1, 70)
        hh.resizeSection(2, 160)
        hh.resizeSection(3, 110)
        self.items_view.setFixedHeight(34 + 26 * max(1, len(items)))

        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("更正已录入的结果必须写明原因（原结果保留在修改记录中）")
        self.operator = QLineEdit(operator)
        self.operator.setObjectName("operator")
        self.operator.setPlaceholderText("录入人姓名")
        _bind_operator(self.operator)

        form = QFormLayout()
        form.addRow("检查日期", self.inspected_on)
        form.addRow("检查方式", self.method)
        form.addRow("检查人员", people_box)
        form.addRow("检查结果", self.category)
        form.addRow("隐患数量", self.hazards)
        form.addRow("", rect_row)
        form.addRow("处置措施", self.disposal)
        if items:
            form.addRow("抽查事项", self.items_view)
        form.addRow("备注", self.remarks)
        if self.correcting:
            form.addRow("更正原因", self.reason)
        form.addRow("录入人", self.operator)
        if not self.batch and first.entered_at:
            info = QLabel(
                f"当前为第 {first.version} 版：{first.entered_by or '（未填）'} 于 {first.entered_at[:16].replace('T', ' ')} 保存"
            )
            info.setStyleSheet("color: #57606a;")
            form.addRow("", info)

        self.error = QLabel()
        self.error.setObjectName("error-label")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        buttons = ok_cancel(self, self.save, ok="保存").box
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._category_changed()

    # -- people ---------------------------------------------------------------------------------

    def _has(self, code: str) -> bool:
        return any(
            self.inspectors.item(i).data(Qt.ItemDataRole.UserRole) == code
            for i in range(self.inspectors.count())
        )

    def _add_person(self, code: str, name: str, checked: bool) -> None:
        item = QListWidgetItem(f"{name}（{code}）")
        item.setData(Qt.ItemDataRole.UserRole, code)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.inspectors.addItem(item)

    def _add_selected_person(self) -> None:
        code = self.add_person.currentData()
        if not code:
            text = self.add_person.currentText().strip()
            code = text if text in self.people else None
        if not code:
            return
        if not self._has(code):
            self._add_person(code, self.people.get(code, code), True)
        self.add_person.setCurrentIndex(0)

    def chosen_people(self) -> tuple[str, ...] | None:
        if self.batch and self.own_teams.isChecked():
            return None
        return tuple(
            self.inspectors.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.inspectors.count())
            if self.inspectors.item(i).checkState() == Qt.CheckState.Checked
        )

    # -- values ---------------------------------------------------------------------------------

    def _category_changed(self) -> None:
        no_hazard = self.category.currentData() in NO_HAZARD_CATEGORIES
        if no_hazard:
            self.hazards.setValue(0)
            if not self.disposal.currentData():
                self.disposal.setCurrentIndex(self.disposal.findData(DISPOSALS[0]))
        self.hazards.setEnabled(not no_hazard)

    def value(self) -> ResultInput:
        return ResultInput(
            inspected_on=pydate(self.inspected_on.date()),
            category=self.category.currentData() or "",
            hazards=self.hazards.value(),
            disposal=self.disposal.currentData() or "",
            method=self.method.currentText(),
            inspectors=self.chosen_people(),
            rectify_by=pydate(self.rectify_by.date()) if self.has_rectify.isChecked() else None,
            remarks=self.remarks.toPlainText(),
            items=tuple(self.items_model.items) if self.items_model.items else None,
        )

    def save(self) -> None:
        inp = self.value()
        if not inp.category:
            self.error.setText("请选择检查结果。")
            return
        keys, operator, reason = (
            [r.key for r in self.rows],
            self.operator.text().strip(),
            self.reason.text().strip(),
        )
        WriteOp(
            self, "保存检查结果",
            lambda: results.save_results(self.db, keys, inp, operator=operator, reason=reason),
            changes={data_hub.RESULTS},
        ).success(self._saved).failure(refusal_in(self.error, listed=False)).run()  # fmt: skip

    def _saved(self, outcome: list[results.SaveOutcome]) -> None:
        self.saved = outcome
        self.accept()


class InspectionDialog(QDialog):
    """Record only that (and when) the targets were inspected: 已检查待录入; the deadline starts."""

    def __init__(
        self, db: Database, rows: list[ResultRow], *, operator: str = "", parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.db = db
        self.rows = rows
        self.setObjectName("inspection-dialog")
        self.setWindowTitle(f"登记检查日期（{len(rows)} 家）")
        self.on = date_edit(today())
        self.on.setMaximumDate(qdate(today()))
        self.on.setMinimumDate(qdate(max(r.draw_date for r in rows)))
        self.method = QComboBox()
        self.method.addItems(METHODS)
        self.operator = QLineEdit(operator)
        self.operator.setPlaceholderText("录入人姓名")
        _bind_operator(self.operator)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("检查日期", self.on)
        form.addRow("检查方式", self.method)
        form.addRow("录入人", self.operator)
        note = QLabel("检查人员按抽取（含递补）确定的检查组登记；录入期限从检查日期起计算。")
        note.setWordWrap(True)
        note.setStyleSheet("color: #57606a;")
        buttons = ok_cancel(self, self.save, ok="保存").box
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def save(self) -> None:
        inp = ResultInput(pydate(self.on.date()), method=self.method.currentText())
        keys, operator = [r.key for r in self.rows], self.operator.text().strip()
        WriteOp(
            self, "登记检查日期",
            lambda: results.save_results(self.db, keys, inp, operator=operator),
            changes={data_hub.RESULTS},
        ).success(lambda _: self.accept()).failure(refusal_in(self.error, listed=False)).run()  # fmt: skip


class HistoryDialog(QDialog):
    """Every saved version of a result: who, when, why, and the values then."""

    def __init__(self, db: Database, row: ResultRow, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("history-dialog")
        self.setWindowTitle(f"修改记录 — {row.name}")
        self.resize(980, 360)
        versions = results.read_history(db, row.result_id) if row.result_id is not None else []
        headers = ("版本", "保存时间", "录入人", "更正原因", "检查日期", "检查方式", "检查结果", "隐患", "处置措施",
                   "整改期限", "检查人员", "备注")  # fmt: skip
        data = [
            (str(v.version), v.changed_at[:19].replace("T", " "), v.changed_by, v.reason, v.data.get("inspected_on", ""),
             v.data.get("method", ""), v.data.get("category", "") or "（仅登记检查）", str(v.data.get("hazards", "")),
             v.data.get("disposal", ""), v.data.get("rectify_by") or "",
             "、".join(p[1] for p in v.data.get("inspectors", [])), v.data.get("remarks", ""))
            for v in versions
        ]  # fmt: skip
        self.model = ListTableModel(headers, data, self)
        view = QTableView()
        view.setModel(self.model)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.horizontalHeader().setStretchLastSection(True)
        view.resizeColumnsToContents()
        note = QLabel(
            f"{row.name}（{row.uscc}），抽取场次 {row.session_id}。每次保存都完整保留，更正不会覆盖原来的记录。"
            + (
                f" 已于 {row.published_at[:16].replace('T', ' ')} 公示第 {row.published_version} 版。"
                if row.published_at
                else ""
            )
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(view, 1)
        layout.addWidget(buttons)


def _bind_operator(edit: QLineEdit) -> None:
    """With accounts, the one who enters a result is the logged-in account, not a typed name."""
    from dsj_desktop import actor

    who = actor.current()
    if who is not None:
        edit.setText(who.label)
        edit.setReadOnly(True)
        edit.setToolTip("录入人为当前登录的账户")
