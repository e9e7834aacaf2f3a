"""The first start on a new data folder (no accounts yet): the bureau's name, the administrator,
the signing keys and the recovery code, and what to do first.

``FirstRunWizard(db).exec()``; afterwards ``wizard.actor`` is the administrator (logged in) and
``wizard.choice`` is ``'demo'``, ``'import'``, ``'server'`` (连接单位服务器) or ``'later'`` for the caller
to act on; or ``'join'`` (本单位已有服务器, chosen on the first page): nobody is logged in, nothing was
written, and the caller opens 连接单位服务器 at once.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from dsj_desktop import APP_TITLE
from dsj_desktop.actor import ADMIN, Actor
from dsj_desktop.db.engine import Database
from dsj_desktop.demo import is_empty
from dsj_desktop.errors import UserError
from dsj_desktop.keys import MAX_BUREAU_NAME, CertificateNameMismatch, KeyStore
from dsj_desktop.prefs import remember_user
from dsj_desktop.services import accounts, settings
from dsj_desktop.services.settings import check_bureau_name
from dsj_desktop.ui.trust_widgets import (
    FingerprintView,
    PasswordFields,
    RecoveryCodeView,
    error_label,
    note_label,
    show_error,
)

CHOICES = ("demo", "import", "server", "later", "join")
JOIN_TEXT = "本单位已有服务器：这台电脑加入单位的数据库服务器"
JOIN_NOTE = (
    "单位已经把数据放在 PostgreSQL 服务器上（其他电脑已在使用）时选这一项：不在本机建立账户和密钥，"
    "直接填写服务器地址并连接，然后用服务器上的账户登录。第一次连接时需要管理员输入本局密钥口令（只需一次）。"
)
NEW_TEXT = "本单位第一次使用：在这台电脑上设置"

AUTO_LOGIN_TEXT = "本机只有一人使用：启动时不再询问密码"
AUTO_LOGIN_NOTE = (
    "勾选后，在这台电脑上启动程序时直接以管理员身份进入，不再询问密码。只在这台电脑专人专用、"
    "且电脑本身设有开机密码时才建议勾选。操作日志照常记录；以后可在“设置”中随时关闭。"
)
SERVER_KEYS_NOTE = (
    "本局的两把签名密钥用本局密钥口令加密保存在单位服务器上，各台电脑用同一个指纹核验；"
    "抽取时输入口令才在内存中解密，本机不保存签名私钥。"
)
RECORD_KEY_NOTE = "签署每份抽取记录（JSON）和操作日志。核验抽取记录时用这个指纹确认记录出自本局。"
RECORD_KEY_NOTE_SERVER = "签署每份抽取记录（JSON）；操作日志由各台电脑的服务器写入密钥签署。核验抽取记录时用这个指纹确认记录出自本局。"
CERT_NOTE = "PDF 文件上的电子签章。其他电脑导入本局证书后，PDF 阅读器会显示签章有效。"


class FirstRunWizard(QWizard):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.actor: Actor | None = None
        self.recovery_code: str | None = None
        self.record_fingerprint = ""
        self.certificate_fingerprint = ""
        self.choice = "later"
        self.setObjectName("first-run-wizard")
        self.setWindowTitle(f"首次使用 — {APP_TITLE}")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setButtonText(QWizard.WizardButton.NextButton, "下一步 >")
        self.setButtonText(QWizard.WizardButton.BackButton, "< 上一步")
        self.setButtonText(QWizard.WizardButton.FinishButton, "开始使用")
        self.setButtonText(QWizard.WizardButton.CancelButton, "取消")
        self.setButtonText(QWizard.WizardButton.CommitButton, "建立账户 >")
        self.bureau_page = BureauPage(self)
        self.admin_page = AdminPage(self)
        self.keys_page = KeysPage(self)
        self.start_page = StartPage(self)
        for page in (self.bureau_page, self.admin_page, self.keys_page, self.start_page):
            self.addPage(page)
        self.resize(720, 640)

    @property
    def bureau(self) -> str:
        return self.bureau_page.name.text().strip()

    def accept(self) -> None:
        if self.bureau_page.joining():
            self.choice = "join"
            super().accept()
            return
        self.choice = self.start_page.selected()
        if self.start_page.auto_login.isChecked() and self.actor is not None:
            try:
                accounts.set_auto_login(self.db, self.actor.username)
            except UserError as exc:
                QMessageBox.warning(self, "免密码登录", str(exc))
                return
        super().accept()

    def reject(self) -> None:
        if self.actor is None:  # nothing was written yet
            super().reject()
            return
        if not self.keys_page.code_view or not self.keys_page.code_view.confirmed:
            QMessageBox.warning(
                self,
                "管理员恢复码",
                "管理员账户已经建立。恢复码只显示这一次：请先打印或抄写保存，再勾选“我已把恢复码妥善保存”。",
            )
            return
        self.choice = "later"
        super().accept()  # the account exists and is logged in: closing means "later"


class BureauPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 1 步：本局全称")
        self.setSubTitle(
            "欢迎使用。这个数据文件夹是第一次使用，三步完成设置：本局全称、管理员账户、签名密钥。"
        )
        self.name = QLineEdit(settings.bureau_name(wizard.db))
        self.name.setObjectName("bureau-name")
        self.name.setPlaceholderText("例如：青山县应急管理局")
        self.name.setMaxLength(MAX_BUREAU_NAME + 10)
        self.error = error_label()
        self.new = QRadioButton(NEW_TEXT)
        self.new.setObjectName("first-new")
        self.new.setChecked(True)
        self.join = QRadioButton(JOIN_TEXT)
        self.join.setObjectName("first-join")
        group = QButtonGroup(self)
        group.addButton(self.new)
        group.addButton(self.join)
        form = QFormLayout()
        form.addRow("本局全称", self.name)
        layout = QVBoxLayout(self)
        layout.addWidget(self.new)
        layout.addLayout(form)
        layout.addWidget(
            note_label(
                "全称打印在每份抽取记录、公示表上，也写进 PDF 电子签章证书，请与公章上的名称一致，不要用简称。"
                "以后可以在“设置”中修改（签章证书需随之重新生成）。"
            )
        )
        layout.addSpacing(12)
        layout.addWidget(self.join)
        join_note = note_label(JOIN_NOTE)
        join_note.setContentsMargins(24, 0, 0, 0)
        layout.addWidget(join_note)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.name.textChanged.connect(self._name_changed)
        self.join.toggled.connect(self._mode_changed)

    def joining(self) -> bool:
        return self.join.isChecked()

    def _mode_changed(self) -> None:
        joining = self.joining()
        self.name.setEnabled(not joining)
        self.setFinalPage(joining)
        self.w.setButtonText(QWizard.WizardButton.FinishButton, "连接单位服务器…" if joining else "开始使用")
        show_error(self.error, "")
        self.completeChanged.emit()

    def nextId(self) -> int:
        return -1 if self.joining() else super().nextId()

    def _name_changed(self) -> None:
        show_error(self.error, "")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.joining() or bool(self.name.text().strip())

    def validatePage(self) -> bool:
        if self.joining():
            return True
        problem = check_bureau_name(self.name.text())
        show_error(self.error, problem or "")
        if problem is None:
            self.name.setText(self.name.text().strip())
        return problem is None


class AdminPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 2 步：管理员账户")
        self.setSubTitle(
            "管理员可以管理账户、修改设置和签名密钥，也能做操作员的全部工作。其他同事的账户以后在“账户管理”中添加。"
        )
        self.setCommitPage(True)
        self.username = QLineEdit("admin")
        self.username.setObjectName("admin-username")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("admin-name")
        self.display_name.setPlaceholderText("如：王明（记入操作日志和记录）")
        self.passwords = PasswordFields(self)
        self.error = error_label()
        form = QFormLayout()
        form.addRow("账户名", self.username)
        form.addRow("姓名", self.display_name)
        self.passwords.add_rows(form, "密码", "再输一次")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(
            note_label(
                "账户名只能用字母、数字和 _ - .，登录时输入。点“建立账户”后账户即建立，"
                "下一步显示管理员恢复码（忘记密码时唯一的找回办法）。"
            )
        )
        layout.addWidget(self.error)
        layout.addStretch(1)
        for edit in (self.username, self.passwords.first, self.passwords.again):
            edit.textChanged.connect(lambda _=None: self.completeChanged.emit())

    def isComplete(self) -> bool:
        return bool(self.username.text().strip() and self.passwords.value() and self.passwords.again.text())

    def validatePage(self) -> bool:
        if self.w.actor is not None:
            return True
        problem = self.passwords.problem()
        if problem:
            show_error(self.error, problem)
            return False
        username = self.username.text().strip()
        try:
            code = accounts.create_account(
                self.w.db,
                username,
                self.display_name.text(),
                ADMIN,
                self.passwords.value(),
                with_recovery=True,
            )
            who = accounts.login(self.w.db, username, self.passwords.value())
            if settings.bureau_name(self.w.db) != self.w.bureau:
                settings.write(self.w.db, settings.BUREAU_NAME, self.w.bureau)
        except UserError as exc:
            show_error(self.error, str(exc))
            return False
        self.w.actor = who
        self.w.recovery_code = code
        remember_user(self.w.db.data_dir, who.username)
        self.passwords.clear()
        return True


class KeysPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 3 步：签名密钥与恢复码")
        self.setSubTitle(
            SERVER_KEYS_NOTE
            if KeyStore(wizard.db.data_dir).on_server
            else "本局的两把签名密钥已在本机生成（保存在数据文件夹的 keys 子文件夹中，请随数据一起备份）。"
        )
        on_server = KeyStore(wizard.db.data_dir).on_server
        self.record_view = FingerprintView(
            "抽取记录签名密钥（Ed25519）的指纹", RECORD_KEY_NOTE_SERVER if on_server else RECORD_KEY_NOTE
        )
        self.cert_view = FingerprintView("PDF 签章证书的指纹", CERT_NOTE)
        self.error = error_label()
        self.code_view: RecoveryCodeView | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(self.record_view)
        self.layout_.addWidget(self.cert_view)
        self.layout_.addWidget(self.error)

    def initializePage(self) -> None:
        keys = KeyStore(self.w.db.data_dir)
        try:
            self.w.record_fingerprint = keys.record_fingerprint()
            try:
                keys.ensure_pdf_certificate(self.w.bureau)
            except CertificateNameMismatch:
                keys.renew_pdf_certificate(self.w.bureau)  # a certificate from an earlier, unfinished start
            self.w.certificate_fingerprint = keys.pdf_certificate_fingerprint()
            self.w.db.record(
                "生成签名密钥",
                {"record_key": self.w.record_fingerprint, "pdf_certificate": self.w.certificate_fingerprint},
            )
        except UserError as exc:
            show_error(self.error, str(exc))
        self.record_view.set_fingerprint(self.w.record_fingerprint)
        self.cert_view.set_fingerprint(self.w.certificate_fingerprint)
        if self.code_view is None and self.w.recovery_code and self.w.actor is not None:
            self.code_view = RecoveryCodeView(
                self.w.recovery_code,
                self.w.actor.username,
                self.w.bureau,
                self,
                fingerprints=[
                    ("抽取记录签名密钥", self.w.record_fingerprint),
                    ("PDF 签章证书", self.w.certificate_fingerprint),
                ],
            )
            self.code_view.confirmed_changed.connect(lambda _=None: self.completeChanged.emit())
            self.layout_.insertWidget(0, self.code_view)

    def isComplete(self) -> bool:
        return self.code_view is not None and self.code_view.confirmed


class StartPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("第 4 步：开始使用")
        self.setSubTitle("设置已完成，管理员已登录。先做什么？")
        self.options: dict[str, QRadioButton] = {}
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        for key, text, note in (
            ("import", "导入本局的表格（按顺序六步，可跳过）…",
             "依次导入检查对象名录、执法检查人员、专家库、回避关系、抽查事项清单和年度抽查计划，最后进入年度计划。"
             "每份表格导入前逐行检查，有问题时整表不导入。"),
            ("server", "连接单位服务器（几台电脑共用本单位 PostgreSQL 服务器上的数据）…",
             "输入服务器管理员给的服务器地址、数据库名、用户名和密码，测试连接后改用服务器上的数据"
             "（服务器上的数据有自己的账户，连接后按提示登录或设置）。本局签名密钥加密保存在服务器上（设定本局密钥口令）。"),
            ("later", "以后再说", "直接进入主窗口；以后可在“文件 › 导入向导”中导入。"),
            ("demo", "把虚构的演示数据（青山县）装入这个数据文件夹",
             "约 3000 家检查对象、48 名执法人员、30 名专家和一份年度计划，全部虚构，只用来熟悉程序。"
             "注意：演示数据会写进当前数据文件夹，正式使用的文件夹不要装入；"
             "想试用请先用“文件 › 切换数据文件夹”另建一个文件夹。"),
        ):  # fmt: skip
            radio = QRadioButton(text)
            radio.setObjectName(f"choice-{key}")
            self.options[key] = radio
            self.group.addButton(radio)
            layout.addWidget(radio)
            hint = note_label(note)
            hint.setContentsMargins(24, 0, 0, 6)
            layout.addWidget(hint)
        if is_empty(wizard.db):
            self.options["import"].setChecked(True)  # never the demo: Enter must not fill a real folder
        else:  # an older data folder that already holds data, without accounts until now
            self.options["demo"].setEnabled(False)
            self.options["demo"].setText(self.options["demo"].text() + "（数据库中已有数据，不能装入）")
            self.options["later"].setChecked(True)
        layout.addSpacing(12)
        self.auto_login = QCheckBox(AUTO_LOGIN_TEXT)
        self.auto_login.setObjectName("auto-login")
        layout.addWidget(self.auto_login)
        auto_note = note_label(AUTO_LOGIN_NOTE)
        auto_note.setContentsMargins(24, 0, 0, 0)
        layout.addWidget(auto_note)
        layout.addStretch(1)

    def selected(self) -> str:
        return next((k for k, r in self.options.items() if r.isChecked()), "later")


__all__ = ["CHOICES", "FirstRunWizard", "check_bureau_name"]
