"""连接单位服务器: the address of the unit's PostgreSQL server, a test of the connection off the GUI
thread, and the password asked in a dialog whenever the server wants one.

The password is never written to a file: the URL remembered in the data folder has none
(:func:`dsj_desktop.db.pg.save_url`); the password stays in this run's memory, or, when the user asks
and the ``keyring`` package is installed, goes to the operating system's credential store.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db import pg
from dsj_desktop.db.migrations import SCHEMA_VERSION
from dsj_desktop.ui.ops import QueryOp
from dsj_desktop.ui.trust_widgets import note_label

DEFAULT_PORT = 5432
TITLE = "连接单位服务器"
PASSWORD_NOTE = "密码不会写进任何文件：只保存在本次运行的内存中，下次启动时再询问。"
KEYRING_TEXT = "在本机凭据库中保存密码"
KEYRING_NOTE = "勾选后密码交给操作系统的凭据库（Windows 凭据管理器等）保管，下次启动不再询问。"


def server_url(host: str, port: int, dbname: str, user: str) -> str:
    """``postgresql://user@host:port/dbname`` (never with a password)."""
    host = host.strip()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    who = f"{quote(user.strip(), safe='')}@" if user.strip() else ""
    return f"postgresql://{who}{host}:{port}/{quote(dbname.strip(), safe='')}"


class ServerDialog(QDialog):
    """Asks for the server; after 连接, ``chosen_url`` is the URL to open (with the password typed,
    for this run's memory only) and the caller saves it without the password."""

    def __init__(self, parent: QWidget | None = None, current: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("server-dialog")
        self.setWindowTitle(TITLE)
        self.chosen_url: str | None = None
        self.last: tuple[str, str] | None = None  # the last test's (status, answer)
        self.created = False  # this dialog made the database on the server
        self.host = QLineEdit()
        self.host.setObjectName("server-host")
        self.host.setPlaceholderText("例如：192.168.1.10 或 dbserver")
        self.port = QSpinBox()
        self.port.setObjectName("server-port")
        self.port.setRange(1, 65535)
        self.port.setValue(DEFAULT_PORT)
        self.dbname = QLineEdit("dsj")
        self.dbname.setObjectName("server-dbname")
        self.user = QLineEdit()
        self.user.setObjectName("server-user")
        self.user.setPlaceholderText("服务器管理员给本机分配的用户名")
        self.password = QLineEdit()
        self.password.setObjectName("server-password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("服务器不要求密码时可不填")
        if current:
            self._fill(current)
        form = QFormLayout()
        form.addRow("服务器地址", self.host)
        form.addRow("端口", self.port)
        form.addRow("数据库名", self.dbname)
        form.addRow("用户名", self.user)
        form.addRow("密码", self.password)
        layout = QVBoxLayout(self)
        layout.addWidget(
            note_label(
                "数据放在本单位的 PostgreSQL 服务器上，几台电脑同时使用同一份数据。服务器地址、数据库名、"
                "用户名和密码请向服务器管理员索取（见使用说明“六”）。本局签名密钥用本局密钥口令加密保存在服务器上：建立数据库时设定口令，其他电脑第一次连接时由管理员输入一次。"
            )
        )
        layout.addLayout(form)
        self.keep_password: QCheckBox | None = None
        if pg.keyring_available():
            self.keep_password = QCheckBox(KEYRING_TEXT)
            self.keep_password.setObjectName("server-keyring")
            layout.addWidget(self.keep_password)
            layout.addWidget(note_label(KEYRING_NOTE))
        else:
            layout.addWidget(note_label(PASSWORD_NOTE))
        self.answer = QLabel()
        self.answer.setObjectName("server-answer")
        self.answer.setWordWrap(True)
        self.answer.setMinimumHeight(48)
        layout.addWidget(self.answer)
        layout.addStretch(1)
        buttons = QDialogButtonBox()
        self.test_button = QPushButton("测试连接")
        self.test_button.setObjectName("server-test")
        self.connect_button = QPushButton("连接")
        self.connect_button.setObjectName("server-connect")
        self.connect_button.setDefault(True)
        cancel = QPushButton("取消")
        buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.connect_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        self.test_button.clicked.connect(lambda _=False: self.test())
        self.connect_button.clicked.connect(lambda _=False: self.connect_now())
        cancel.clicked.connect(self.reject)
        layout.addWidget(buttons)
        for edit in (self.host, self.dbname, self.user):
            edit.textChanged.connect(self._changed)
        self._changed()
        self.resize(560, 460)

    def _fill(self, url: str) -> None:
        parts = urlsplit(pg.without_password(url))
        self.host.setText(parts.hostname or "")
        self.port.setValue(parts.port or DEFAULT_PORT)
        self.dbname.setText(unquote(parts.path.lstrip("/")))
        self.user.setText(unquote(parts.username or ""))

    def _changed(self) -> None:
        ready = bool(self.host.text().strip() and self.dbname.text().strip() and self.user.text().strip())
        self.test_button.setEnabled(ready)
        self.connect_button.setEnabled(ready)

    def url(self) -> str:
        """The server's URL without the password (what the data folder remembers)."""
        return server_url(self.host.text(), self.port.value(), self.dbname.text(), self.user.text())

    def full_url(self) -> str:
        """The URL with the password typed (kept in memory only)."""
        typed = self.password.text()
        return pg.with_password(self.url(), typed) if typed else self.url()

    def test(self) -> tuple[str, str] | None:
        """Ask the server (off the GUI thread) and show its answer; the (status, answer) or None."""
        url = self.full_url()
        self.answer.setText("正在连接服务器……")
        self.last = None
        out = QueryOp(self, "测试连接", lambda: pg.probe(url, SCHEMA_VERSION)).success(self._show).run()
        if not out.ok:
            self.answer.setText("测试没有完成。")
        return self.last

    def _show(self, result: tuple[str, str]) -> None:
        self.last = result
        status, text = result
        good = status in (pg.PROBE_READY, pg.PROBE_EMPTY)
        self.answer.setStyleSheet("color: #1a7f37;" if good else "color: #cf222e;")
        self.answer.setText(text)

    def create_database(self) -> bool:
        return _create_missing(self)

    def connect_now(self) -> None:
        """Test, then (for an empty database, after asking) accept with ``chosen_url``."""
        result = self.test()
        if result is None:
            return
        status, _ = result
        if status == pg.PROBE_NO_DATABASE and self.create_database():
            result = self.test()
            if result is None:
                return
            status, _ = result
        if status == pg.PROBE_EMPTY:
            # (a database made just now: the user said yes to its tables too)
            if (
                not self.created
                and QMessageBox.question(
                    self,
                    TITLE,
                    f"数据库“{self.dbname.text().strip()}”还不是本程序的数据库。"
                    "在其中建立本程序的数据表并连接？\n（之后进入首次使用向导，为服务器上的数据设置管理员账户。）",
                )
                != QMessageBox.StandardButton.Yes
            ):
                return
        elif status != pg.PROBE_READY:
            return  # the answer shown says what is wrong
        if self.keep_password is not None and self.keep_password.isChecked() and self.password.text():
            try:
                pg.store_password(self.url(), self.password.text())
            except Exception as exc:  # a credential store that refuses
                QMessageBox.warning(self, TITLE, f"密码未能保存到本机凭据库（{exc}），本次运行仍可使用。")
        self.chosen_url = self.full_url()
        self.accept()


def _create_missing(dialog: ServerDialog) -> bool:
    """The server has no database of that name: make it when the account may (CREATEDB), after
    asking; else say who must make it. True: it exists now."""
    from dsj_desktop.db import pg_create

    url, dbname, user = dialog.full_url(), dialog.dbname.text().strip(), dialog.user.text().strip()
    checked: list[tuple[bool, str]] = []
    if (
        not QueryOp(dialog, "检查建库权限", lambda: pg_create.may_create(url))
        .success(checked.append)
        .run()
        .ok
    ):
        return False
    allowed, why = checked[0] if checked else (False, "")
    if not allowed:
        dialog.answer.setStyleSheet("color: #cf222e;")
        dialog.answer.setText(f"服务器上没有名为“{dbname}”的数据库。{why}")
        return False
    answer = QMessageBox.question(
        dialog,
        TITLE,
        f"服务器上还没有名为“{dbname}”的数据库。用户“{user}”可以建立数据库：现在建立它，"
        "并在其中建立本程序的数据表？",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return False
    done = QueryOp(dialog, "建立数据库", lambda: pg_create.create(url)).run()
    if not done.ok:
        dialog.answer.setStyleSheet("color: #cf222e;")
        dialog.answer.setText(f"没能在服务器上建立数据库“{dbname}”。")
        return False
    dialog.created = True
    return True


class _Asker(QObject):
    """Shows the password dialog on the GUI thread, for a connection opened on any thread."""

    asked = Signal(str, object)  # object: the same list object reaches the slot

    def __init__(self) -> None:
        super().__init__()
        from PySide6.QtCore import Qt

        self.asked.connect(self._ask, Qt.ConnectionType.BlockingQueuedConnection)

    @Slot(str, object)
    def _ask(self, url: str, answer: list[str | None]) -> None:
        answer.append(_password_dialog(url))


def _password_dialog(url: str) -> str | None:
    parts = urlsplit(url)
    dialog = QInputDialog(QApplication.activeWindow())
    dialog.setObjectName("server-password-prompt")
    dialog.setWindowTitle("单位服务器的密码")
    dialog.setLabelText(
        f"服务器 {parts.hostname or ''}:{parts.port or DEFAULT_PORT} 上的数据库“{parts.path.lstrip('/')}”"
        f"要求用户“{unquote(parts.username or '')}”的密码：\n（密码只保存在本次运行的内存中）"
    )
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    dialog.setOkButtonText("连接")
    dialog.setCancelButtonText("取消")
    if not dialog.exec():
        return None
    return dialog.textValue() or None


_asker: list[_Asker] = []


def ask_password(url: str) -> str | None:
    """The password for *url* (given without one), asked in a dialog; None when the user gave up.
    Called by :func:`dsj_desktop.db.pg.prompt_password` from whatever thread connects."""
    app = QApplication.instance()
    if app is None:
        return None
    if QThread.currentThread() is app.thread():
        return _password_dialog(url)
    if not _asker:
        raise RuntimeError("ask_password: install the prompt on the GUI thread first")
    answer: list[str | None] = []
    _asker[0].asked.emit(url, answer)
    return answer[0] if answer else None


def install() -> None:
    """Make the GUI answer the server's password requests (called on the GUI thread at start)."""
    if not _asker:
        _asker.append(_Asker())
    pg.password_prompt = ask_password
