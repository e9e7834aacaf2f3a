"""This PC's preferences (ui-prefs.json) after an upgrade: the choices an earlier program kept among
the bureau's settings (the draw screen's place, operator, speed and projector screen, the results
tab's 录入人, the papers' folder) are offered again, not asked for once more."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from dsj_desktop import prefs
from dsj_desktop.db.engine import open_database
from dsj_desktop.services import settings
from dsj_desktop.ui.app import setup_application
from dsj_desktop.ui.draw import session as session_mod
from dsj_desktop.ui.draw.session import PROJECTOR_SCREEN_KEY
from dsj_desktop.ui.draw.stage import SPEED_KEY
from dsj_desktop.ui.draw.tab import OPERATOR_KEY, PLACE_KEY
from dsj_desktop.ui.main_window import MainWindow
from dsj_desktop.ui.papers_dialog import FOLDER_KEY, PapersDialog
from dsj_desktop.ui.results_tab import OPERATOR_KEY as RESULTS_OPERATOR_KEY

from .test_draw_sessions import full_draw
from .test_papers import three_item_task
from .test_ui_directories import messages  # noqa: F401  (fixture)

# The rows the earlier program wrote (services.settings.write, under these very keys).
OLD_ROWS = {
    "draw_last_place": "局三楼会议室",
    "draw_last_operator": "赵抽取",
    "draw_animation_speed": "slow",
    "draw_projector_screen": "投影仪",
    "results_operator": "钱录入",
    "papers_last_folder": "E:\\检查文书",
}


def test_the_keys_are_the_old_settings_keys() -> None:
    keys = (PLACE_KEY, OPERATOR_KEY, SPEED_KEY, PROJECTOR_SCREEN_KEY, RESULTS_OPERATOR_KEY, FOLDER_KEY)
    assert set(keys) == set(OLD_ROWS) == set(prefs.FROM_SETTINGS)


def test_the_old_rows_are_copied_once_and_later_choices_win(tmp_path: Path) -> None:
    calls: list[int] = []

    def old() -> dict[str, object]:
        calls.append(1)
        return {**OLD_ROWS, "bureau_name": "青山县应急管理局", "draw_animation_speed": None}

    prefs.write_pref(tmp_path, "draw_last_place", "二楼")  # chosen here after the upgrade
    assert prefs.read_pref(tmp_path, "results_operator", "", old_settings=old) == "钱录入"
    kept = prefs.read_prefs(tmp_path)
    assert kept["draw_last_place"] == "二楼" and kept["papers_last_folder"] == "E:\\检查文书"
    assert "bureau_name" not in kept and "draw_animation_speed" not in kept  # only those, and only values
    assert prefs.read_pref(tmp_path, "draw_animation_speed", "normal", old_settings=old) == "normal"
    prefs.write_pref(tmp_path, "results_operator", "孙新")
    assert prefs.read_pref(tmp_path, "results_operator", "", old_settings=old) == "孙新"
    assert calls == [1]  # the settings were read once
    assert prefs.read_pref(tmp_path, "last_user", "", old_settings=old) == ""  # not one of them


def test_settings_that_could_not_be_read_are_tried_again(tmp_path: Path) -> None:
    answers: list[dict[str, object] | None] = [None, dict(OLD_ROWS)]
    assert prefs.read_pref(tmp_path, "draw_last_place", "", old_settings=lambda: answers.pop(0)) == ""
    assert not prefs.prefs_path(tmp_path).exists()
    assert (
        prefs.read_pref(tmp_path, "draw_last_place", "", old_settings=lambda: answers.pop(0))
        == "局三楼会议室"
    )
    assert answers == []


class _Screen:
    """A screen as the session screen lists them (name and geometry)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name

    def geometry(self) -> QRect:
        return QRect(0, 0, 1920, 1080)


@pytest.fixture
def upgraded(demo_data_dir: Path) -> tuple[Path, str]:
    """A data folder the earlier program used: its choices in the settings table, no ui-prefs.json;
    and a confirmed session to print papers for."""
    db = open_database(demo_data_dir)
    try:
        for key, value in OLD_ROWS.items():
            settings.write(db, key, value)
        three_item_task(db)
        session_id = full_draw(db, "RW-PAPERS").id
    finally:
        db.close()
    assert not prefs.prefs_path(demo_data_dir).exists()
    return demo_data_dir, session_id


def test_an_upgraded_install_offers_the_choices_kept_in_the_old_settings(
    upgraded: tuple[Path, str],
    qtbot: Any,
    qapp: QApplication,
    messages: list[tuple[str, str]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup_application(qapp)
    monkeypatch.setattr(session_mod, "screens", lambda: [_Screen("笔记本"), _Screen("投影仪")])
    data_dir, session_id = upgraded
    db = open_database(data_dir)
    w = MainWindow(db)
    qtbot.addWidget(w)
    try:
        w.show()
        qtbot.waitExposed(w)
        tab = w.draw_tab
        assert (tab.place.text(), tab.operator.text()) == ("局三楼会议室", "赵抽取")
        assert w.results_tab.operator() == "钱录入"
        papers = PapersDialog(db, session_id)
        qtbot.addWidget(papers)
        assert papers.folder.text() == "E:\\检查文书"
        assert tab.start_for_task("RW-2026-04")
        scr = tab.start_session()
        assert scr is not None
        assert scr.controller.speed == "slow"
        assert scr.screen_combo.currentData() == "投影仪"  # not the first other screen
        assert messages == []
        kept = json.loads(prefs.prefs_path(data_dir).read_text(encoding="utf-8"))
        assert {k: kept[k] for k in OLD_ROWS} == OLD_ROWS and kept[prefs.SETTINGS_COPIED] is True
        assert {k: settings.read(db, k) for k in OLD_ROWS} == OLD_ROWS  # the old rows are left as they were
    finally:
        w.close()
        db.close()
