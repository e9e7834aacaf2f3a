"""New bureau keys on a shared server (docs/postgresql.md, "A lost passphrase and no key files"): an
administrator makes new record and PDF keys under a new passphrase, journalled; records signed before
keep verifying under their old fingerprint (``check`` and ``verify --data-dir`` accept it as a past
key of the bureau, for records signed before the change only); new records are signed with the new
key; other workstations confirm the new keys once with the new passphrase, never silently.

Always against a real server (tests/pg_server.py), whatever ``--engine`` says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop import actor, keyvault
from dsj_desktop.db import pg, server_keys
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.errors import DatabaseError, UserError
from dsj_desktop.keys import KeyStore
from tests.conftest import TEST_KEY_PASSPHRASE
from tests.pg_server import PgServer, pg_bin_dir
from tests.server_helpers import check

pytestmark = pytest.mark.skipif(
    pg_bin_dir() is None and not os.environ.get("CI"), reason="no PostgreSQL server package installed"
)

NEW_PASSPHRASE = "口令和密钥文件都丢了-2027-新口令"


def draw(db: Database, task: str) -> dict[str, Any]:
    from dsj_desktop.services import sessions

    s = sessions.prepare(db, task, on=date(2026, 6, 1), place="会议室", operator="测试员")
    s = sessions.commit(db, s.id, operator="测试员")
    for name, digits in (("企业代表", "3141592653"), ("纪检监督员", "2718281828")):
        s = sessions.add_witness(db, s.id, name, digits, operator="测试员")
    s = sessions.do_reveal(db, s.id, operator="测试员")
    s = sessions.confirm(db, s.id, operator="测试员")
    assert s.record is not None
    return s.record


def verdict(record: dict[str, Any], folder: Path, tmp_path: Path) -> str:
    from dsj_desktop.publish import verify_report

    path = tmp_path / f"record-{id(record)}.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return str(verify_report.check_file(path, trusted=verify_report.registered_keys(folder)).status)


def test_new_bureau_keys_keep_old_records_verifying_and_sign_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_server: PgServer
) -> None:
    from dsj_desktop.publish import verify_report
    from tests.conftest import _demo_copy

    one = _demo_copy(tmp_path, monkeypatch, draws=False, server=pg_server)
    a = open_database(one)
    b = open_database(tmp_path / "ws2", url=os.environ["DSJ_DATABASE_URL"])  # joined before the change
    b.close()
    try:
        old_fp = KeyStore(a.data_dir).record_fingerprint()
        before = draw(a, "RW-2026-03")
        assert verdict(before, a.data_dir, tmp_path) == verify_report.PASSED
        with a.read() as conn:
            old_items = keyvault.decrypt(str(pg.meta(conn, "key_vault")), TEST_KEY_PASSPHRASE,
                                         str(pg.meta(conn, "record_key")))  # fmt: skip
            old_public = bytes.fromhex(str(pg.meta(conn, "record_key")))
            old_pdf = bytes.fromhex(str(pg.meta(conn, "pdf_key")))

        new_fp = server_keys.new_bureau_keys(a, NEW_PASSPHRASE, "口令和密钥文件都已丢失")
        assert new_fp != old_fp and KeyStore(a.data_dir).record_fingerprint() == new_fp
        with a.read() as conn:
            last = conn.exec_driver_sql("SELECT action, detail FROM journal ORDER BY id DESC LIMIT 1").one()
            text, bound = str(pg.meta(conn, "key_vault")), str(pg.meta(conn, "record_key"))
        assert last[0] == server_keys.NEW_KEYS_ACTION
        assert json.loads(last[1])["old_fingerprint"] == old_fp
        assert set(keyvault.decrypt(text, NEW_PASSPHRASE, bound)) == {"record", "pdf", "write"}
        with pytest.raises(keyvault.WrongPassphrase):
            keyvault.decrypt(text, TEST_KEY_PASSPHRASE, bound)
        report = check(a)
        assert report.ok, report.text()  # the record signed before: a past key of the bureau
        assert old_fp in KeyStore(a.data_dir).registered_fingerprints()

        monkeypatch.setenv("DSJ_KEY_PASSPHRASE", NEW_PASSPHRASE)
        a.key_source.lock()  # the new passphrase opens the new keys
        after = draw(a, "RW-2026-04")
        assert after["signature"]["public_key"] == bytes.fromhex(bound).hex() != old_public.hex()
        assert verdict(after, a.data_dir, tmp_path) == verify_report.PASSED
        assert verdict(before, a.data_dir, tmp_path) == verify_report.PASSED
        assert check(a).ok, check(a).text()

        # Somebody who kept the old key signs a record after the change: named by `check`.
        from dsj_desktop.services import draw_ready

        server_keys.register(a, old_public, old_pdf).prime(old_items)
        monkeypatch.setattr(draw_ready, "signing_problems", lambda *args, **kw: [])  # (no PDF made)
        draw(a, "RW-2026-05")
        server_keys.register(a, bytes.fromhex(bound), bytes.fromhex(str(json.loads(last[1])["new_pdf_key"])))
        report = check(a)
        late = [f for f in report.findings if f.area == "抽取记录"]
        assert late and all("更换密钥之后" in f.detail for f in late), report.text()
    finally:
        a.close()

    # The workstation that joined before: asked once to confirm, with the new passphrase.
    asked: list[tuple[str, str]] = []
    answers = iter(["not the passphrase", "still not", "nor this", NEW_PASSPHRASE])

    def prompt(why: str, text: str) -> str:
        asked.append((why, text))
        return next(answers)

    monkeypatch.delenv("DSJ_KEY_PASSPHRASE")
    monkeypatch.setattr(keyvault, "passphrase_prompt", prompt)
    with pytest.raises(keyvault.WrongPassphrase):
        open_database(tmp_path / "ws2")
    assert asked[0][0] == keyvault.RENEWED and old_fp in asked[0][1] and new_fp in asked[0][1]
    asked.clear()
    b = open_database(tmp_path / "ws2")
    try:
        assert [why for why, _ in asked] == [keyvault.RENEWED]
        assert KeyStore(b.data_dir).record_fingerprint() == new_fp
    finally:
        b.close()
    asked.clear()
    open_database(tmp_path / "ws2").close()
    assert asked == []  # once only
    # `verify --data-dir` of that workstation, no database open: both fingerprints are the bureau's.
    known = KeyStore(tmp_path / "ws2").registered_fingerprints()
    assert old_fp in known and new_fp in known
    assert verdict(before, tmp_path / "ws2", tmp_path) == verify_report.PASSED


def test_the_confirmation_dialog_names_what_it_does(qtbot: Any) -> None:
    from dsj_desktop.ui.key_dialogs import PassphraseDialog

    dialog = PassphraseDialog(keyvault.RENEWED, "本局签名密钥已更换为新的密钥。")
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "本局签名密钥已更换" and dialog.ok.text() == "确认新的密钥"


def test_a_record_key_swapped_without_the_journal_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_server: PgServer
) -> None:
    import psycopg
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    name = pg_server.create_database()
    url = pg_server.url(name)
    monkeypatch.setenv("DSJ_DATABASE_URL", url)
    try:
        open_database(tmp_path / "ws1").close()
        open_database(tmp_path / "ws2").close()
        other = ed25519.Ed25519PrivateKey.generate().public_key()
        raw = other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE dsj_meta SET value = %s WHERE key = 'record_key'", (raw.hex(),))
        with pytest.raises(DatabaseError, match="本局密钥被换过"):
            open_database(tmp_path / "ws2")
    finally:
        pg_server.drop_database(name)


def test_only_an_administrator_makes_new_keys_and_the_command_line_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_server: PgServer
) -> None:
    from dsj_desktop.services import accounts

    name = pg_server.create_database()
    url = pg_server.url(name)
    monkeypatch.setenv("DSJ_DATABASE_URL", url)
    db = open_database(tmp_path / "ws1")
    try:
        accounts.create_account(db, "admin", "管理员", "admin", "Qh7-Lantern-Moss")
        actor.set_current(actor.Actor("admin", "管理员", "admin"))
        accounts.create_account(db, "clerk", "录入员", "operator", "Zu4-Copper-Fern")
        actor.set_current(actor.Actor("clerk", "录入员", "operator"))
        with pytest.raises(UserError, match="只有管理员"):
            server_keys.new_bureau_keys(db, NEW_PASSPHRASE)
        actor.set_current(None)
        old_fp = KeyStore(db.data_dir).record_fingerprint()
        env = {**os.environ, "DSJ_DATA_DIR": str(db.data_dir), "DSJ_PASSWORD": "Qh7-Lantern-Moss",
               "DSJ_NEW_KEY_PASSPHRASE": NEW_PASSPHRASE}  # fmt: skip
        cmd = [sys.executable, "-m", "dsj_desktop", "--user", "admin", "key-passphrase", "--new-keys"]
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
        assert done.returncode == 1 and "--yes" in done.stderr, done.stderr  # never without a confirmation
        done = subprocess.run([*cmd, "--yes", "--reason", "口令遗失"], env=env, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "已生成新的本局签名密钥" in done.stdout
        with db.read() as conn:
            who = conn.exec_driver_sql("SELECT actor FROM journal WHERE action = ?",
                                       (server_keys.NEW_KEYS_ACTION,)).scalar()  # fmt: skip
        assert who is not None and "admin" in who
    finally:
        actor.set_current(None)
        db.close()
    again = open_database(tmp_path / "ws1")  # the folder that made them: no question
    try:
        assert KeyStore(again.data_dir).record_fingerprint() != old_fp
        assert check(again).ok, check(again).text()
    finally:
        again.close()
        pg_server.drop_database(name)
