"""Starting the GUI: the bundled Chinese font, Qt's Chinese translations, the database, the window."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from dsj_desktop import APP_NAME, APP_TITLE, __version__
from dsj_desktop.errors import UserError
from dsj_desktop.paths import resource
from dsj_desktop.ui.fonts import load_cjk_font

if TYPE_CHECKING:
    from dsj_desktop.db.engine import Database
    from dsj_desktop.services.integrity import IntegrityReport
    from dsj_desktop.ui.backup_dialogs import DailyBackup
    from dsj_desktop.ui.integrity import BackgroundIntegrityCheck
    from dsj_desktop.ui.main_window import MainWindow

_state: dict[str, object] = {}


def setup_application(app: QApplication) -> None:
    """Everything an application object needs before the first window (also used by the tests)."""
    if _state.get("app") is app:
        return
    _state["app"] = app
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_TITLE)
    app.setApplicationVersion(__version__)
    family = load_cjk_font()
    font = QFont(family)
    font.setPointSize(10)
    app.setFont(font)
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    translations = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name in ("qtbase_zh_CN",):
        tr = QTranslator(app)
        if tr.load(name, translations) or tr.load(name, str(resource("translations"))):
            app.installTranslator(tr)
    icon = resource("icons", "dsj-desktop.png")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))


def run_gui(data_dir: Path, *, self_test: bool = False, user: str = "") -> int:
    """Show the window at once, then open the data behind it (lock, upgrade, login) and fill it."""
    from PySide6.QtCore import QTimer

    from dsj_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    setup_application(app)
    install_password_prompt()
    window = MainWindow()
    window.show()
    sys.excepthook = _report_uncaught(window)
    session = GuiSession(app, window, data_dir, self_test=self_test, user=user)
    QTimer.singleShot(0, session.open)
    code = app.exec()
    session.close()
    return int(code) or session.exit_code


def _report_uncaught(
    window: QWidget,
) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    """An exception that escapes a button's handler is shown, not lost (and never quits the program):
    a refusal by the core (a role, a rule) in plain words, anything else as an internal error."""
    import traceback

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if isinstance(exc, UserError):
            QMessageBox.warning(window, APP_TITLE, str(exc))
            return
        box = QMessageBox(QMessageBox.Icon.Critical, APP_TITLE, f"程序内部错误：{exc}", parent=window)
        box.setDetailedText("".join(traceback.format_exception(kind, exc, tb)))
        box.exec()

    return hook


def install_password_prompt() -> None:
    """A double-clicked program has no terminal: the server's password is asked in a dialog (on the
    GUI thread, whichever thread opens the connection)."""
    from dsj_desktop.ui import key_dialogs
    from dsj_desktop.ui.server_dialog import install

    install()
    key_dialogs.install()  # and the bureau's key passphrase, when the keys are on the server


class GuiSession:
    """What happens between the window appearing and the first screen of data, and at the end."""

    def __init__(
        self, app: QApplication, window: MainWindow, data_dir: Path, *, self_test: bool, user: str
    ) -> None:
        self.app = app
        self.window = window
        self.data_dir = data_dir
        self.self_test = self_test
        self.user = user
        self.db: Database | None = None
        self.locked = False
        self.exit_code = 0
        self.first_choice: str | None = None  # what the first-run wizard chose (first_run.CHOICES)
        self.check: BackgroundIntegrityCheck | None = None
        self.daily: DailyBackup | None = None
        self.url: str | None = None  # the server chosen in this run (may hold its password: memory only)
        self.joined = False  # the first-run wizard's 本单位已有服务器 switched this start to the server
        window.reopen_requested.connect(self.reopen)
        window.store_requested.connect(self.switch_store)

    def fail(self, message: str) -> None:
        self.exit_code = 1
        if self.self_test:
            print(message, file=sys.stderr, flush=True)
        else:
            QMessageBox.critical(self.window, APP_TITLE, message)
        self.app.exit(1)

    def open(self) -> None:
        from dsj_desktop.db import lock
        from dsj_desktop.db.engine import open_database

        try:
            lock.acquire(self.data_dir)
            self.locked = True
            notices = lock.interrupted(self.data_dir)
            db = open_database(self.data_dir, url=self.url)
        except UserError as exc:
            if not self.offer_file(str(exc)):
                self.fail(str(exc))
            return
        except Exception as exc:  # the server: unreachable, password refused or not given…
            server = self.server()
            if server is None:
                raise
            from dsj_desktop.db import pg
            from dsj_desktop.db.migrations import SCHEMA_VERSION

            status, message = pg.probe(server, SCHEMA_VERSION)
            if status == pg.PROBE_READY:
                message = f"打开单位服务器上的数据时出错：{exc}"
            if not self.offer_file(message):
                self.fail(message)
            return
        self.db = db
        notices += db.warnings
        self.joined = False
        if not self.self_test and not self.sign_in(db):
            if not self.joined:  # (joined: the server's data are open in this window now)
                self.app.exit(0)
            return
        self.window.attach(db)
        if notices:
            self.window.home.show_notices(notices)
        self.started(db)
        if self.self_test:
            print(f"主窗口已打开：{self.window.windowTitle()}（数据文件夹 {self.data_dir}）", flush=True)
            self.app.quit()

    def sign_in(self, db: Database) -> bool:
        """Who works: set up the first account on a new data folder, else log in (or the
        administrator's single-user setting). False: the user gave up."""
        from dsj_desktop import actor
        from dsj_desktop.services import accounts

        if not accounts.has_accounts(db):
            from dsj_desktop.ui.first_run import FirstRunWizard

            wizard = FirstRunWizard(db, self.window)
            if wizard.exec() and wizard.choice == "join":
                return self.join_server()
            if actor.current() is None:
                return False
            self.first_choice = wizard.choice
            return True
        who = accounts.auto_login_account(db)
        if who is not None and not self.user:
            actor.set_current(who)
            db.record(f"免密码登录：{who.label}（单用户设置）")
            return True
        from dsj_desktop.ui.login import LoginDialog

        dialog = LoginDialog(db, self.window)
        if self.user:
            dialog.username.setText(self.user)
        return bool(dialog.exec()) and actor.current() is not None

    def join_server(self) -> bool:
        """本单位已有服务器 (the first-run wizard's first page): 连接单位服务器 at once; connecting opens
        the server's data in this window (its login). False: the user gave up."""
        from dsj_desktop.db.engine import discard_unused
        from dsj_desktop.ui.server_dialog import ServerDialog

        if self.db is not None:
            discard_unused(self.db)  # the empty file this start made, and its own keys: not the bureau's
        dialog = ServerDialog(self.window)
        self.window.server_dialog = dialog
        if not dialog.exec() or not dialog.chosen_url:
            return False
        self.switch_store(dialog.chosen_url)  # opens (and signs in to) the server's data
        self.joined = True
        return False

    def started(self, db: Database) -> None:
        """Work that follows the first screen: what the first-run wizard chose, the integrity check
        and the backup at start (both off the GUI thread), and a daily backup while running."""
        from PySide6.QtCore import QTimer

        from dsj_desktop.ui.backup_dialogs import DailyBackup
        from dsj_desktop.ui.integrity import BackgroundIntegrityCheck, show_report

        window = self.window
        choice = self.first_choice
        if choice == "demo":
            window.home.load_demo()
        elif choice == "import":
            window.start_import_guide()
        elif choice == "server":  # after this start has finished: connecting reopens the window
            QTimer.singleShot(0, window.connect_server)
        self.check = BackgroundIntegrityCheck(db, window)

        def checked(report: IntegrityReport) -> None:
            if not report.ok:
                window.home.show_notices(
                    ["启动时的完整性检查发现问题：可能有人用其他工具改过数据库。详情见下面弹出的报告。"]
                )
                show_report(report, window)

        self.check.finished.connect(checked)
        self.daily = DailyBackup(db, window)
        if not self.self_test:
            self.check.start()
            self.daily.start(backup_now=True)

    def reopen(self) -> None:
        """After a restore: the restored file, in the same window."""
        from dsj_desktop.db.engine import open_database
        from dsj_desktop.services import backup

        dialog = self.window.restore_dialog
        assert dialog.safety is not None and dialog.info is not None  # asked for only after a restore
        try:
            db = open_database(self.data_dir, url=self.url)
        except UserError as exc:
            self.fail(str(exc))
            return
        backup.note_restore(db, dialog.safety, dialog.info)
        self.db = db
        if self.daily is not None:
            self.daily.set_database(db)
        self.window.attach(db)
        self.window.home.show_notices(
            [f"已从备份“{dialog.info.path.name}”恢复。恢复前的数据已另存为 {dialog.safety.name}。"]
        )

    def server(self) -> str | None:
        """The server this start uses (None: the data folder's file)."""
        from dsj_desktop.db import pg

        try:
            return self.url or pg.resolve_url(self.data_dir)
        except UserError:
            return None

    def offer_file(self, message: str) -> bool:
        """The server cannot be used: offer the data folder's own file instead (断开服务器), so that a
        server that is gone never locks the user out. True: reopened on the file."""
        if self.self_test or self.server() is None:
            return False
        answer = QMessageBox.question(
            self.window,
            "无法使用单位服务器",
            f"{message}\n\n改用本机数据文件夹中的数据文件（断开单位服务器）吗？\n"
            "选“否”退出程序，稍后再试；服务器上的数据不受影响，以后可用“文件 › 连接单位服务器”再连接。",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.switch_store(None)
        return True

    def switch_store(self, url: str | None) -> None:
        """The same data folder on the unit's server (*url*, remembered without its password) or, with
        None, back on its SQLite file: this database is closed, the other opened in the same window,
        with its own login (or first-run wizard)."""
        from dsj_desktop import actor
        from dsj_desktop.db import anchor, pg

        old = self.db.url if self.db is not None else None
        self.close()
        new = pg.without_password(url) if url else None
        anchor.switch_store(self.data_dir, anchor.store_key(old), anchor.store_key(new))
        self.window.detach("正在连接单位服务器……" if url else "正在打开本机数据文件……")
        self.check = self.daily = None
        self.db = None
        self.locked = False
        self.first_choice = None
        if url:
            pg.save_url(self.data_dir, url)
        else:
            pg.forget_url(self.data_dir)
        self.url = url
        actor.set_current(None)
        self.open()

    def close(self) -> None:
        from dsj_desktop.db import lock

        for helper in (self.check, self.daily):
            if helper is not None:
                helper.wait()
        if self.daily is not None:
            self.daily.stop()
        if self.db is not None:
            self.db.close()
        if self.locked:
            lock.release(self.data_dir)
