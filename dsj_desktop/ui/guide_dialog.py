"""帮助 › 使用说明: the user guide (the first part of the README, shipped in resources/guide)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from dsj_desktop.paths import resource

GUIDE = ("guide", "使用说明.md")


def guide_text() -> str:
    path = resource(*GUIDE)
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return f"# 使用说明\n\n找不到使用说明文件“{path}”，安装可能不完整。"


class GuideDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("guide-dialog")
        self.setWindowTitle("使用说明")
        self.browser = QTextBrowser()
        self.browser.setObjectName("guide-text")
        self.browser.setOpenExternalLinks(False)
        self.browser.setMarkdown(guide_text())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        screen = self.screen().availableGeometry() if self.screen() else None
        self.resize(
            min(860, screen.width() - 40) if screen else 860,
            min(680, screen.height() - 80) if screen else 680,
        )
