"""The 抽取 tab, the session screen and the projector, driven with pytest-qt (offscreen).

No test asserts anything about time: the animation is stopped or waited for by its state."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from dsj_desktop.db.engine import Database
from dsj_desktop.draw.record import verify_record
from dsj_desktop.keys import group_hex
from dsj_desktop.publish import record_pdf as rp
from dsj_desktop.publish.session_files import record_pdf_path
from dsj_desktop.services import draw_ready, sessions, settings
from dsj_desktop.ui.draw.dialogs import ExportDialog, SubstituteDialog
from dsj_desktop.ui.draw.paint import WRITE_FIRST
from dsj_desktop.ui.draw.session import SessionScreen
from dsj_desktop.ui.draw.stage import (
    CLOSED,
    NOTICE,
    RESULT,
    REVEAL,
    ROLLING,
    SPEED_KEY,
    WITNESSES,
)
from dsj_desktop.ui.main_window import MainWindow

from .pdf_helpers import pdf_pages_text
from .test_ui_directories import messages, window  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Files the program asks the system to open (a PDF viewer), recorded instead."""
    seen: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: seen.append(url.toLocalFile()) or True)
    return seen


def start(window: MainWindow, qtbot: Any, task: str = "RW-2026-04") -> SessionScreen:  # noqa: F811
    tab = window.draw_tab
    assert tab.start_for_task(task)
    assert window.tabs.currentWidget() is tab
    tab.operator.setText("王明")
    tab.place.setText("三楼会议室")
    qtbot.mouseClick(tab.btn_start, Qt.MouseButton.LeftButton)
    assert tab.session_screen is not None
    return tab.session_screen


def add_witness(scr: SessionScreen, qtbot: Any, name: str, digits: str) -> None:
    scr.witness_name.setText(name)  # QTest cannot type Chinese
    qtbot.keyClicks(scr.witness_digits, digits)
    qtbot.mouseClick(scr.btn_add_witness, Qt.MouseButton.LeftButton)


def test_the_tab_shows_the_pool_rules_and_sessions(window: MainWindow) -> None:  # noqa: F811
    tab = window.draw_tab
    assert tab.start_for_task("RW-2026-02")
    pv = tab.preview
    assert pv is not None and pv.task.code == "RW-2026-02"
    strata = tab.models["strata"].rows
    assert len(strata) == 13 and strata[-1] == ["合计", 2395, 120]  # 12 towns, quotas by region balance
    assert {r[0] for r in strata[:-1]} >= {"城关镇", "龙泉镇"}
    assert len(tab.models["exclusions"].rows) == len(pv.pool.pool.exclusions) > 0
    assert all(r[2] for r in tab.models["exclusions"].rows)  # every exclusion has its reason
    assert len(tab.models["mandatory"].rows) == 11  # 黑名单
    assert len(tab.models["inspectors"].rows) == len(pv.inspectors) > 2
    rules = tab.rules_text.toPlainText()
    assert "区域均衡" in rules and "黑名单" in rules and "向上取整" in rules
    assert tab.btn_start.isEnabled()
    assert not tab.start_for_task("RW-NO-SUCH")


def test_the_tab_says_when_the_draw_date_is_outside_the_task_period(window: MainWindow) -> None:  # noqa: F811
    """As the plan tab says it: a draw outside 2026-03-01 to 2026-12-15 needs a written reason."""
    tab = window.draw_tab
    assert tab.start_for_task("RW-2026-02")
    tab.date_edit.setDate(QDate(2026, 12, 16))
    assert "期限已过（2026-12-15 截止），抽取须写明原因" in tab.summary.text()
    tab.date_edit.setDate(QDate(2026, 2, 28))
    assert "期限未到（2026-03-01 开始），抽取须写明原因" in tab.summary.text()
    tab.date_edit.setDate(QDate(2026, 12, 15))
    assert "期限" not in tab.summary.text()


def test_a_whole_session_from_the_gui(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
    opened: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    db: Database = window.db
    # (On a server the first draw saves the PDF certificate there, a write of its own after which
    # the pool is read again: made here first, so that the draw starts from the pool shown.)
    assert draw_ready.signing_problems(db, create=True) == []
    scr = start(window, qtbot)
    c = scr.controller
    s = c.session
    assert s.status == sessions.COMMITTED and c.step == NOTICE and s.witnesses == []
    assert s.place == "三楼会议室" and s.operator == "王明"
    # The notice shows without decoding the frozen candidates (7 MB at city scale) on the GUI thread.
    assert "inputs" not in vars(s) and scr.result_model.rowCount() == 0
    # the notice prints before any witness speaks
    notice = tmp_path / "公告.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(notice), ""))
    qtbot.mouseClick(scr.btn_print_notice, Qt.MouseButton.LeftButton)
    (page,) = pdf_pages_text(notice)
    assert s.commitment in page and opened == [str(notice)]
    qtbot.mouseClick(scr.btn_to_witnesses, Qt.MouseButton.LeftButton)
    assert c.step == WITNESSES and not scr.btn_reveal.isEnabled()
    # Spec §3.5: every witness writes their digits down before any is read out; the operator confirms it.
    assert scr.write_first.isVisible() and "先写定，后宣读" in scr.write_first.text()
    assert not scr.witness_name.isEnabled() and not scr.btn_add_witness.isEnabled()
    assert scr.witness_name.maxLength() == sessions.MAX_WITNESS_NAME
    qtbot.mouseClick(scr.btn_fixed, Qt.MouseButton.LeftButton)
    assert c.digits_fixed and scr.witness_name.isEnabled() and not scr.btn_fixed.isVisible()
    scr.witness_name.setText("张三（企业代表）")
    qtbot.keyClicks(scr.witness_digits, "3141")
    assert c.pending == ("张三（企业代表）", "3141")  # shown on the stage as it is typed
    qtbot.keyClicks(scr.witness_digits, "5926535")
    qtbot.mouseClick(scr.btn_add_witness, Qt.MouseButton.LeftButton)
    assert not scr.btn_reveal.isEnabled() and "还需 9 位" in scr.digits_label.text()
    add_witness(scr, qtbot, "李四（纪检监督员）", "27182818284")
    assert scr.btn_reveal.isEnabled()
    qtbot.mouseClick(scr.btn_reveal, Qt.MouseButton.LeftButton)
    assert c.step == REVEAL and c.session.status == sessions.REVEALED
    h, ok = c.nonce_check()
    assert ok and h == c.session.commitment and c.seed_check()
    result = list(c.session.result)
    # the animation only shows what the seed fixed: let one target land, then stop it
    qtbot.mouseClick(scr.btn_roll, Qt.MouseButton.LeftButton)
    assert c.step == ROLLING and c.roll is not None
    qtbot.waitUntil(lambda: len(c.roll.landed_targets) >= 1, timeout=20000)
    qtbot.mouseClick(scr.btn_stop, Qt.MouseButton.LeftButton)
    assert c.step == RESULT and c.session.result == result
    assert scr.result_model.rowCount() == len(result) == 11
    qtbot.mouseClick(scr.btn_confirm, Qt.MouseButton.LeftButton)
    assert c.step == CLOSED
    s = sessions.get_session(db, s.id)
    assert s.status == sessions.CONFIRMED and s.result == result and s.record is not None
    assert verify_record(s.record).ok
    assert db.scalar("SELECT count(*) FROM draw_selection WHERE session_id = :s", {"s": s.id}) == 11
    with db.read() as conn:
        events = sessions.events(conn, s.id)
    kinds = [e["kind"] for e in events]
    assert kinds == ["prepare", "commit", "witnesses_fixed", "witness", "witness", "reveal", "confirm"]
    assert events[0]["detail"]["reused_plan"]  # the pool the tab showed, frozen as it was read
    pdf = record_pdf_path(db, s)  # written on confirmation
    assert rp.verify_record_pdf(pdf).ok
    qtbot.mouseClick(scr.btn_open_pdf, Qt.MouseButton.LeftButton)
    assert opened[-1] == str(pdf)

    # A second attempt, voided: it stays, with its reason, and the tab lists both.
    qtbot.mouseClick(scr.btn_back, Qt.MouseButton.LeftButton)
    # The answer both to "why draw again" and to "why void".
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("见证人未到场", True))
    scr2 = start(window, qtbot)
    c2 = scr2.controller
    assert c2.session.id != s.id
    assert c2.session.task["again"] == {"reason": "见证人未到场", "confirmed": [s.id]}
    qtbot.mouseClick(scr2.btn_void, Qt.MouseButton.LeftButton)
    v = sessions.get_session(db, c2.session.id)
    assert v.status == sessions.VOIDED and v.void_reason == "见证人未到场" and c2.step == CLOSED
    assert v.record is not None and v.record["status"] == "voided" and v.record["nonce"] == v.nonce
    scr2.stage.render_image()
    assert "本场次已作废" in scr2.stage.painted and any("见证人未到场" in t for t in scr2.stage.painted)
    qtbot.mouseClick(scr2.btn_back, Qt.MouseButton.LeftButton)
    rows = window.draw_tab.sessions_model.rows
    assert [(r[0], r[2], r[4]) for r in rows] == [(s.id, "已确认", ""), (v.id, "已作废", "见证人未到场")]
    # any session's page opens again from the list
    window.draw_tab.sessions_view.selectRow(0)
    qtbot.mouseClick(window.draw_tab.btn_open, Qt.MouseButton.LeftButton)
    assert window.draw_tab.session_screen.controller.session.id == s.id


def test_the_projector_follows_the_operator(window: MainWindow, qtbot: Any) -> None:  # noqa: F811
    scr = start(window, qtbot)
    c = scr.controller
    proj = scr.open_projector()
    assert proj is not None
    qtbot.waitExposed(proj)
    assert proj.isFullScreen() and proj.geometry() == proj.screen().geometry()  # one screen: a rehearsal
    assert proj.stage.controller is c  # the same state, not a copy

    def same_step() -> None:
        proj.stage.render_image()
        scr.stage.render_image()
        assert proj.stage.painted_step == scr.stage.painted_step == c.step
        shown = {t for t in proj.stage.painted if len(t) > 3}
        assert shown == {t for t in scr.stage.painted if len(t) > 3}  # the same words, each at its own size

    same_step()
    assert any(c.session.commitment[:19] == t.replace(" ", "")[:19] for t in proj.stage.painted) or any(
        group_hex(c.session.commitment)[:20] in t for t in proj.stage.painted
    )
    c.go(WITNESSES)
    same_step()
    assert WRITE_FIRST in proj.stage.painted  # before any digit is read out (spec §3.5)
    c.fix_witnesses()
    same_step()
    assert WRITE_FIRST not in proj.stage.painted
    c.add_witness("张三", "31415926535")
    c.set_pending("李四", "2718")
    same_step()
    assert any("2718" in t for t in proj.stage.painted)
    c.add_witness("李四", "27182818284")
    c.reveal()
    same_step()
    assert any("H(N) = C" in t for t in proj.stage.painted)
    c.start_roll()
    same_step()
    c.stop_roll()
    same_step()
    # nothing private on the public screen: no phone numbers, no 执法证号
    with window.db.read() as conn:
        phones = [str(r[0]) for r in conn.exec_driver_sql("SELECT phone FROM inspector")]
    text = "".join(proj.stage.painted)
    assert not any(i[0] in text for i in c.session.inputs["inspectors"])
    assert not any(p and p in text for p in phones)
    # Esc on the operator's side closes the projector
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(scr.speed_combo, Qt.Key.Key_Escape)
    assert scr.projector is None and not scr.btn_projector.isChecked()


def test_substitution_from_the_session_page(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
    opened: list[str],
) -> None:
    db: Database = window.db
    s = sessions.prepare(db, "RW-2026-04", operator="王明")
    s = sessions.commit(db, s.id)
    for name, digits in (("甲", "31415926535"), ("乙", "27182818284")):
        s = sessions.add_witness(db, s.id, name, digits)
    sessions.do_reveal(db, s.id)
    s = sessions.confirm(db, s.id, operator="王明")
    tab = window.draw_tab
    tab.start_for_task("RW-2026-04")
    scr = tab.open_session(s.id)
    assert scr.controller.step == CLOSED and scr.btn_substitute.isEnabled()
    dlg = SubstituteDialog(scr.controller, scr)
    qtbot.addWidget(dlg)
    target = s.result[2]["id"]
    dlg.target.setCurrentIndex(dlg.target.findData(target))
    removed = s.result[2]["inspectors"][1]
    dlg.member.setCurrentIndex(dlg.member.findData(f"inspector:{removed}"))
    dlg.reason.setText("因公出差")
    skip = dlg.other.itemData(0)
    dlg.other_reason.setText("病假")
    dlg.add_unavailable()
    assert dlg.unavailable == [(skip, "病假")]
    qtbot.mouseClick(dlg.btn_apply, Qt.MouseButton.LeftButton)
    new = dlg.substitution
    assert (
        new.removed == removed and new.skipped == ((skip, "病假"),) and new.substitute not in (removed, skip)
    )
    assert "递补完成" in dlg.outcome.text() and s.inspector_names[new.substitute] in dlg.outcome.text()
    s2 = sessions.get_session(db, s.id)
    assert s2.record_version == 2 and s2.record is not None and verify_record(s2.record).ok
    assert s2.current_teams()[target]["inspector"][1] == new.substitute
    scr.stage.render_image()
    assert any(t.startswith("最近一次递补") for t in scr.stage.painted)
    assert any("（递补）" in row[5] for row in scr.result_model.rows)


def test_expert_substitution_from_the_session_page(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
    opened: list[str],
) -> None:
    from datetime import date

    db: Database = window.db
    s = sessions.prepare(db, "RW-2026-03", operator="王明", on=date(2026, 6, 1))
    s = sessions.commit(db, s.id)
    for name, digits in (("甲", "31415926535"), ("乙", "27182818284")):
        s = sessions.add_witness(db, s.id, name, digits)
    sessions.do_reveal(db, s.id)
    s = sessions.confirm(db, s.id, operator="王明")
    tab = window.draw_tab
    tab.start_for_task("RW-2026-03")
    scr = tab.open_session(s.id)
    dlg = SubstituteDialog(scr.controller, scr)
    qtbot.addWidget(dlg)
    target = s.result[0]["id"]
    dlg.target.setCurrentIndex(dlg.target.findData(target))
    removed = s.result[0]["experts"][0]
    dlg.member.setCurrentIndex(dlg.member.findData(f"expert:{removed}"))
    dlg.reason.setText("回避")
    skip = dlg.other.itemData(0)
    dlg.other_reason.setText("外地")
    dlg.add_unavailable()
    qtbot.mouseClick(dlg.btn_apply, Qt.MouseButton.LeftButton)
    assert not messages, messages
    new = dlg.substitution
    assert new.kind == sessions.EXPERT and new.removed == removed and new.skipped == ((skip, "外地"),)
    assert "递补完成" in dlg.outcome.text()
    s2 = sessions.get_session(db, s.id)
    assert s2.record is not None and s2.record_version == 2 and verify_record(s2.record).ok
    assert s2.record["substitutions"][0]["kind"] == "expert"
    assert s2.current_teams()[target]["expert"] == [new.substitute]


def test_export_to_a_folder(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
    tmp_path: Path,
) -> None:
    db: Database = window.db
    s = sessions.commit(db, sessions.prepare(db, "RW-2026-04", operator="王明").id)
    for name, digits in (("甲", "31415926535"), ("乙", "27182818284")):
        sessions.add_witness(db, s.id, name, digits)
    sessions.do_reveal(db, s.id)
    s = sessions.confirm(db, s.id)
    dlg = ExportDialog(db, s.id)
    qtbot.addWidget(dlg)
    assert dlg.places.count() >= 1  # at least the home folder
    usb = tmp_path / "U盘"
    usb.mkdir()
    written = dlg.export_to(usb)
    names = sorted(w.path.name for w in written)
    assert names == sorted([f"{s.id}.pdf", f"{s.id}.json", f"{s.id}-抽取结果.xlsx"])
    assert messages and messages[-1][0] == "information"
    assert all(n in messages[-1][1] for n in names) and "KB" in messages[-1][1]


def test_speed_is_remembered_and_skipping_shows_the_result(window: MainWindow, qtbot: Any) -> None:  # noqa: F811
    from dsj_desktop.ui.draw.controller import remembered

    scr = start(window, qtbot)
    c = scr.controller
    scr.speed_combo.setCurrentIndex(scr.speed_combo.findData("fast"))
    assert c.speed == "fast" and remembered(window.db, SPEED_KEY) == "fast"
    c.go(WITNESSES)
    c.add_witness("甲", "12345678901234567890")
    c.reveal()
    qtbot.mouseClick(scr.btn_skip, Qt.MouseButton.LeftButton)
    assert c.step == RESULT and scr.result_box.isVisible()


@pytest.fixture
def as_operator(window: MainWindow) -> Any:  # noqa: F811
    """Accounts exist and an operator (操作员: draws, but may not change the bureau's settings) works."""
    from dsj_desktop import actor
    from dsj_desktop.services import accounts

    pw = "Draw-day-2026"
    accounts.create_account(window.db, "admin", "王局长", actor.ADMIN, pw, with_recovery=True)
    accounts.login(window.db, "admin", pw)
    accounts.create_account(window.db, "op", "李操作", actor.OPERATOR, pw)
    accounts.login(window.db, "op", pw)
    yield
    actor.set_current(None)


def test_an_operator_draws_and_the_screen_s_choices_are_kept_on_this_pc(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
    as_operator: None,
) -> None:
    """An operator runs the draw: starting it, choosing the speed and opening the projector write no
    setting (only administrators may), so nothing is refused; place, operator, speed and projector
    screen are remembered on this PC (prefs, beside the data) and offered again next time."""
    from dsj_desktop.ui.draw.controller import remembered
    from dsj_desktop.ui.draw.session import PROJECTOR_SCREEN_KEY
    from dsj_desktop.ui.draw.tab import OPERATOR_KEY, PLACE_KEY, DrawTab

    db = window.db
    scr = start(window, qtbot)
    assert scr.controller.session.status == sessions.COMMITTED
    scr.speed_combo.setCurrentIndex(scr.speed_combo.findData("slow"))
    projector = scr.open_projector()
    assert projector is not None and projector.isVisible()
    scr.close_projector()
    assert messages == []  # no refusal anywhere
    screen = scr.chosen_screen()
    assert screen is not None
    kept = {k: remembered(db, k) for k in (PLACE_KEY, OPERATOR_KEY, SPEED_KEY, PROJECTOR_SCREEN_KEY)}
    assert kept == {PLACE_KEY: "三楼会议室", OPERATOR_KEY: "王明", SPEED_KEY: "slow",
                    PROJECTOR_SCREEN_KEY: screen.name()}  # fmt: skip
    assert not [k for k in settings.read_all(db) if k.startswith("draw_")]  # the bureau's settings untouched
    again = DrawTab(db)
    qtbot.addWidget(again)
    assert (again.place.text(), again.operator.text()) == ("三楼会议室", "王明")


TWO_SCREENS = r"""
import json, sys
from tests.demo_dates import pinned_day
pin = pinned_day()  # the program's today: a day of the demo's year, as in the window fixture
pin.__enter__()
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
from dsj_desktop.ui.app import setup_application
setup_application(app)
from pathlib import Path
from dsj_desktop.db.engine import open_database
from dsj_desktop.ui.main_window import MainWindow
db = open_database(Path(sys.argv[1]))
w = MainWindow(db)
w.setGeometry(app.screens()[0].availableGeometry())
w.show()
tab = w.draw_tab
tab.start_for_task("RW-2026-04")
tab.operator.setText("王明")
scr = tab.start_session()
proj = scr.open_projector()
for _ in range(5):
    app.processEvents()
out = {"screens": [s.name() for s in app.screens()], "operator": w.screen().name(),
       "combo": scr.screen_combo.currentData(), "projector": proj.screen().name(),
       "full": proj.isFullScreen(), "geometry": proj.geometry().getRect(),
       "screen_geometry": proj.screen().geometry().getRect()}
steps = []
c = scr.controller
for action in (lambda: c.go("witnesses"), lambda: c.add_witness("甲", "31415926535"),
               lambda: c.add_witness("乙", "27182818284"), c.reveal, c.start_roll, c.stop_roll):
    action()
    proj.stage.render_image(); scr.stage.render_image()
    steps.append([proj.stage.painted_step, scr.stage.painted_step,
                  sorted(t for t in proj.stage.painted if len(t) > 3) == sorted(t for t in scr.stage.painted if len(t) > 3)])
out["steps"] = steps
scr.close_projector()
out["closed"] = scr.projector is None
print(json.dumps(out))
"""


def test_two_screens_the_projector_goes_full_screen_on_the_second(
    demo_data_dir: Path, tmp_path: Path
) -> None:
    cfg = tmp_path / "screens.json"
    cfg.write_text(json.dumps({"screens": [
        {"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768, "logicalDpi": 96, "dpr": 1},
        {"name": "projector", "x": 1366, "y": 0, "width": 1920, "height": 1080, "logicalDpi": 96, "dpr": 1},
    ]}))  # fmt: skip
    data = tmp_path / "data"
    shutil.copytree(demo_data_dir, data)
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={cfg}", PYTHONIOENCODING="utf-8")
    proc = subprocess.run([sys.executable, "-c", TWO_SCREENS, str(data)], capture_output=True, text=True,
                          encoding="utf-8", env=env, cwd=ROOT, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["screens"] == ["laptop", "projector"]
    assert out["operator"] == "laptop" and out["combo"] == "projector" and out["projector"] == "projector"
    assert out["full"] and out["geometry"] == out["screen_geometry"] == [1366, 0, 1920, 1080]
    assert [s[0] for s in out["steps"]] == [
        "witnesses",
        "witnesses",
        "witnesses",
        "reveal",
        "rolling",
        "result",
    ]
    assert all(p == o and same for p, o, same in out["steps"])
    assert out["closed"]
    assert "Traceback" not in proc.stderr


def test_qapplication_font_is_used_on_the_stage(window: MainWindow) -> None:  # noqa: F811
    from dsj_desktop.ui.fonts import stage_fonts

    text, mono = stage_fonts()
    assert text == QApplication.font().family() and "Mono" in mono


def test_every_write_runs_off_the_gui_thread_and_is_announced(
    window: MainWindow,  # noqa: F811
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
    opened: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """prepare, commit, witnesses, reveal, confirm, substitute and void run on a worker thread while
    the GUI keeps handling events (the projector keeps painting); each write reaches the window's hub."""
    import threading
    import time

    from PySide6.QtCore import QTimer

    gui = threading.current_thread()
    threads: dict[str, list[bool]] = {}
    for name in ("prepare", "commit", "fix_witnesses", "add_witness", "do_reveal", "confirm", "substitute",
                 "void"):  # fmt: skip
        real = getattr(sessions, name)

        def spy(*a: Any, _real: Any = real, _name: str = name, **k: Any) -> Any:
            threads.setdefault(_name, []).append(threading.current_thread() is not gui)
            if _name == "fix_witnesses":
                time.sleep(0.3)  # long enough for the GUI's timers to fire meanwhile
            return _real(*a, **k)

        monkeypatch.setattr(sessions, name, spy)
    sent_before = len(window.hub.sent)
    scr = start(window, qtbot)
    c = scr.controller
    assert len(window.hub.sent) > sent_before and "draw" in window.hub.sent[-1]
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    c.go(WITNESSES)
    qtbot.mouseClick(scr.btn_fixed, Qt.MouseButton.LeftButton)
    timer.stop()
    assert c.digits_fixed and len(ticks) >= 3  # the event loop ran during the write
    for name, digits in (("张三", "31415926535"), ("李四", "27182818284")):
        n = len(window.hub.sent)
        add_witness(scr, qtbot, name, digits)
        assert len(window.hub.sent) == n + 1 and window.hub.sent[-1] == frozenset({"draw"})
    qtbot.mouseClick(scr.btn_reveal, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(scr.btn_skip, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(scr.btn_confirm, Qt.MouseButton.LeftButton)
    assert c.session.status == sessions.CONFIRMED
    x = c.session.result[0]
    c.substitute(x["id"], x["inspectors"][0], "因公出差")
    n = len(window.hub.sent)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("测试作废", True))
    qtbot.mouseClick(scr.btn_void, Qt.MouseButton.LeftButton)
    assert c.session.status == sessions.VOIDED and len(window.hub.sent) == n + 1
    assert set(threads) == {"prepare", "commit", "fix_witnesses", "add_witness", "do_reveal", "confirm",
                            "substitute", "void"}  # fmt: skip
    assert all(all(v) for v in threads.values()), threads
