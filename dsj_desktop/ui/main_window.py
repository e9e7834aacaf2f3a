"""The main window: a start page and one tab per part of the work.

It appears at once: the window itself needs only Qt. The data is attached afterwards
(:meth:`MainWindow.attach`), and each tab is built the first time it is shown, so a directory of
100,000 rows costs nothing until someone opens it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from dsj_desktop import APP_TITLE, __version__
from dsj_desktop.ui.data_hub import DRAW as DATA_DRAW
from dsj_desktop.ui.data_hub import SETTINGS as DATA_SETTINGS
from dsj_desktop.ui.data_hub import DataHub, Kinds, Listener, touches

TabT = TypeVar("TabT", bound=QWidget)

if TYPE_CHECKING:
    from dsj_desktop.db.engine import Database
    from dsj_desktop.ui.directory_tab import DirectoryTab
    from dsj_desktop.ui.draw.tab import DrawTab
    from dsj_desktop.ui.home import HomePage
    from dsj_desktop.ui.items_tab import ItemsTab
    from dsj_desktop.ui.plan_tab import PlanTab
    from dsj_desktop.ui.results_tab import ResultsTab
    from dsj_desktop.ui.stats_tab import StatsTab


def data_location(db: Database) -> str:
    """Where the data is, for the status bar: the unit's server (host and database) or the file."""
    if db.url:
        from urllib.parse import urlsplit

        from dsj_desktop.db.pg import server_name

        where = server_name(db.url)
        return f"单位服务器：{where}，数据库“{urlsplit(db.url).path.lstrip('/')}”（数据库版本 {db.schema_version()}）"
    return f"数据文件：{db.path}（数据库版本 {db.schema_version()}）"


class _Placeholder(QWidget):
    """Stands in for a tab until it is first shown."""

    def __init__(self, key: str, text: str = "") -> None:
        super().__init__()
        self.key = key
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet("color: #57606a; font-size: 14pt;")
        lay = QVBoxLayout(self)
        lay.addWidget(label)


class _LazyTabs:
    """Tabs of a QTabWidget that are built on first use (by showing them or by asking for them)."""

    def __init__(self, widget: QTabWidget, on_built: Callable[[str, QWidget], None]) -> None:
        self.widget = widget
        self.builders: dict[str, Callable[[], QWidget]] = {}
        self.built: dict[str, QWidget] = {}
        self.on_built = on_built
        self._swapping = False
        widget.currentChanged.connect(self._shown)

    def add(self, key: str, title: str, build: Callable[[], QWidget]) -> None:
        self.builders[key] = build
        self.widget.addTab(_Placeholder(key), title)

    def get(self, key: str) -> QWidget:
        if key in self.built:
            return self.built[key]
        index = next(
            i for i in range(self.widget.count()) if getattr(self.widget.widget(i), "key", None) == key
        )
        placeholder = self.widget.widget(index)
        page = self.builders[key]()
        self.built[key] = page
        current = self.widget.currentIndex() == index
        self._swapping = True
        try:
            title = self.widget.tabText(index)
            self.widget.removeTab(index)
            self.widget.insertTab(index, page, title)
            if current:
                self.widget.setCurrentIndex(index)
        finally:
            self._swapping = False
        placeholder.deleteLater()
        self.on_built(key, page)
        return page

    def _shown(self, index: int) -> None:
        if self._swapping or index < 0:
            return
        key = getattr(self.widget.widget(index), "key", None)
        if key is not None and key not in self.built:
            self.get(key)

    def if_built(self, key: str) -> QWidget | None:
        return self.built.get(key)

    def __iter__(self) -> Iterator[tuple[str, QWidget]]:
        return iter(list(self.built.items()))


class _DirectoryTabs:
    """``window.directory_tabs[kind]``: each directory tab, built when first needed."""

    def __init__(self, lazy: _LazyTabs) -> None:
        self.lazy = lazy

    def __getitem__(self, kind: str) -> DirectoryTab:
        from dsj_desktop.ui.directory_tab import DirectoryTab

        tab = self.lazy.get(kind)
        assert isinstance(tab, DirectoryTab)
        return tab

    def values(self) -> list[DirectoryTab]:
        return [self[k] for k in self.lazy.builders]

    def built(self) -> list[DirectoryTab]:
        from dsj_desktop.ui.directory_tab import DirectoryTab

        return [t for _, t in self.lazy if isinstance(t, DirectoryTab)]


class MainWindow(QMainWindow):
    reopen_requested = Signal()  # after a restore: the database must be opened again
    store_requested = Signal(object)  # a server's URL (or None: the data folder's file) to reopen on

    def __init__(self, db: Database | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main-window")
        self.setWindowTitle(APP_TITLE)
        self.setMinimumSize(800, 560)
        self.fit_to_screen()
        self.db: Database | None = None
        self.opening = _Placeholder("", "正在打开数据……")
        self.setCentralWidget(self.opening)
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status)
        if db is not None:
            self.attach(db)

    def fit_to_screen(self, preferred: tuple[int, int] = (1280, 800)) -> None:
        """Open within the screen's available area (1024×768 with a taskbar included), centred."""
        from PySide6.QtGui import QGuiApplication

        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(*preferred)
            return
        avail = screen.availableGeometry()
        frame = 40  # the title bar and borders the window manager adds around the client area
        w = max(min(preferred[0], avail.width() - 16), self.minimumWidth())
        h = max(min(preferred[1], avail.height() - frame), self.minimumHeight())
        self.resize(w, h)
        self.move(avail.x() + (avail.width() - w) // 2, avail.y() + max(0, (avail.height() - h - frame) // 2))

    # --- the data ---------------------------------------------------------------------------

    def attach(self, db: Database) -> None:
        """Fill the window with the data of *db*: the start page now, the other tabs when shown."""
        from dsj_desktop.domain.plan_specs import ITEMS
        from dsj_desktop.domain.specs import DIRECTORIES
        from dsj_desktop.ui.home import HomePage

        self.db = db
        old_hub = getattr(self, "hub", None)  # reopened (a restore, another store): ops find the new hub
        if isinstance(old_hub, DataHub):
            old_hub.setParent(None)
            old_hub.deleteLater()
        self.hub = DataHub(self)  # one "data changed" signal that every tab listens to
        self.tabs = QTabWidget()
        self.tabs.setObjectName("main-tabs")
        self.tabs.setDocumentMode(True)
        self.home: HomePage = HomePage(db, self)
        self.tabs.addTab(self.home, "首页")
        self.directories = QTabWidget()
        self.directories.setObjectName("directory-tabs")
        self._dirs = _LazyTabs(self.directories, self._wire)
        for spec in DIRECTORIES.values():
            self._dirs.add(spec.kind, spec.title, partial(self._build_directory, spec))
        self.directory_tabs = _DirectoryTabs(self._dirs)
        self._pages = _LazyTabs(self.tabs, self._wire)
        self.tabs.addTab(self.directories, "名录库")
        self.tabs.currentChanged.connect(self._main_shown)
        self._pages.add("items", ITEMS.title, self._build_items)
        self._pages.add("plan", "年度计划", self._build_plan)
        self._pages.add("draw", "抽取", self._build_draw)
        self._pages.add("results", "结果录入", self._build_results)
        self._pages.add("stats", "统计", self._build_stats)
        self._pages.add("journal", "操作日志", self._build_journal)
        self.setCentralWidget(self.tabs)  # the window deletes the widget it replaces ("opening", or old tabs)
        self.home.navigate.connect(self.show_directory)
        self.home.navigate_results.connect(self.show_results)
        self.hub.changed.connect(self.home.on_data_changed)
        self.hub.changed.connect(self._data_changed)
        self.home.import_guide_requested.connect(self.start_import_guide)
        self._build_menus()
        self.update_title()

    def detach(self, text: str = "正在打开数据……") -> None:
        """Empty the window while its database is closed and another opened (see GuiSession)."""
        self.db = None
        self.menuBar().clear()
        self.opening = _Placeholder("", text)
        self.setCentralWidget(self.opening)

    def _main_shown(self, index: int) -> None:
        if self.tabs.widget(index) is self.directories and self.directories.count():
            self._dirs._shown(self.directories.currentIndex())

    # builders (heavy modules are imported here, not at start)

    def _build_directory(self, spec: Any) -> QWidget:
        from dsj_desktop.ui.directory_tab import DirectoryTab

        assert self.db is not None
        return DirectoryTab(self.db, spec, self)

    def _build_items(self) -> QWidget:
        from dsj_desktop.ui.items_tab import ItemsTab

        assert self.db is not None
        return ItemsTab(self.db, self)

    def _build_plan(self) -> QWidget:
        from dsj_desktop.ui.plan_tab import PlanTab

        assert self.db is not None
        tab = PlanTab(self.db, self)
        tab.draw_requested.connect(lambda code: self.draw_tab.start_for_task(code))
        return tab

    def _build_draw(self) -> QWidget:
        from dsj_desktop.ui.draw.tab import DrawTab

        assert self.db is not None
        tab = DrawTab(self.db, self)
        tab.changed.connect(lambda: self.hub.announce(DATA_DRAW, source=tab))  # the draw tab's own writes
        return tab

    def _build_results(self) -> QWidget:
        from dsj_desktop.ui.results_tab import ResultsTab

        assert self.db is not None
        return ResultsTab(self.db, self)

    def _build_stats(self) -> QWidget:
        from dsj_desktop.ui.stats_tab import StatsTab

        assert self.db is not None
        return StatsTab(self.db, self)

    def _build_journal(self) -> QWidget:
        from dsj_desktop.ui.journal_tab import JournalTab

        assert self.db is not None
        return JournalTab(self.db, self)

    def _wire(self, key: str, page: QWidget) -> None:
        """Connect a freshly built tab to the hub (tabs not built yet read fresh data when built): it
        hears every change announced there (the operations of ui/ops.py announce what they wrote)."""
        if isinstance(page, Listener):
            self.hub.changed.connect(page.on_data_changed)

    def _data_changed(self, kinds: Kinds, source: object) -> None:
        if touches(kinds, DATA_SETTINGS):
            self.update_title()

    # the tabs, built on first use

    def _page(self, key: str, kind: type[TabT]) -> TabT:
        page = self._pages.get(key)
        assert isinstance(page, kind)
        return page

    @property
    def items_tab(self) -> ItemsTab:
        from dsj_desktop.ui.items_tab import ItemsTab

        return self._page("items", ItemsTab)

    @property
    def plan_tab(self) -> PlanTab:
        from dsj_desktop.ui.plan_tab import PlanTab

        return self._page("plan", PlanTab)

    @property
    def draw_tab(self) -> DrawTab:
        from dsj_desktop.ui.draw.tab import DrawTab

        return self._page("draw", DrawTab)

    @property
    def results_tab(self) -> ResultsTab:
        from dsj_desktop.ui.results_tab import ResultsTab

        return self._page("results", ResultsTab)

    @property
    def stats_tab(self) -> StatsTab:
        from dsj_desktop.ui.stats_tab import StatsTab

        return self._page("stats", StatsTab)

    # --- menus ------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        from dsj_desktop.domain.plan_specs import ITEMS
        from dsj_desktop.domain.specs import DIRECTORIES

        self.menuBar().clear()
        file_menu = self.menuBar().addMenu("文件(&F)")
        entries: list[tuple[str, Callable[[], Any]]] = [
            ("导入向导（按顺序导入六份表格）…", self.start_import_guide)
        ]
        entries += [(f"导入{spec.title}…", partial(self._import, spec.kind)) for spec in DIRECTORIES.values()]
        entries += [
            (f"导入{ITEMS.title}…", self._import_items),
            ("导入年度计划…", self._import_plan),
            ("导入检查结果…", lambda: self._show(self.results_tab).import_file()),
            ("公示检查结果…", lambda: self._show(self.results_tab).publish()),
            ("导出年度档案…", lambda: self._show(self.stats_tab).export_archive()),
            ("节假日安排与录入期限…", lambda: self._show(self.results_tab).edit_holidays()),
        ]
        for title, slot in entries:
            act = QAction(title, self)
            act.triggered.connect(lambda _=False, f=slot: f())
            file_menu.addAction(act)
        file_menu.addSeparator()
        for title, slot in (("备份到U盘/文件夹…", self.backup), ("从备份恢复…", self.restore)):
            act = QAction(title, self)
            act.triggered.connect(lambda _=False, f=slot: f())
            file_menu.addAction(act)
        file_menu.addSeparator()
        verify = QAction("核验抽取记录…", self)
        verify.setObjectName("verify-action")
        verify.triggered.connect(self.verify_record_file)
        file_menu.addAction(verify)
        open_dir = QAction("打开数据文件夹", self)
        open_dir.triggered.connect(self._open_data_dir)
        file_menu.addAction(open_dir)
        switch = QAction("切换数据文件夹…", self)
        switch.setObjectName("switch-data-dir")
        switch.triggered.connect(lambda _=False: self.switch_data_dir())
        file_menu.addAction(switch)
        server = QAction("连接单位服务器…", self)
        server.setObjectName("connect-server")
        server.triggered.connect(lambda _=False: self.connect_server())
        file_menu.addAction(server)
        if self.db is not None and self.db.url:
            local = QAction("断开服务器（改用本机数据文件）", self)
            local.setObjectName("disconnect-server")
            local.triggered.connect(lambda _=False: self.disconnect_server())
            file_menu.addAction(local)
            passphrase = QAction("更改本局密钥口令…", self)
            passphrase.setObjectName("change-key-passphrase")
            passphrase.triggered.connect(lambda _=False: self.change_key_passphrase())
            file_menu.addAction(passphrase)
            rotate = QAction("更换服务器写入密钥（撤销丢失或停用的电脑）…", self)
            rotate.setObjectName("rotate-write-key")
            rotate.triggered.connect(lambda _=False: self.rotate_write_key())
            file_menu.addAction(rotate)
        file_menu.addSeparator()
        quit_act = QAction("退出", self)
        quit_act.setShortcut(QKeySequence.StandardKey.Quit)
        quit_act.triggered.connect(self.close)
        file_menu.addAction(quit_act)
        self.settings_menu = self.menuBar().addMenu("设置(&S)")
        rules = QAction("抽查规则设置…", self)
        rules.setObjectName("rules-action")
        rules.triggered.connect(self.edit_rules)
        for title, slot in (("设置（单位名称、备份、签名密钥）…", self.edit_settings), ("账户管理…", self.manage_accounts),
                            ("修改我的密码…", self.change_password), ("切换账户…", self.switch_account)):  # fmt: skip
            act = QAction(title, self)
            act.triggered.connect(lambda _=False, f=slot: f())
            self.settings_menu.addAction(act)
        self.settings_menu.addSeparator()
        self.settings_menu.addAction(rules)
        self.help_menu = self.menuBar().addMenu("帮助(&H)")
        guide = QAction("使用说明", self)
        guide.setObjectName("guide-action")
        guide.setShortcut(QKeySequence.StandardKey.HelpContents)
        guide.triggered.connect(lambda _=False: self.show_guide())
        self.help_menu.addAction(guide)
        check = QAction("完整性检查", self)
        check.triggered.connect(self.integrity_check)
        self.help_menu.addAction(check)
        journal = QAction("操作日志", self)
        journal.triggered.connect(lambda: self.tabs.setCurrentWidget(self._pages.get("journal")))
        self.help_menu.addAction(journal)
        self.help_menu.addSeparator()
        about = QAction("关于", self)
        about.triggered.connect(self.about)
        self.help_menu.addAction(about)

    # --- trust: settings, accounts, backups, integrity ----------------------------------------

    def edit_settings(self) -> None:
        from dsj_desktop.ui.settings_dialog import SettingsDialog

        assert self.db is not None
        SettingsDialog(self.db, self).exec()  # its writes announce "settings": the title follows

    def manage_accounts(self) -> None:
        from dsj_desktop.ui.accounts_dialog import AccountsDialog

        assert self.db is not None
        dialog = AccountsDialog(self.db, self)
        dialog.current_changed.connect(lambda _: self.update_title())
        dialog.exec()

    def change_password(self) -> None:
        from dsj_desktop import actor
        from dsj_desktop.ui.accounts_dialog import ChangePasswordDialog

        who = actor.current()
        if who is None or self.db is None:
            QMessageBox.information(self, "修改密码", "本数据文件夹还没有设置账户。")
            return
        ChangePasswordDialog(self.db, who.username, self).exec()

    def switch_account(self) -> None:
        from dsj_desktop import actor
        from dsj_desktop.services import accounts
        from dsj_desktop.ui.login import LoginDialog

        assert self.db is not None
        if not accounts.has_accounts(self.db):
            QMessageBox.information(self, "切换账户", "本数据文件夹还没有设置账户。")
            return
        previous = actor.current()
        dialog = LoginDialog(self.db, self)
        if dialog.exec() and actor.current() is not None:
            if previous is not None and previous != actor.current():
                self.db.record(f"切换账户：{previous.label} → {actor.label()}")
            self.update_title()
        else:
            actor.set_current(previous)

    def backup(self) -> None:
        from dsj_desktop.ui.backup_dialogs import BackupDialog

        assert self.db is not None
        BackupDialog(self.db, self).exec()

    def restore(self) -> None:
        from dsj_desktop.ui.backup_dialogs import RestoreDialog

        assert self.db is not None
        self.restore_dialog = RestoreDialog(self.db, self)
        self.restore_dialog.exec()
        if self.restore_dialog.restored:  # the old database object is closed now
            self.reopen_requested.emit()

    def integrity_check(self) -> None:
        from dsj_desktop.ui.integrity import run_integrity_check, show_report

        assert self.db is not None
        report = run_integrity_check(self.db, self)
        if report is not None:
            show_report(report, self)

    def verify_record_file(self, path: str = "") -> None:
        """Check a record (.pdf or .json) someone brought, and show every check in Chinese."""
        from PySide6.QtWidgets import QFileDialog

        from dsj_desktop.errors import UserError
        from dsj_desktop.publish.verify_report import FAILED, PASSED, check_file, registered_keys

        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "核验抽取记录", "", "抽取记录 (*.pdf *.json)")
        if not path:
            return
        try:
            # This folder's own keys count as the bureau's: the signer is verified against them.
            trusted = registered_keys(self.db.data_dir if self.db is not None else None)
            verdict = check_file(Path(path), trusted=trusted)
        except UserError as exc:
            QMessageBox.warning(self, "核验抽取记录", str(exc))
            return
        ok, text = verdict.ok, verdict.text
        headline = {
            PASSED: "验证通过：签章有效，文件未被改动，签名人是本局，抽取过程经重算全部符合。",
            FAILED: "验证不通过：不能认定该文件是原始、完整的抽取记录。",
        }.get(verdict.status, "签名人未经核实：文件未被改动、重算全部符合，但签名密钥不是本数据文件夹登记的本局密钥，"
              "请与本局公布的指纹核对。")  # fmt: skip
        box = QMessageBox(
            QMessageBox.Icon.Information if ok else (
                QMessageBox.Icon.Critical if verdict.status == FAILED else QMessageBox.Icon.Warning),
            "核验抽取记录",
            headline + "\n\n点“显示详细信息”查看每一项检查。",
            parent=self,
        )  # fmt: skip
        box.setDetailedText(text)
        box.setObjectName("verify-result")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_verification = (ok, text)
        box.open()  # window-modal, without a nested event loop

    def _show(self, page: TabT) -> TabT:
        self.tabs.setCurrentWidget(page)
        return page

    def start_import_guide(self) -> None:
        """The six imports in order (skippable), ending on the plan tab."""
        from dsj_desktop.ui.import_guide import ImportGuide

        assert self.db is not None
        starts: dict[str, Callable[[], None]] = {"items": self._import_items, "plan": self._import_plan}
        self.import_guide = ImportGuide(
            self.db,
            lambda kind: starts.get(kind, lambda: self._import(kind))(),
            lambda: self.tabs.setCurrentWidget(self.plan_tab),
            self,
        )
        self.import_guide.open()

    def switch_data_dir(self, folder: str = "") -> bool:
        """Open another data folder: remembered for the next start, opened now in a new window of the
        program (its own lock, login and first-run wizard); this one closes."""
        import sys

        from PySide6.QtCore import QProcess
        from PySide6.QtWidgets import QFileDialog

        from dsj_desktop.paths import remember_data_dir

        current = str(self.db.data_dir) if self.db is not None else ""
        if not folder:
            folder = QFileDialog.getExistingDirectory(self, "选择数据文件夹（可以是新建的空文件夹）", current)
        if not folder or folder == current:
            return False
        answer = QMessageBox.question(
            self,
            "切换数据文件夹",
            f"改用数据文件夹“{folder}”？\n程序将在新文件夹中重新打开（空文件夹会先进入首次使用向导），"
            "以后启动时也打开它。当前文件夹中的数据不受影响。",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        remember_data_dir(Path(folder))
        frozen = getattr(sys, "frozen", False)
        args = ["--data-dir", folder] if frozen else ["-m", "dsj_desktop", "--data-dir", folder]
        if not QProcess.startDetached(sys.executable, args):
            QMessageBox.warning(self, "切换数据文件夹", "无法启动新的程序窗口：请手动重新启动程序。")
            return False
        self.close()
        return True

    def connect_server(self) -> bool:
        """Ask for the unit's server, test it, and reopen this window on it (see GuiSession)."""
        from dsj_desktop.ui.server_dialog import ServerDialog

        dialog = ServerDialog(self, self.db.url if self.db is not None else None)
        self.server_dialog = dialog
        if not dialog.exec() or not dialog.chosen_url:
            return False
        self.store_requested.emit(dialog.chosen_url)
        return True

    def change_key_passphrase(self) -> bool:
        """文件 › 更改本局密钥口令… (the keys on the unit's server; administrators)."""
        from dsj_desktop import actor
        from dsj_desktop.ui.key_dialogs import ChangePassphraseDialog

        if self.db is None:
            return False
        who = actor.current()
        if who is None or who.role != actor.ADMIN:
            QMessageBox.information(self, "更改本局密钥口令", "只有管理员可以更改本局密钥口令。")
            return False
        dialog = ChangePassphraseDialog(self.db, self)
        self.key_dialog = dialog
        return bool(dialog.exec())

    def rotate_write_key(self) -> bool:
        """文件 › 更换服务器写入密钥… (a workstation revoked; administrators)."""
        from dsj_desktop import actor
        from dsj_desktop.ui.key_dialogs import RotateWriteKeyDialog

        if self.db is None:
            return False
        who = actor.current()
        if who is None or who.role != actor.ADMIN:
            QMessageBox.information(self, "更换服务器写入密钥", "只有管理员可以更换服务器写入密钥。")
            return False
        dialog = RotateWriteKeyDialog(self.db, self)
        self.rotate_dialog = dialog
        return bool(dialog.exec())

    def disconnect_server(self) -> bool:
        """Back to the SQLite file of the data folder (the server's data stays on the server)."""
        if self.db is None or not self.db.url:
            return False
        answer = QMessageBox.question(
            self,
            "断开服务器",
            f"断开单位服务器（{self.db.url}），改用本机数据文件夹中的数据文件？\n"
            "服务器上的数据不受影响，以后可以随时再连接。",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.store_requested.emit(None)
        return True

    def _open_data_dir(self) -> None:
        if self.db is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.db.data_dir)))

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
        tab = self.directory_tabs[kind]
        self.tabs.setCurrentWidget(self.directories)
        self.directories.setCurrentWidget(tab)

    def show_results(self, deadline: str = "") -> None:
        self.tabs.setCurrentWidget(self.results_tab)
        self.results_tab.set_deadline_filter(deadline or None)

    def update_title(self) -> None:
        from dsj_desktop import actor
        from dsj_desktop.services import settings

        assert self.db is not None
        bureau = settings.bureau_name(self.db)
        who = actor.current()
        title = f"{APP_TITLE} — {bureau}" if bureau else APP_TITLE
        self.setWindowTitle(title + (f" — {who.label}（{who.role_title}）" if who else ""))
        self.status.setText(data_location(self.db))

    def closeEvent(self, event: QCloseEvent) -> None:
        from dsj_desktop.ui.plan_tab import PlanTab
        from dsj_desktop.ui.stats_tab import StatsTab

        plan = self._pages.if_built("plan") if self.db is not None else None
        if isinstance(plan, PlanTab):
            plan.shutdown()
        statistics = self._pages.if_built("stats") if self.db is not None else None
        if isinstance(statistics, StatsTab):
            statistics.shutdown()
        super().closeEvent(event)

    def show_guide(self) -> None:
        from dsj_desktop.ui.guide_dialog import GuideDialog

        self.guide = GuideDialog(self)
        self.guide.open()

    def about(self) -> None:
        folder = self.db.data_dir if self.db is not None else ""
        QMessageBox.about(
            self,
            f"关于{APP_TITLE}",
            f"<h3>{APP_TITLE}</h3><p>版本 {__version__}</p>"
            "<p>“双随机、一公开”监管工作台：一单两库、年度抽查计划、可公开验证的随机抽取（DSJ-DRAW-1）、"
            "结果录入与公示。"
            + (
                "数据保存在单位服务器上，只需单位内部网络。"
                if self.db is not None and self.db.url
                else "全部数据保存在本机，不需要网络。"
            )
            + "</p>"
            f"<p>数据文件夹：{folder}</p>",
        )
