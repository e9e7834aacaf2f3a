"""The 抽取 tab's pool preview is read off the GUI thread (ui.ops.QueryOp), and only the latest
choice is shown when another comes while a read is under way (offscreen, pytest-qt)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal, Slot
from sqlalchemy import Connection

from dsj_desktop.errors import UserError
from dsj_desktop.services import draw_preview, draw_ready
from dsj_desktop.services.draw_preview import PoolPreview
from dsj_desktop.ui.draw import tab as tab_mod
from dsj_desktop.ui.main_window import MainWindow

from .test_ui_directories import messages, window  # noqa: F401  (fixtures)


class _Relay(QObject):
    """Runs a callable on the GUI thread, asked from any thread (a queued signal)."""

    asked = Signal()

    def __init__(self, call: Callable[[], object]) -> None:
        super().__init__()
        self.call = call
        self.asked.connect(self.fire)

    @Slot()
    def fire(self) -> None:
        self.call()


def test_the_pool_is_read_off_the_gui_thread(
    window: MainWindow,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gui = threading.current_thread()
    reads: list[tuple[str, bool]] = []
    real_preview, real_signing = draw_preview.pool_preview, draw_ready.signing_problems

    def preview(conn: Connection, code: str, on: date) -> PoolPreview:
        reads.append((code, threading.current_thread() is not gui))
        return real_preview(conn, code, on)

    def signing(db: Any, *a: Any, **k: Any) -> list[str]:
        reads.append(("signing", threading.current_thread() is not gui))
        return real_signing(db, *a, **k)

    monkeypatch.setattr(tab_mod, "pool_preview", preview)
    monkeypatch.setattr(tab_mod.draw_ready, "signing_problems", signing)
    tab = window.draw_tab
    assert tab.start_for_task("RW-2026-02")
    assert reads[-2:] == [("RW-2026-02", True), ("signing", True)]
    assert tab.preview is not None and tab.preview.task.code == "RW-2026-02"
    assert "RW-2026-02" in tab.summary.text() and tab.models["strata"].rows[-1][0] == "合计"
    n = len(reads)
    tab.date_edit.setDate(tab.date_edit.date().addDays(1))  # a new date: read again
    assert reads[n:] == [("RW-2026-02", True), ("signing", True)]


def test_a_later_choice_wins_over_a_read_still_under_way(
    window: MainWindow,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    messages: list[tuple[str, str]],  # noqa: F811
) -> None:
    """While the pool of RW-2026-02 is being read, RW-2026-04 is chosen; its read ends first, then
    the first one: the tab shows RW-2026-04, not the older read that ended last."""
    tab = window.draw_tab
    assert tab.start_for_task("RW-2026-02")
    real = draw_preview.pool_preview
    later_read = threading.Event()
    order: list[str] = []
    relay = _Relay(lambda: tab.select_task("RW-2026-04"))

    def preview(conn: Connection, code: str, on: date) -> PoolPreview:
        pv = real(conn, code, on)
        if code == "RW-2026-02" and not order:  # the first read: the user chooses another task meanwhile
            order.append(code)
            relay.asked.emit()  # queued to the GUI thread, which runs it while it waits for this read
            assert later_read.wait(60), "the later choice was never read"
        else:
            order.append(code)
            later_read.set()
        return pv

    monkeypatch.setattr(tab_mod, "pool_preview", preview)
    tab.show_pool()  # RW-2026-02 again, overtaken while under way
    assert order == ["RW-2026-02", "RW-2026-04"]
    assert tab.task_combo.currentData() == "RW-2026-04"
    assert tab.preview is not None and tab.preview.task.code == "RW-2026-04"
    assert "RW-2026-04" in tab.summary.text() and "RW-2026-02" not in tab.summary.text()
    assert messages == []


def test_a_refused_read_is_said_in_the_summary(
    window: MainWindow,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    messages: list[tuple[str, str]],  # noqa: F811
) -> None:
    def refused(conn: Connection, code: str, on: date) -> PoolPreview:
        raise UserError("抽查任务 RW-2026-02 的抽查事项已删除。")

    tab = window.draw_tab
    assert tab.start_for_task("RW-2026-04")
    monkeypatch.setattr(tab_mod, "pool_preview", refused)
    assert tab.start_for_task("RW-2026-02")
    assert tab.preview is None and not tab.btn_start.isEnabled()
    assert tab.summary.text() == "抽查任务 RW-2026-02 的抽查事项已删除。"
    assert messages == []  # in the tab, not in a message box
