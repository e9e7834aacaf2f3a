"""The smaller points of a first day: the journal in plain words, a PDF with no viewer, the
rehearsal projector says Esc closes it, two reels never show one person at once, no 分层 column of
"全部", round chart ticks, the plan status in full, and 帮助 › 使用说明."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from dsj_desktop.db import guard
from dsj_desktop.services import sessions, settings
from dsj_desktop.ui.charts import nice_scale
from dsj_desktop.ui.draw.stage import TEAM, TIMINGS, make_reels, plan_beats, pool_names_by_stratum
from dsj_desktop.ui.journal_tab import _value, summary
from dsj_desktop.ui.main_window import MainWindow

from .demo_dates import DEMO_DAY
from .test_draw_sessions import W1, W2
from .test_ui_directories import messages, window  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent


def _revealed(db: Any, task: str = "RW-2026-04") -> sessions.Session:
    s = sessions.prepare(db, task, on=DEMO_DAY)  # the day the window is pinned to
    s = sessions.commit(db, s.id)
    for name, digits in (W1, W2):
        s = sessions.add_witness(db, s.id, name, digits)
    return sessions.do_reveal(db, s.id)


def test_the_journal_speaks_chinese() -> None:
    assert guard.table_title("draw_event") == "抽取过程记录"
    for table in ("draw_selection", "draw_member", "draw_record", "inspection_result", "task_item"):
        assert guard.table_title(table) != table
    assert _value("ok", False) == "否" and _value("ok", True) == "是"
    assert settings.TITLES["draw_projector_screen"] == "投影屏幕"

    class E:
        detail = '{"changes": {"draw_event": {"insert": 1}}}'

    assert summary(E()) == "抽取过程记录 新增 1"  # type: ignore[arg-type]


def test_chart_ticks_are_round() -> None:
    assert nice_scale(8) == (8, 4)  # 0, 2, 4, 6, 8 — not 0, 3, 5, 8
    assert nice_scale(13) == (15, 3)
    vmax, steps = nice_scale(1234)
    assert vmax / steps == 500
    assert nice_scale(0) == (1.0, 1)


def test_a_pdf_without_a_viewer_says_where_it_is(
    window: MainWindow,  # noqa: F811
    messages: list[tuple[str, str]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dsj_desktop.ui.open_file import open_file

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    assert not open_file(window, Path("/tmp/记录.pdf"))
    assert messages[-1][0] == "information" and "/tmp/记录.pdf" in messages[-1][1]


def test_two_reels_never_show_one_person_at_once(window: MainWindow, qtbot: Any) -> None:  # noqa: F811
    s = _revealed(window.db)
    scr = window.draw_tab.open_session(s.id)
    c = scr.controller
    teams = [b for b in plan_beats(c.session) if b.kind == TEAM]
    assert teams
    pool = pool_names_by_stratum(c.session)
    for i, beat in enumerate(teams):
        make_reels(c.session, beat, TIMINGS[c.speed], random.Random(i), pool)
        inspectors = [r for r in beat.reels if r.label.startswith("执法检查人员")]
        assert len(inspectors) == 2
        a, b = (set(r.strip) for r in inspectors)
        assert not a & b, a & b
        assert inspectors[0].strip[-1] != inspectors[1].strip[-1]


def test_no_stratum_column_of_all(window: MainWindow, qtbot: Any) -> None:  # noqa: F811
    s = _revealed(window.db, "RW-2026-04")  # 定向, not stratified; a 黑名单 unit is 必查
    scr = window.draw_tab.open_session(s.id)
    scr.controller.stop_roll()
    model = scr.result_model
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    assert "分层" not in headers and "抽取方式" in headers
    col = headers.index("抽取方式")
    values = {model.data(model.index(r, col)) for r in range(model.rowCount())}
    assert values <= {"必查", "随机抽取"} and "随机抽取" in values
    rows = scr.controller.result_view()
    assert all(r.get("stratum") != "全部" for r in rows)


def test_the_rehearsal_projector_says_esc_closes_it(window: MainWindow, qtbot: Any) -> None:  # noqa: F811
    s = _revealed(window.db)
    scr = window.draw_tab.open_session(s.id)
    proj = scr.open_projector()
    assert proj is not None
    assert proj.hint.isVisibleTo(proj) and "Esc" in proj.hint.text()
    scr.close_projector()


def test_the_user_guide_is_in_the_help_menu(window: MainWindow, qtbot: Any) -> None:  # noqa: F811
    from PySide6.QtGui import QAction

    from dsj_desktop.ui.guide_dialog import GUIDE, guide_text

    action = next(a for a in window.findChildren(QAction) if a.objectName() == "guide-action")
    assert action.text() == "使用说明"
    action.trigger()
    dialog = window.guide
    assert dialog.isVisible() and "第一次使用" in dialog.browser.toPlainText()
    dialog.close()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    user_part = readme.split("\n## Set up (developers)")[0].rstrip() + "\n"
    assert guide_text() == user_part, (
        f"resources/{'/'.join(GUIDE)} is the README's user guide: copy README.md up to "
        "“## Set up (developers)” into it again"
    )


def test_the_plan_status_is_whole_in_its_tooltip(window: MainWindow, qtbot: Any) -> None:  # noqa: F811
    from .test_ui_plan import M, cell, show_plan

    tab = show_plan(window, qtbot)
    for code in ("RW-2026-01", "RW-2026-02"):
        text = cell(tab, code, M.STATUS)
        tip = cell(tab, code, M.STATUS, Qt.ItemDataRole.ToolTipRole)
        assert text and tip and (tip == text or text.lstrip("⚠ ").split("（等")[0] in tip)
    assert QMessageBox  # the module's dialogs are patched by the messages fixture


def test_new_towns_point_to_the_checkbox_not_to_excel(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    tmp_path: Path,
) -> None:
    from dsj_desktop.domain.specs import DIRECTORIES
    from dsj_desktop.ui.import_wizard import ImportWizard

    from .test_import import target_row
    from .test_ui_directories import _run_wizard_to_preview, _xlsx

    path = _xlsx(tmp_path / "new.xlsx", [target_row(1, 所属区域="新设镇"), target_row(2, 所属区域="白沙乡")])
    wizard = ImportWizard(window.db, DIRECTORIES["targets"], window, str(path))
    qtbot.addWidget(wizard)
    _run_wizard_to_preview(wizard, qtbot)
    page = wizard.preview_page
    assert not page.isComplete()
    assert "请勾选上方" in page.summary.text() and "不在代码表中" in page.summary.text()
    page.add_codes.setChecked(True)
    assert page.isComplete()
    bad = _xlsx(tmp_path / "bad.xlsx", [target_row(3, 风险等级="高")])
    wizard2 = ImportWizard(window.db, DIRECTORIES["targets"], window, str(bad))
    qtbot.addWidget(wizard2)
    _run_wizard_to_preview(wizard2, qtbot)
    assert "请在 Excel 中改正" in wizard2.preview_page.summary.text()
    assert "请勾选上方" not in wizard2.preview_page.summary.text()
