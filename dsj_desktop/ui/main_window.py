"""The main window: a start page and one tab per part of the work."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from dsj_desktop import APP_TITLE, __version__
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.specs import DIRECTORIES
from dsj_desktop.services import settings
from dsj_desktop.ui.directory_tab import DirectoryTab
from dsj_desktop.ui.draw_tab import DrawTab
from dsj_desktop.ui.home import HomePage


class MainWindow(QMainWindow):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("main-window")
        self.resize(1280, 800)
        self.setMinimumSize(960, 640)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("main-tabs")
        self.tabs.setDocumentMode(True)
        self.home = HomePage(db, self)
        self.tabs.addTab(self.home, "首页")

        self.directories = QTabWidget()
        self.directories.setObjectName("directory-tabs")
        self.directory_tabs: dict[str, DirectoryTab] = {}
        for spec in DIRECTORIES.values():
            tab = DirectoryTab(db, spec, self)
            tab.changed.connect(self.home.refresh)
            self.directory_tabs[spec.kind] = tab
            self.directories.addTab(tab, spec.title)
        self.tabs.addTab(self.directories, "名录库")
        self.draw_tab = DrawTab(db, self)
        self.tabs.addTab(self.draw_tab, "抽取")
        self.setCentralWidget(self.tabs)
        self.home.navigate.connect(self.show_directory)
        self.home.data_changed.connect(self.refresh_all)

        self._build_menus()
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status)
        self.update_title()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        for spec in DIRECTORIES.values():
            act = QAction(f"导入{spec.title}…", self)
            act.triggered.connect(lambda _=False, k=spec.kind: self._import(k))
            file_menu.addAction(act)
        file_menu.addSeparator()
        open_dir = QAction("打开数据文件夹", self)
        open_dir.triggered.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.db.data_dir)))
        )
        file_menu.addAction(open_dir)
        file_menu.addSeparator()
        quit_act = QAction("退出", self)
        quit_act.setShortcut(QKeySequence.StandardKey.Quit)
        quit_act.triggered.connect(self.close)
        file_menu.addAction(quit_act)
        help_menu = self.menuBar().addMenu("帮助(&H)")
        about = QAction("关于", self)
        about.triggered.connect(self.about)
        help_menu.addAction(about)

    def _import(self, kind: str) -> None:
        self.show_directory(kind)
        self.directory_tabs[kind].import_file()

    def show_directory(self, kind: str) -> None:
        self.tabs.setCurrentWidget(self.directories)
        self.directories.setCurrentWidget(self.directory_tabs[kind])

    def refresh_all(self) -> None:
        for tab in self.directory_tabs.values():
            tab.refresh()
        self.draw_tab.refresh()
        self.home.refresh()
        self.update_title()

    def update_title(self) -> None:
        bureau = settings.bureau_name(self.db)
        self.setWindowTitle(f"{APP_TITLE} — {bureau}" if bureau else APP_TITLE)
        self.status.setText(f"数据文件：{self.db.path}（数据库版本 {self.db.schema_version()}）")

    def about(self) -> None:
        QMessageBox.about(
            self,
            f"关于{APP_TITLE}",
            f"<h3>{APP_TITLE}</h3><p>版本 {__version__}</p>"
            "<p>“双随机、一公开”监管工作台：一单两库、年度抽查计划、可公开验证的随机抽取（DSJ-DRAW-1）、"
            "结果录入与公示。全部数据保存在本机，不需要网络。</p>"
            f"<p>数据文件夹：{self.db.data_dir}</p>",
        )
