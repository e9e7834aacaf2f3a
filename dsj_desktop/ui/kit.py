"""Small pieces the GUI's screens share: a dialog's OK/取消 button row, a read-only table, saving an
import template, choosing where to write files (a USB drive first, or any folder), and this PC's
remembered choices."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QAbstractItemModel, QStorageInfo, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableView,
    QWidget,
)

from dsj_desktop import prefs
from dsj_desktop.db.engine import Database
from dsj_desktop.publish.usb import Volume, destinations
from dsj_desktop.services import settings


class ButtonRow(NamedTuple):
    box: QDialogButtonBox
    ok: QPushButton
    cancel: QPushButton


def ok_cancel(
    dialog: QDialog,
    on_ok: Callable[[], object] | None = None,
    *,
    ok: str = "确定",
    cancel: str = "取消",
) -> ButtonRow:
    """The row of buttons at the foot of *dialog*: *ok* (确定, or the dialog's own verb: 保存, 导出…)
    runs *on_ok* (by default it accepts the dialog) and is the default button (Enter): the box
    makes its first accepting button the dialog's default when it is shown (a button made default
    before the box is in the dialog would not become the dialog's); *cancel* rejects the dialog,
    as Esc does. Further buttons may be added to the row's box (placed as the platform places
    buttons of their role)."""
    box = QDialogButtonBox()  # its place in the dialog's focus chain is where the layout puts it
    ok_button = box.addButton(ok, QDialogButtonBox.ButtonRole.AcceptRole)
    cancel_button = box.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
    box.accepted.connect(on_ok if on_ok is not None else dialog.accept)
    box.rejected.connect(dialog.reject)
    return ButtonRow(box, ok_button, cancel_button)


def make_table(model: QAbstractItemModel) -> QTableView:
    """A read-only table of whole rows (selection by row, fixed row height, last column stretched)."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setDefaultSectionSize(24)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    return view


def remembered(db: Database, key: str, default: object = None) -> object:
    """A choice remembered on this PC (:mod:`dsj_desktop.prefs`, beside the data). One the program
    used to keep among the bureau's settings is taken from its old row the first time, so that an
    upgraded install does not ask again."""
    return prefs.read_pref(db.data_dir, key, default, old_settings=lambda: _old_settings(db))


def _old_settings(db: Database) -> dict[str, object] | None:
    try:
        return settings.read_all(db)
    except Exception:  # a convenience only: the screen opens anyway, the next read tries again
        return None


def remember(db: Database, key: str, value: object) -> None:
    """Keep a choice on this PC for next time (best effort, see :func:`remembered`)."""
    prefs.write_pref(db.data_dir, key, value)


def save_template(parent: QWidget, default_name: str, write: Callable[[Path], object]) -> Path | None:
    """Ask where to save an import template (an Excel workbook named *default_name* in the home
    folder by default), write it with *write* and say where it went; None when not saved."""
    default = str(Path.home() / default_name)
    path, _ = QFileDialog.getSaveFileName(parent, "保存导入模板", default, "Excel 工作簿 (*.xlsx)")
    if not path:
        return None
    if not path.lower().endswith(".xlsx"):
        path += ".xlsx"
    try:
        write(Path(path))
    except Exception as exc:  # a UserError message is already Chinese
        QMessageBox.warning(parent, "保存导入模板", str(exc))
        return None
    QMessageBox.information(parent, "保存导入模板", f"模板已保存到：\n{path}")
    return Path(path)


# --- where to write: USB drives first, then folders -------------------------------------------


def mounted_volumes() -> list[Volume]:
    """The file systems mounted now, as :mod:`dsj_desktop.publish.usb` sorts them."""
    out = []
    for info in QStorageInfo.mountedVolumes():
        out.append(
            Volume(
                root=info.rootPath(),
                name=info.displayName(),
                ready=info.isReady() and info.isValid(),
                read_only=info.isReadOnly(),
                bytes_free=int(info.bytesAvailable()),
            )
        )
    return out


class DestinationList(QListWidget):
    """The places files can be written to now: removable drives first, then the usual folders.
    With *tagged*, each line says whether it is a USB drive or a folder."""

    def __init__(self, *, tagged: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tagged = tagged
        self.refresh()

    def refresh(self) -> None:
        """List the places again (after a USB drive was plugged in); the first one is chosen."""
        self.clear()
        for d in destinations(mounted_volumes()):
            label = (("［U盘］" if d.removable else "［文件夹］") + d.label) if self.tagged else d.label
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, str(d.path))
            self.addItem(item)
        if self.count():
            self.setCurrentRow(0)

    def chosen(self) -> Path | None:
        item = self.currentItem()
        return None if item is None else Path(item.data(Qt.ItemDataRole.UserRole))


def choose_folder(parent: QWidget, title: str) -> Path | None:
    """Any other folder, chosen in the system's dialog (starting in the home folder)."""
    path = QFileDialog.getExistingDirectory(parent, title, str(Path.home()))
    return Path(path) if path else None
