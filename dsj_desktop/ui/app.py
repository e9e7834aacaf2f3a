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


def run_gui(data_dir: Path, *, self_test: bool = False) -> int:
    from dsj_desktop.db.engine import open_database
    from dsj_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    setup_application(app)
    try:
        db = open_database(data_dir)
    except UserError as exc:
        QMessageBox.critical(None, APP_TITLE, str(exc))
        return 1
    window = MainWindow(db)
    window.show()
    if self_test:
        from PySide6.QtCore import QTimer

        def report() -> None:
            print(f"主窗口已打开：{window.windowTitle()}（数据文件夹 {data_dir}）", flush=True)
            app.quit()

        QTimer.singleShot(0, report)
    code = app.exec()
    db.close()
    return int(code)
