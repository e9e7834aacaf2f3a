"""账户管理 for administrators, and 修改密码 for everyone.

The roles hold in the core (the database guard refuses a change the logged-in account may not
make); this dialog only shows what can be done and, when the core refuses, says so plainly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop import actor as actor_mod
from dsj_desktop.actor import ADMIN, OPERATOR, ROLE_DUTIES, ROLE_TITLES, VIEWER
from dsj_desktop.clock import now
from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.services import accounts, settings
from dsj_desktop.services.accounts import AccountInfo
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.kit import ok_cancel
from dsj_desktop.ui.ops import WriteOp, warn
from dsj_desktop.ui.runner import Outcome, report_failure
from dsj_desktop.ui.table_model import GREY, RED, ListTableModel
from dsj_desktop.ui.trust_widgets import (
    PasswordFields,
    RecoveryCodeDialog,
    error_label,
    note_label,
    show_error,
)

ROLES = (ADMIN, OPERATOR, VIEWER)
HEADERS = ("账户名", "姓名", "角色", "状态", "登录情况", "免密码登录", "建立时间")


def is_admin() -> bool:
    who = actor_mod.current()
    return who is not None and who.role == ADMIN


def login_state(a: AccountInfo) -> str:
    if a.locked_until:
        until = datetime.fromisoformat(a.locked_until)
        if until > now():
            return f"已锁定，{until:%H:%M} 后解锁"
    if a.failed_count:
        return f"已连续输错 {a.failed_count} 次"
    return ""


ACCOUNTS = frozenset({data_hub.JOURNAL})  # no tab shows the accounts; the journal shows the change


def refusal_shown(label: QLabel, *, then: Callable[[], object] | None = None) -> Callable[[Outcome], None]:
    """A ``failure`` handler for these forms: a refusal in the form's red line (then *then*)."""

    def show(out: Outcome) -> None:
        if not isinstance(out.error, UserError):
            report_failure(label.window(), "账户", out)
            return
        show_error(label, str(out.error))
        if then is not None:
            then()

    return show


class RoleChoice(QWidget):
    """The three roles as radio buttons, each with what it may do."""

    def __init__(self, current: str = OPERATOR, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for role in ROLES:
            radio = QRadioButton(ROLE_TITLES[role])
            radio.setObjectName(f"role-{role}")
            self.buttons[role] = radio
            self.group.addButton(radio)
            layout.addWidget(radio)
            duty = note_label(ROLE_DUTIES[role])
            duty.setContentsMargins(24, 0, 0, 4)
            layout.addWidget(duty)
        self.set_role(current)

    def set_role(self, role: str) -> None:
        if role in self.buttons:
            self.buttons[role].setChecked(True)

    def role(self) -> str:
        return next(r for r, b in self.buttons.items() if b.isChecked())


class AddAccountDialog(QDialog):
    """A new account: name, role (with what each may do), initial password. A new administrator
    gets a recovery code, shown once."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.created: str | None = None
        self.recovery_code: str | None = None
        self.setObjectName("add-account-dialog")
        self.setWindowTitle("新增账户")
        self.username = QLineEdit()
        self.username.setObjectName("new-username")
        self.username.setPlaceholderText("登录用，字母、数字和 _ - .")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("new-display-name")
        self.display_name.setPlaceholderText("记入操作日志和记录")
        self.roles = RoleChoice(OPERATOR, self)
        self.passwords = PasswordFields(self)
        self.error = error_label()
        form = QFormLayout()
        form.addRow("账户名", self.username)
        form.addRow("姓名", self.display_name)
        form.addRow("角色", self.roles)
        self.passwords.add_rows(form, "初始密码", "再输一次")
        buttons = ok_cancel(self, self.save, ok="建立账户").box
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(
            note_label("请把初始密码当面告诉同事，并请他登录后在“修改密码”中改成只有自己知道的密码。")
        )
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def save(self) -> str | None:
        problem = self.passwords.problem()
        if problem:
            show_error(self.error, problem)
            return None
        role, username, name, password = (
            self.roles.role(),
            self.username.text(),
            self.display_name.text(),
            self.passwords.value(),
        )
        out = WriteOp(
            self, "添加账户",
            lambda: accounts.create_account(self.db, username, name, role, password, with_recovery=role == ADMIN),
            changes=ACCOUNTS,
        ).failure(refusal_shown(self.error)).run()  # fmt: skip
        if not out.ok:
            return None
        code: str | None = out.value
        self.created = self.username.text().strip()
        self.recovery_code = code
        if code:
            RecoveryCodeDialog(code, self.created, settings.bureau_name(self.db), self).exec()
        self.accept()
        return self.created


class RoleDialog(QDialog):
    def __init__(self, db: Database, account: AccountInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.account = account
        self.setObjectName("role-dialog")
        self.setWindowTitle(f"修改角色：{account.username}")
        self.roles = RoleChoice(account.role, self)
        self.error = error_label()
        buttons = ok_cancel(self, self.save, ok="修改").box
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"账户“{account.display_name}（{account.username}）”的角色："))
        layout.addWidget(self.roles)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)

    def save(self) -> bool:
        username, role = self.account.username, self.roles.role()
        out = (
            WriteOp(
                self,
                "修改角色",
                lambda: accounts.update_account(self.db, username, role=role),
                changes=ACCOUNTS,
            )
            .failure(refusal_shown(self.error))
            .run()
        )
        if out.ok:
            self.accept()
        return out.ok


class ResetPasswordDialog(QDialog):
    """An administrator sets another account's password (this also lifts a lock)."""

    def __init__(self, db: Database, username: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.username = username
        self.setObjectName("reset-password-dialog")
        self.setWindowTitle(f"重设密码：{username}")
        self.passwords = PasswordFields(self)
        self.error = error_label()
        form = QFormLayout()
        self.passwords.add_rows(form)
        buttons = ok_cancel(self, self.save, ok="重设").box
        layout = QVBoxLayout(self)
        layout.addWidget(
            note_label(f"为账户“{username}”设一个新密码；账户如被锁定会同时解锁。请当面告诉本人。")
        )
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)

    def save(self) -> bool:
        problem = self.passwords.problem()
        if problem:
            show_error(self.error, problem)
            return False
        password = self.passwords.value()
        out = (
            WriteOp(
                self,
                "重设密码",
                lambda: accounts.reset_password(self.db, self.username, password),
                changes=ACCOUNTS,
            )
            .failure(refusal_shown(self.error))
            .run()
        )
        if out.ok:
            self.accept()
        return out.ok


class ChangePasswordDialog(QDialog):
    """Anyone changes their own password, knowing the old one."""

    def __init__(self, db: Database, username: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.username = username
        self.setObjectName("change-password-dialog")
        self.setWindowTitle("修改密码")
        self.old = QLineEdit()
        self.old.setObjectName("old-password")
        self.old.setEchoMode(QLineEdit.EchoMode.Password)
        self.passwords = PasswordFields(self)
        self.error = error_label()
        form = QFormLayout()
        form.addRow("账户", QLabel(username))
        form.addRow("原密码", self.old)
        self.passwords.add_rows(form)
        buttons = ok_cancel(self, self.save, ok="修改").box
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)
        self.old.setFocus()

    def save(self) -> bool:
        if not self.old.text():
            show_error(self.error, "请输入原密码。")
            return False
        problem = self.passwords.problem()
        if problem:
            show_error(self.error, problem)
            return False
        if self.passwords.value() == self.old.text():
            show_error(self.error, "新密码与原密码相同。")
            return False
        old, new = self.old.text(), self.passwords.value()
        out = (
            WriteOp(
                self,
                "修改密码",
                lambda: accounts.change_password(self.db, self.username, old, new),
                changes=ACCOUNTS,
            )
            .failure(refusal_shown(self.error, then=self.old.clear))
            .run()
        )
        if not out.ok:
            return False
        QMessageBox.information(self, "修改密码", "密码已修改。下次登录请使用新密码。")
        self.accept()
        return True


class AccountsDialog(QDialog):
    """The accounts with role, state and lock; add, change role, disable/enable, reset password,
    single-user auto-login. Non-administrators see the list only (and the core refuses anyway).
    ``current_changed(actor)``: the logged-in account's own role or name was changed here (the
    process's current actor is already updated)."""

    current_changed = Signal(object)

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.changed = False
        self.accounts: list[AccountInfo] = []
        self.auto_login = ""
        self.setObjectName("accounts-dialog")
        self.setWindowTitle("账户管理")

        duties = "<br>".join(f"<b>{ROLE_TITLES[r]}</b>：{ROLE_DUTIES[r]}" for r in ROLES)
        intro = note_label(duties, rich=True)
        self.notice = QLabel()
        self.notice.setObjectName("accounts-notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            "background: #fff8e1; border: 1px solid #f0c36d; border-radius: 4px; padding: 6px;"
        )

        self.model = ListTableModel(HEADERS)
        self.model.foreground = self._colour
        self.table = QTableView()
        self.table.setObjectName("accounts-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.table.doubleClicked.connect(self._double_clicked)

        self.btn_add = QPushButton("新增账户…")
        self.btn_role = QPushButton("修改角色…")
        self.btn_active = QPushButton("停用")
        self.btn_reset = QPushButton("重设密码…")
        self.btn_reset.setToolTip("为选中的账户设一个新密码；被锁定的账户同时解锁")
        self.btn_auto = QPushButton("设为免密码登录")
        self.btn_auto.setToolTip("本机只有一人使用时：启动程序直接以该账户进入，不再询问密码")
        self.btn_mine = QPushButton("修改我的密码…")
        self.admin_buttons = (self.btn_add, self.btn_role, self.btn_active, self.btn_reset, self.btn_auto)
        self.btn_add.clicked.connect(self.add_account)
        self.btn_role.clicked.connect(self.change_role)
        self.btn_active.clicked.connect(self.toggle_active)
        self.btn_reset.clicked.connect(self.reset_password)
        self.btn_auto.clicked.connect(self.toggle_auto_login)
        self.btn_mine.clicked.connect(self.change_my_password)
        row = QHBoxLayout()
        for b in self.admin_buttons:
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.btn_mine)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(close)
        self.resize(820, 440)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.refresh()
        if self.accounts:
            self.table.selectRow(0)

    # --- state ------------------------------------------------------------------------------

    def refresh(self) -> None:
        keep = self.selected()
        self.accounts = accounts.list_accounts(self.db)
        self.auto_login = str(settings.read(self.db, accounts.AUTO_LOGIN, "") or "")
        rows = [
            (a.username, a.display_name, a.role_title, "启用" if a.active else "已停用", login_state(a),
             "是" if a.username == self.auto_login else "", a.created_at[:16].replace("T", " "))
            for a in self.accounts
        ]  # fmt: skip
        self.model.set_rows(HEADERS, rows)
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for col in range(len(HEADERS) - 1):
            header.resizeSection(col, max(header.sectionSize(col) + 16, 72))
        if keep is not None:
            self.select(keep.username)
        who = actor_mod.current()
        if is_admin():
            self.notice.hide()
        else:
            role = who.role_title if who is not None else "未登录"
            self.notice.setText(
                f"只有管理员可以新增账户、修改角色、停用账户和重设密码。你的角色是“{role}”："
                "可以查看列表、修改自己的密码。"
            )
            self.notice.show()
        self._update_buttons()

    def _colour(self, row: int, column: int) -> QBrush | None:
        a = self.accounts[row]
        if not a.active:
            return GREY
        if column == 4 and login_state(a).startswith("已锁定"):
            return RED
        return None

    def selected(self) -> AccountInfo | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.accounts):
            return None
        return self.accounts[rows[0].row()]

    def select(self, username: str) -> None:
        for i, a in enumerate(self.accounts):
            if a.username == username:
                self.table.selectRow(i)
                return

    def _update_buttons(self) -> None:
        a = self.selected()
        admin = is_admin()
        self.btn_add.setEnabled(admin)
        for b in (self.btn_role, self.btn_active, self.btn_reset, self.btn_auto):
            b.setEnabled(admin and a is not None)
        self.btn_active.setText("启用" if a is not None and not a.active else "停用")
        self.btn_auto.setText(
            "取消免密码登录" if a is not None and a.username == self.auto_login else "设为免密码登录"
        )
        self.btn_mine.setEnabled(actor_mod.current() is not None)

    def _done(self) -> None:
        self.changed = True
        who = actor_mod.current()
        self.refresh()
        mine = next((a for a in self.accounts if who is not None and a.username == who.username), None)
        if mine is not None and who is not None and mine.actor() != who:
            # The logged-in account's own role or name changed: work on with the new one at once.
            actor_mod.set_current(mine.actor())
            self.current_changed.emit(mine.actor())
            self.refresh()

    # --- actions ----------------------------------------------------------------------------

    def add_account(self) -> None:
        dlg = AddAccountDialog(self.db, self)
        if dlg.exec() and dlg.created:
            self._done()
            self.select(dlg.created)

    def _double_clicked(self) -> None:
        if self.btn_role.isEnabled():
            self.change_role()

    def change_role(self) -> None:
        a = self.selected()
        if a is None:
            return
        if RoleDialog(self.db, a, self).exec():
            self._done()

    def toggle_active(self) -> bool:
        a = self.selected()
        if a is None:
            return False
        me = actor_mod.current()
        if a.active and me is not None and me.username == a.username:
            QMessageBox.warning(
                self, "停用账户", "不能停用正在使用的账户。如确需停用，请用另一个管理员账户登录后操作。"
            )
            return False
        if a.active:
            answer = QMessageBox.question(
                self,
                "停用账户",
                f"停用账户“{a.display_name}（{a.username}）”吗？停用后不能登录，它的操作记录仍然保留，"
                "可随时重新启用。",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        title = "停用账户" if a.active else "启用账户"
        out = (
            WriteOp(
                self,
                title,
                lambda: accounts.update_account(self.db, a.username, active=not a.active),
                changes=ACCOUNTS,
            )
            .failure(warn(self, title))
            .run()
        )
        if out.ok:
            self._done()
        return out.ok

    def reset_password(self) -> None:
        a = self.selected()
        if a is None:
            return
        if ResetPasswordDialog(self.db, a.username, self).exec():
            self._done()
            QMessageBox.information(self, "重设密码", f"账户“{a.username}”的密码已重设。")

    def toggle_auto_login(self) -> bool:
        a = self.selected()
        if a is None:
            return False
        turn_off = a.username == self.auto_login
        if not turn_off:
            if not a.active:
                QMessageBox.warning(self, "免密码登录", "停用的账户不能设为免密码登录。")
                return False
            answer = QMessageBox.question(
                self,
                "免密码登录",
                f"本机启动程序时直接以“{a.display_name}（{a.username}）”的身份进入，不再询问密码。\n\n"
                "只在这台电脑专人专用、且电脑本身设有开机密码时才建议这样做。确定吗？",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        out = WriteOp(
            self, "免密码登录", lambda: accounts.set_auto_login(self.db, None if turn_off else a.username),
            changes=ACCOUNTS,
        ).failure(warn(self, "免密码登录")).run()  # fmt: skip
        if out.ok:
            self._done()
        return out.ok

    def change_my_password(self) -> None:
        who = actor_mod.current()
        if who is None:
            return
        ChangePasswordDialog(self.db, who.username, self).exec()
        self.refresh()


__all__ = [
    "AccountsDialog",
    "AddAccountDialog",
    "ChangePasswordDialog",
    "ResetPasswordDialog",
    "RoleDialog",
    "is_admin",
]
