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
from dsj_desktop.ui.ops import WriteOp

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
    window.tabs.setCurrentWidget(stats)  # computed in the background when shown
    assert stats.stale is False
    qtbot.waitUntil(lambda: not stats.computing and stats.stats is not None)
    assert stats.stats is not None
    drawn = next(r for r in stats.stats.ratios if r.session_id == c.session.id)
    assert drawn.drawn == n


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

    assert window.db is not None
    job = import_directory(window.db, TARGETS, path)
    out = WriteOp(tab, "导入", job, changes={"targets"}).run()  # what the import wizard does
    assert out.ok and out.value.added == 1
    assert heard and heard[-1][0] == frozenset({"targets"})
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


def test_an_operation_runs_off_the_gui_thread_and_announces_what_it_wrote(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from dsj_desktop.errors import ValidationError
    from dsj_desktop.progress import Progress
    from dsj_desktop.ui.ops import QueryOp, find_hub

    tab = window.results_tab
    assert find_hub(tab) is window.hub
    heard: list[frozenset[str]] = []
    window.hub.changed.connect(lambda kinds, source: heard.append(kinds))
    where: list[bool] = []
    got: list[int] = []

    def work() -> int:
        where.append(threading.current_thread() is threading.main_thread())
        return 7

    out = WriteOp(tab, "写入", work, changes={"results"}).success(got.append).run()
    assert out.ok and got == [7] and where == [False]
    assert heard == [frozenset({"results"})]

    def job() -> Any:
        yield Progress("一步", 1, 2)
        where.append(threading.current_thread() is threading.main_thread())
        return "完成"

    texts: list[str] = []
    assert QueryOp(tab, "查询", job()).success(texts.append).run().ok
    assert texts == ["完成"] and where[-1] is False
    assert len(heard) == 1  # a query announces nothing

    def refused() -> None:
        raise ValidationError("不行")

    failures: list[object] = []
    out = WriteOp(tab, "写入", refused, changes={"results"}).failure(failures.append).run()
    assert not out.ok and failures == [out] and isinstance(out.error, ValidationError)
    assert len(heard) == 1  # nothing written, nothing announced
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    WriteOp(tab, "写入", refused, changes={"results"}).run()  # by default: the refusal in plain words
    assert shown == ["不行"]


def test_a_second_click_during_an_operation_is_not_taken(window: MainWindow, qtbot: Any) -> None:  # noqa: F811
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QPushButton

    button = QPushButton("保存", window)
    button.show()
    clicks: list[int] = []
    button.clicked.connect(lambda: clicks.append(1))

    def slow() -> None:
        time.sleep(0.3)

    QTimer.singleShot(50, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton))
    assert WriteOp(window, "保存", slow, changes={"results"}).run().ok
    assert clicks == []  # swallowed while the write ran
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert clicks == [1]  # and taken again afterwards
