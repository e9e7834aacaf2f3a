"""Tabs stay current: one "data changed" signal on a hub the main window owns, heard by every tab.
A confirmed draw shows at once in the results tab (待检查), the statistics and the home page; an
import reaches the plan and draw tabs; nobody calls another tab's methods by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from dsj_desktop.services.results import TODO
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.data_hub import DataHub
from dsj_desktop.ui.main_window import MainWindow

from .test_import import target_row, write_xlsx
from .test_ui_directories import messages, window  # noqa: F401  (fixtures)
from .test_ui_draw import add_witness, start


def test_the_hub_never_loops(qtbot: Any) -> None:
    hub = DataHub()
    heard: list[frozenset[str]] = []

    def listener(kinds: frozenset[str], source: object) -> None:
        heard.append(kinds)
        hub.announce("targets")  # a reload that signals again is part of the same change

    hub.changed.connect(listener)
    hub.announce("draw")
    assert heard == [frozenset({"draw"})]
    hub.announce()
    assert heard[-1] == frozenset({data_hub.ALL})
    assert data_hub.touches({"draw"}, "draw", "results") and not data_hub.touches({"journal"}, "draw")
    assert data_hub.touches({data_hub.ALL}, "x")


def test_a_confirmed_draw_shows_at_once_everywhere(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    results = window.results_tab  # built before the draw, as an operator would have it open
    stats = window.stats_tab
    assert results.counts.by_status.get(TODO, 0) == 0
    scr = start(window, qtbot)
    c = scr.controller
    qtbot.mouseClick(scr.btn_to_witnesses, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(scr.btn_fixed, Qt.MouseButton.LeftButton)  # the witnesses wrote their digits down first
    add_witness(scr, qtbot, "甲", "31415926535")
    add_witness(scr, qtbot, "乙", "27182818284")
    qtbot.mouseClick(scr.btn_reveal, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(scr.btn_roll, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(scr.btn_stop, Qt.MouseButton.LeftButton)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(scr.btn_confirm, Qt.MouseButton.LeftButton)
    n = len(c.session.result)
    assert n > 0
    # No restart, no 刷新: the results tab lists the drawn targets as 待检查.
    assert results.counts.by_status.get(TODO, 0) == n
    assert results.model.rowCount() == n
    assert "draw" in set().union(*window.hub.sent)
    window.tabs.setCurrentWidget(stats)
    assert stats.stale is False


def test_an_import_reaches_the_plan_and_draw_tabs(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    tmp_path: Path,
) -> None:
    plan, draw = window.plan_tab, window.draw_tab
    heard: list[tuple[frozenset[str], object]] = []
    window.hub.changed.connect(lambda kinds, source: heard.append((kinds, source)))
    tab = window.directory_tabs["targets"]
    path = write_xlsx(tmp_path / "t.xlsx", [target_row(1, 所属区域="城关镇", 行业领域="烟花爆竹")])
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.importer import import_directory
    from dsj_desktop.progress import run_job

    run_job(import_directory(window.db, TARGETS, path))
    tab.refresh()  # what the import wizard does when it finishes
    assert heard and heard[-1][0] == frozenset({"targets"}) and heard[-1][1] is tab
    assert plan._stale or plan.isVisible()
    assert getattr(draw, "_stale", False) or draw.isVisible()


def test_a_plan_change_during_a_session_shows_on_going_back(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
) -> None:
    from .test_draw_sessions import add_task

    scr = start(window, qtbot)
    tab = window.draw_tab
    add_task(window.db, "RW-NEW-1", plan_code="JH-NEW", plan_name="新计划")
    window.hub.announce("plan")
    assert tab.stack.currentWidget() is scr  # the open session is not disturbed
    qtbot.mouseClick(scr.btn_back, Qt.MouseButton.LeftButton)
    assert any(t.code == "RW-NEW-1" for t in tab.tasks)
