"""Pieces shared by the login, first-run, accounts and settings dialogs: password fields with a
strength hint, fingerprints and recovery codes in large monospace type, the printable recovery
sheet (written by publish/recovery_sheet.py). The per-PC preferences live in dsj_desktop/prefs.py."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.errors import UserError
from dsj_desktop.publish.recovery_sheet import RECOVERY_KEEP, RECOVERY_USE, write_recovery_sheet
from dsj_desktop.services.accounts import MIN_PASSWORD, password_problem

MONO_FAMILY = "WenQuanYi Micro Hei Mono"  # in the bundled font file, next to the proportional face
MUTED = "color: #57606a;"
ERROR = "color: #b00020;"


# --- small widgets ---------------------------------------------------------------------------------


def mono_font(point_size: float = 10, *, bold: bool = False) -> QFont:
    font = QFont(MONO_FAMILY)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def note_label(text: str = "", *, rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(MUTED)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    return label


def error_label() -> QLabel:
    """A red line for a refusal; hidden while empty."""
    label = QLabel()
    label.setObjectName("error")
    label.setWordWrap(True)
    label.setStyleSheet(ERROR)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def show_error(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


# --- passwords -------------------------------------------------------------------------------------


def password_hint(password: str) -> tuple[bool, str]:
    """(acceptable, a short hint) for a new password, by the core's rules plus a strength word."""
    if not password:
        return False, f"至少 {MIN_PASSWORD} 位，字母和数字混合。"
    if len(password) < MIN_PASSWORD:
        return False, f"太短：还差 {MIN_PASSWORD - len(password)} 位（至少 {MIN_PASSWORD} 位）。"
    problem = password_problem(password)
    if problem:
        return False, problem
    kinds = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if len(password) >= 12 and kinds >= 3:
        return True, "强度：强。"
    if len(password) >= 10 or kinds >= 3:
        return True, "强度：中。可以再长一些，或加入大写字母、符号。"
    return True, "强度：一般。建议 10 位以上，并加入大写字母或符号。"


class PasswordFields(QWidget):
    """A new password typed twice, with a live hint. Put into a QFormLayout via :meth:`add_rows`."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.first = QLineEdit()
        self.first.setObjectName("new-password")
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setObjectName("new-password-again")
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.hint = QLabel()
        self.hint.setObjectName("password-hint")
        self.hint.setWordWrap(True)
        for edit in (self.first, self.again):
            edit.textChanged.connect(lambda _=None: self._update())
        self._update()

    def add_rows(self, form: QFormLayout, first: str = "新密码", again: str = "再输一次") -> None:
        form.addRow(first, self.first)
        form.addRow(again, self.again)
        form.addRow("", self.hint)

    def value(self) -> str:
        return self.first.text()

    def problem(self) -> str | None:
        """Why the typed password cannot be used yet (None when it can)."""
        ok, hint = password_hint(self.first.text())
        if not ok:
            return hint
        if self.again.text() != self.first.text():
            return "两次输入的密码不一致。"
        return None

    def clear(self) -> None:
        self.first.clear()
        self.again.clear()

    def _update(self) -> None:
        ok, hint = password_hint(self.first.text())
        if ok and self.again.text() and self.again.text() != self.first.text():
            hint, ok = "两次输入的密码不一致。", False
        self.hint.setText(hint)
        self.hint.setStyleSheet(MUTED if ok or not self.first.text() else ERROR)
        self.changed.emit()


# --- fingerprints and recovery codes -------------------------------------------------------------


def fingerprint_lines(fingerprint: str) -> str:
    """16 groups of four on two lines of eight: easier to read aloud and compare."""
    groups = fingerprint.split()
    if len(groups) <= 8:
        return fingerprint
    return " ".join(groups[:8]) + "\n" + " ".join(groups[8:])


def copy_to_clipboard(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


class FingerprintView(QFrame):
    """A key's fingerprint in large monospace type, selectable, with a copy button."""

    def __init__(self, title: str, explanation: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fingerprint")
        self.setStyleSheet(
            "#fingerprint { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; }"
        )
        self.fingerprint = ""
        self.title = QLabel(f"<b>{title}</b>")
        self.value = QLabel("—")
        self.value.setObjectName("fingerprint-value")
        self.value.setFont(mono_font(13, bold=True))
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("复制")
        self.copy_button.setToolTip("复制指纹（64 位十六进制数字）")
        self.copy_button.clicked.connect(lambda: copy_to_clipboard(self.fingerprint))
        self.copy_button.setEnabled(False)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.value)
        if explanation:
            layout.addWidget(note_label(explanation))

    def set_fingerprint(self, fingerprint: str, missing: str = "（尚未生成）") -> None:
        self.fingerprint = fingerprint
        self.value.setText(fingerprint_lines(fingerprint) if fingerprint else missing)
        self.value.setFont(mono_font(13, bold=True) if fingerprint else QFont())
        self.copy_button.setEnabled(bool(fingerprint))


def save_recovery_sheet(
    parent: QWidget | None,
    code: str,
    username: str,
    bureau: str,
    fingerprints: Sequence[tuple[str, str]] = (),
) -> Path | None:
    """Ask where to save the recovery sheet (PDF or text), write it, offer to open it for printing."""
    default = str(Path.home() / f"管理员恢复码-{username}.pdf")
    path, chosen = QFileDialog.getSaveFileName(
        parent, "打印/保存恢复码", default, "PDF 文件，可打印 (*.pdf);;文本文件 (*.txt)"
    )
    if not path:
        return None
    p = Path(path)
    if p.suffix.lower() not in (".pdf", ".txt"):
        p = p.with_suffix(".txt" if "txt" in chosen else ".pdf")
    try:
        written = write_recovery_sheet(p, code, username, bureau, fingerprints)
    except UserError as exc:
        QMessageBox.warning(parent, "保存恢复码", str(exc))
        return None
    answer = QMessageBox.question(
        parent,
        "保存恢复码",
        f"恢复码已保存到：\n{written}\n\n现在打开这个文件以便打印吗？打印后请删除电子文件，把纸质恢复码锁入保险柜。",
    )
    if answer == QMessageBox.StandardButton.Yes:
        from PySide6.QtCore import QUrl

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(written)))
    return written


class RecoveryCodeView(QFrame):
    """An administrator's recovery code, shown once: large type, a save/print button, and the box
    "我已把恢复码妥善保存" (``confirmed``) that the caller requires before going on."""

    confirmed_changed = Signal(bool)

    def __init__(
        self,
        code: str,
        username: str,
        bureau: str,
        parent: QWidget | None = None,
        *,
        fingerprints: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(parent)
        self.code = code
        self.username = username
        self.bureau = bureau
        self.fingerprints = list(fingerprints)
        self.saved_to: Path | None = None
        self.setObjectName("recovery")
        self.setStyleSheet(
            "#recovery { background: #fff8e1; border: 1px solid #f0c36d; border-radius: 6px; }"
        )
        title = QLabel(f"<b>管理员“{username}”的恢复码</b>（只显示这一次）")
        self.value = QLabel(code)
        self.value.setObjectName("recovery-code")
        self.value.setFont(mono_font(20, bold=True))
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value.setMinimumHeight(48)
        self.save_button = QPushButton("打印/保存恢复码…")
        self.save_button.setObjectName("save-recovery")
        self.save_button.clicked.connect(self.save)
        self.saved_label = note_label()
        self.saved_label.hide()
        self.confirm = QCheckBox("我已把恢复码妥善保存")
        self.confirm.setObjectName("recovery-confirm")
        self.confirm.toggled.connect(self.confirmed_changed)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.confirm)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.value)
        use = html.escape(RECOVERY_USE.format(username=username))
        command = f"dsj-desktop recover-admin {username}"
        use = use.replace(html.escape(command) + "。", f"<br><code>{html.escape(command)}</code><br>")
        layout.addWidget(note_label(use + html.escape(RECOVERY_KEEP), rich=True))
        layout.addLayout(row)
        layout.addWidget(self.saved_label)

    @property
    def confirmed(self) -> bool:
        return self.confirm.isChecked()

    def save(self) -> Path | None:
        path = save_recovery_sheet(self, self.code, self.username, self.bureau, self.fingerprints)
        if path is not None:
            self.saved_to = path
            self.saved_label.setText(f"已保存到：{path}")
            self.saved_label.show()
        return path


class RecoveryCodeDialog(QDialog):
    """Shows a new recovery code once; closes only when the user says it is kept safely."""

    def __init__(self, code: str, username: str, bureau: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recovery-code-dialog")
        self.setWindowTitle("管理员恢复码")
        self.view = RecoveryCodeView(code, username, bureau, self)
        self.buttons = QDialogButtonBox()
        self.done_button = self.buttons.addButton("完成", QDialogButtonBox.ButtonRole.AcceptRole)
        self.done_button.setEnabled(False)
        self.done_button.clicked.connect(self.accept)
        self.view.confirmed_changed.connect(self.done_button.setEnabled)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)

    def reject(self) -> None:
        if not self.view.confirmed:
            QMessageBox.warning(
                self, "管理员恢复码", "恢复码只显示这一次。请先打印或抄写保存，再勾选“我已把恢复码妥善保存”。"
            )
            return
        super().reject()
