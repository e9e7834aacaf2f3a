"""Opening a file the program wrote (a record PDF) with the system's viewer — and saying so, with
the file's place, when this PC has no program for it (nothing happening is not an answer)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


def open_file(parent: QWidget | None, path: Path, what: str = "PDF 文件") -> bool:
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return True
    QMessageBox.information(
        parent,
        f"打开{what}",
        f"本机没有可以打开{what}的程序（例如 PDF 阅读器），文件已保存在：\n{path}\n\n"
        "可以复制到 U 盘在其他电脑上打开，或安装 PDF 阅读器后再打开。",
    )
    return False
