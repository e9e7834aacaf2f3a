"""Editing the code lists (行业领域, 所属区域): add, rename (everywhere it is used), remove unused."""

from __future__ import annotations

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
from dsj_desktop.errors import ValidationError


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
        with self.db.read() as conn:
            for v in codelists.values(conn, self.list_name):
                n = codelists.usage_count(conn, self.list_name, v)
                self.list.addItem(f"{v}（{n}）" if n else v)
                self.list.item(self.list.count() - 1).setData(256, v)

    def _current(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(256))

    def add(self) -> None:
        text, ok = QInputDialog.getText(self, f"添加{self.title}", f"新的{self.title}名称：")
        if ok and text.strip():
            with self.db.write(f"代码表：添加{self.title}“{text.strip()}”") as conn:
                if not codelists.add_values(conn, self.list_name, [text.strip()]):
                    QMessageBox.information(self, f"添加{self.title}", f"“{text.strip()}”已在代码表中。")
            self.reload()

    def rename(self) -> None:
        old = self._current()
        if old is None:
            return
        text, ok = QInputDialog.getText(self, f"{self.title}改名", f"把“{old}”改为：", text=old)
        if not ok or text.strip() == old:
            return
        try:
            with self.db.write(f"代码表：{self.title}“{old}”改名") as conn:
                n = codelists.rename_value(conn, self.list_name, old, text)
        except ValidationError as exc:
            QMessageBox.warning(self, f"{self.title}改名", str(exc))
            return
        self.reload()
        QMessageBox.information(self, f"{self.title}改名", f"已改名，{n} 条记录随之更新。")

    def remove(self) -> None:
        value = self._current()
        if value is None:
            return
        try:
            with self.db.write(f"代码表：删除{self.title}“{value}”") as conn:
                codelists.remove_value(conn, self.list_name, value)
        except ValidationError as exc:
            QMessageBox.warning(self, f"删除{self.title}", str(exc))
            return
        self.reload()


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
