"""Editing the code lists (行业领域, 所属区域): add, rename (everywhere it is used), remove unused."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QListWidget,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain import codelists
from dsj_desktop.services import codes
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.ops import WriteOp, warn

T = TypeVar("T")


class _ListPage(QWidget):
    def __init__(self, db: Database, list_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.list_name = list_name
        self.title = codelists.LIST_TITLES[list_name]
        self.list = QListWidget()
        self.list.setObjectName(f"codes-{list_name}")
        add = QPushButton("添加…")
        rename = QPushButton("改名…")
        remove = QPushButton("删除")
        add.clicked.connect(self.add)
        rename.clicked.connect(self.rename)
        remove.clicked.connect(self.remove)
        side = QVBoxLayout()
        for b in (add, rename, remove):
            side.addWidget(b)
        side.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(side)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for v, n in codes.code_usage(self.db, self.list_name):
            self.list.addItem(f"{v}（{n}）" if n else v)
            self.list.item(self.list.count() - 1).setData(256, v)

    def _current(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(256))

    def _write(self, title: str, work: Callable[[], T], then: Callable[[T], object] | None = None) -> None:
        """One write to the code lists off the GUI thread; the list (and every tab) reloads after it."""

        def done(value: T) -> None:
            self.reload()
            if then is not None:
                then(value)

        changes = {data_hub.CODES, *data_hub.DIRECTORIES}
        WriteOp(self, title, work, changes=changes).success(done).failure(warn(self, title)).run()

    def add(self) -> None:
        text, ok = QInputDialog.getText(self, f"添加{self.title}", f"新的{self.title}名称：")
        if not ok or not text.strip():
            return
        value = text.strip()

        def added(fresh: bool) -> None:
            if not fresh:
                QMessageBox.information(self, f"添加{self.title}", f"“{value}”已在代码表中。")

        self._write(f"添加{self.title}", lambda: codes.add_code(self.db, self.list_name, value), added)

    def rename(self) -> None:
        old = self._current()
        if old is None:
            return
        text, ok = QInputDialog.getText(self, f"{self.title}改名", f"把“{old}”改为：", text=old)
        if not ok or text.strip() == old:
            return

        def renamed(n: int) -> None:
            QMessageBox.information(self, f"{self.title}改名", f"已改名，{n} 条记录随之更新。")

        self._write(
            f"{self.title}改名", lambda: codes.rename_code(self.db, self.list_name, old, text), renamed
        )

    def remove(self) -> None:
        value = self._current()
        if value is None:
            return
        self._write(f"删除{self.title}", lambda: codes.remove_code(self.db, self.list_name, value))


class CodeListDialog(QDialog):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("代码表")
        self.resize(480, 420)
        tabs = QTabWidget()
        for name in codelists.LIST_TITLES:
            tabs.addTab(_ListPage(db, name), codelists.LIST_TITLES[name])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
