"""Editors for one field of a record (shared by the record dialog and the task dialog): the widget
follows the field's kind, and :func:`editor_value` reads back what the import rules then check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop import clock
from dsj_desktop.domain.fields import FieldSpec, Kind, split_list
from dsj_desktop.ui.kit import ok_cancel

MULTILINE_ROWS = 4


class MultiLineEdit(QPlainTextEdit):
    """Several lines of text (抽查依据, 抽查内容, 备注); Tab moves on instead of typing a tab."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTabChangesFocus(True)
        rows = self.fontMetrics().lineSpacing() * MULTILINE_ROWS
        self.setFixedHeight(rows + 2 * int(self.document().documentMargin()) + 6)

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:
        self.setPlainText(text)


class ChecklistEdit(QWidget):
    """Several values from a list: a line (still typeable, 、-separated) and a “选择…” button that
    opens a list with check boxes. *options* are (value, label) pairs."""

    changed = Signal()

    def __init__(
        self,
        options: Sequence[tuple[str, str]],
        text: str = "",
        title: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.options = list(options)
        self.title = title
        self.edit = QLineEdit(text)
        self.button = QPushButton("选择…")
        self.button.setObjectName("choose-button")
        self.button.clicked.connect(self.choose)
        self.edit.textChanged.connect(lambda _: self.changed.emit())
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.button)
        self.setFocusProxy(self.edit)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # as tall as a line edit

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:
        self.edit.setText(text)

    def setPlaceholderText(self, text: str) -> None:
        self.edit.setPlaceholderText(text)

    def values(self) -> list[str]:
        return split_list(self.edit.text())

    def set_values(self, values: Sequence[str]) -> None:
        self.edit.setText("、".join(values))

    def choose(self) -> None:
        dlg = ChecklistDialog(self.options, self.values(), self.title, self)
        if dlg.exec():
            self.set_values(dlg.checked())


class ChecklistDialog(QDialog):
    def __init__(
        self,
        options: Sequence[tuple[str, str]],
        checked: Sequence[str],
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"选择{title}" if title else "选择")
        self.list = QListWidget()
        self.list.setObjectName("checklist")
        chosen = set(checked)
        known = {v for v, _ in options}
        for value, label in [*options, *((v, v) for v in checked if v not in known)]:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if value in chosen else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        note = QLabel("勾选需要的项；都不勾选表示不限。")
        note.setStyleSheet("color: #57606a;")
        buttons = ok_cancel(self).box
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addWidget(self.list, 1)
        lay.addWidget(buttons)
        self.resize(420, min(520, 120 + 26 * self.list.count()))

    def checked(self) -> list[str]:
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out


def list_options(f: FieldSpec, codes: Mapping[str, Sequence[str]]) -> list[tuple[str, str]] | None:
    """The values a LIST field may hold, when they are known (a code list or fixed choices)."""
    if f.kind is not Kind.LIST:
        return None
    if f.codelist:
        return [(v, v) for v in codes.get(f.codelist, ())]
    if f.choices:
        return [(v, v) for v in f.choices]
    return None


def make_editor(
    f: FieldSpec,
    value: Any,
    codes: Mapping[str, Sequence[str]],
    options: Sequence[tuple[str, str]] | None = None,
) -> QWidget:
    """The widget for one field, showing *value*. *options* overrides a LIST field's choices."""
    if f.kind is Kind.BOOL:
        if f.labels != ("是", "否"):
            combo = QComboBox()
            combo.addItems(list(f.labels))
            combo.setCurrentIndex(0 if value else 1)
            return combo
        box = QCheckBox()
        box.setChecked(bool(value))
        return box
    if f.kind is Kind.DATE:
        day_edit = QDateEdit()
        day_edit.setCalendarPopup(True)
        day_edit.setDisplayFormat("yyyy-MM-dd")
        if isinstance(value, str) and value:
            value = date.fromisoformat(value)
        d = value if isinstance(value, date) else date(clock.today().year + 2, 12, 31)
        day_edit.setDate(QDate(d.year, d.month, d.day))
        return day_edit
    if f.kind in (Kind.CHOICE, Kind.CODELIST):
        combo = QComboBox()
        values = list(f.choices) if f.kind is Kind.CHOICE else list(codes.get(f.codelist or "", []))
        if not f.required and "" not in values and not f.default:
            values.insert(0, "")
        if value and value not in values:
            values.append(str(value))
        for v in values:
            combo.addItem(v)
        combo.setCurrentIndex(max(0, combo.findText(str(value or f.default or ""))))
        return combo
    text = "" if value is None else str(value)
    if f.multiline:
        multi = MultiLineEdit(text)
        if f.hint:
            multi.setPlaceholderText(f.hint)
        return multi
    opts = options if options is not None else list_options(f, codes)
    if opts is not None:
        pick = ChecklistEdit(opts, text, f.header)
        if f.hint:
            pick.setPlaceholderText(f.hint)
        return pick
    edit = QLineEdit(text)
    if f.hint:
        edit.setPlaceholderText(f.hint)
    return edit


def editor_value(w: QWidget, f: FieldSpec | None = None) -> Any:
    """What the editor holds, as the import would read it from a cell."""
    if isinstance(w, QCheckBox):
        return w.isChecked()
    if isinstance(w, QDateEdit):
        q = w.date()
        return date(q.year(), q.month(), q.day())
    if isinstance(w, QComboBox):
        if f is not None and f.kind is Kind.BOOL:
            return w.currentIndex() == 0
        return w.currentText()
    if isinstance(w, (QLineEdit, MultiLineEdit, ChecklistEdit)):
        return w.text()
    raise TypeError(type(w))
