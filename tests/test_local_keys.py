"""A workstation joining a server on its first start opens the data folder's SQLite file first (the
first-run wizard runs on it), which makes the file and the folder's own signing keys. When nobody
used that file it is removed with the keys made for it (``engine.discard_unused``), never a file
that holds anything, nor keys that were there before. The SQLite file itself: no server needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsj_desktop import actor
from dsj_desktop.actor import ADMIN
from dsj_desktop.db import anchor
from dsj_desktop.db.engine import discard_unused, open_database
from dsj_desktop.keys import KeyStore
from dsj_desktop.services import accounts

pytestmark = pytest.mark.sqlite_only(
    "the data folder's own SQLite file and keys; server: test_ui_server joins"
)


def test_a_new_unused_file_goes_with_the_keys_made_for_it(tmp_path: Path) -> None:
    folder = tmp_path / "clerk-pc"
    db = open_database(folder)
    store = KeyStore(folder)
    assert store.record_key_path.is_file() and anchor.anchor_path(folder).is_file()
    assert discard_unused(db)
    assert not (folder / "dsj.sqlite3").exists()
    assert not store.record_key_path.exists() and not store.pdf_key_path.exists()
    assert not (folder / "keys").exists() and not anchor.anchor_path(folder).exists()
    # Used later after all (断开服务器): a new file and new keys, as on any first start.
    open_database(folder).close()
    assert store.record_key_path.is_file()
    existing = open_database(folder)
    try:
        assert not discard_unused(existing)  # an existing file is never "made here"
    finally:
        existing.close()


def test_a_file_someone_used_or_keys_that_were_there_stay(tmp_path: Path) -> None:
    folder = tmp_path / "draw-pc"
    db = open_database(folder)
    accounts.create_account(db, "admin", "管理员", ADMIN, "Qh7-Lantern-Moss")
    actor.set_current(None)
    assert not discard_unused(db)
    db.close()
    assert (folder / "dsj.sqlite3").is_file() and KeyStore(folder).record_key_path.is_file()
    # Keys in the folder before the file was made (copied by hand, restored) are not this opening's.
    other = tmp_path / "restored"
    (other / "keys").mkdir(parents=True)
    key = KeyStore(folder).record_key_path.read_bytes()
    (other / "keys" / "record-ed25519.key").write_bytes(key)
    fresh = open_database(other)
    assert discard_unused(fresh)
    assert not (other / "dsj.sqlite3").exists()
    assert (other / "keys" / "record-ed25519.key").read_bytes() == key
