"""Logging in, and the offline recovery of a forgotten administrator password.

``LoginDialog(db).exec()``: on success ``dialog.actor`` is the account now working (set as the
process's current actor by :func:`dsj_desktop.services.accounts.login`). ``RecoverDialog`` resets an
administrator's password with the recovery code and shows the new code once.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop import APP_TITLE
from dsj_desktop.actor import Actor
from dsj_desktop.clock import now
from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.prefs import last_user, remember_user
from dsj_desktop.services import accounts, settings
from dsj_desktop.ui.kit import ok_cancel
from dsj_desktop.ui.trust_widgets import (
    PasswordFields,
    RecoveryCodeView,
    error_label,
    mono_font,
    note_label,
    show_error,
)

RECOVERY_HELP = (
    "忘记密码时：\n\n"
    "· 操作员和查看账户：请管理员在“账户管理”中为你重设密码。\n\n"
    "· 管理员：用建立管理员账户时打印的恢复码重设密码。这在本机离线完成，不需要联系任何人；"
    "也可以在命令行运行：\n    dsj-desktop recover-admin 账户名\n\n"
    "恢复码只能用一次，重设后程序会给出新的恢复码。没有恢复码就无法找回管理员密码（程序没有后门），"
    "这时只能由另一位管理员为你重设。\n\n"
    "现在用恢复码重设管理员密码吗？"
)


def lock_note(db: Database, username: str) -> str:
    """When the account is locked now: until when (HH:MM), for the message under the password."""
    for a in accounts.list_accounts(db):
        if a.username == username.strip() and a.locked_until:
            until = datetime.fromisoformat(a.locked_until)
            if until > now():
                return f"可在 {until:%H:%M} 之后再试，或请管理员重设密码（重设后立即解锁）。"
    return ""


class LoginDialog(QDialog):
    """Account name (the last one used on this PC is remembered) and password."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.actor: Actor | None = None
        self.setObjectName("login-dialog")
        self.setWindowTitle(f"登录 — {APP_TITLE}")

        bureau = settings.bureau_name(db)
        head = QLabel(bureau or APP_TITLE)
        head.setObjectName("login-bureau")
        head.setStyleSheet("font-size: 15pt; font-weight: bold;")
        head.setWordWrap(True)
        sub = note_label(f"{APP_TITLE}　·　请登录")

        self.username = QLineEdit()
        self.username.setObjectName("login-username")
        self.username.setPlaceholderText("账户名")
        names = [a.username for a in accounts.list_accounts(db) if a.active]
        completer = QCompleter(names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.username.setCompleter(completer)
        self.password = QLineEdit()
        self.password.setObjectName("login-password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("密码")
        self.error = error_label()

        self.forgot = QLabel("<a href='#'>忘记密码？</a>")
        self.forgot.setObjectName("forgot-password")
        self.forgot.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.forgot.linkActivated.connect(lambda _=None: self.forgot_password())

        form = QFormLayout()
        form.addRow("账户名", self.username)
        form.addRow("密码", self.password)

        self.buttons, self.login_button, _ = ok_cancel(self, self.login, ok="登录", cancel="退出")
        self.login_button.setObjectName("login-button")

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(head)
        layout.addWidget(sub)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.forgot)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

        remembered = last_user(db.data_dir)
        if remembered and remembered in names:
            self.username.setText(remembered)
            self.password.setFocus()
        elif len(names) == 1:
            self.username.setText(names[0])
            self.password.setFocus()
        else:
            self.username.setFocus()

    def login(self) -> Actor | None:
        username = self.username.text().strip()
        if not username:
            show_error(self.error, "请输入账户名。")
            self.username.setFocus()
            return None
        if not self.password.text():
            show_error(self.error, "请输入密码。")
            self.password.setFocus()
            return None
        try:
            who = accounts.login(self.db, username, self.password.text())
        except UserError as exc:
            text = str(exc)
            note = lock_note(self.db, username)
            if note and "之后再试" not in text:
                text += note
            show_error(self.error, text)
            self.password.clear()
            self.password.setFocus()
            return None
        self.actor = who
        remember_user(self.db.data_dir, who.username)
        self.accept()
        return who

    def forgot_password(self) -> None:
        answer = QMessageBox.question(self, "忘记密码", RECOVERY_HELP)
        if answer != QMessageBox.StandardButton.Yes:
            return
        dlg = RecoverDialog(self.db, self, username=self.username.text().strip())
        if dlg.exec() and dlg.username:
            self.username.setText(dlg.username)
            self.password.clear()
            show_error(self.error, "")
            self.password.setFocus()


class RecoverDialog(QDialog):
    """An administrator's forgotten password, reset with the recovery code (offline). Shows the
    new recovery code once (``new_code``) with a print/save option."""

    def __init__(self, db: Database, parent: QWidget | None = None, *, username: str = "") -> None:
        super().__init__(parent)
        self.db = db
        self.username = ""
        self.new_code: str | None = None
        self.setObjectName("recover-dialog")
        self.setWindowTitle("用恢复码重设管理员密码")

        self.user = QLineEdit(username)
        self.user.setObjectName("recover-username")
        self.code = QLineEdit()
        self.code.setObjectName("recover-code")
        self.code.setFont(mono_font(12))
        self.code.setPlaceholderText("XXXXX-XXXXX-XXXXX-XXXXX")
        self.passwords = PasswordFields(self)
        self.error = error_label()
        form = QFormLayout()
        form.addRow("管理员账户名", self.user)
        form.addRow("恢复码", self.code)
        self.passwords.add_rows(form)

        page1 = QWidget()
        l1 = QVBoxLayout(page1)
        l1.setContentsMargins(0, 0, 0, 0)
        l1.addWidget(
            note_label(
                "输入建立管理员账户时打印的恢复码（20 位，字母和数字，不区分大小写）和新密码。"
                "重设后原恢复码作废，程序会给出新的恢复码。"
            )
        )
        l1.addLayout(form)
        l1.addWidget(self.error)
        l1.addStretch(1)
        self.page2 = QWidget()
        self.page2_layout = QVBoxLayout(self.page2)
        self.page2_layout.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        self.stack.addWidget(page1)
        self.stack.addWidget(self.page2)
        self.code_view: RecoveryCodeView | None = None

        self.buttons = QDialogButtonBox()
        self.reset_button = self.buttons.addButton("重设密码", QDialogButtonBox.ButtonRole.ActionRole)
        self.reset_button.setObjectName("recover-button")
        self.reset_button.setDefault(True)
        self.reset_button.clicked.connect(self.recover)
        self.cancel_button = self.buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.clicked.connect(self.reject)
        self.done_button = self.buttons.addButton("完成", QDialogButtonBox.ButtonRole.AcceptRole)
        self.done_button.clicked.connect(self.accept)
        self.done_button.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)
        (self.code if username else self.user).setFocus()

    def recover(self) -> str | None:
        username = self.user.text().strip()
        if not username or not self.code.text().strip():
            show_error(self.error, "请输入管理员账户名和恢复码。")
            return None
        problem = self.passwords.problem()
        if problem:
            show_error(self.error, problem)
            return None
        try:
            fresh = accounts.recover_admin(self.db, username, self.code.text(), self.passwords.value())
        except UserError as exc:
            show_error(self.error, str(exc))
            return None
        self.username = username
        self.new_code = fresh
        self.code_view = RecoveryCodeView(fresh, username, settings.bureau_name(self.db), self)
        self.page2_layout.addWidget(
            QLabel(f"<b>管理员“{username}”的密码已重设。</b>原恢复码已作废，请保存新的恢复码：")
        )
        self.page2_layout.addWidget(self.code_view)
        self.page2_layout.addStretch(1)
        self.stack.setCurrentWidget(self.page2)
        self.reset_button.hide()
        self.cancel_button.hide()
        self.done_button.show()
        self.done_button.setEnabled(False)
        self.code_view.confirmed_changed.connect(self.done_button.setEnabled)
        return fresh

    def reject(self) -> None:
        if self.code_view is not None and not self.code_view.confirmed:
            QMessageBox.warning(
                self,
                "管理员恢复码",
                "新的恢复码只显示这一次。请先打印或抄写保存，再勾选“我已把恢复码妥善保存”。",
            )
            return
        if self.new_code is not None:
            self.accept()  # the password was reset: closing the window means done
            return
        super().reject()
