"""Add or edit one directory record; checked by the same rules as the import."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain import codelists
from dsj_desktop.domain.fields import FieldSpec, Kind
from dsj_desktop.domain.specs import TableSpec
from dsj_desktop.errors import ValidationError
from dsj_desktop.services.directory import DirectoryQuery


class RecordDialog(QDialog):
    def __init__(
        self, db: Database, spec: TableSpec, row_id: int | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.spec = spec
        self.row_id = row_id
        self.saved_id: int | None = None
        self.query = DirectoryQuery(db, spec)
        self.setWindowTitle(f"{'编辑' if row_id else '新增'}{spec.noun}")
        self.setMinimumWidth(520)
        with db.read() as conn:
            self.codes = codelists.all_lists(conn)
        record = self.query.get(row_id) if row_id is not None else {}
        self.editors: dict[str, QWidget] = {}

        form = QFormLayout()
        for f in spec.fields:
            editor = self._editor(f, record.get(f.attr, f.default))
            if row_id is not None and f.attr in spec.key:
                editor.setEnabled(False)
                editor.setToolTip("记录的标识不能修改；如需更正，请归档后新增")
            self.editors[f.attr] = editor
            label = f.header + ("（必填）" if f.required else "")
            form.addRow(label, editor)
        if record.get("archived"):
            form.addRow("", QLabel("此记录已归档，不参加抽取。"))

        self.error = QLabel()
        self.error.setObjectName("error-label")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _editor(self, f: FieldSpec, value: Any) -> QWidget:
        if f.kind is Kind.BOOL:
            box = QCheckBox()
            box.setChecked(bool(value))
            return box
        if f.kind is Kind.DATE:
            edit = QDateEdit()
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            if isinstance(value, str) and value:
                value = date.fromisoformat(value)
            d = value if isinstance(value, date) else date(date.today().year + 2, 12, 31)
            edit.setDate(QDate(d.year, d.month, d.day))
            return edit
        if f.kind in (Kind.CHOICE, Kind.CODELIST):
            combo = QComboBox()
            values = list(f.choices) if f.kind is Kind.CHOICE else list(self.codes.get(f.codelist or "", []))
            if not f.required and "" not in values and not f.default:
                values.insert(0, "")
            if value and value not in values:
                values.append(str(value))
            for v in values:
                combo.addItem(v)
            combo.setCurrentIndex(max(0, combo.findText(str(value or f.default or ""))))
            return combo
        edit = QLineEdit("" if value is None else str(value))
        if f.hint:
            edit.setPlaceholderText(f.hint)
        return edit

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attr, w in self.editors.items():
            if isinstance(w, QCheckBox):
                out[attr] = w.isChecked()
            elif isinstance(w, QDateEdit):
                q = w.date()
                out[attr] = date(q.year(), q.month(), q.day())
            elif isinstance(w, QComboBox):
                out[attr] = w.currentText()
            elif isinstance(w, QLineEdit):
                out[attr] = w.text()
        return out

    def save(self) -> None:
        try:
            if self.row_id is None:
                self.saved_id = self.query.add(self.values())
            else:
                self.query.update(self.row_id, self.values())
                self.saved_id = self.row_id
        except ValidationError as exc:
            self.error.setText("无法保存：\n" + "\n".join(exc.problems))
            self.error.show()
            return
        self.accept()
