"""Add or edit one directory record; checked by the same rules as the import."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.specs import TableSpec
from dsj_desktop.services.codes import all_code_lists
from dsj_desktop.services.directory import DirectoryQuery
from dsj_desktop.ui.editors import editor_value, make_editor
from dsj_desktop.ui.kit import ok_cancel
from dsj_desktop.ui.ops import WriteOp, refusal_in


def fit_to_screen(dialog: QDialog, width: int) -> None:
    """A dialog as tall as its contents, but never taller than the screen it is on."""
    screen = dialog.screen().availableGeometry()
    hint = dialog.sizeHint()
    dialog.resize(
        min(max(width, hint.width()), screen.width() - 40), min(hint.height(), screen.height() - 60)
    )


class RecordDialog(QDialog):
    def __init__(
        self, db: Database, spec: TableSpec, row_id: int | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._inner: QWidget | None = None  # the scrolled form: its size decides the dialog's
        self.db = db
        self.spec = spec
        self.row_id = row_id
        self.saved_id: int | None = None
        self.query = DirectoryQuery(db, spec)
        self.setWindowTitle(f"{'编辑' if row_id else '新增'}{spec.noun}")
        self.setMinimumWidth(520)
        self.codes = all_code_lists(db)
        record = self.query.get(row_id) if row_id is not None else {}
        self.record = record
        self.editors: dict[str, QWidget] = {}

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for f in spec.fields:
            if f.attr == "archived":
                # 启用 / 停用 is changed with the tab's buttons (which warn when the item is in use).
                state = f.labels[0] if record.get("archived") else f.labels[1]
                form.addRow(
                    f.header,
                    QLabel(f"{state}（用列表下方的“{spec.archive_verb}”“{spec.restore_verb}”按钮更改）"),
                )
                continue
            editor = make_editor(
                f, record.get(f.attr, f.empty_value() if row_id is None else f.default), self.codes
            )
            editor.setObjectName(f"edit-{f.attr}")
            if row_id is not None and f.attr in spec.key:
                editor.setEnabled(False)
                editor.setToolTip(f"记录的标识不能修改；如需更正，请{spec.archive_verb}后新增")
            self.editors[f.attr] = editor
            label = f.header + ("（必填）" if f.required else "")
            form.addRow(label, editor)
        if record.get("archived") and not spec.archived_is_field:
            form.addRow("", QLabel(f"此记录{spec.archived_word}，不参加抽取。"))

        self.error = QLabel()
        self.error.setObjectName("error-label")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = ok_cancel(self, self.save, ok="保存").box
        inner = QWidget()
        inner.setLayout(form)
        scroll = QScrollArea()
        scroll.setObjectName("record-scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._inner = inner
        fit_to_screen(self, 560)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        inner = self._inner
        if inner is not None:
            hint.setHeight(inner.sizeHint().height() + 90)
            hint.setWidth(max(hint.width(), inner.sizeHint().width() + 40))
        return hint

    def values(self) -> dict[str, Any]:
        out = {attr: editor_value(w, self.spec.field(attr)) for attr, w in self.editors.items()}
        if self.spec.archived_is_field:
            out["archived"] = bool(self.record.get("archived", False))
        return out

    def save(self) -> None:
        values, row_id = self.values(), self.row_id

        def write() -> int:
            if row_id is None:
                return self.query.add(values)
            self.query.update(row_id, values)
            return row_id

        def saved(new_id: int) -> None:
            self.saved_id = new_id
            self.accept()

        WriteOp(self, "保存", write, changes={self.spec.kind}).success(saved).failure(
            refusal_in(self.error)
        ).run()
