"""Backups in the GUI: a manual copy to a USB stick or folder (verified), the automatic copies with
a preview of each, restoring from a backup (preview, typed confirmation), and the automatic
backup at start and once a day (``DailyBackup``).

After ``RestoreDialog(...).exec()`` with ``dialog.restored`` true the database object is closed:
the caller opens the data folder again and calls
``backup.note_restore(new_db, dialog.safety, dialog.info)``.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop import actor as actor_mod
from dsj_desktop.actor import ADMIN
from dsj_desktop.db.engine import Database
from dsj_desktop.paths import backups_dir
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services import backup, journal
from dsj_desktop.services.backup import BackupInfo
from dsj_desktop.ui.kit import DestinationList, choose_folder, ok_cancel
from dsj_desktop.ui.runner import BackgroundJob, Outcome, report_failure, run_with_progress
from dsj_desktop.ui.table_model import ListTableModel
from dsj_desktop.ui.trust_widgets import error_label, note_label, show_error

CONFIRM_WORDS = "确认恢复"
HOUR_MS = 60 * 60 * 1000
REASONS = {
    "start": "启动时", "daily": "每日", "before-import": "导入前", "before-restore": "恢复前",
    "backup": "自动",
}  # fmt: skip
_AUTO_NAME = re.compile(r"^auto-(\d{8})-(\d{6})-(.+)$")
_UPGRADE_NAME = re.compile(r"^upgrade-v(\d+)-to-v(\d+)-(\d{8})-(\d{6})$")
_SAFETY_NAME = re.compile(r"^safety-(\d{8})-(\d{6})-")
KEYS_NOTE = (
    "备份到U盘/文件夹时，本局的签名密钥会一同保存在备份文件旁的“….keys”文件夹中：换电脑后恢复时，"
    "程序会一并恢复密钥，旧记录仍能用本局的密钥核验。该文件夹含有私钥，请妥善保管U盘，不要外传。"
)


def last_entry_text(last_entry: str) -> str:
    """ "2026-11-23T08:16:36+08:00 action" → "2026-11-23 08:16:36 action"."""
    at, _, action = last_entry.partition(" ")
    return f"{at[:19].replace('T', ' ')} {action}".strip()


def describe_file(path: Path) -> tuple[str, str]:
    """(when, why) from a backup file's name; the file's time when the name says nothing."""
    stem = path.name.removesuffix(backup.SUFFIX).removesuffix(backup.PG_SUFFIX)
    m = _AUTO_NAME.match(stem)
    if m:
        made = datetime.strptime(m[1] + m[2], "%Y%m%d%H%M%S")
        return f"{made:%Y-%m-%d %H:%M:%S}", REASONS.get(m[3], m[3])
    m = _SAFETY_NAME.match(stem)
    if m:
        made = datetime.strptime(m[1] + m[2], "%Y%m%d%H%M%S")
        return f"{made:%Y-%m-%d %H:%M:%S}", "恢复前的数据（保留）"
    m = _UPGRADE_NAME.match(stem)
    if m:
        made = datetime.strptime(m[3] + m[4], "%Y%m%d%H%M%S")
        return f"{made:%Y-%m-%d %H:%M:%S}", f"升级前（版本 {m[1]} → {m[2]}）"
    try:
        made = datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return "", ""
    return f"{made:%Y-%m-%d %H:%M:%S}", "手动"


def size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} KB"


def preview_html(info: BackupInfo, current: dict[str, int] | None = None, last_now: str = "") -> str:
    """What a backup holds (and, for a restore, what the current data holds beside it)."""
    when, why = describe_file(info.path)
    rows = ["<tr><th align='left'>项目</th><th align='right'>备份中</th>"
            + ("<th align='right'>当前数据</th>" if current is not None else "") + "</tr>"]  # fmt: skip
    for title in {**info.counts, **(current or {})}:
        have = info.counts.get(title)
        cells = f"<td>{title}</td><td align='right'>{'' if have is None else f'{have:,}'}</td>"
        if current is not None:
            now = current.get(title)
            mark = " style='color:#b36b00'" if now is not None and have is not None and now != have else ""
            cells += f"<td align='right'{mark}>{'' if now is None else f'{now:,}'}</td>"
        rows.append(f"<tr>{cells}</tr>")
    check = (
        "<span style='color:#1a7f37'>通过（文件完整，操作日志的哈希链和签名无误）</span>"
        if info.ok
        else "<span style='color:#b00020'>不通过：" + "；".join(info.problems) + "</span>"
    )
    parts = [
        f"<p><b>{html.escape(info.path.name)}</b><br>{when or info.made}　{why}　{size_text(info.size)}　数据库版本 {info.schema_version}</p>",
        "<table cellspacing='0' cellpadding='3'>" + "".join(rows) + "</table>",
        f"<p>操作日志 {info.journal_entries:,} 条；最后一条：{html.escape(last_entry_text(info.last_entry))}</p>"
        if info.last_entry else "<p>操作日志：（无）</p>",
    ]  # fmt: skip
    if last_now:
        parts.append(f"<p style='color:#57606a'>当前数据的最后一条日志：{html.escape(last_now)}</p>")
    parts.append(f"<p>校验：{check}</p>")
    return "".join(parts)


def _inspect_job(path: Path, public_key: bytes | None) -> Job[BackupInfo]:
    yield Progress("正在读取备份文件……")
    return backup.inspect(path, public_key)


def _backup_job(db: Database, folder: Path) -> Job[BackupInfo]:
    yield Progress("正在备份并校验……")
    return backup.backup_to_folder(db, folder)


def _auto_job(db: Database, reason: str) -> Job[BackupInfo]:
    yield Progress("正在自动备份……")
    return backup.auto_backup(db, reason)


def _restore_job(db: Database, path: Path) -> Job[tuple[Path, BackupInfo]]:
    yield Progress("正在备份当前数据并恢复……")
    return backup.restore(db, path)


class BackupList(QWidget):
    """The backups in the data folder's backups/ (newest first) and a preview of the selected one.
    The preview is read in the background (a long journal takes a moment to verify)."""

    selected = Signal(object)  # BackupInfo of the previewed file, or None

    def __init__(self, db: Database, parent: QWidget | None = None, *, compare: bool = False) -> None:
        super().__init__(parent)
        self.db = db
        self.compare = compare
        self.paths: list[Path] = []
        self.info: BackupInfo | None = None
        self.extra: Path | None = None  # a file chosen elsewhere (restore from a USB stick)
        self._job: BackgroundJob | None = None
        self._wanted: Path | None = None
        self.model = ListTableModel(("时间", "原因", "大小", "文件"))
        self.table = QTableView()
        self.table.setObjectName("backup-list")
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.preview = QTextBrowser()
        self.preview.setObjectName("backup-preview")
        self.preview.setOpenLinks(False)
        self.preview.setMinimumWidth(320)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_select())
        self.reload()

    def reload(self) -> None:
        self.paths = backup.list_backups(self.db)
        if self.extra is not None and self.extra not in self.paths:
            self.paths.insert(0, self.extra)
        rows = []
        for p in self.paths:
            when, why = describe_file(p)
            if p == self.extra:
                why = "选择的文件"
            try:
                size = size_text(p.stat().st_size)
            except OSError:
                size = ""
            rows.append((when, why, size, str(p) if p == self.extra else p.name))
        self.model.set_rows(self.model.headers, rows)
        if self.paths:
            self.table.selectRow(0)
        else:
            self.show_preview(None)
            self.preview.setPlainText("（还没有备份）")

    def add_file(self, path: Path) -> None:
        """A backup file from elsewhere, listed first and selected."""
        self.extra = Path(path)
        self.reload()

    def current_path(self) -> Path | None:
        rows = self.table.selectionModel().selectedRows()
        return self.paths[rows[0].row()] if rows and rows[0].row() < len(self.paths) else None

    def _on_select(self) -> None:
        path = self.current_path()
        self.show_preview(None)
        if path is None:
            return
        self.preview.setPlainText(f"正在读取 {path.name} ……")
        self._wanted = path
        if self._job is not None:
            self._job.cancel()
        self._job = BackgroundJob(_inspect_job(path, self.db.guard.public_key))
        self._job.finished.connect(self._loaded)
        self._job.start()

    @Slot(object)
    def _loaded(self, out: Outcome) -> None:
        if out.cancelled or not out.ok:
            if out.error is not None:
                self.preview.setPlainText(f"无法读取：{out.error}")
            return
        info: BackupInfo = out.value
        if info.path != self._wanted:
            return  # the user has moved on
        self.show_preview(info)

    def show_preview(self, info: BackupInfo | None) -> None:
        self.info = info
        if info is not None:
            current = backup.current_counts(self.db) if self.compare else None
            last = ""
            if self.compare:
                e = journal.entries(self.db, limit=1)
                last = f"{e[0].at[:19].replace('T', ' ')} {e[0].action}" if e else ""
            self.preview.setHtml(preview_html(info, current, last))
        self.selected.emit(info)

    def wait(self, timeout_s: float = 30.0) -> bool:
        return self._job is None or self._job.wait(timeout_s)


class BackupDialog(QDialog):
    """备份: a verified copy to a USB stick or folder (removable drives first), and the automatic
    backups in the data folder with a preview of each."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.last: BackupInfo | None = None
        self.setObjectName("backup-dialog")
        self.setWindowTitle("数据备份")

        manual = QGroupBox("备份到U盘或其他文件夹")
        who = actor_mod.current()
        # The copy carries the bureau's private keys: an administrator's job (the core refuses others).
        self.allowed = not db.guard.accounts_exist or (who is not None and who.role == ADMIN)
        self.places = DestinationList()
        self.places.setObjectName("backup-places")
        self.places.setMaximumHeight(90)
        again = QPushButton("刷新（插入U盘后）")
        again.clicked.connect(self.refresh_places)
        other = QPushButton("选择其他文件夹…")
        other.clicked.connect(self.choose_other)
        other.setEnabled(self.allowed)
        self.btn_backup = QPushButton("备份到选中的位置")
        self.btn_backup.setObjectName("backup-button")
        self.btn_backup.clicked.connect(self.backup_selected)
        self.result_label = QLabel()
        self.result_label.setObjectName("backup-result")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.hide()
        row = QHBoxLayout()
        row.addWidget(again)
        row.addWidget(other)
        row.addStretch(1)
        row.addWidget(self.btn_backup)
        ml = QVBoxLayout(manual)
        ml.addWidget(
            note_label(
                "把全部数据复制成一个文件，复制后立即重新打开校验。建议每周备份到U盘，并把U盘存放在另一处。"
            )
        )
        if not self.allowed:
            notice = QLabel("备份到U盘会带走本局的签名私钥，只有管理员可以进行。请用管理员账户登录后再操作。")
            notice.setObjectName("backup-notice")
            notice.setWordWrap(True)
            notice.setStyleSheet("color: #b00020;")
            ml.addWidget(notice)
        ml.addWidget(self.places)
        ml.addLayout(row)
        ml.addWidget(self.result_label)

        keep = backup.keep_count(db)
        auto = QGroupBox(f"自动备份（保存在本机数据文件夹的 backups 中，保留最近 {keep} 份）")
        self.list = BackupList(db, self)
        open_dir = QPushButton("打开备份文件夹")
        open_dir.clicked.connect(self.open_folder)
        al = QVBoxLayout(auto)
        al.addWidget(
            note_label(
                "程序在启动时、每天、导入名录前和升级数据库前自动备份（数据没有变化时不重复备份）；"
                "恢复前的数据另存为“恢复前的数据（保留）”，不会被轮换删除。"
            )
        )
        al.addWidget(self.list, 1)
        arow = QHBoxLayout()
        arow.addWidget(note_label(KEYS_NOTE), 1)
        arow.addWidget(open_dir, 0, Qt.AlignmentFlag.AlignBottom)
        al.addLayout(arow)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(manual)
        layout.addWidget(auto, 1)
        layout.addWidget(close)
        self.resize(860, 640)
        self.refresh_places()

    def refresh_places(self) -> None:
        self.places.refresh()
        self.btn_backup.setEnabled(self.allowed and self.places.count() > 0)

    def choose_other(self) -> None:
        folder = choose_folder(self, "选择备份文件夹")
        if folder is not None:
            self.backup_to(folder)

    def backup_selected(self) -> None:
        folder = self.places.chosen()
        if folder is None:
            QMessageBox.warning(self, "备份", "请选择备份位置。")
            return
        self.backup_to(folder)

    def backup_to(self, folder: Path) -> BackupInfo | None:
        out = run_with_progress(self, "备份", _backup_job(self.db, folder), cancellable=False)
        if not out.ok:
            report_failure(self, "备份", out)
            return None
        info: BackupInfo = out.value
        self.last = info
        self.result_label.setText(
            f"<b style='color:#1a7f37'>已备份并校验通过：</b>{html.escape(str(info.path))}<br>"
            + "，".join(f"{k} {v:,}" for k, v in info.counts.items())
            + f"；操作日志 {info.journal_entries:,} 条；{size_text(info.size)}"
        )
        self.result_label.show()
        return info

    def open_folder(self) -> None:
        folder = backups_dir(self.db.data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


class RestoreDialog(QDialog):
    """从备份恢复: choose an automatic backup or a file, see what it holds beside the current data,
    type the confirmation, restore. Afterwards ``restored``, ``safety`` (the copy of the replaced
    data) and ``info``; the database object given is then closed."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.restored = False
        self.safety: Path | None = None
        self.info: BackupInfo | None = None
        self.setObjectName("restore-dialog")
        self.setWindowTitle("从备份恢复数据")
        who = actor_mod.current()
        self.allowed = who is not None and who.role == ADMIN

        warn = QLabel(
            "<b>恢复会用备份中的数据替换当前的全部数据</b>（名录、计划、抽取记录、结果、账户和操作日志）。"
            "恢复前程序会先自动备份当前数据，必要时可以再恢复回来。"
        )
        warn.setWordWrap(True)
        warn.setStyleSheet(
            "background: #fff8e1; border: 1px solid #f0c36d; border-radius: 4px; padding: 6px;"
        )
        self.notice = QLabel("只有管理员可以从备份恢复数据。请用管理员账户登录后再操作。")
        self.notice.setObjectName("restore-notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #b00020;")
        self.notice.setVisible(not self.allowed)

        self.list = BackupList(db, self, compare=True)
        choose = QPushButton("选择备份文件…")
        choose.setToolTip("例如U盘上的备份文件（.sqlite3）")
        choose.clicked.connect(self.choose_file)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("本机的自动备份，或："))
        pick.addWidget(choose)
        pick.addStretch(1)

        self.confirm = QLineEdit()
        self.confirm.setObjectName("restore-confirm")
        self.confirm.setPlaceholderText(CONFIRM_WORDS)
        self.confirm.setMaximumWidth(200)
        self.error = error_label()
        crow = QHBoxLayout()
        crow.addWidget(QLabel(f"确认无误后，请输入“{CONFIRM_WORDS}”四个字："))
        crow.addWidget(self.confirm)
        crow.addStretch(1)

        self.buttons, self.btn_restore, _ = ok_cancel(self, self.restore, ok="恢复")
        self.btn_restore.setObjectName("restore-button")

        layout = QVBoxLayout(self)
        layout.addWidget(warn)
        layout.addWidget(self.notice)
        layout.addLayout(pick)
        layout.addWidget(self.list, 1)
        layout.addLayout(crow)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(900, 600)
        self.confirm.textChanged.connect(lambda _=None: self._update())
        self.list.selected.connect(lambda _=None: self._update())
        self._update()

    def _update(self) -> None:
        info = self.list.info
        self.btn_restore.setEnabled(
            self.allowed and info is not None and info.ok and self.confirm.text().strip() == CONFIRM_WORDS
        )

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "选择备份文件", str(Path.home()), "备份文件 (*.sqlite3);;所有文件 (*)"
        )
        if path:
            self.list.add_file(Path(path))

    def restore(self) -> bool:
        info = self.list.info
        if not self.allowed:
            show_error(self.error, self.notice.text())
            return False
        if info is None or not info.ok:
            show_error(self.error, "请选择一个校验通过的备份。")
            return False
        if self.confirm.text().strip() != CONFIRM_WORDS:
            show_error(self.error, f"请输入“{CONFIRM_WORDS}”以确认。")
            return False
        self.list.wait()
        out = run_with_progress(self, "从备份恢复数据", _restore_job(self.db, info.path), cancellable=False)
        if not out.ok:
            report_failure(self, "从备份恢复数据", out)
            return False
        self.safety, self.info = out.value
        self.restored = True
        QMessageBox.information(
            self,
            "从备份恢复数据",
            f"已从“{info.path.name}”恢复数据。\n恢复前的数据已备份为：\n{self.safety}\n\n程序将重新打开数据。",
        )
        self.accept()
        return True


class DailyBackup(QObject):
    """Automatic backups while the program runs: one at ``start()`` (reason "start") and another
    whenever the newest automatic backup is older than *max_age* (checked every *interval_ms*).
    Backups run on the thread pool; ``made(info)`` or ``failed(message)`` report them."""

    made = Signal(object)  # BackupInfo
    failed = Signal(str)

    def __init__(
        self,
        db: Database,
        parent: QObject | None = None,
        *,
        interval_ms: int = HOUR_MS,
        max_age: timedelta = timedelta(days=1),
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.max_age = max_age
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self._job: BackgroundJob | None = None
        self.last: BackupInfo | None = None

    def start(self, *, backup_now: bool = True) -> None:
        if backup_now:
            self.backup("start")
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def set_database(self, db: Database) -> None:
        """After a restore the caller opens the data again: back up that one from now on."""
        self.wait()
        self.db = db

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    def due(self) -> bool:
        last = backup.last_auto_backup(self.db)
        return last is None or datetime.now() - last >= self.max_age

    @Slot()
    def check(self) -> bool:
        """Make the daily backup if one is due; True if one was started."""
        if self.running or not self.due():
            return False
        return self.backup("daily")

    def backup(self, reason: str) -> bool:
        if self.running:
            return False
        self._job = BackgroundJob(_auto_job(self.db, reason))
        self._job.finished.connect(self._done)
        self._job.start()
        return True

    def wait(self, timeout_s: float = 60.0) -> bool:
        return self._job is None or self._job.wait(timeout_s)

    @Slot(object)
    def _done(self, out: Outcome) -> None:
        if out.ok:
            self.last = out.value
            self.made.emit(out.value)
        elif not out.cancelled:
            self.failed.emit(f"自动备份失败：{out.error}")


__all__ = ["BackupDialog", "BackupList", "DailyBackup", "RestoreDialog", "describe_file", "preview_html"]
