"""“打印检查文书” on the session screen and in the draw history, and scanning a paper's QR code into
the result screen (offscreen, pytest-qt)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from dsj_desktop.db.engine import Database
from dsj_desktop.progress import run_job
from dsj_desktop.publish import papers as pp
from dsj_desktop.services import sessions
from dsj_desktop.ui.main_window import MainWindow
from dsj_desktop.ui.papers_dialog import PapersDialog, print_papers
from dsj_desktop.ui.result_dialog import ResultDialog

from .test_draw_sessions import full_draw
from .test_papers import page_codes, pages_text, three_item_task
from .test_ui_directories import messages, window  # noqa: F401  (fixtures)
from .test_ui_draw import opened  # noqa: F401  (fixture)

SHOTS = os.environ.get("DSJ_SHOTS")  # a folder: save screenshots there to look at them


def shot(widget: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture
def session(window: MainWindow) -> sessions.Session:  # noqa: F811
    db: Database = window.db
    three_item_task(db)
    s = full_draw(db, "RW-PAPERS")
    first = s.result[0]
    sessions.substitute(db, s.id, first["id"], first["inspectors"][1], "病假")
    return sessions.get_session(db, s.id)


def test_papers_from_the_session_screen_and_from_the_history(
    window: MainWindow,  # noqa: F811
    session: sessions.Session,
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
    opened: list[str],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[PapersDialog] = []

    def run_dialog(dlg: PapersDialog) -> int:
        made.append(dlg)
        dlg.resize(700, dlg.height())
        shot(dlg, "papers-dialog")
        dlg.folder.setText(str(tmp_path / f"out{len(made)}"))
        if len(made) == 2:
            dlg.kind.setCurrentIndex(dlg.kind.findData(pp.RECORD))
            dlg.per_target.setChecked(True)
        qtbot.mouseClick(dlg.btn_make, Qt.MouseButton.LeftButton)
        return int(dlg.result())

    monkeypatch.setattr(PapersDialog, "exec", run_dialog)
    tab = window.draw_tab
    tab.start_for_task("RW-PAPERS")
    scr = tab.open_session(session.id)
    assert scr.btn_papers.isEnabled() and scr.btn_papers.isVisible()
    shot(window, "session-closed-page")
    qtbot.mouseClick(scr.btn_papers, Qt.MouseButton.LeftButton)
    papers = made[0].papers
    assert papers is not None and papers.session_id == session.id
    (pdf,) = papers.written
    assert opened == [str(pdf)]
    assert any("已生成" in text and "第1号" in text for kind, text in messages if kind == "information")
    text = "".join(pages_text(pdf))
    for x in session.result:
        assert x["id"] in text
    # The history: the same action for the selected (confirmed) session.
    tab.show_chooser()
    assert tab.btn_papers.isEnabled()
    qtbot.mouseClick(tab.btn_papers, Qt.MouseButton.LeftButton)
    second = made[1].papers
    assert second is not None and len(second.written) == len(session.result)
    assert all(pp.RECORD_TITLE in p.name for p in second.written)
    # A voided session is refused before any dialog opens.
    sessions.void(window.db, session.id, "测试作废")
    print_papers(tab, window.db, session.id)
    assert len(made) == 2
    assert "已作废" in messages[-1][1] and messages[-1][0] == "warning"


def test_scanning_a_paper_opens_that_targets_result_form(
    window: MainWindow,  # noqa: F811
    session: sessions.Session,
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    papers = run_job(pp.make_papers(window.db, session.id, tmp_path))
    (pdf,) = papers.written
    texts = pages_text(pdf)
    second = session.result[1]["id"]
    page = next(i for i, t in enumerate(texts) if f"检查对象：{second}" in t)
    (code,) = page_codes(pdf, [page])[page]  # what the scanner reads off the paper
    opened_forms: list[ResultDialog] = []

    def show_form(dlg: ResultDialog) -> int:
        opened_forms.append(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        shot(dlg, "result-form-after-scan")
        for w, h in ((1920, 1080), (1024, 768)):
            window.resize(w, h)
            shot(window, f"results-tab-after-scan-{w}")
        dlg.close()
        return 0

    monkeypatch.setattr(ResultDialog, "exec", show_form)
    window.show_results()
    tab = window.results_tab
    tab.refresh()
    assert tab.scan.isVisible()
    tab.scan.setFocus()
    qtbot.keyClicks(tab.scan, code)  # a USB scanner is a keyboard: it types the text and Enter
    qtbot.keyClick(tab.scan, Qt.Key.Key_Return)
    (form,) = opened_forms
    assert [r.key for r in form.rows] == [(session.id, second)]
    assert any(session.target_names[second] in label.text() for label in form.findChildren(QLabel))
    assert tab.scan.text() == ""  # ready for the next paper
    assert [r.key for r in tab.selected_rows()] == [(session.id, second)]
    # A paper printed before the substitution still opens its target's form, with a note.
    with window.db.read() as conn:
        v1 = sessions.record_versions(conn, session.id)[0][1]
    first = session.result[0]["id"]
    tab.enter_scanned(pp.scan_text(session.id, first, v1))
    assert [r.key for r in opened_forms[-1].rows] == [(session.id, first)]
    assert "递补" in messages[-1][1] and messages[-1][0] == "information"
    # Anything else is refused with a message, and no form opens.
    qtbot.keyClicks(tab.scan, "hello")
    qtbot.keyClick(tab.scan, Qt.Key.Key_Return)
    assert len(opened_forms) == 2
    assert messages[-1][0] == "warning" and "不是检查文书上的二维码" in messages[-1][1]
