"""The main window: a start page and one tab per part of the work."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox, QTabWidget, QWidget

from dsj_desktop import APP_TITLE, __version__
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.plan_specs import ITEMS
from dsj_desktop.domain.specs import DIRECTORIES
from dsj_desktop.services import settings
from dsj_desktop.ui.directory_tab import DirectoryTab
from dsj_desktop.ui.draw_tab import DrawTab
from dsj_desktop.ui.home import HomePage
from dsj_desktop.ui.items_tab import ItemsTab
from dsj_desktop.ui.plan_tab import PlanTab
from dsj_desktop.ui.results_tab import ResultsTab
from dsj_desktop.ui.stats_tab import StatsTab


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
        self.items_tab = ItemsTab(db, self)
        self.tabs.addTab(self.items_tab, ITEMS.title)
        self.plan_tab = PlanTab(db, self)
        self.tabs.addTab(self.plan_tab, "年度计划")
        for tab in [*self.directory_tabs.values(), self.items_tab]:
            tab.changed.connect(self.plan_tab.mark_stale)
        self.items_tab.changed.connect(self.home.refresh)
        self.draw_tab = DrawTab(db, self)
        self.tabs.addTab(self.draw_tab, "抽取")
        self.plan_tab.draw_requested.connect(self.draw_tab.start_for_task)
        self.setCentralWidget(self.tabs)
        self.home.navigate.connect(self.show_directory)
        self.home.data_changed.connect(self.refresh_all)

        self._build_menus()
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status)
        self.update_title()
        self._add_results()

    def _add_results(self) -> None:
        """The results and statistics tabs, their menu entries and the start page's deadline cards."""
        self.results_tab = ResultsTab(self.db, self)
        self.stats_tab = StatsTab(self.db, self)
        self.tabs.addTab(self.results_tab, "结果录入")
        self.tabs.addTab(self.stats_tab, "统计")
        self.results_tab.changed.connect(self.home.refresh)
        self.results_tab.changed.connect(self.stats_tab.mark_stale)
        self.home.navigate_results.connect(self.show_results)
        file_menu = next(m for m in self.menuBar().findChildren(QMenu) if m.title().startswith("文件"))
        separators = [a for a in file_menu.actions() if a.isSeparator()]
        first = separators[0] if separators else None
        for title, slot in (
            ("导入检查结果…", self.results_tab.import_file),
            ("公示检查结果…", self.results_tab.publish),
            ("导出年度档案…", self.stats_tab.export_archive),
            ("节假日安排与录入期限…", self.results_tab.edit_holidays),
        ):
            act = QAction(title, self)
            act.triggered.connect(lambda _=False, f=slot: f())
            file_menu.insertAction(first, act)

    def show_results(self, deadline: str = "") -> None:
        self.tabs.setCurrentWidget(self.results_tab)
        self.results_tab.set_deadline_filter(deadline or None)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        for spec in DIRECTORIES.values():
            act = QAction(f"导入{spec.title}…", self)
            act.triggered.connect(lambda _=False, k=spec.kind: self._import(k))
            file_menu.addAction(act)
        act = QAction(f"导入{ITEMS.title}…", self)
        act.triggered.connect(self._import_items)
        file_menu.addAction(act)
        act = QAction("导入年度计划…", self)
        act.triggered.connect(self._import_plan)
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
        settings_menu = self.menuBar().addMenu("设置(&S)")
        rules = QAction("抽查规则设置…", self)
        rules.setObjectName("rules-action")
        rules.triggered.connect(self.edit_rules)
        settings_menu.addAction(rules)
        help_menu = self.menuBar().addMenu("帮助(&H)")
        about = QAction("关于", self)
        about.triggered.connect(self.about)
        help_menu.addAction(about)

    def _import(self, kind: str) -> None:
        self.show_directory(kind)
        self.directory_tabs[kind].import_file()

    def _import_items(self) -> None:
        self.tabs.setCurrentWidget(self.items_tab)
        self.items_tab.import_file()

    def _import_plan(self) -> None:
        self.tabs.setCurrentWidget(self.plan_tab)
        self.plan_tab.import_file()

    def edit_rules(self) -> None:
        self.tabs.setCurrentWidget(self.plan_tab)
        self.plan_tab.edit_rules()

    def show_directory(self, kind: str) -> None:
        self.tabs.setCurrentWidget(self.directories)
        self.directories.setCurrentWidget(self.directory_tabs[kind])

    def refresh_all(self) -> None:
        for tab in self.directory_tabs.values():
            tab.refresh()
        self.items_tab.refresh()
        self.plan_tab.mark_stale()
        self.draw_tab.refresh()
        self.home.refresh()
        self.update_title()
        if hasattr(self, "results_tab"):
            self.results_tab.refresh()
            self.stats_tab.reload_years()
            self.stats_tab.mark_stale()

    def update_title(self) -> None:
        bureau = settings.bureau_name(self.db)
        self.setWindowTitle(f"{APP_TITLE} — {bureau}" if bureau else APP_TITLE)
        self.status.setText(f"数据文件：{self.db.path}（数据库版本 {self.db.schema_version()}）")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.plan_tab.shutdown()
        super().closeEvent(event)

    def about(self) -> None:
        QMessageBox.about(
            self,
            f"关于{APP_TITLE}",
            f"<h3>{APP_TITLE}</h3><p>版本 {__version__}</p>"
            "<p>“双随机、一公开”监管工作台：一单两库、年度抽查计划、可公开验证的随机抽取（DSJ-DRAW-1）、"
            "结果录入与公示。全部数据保存在本机，不需要网络。</p>"
            f"<p>数据文件夹：{self.db.data_dir}</p>",
        )
