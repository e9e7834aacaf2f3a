"""The dialogs' shared OK/取消 button row (ui.kit.ok_cancel), offscreen."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit, QVBoxLayout

from dsj_desktop.ui.kit import ok_cancel


def _dialog(qtbot: Any, **kw: Any) -> tuple[QDialog, QLineEdit, list[str], Any]:
    dlg = QDialog()
    qtbot.addWidget(dlg)
    edit = QLineEdit()
    seen: list[str] = []
    row = ok_cancel(dlg, (lambda: seen.append("ok")) if kw.pop("handler", True) else None, **kw)
    lay = QVBoxLayout(dlg)
    lay.addWidget(edit)
    lay.addWidget(row.box)
    dlg.show()
    qtbot.waitExposed(dlg)
    edit.setFocus()
    return dlg, edit, seen, row


def test_labels_default_and_handler(qtbot: Any) -> None:
    dlg, edit, seen, row = _dialog(qtbot, ok="保存")
    assert (row.ok.text(), row.cancel.text()) == ("保存", "取消")
    assert row.ok.isDefault() and not row.cancel.isDefault()
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # Enter presses the default button
    assert seen == ["ok"] and dlg.isVisible()  # the handler decides whether the dialog closes
    qtbot.mouseClick(row.ok, Qt.MouseButton.LeftButton)
    assert seen == ["ok", "ok"]


def test_without_a_handler_ok_accepts(qtbot: Any) -> None:
    dlg, _edit, _seen, row = _dialog(qtbot, handler=False)
    assert (row.ok.text(), row.cancel.text()) == ("确定", "取消")
    qtbot.mouseClick(row.ok, Qt.MouseButton.LeftButton)
    assert dlg.result() == QDialog.DialogCode.Accepted and not dlg.isVisible()


def test_cancel_and_escape_reject(qtbot: Any) -> None:
    dlg, edit, seen, row = _dialog(qtbot, ok="导出", cancel="关闭")
    assert row.cancel.text() == "关闭"
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert dlg.result() == QDialog.DialogCode.Rejected and not dlg.isVisible() and seen == []
    dlg.show()
    qtbot.mouseClick(row.cancel, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible() and seen == []
