"""连接单位服务器 in the GUI: the dialog builds the server's URL, tests it against a real server (each
answer in Chinese), never writes the password, and connecting reopens the window on the server (the
status bar says where the data is); 断开服务器 goes back to the data folder's file. The password a
server asks for later is asked in a dialog, also when a worker thread opens the connection."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from dsj_desktop import actor
from dsj_desktop.actor import ADMIN
from dsj_desktop.db import pg
from dsj_desktop.db.engine import open_database
from dsj_desktop.services import accounts
from dsj_desktop.ui import server_dialog
from dsj_desktop.ui.app import GuiSession, setup_application
from dsj_desktop.ui.main_window import MainWindow
from dsj_desktop.ui.server_dialog import ServerDialog, server_url
from tests.pg_server import PgServer, pg_bin_dir

pytestmark = pytest.mark.skipif(
    pg_bin_dir() is None and not os.environ.get("CI"), reason="no PostgreSQL server package installed"
)

PW = "secret123"  # the program's own account
SERVER_PW = "Srv-pa55word-7x"  # the server role's password: must never reach a file
ROLE = "clerk_gui"


@pytest.fixture(autouse=True)
def clean(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    setup_application(qapp)
    actor.set_current(None)
    monkeypatch.setattr(qapp, "exit", lambda code=0: None)
    monkeypatch.setattr(qapp, "quit", lambda: None)
    monkeypatch.delenv("DSJ_DATABASE_URL", raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setattr(pg, "password_prompt", None)
    yield
    actor.set_current(None)


@pytest.fixture(scope="module")
def password_role(pg_server: PgServer) -> str:
    """A server role that must give its password (scram), as a unit's server asks of a workstation."""
    hba = pg_server.root / "data" / "pg_hba.conf"
    line = f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n"
    text = hba.read_text()
    if line not in text:
        hba.write_text(line + text)
    pg_server.admin(f"DROP ROLE IF EXISTS {ROLE}")
    pg_server.admin(f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{SERVER_PW}'")
    pg_server.admin("SELECT pg_reload_conf()")
    return ROLE


@pytest.fixture
def role_db(pg_server: PgServer, password_role: str) -> Iterator[str]:
    """A fresh empty database owned by the password role: its name."""
    name = pg_server.create_database()
    pg_server.admin(f'ALTER DATABASE "{name}" OWNER TO {password_role}')
    pg_server.admin(f'GRANT ALL ON DATABASE "{name}" TO {password_role}')
    yield name
    pg_server.drop_database(name)


def _fill(dialog: ServerDialog, port: int, dbname: str, user: str = ROLE, password: str = "") -> None:
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(port)
    dialog.dbname.setText(dbname)
    dialog.user.setText(user)
    dialog.password.setText(password)


def _files_holding(folder: Path, secret: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_the_dialog_builds_the_server_url_without_the_password(qtbot: Any) -> None:
    dialog = ServerDialog()
    qtbot.addWidget(dialog)
    assert dialog.port.value() == 5432
    assert not dialog.connect_button.isEnabled()  # nothing typed yet
    _fill(dialog, 5433, "dsj_city", "科员 a", "p@ss:w/rd")
    assert dialog.connect_button.isEnabled()
    assert dialog.url() == "postgresql://%E7%A7%91%E5%91%98%20a@127.0.0.1:5433/dsj_city"
    full = dialog.full_url()
    assert "p%40ss%3Aw%2Frd" in full and pg.without_password(full) == dialog.url()
    from urllib.parse import unquote, urlsplit

    assert unquote(urlsplit(full).password or "") == "p@ss:w/rd"
    assert server_url("fe80::1", 5432, "dsj", "u") == "postgresql://u@[fe80::1]:5432/dsj"
    # Reopened on a known server: the fields are filled from its URL (no password).
    again = ServerDialog(None, "postgresql://clerk@db.example:6000/county")
    qtbot.addWidget(again)
    assert (again.host.text(), again.port.value(), again.dbname.text(), again.user.text()) == (
        "db.example", 6000, "county", "clerk")  # fmt: skip
    assert again.password.text() == ""
    if not pg.keyring_available():  # no credential store: the password is only kept for this run
        assert again.keep_password is None
        assert "只保存在本次运行的内存中" in again.findChildren(type(again.answer))[0].text() or any(
            "只保存在本次运行的内存中" in label.text() for label in again.findChildren(type(again.answer))
        )


def test_test_connection_reports_each_answer_of_the_server(
    qtbot: Any, pg_server: PgServer, role_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = ServerDialog()
    qtbot.addWidget(dialog)
    port = pg_server.port

    def answer(dbname: str, password: str = SERVER_PW, user: str = ROLE, at: int = port) -> tuple[str, str]:
        _fill(dialog, at, dbname, user, password)
        result = dialog.test()
        assert result is not None
        assert dialog.answer.text() == result[1]
        return result

    status, text = answer(role_db)
    assert status == pg.PROBE_EMPTY and "还不是本程序的数据库" in text
    status, text = answer(role_db, password="wrong-password")
    assert status == pg.PROBE_PASSWORD and "密码" in text
    status, text = answer(role_db, password="")
    assert status == pg.PROBE_PASSWORD
    status, text = answer("no_such_db")
    assert status == pg.PROBE_NO_DATABASE and "没有名为“no_such_db”的数据库" in text
    from tests.pg_server import _free_port

    status, text = answer(role_db, at=_free_port())
    assert status == pg.PROBE_UNREACHABLE and "连接不上服务器" in text
    # A database of this program; then one written by a newer program.
    _fill(dialog, port, role_db, ROLE, SERVER_PW)
    full = dialog.full_url()
    db = open_database(tmp_path / "ws", url=full)
    db.close()
    status, text = answer(role_db)
    assert status == pg.PROBE_READY and "是本程序的数据库" in text
    import psycopg

    with psycopg.connect(full, autocommit=True) as con:
        con.execute("UPDATE dsj_meta SET value = '99' WHERE key = 'schema_version'")
    status, text = answer(role_db)
    assert status == pg.PROBE_NEWER and "较新版本" in text and "99" in text
    # Someone else's tables: not taken for an empty database.
    other = pg_server.create_database()
    try:
        pg_server.admin(f'ALTER DATABASE "{other}" OWNER TO {ROLE}')
        with psycopg.connect(pg_server.url(other), autocommit=True) as con:
            con.execute("CREATE TABLE payroll (id int)")
        status, text = answer(other)
        assert status == pg.PROBE_FOREIGN and "不是本程序的数据库" in text
    finally:
        pg_server.drop_database(other)


class _FakeWizard:
    """The first-run wizard on the server's (empty) database, completed by its administrator."""

    choice = "later"

    def __init__(self, db: Any, parent: Any) -> None:
        self.db = db

    def exec(self) -> int:
        accounts.create_account(self.db, "admin", "服务器管理员", ADMIN, PW, with_recovery=True)
        accounts.login(self.db, "admin", PW)
        return 1


def _checked_ok(qtbot: Any, session: GuiSession) -> None:
    """The integrity check at start (off the GUI thread) found nothing."""
    check = session.check
    assert check is not None
    failed: list[str] = []
    check.failed.connect(failed.append)
    if check.report is None:
        qtbot.waitUntil(lambda: check.report is not None or bool(failed), timeout=60000)
    assert not failed
    assert check.report is not None and check.report.ok, check.report.text() if check.report else ""


def test_connecting_reopens_the_window_on_the_server_and_back(
    qapp: QApplication, qtbot: Any, pg_server: PgServer, role_db: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import dsj_desktop.ui.first_run as first_run
    import dsj_desktop.ui.integrity as integrity

    shown: list[str] = []
    monkeypatch.setattr(integrity, "show_report", lambda report, parent=None: shown.append(report.text()))
    data = tmp_path / "ws1"
    monkeypatch.setenv("DSJ_DATA_DIR", str(data))
    local = open_database(data)  # a workstation used alone so far, with the single-user setting
    accounts.create_account(local, "admin", "王局长", ADMIN, PW, with_recovery=True)
    accounts.login(local, "admin", PW)
    accounts.set_auto_login(local, "admin")
    local.close()
    actor.set_current(None)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    session = GuiSession(qapp, window, data, self_test=False, user="")
    session.open()
    try:
        assert window.db is not None and window.db.url is None
        assert window.status.text().startswith("数据文件：")
        assert window.findChild(type(window.menuBar().actions()[0]), "disconnect-server") is None

        def dialog_exec(self: ServerDialog) -> int:
            _fill(self, pg_server.port, role_db, ROLE, SERVER_PW)
            self.connect_now()
            return int(self.result())

        monkeypatch.setattr(ServerDialog, "exec", dialog_exec)
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
        monkeypatch.setattr(first_run, "FirstRunWizard", _FakeWizard)
        assert window.connect_server()
        qtbot.waitUntil(lambda: window.db is not None and window.db.url is not None, timeout=30000)
        assert window.db is session.db and window.db is not None
        status = window.status.text()
        assert status.startswith(f"单位服务器：127.0.0.1:{pg_server.port}，数据库“{role_db}”"), status
        assert actor.current() is not None and actor.current().display_name == "服务器管理员"
        assert pg.saved_url(data) == f"postgresql://{ROLE}@127.0.0.1:{pg_server.port}/{role_db}"
        assert window.findChild(type(window.menuBar().actions()[0]), "disconnect-server") is not None
        _checked_ok(qtbot, session)
        session.daily.wait()  # type: ignore[union-attr]
        assert _files_holding(data, SERVER_PW) == []  # the password is in no file of the data folder

        assert window.disconnect_server()
        assert window.db is not None and window.db.url is None
        assert window.status.text().startswith("数据文件：")
        assert pg.saved_url(data) is None
        assert actor.current() is not None and actor.current().display_name == "王局长"
        _checked_ok(qtbot, session)
    finally:
        session.close()
    assert _files_holding(data, SERVER_PW) == []


def test_a_password_the_server_asks_for_later_is_asked_in_a_dialog(
    qtbot: Any, pg_server: PgServer, role_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, bool]] = []

    def fake_dialog(url: str) -> str | None:
        asked.append((url, threading.current_thread() is threading.main_thread()))
        return SERVER_PW

    monkeypatch.setattr(server_dialog, "_password_dialog", fake_dialog)
    server_dialog.install()
    assert pg.password_prompt is server_dialog.ask_password
    data = tmp_path / "ws2"
    url = f"postgresql://{ROLE}@127.0.0.1:{pg_server.port}/{role_db}"
    pg.save_url(data, url)
    db = open_database(data)  # the saved server, without its password: the dialog asks
    try:
        assert db.url == url and asked == [(url, True)]
    finally:
        db.close()
    # Asked from a worker thread (a connection opened off the GUI thread), the dialog is still
    # shown on the GUI thread.
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(server_dialog.ask_password(url)))
    worker.start()
    qtbot.waitUntil(lambda: bool(got), timeout=10000)
    worker.join()
    assert got == [SERVER_PW] and asked[-1] == (url, True)
    assert _files_holding(data, SERVER_PW) == []


def test_a_server_that_is_gone_at_start_offers_the_local_file(
    qapp: QApplication, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.pg_server import _free_port

    data = tmp_path / "ws3"
    local = open_database(data)
    accounts.create_account(local, "admin", "王局长", ADMIN, PW, with_recovery=True)
    accounts.login(local, "admin", PW)
    accounts.set_auto_login(local, "admin")
    local.close()
    actor.set_current(None)
    pg.save_url(data, f"postgresql://{ROLE}@127.0.0.1:{_free_port()}/dsj")  # nobody answers there
    asked: list[str] = []

    def question(parent: Any, title: str, text: str, *a: Any, **k: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    import dsj_desktop.ui.integrity as integrity

    monkeypatch.setattr(integrity, "show_report", lambda report, parent=None: None)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    session = GuiSession(qapp, window, data, self_test=False, user="")
    session.open()
    try:
        assert (
            len(asked) == 1 and "连接不上服务器" in asked[0] and "改用本机数据文件夹中的数据文件" in asked[0]
        )
        assert window.db is not None and window.db.url is None and pg.saved_url(data) is None
        assert window.status.text().startswith("数据文件：")
        _checked_ok(qtbot, session)
    finally:
        session.close()
