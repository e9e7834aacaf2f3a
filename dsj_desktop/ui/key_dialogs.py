"""本局密钥口令: the dialogs that ask for the key passphrase when the bureau's keys are on the unit's
server (see :mod:`dsj_desktop.keyvault`): a new one (twice) when the server database is made, the
passphrase to unlock the signing keys at a draw, the passphrase an administrator enters once when a
workstation joins, and 更改本局密钥口令 (文件 menu, administrators)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop import keyvault
from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.ui.kit import ok_cancel
from dsj_desktop.ui.trust_widgets import error_label, note_label, show_error

TITLES = {
    keyvault.NEW: "设定本局密钥口令",
    keyvault.UNLOCK: "输入本局密钥口令",
    keyvault.JOIN: "本机加入单位服务器",
    keyvault.REJOIN: "服务器写入密钥已更换",
    keyvault.RENEWED: "本局签名密钥已更换",
}
BUTTONS = {
    keyvault.NEW: "设定口令",
    keyvault.UNLOCK: "解锁签名密钥",
    keyvault.JOIN: "加入",
    keyvault.REJOIN: "重新加入",
    keyvault.RENEWED: "确认新的密钥",
}
KEEP_NOTE = (
    "口令不会写进任何文件。解锁后签名密钥只在本程序的内存中保留 30 分钟（每次签署后重新计时），"
    "关闭程序即清除。"
)


class PassphraseDialog(QDialog):
    """Asks the key passphrase for *purpose* (keyvault.NEW asks it twice)."""

    def __init__(self, purpose: str, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.purpose = purpose
        self.setObjectName("key-passphrase-dialog")
        self.setWindowTitle(TITLES.get(purpose, "本局密钥口令"))
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("key-passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setObjectName("key-passphrase-again")
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = error_label()
        layout = QVBoxLayout(self)
        self.wrong = error_label()  # a try before this one was wrong: said in red, above the rest
        self.wrong.setObjectName("key-passphrase-wrong")
        if message.startswith(keyvault.WRONG):
            show_error(self.wrong, keyvault.WRONG)
            message = message[len(keyvault.WRONG) :].strip()
        layout.addWidget(self.wrong)
        text = note_label(message)
        text.setObjectName("key-passphrase-message")
        layout.addWidget(text)
        form = QFormLayout()
        form.addRow("本局密钥口令", self.passphrase)
        if purpose == keyvault.NEW:
            form.addRow("再输入一次", self.again)
        layout.addLayout(form)
        if purpose not in (keyvault.JOIN, keyvault.REJOIN, keyvault.RENEWED):
            layout.addWidget(note_label(KEEP_NOTE))
        layout.addWidget(self.error)
        layout.addStretch(1)
        row = ok_cancel(self, lambda: self.done_typing(), ok=BUTTONS.get(purpose, "确定"))
        self.ok = row.ok
        self.ok.setObjectName("key-passphrase-ok")
        layout.addWidget(row.box)
        self.resize(680 if purpose == keyvault.RENEWED else 560, 300 if purpose == keyvault.NEW else 260)

    def done_typing(self) -> None:
        text = self.passphrase.text()
        if not text:
            show_error(self.error, "请输入本局密钥口令。")
            return
        if self.purpose == keyvault.NEW:
            try:
                keyvault.check_new_passphrase(text)
            except UserError as exc:
                show_error(self.error, str(exc))
                return
            if self.again.text() != text:
                show_error(self.error, "两次输入的口令不一致，请重新输入。")
                return
        self.accept()


def passphrase_dialog(purpose: str, message: str) -> str | None:
    dialog = PassphraseDialog(purpose, message, QApplication.activeWindow())
    if not dialog.exec():
        return None
    return dialog.passphrase.text() or None


class _Asker(QObject):
    """Shows the dialog on the GUI thread, for keys needed on any thread (a draw's job)."""

    asked = Signal(str, str, object)

    def __init__(self) -> None:
        super().__init__()
        self.asked.connect(self._ask, Qt.ConnectionType.BlockingQueuedConnection)

    @Slot(str, str, object)
    def _ask(self, purpose: str, message: str, answer: list[str | None]) -> None:
        answer.append(passphrase_dialog(purpose, message))


_asker: list[_Asker] = []


def ask_passphrase(purpose: str, message: str) -> str | None:
    """Called by :func:`dsj_desktop.keyvault.ask` from whatever thread needs the keys."""
    app = QApplication.instance()
    if app is None:
        return None
    if QThread.currentThread() is app.thread():
        return passphrase_dialog(purpose, message)
    if not _asker:
        raise RuntimeError("ask_passphrase: install the prompt on the GUI thread first")
    answer: list[str | None] = []
    _asker[0].asked.emit(purpose, message, answer)
    return answer[0] if answer else None


def install() -> None:
    """Make the GUI answer the key passphrase requests (called on the GUI thread at start)."""
    if not _asker:
        _asker.append(_Asker())
    keyvault.passphrase_prompt = ask_passphrase


class ChangePassphraseDialog(QDialog):
    """文件 › 更改本局密钥口令…: the current passphrase and the new one twice; re-encrypts the keys
    on the server in one journalled step."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("change-key-passphrase")
        self.setWindowTitle("更改本局密钥口令")
        self.current = QLineEdit()
        self.current.setObjectName("key-passphrase-current")
        self.new = QLineEdit()
        self.new.setObjectName("key-passphrase-new")
        self.again = QLineEdit()
        self.again.setObjectName("key-passphrase-new-again")
        for edit in (self.current, self.new, self.again):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(
            note_label(
                "本局的签名私钥加密保存在单位服务器上。更改口令时程序用现在的口令解开、用新口令重新加密"
                "（一次完成，记入操作日志），密钥本身和公布的指纹不变，各台电脑不需要重新加入。"
                "旧口令从此无效；请把新口令抄写后锁进保险柜（忘记口令无法找回，见使用说明“六”）。"
            )
        )
        form = QFormLayout()
        form.addRow("现在的口令", self.current)
        form.addRow("新口令", self.new)
        form.addRow("再输入一次新口令", self.again)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        row = ok_cancel(self, lambda: self.change(), ok="更改口令")
        self.ok = row.ok
        self.ok.setObjectName("key-passphrase-change")
        layout.addWidget(row.box)
        self.resize(560, 340)

    def change(self) -> bool:
        from dsj_desktop.db import server_keys

        if self.new.text() != self.again.text():
            show_error(self.error, "两次输入的新口令不一致，请重新输入。")
            return False
        if not self.current.text():
            show_error(self.error, "请输入现在的口令。")
            return False
        try:
            server_keys.change_passphrase(self.db, self.current.text(), self.new.text())
        except UserError as exc:
            show_error(self.error, str(exc))
            return False
        QMessageBox.information(self, "更改本局密钥口令", "本局密钥口令已更改。请把新口令抄写后锁进保险柜。")
        self.accept()
        return True


class RotateWriteKeyDialog(QDialog):
    """文件 › 更换服务器写入密钥…: revoke a lost, stolen or retired workstation (administrators). The
    rows are sealed again off the GUI thread; other workstations are asked the passphrase once at
    their next connection."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.fingerprint = ""
        self.setObjectName("rotate-write-key")
        self.setWindowTitle("更换服务器写入密钥")
        self.reason = QLineEdit()
        self.reason.setObjectName("rotate-write-key-reason")
        self.reason.setPlaceholderText("例如：抽取室旧电脑报废；录入室笔记本丢失")
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("rotate-write-key-passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(
            note_label(
                "每台加入单位服务器的电脑都保存着同一把“服务器写入密钥”，用它写入数据和操作日志。"
                "有电脑丢失、被盗或停用时，请在这里更换写入密钥：程序生成新的写入密钥，用它重新封存全部数据、"
                "接着签署操作日志（一次完成，记入操作日志，写明谁在何时更换），旧的写入密钥从此无效——"
                "之后用它写入的任何数据或日志，完整性检查都会指出。"
            )
        )
        layout.addWidget(
            note_label(
                "其他仍在使用的电脑下次连接服务器时会提示写入密钥已更换，请管理员在那台电脑上再输入一次"
                "本局密钥口令；丢失或停用的电脑没有口令，无法再写入。本局的签名密钥和公布的指纹不变。"
            )
        )
        form = QFormLayout()
        form.addRow("原因（记入操作日志）", self.reason)
        form.addRow("本局密钥口令", self.passphrase)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        row = ok_cancel(self, lambda: self.rotate(), ok="更换写入密钥")
        self.ok = row.ok
        self.ok.setObjectName("rotate-write-key-ok")
        layout.addWidget(row.box)
        self.resize(600, 380)

    def rotate(self) -> bool:
        from dsj_desktop.db import server_keys
        from dsj_desktop.progress import Job, Progress
        from dsj_desktop.ui.runner import report_failure, run_with_progress

        passphrase = self.passphrase.text()
        if not passphrase:
            show_error(self.error, "请输入本局密钥口令。")
            return False

        def job() -> Job[str]:
            yield Progress("正在用新的写入密钥重新封存全部数据……")
            return server_keys.rotate_write_key(self.db, passphrase, self.reason.text().strip())

        out = run_with_progress(self, "更换服务器写入密钥", job(), cancellable=False)
        if isinstance(out.error, keyvault.WrongPassphrase):
            show_error(self.error, keyvault.WRONG)
            return False
        if not out.ok:
            report_failure(self, "更换服务器写入密钥", out)
            return False
        self.fingerprint = str(out.value)
        QMessageBox.information(
            self,
            "更换服务器写入密钥",
            f"服务器写入密钥已更换，全部数据已用新密钥重新封存，已记入操作日志。\n新的写入密钥指纹：{self.fingerprint}\n\n"
            "其他电脑下次连接服务器时，请管理员在那台电脑上再输入一次本局密钥口令。",
        )
        self.accept()
        return True
