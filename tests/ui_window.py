"""The program's main window as the GUI tests open it (pytest-qt, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from dsj_desktop.db.engine import open_database
from dsj_desktop.ui.app import setup_application
from dsj_desktop.ui.main_window import MainWindow
from tests.demo_dates import pinned_day


@contextmanager
def main_window(qtbot: Any, qapp: QApplication, data_dir: Path) -> Iterator[MainWindow]:
    """The main window over the data folder *data_dir*, shown, with the program's "today" a day of
    the demo's year (tests/demo_dates.py); closed afterwards, with its database."""
    setup_application(qapp)
    with ExitStack() as stack:
        stack.enter_context(pinned_day())
        db = open_database(data_dir)
        stack.callback(db.close)
        w = MainWindow(db)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        stack.callback(w.close)
        yield w
