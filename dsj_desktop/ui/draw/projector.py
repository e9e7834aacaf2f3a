"""The projector window: the public stage full screen on the chosen monitor, no controls."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QScreen
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from dsj_desktop.ui.draw.controller import DrawController
from dsj_desktop.ui.draw.paint import StageView


class ProjectorWindow(QWidget):
    """The public screen: full screen on the chosen monitor, only the stage, no controls."""

    closed = Signal()

    def __init__(self, controller: DrawController, parent: QWidget | None = None) -> None:
        # A separate window, but owned by the operator's: it never keeps the program running alone.
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("projector-window")
        self.setWindowTitle("抽取投影")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.stage = StageView(controller, projector=True, parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stage)
        self.hint = QLabel("彩排：投影占满了本屏幕，按 Esc 关闭投影", self)
        self.hint.setObjectName("projector-hint")
        self.hint.setStyleSheet(
            "background: rgba(0,0,0,160); color: white; padding: 6px 12px; border-radius: 4px; font-size: 12pt;"
        )
        self.hint.adjustSize()
        self.hint.move(16, 16)
        self.hint.hide()

    def show_on(self, screen: QScreen) -> None:
        """Full screen on *screen* (a QScreen); the operator's own screen when it is the only one (a
        rehearsal, which says how to close it)."""
        owner = self.parentWidget()
        self.hint.setVisible(owner is not None and owner.screen() is screen)
        self.setScreen(screen)
        geometry = screen.geometry()
        self.setGeometry(geometry)
        self.move(geometry.topLeft())
        self.showFullScreen()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closed.emit()


def screens() -> list[QScreen]:
    app = QApplication.instance()
    return list(app.screens()) if isinstance(app, QApplication) else []
