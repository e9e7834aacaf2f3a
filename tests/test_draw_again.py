"""A second draw of a task with a confirmed draw needs a reason: the core and the command line
refuse without one, the GUI asks for it, the new record (and its PDF) prints it with the earlier
session; the plan tab no longer says 可以抽取 for a drawn task."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QInputDialog

from dsj_desktop.cli import main
from dsj_desktop.db.engine import Database
from dsj_desktop.progress import run_job
from dsj_desktop.publish.session_files import write_session_files
from dsj_desktop.services import sessions
from dsj_desktop.ui.plan_tab import TaskTableModel as M

from .demo_dates import DEMO_DAY
from .pdf_helpers import pdf_pages_text
from .test_draw_sessions import full_draw
from .test_ui_draw import start
from .test_ui_plan import cell, show_plan, window  # noqa: F401  (fixture)

ON = date(2026, 6, 1)
WITNESSES = ["--witness", "企业代表=3141592653", "--witness", "纪检监督员=2718281828"]


def test_a_second_draw_needs_a_reason_printed_in_the_record(demo_db: Database, tmp_path: Path) -> None:
    first = full_draw(demo_db, "RW-2026-03", on=ON)
    with pytest.raises(sessions.DrawError, match=f"已有确认的抽取场次 {first.id}.*--again"):
        sessions.prepare(demo_db, "RW-2026-03", on=ON)
    assert demo_db.scalar("SELECT count(*) FROM draw_session") == 1
    with pytest.raises(sessions.DrawError, match="须写明原因"):
        sessions.prepare(demo_db, "RW-2026-03", on=ON, again="   ")
    second = full_draw(demo_db, "RW-2026-03", on=date(2026, 7, 1), again="首次抽中的企业半数已停产")
    assert second.record is not None
    assert second.record["task"]["again"] == {"reason": "首次抽中的企业半数已停产", "confirmed": [first.id]}
    assert [p["session"] for p in second.record["previous"]] == [first.id]
    pdf = run_job(write_session_files(demo_db, second, tmp_path))[1]
    text = "".join(pdf_pages_text(pdf))
    assert "再次抽取的原因：首次抽中的企业半数已停产" in text
    assert f"此前已确认的场次{first.id}" in text


def test_the_cli_refuses_without_again(demo_data_dir: Path, tmp_path: Path, capsys: Any) -> None:
    args = ["draw", "RW-2026-03", "--date", ON.isoformat(), *WITNESSES]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "b")]) != 0
    captured = capsys.readouterr()
    assert "--again" in captured.err + captured.out
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    assert main([*args, "--out", str(tmp_path / "b"), "--again", "复查"]) == 0


def test_gui_plan_tab_and_draw_tab(window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    first = full_draw(window.db, "RW-2026-04", on=DEMO_DAY)  # the day the window is pinned to
    window.plan_tab.refresh()
    tab = show_plan(window, qtbot)
    status = cell(tab, "RW-2026-04", M.STATUS)
    assert status.startswith("已抽取") and first.id in status and "可以抽取" not in status
    asked: list[str] = []

    def answer(*args: Any, **kw: Any) -> tuple[str, bool]:
        asked.append(args[2])
        return ("上次抽中的企业已关停", True)

    monkeypatch.setattr(QInputDialog, "getText", answer)
    scr = start(window, qtbot, "RW-2026-04")
    assert asked and first.id in asked[0]
    assert scr.controller.session.task["again"]["reason"] == "上次抽中的企业已关停"
