"""The trust GUI (offscreen): login and recovery, the first-run wizard, accounts, the journal tab,
the integrity report, backups and restore, settings and the keys."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QLabel, QMessageBox

from dsj_desktop import actor
from dsj_desktop.actor import ADMIN, OPERATOR, VIEWER
from dsj_desktop.db import pg
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.domain.specs import TARGETS
from dsj_desktop.keys import KeyStore
from dsj_desktop.paths import database_path
from dsj_desktop.prefs import last_user
from dsj_desktop.services import accounts, backup, journal, settings
from dsj_desktop.services.directory import DirectoryQuery
from dsj_desktop.ui.accounts_dialog import (
    AccountsDialog,
    AddAccountDialog,
    ChangePasswordDialog,
    ResetPasswordDialog,
    RoleDialog,
)
from dsj_desktop.ui.app import setup_application
from dsj_desktop.ui.backup_dialogs import BackupDialog, DailyBackup, RestoreDialog
from dsj_desktop.ui.first_run import FirstRunWizard
from dsj_desktop.ui.integrity import BackgroundIntegrityCheck, IntegrityReportDialog, run_integrity_check
from dsj_desktop.ui.journal_tab import JournalTab
from dsj_desktop.ui.login import LoginDialog, RecoverDialog
from dsj_desktop.ui.settings_dialog import SettingsDialog
from dsj_desktop.ui.trust_widgets import RecoveryCodeDialog, password_hint

PW = "secret123"


@pytest.fixture(autouse=True)
def nobody_logged_in(qapp: QApplication) -> Any:
    setup_application(qapp)
    actor.set_current(None)
    yield
    actor.set_current(None)


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes are answered automatically (Yes / Ok) and recorded; nothing is opened."""
    seen: list[tuple[str, str]] = []

    def record(kind: str, answer: Any) -> Any:
        def box(parent: Any, title: str, text: str, *a: Any, **k: Any) -> Any:
            seen.append((kind, text))
            return answer

        return box

    monkeypatch.setattr(QMessageBox, "information", record("information", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "warning", record("warning", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", record("question", QMessageBox.StandardButton.Yes))
    monkeypatch.setattr(
        QDesktopServices, "openUrl", lambda url: seen.append(("open", url.toLocalFile())) or True
    )
    return seen


def save_as(monkeypatch: pytest.MonkeyPatch, path: Path, chosen: str = "") -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), chosen))


@pytest.fixture
def bureau(demo_data_dir: Path) -> Any:
    """The demo county with an administrator (王局长), an operator and a viewer; nobody logged in."""
    db = open_database(demo_data_dir)
    code = accounts.create_account(db, "admin", "王局长", ADMIN, PW, with_recovery=True)
    accounts.login(db, "admin", PW)
    accounts.create_account(db, "op", "李操作", OPERATOR, PW)
    accounts.create_account(db, "view", "赵查看", VIEWER, PW)
    KeyStore(db.data_dir).ensure_pdf_certificate(settings.bureau_name(db))
    actor.set_current(None)
    db.recovery_code = code  # type: ignore[attr-defined]
    yield db
    db.close()


def as_user(db: Database, username: str) -> None:
    accounts.login(db, username, PW)


# --- login ---------------------------------------------------------------------------------------


def test_login_succeeds_and_remembers_the_account(bureau: Database, qtbot: Any) -> None:
    dlg = LoginDialog(bureau)
    qtbot.addWidget(dlg)
    assert "青山县应急管理局" in dlg.findChild(type(dlg.forgot), "login-bureau").text()
    dlg.username.setText("op")
    dlg.password.setText(PW)
    who = dlg.login()
    assert who is not None and who.role == OPERATOR
    assert dlg.actor == who and actor.current() == who
    assert dlg.result() == QDialog.DialogCode.Accepted
    assert last_user(bureau.data_dir) == "op"
    again = LoginDialog(bureau)
    qtbot.addWidget(again)
    assert again.username.text() == "op"  # remembered on this PC, outside the database
    assert (bureau.data_dir / "ui-prefs.json").exists()


def test_wrong_passwords_say_how_many_tries_are_left_then_until_when_locked(
    bureau: Database, qtbot: Any
) -> None:
    dlg = LoginDialog(bureau)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.username.setText("op")
    for left in (4, 3, 2, 1):
        dlg.password.setText("wrong-pass1")
        assert dlg.login() is None
        assert dlg.error.isVisible() and f"还可再试 {left} 次" in dlg.error.text()
        assert dlg.password.text() == ""  # cleared for the next try
    dlg.password.setText("wrong-pass1")
    dlg.login()
    assert "已锁定 10 分钟" in dlg.error.text()
    until = next(a for a in accounts.list_accounts(bureau) if a.username == "op").locked_until
    hhmm = until[11:16]
    assert f"可在 {hhmm} 之后再试" in dlg.error.text()
    dlg.password.setText(PW)  # even the right password, for now
    assert dlg.login() is None
    assert f"请在 {hhmm} 之后再试" in dlg.error.text()
    assert actor.current() is None and dlg.result() != QDialog.DialogCode.Accepted


def test_a_disabled_account_and_empty_fields_are_refused_plainly(bureau: Database, qtbot: Any) -> None:
    as_user(bureau, "admin")
    accounts.update_account(bureau, "view", active=False)
    actor.set_current(None)
    dlg = LoginDialog(bureau)
    qtbot.addWidget(dlg)
    dlg.username.setText("")
    dlg.login()
    assert dlg.error.text() == "请输入账户名。"
    dlg.username.setText("view")
    dlg.login()
    assert dlg.error.text() == "请输入密码。"
    dlg.password.setText(PW)
    dlg.login()
    assert "已停用" in dlg.error.text()


def test_forgot_password_explains_the_offline_procedure(
    bureau: Database, qtbot: Any, messages: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def fake_exec(self: RecoverDialog) -> int:
        opened.append(self.user.text())
        self.username = "admin"
        return 1

    monkeypatch.setattr(RecoverDialog, "exec", fake_exec)
    dlg = LoginDialog(bureau)
    qtbot.addWidget(dlg)
    dlg.username.setText("admin")
    dlg.forgot_password()
    kind, text = messages[-1]
    assert kind == "question" and "恢复码" in text and "dsj-desktop recover-admin 账户名" in text
    assert "请管理员" in text  # operators ask an administrator
    assert opened == ["admin"]


def test_recover_dialog_resets_the_password_and_shows_the_new_code_once(
    bureau: Database,
    qtbot: Any,
    messages: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    dlg = RecoverDialog(bureau, username="admin")
    qtbot.addWidget(dlg)
    dlg.code.setText("AAAAA-BBBBB-CCCCC-DDDDD")
    dlg.passwords.first.setText("another123")
    dlg.passwords.again.setText("another124")
    assert dlg.recover() is None and "不一致" in dlg.error.text()
    dlg.passwords.again.setText("another123")
    assert dlg.recover() is None and "恢复码不正确" in dlg.error.text()
    dlg.code.setText(bureau.recovery_code.lower())  # type: ignore[attr-defined]
    fresh = dlg.recover()
    assert fresh and fresh != bureau.recovery_code  # type: ignore[attr-defined]
    assert dlg.code_view is not None and dlg.code_view.value.text() == fresh
    assert not dlg.done_button.isEnabled()
    dlg.reject()  # not before the new code is kept
    assert messages[-1][0] == "warning" and dlg.result() != QDialog.DialogCode.Accepted
    sheet = tmp_path / "恢复码.pdf"
    save_as(monkeypatch, sheet)
    assert dlg.code_view.save() == sheet and sheet.read_bytes().startswith(b"%PDF")
    assert ("open", str(sheet)) in messages  # offered for printing
    dlg.code_view.confirm.setChecked(True)
    assert dlg.done_button.isEnabled()
    assert accounts.authenticate(bureau, "admin", "another123").username == "admin"


# --- first run -----------------------------------------------------------------------------------


def test_first_run_wizard_end_to_end(
    db: Database, qtbot: Any, messages: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert not accounts.has_accounts(db)
    wz = FirstRunWizard(db)
    qtbot.addWidget(wz)
    wz.show()
    qtbot.waitExposed(wz)
    page = wz.bureau_page
    assert not page.isComplete()
    page.name.setText("应急局")
    wz.next()
    assert wz.currentPage() is page and "太短" in page.error.text()
    page.name.setText("  青山县应急管理局 ")
    wz.next()
    assert wz.currentPage() is wz.admin_page
    assert settings.bureau_name(db) == ""  # nothing written before the account exists

    admin = wz.admin_page
    admin.display_name.setText("王局长")
    admin.passwords.first.setText("secret12")
    admin.passwords.again.setText("secret13")
    wz.next()
    assert wz.currentPage() is admin and "不一致" in admin.error.text()
    admin.passwords.first.setText("12345678")
    admin.passwords.again.setText("12345678")
    wz.next()
    assert "不能全是数字" in admin.error.text()
    admin.passwords.first.setText(PW)
    admin.passwords.again.setText(PW)
    wz.next()
    assert wz.currentPage() is wz.keys_page
    who = actor.current()
    assert who is not None and who.username == "admin" and who.role == ADMIN and wz.actor == who
    assert settings.bureau_name(db) == "青山县应急管理局"
    assert accounts.list_accounts(db)[0].display_name == "王局长"

    keys = wz.keys_page
    store = KeyStore(db.data_dir)
    assert wz.record_fingerprint == store.record_fingerprint()
    assert wz.certificate_fingerprint == store.pdf_certificate_fingerprint()
    assert store.pdf_certificate_bureau_name() == "青山县应急管理局"
    assert keys.record_view.fingerprint == store.record_fingerprint()
    assert keys.code_view is not None and keys.code_view.value.text() == wz.recovery_code
    assert keys.code_view.value.font().pointSizeF() >= 18  # large type
    assert not keys.isComplete()
    wz.reject()  # closing now would lose the code
    assert messages[-1][0] == "warning" and wz.isVisible()
    sheet = tmp_path / "code"
    save_as(monkeypatch, sheet, "文本文件 (*.txt)")
    assert keys.code_view.save() == tmp_path / "code.txt"
    text = (tmp_path / "code.txt").read_text(encoding="utf-8-sig")
    assert wz.recovery_code in text and "recover-admin admin" in text and store.record_fingerprint() in text
    keys.code_view.confirm.setChecked(True)
    assert keys.isComplete()
    wz.next()
    assert wz.currentPage() is wz.start_page
    wz.start_page.options["import"].setChecked(True)
    wz.start_page.auto_login.setChecked(True)
    wz.accept()
    assert wz.choice == "import" and wz.result() == QDialog.DialogCode.Accepted
    assert accounts.auto_login_account(db) == who
    actions = [e.action for e in journal.entries(db)]
    assert "生成签名密钥" in actions and any(a.startswith("单用户免密码登录：启用") for a in actions)
    assert accounts.authenticate(db, "admin", PW).username == "admin"
    assert last_user(db.data_dir) == "admin"


def test_first_run_wizard_closed_after_the_code_was_kept_means_later(
    db: Database, qtbot: Any, messages: list[tuple[str, str]]
) -> None:
    wz = FirstRunWizard(db)
    qtbot.addWidget(wz)
    wz.show()
    wz.bureau_page.name.setText("青山县应急管理局")
    wz.next()
    wz.admin_page.passwords.first.setText(PW)
    wz.admin_page.passwords.again.setText(PW)
    wz.next()
    assert wz.keys_page.code_view is not None
    wz.keys_page.code_view.confirm.setChecked(True)
    wz.reject()
    assert wz.choice == "later" and wz.result() == QDialog.DialogCode.Accepted
    assert accounts.auto_login_account(db) is None


def test_password_hint() -> None:
    assert password_hint("abc")[0] is False
    assert password_hint("abcdefgh")[0] is False
    assert password_hint("kbwz3917") == (True, "强度：一般。建议 10 位以上，并加入大写字母或符号。")
    assert password_hint("abcd1234") == (False, accounts.password_problem("abcd1234"))  # the core's rule
    assert password_hint("Abcd-1234-xyz")[1] == "强度：强。"


# --- accounts ------------------------------------------------------------------------------------


def test_administrator_adds_changes_disables_and_resets_accounts(
    bureau: Database, qtbot: Any, messages: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    as_user(bureau, "admin")
    dlg = AccountsDialog(bureau)
    qtbot.addWidget(dlg)
    assert dlg.model.rowCount() == 3 and not dlg.notice.isVisibleTo(dlg)
    assert all(b.isEnabled() for b in dlg.admin_buttons)

    add = AddAccountDialog(bureau, dlg)
    qtbot.addWidget(add)
    add.username.setText("zhang")
    add.display_name.setText("张新")
    add.roles.set_role(VIEWER)
    add.passwords.first.setText("short")
    add.passwords.again.setText("short")
    assert add.save() is None and "太短" in add.error.text()
    add.passwords.first.setText(PW)
    add.passwords.again.setText(PW)
    assert add.save() == "zhang" and add.recovery_code is None
    dup = AddAccountDialog(bureau, dlg)
    qtbot.addWidget(dup)
    dup.username.setText("zhang")
    dup.passwords.first.setText(PW)
    dup.passwords.again.setText(PW)
    assert dup.save() is None and "已存在" in dup.error.text()
    shown: list[str] = []
    monkeypatch.setattr(RecoveryCodeDialog, "exec", lambda self: shown.append(self.view.code) or 1)
    second = AddAccountDialog(bureau, dlg)
    qtbot.addWidget(second)
    second.username.setText("admin2")
    second.roles.set_role(ADMIN)
    second.passwords.first.setText(PW)
    second.passwords.again.setText(PW)
    assert second.save() == "admin2" and shown == [second.recovery_code]  # a new admin's code, once
    dlg.refresh()
    assert dlg.model.rowCount() == 5

    dlg.select("zhang")
    assert dlg.toggle_active()
    assert messages[-1][0] == "question" and "停用后不能登录" in messages[-1][1]
    row = next(a for a in accounts.list_accounts(bureau) if a.username == "zhang")
    assert not row.active
    r = dlg.accounts.index(row)
    assert dlg.model.data(dlg.model.index(r, 3)) == "已停用"
    assert dlg.btn_active.text() == "启用"
    assert dlg.toggle_active()
    assert [a.active for a in accounts.list_accounts(bureau) if a.username == "zhang"] == [True]

    role = RoleDialog(bureau, row, dlg)
    qtbot.addWidget(role)
    role.roles.set_role(OPERATOR)
    assert role.save()
    assert [a.role for a in accounts.list_accounts(bureau) if a.username == "zhang"] == [OPERATOR]

    reset = ResetPasswordDialog(bureau, "zhang", dlg)
    qtbot.addWidget(reset)
    reset.passwords.first.setText("fresh-pass1")
    reset.passwords.again.setText("fresh-pass1")
    assert reset.save()
    assert accounts.authenticate(bureau, "zhang", "fresh-pass1").username == "zhang"
    actor.set_current(accounts.list_accounts(bureau)[0].actor())

    dlg.select("zhang")
    assert dlg.toggle_auto_login()
    assert accounts.auto_login_account(bureau).username == "zhang"
    assert dlg.btn_auto.text() == "取消免密码登录"
    assert dlg.toggle_auto_login()
    assert accounts.auto_login_account(bureau) is None

    # Not the account in use; and the core keeps one active administrator (its refusal shown as it is).
    as_user(bureau, "admin")
    dlg.refresh()
    dlg.select("admin")
    assert not dlg.toggle_active()
    assert "不能停用正在使用的账户" in messages[-1][1]
    accounts.update_account(bureau, "admin2", active=False)
    me = next(a for a in accounts.list_accounts(bureau) if a.username == "admin")
    demote = RoleDialog(bureau, me, dlg)
    qtbot.addWidget(demote)
    demote.roles.set_role(OPERATOR)
    assert not demote.save() and demote.error.text() == "至少要保留一个启用的管理员账户。"
    # With another administrator, one may step down: the dialog works on as an operator at once.
    accounts.update_account(bureau, "admin2", active=True)
    changed: list[Any] = []
    dlg.current_changed.connect(changed.append)
    monkeypatch.setattr(RoleDialog, "exec", lambda self: self.roles.set_role(OPERATOR) or self.save())
    dlg.select("admin")
    dlg.change_role()
    assert actor.current().role == OPERATOR and changed == [actor.current()]
    assert dlg.notice.isVisibleTo(dlg) and not dlg.btn_add.isEnabled()


def test_an_operator_cannot_administer_accounts(
    bureau: Database, qtbot: Any, messages: list[tuple[str, str]]
) -> None:
    as_user(bureau, "op")
    dlg = AccountsDialog(bureau)
    qtbot.addWidget(dlg)
    assert dlg.notice.isVisibleTo(dlg) and "操作员" in dlg.notice.text()
    assert not any(b.isEnabled() for b in dlg.admin_buttons) and dlg.btn_mine.isEnabled()
    # Even when the buttons are bypassed, the core refuses and the refusal is shown.
    dlg.select("view")
    assert not dlg.toggle_active()
    assert messages[-1][0] == "warning" and "无权修改账户" in messages[-1][1]
    add = AddAccountDialog(bureau, dlg)
    qtbot.addWidget(add)
    add.username.setText("x1")
    add.passwords.first.setText(PW)
    add.passwords.again.setText(PW)
    assert add.save() is None and "无权修改账户" in add.error.text()
    reset = ResetPasswordDialog(bureau, "view", dlg)
    qtbot.addWidget(reset)
    reset.passwords.first.setText("fresh-pass1")
    reset.passwords.again.setText("fresh-pass1")
    assert not reset.save() and "无权" in reset.error.text()
    assert [a.active for a in accounts.list_accounts(bureau)] == [True, True, True]


def test_anyone_changes_their_own_password(
    bureau: Database, qtbot: Any, messages: list[tuple[str, str]]
) -> None:
    as_user(bureau, "view")
    dlg = ChangePasswordDialog(bureau, "view")
    qtbot.addWidget(dlg)
    dlg.old.setText("wrong-pass1")
    dlg.passwords.first.setText("newpass123")
    dlg.passwords.again.setText("newpass123")
    assert not dlg.save() and "还可再试 4 次" in dlg.error.text()
    dlg.old.setText(PW)
    assert dlg.save()
    assert messages[-1] == ("information", "密码已修改。下次登录请使用新密码。")
    assert accounts.authenticate(bureau, "view", "newpass123").username == "view"


# --- journal -------------------------------------------------------------------------------------


def test_journal_tab_filters_details_and_exports(
    bureau: Database,
    qtbot: Any,
    messages: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    as_user(bureau, "op")
    q = DirectoryQuery(bureau, TARGETS)
    rec = q.get(5)
    new_risk = "重大" if rec["risk_level"] != "重大" else "低"
    q.update(5, {**rec, "risk_level": new_risk})
    tab = JournalTab(bureau)
    qtbot.addWidget(tab)
    tab.resize(1024, 700)
    tab.show()
    total = bureau.scalar("SELECT count(*) FROM journal")
    assert tab.model.rowCount() == total and f"共 {total:,} 条" in tab.count_label.text()
    first = tab.model.values(0)
    assert first is not None and first[0].action.startswith("修改检查对象")  # newest first
    # The detail pane: the table, the row, before and after, in Chinese.
    tab.table.selectRow(0)
    html = tab.detail.toHtml()
    assert "检查对象名录库" in html and "风险等级" in html and rec["risk_level"] in html and new_risk in html
    assert "李操作（op）" in html
    # The text filter.
    for ch in "登录失败":
        tab.search.insert(ch)
    qtbot.waitUntil(lambda: tab.model.rowCount() < total, timeout=3000)
    assert tab.model.rowCount() == 0 and "当前显示 0 条" in tab.count_label.text()
    tab.search.clear()
    tab.apply_filter()
    # The account filter.
    tab.actor_combo.setCurrentIndex(tab.actor_combo.findData("李操作（op）"))
    shown = [tab.model.values(r)[0].actor for r in range(tab.model.rowCount())]
    assert shown and set(shown) == {"李操作（op）"}
    # The date range.
    today = journal.entries(bureau, limit=1)[0].at[:10]
    tab.actor_combo.setCurrentIndex(0)
    tab.set_dates(None, journal_date(today) - timedelta(days=1))
    assert tab.model.rowCount() == 0
    tab.set_dates(journal_date(today), journal_date(today))
    assert tab.model.rowCount() == total
    tab.clear_filters()
    assert tab.current_filter().active is False
    # A password hash is never shown.
    tab.search.setText("新建账户 admin")
    tab.apply_filter()
    tab.table.selectRow(0)
    assert "$argon2" not in tab.detail.toHtml() and "已隐藏" in tab.detail.toHtml()

    # Export the filtered entries to JSON and everything to Excel.
    tab.clear_filters()
    tab.actor_combo.setCurrentIndex(tab.actor_combo.findData("李操作（op）"))
    out = tmp_path / "日志"
    save_as(monkeypatch, out, "JSON 文件 (*.json)")
    assert tab.export_file() == tmp_path / "日志.json"
    data = json.loads((tmp_path / "日志.json").read_text(encoding="utf-8"))
    assert data and {d["actor"] for d in data} == {"李操作（op）"}
    tab.clear_filters()
    xlsx = tmp_path / "日志.xlsx"
    save_as(monkeypatch, xlsx)
    assert tab.export_file() == xlsx
    rows = list(load_workbook(xlsx, read_only=True)["操作日志"].iter_rows(values_only=True))
    assert len(rows) == 1 + total + 1  # the header, and the JSON export's own entry
    assert rows[0][:4] == ("序号", "时间", "账户", "操作")
    assert "导出操作日志" in tab.model.values(0)[0].action  # refreshed: the export is journalled


def journal_date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def test_journal_tab_integrity_button(
    bureau: Database, qtbot: Any, messages: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[Any] = []
    monkeypatch.setattr(IntegrityReportDialog, "exec", lambda self: shown.append(self.report) or 0)
    tab = JournalTab(bureau)
    qtbot.addWidget(tab)
    before = tab.model.rowCount()
    tab.check_integrity()
    assert len(shown) == 1 and shown[0].ok
    assert tab.model.rowCount() == before + 1 and tab.model.values(0)[0].action == "完整性检查"


# --- integrity -----------------------------------------------------------------------------------


def _edit_outside(db: Database) -> str:
    uscc = db.scalar("SELECT uscc FROM target WHERE id = 5")
    if db.url is not None:  # psql as the database owner, the triggers lifted for the session
        import psycopg

        with psycopg.connect(db.url, autocommit=True) as pcon:
            pcon.execute("SET session_replication_role = replica")
            pcon.execute("UPDATE target SET name = name || '（改）' WHERE id = 5")
        return str(uscc)
    con = sqlite3.connect(database_path(db.data_dir))
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        if name.startswith("dsj_guard_"):
            con.execute(f'DROP TRIGGER "{name}"')
    con.execute("UPDATE target SET name = name || '（改）' WHERE id = 5")
    con.commit()
    con.close()
    return str(uscc)


def test_integrity_report_names_an_outside_edit(
    bureau: Database,
    qtbot: Any,
    messages: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    uscc = _edit_outside(bureau)
    dialogs: list[IntegrityReportDialog] = []

    def fake_exec(self: IntegrityReportDialog) -> int:
        dialogs.append(self)
        return 0

    monkeypatch.setattr(IntegrityReportDialog, "exec", fake_exec)
    report = run_integrity_check(bureau)
    assert report is not None and not report.ok
    (dlg,) = dialogs
    qtbot.addWidget(dlg)
    assert "发现" in dlg.summary.text() and "其他工具" in dlg.summary.text()
    rows = [[dlg.model.data(dlg.model.index(r, c)) for c in range(4)] for r in range(dlg.model.rowCount())]
    assert any(
        r[:2] == ["数据行", "检查对象名录库"]
        and r[2].startswith(f"第 5 行（uscc={uscc}")
        and r[3] == "这一行在本程序之外被改动过"
        for r in rows
    )
    if (
        not bureau.on_server
    ):  # the SQLite edit dropped the guard triggers; a server's were lifted for a session
        assert any(r[0] == "保护触发器" and r[3] == "缺失" for r in rows)
    out = tmp_path / "报告.txt"
    save_as(monkeypatch, out)
    assert dlg.export_text() == out
    text = out.read_text(encoding="utf-8-sig")
    assert f"检查对象名录库 第 5 行（uscc={uscc}" in text and f"{len(report.findings)} 处问题" in text
    entry = journal.entries(bureau, limit=1)[0]
    assert entry.action == "完整性检查" and '"ok": false' in entry.detail


def test_background_integrity_check(bureau: Database, qtbot: Any) -> None:
    check = BackgroundIntegrityCheck(bureau)
    with qtbot.waitSignal(check.finished, timeout=30000) as blocker:
        check.start()
    report = blocker.args[0]
    assert report.ok and check.report is report and report.rows_checked > 3000
    assert journal.entries(bureau, limit=1)[0].action == "完整性检查（启动时）"
    _edit_outside(bureau)
    with qtbot.waitSignal(check.finished, timeout=30000) as blocker:
        check.start()
    assert not blocker.args[0].ok
    check.wait()


# --- backups -------------------------------------------------------------------------------------


def _tables(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with db.read() as conn:
        if db.on_server:
            names = [t for t in pg.table_names(conn) if t != "journal" and not t.startswith("dsj_")]
        else:
            names = [r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type='table' AND name != 'journal'")]  # fmt: skip
        for t in names:
            out[t] = [tuple(r) for r in conn.exec_driver_sql(f'SELECT * FROM "{t}" ORDER BY 1, 2')]
    out["row_seal"] = [r for r in out["row_seal"] if r[0] != "journal"]  # the journal's rows are sealed too
    return out


def test_backup_to_a_folder_and_restore_through_the_dialogs(
    bureau: Database,
    qtbot: Any,
    messages: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    as_user(bureau, "admin")
    backup.auto_backup(bureau, "start")
    usb = tmp_path / "usb"
    usb.mkdir()
    dlg = BackupDialog(bureau)
    qtbot.addWidget(dlg)
    assert dlg.list.model.rowCount() == 1 and dlg.list.model.data(dlg.list.model.index(0, 1)) == "启动时"
    qtbot.waitUntil(lambda: dlg.list.info is not None, timeout=10000)
    assert dlg.list.info.counts["检查对象"] == 3000 and "通过" in dlg.list.preview.toPlainText()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
    dlg.choose_other()
    (copy,) = usb.glob(f"*{backup.backup_suffix(bureau)}")
    assert dlg.last is not None and dlg.last.path == copy and dlg.last.ok
    assert "已备份并校验通过" in dlg.result_label.text() and "检查对象 3,000" in dlg.result_label.text()
    dlg.list.wait()
    saved = _tables(bureau)

    # Change things, then restore the copy from the USB stick.
    DirectoryQuery(bureau, TARGETS).set_archived([1, 2, 3], True)
    settings.write(bureau, backup.KEEP_SETTING, 4)
    assert _tables(bureau) != saved
    rd = RestoreDialog(bureau)
    qtbot.addWidget(rd)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(copy), ""))
    rd.choose_file()
    qtbot.waitUntil(lambda: rd.list.info is not None and rd.list.info.path == copy, timeout=10000)
    preview = rd.list.preview.toPlainText()
    assert (
        "备份中" in preview and "当前数据" in preview and "最后一条：" in preview and "校验：通过" in preview
    )
    assert not rd.btn_restore.isEnabled()
    rd.confirm.setText("恢复")
    assert not rd.btn_restore.isEnabled()
    rd.confirm.setText("确认恢复")
    assert rd.btn_restore.isEnabled()
    assert rd.restore()
    assert rd.restored and rd.safety is not None and rd.safety.exists() and rd.info is not None
    assert "恢复前的数据已备份" in messages[-1][1]
    db2 = open_database(bureau.data_dir)
    try:
        backup.note_restore(db2, rd.safety, rd.info)
        assert _tables(db2) == saved  # the data back exactly
        assert journal.entries(db2, limit=1)[0].action == "从备份恢复数据"
    finally:
        db2.close()


def test_only_an_administrator_restores(
    bureau: Database, qtbot: Any, messages: list[tuple[str, str]]
) -> None:
    as_user(bureau, "admin")
    backup.auto_backup(bureau, "start")
    as_user(bureau, "op")
    rd = RestoreDialog(bureau)
    qtbot.addWidget(rd)
    qtbot.waitUntil(lambda: rd.list.info is not None, timeout=10000)
    rd.confirm.setText("确认恢复")
    assert rd.notice.isVisibleTo(rd) and not rd.btn_restore.isEnabled()
    assert not rd.restore() and "只有管理员" in rd.error.text()
    rd.list.wait()


def test_only_an_administrator_backs_up_to_a_stick(
    bureau: Database, qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.text()) or 0)
    as_user(bureau, "op")
    dlg = BackupDialog(bureau)
    qtbot.addWidget(dlg)
    notice = dlg.findChild(QLabel, "backup-notice")
    assert notice is not None and "只有管理员" in notice.text() and not dlg.btn_backup.isEnabled()
    usb = tmp_path / "usb"
    usb.mkdir()
    assert dlg.backup_to(usb) is None  # and the core refuses anyway
    assert "只有管理员" in shown[-1] and list(usb.iterdir()) == []
    dlg.list.wait()


@pytest.mark.sqlite_only(
    "SQLite triggers dropped and forged in the file; server: test_postgres::test_disabled_or_dropped_trigger_is_found_and_restored"
)
def test_the_start_check_reports_triggers_that_are_not_the_programs_own(bureau: Database, qtbot: Any) -> None:
    con = sqlite3.connect(database_path(bureau.data_dir))
    con.execute("DROP TRIGGER keep_draw_member_rows")
    con.execute("CREATE TRIGGER dsj_guard_v1_x AFTER INSERT ON setting BEGIN SELECT 1; END")
    con.commit()
    con.close()
    bureau.close()
    db = open_database(bureau.data_dir)  # what the program does at start
    try:
        assert any(
            "keep_draw_member_rows（缺失）" in w and "dsj_guard_v1_x（多出）" in w for w in db.warnings
        )
        check = BackgroundIntegrityCheck(db)
        with qtbot.waitSignal(check.finished, timeout=30000) as blocker:
            check.start()
        report = blocker.args[0]
        assert [f.area for f in report.findings] == ["保护触发器"]
        assert "keep_draw_member_rows" in report.findings[0].detail
        check.wait()
    finally:
        db.close()


def test_daily_backup_at_start_and_when_a_day_old(bureau: Database, qtbot: Any) -> None:
    daily = DailyBackup(bureau, interval_ms=50)
    with qtbot.waitSignal(daily.made, timeout=10000) as blocker:
        daily.start()
    assert blocker.args[0].path.name.endswith(f"-start{backup.backup_suffix(bureau)}")
    assert not daily.due() and not daily.check()  # fresh: nothing to do
    as_user(bureau, "admin")
    settings.write(bureau, settings.BUREAU_NAME, "青山县应急管理局（改）")  # a change: worth a new copy
    daily.max_age = timedelta(0)
    with qtbot.waitSignal(daily.made, timeout=10000) as blocker:
        pass  # the timer finds it due
    assert blocker.args[0].path.name.endswith(f"-daily{backup.backup_suffix(bureau)}")
    daily.stop()
    daily.wait()
    assert journal.entries(bureau, text="自动备份", limit=1)


# --- settings ------------------------------------------------------------------------------------


def test_settings_show_the_key_fingerprints_and_export_the_certificate(
    bureau: Database,
    qtbot: Any,
    messages: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    as_user(bureau, "admin")
    dlg = SettingsDialog(bureau)
    qtbot.addWidget(dlg)
    store = KeyStore(bureau.data_dir)
    assert dlg.record_view.fingerprint == store.record_fingerprint()
    assert dlg.cert_view.fingerprint == store.pdf_certificate_fingerprint()
    assert dlg.record_view.value.text().replace("\n", " ") == store.record_fingerprint()
    assert dlg.record_view.value.font().family() == "WenQuanYi Micro Hei Mono"
    dlg.record_view.copy_button.click()
    assert QGuiApplication.clipboard().text() == store.record_fingerprint()
    cer = tmp_path / "证书.cer"
    save_as(monkeypatch, cer)
    assert dlg.export_certificate() == cer
    assert cer.read_bytes() == store.pdf_certificate_der()
    assert store.pdf_certificate_fingerprint() in messages[-1][1]


def test_settings_save_the_name_renew_the_certificate_and_keep_count(
    bureau: Database, qtbot: Any, messages: list[tuple[str, str]]
) -> None:
    as_user(bureau, "admin")
    old_fp = KeyStore(bureau.data_dir).pdf_certificate_fingerprint()
    dlg = SettingsDialog(bureau)
    qtbot.addWidget(dlg)
    dlg.bureau.setText("县")
    assert not dlg.save() and "太短" in dlg.error.text()
    dlg.bureau.setText("青山县应急管理局（新）")
    dlg.keep.setValue(5)
    dlg.auto_login.setChecked(True)
    assert dlg.save()
    assert settings.bureau_name(bureau) == "青山县应急管理局（新）" and backup.keep_count(bureau) == 5
    assert accounts.auto_login_account(bureau).username == "admin"
    store = KeyStore(bureau.data_dir)
    assert store.pdf_certificate_bureau_name() == "青山县应急管理局（新）"  # renewed after asking
    assert any(k == "question" and "重新生成证书" in t for k, t in messages)
    assert old_fp in store.known_pdf_certificate_fingerprints()[1:]  # the old one is kept


def test_settings_are_read_only_for_others_and_the_core_refuses(
    bureau: Database, qtbot: Any, messages: list[tuple[str, str]]
) -> None:
    as_user(bureau, "op")
    dlg = SettingsDialog(bureau)
    qtbot.addWidget(dlg)
    assert dlg.notice.isVisibleTo(dlg) and not dlg.save_button.isVisibleTo(dlg)
    assert dlg.bureau.isReadOnly() and not dlg.keep.isEnabled()
    assert dlg.record_view.fingerprint == KeyStore(bureau.data_dir).record_fingerprint()
    dlg.bureau.setText("别的县应急管理局")  # tried anyway
    assert not dlg.save()
    assert "无权修改设置" in dlg.error.text() and messages[-1][0] == "warning"
    assert settings.bureau_name(bureau) == "青山县应急管理局"


def test_settings_offer_a_new_certificate_when_the_name_changed_elsewhere(
    bureau: Database, qtbot: Any, messages: list[tuple[str, str]]
) -> None:
    as_user(bureau, "admin")
    settings.write(bureau, settings.BUREAU_NAME, "青山县应急管理局（更名）")  # e.g. on the start page
    dlg = SettingsDialog(bureau)
    qtbot.addWidget(dlg)
    assert not dlg.mismatch.isHidden() and not dlg.renew_button.isHidden()
    old = dlg.cert_view.fingerprint
    dlg.renew_button.click()
    assert KeyStore(bureau.data_dir).pdf_certificate_bureau_name() == "青山县应急管理局（更名）"
    assert dlg.cert_view.fingerprint != old and dlg.mismatch.isHidden()
    assert journal.entries(bureau, limit=1)[0].action == "重新生成 PDF 签章证书"


def test_first_run_on_a_folder_that_already_holds_data_offers_no_demo(demo_db: Database, qtbot: Any) -> None:
    wz = FirstRunWizard(demo_db)
    qtbot.addWidget(wz)
    assert wz.bureau_page.name.text() == "青山县应急管理局"  # kept from before
    assert not wz.start_page.options["demo"].isEnabled() and wz.start_page.selected() == "later"


@pytest.mark.qt_log_ignore(
    "does not support raise", "does not support grabbing the keyboard"
)  # the popup, offscreen
def test_an_open_date_field_opens_its_calendar_at_this_month(bureau: Database, qtbot: Any) -> None:
    from PySide6.QtCore import QDate, QPoint, Qt

    tab = JournalTab(bureau)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.mouseClick(
        tab.since,
        Qt.MouseButton.LeftButton,
        pos=tab.since.rect().center() + QPoint(tab.since.width() // 2 - 6, 0),
    )
    cal = tab.since.calendarWidget()
    qtbot.waitUntil(cal.isVisible, timeout=3000)
    today = QDate.currentDate()
    assert (cal.yearShown(), cal.monthShown()) == (today.year(), today.month())
    cal.window().hide()
