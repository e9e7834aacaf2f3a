"""Entering results by scanning a paper: a USB scanner types the QR code of a 检查通知书 or 实地检查
记录表 (``SESSION|CREDIT CODE|RECORD HASH``, then Enter) into a field of the result screen, and that
target's result form opens."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget

from dsj_desktop.errors import UserError
from dsj_desktop.publish import papers as pp

TITLE = "扫码录入结果"


class ScanField(QLineEdit):
    """Where the scanner types; cleared after each scan so the next one starts afresh."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("results-scan")
        self.setPlaceholderText("扫码录入（检查文书二维码）")
        self.setToolTip("用扫码枪扫描检查通知书或实地检查记录表上的二维码，直接打开该单位的检查结果表")
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(150)
        self.setMaximumWidth(260)

    def take(self) -> str:
        text = self.text()
        self.clear()
        return text


def open_scanned(tab: Any, text: str) -> Any:
    """Open the result form of the target a scanned paper belongs to, on the results tab *tab*;
    returns the dialog (after it closed), or None when the text was refused."""
    from dsj_desktop.ui.result_dialog import ResultDialog

    if not text.strip():
        return None
    try:
        match, row = pp.scanned_row(tab.db, text)
    except UserError as exc:
        QMessageBox.warning(tab, TITLE, str(exc))
        return None
    if match.outdated:
        QMessageBox.information(
            tab,
            TITLE,
            f"这张文书按抽取记录第 {match.record_version} 版打印，此后检查组有递补（现为第 "
            f"{match.current_version} 版）。结果表中的检查组以现行版本为准。",
        )
    tab.select_keys({row.key})
    dialog = ResultDialog(tab.db, [row], operator=tab.operator(), parent=tab)
    if dialog.exec():
        tab._remember(dialog.operator.text().strip())
        tab._after_save({row.key})
    return dialog
