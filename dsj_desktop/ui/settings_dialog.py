"""设置: the bureau's full name, how many automatic backups are kept, single-user auto-login, and
the bureau's two signing keys (fingerprints to copy, the PDF certificate to export).

Administrators change these; everyone else sees them read-only (the core refuses their changes
anyway, and if one is tried the refusal is shown)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop import actor as actor_mod
from dsj_desktop.actor import ADMIN
from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.keys import KeyStore
from dsj_desktop.services import accounts, backup, settings
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.first_run import (
    AUTO_LOGIN_NOTE,
    RECORD_KEY_NOTE,
    RECORD_KEY_NOTE_SERVER,
    check_bureau_name,
)
from dsj_desktop.ui.kit import ok_cancel
from dsj_desktop.ui.ops import WriteOp, run_write, warn
from dsj_desktop.ui.runner import Outcome
from dsj_desktop.ui.trust_widgets import FingerprintView, error_label, note_label, show_error

MAX_KEEP = 100
CERT_EXPORT_NOTE = (
    "在其他电脑上双击导出的 .cer 文件（或在 PDF 阅读器的“信任的证书”中导入）并设为信任后，"
    "本局签署的 PDF 会显示“签名有效”。证书是公开的，可以放心发给其他单位。"
)


class SettingsDialog(QDialog):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.keys = KeyStore(db.data_dir)
        self.changed = False
        self.setObjectName("settings-dialog")
        self.setWindowTitle("设置")
        who = actor_mod.current()
        self.editable = who is not None and who.role == ADMIN

        self.notice = QLabel("只有管理员可以修改设置。以下内容只供查看。")
        self.notice.setObjectName("settings-notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            "background: #fff8e1; border: 1px solid #f0c36d; border-radius: 4px; padding: 6px;"
        )
        self.notice.setVisible(not self.editable)

        general = QWidget()
        self.bureau = QLineEdit(settings.bureau_name(db))
        self.bureau.setObjectName("settings-bureau")
        self.keep = QSpinBox()
        self.keep.setObjectName("settings-keep")
        self.keep.setRange(1, MAX_KEEP)
        self.keep.setSuffix(" 份")
        self.keep.setValue(backup.keep_count(db))
        self.keep.setMaximumWidth(120)
        self.auto_login = QCheckBox("本机只有一人使用：启动时不再询问密码")
        self.auto_login.setObjectName("settings-auto-login")
        self.auto_user = str(settings.read(db, accounts.AUTO_LOGIN, "") or "")
        self.auto_login.setChecked(bool(self.auto_user))
        self.auto_note = note_label(self._auto_note())
        form = QFormLayout(general)
        form.addRow("本局全称", self.bureau)
        form.addRow(
            "", note_label("打印在每份抽取记录、公示表上，也写在 PDF 签章证书中。请与公章上的名称一致。")
        )
        form.addRow("自动备份保留", self.keep)
        form.addRow("", note_label("启动时和每天自动备份到数据文件夹的 backups 中，只保留最近的这么多份。"))
        form.addRow("免密码登录", self.auto_login)
        form.addRow("", self.auto_note)

        keys_tab = QWidget()
        self.record_view = FingerprintView(
            "抽取记录签名密钥（Ed25519）的指纹",
            RECORD_KEY_NOTE_SERVER if self.keys.on_server else RECORD_KEY_NOTE,
        )
        self.cert_view = FingerprintView(
            "PDF 签章证书（ECDSA P-256）的指纹", "PDF 文件上的电子签章。" + CERT_EXPORT_NOTE
        )
        self.export_button = QPushButton("导出证书…")
        self.export_button.setObjectName("export-certificate")
        self.export_button.clicked.connect(self.export_certificate)
        erow = QHBoxLayout()
        erow.addWidget(
            note_label(
                f"私钥用本局密钥口令加密保存在单位服务器“{db.location}”上，抽取时输入口令才在内存中解密；"
                "本机不保存签名私钥（管理员可在“文件 › 更改本局密钥口令”中更改口令）。"
                if self.keys.on_server
                else f"私钥保存在“{self.keys.keys_dir}”，不会离开这台电脑。换电脑或重装系统前，"
                "请把这个文件夹和数据备份一起保存。"
            ),
            1,
        )
        erow.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)
        self.mismatch = QLabel()
        self.mismatch.setObjectName("certificate-mismatch")
        self.mismatch.setWordWrap(True)
        self.mismatch.setStyleSheet("color: #b00020;")
        self.renew_button = QPushButton("重新生成证书…")
        self.renew_button.setObjectName("renew-certificate")
        self.renew_button.clicked.connect(lambda: self.renew_certificate(settings.bureau_name(self.db)))
        mrow = QHBoxLayout()
        mrow.addWidget(self.mismatch, 1)
        mrow.addWidget(self.renew_button, 0, Qt.AlignmentFlag.AlignTop)
        kl = QVBoxLayout(keys_tab)
        kl.addWidget(self.record_view)
        kl.addWidget(self.cert_view)
        kl.addLayout(mrow)
        kl.addLayout(erow)
        kl.addStretch(1)

        self.tabs = QTabWidget()
        self.tabs.addTab(general, "本局与数据")
        self.tabs.addTab(keys_tab, "签名密钥")

        self.error = error_label()
        self.buttons, self.save_button, _ = ok_cancel(
            self, self.save, ok="保存", cancel="取消" if self.editable else "关闭"
        )
        self.save_button.setObjectName("settings-save")
        self.save_button.setVisible(self.editable)

        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.bureau.setReadOnly(not self.editable)
        for box in (self.keep, self.auto_login):
            box.setEnabled(self.editable)
        self.load_fingerprints()
        self.setMinimumWidth(720)
        self.adjustSize()

    def _auto_note(self) -> str:
        who = actor_mod.current()
        if self.auto_user:
            return f"现在启动时以账户“{self.auto_user}”进入。" + AUTO_LOGIN_NOTE.split("。", 1)[1]
        if not self.editable or who is None:
            return AUTO_LOGIN_NOTE
        return f"勾选后，启动时以“{who.username}”的身份进入。" + AUTO_LOGIN_NOTE.split("。", 1)[1]

    def load_fingerprints(self) -> None:
        try:
            self.record_view.set_fingerprint(self.keys.record_fingerprint())
        except UserError as exc:
            self.record_view.set_fingerprint("", str(exc))
        if self.keys.has_pdf_certificate():
            try:
                self.cert_view.set_fingerprint(self.keys.pdf_certificate_fingerprint())
            except UserError as exc:
                self.cert_view.set_fingerprint("", str(exc))
        else:
            self.cert_view.set_fingerprint("", "（尚未生成：填写本局全称并保存后生成）")
        self.export_button.setEnabled(bool(self.cert_view.fingerprint))
        bureau = settings.bureau_name(self.db)
        on_cert = self._certificate_name()
        mismatch = bool(bureau and on_cert is not None and on_cert != bureau)
        self.mismatch.setText(
            f"证书上的单位名称是“{on_cert}”，与本局全称“{bureau}”不一致：签署 PDF 前需要重新生成证书。"
            if mismatch
            else ""
        )
        self.mismatch.setVisible(mismatch)
        self.renew_button.setVisible(mismatch and self.editable)

    def _certificate_name(self) -> str | None:
        try:
            return self.keys.pdf_certificate_bureau_name()
        except UserError:
            return None

    # --- saving -----------------------------------------------------------------------------

    def save(self) -> bool:
        """Write what changed. A refusal from the core (not an administrator) is shown as it is."""
        show_error(self.error, "")
        name = self.bureau.text().strip()
        renamed = name != settings.bureau_name(self.db)
        if renamed:
            problem = check_bureau_name(name)
            if problem:
                show_error(self.error, problem)
                return False
        keep = self.keep.value() if self.keep.value() != backup.keep_count(self.db) else None
        want_auto = self.auto_login.isChecked()
        who = actor_mod.current()
        auto: tuple[str | None] | None = None  # (the account to log in without a password,) if changed
        if want_auto != bool(self.auto_user):
            auto = (who.username if want_auto and who is not None else None,)
        if not (renamed or keep is not None or auto is not None):
            self.accept()
            return True

        def write() -> None:
            if renamed:
                settings.write(self.db, settings.BUREAU_NAME, name)
            if keep is not None:
                settings.write(self.db, backup.KEEP_SETTING, keep)
            if auto is not None:
                accounts.set_auto_login(self.db, auto[0])

        def refused(out: Outcome) -> None:
            if isinstance(out.error, UserError):
                show_error(self.error, str(out.error))
            warn(self, "设置")(out)

        if not WriteOp(self, "设置", write, changes={data_hub.SETTINGS}).failure(refused).run().ok:
            return False
        self.changed = True
        if renamed:
            self._certificate_for(name)
        self.accept()
        return True

    def _certificate_for(self, name: str) -> None:
        """The PDF certificate names the bureau: make it, or offer to renew it after the name changed."""
        if not self.keys.has_pdf_certificate():

            def make() -> None:
                self.keys.ensure_pdf_certificate(name)
                self.db.record(
                    "生成 PDF 签章证书", {"pdf_certificate": self.keys.pdf_certificate_fingerprint()}
                )

            run_write(self, "签章证书", make, changes={data_hub.JOURNAL})
            return
        if self._certificate_name() != name:
            self.renew_certificate(name)

    def renew_certificate(self, name: str) -> bool:
        """A new certificate for *name* (same key pair; the old one is kept), after asking."""
        answer = QMessageBox.question(
            self,
            "签章证书",
            f"PDF 签章证书上的单位名称是“{self._certificate_name()}”。现在为“{name}”重新生成证书吗？\n\n"
            "原证书会保留，已签署的文件仍可核验；已信任原证书的电脑需要重新导入新证书。"
            "选“否”则暂不生成，以后可在“设置 → 签名密钥”中生成。",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False

        def renew() -> None:
            old = self.keys.pdf_certificate_fingerprint()
            fingerprint = self.keys.renew_pdf_certificate(name)
            self.db.record("重新生成 PDF 签章证书", {"pdf_certificate": fingerprint, "retired": old})

        out = (
            WriteOp(self, "签章证书", renew, changes={data_hub.JOURNAL}).failure(warn(self, "签章证书")).run()
        )
        if out.ok:
            self.load_fingerprints()
        return out.ok

    # --- keys -------------------------------------------------------------------------------

    def export_certificate(self) -> Path | None:
        bureau = settings.bureau_name(self.db) or "本局"
        default = str(Path.home() / f"{bureau}签章证书.cer")
        path, _ = QFileDialog.getSaveFileName(
            self, "导出 PDF 签章证书", default, "证书 (*.cer);;PEM 证书 (*.pem)"
        )
        if not path:
            return None

        def export() -> Path:
            written = self.keys.export_pdf_certificate(Path(path))
            self.db.record("导出 PDF 签章证书", {"file": written.name})
            return written

        out = (
            WriteOp(self, "导出证书", export, changes={data_hub.JOURNAL})
            .failure(warn(self, "导出证书"))
            .run()
        )
        if not out.ok:
            return None
        written: Path = out.value
        QMessageBox.information(
            self,
            "导出证书",
            f"已导出到：\n{written}\n\n指纹：{self.cert_view.fingerprint}\n\n{CERT_EXPORT_NOTE}",
        )
        return written


__all__ = ["SettingsDialog"]
