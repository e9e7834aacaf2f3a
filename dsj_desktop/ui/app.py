"""Starting the GUI: the bundled Chinese font, Qt's Chinese translations, the database, the window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from dsj_desktop import APP_NAME, APP_TITLE, __version__
from dsj_desktop.errors import UserError
from dsj_desktop.paths import cjk_font_path, resource

_state: dict[str, object] = {}


def load_cjk_font() -> str:
    """Register the bundled CJK font and return its family name (a fresh machine has none)."""
    if "family" in _state:
        return str(_state["family"])
    font_id = QFontDatabase.addApplicationFont(str(cjk_font_path()))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        raise UserError(f"无法加载程序自带的中文字体“{cjk_font_path()}”，安装可能不完整。")
    _state["family"] = families[0]
    return families[0]


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
    window = MainWindow()
    window.show()
    session = GuiSession(app, window, data_dir, self_test=self_test, user=user)
    QTimer.singleShot(0, session.open)
    code = app.exec()
    session.close()
    return int(code) or session.exit_code


class GuiSession:
    """What happens between the window appearing and the first screen of data, and at the end."""

    def __init__(
        self, app: QApplication, window: object, data_dir: Path, *, self_test: bool, user: str
    ) -> None:
        self.app = app
        self.window = window
        self.data_dir = data_dir
        self.self_test = self_test
        self.user = user
        self.db: object | None = None
        self.locked = False
        self.exit_code = 0

    def fail(self, message: str) -> None:
        self.exit_code = 1
        if self.self_test:
            print(message, file=sys.stderr, flush=True)
        else:
            QMessageBox.critical(self.window, APP_TITLE, message)  # type: ignore[arg-type]
        self.app.exit(1)

    def open(self) -> None:
        from dsj_desktop.db import lock
        from dsj_desktop.db.engine import open_database

        try:
            lock.acquire(self.data_dir)
            self.locked = True
            notices = lock.interrupted(self.data_dir)
            db = open_database(self.data_dir)
        except UserError as exc:
            self.fail(str(exc))
            return
        self.db = db
        notices += db.warnings
        if not self.self_test and not self.sign_in(db):
            self.app.exit(0)
            return
        self.window.attach(db)  # type: ignore[attr-defined]
        if notices:
            self.window.home.show_notices(notices)  # type: ignore[attr-defined]
        self.started(db)
        if self.self_test:
            print(f"主窗口已打开：{self.window.windowTitle()}（数据文件夹 {self.data_dir}）", flush=True)  # type: ignore[attr-defined]
            self.app.quit()

    def sign_in(self, db: object) -> bool:
        """Who works: set up the first account on a new data folder, else log in (or the
        administrator's single-user setting). False: the user gave up."""
        return True

    def started(self, db: object) -> None:
        """Work that follows the first screen: the check and the backup at start."""

    def close(self) -> None:
        from dsj_desktop.db import lock

        if self.db is not None:
            self.db.close()  # type: ignore[attr-defined]
        if self.locked:
            lock.release(self.data_dir)
