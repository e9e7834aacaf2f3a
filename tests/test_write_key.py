"""Revoking a workstation on a shared server (docs/postgresql.md, "Revoking a workstation"): an
administrator replaces the write key; every row is sealed again and the journal continues under the
new key in one journalled transaction; a workstation still holding the old key is stopped before it
writes, and asked the passphrase once at its next connection; anything the old key seals or signs
afterwards is named by ``check``.

Always against a real server (tests/pg_server.py), whatever ``--engine`` says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop import actor, keyvault
from dsj_desktop.db import pg, server_keys
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.errors import DatabaseError, UserError
from tests.conftest import TEST_KEY_PASSPHRASE
from tests.pg_server import pg_bin_dir
from tests.server_helpers import add_target, check

pytestmark = pytest.mark.skipif(
    pg_bin_dir() is None and not os.environ.get("CI"), reason="no PostgreSQL server package installed"
)


def count_targets(db: Database) -> int:
    with db.read() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM target").scalar() or 0)


def write_key(db: Database) -> str:
    with db.read() as conn:
        return str(pg.meta(conn, "write_key"))


def test_rotating_the_write_key_reseals_continues_the_journal_and_stops_the_old_key(
    pdb: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_target(pdb, "91110000100000001X", "甲公司")
    b = open_database(tmp_path / "ws2")  # joined before the change: holds the old key
    add_target(b, "91110000100000002X", "乙公司")
    old = pdb.guard.public_key
    old_file = server_keys.write_key_path(pdb.data_dir, old)
    assert old_file.is_file()
    try:
        fp = server_keys.rotate_write_key(pdb, TEST_KEY_PASSPHRASE, "抽取室旧电脑报废")
        new = pdb.guard.public_key
        assert new != old and write_key(pdb) == new.hex()
        assert fp == server_keys.fingerprint(new)
        # One journalled step naming both keys, who and why; the folder holds the new key only.
        with pdb.read() as conn:
            who, action, detail = conn.exec_driver_sql(
                "SELECT actor, action, detail FROM journal ORDER BY id DESC LIMIT 1"
            ).one()
            retired = server_keys.retired_keys(conn)
        assert action == server_keys.ROTATE_ACTION and who == "系统"
        d = json.loads(detail)
        assert d["old_write_key"] == old.hex() and d["new_write_key"] == new.hex()
        assert d["reason"] == "抽取室旧电脑报废"
        assert [r["public"] for r in retired] == [old.hex()]
        assert not old_file.exists()
        assert server_keys.write_key_path(pdb.data_dir, new).is_file()
        assert server_keys.revoked_here(pdb.data_dir, old)
        report = check(pdb)
        assert report.ok, report.text()
        add_target(pdb, "91110000100000003X", "丙公司")
        assert check(pdb).ok

        # The workstation still running with the old key is stopped before it writes anything.
        before = count_targets(pdb)
        with pytest.raises(DatabaseError, match="写入密钥已由管理员更换"):
            add_target(b, "91110000100000004X", "丁公司")
        assert count_targets(pdb) == before
        with pytest.raises(UserError, match="写入密钥已由管理员更换"):
            check(b)
    finally:
        b.close()

    # At its next connection it is told, and asked the passphrase once.
    asked: list[tuple[str, str]] = []

    def prompt(why: str, text: str) -> str:
        asked.append((why, text))
        return TEST_KEY_PASSPHRASE

    monkeypatch.delenv("DSJ_KEY_PASSPHRASE")
    monkeypatch.setattr(keyvault, "passphrase_prompt", prompt)
    b = open_database(tmp_path / "ws2")
    try:
        assert [why for why, _ in asked] == [keyvault.REJOIN]
        assert "写入密钥已由系统于" in asked[0][1] and "已撤销" in asked[0][1]
        assert b.guard.public_key == pdb.guard.public_key
        assert not server_keys.write_key_path(b.data_dir, old).exists()
        add_target(b, "91110000100000005X", "戊公司")
        report = check(b)
        assert report.ok, report.text()  # its anchor, signed with the old key, was signed again
        assert check(pdb).ok
    finally:
        b.close()
    asked.clear()
    open_database(tmp_path / "ws2").close()
    assert asked == []  # once only


def test_a_forgery_with_the_revoked_key_is_named_by_check(
    pdb: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_target(pdb, "91110000100000001X", "甲公司")
    stolen = open_database(tmp_path / "stolen")  # the PC that is stolen: it holds the old key
    try:
        server_keys.rotate_write_key(pdb, TEST_KEY_PASSPHRASE, "电脑被盗")
        assert check(pdb).ok
        # The thief's own program skips the test of the current write key and writes with the old one.
        monkeypatch.setattr(Database, "_same_write_key", lambda self, conn, early: None)
        add_target(stolen, "91110000100000666X", "伪造公司")
    finally:
        stolen.close()
    report = check(pdb)
    text = report.text()
    assert not report.ok
    rows = [f for f in report.findings if f.area == "数据行"]
    assert any("用已撤销的写入密钥" in f.detail and "91110000100000666X" in f.row for f in rows), text
    entries = [f for f in report.findings if f.area == "操作日志"]
    assert entries and all("已撤销的写入密钥" in f.detail for f in entries), text


def test_a_stolen_folder_cannot_join_again_without_the_passphrase(
    pdb: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_database(tmp_path / "stolen").close()
    server_keys.rotate_write_key(pdb, TEST_KEY_PASSPHRASE)
    monkeypatch.setenv("DSJ_KEY_PASSPHRASE", "the thief's guess")
    with pytest.raises(keyvault.WrongPassphrase):
        open_database(tmp_path / "stolen")
    with pdb.read() as conn:
        new = str(pg.meta(conn, "write_key"))
    assert not server_keys.write_key_path(tmp_path / "stolen", bytes.fromhex(new)).exists()
    assert check(pdb).ok


def test_a_server_offering_a_revoked_key_again_is_refused(
    pdb: Database, tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    old = pdb.guard.public_key
    saved = tmp_path / "before"
    b = open_database(tmp_path / "ws2")
    b.close()
    with pdb.read() as conn:
        vault = str(pg.meta(conn, "key_vault"))
    shutil.copytree(pdb.data_dir / "keys", saved)
    server_keys.rotate_write_key(pdb, TEST_KEY_PASSPHRASE)
    open_database(tmp_path / "ws2").close()  # joined again with the new key
    # Someone puts the old key back on the server (the vault and the public key of before).
    with psycopg.connect(server_url, autocommit=True) as raw:
        raw.execute("UPDATE dsj_meta SET value = %s WHERE key = 'write_key'", (old.hex(),))
        raw.execute("UPDATE dsj_meta SET value = %s WHERE key = 'key_vault'", (vault,))
    with pytest.raises(DatabaseError, match="已被管理员撤销过"):
        open_database(tmp_path / "ws2")


def test_only_an_administrator_rotates_and_the_command_line_does(
    pdb: Database, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsj_desktop.services import accounts

    accounts.create_account(pdb, "admin", "管理员", "admin", "Qh7-Lantern-Moss")
    actor.set_current(actor.Actor("admin", "管理员", "admin"))
    try:
        accounts.create_account(pdb, "clerk", "录入员", "operator", "Zu4-Copper-Fern")
        actor.set_current(actor.Actor("clerk", "录入员", "operator"))
        with pytest.raises(UserError, match="只有管理员"):
            server_keys.rotate_write_key(pdb, TEST_KEY_PASSPHRASE)
    finally:
        actor.set_current(None)
    old = pdb.guard.public_key
    env = {**os.environ, "DSJ_DATA_DIR": str(pdb.data_dir), "DSJ_PASSWORD": "Qh7-Lantern-Moss"}
    cmd = [sys.executable, "-m", "dsj_desktop", "--user", "admin", "write-key", "--reason", "退役"]
    env["DSJ_KEY_PASSPHRASE"] = "not the passphrase"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "口令不正确" in done.stderr, done.stderr
    env["DSJ_KEY_PASSPHRASE"] = TEST_KEY_PASSPHRASE
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "服务器写入密钥已更换" in done.stdout
    with pdb.read() as conn:
        row = conn.exec_driver_sql("SELECT actor, detail FROM journal WHERE action = ?",
                                   (server_keys.ROTATE_ACTION,)).one()  # fmt: skip
    assert "admin" in row[0] and json.loads(row[1])["old_write_key"] == old.hex()
    pdb.close()
    again = open_database(pdb.data_dir)  # the folder that rotated holds the new key: no question
    try:
        assert again.guard.public_key != old
        assert check(again).ok, check(again).text()
    finally:
        again.close()


def test_the_administrator_rotates_from_the_file_menu_dialog(
    qtbot: Any, pdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from dsj_desktop.ui.key_dialogs import PassphraseDialog, RotateWriteKeyDialog

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text, *a, **k: shown.append(text))
    old = pdb.guard.public_key
    dialog = RotateWriteKeyDialog(pdb)
    qtbot.addWidget(dialog)
    assert not dialog.rotate() and "请输入" in dialog.error.text()
    dialog.passphrase.setText("not the passphrase")
    assert not dialog.rotate() and "口令不正确" in dialog.error.text()
    assert pdb.guard.public_key == old and write_key(pdb) == old.hex()  # nothing changed
    dialog.reason.setText("录入室笔记本丢失")
    dialog.passphrase.setText(TEST_KEY_PASSPHRASE)
    assert dialog.rotate() and dialog.result() == 1
    assert shown and dialog.fingerprint in shown[0]
    assert write_key(pdb) == pdb.guard.public_key.hex() != old.hex()
    assert check(pdb).ok
    rejoin = PassphraseDialog(keyvault.REJOIN, "单位服务器的写入密钥已由管理员更换。")
    qtbot.addWidget(rejoin)
    assert rejoin.ok.text() == "重新加入" and rejoin.windowTitle() == "服务器写入密钥已更换"


def test_a_backup_after_the_change_verifies_and_restores(pdb: Database, tmp_path: Path) -> None:
    from dsj_desktop.services import backup

    add_target(pdb, "91110000100000001X", "甲公司")
    server_keys.rotate_write_key(pdb, TEST_KEY_PASSPHRASE)
    add_target(pdb, "91110000100000002X", "乙公司")
    info = backup.auto_backup(pdb, "测试")  # journal signed with two keys, one after the other
    assert info.ok, info.text()
    add_target(pdb, "91110000100000003X", "丙公司")
    safety, restored = backup.restore(pdb, info.path)
    db = open_database(tmp_path / "ws1")
    try:
        backup.note_restore(db, safety, restored)
        assert count_targets(db) == 2
        report = check(db)
        assert report.ok, report.text()
    finally:
        db.close()
