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
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QWizard

from dsj_desktop import actor, keyvault
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
    monkeypatch.setattr(keyvault, "passphrase_prompt", None)  # key_dialogs.install() sets it: undone after
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
        window.home.refresh()
        where = window.home.data_label.text()  # the home page too: not "saved on this PC"
        assert (
            where.startswith(f"数据保存在单位服务器 127.0.0.1:{pg_server.port}；") and "本机：" not in where
        ), where
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
        with db.read(), db.engine.connect() as second, db.engine.connect() as third:  # more pool connections
            assert (
                second.exec_driver_sql("SELECT 1").scalar() == third.exec_driver_sql("SELECT 1").scalar() == 1
            )
        assert asked == [(url, True)]  # the password typed once serves them all
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


# --- the bureau's keys on the server: the first page's 本单位已有服务器, the passphrase dialogs ---------


class _FakeLogin:
    """The server's login dialog, answered by its administrator."""

    def __init__(self, db: Any, parent: Any = None) -> None:
        self.db = db
        self.username = QLineEdit()

    def exec(self) -> int:
        accounts.login(self.db, "admin", PW)
        return 1


def test_a_workstation_joins_from_the_first_page_without_a_local_administrator(
    qapp: QApplication, qtbot: Any, pg_server: PgServer, role_db: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import dsj_desktop.ui.integrity as integrity
    import dsj_desktop.ui.login as login
    from dsj_desktop import keyvault
    from dsj_desktop.db import server_keys
    from dsj_desktop.keys import KeyStore
    from dsj_desktop.ui import first_run, key_dialogs
    from tests.conftest import TEST_KEY_PASSPHRASE

    monkeypatch.setattr(integrity, "show_report", lambda report, parent=None: None)
    url = f"postgresql://{ROLE}:{SERVER_PW}@127.0.0.1:{pg_server.port}/{role_db}"
    first = open_database(tmp_path / "draw-pc", url=url)  # the draw PC made the server's database
    accounts.create_account(first, "admin", "服务器管理员", ADMIN, PW, with_recovery=True)
    fingerprint = KeyStore(first.data_dir).record_fingerprint()
    with first.read() as conn:
        vault, bound = str(pg.meta(conn, "key_vault")), str(pg.meta(conn, "record_key"))
    first.close()
    actor.set_current(None)
    secrets = keyvault.decrypt(vault, TEST_KEY_PASSPHRASE, bound)

    monkeypatch.delenv("DSJ_KEY_PASSPHRASE")
    asked: list[str] = []

    def typed(purpose: str, message: str) -> str:
        asked.append(purpose)
        assert fingerprint in message  # the administrator sees which bureau key is installed
        return TEST_KEY_PASSPHRASE

    monkeypatch.setattr(key_dialogs, "passphrase_dialog", typed)
    key_dialogs.install()
    wizards: list[first_run.FirstRunWizard] = []

    def wizard_exec(self: first_run.FirstRunWizard) -> int:
        wizards.append(self)
        assert self.page(self.startId()) is self.bureau_page  # the choice is on the first page
        self.bureau_page.join.setChecked(True)
        assert self.bureau_page.isFinalPage() and self.bureau_page.isComplete()
        assert self.buttonText(QWizard.WizardButton.FinishButton) == "连接单位服务器…"
        self.accept()
        return 1

    def dialog_exec(self: ServerDialog) -> int:
        _fill(self, pg_server.port, role_db, ROLE, SERVER_PW)
        self.connect_now()
        return int(self.result())

    monkeypatch.setattr(first_run.FirstRunWizard, "exec", wizard_exec)
    monkeypatch.setattr(ServerDialog, "exec", dialog_exec)
    monkeypatch.setattr(login, "LoginDialog", _FakeLogin)
    data = tmp_path / "clerk-pc"
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    session = GuiSession(qapp, window, data, self_test=False, user="")
    session.open()
    try:
        assert wizards and wizards[0].choice == "join"
        assert window.db is not None and window.db.url is not None
        assert actor.current() is not None and actor.current().display_name == "服务器管理员"
        assert asked == [keyvault.JOIN]
        assert KeyStore(data).record_fingerprint() == fingerprint
        _checked_ok(qtbot, session)
        session.daily.wait()  # type: ignore[union-attr]
        assert window.findChild(type(window.menuBar().actions()[0]), "change-key-passphrase") is not None
        assert window.findChild(type(window.menuBar().actions()[0]), "rotate-write-key") is not None
        installed = [p.name for p in (data / "keys").glob("server-*.key")]
        assert installed == [server_keys.write_key_path(data, window.db.guard.public_key).name]
    finally:
        session.close()
    # The bureau's signing keys are on no file of this PC (only the write key was installed).
    for name in ("record", "pdf"):
        der = secrets[name]
        assert not [p for p in data.rglob("*") if p.is_file() and der in p.read_bytes()]
    # The empty local file opened before the wizard, and the keys made for it, were removed: the
    # folder holds no signing key that is not the bureau's (they are made if the file is used later).
    from dsj_desktop import keys as keys_mod

    assert not (data / "dsj.sqlite3").exists()
    assert not (data / "keys" / keys_mod.RECORD_KEY_FILE).exists()
    assert not (data / "keys" / keys_mod.PDF_KEY_FILE).exists()
    assert not list(data.glob("journal-anchor.file.json"))
    # Nobody was made administrator of the data folder's own file on the way.
    monkeypatch.setattr(pg, "resolve_url", lambda data_dir, url=None: None)
    local = open_database(data)
    try:
        assert not accounts.has_accounts(local)
    finally:
        local.close()


def test_the_passphrase_dialogs_check_what_is_typed(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsj_desktop import keyvault
    from dsj_desktop.ui.key_dialogs import PassphraseDialog

    new = PassphraseDialog(keyvault.NEW, "请设定本局密钥口令。")
    qtbot.addWidget(new)
    new.passphrase.setText("short")
    new.again.setText("short")
    new.done_typing()
    assert "至少" in new.error.text() and not new.result()
    new.passphrase.setText("一句够长的口令-2026")
    new.again.setText("一句够长的口令-2027")
    new.done_typing()
    assert "不一致" in new.error.text() and not new.result()
    new.again.setText("一句够长的口令-2026")
    new.done_typing()
    assert new.result() == 1
    unlock = PassphraseDialog(keyvault.UNLOCK, keyvault.WRONG + "\n\n请输入本局密钥口令。")
    qtbot.addWidget(unlock)
    assert unlock.again.isHidden() or unlock.again.parent() is None
    assert unlock.ok.text() == "解锁签名密钥"


def test_a_wrong_passphrase_at_the_draw_is_asked_again_then_refused_in_chinese(
    qtbot: Any, pg_server: PgServer, role_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsj_desktop import keyvault
    from dsj_desktop.keys import KeyStore
    from dsj_desktop.ui import key_dialogs

    url = f"postgresql://{ROLE}:{SERVER_PW}@127.0.0.1:{pg_server.port}/{role_db}"
    db = open_database(tmp_path / "draw-pc", url=url)
    db.key_source.lock()
    monkeypatch.delenv("DSJ_KEY_PASSPHRASE")
    messages: list[str] = []

    def typed(purpose: str, message: str) -> str:
        messages.append(message)
        return "wrong passphrase"

    monkeypatch.setattr(key_dialogs, "passphrase_dialog", typed)
    key_dialogs.install()
    try:
        got: list[BaseException] = []

        def sign() -> None:  # as a draw's job does, off the GUI thread
            try:
                KeyStore(db.data_dir).record_private_key()
            except BaseException as exc:
                got.append(exc)

        worker = threading.Thread(target=sign)
        worker.start()
        qtbot.waitUntil(lambda: bool(got), timeout=20000)
        worker.join()
        assert isinstance(got[0], keyvault.WrongPassphrase) and "口令不正确" in str(got[0])
        assert len(messages) == keyvault.TRIES
        assert keyvault.WRONG in messages[1]  # the second ask says why
    finally:
        db.close()


def test_connecting_creates_a_missing_database_when_the_account_may(
    qtbot: Any, pg_server: PgServer, password_role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    name = f"dsj_new_{os.getpid()}"
    pg_server.admin(f'DROP DATABASE IF EXISTS "{name}"')
    dialog = ServerDialog()
    qtbot.addWidget(dialog)
    _fill(dialog, pg_server.port, name, ROLE, SERVER_PW)
    questions: list[str] = []

    def question(parent: Any, title: str, text: str, *a: Any, **k: Any) -> QMessageBox.StandardButton:
        questions.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    try:
        dialog.connect_now()
        assert dialog.chosen_url is not None and dialog.created, dialog.answer.text()
        assert len(questions) == 1 and "还没有名为" in questions[0]  # asked once, not twice
        with psycopg.connect(pg_server.url("postgres")) as con:
            row = con.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
        assert row is not None and row[0] == ROLE
    finally:
        pg_server.admin(f'DROP DATABASE IF EXISTS "{name}"')


def test_without_createdb_the_dialog_says_who_must_make_the_database(
    qtbot: Any, pg_server: PgServer, password_role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_server.admin(f"ALTER ROLE {ROLE} NOCREATEDB")
    try:
        dialog = ServerDialog()
        qtbot.addWidget(dialog)
        _fill(dialog, pg_server.port, "dsj_nobody_made_it", ROLE, SERVER_PW)
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("nothing to ask"))
        dialog.connect_now()
        assert dialog.chosen_url is None
        text = dialog.answer.text()
        assert "没有建立数据库的权限" in text and f"createdb -O {ROLE} dsj_nobody_made_it" in text, text
    finally:
        pg_server.admin(f"ALTER ROLE {ROLE} CREATEDB")


def test_the_administrator_changes_the_key_passphrase_from_the_file_menu(
    qtbot: Any, pg_server: PgServer, role_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsj_desktop import keyvault
    from dsj_desktop.ui.key_dialogs import ChangePassphraseDialog
    from tests.conftest import TEST_KEY_PASSPHRASE

    url = f"postgresql://{ROLE}:{SERVER_PW}@127.0.0.1:{pg_server.port}/{role_db}"
    db = open_database(tmp_path / "draw-pc", url=url)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text, *a, **k: shown.append(text))
    try:
        dialog = ChangePassphraseDialog(db)
        qtbot.addWidget(dialog)
        dialog.current.setText(TEST_KEY_PASSPHRASE)
        dialog.new.setText("新的口令-抽取室-2027")
        dialog.again.setText("新的口令-抽取室-2028")
        assert not dialog.change() and "不一致" in dialog.error.text()
        dialog.current.setText("not the passphrase")
        dialog.again.setText("新的口令-抽取室-2027")
        assert not dialog.change() and "口令不正确" in dialog.error.text()
        dialog.current.setText(TEST_KEY_PASSPHRASE)
        assert dialog.change() and dialog.result() == 1 and shown
        with db.read() as conn:
            text, bound = str(pg.meta(conn, "key_vault")), str(pg.meta(conn, "record_key"))
        assert set(keyvault.decrypt(text, "新的口令-抽取室-2027", bound)) == {"record", "pdf", "write"}
    finally:
        db.close()
