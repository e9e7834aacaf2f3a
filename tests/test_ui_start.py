"""The start-up flow of the GUI (GuiSession): the window first, then the lock, the data, the first
account or the login, the start page, the checks and backups at start; a second copy refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from dsj_desktop import actor
from dsj_desktop.actor import ADMIN
from dsj_desktop.db import lock
from dsj_desktop.db.engine import open_database
from dsj_desktop.services import accounts, journal
from dsj_desktop.ui.app import GuiSession, setup_application
from dsj_desktop.ui.main_window import MainWindow

PW = "secret123"


@pytest.fixture(autouse=True)
def clean(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Any:
    setup_application(qapp)
    actor.set_current(None)
    monkeypatch.setattr(qapp, "exit", lambda code=0: None)  # the session must not end the test run
    monkeypatch.setattr(qapp, "quit", lambda: None)
    yield
    actor.set_current(None)


def _session(qapp: QApplication, qtbot: Any, data: Path) -> tuple[GuiSession, MainWindow]:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    return GuiSession(qapp, window, data, self_test=False, user=""), window


class _FakeWizard:
    """What the first-run wizard leaves behind when the user completes it (tested on its own in
    test_ui_trust.py): an administrator, logged in, and the user's choice."""

    choice = "demo"

    def __init__(self, db: Any, parent: Any) -> None:
        self.db = db

    def exec(self) -> int:
        accounts.create_account(self.db, "admin", "王局长", ADMIN, PW, with_recovery=True)
        accounts.login(self.db, "admin", PW)
        return 1


def test_first_start_sets_up_the_administrator_then_fills_the_window(
    qapp: QApplication, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dsj_desktop.ui.first_run as first_run

    monkeypatch.setattr(first_run, "FirstRunWizard", _FakeWizard)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: QMessageBox.StandardButton.Ok)
    data = tmp_path / "new"
    session, window = _session(qapp, qtbot, data)
    assert window.centralWidget() is window.opening  # shown before any data is opened
    session.open()
    try:
        assert actor.current() is not None and actor.current().username == "admin"
        assert window.db is session.db
        assert window.home.cards["targets"].value.text() == "3,000"  # the demo the wizard chose
        assert "王局长（admin）" in window.windowTitle()
        qtbot.waitUntil(lambda: not session.check.running, timeout=30000)
        assert session.check.report is not None and session.check.report.ok
        session.daily.wait()
        assert list((data / "backups").glob("auto-*start*.sqlite3"))
        actions = [e.action for e in journal.entries(session.db)]  # type: ignore[arg-type]
        assert "装入演示数据（青山县，虚构）" in actions
    finally:
        session.close()


def test_a_later_start_asks_for_the_password(
    qapp: QApplication, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "d"
    db = open_database(data)
    accounts.create_account(db, "admin", "王局长", ADMIN, PW, with_recovery=True)
    db.close()
    actor.set_current(None)
    import dsj_desktop.ui.login as login

    asked: list[str] = []

    def fake_exec(self: Any) -> int:
        asked.append("login")
        accounts.login(self.db, "admin", PW)
        return 1

    monkeypatch.setattr(login.LoginDialog, "exec", fake_exec)
    session, window = _session(qapp, qtbot, data)
    session.open()
    try:
        assert asked == ["login"] and actor.current() is not None
        assert window.db is not None
    finally:
        session.close()
    # With the single-user setting, no password is asked.
    db = open_database(data)
    accounts.login(db, "admin", PW)
    accounts.set_auto_login(db, "admin")
    db.close()
    actor.set_current(None)
    asked.clear()
    session, window = _session(qapp, qtbot, data)
    session.open()
    try:
        assert asked == [] and actor.current() is not None and actor.current().username == "admin"
        assert any("免密码登录" in e.action for e in journal.entries(session.db, limit=3))  # type: ignore[arg-type]
    finally:
        session.close()


def test_giving_up_at_the_login_ends_the_program(
    qapp: QApplication, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "d"
    db = open_database(data)
    accounts.create_account(db, "admin", "", ADMIN, PW)
    db.close()
    actor.set_current(None)
    import dsj_desktop.ui.login as login

    monkeypatch.setattr(login.LoginDialog, "exec", lambda self: 0)
    ended: list[int] = []
    monkeypatch.setattr(qapp, "exit", lambda code=0: ended.append(code))
    session, window = _session(qapp, qtbot, data)
    session.open()
    try:
        assert ended == [0] and window.db is None  # nothing shown without an account
    finally:
        session.close()


def test_a_second_copy_is_refused_and_an_interrupted_import_is_reported(
    qapp: QApplication, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "d"
    open_database(data).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from dsj_desktop.db import lock; "
         "lock.acquire(Path(sys.argv[1])); print('held', flush=True); time.sleep(30)", str(data)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        session, window = _session(qapp, qtbot, data)
        session.open()
        assert session.exit_code == 1 and "正被另一个已打开的本程序使用" in shown[0]
        assert window.db is None
        session.close()
    finally:
        holder.kill()
        holder.wait()
    # An import killed in another run: the next start says so on the start page.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (data / f"operation-{int(dead.stdout)}-1.json").write_text(
        '{"action": "导入检查对象名录库：文件“名录.xlsx”", "started": "2026-11-23T09:00:00", "pid": '
        + dead.stdout.strip()
        + "}",
        encoding="utf-8",
    )
    import dsj_desktop.ui.first_run as first_run

    monkeypatch.setattr(first_run, "FirstRunWizard", type("W", (_FakeWizard,), {"choice": "later"}))
    session, window = _session(qapp, qtbot, data)
    session.open()
    try:
        assert not window.home.notices.isHidden()
        assert "导入检查对象名录库" in window.home.notices.text() and "没有完成" in window.home.notices.text()
        qtbot.waitUntil(lambda: not session.check.running, timeout=30000)
    finally:
        session.close()
    assert not lock._held
