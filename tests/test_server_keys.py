"""The bureau's keys on a shared server (docs/postgresql.md, "The bureau's keys"): kept in the database
encrypted under the key passphrase, one fingerprint for every workstation, a joining workstation gets
the write key only, a wrong passphrase is refused, the passphrase can be changed.

Always against a real server (tests/pg_server.py), whatever ``--engine`` says."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from dsj_desktop import actor, keys, keyvault
from dsj_desktop.db import pg, pg_backup, server_keys
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.errors import UserError
from dsj_desktop.keys import KeyStore
from dsj_desktop.services import integrity
from tests.conftest import TEST_KEY_PASSPHRASE
from tests.pg_server import PgServer, pg_bin_dir
from tests.server_helpers import add_target, check

pytestmark = pytest.mark.skipif(
    pg_bin_dir() is None and not os.environ.get("CI"), reason="no PostgreSQL server package installed"
)


def _vault(db: Database) -> dict[str, bytes]:
    with db.read() as conn:
        text = str(pg.meta(conn, "key_vault"))
        bound = str(pg.meta(conn, "record_key"))
    return keyvault.decrypt(text, TEST_KEY_PASSPHRASE, bound)


def _forms(der: bytes) -> list[bytes]:
    """Ways a private key could lie in a file or a dump: DER, its base64 (PEM), hex, the raw key."""
    key = serialization.load_der_private_key(der, password=None)
    raw = b""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())  # fmt: skip
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    body = b"".join(pem.splitlines()[1:-1])
    found = [der, der.hex().encode(), base64.b64encode(der), body[:40]]
    if raw:
        found += [raw, raw.hex().encode(), base64.b64encode(raw)]
    return found


def _holding(folder: Path, secrets: list[bytes]) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and any(s in p.read_bytes() for s in secrets)]


def test_a_new_server_database_keeps_the_keys_encrypted_and_no_private_key_in_the_folder(
    pdb: Database, server_url: str, tmp_path: Path, pg_server: PgServer
) -> None:
    store = KeyStore(pdb.data_dir)
    assert store.on_server
    items = _vault(pdb)
    assert set(items) == {"record", "pdf", "write"}
    # The folder holds the write key only: no record or PDF key file was made.
    names = sorted(p.name for p in (pdb.data_dir / "keys").iterdir())
    assert not (pdb.data_dir / "keys" / keys.RECORD_KEY_FILE).exists()
    assert not (pdb.data_dir / "keys" / keys.PDF_KEY_FILE).exists()
    assert [n for n in names if n.endswith(".key")] == [
        server_keys.write_key_path(pdb.data_dir, pdb.guard.public_key).name
    ]
    secret = _forms(items["record"]) + _forms(items["pdf"])
    assert _holding(pdb.data_dir, secret) == []
    # The whole database as pg_dump writes it holds no private key in the clear.
    dump = subprocess.run(
        [pg_backup.tool("pg_dump"), "--no-owner", server_url],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert b"key_vault" in dump
    for s in [*secret, *_forms(items["write"])]:
        assert s not in dump
    # The public key is there in the clear and every signature verifies with it.
    assert store.record_public_key_bytes().hex().encode() in dump
    assert check(pdb).ok


def test_a_second_workstation_joins_with_the_passphrase_writes_and_verifies(
    pdb: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_target(pdb, "91110000100000001X", "甲公司")
    monkeypatch.setenv("DSJ_KEY_PASSPHRASE", "not the passphrase")
    with pytest.raises(keyvault.WrongPassphrase, match="口令不正确"):
        open_database(tmp_path / "ws2")
    assert not list((tmp_path / "ws2").rglob("*.key"))  # nothing installed
    monkeypatch.setenv("DSJ_KEY_PASSPHRASE", TEST_KEY_PASSPHRASE)
    b = open_database(tmp_path / "ws2")
    try:
        assert b.guard.public_key == pdb.guard.public_key
        assert KeyStore(b.data_dir).record_fingerprint() == KeyStore(pdb.data_dir).record_fingerprint()
        add_target(b, "91110000100000002X", "乙公司")
        assert check(b).ok, check(b).text()
        assert check(pdb).ok, check(pdb).text()
        items = _vault(b)
        assert _holding(b.data_dir, _forms(items["record"]) + _forms(items["pdf"])) == []
    finally:
        b.close()
    # Joined once: no passphrase needed again to open and write.
    monkeypatch.delenv("DSJ_KEY_PASSPHRASE")
    again = open_database(tmp_path / "ws2")
    try:
        add_target(again, "91110000100000003X", "丙公司")
        # Signing needs the passphrase; with nobody to ask, a clear refusal.
        with pytest.raises(UserError, match="本局密钥口令"):
            KeyStore(again.data_dir).record_private_key()
    finally:
        again.close()


def test_a_draw_confirmed_on_b_verifies_on_a_with_the_same_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_server: PgServer
) -> None:
    from dsj_desktop.publish import record_pdf, verify_report
    from dsj_desktop.services import sessions
    from tests.conftest import _demo_copy

    one = _demo_copy(tmp_path, monkeypatch, draws=False, server=pg_server)
    a = open_database(one)
    b = open_database(tmp_path / "ws2", url=os.environ["DSJ_DATABASE_URL"])
    try:
        asked: list[str] = []
        monkeypatch.delenv("DSJ_KEY_PASSPHRASE")

        def prompt(why: str, text: str) -> str:
            asked.append(why)
            return TEST_KEY_PASSPHRASE

        monkeypatch.setattr(keyvault, "passphrase_prompt", prompt)
        s = sessions.prepare(b, "RW-2026-03", on=date(2026, 6, 1), place="会议室", operator="测试员")
        assert asked == [keyvault.UNLOCK]  # asked at the draw, before anything is announced
        s = sessions.commit(b, s.id, operator="测试员")
        for name, digits in (("企业代表", "3141592653"), ("纪检监督员", "2718281828")):
            s = sessions.add_witness(b, s.id, name, digits, operator="测试员")
        s = sessions.do_reveal(b, s.id, operator="测试员")
        s = sessions.confirm(b, s.id, operator="测试员")
        signed = record_pdf.session_record_pdf(b, s)
        assert asked == [keyvault.UNLOCK]  # once for the whole draw
        assert s.record is not None
        fp = KeyStore(a.data_dir).record_fingerprint()
        path = tmp_path / "record.json"
        path.write_text(json.dumps(s.record, ensure_ascii=False), encoding="utf-8")
        verdict = verify_report.check_file(path, trusted=verify_report.registered_keys(a.data_dir))
        assert verdict.status == verify_report.PASSED, verdict.text
        assert fp.replace(" ", "") in verdict.text.replace(" ", "")
        pdf = tmp_path / "record.pdf"
        pdf.write_bytes(signed.data)
        verdict = verify_report.check_file(pdf, trusted=verify_report.registered_keys(a.data_dir))
        assert verdict.status == verify_report.PASSED, verdict.text
        assert check(a).ok and check(b).ok
        with a.read() as conn:  # `check` pins every record to the bureau key the server registers
            assert integrity._check_records(conn, KeyStore(a.data_dir).record_public_key_bytes())[1] == []
            found = integrity._check_records(conn, bytes(32))[1]
        assert found and all("服务器登记的本局密钥" in f.detail for f in found)
        assert not (tmp_path / "ws2" / "keys" / keys.RECORD_KEY_FILE).exists()
    finally:
        b.close()
        a.close()


def test_changing_the_passphrase_re_encrypts_in_one_journalled_step(
    pdb: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _vault(pdb)
    with pytest.raises(keyvault.WrongPassphrase):
        server_keys.change_passphrase(pdb, "wrong passphrase", "新的口令-2027-保险柜")
    with pytest.raises(UserError, match="至少"):
        server_keys.change_passphrase(pdb, TEST_KEY_PASSPHRASE, "short")
    server_keys.change_passphrase(pdb, TEST_KEY_PASSPHRASE, "新的口令-2027-保险柜")
    with pdb.read() as conn:
        text = str(pg.meta(conn, "key_vault"))
        bound = str(pg.meta(conn, "record_key"))
        last = conn.exec_driver_sql("SELECT action FROM journal ORDER BY id DESC LIMIT 1").scalar()
    assert last == server_keys.CHANGE_ACTION
    with pytest.raises(keyvault.WrongPassphrase):
        keyvault.decrypt(text, TEST_KEY_PASSPHRASE, bound)
    assert keyvault.decrypt(text, "新的口令-2027-保险柜", bound) == before
    # Signing now asks for the new one.
    monkeypatch.setenv("DSJ_KEY_PASSPHRASE", TEST_KEY_PASSPHRASE)
    with pytest.raises(keyvault.WrongPassphrase):
        KeyStore(pdb.data_dir).record_private_key()
    monkeypatch.setenv("DSJ_KEY_PASSPHRASE", "新的口令-2027-保险柜")
    assert KeyStore(pdb.data_dir).record_private_key()
    # A third workstation joins with the new passphrase.
    c = open_database(tmp_path / "ws3")
    c.close()
    assert check(pdb).ok


def test_only_an_administrator_changes_the_passphrase(pdb: Database) -> None:
    from dsj_desktop.services import accounts

    accounts.create_account(pdb, "admin", "管理员", "admin", "Qh7-Lantern-Moss")
    actor.set_current(actor.Actor("admin", "管理员", "admin"))
    try:
        accounts.create_account(pdb, "clerk", "录入员", "operator", "Zu4-Copper-Fern")
        actor.set_current(actor.Actor("clerk", "录入员", "operator"))
        with pytest.raises(UserError, match="只有管理员"):
            server_keys.change_passphrase(pdb, TEST_KEY_PASSPHRASE, "新的口令-2027-保险柜")
        actor.set_current(actor.Actor("admin", "管理员", "admin"))
        server_keys.change_passphrase(pdb, TEST_KEY_PASSPHRASE, "新的口令-2027-保险柜")
    finally:
        actor.set_current(None)


def test_a_folder_used_with_the_sqlite_file_uploads_its_keys(
    tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ws1"
    monkeypatch.delenv("DSJ_DATABASE_URL")
    with_file = open_database(folder)
    fp = KeyStore(folder).record_fingerprint()
    with_file.close()
    on_server = open_database(folder, url=server_url)
    try:
        assert KeyStore(folder).on_server
        assert KeyStore(folder).record_fingerprint() == fp  # the published fingerprint stays
        assert check(on_server).ok
    finally:
        on_server.close()
    # Back on the file: the folder's own keys again, untouched.
    assert not KeyStore(folder).on_server
    assert KeyStore(folder).record_fingerprint() == fp


def test_the_command_line_changes_the_passphrase(pdb: Database, server_url: str) -> None:
    import sys

    env = {**os.environ, "DSJ_DATA_DIR": str(pdb.data_dir), "DSJ_NEW_KEY_PASSPHRASE": "命令行的新口令-2027"}
    done = subprocess.run([sys.executable, "-m", "dsj_desktop", "key-passphrase"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "口令已更改" in done.stdout
    with pdb.read() as conn:
        text, bound = str(pg.meta(conn, "key_vault")), str(pg.meta(conn, "record_key"))
    assert set(keyvault.decrypt(text, "命令行的新口令-2027", bound)) == {"record", "pdf", "write"}
    env["DSJ_KEY_PASSPHRASE"] = "not the passphrase"
    done = subprocess.run([sys.executable, "-m", "dsj_desktop", "key-passphrase"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1 and "口令不正确" in done.stderr, done.stderr


def test_verify_with_the_data_folder_of_a_joined_workstation_knows_the_bureau_key(
    pdb: Database, tmp_path: Path
) -> None:
    b = open_database(tmp_path / "ws2")
    fp = KeyStore(b.data_dir).record_fingerprint()
    b.close()
    assert not KeyStore(tmp_path / "ws2").on_server
    assert fp in KeyStore(tmp_path / "ws2").registered_fingerprints()  # `verify --data-dir`, no database open


def test_a_forgotten_passphrase_is_reset_from_the_original_key_files(
    tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "draw-pc"  # used alone with its file first: its keys were uploaded
    monkeypatch.delenv("DSJ_DATABASE_URL")
    open_database(folder).close()
    other = tmp_path / "someone-else"
    open_database(other).close()
    KeyStore(other).ensure_pdf_certificate("别的应急管理局")
    db = open_database(folder, url=server_url)
    try:
        with pytest.raises(UserError, match="不是服务器登记的本局密钥"):
            server_keys.reset_from_folder(db, other, "忘了旧口令之后的新口令")
        server_keys.reset_from_folder(db, folder, "忘了旧口令之后的新口令")
        with db.read() as conn:
            text, bound = str(pg.meta(conn, "key_vault")), str(pg.meta(conn, "record_key"))
            last = conn.exec_driver_sql("SELECT action FROM journal ORDER BY id DESC LIMIT 1").scalar()
        assert last == server_keys.RESET_ACTION
        assert set(keyvault.decrypt(text, "忘了旧口令之后的新口令", bound)) == {"record", "pdf", "write"}
        with pytest.raises(keyvault.WrongPassphrase):
            keyvault.decrypt(text, TEST_KEY_PASSPHRASE, bound)
        assert check(db).ok
    finally:
        db.close()


def test_the_settings_command_says_where_the_keys_are(pdb: Database) -> None:
    import sys

    env = {**os.environ, "DSJ_DATA_DIR": str(pdb.data_dir)}
    done = subprocess.run([sys.executable, "-m", "dsj_desktop", "settings"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert KeyStore(pdb.data_dir).record_fingerprint() in done.stdout
    assert "加密保存在单位服务器上" in done.stdout
