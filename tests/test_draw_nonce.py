"""The nonce N lives only in the running program's memory until the reveal (DSJ-DRAW-1 §3.4, amended).

Whoever can read N before the last witness speaks can steer the seed, so between prepare and the reveal
no file holds N: not the database, its WAL, a backup, a marker or lock file. A session whose program
stopped before the reveal ends void ("开奖前中断") and the next record lists it with
``nonce_revealed: false``. The reveal itself checks H(N) against the commitment stored at commit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.db.engine import Database
from dsj_desktop.draw.algorithm import commitment_of, new_nonce
from dsj_desktop.draw.record import RecordError, build_record, verify_record
from dsj_desktop.services import backup, sessions

ON = date(2026, 6, 1)
TASK = "RW-2026-04"
W1, W2 = ("企业代表", "3141592653"), ("纪检监督员", "2718281828")
HEX_RUN = re.compile(rb"[0-9a-fA-F]{32,}")


def tokens_hashing_to(data: bytes, commitment: str) -> list[str]:
    """Every way N could sit in *data*: 32 hex characters (any case, inside longer hex runs too, or
    as UTF-16), or its 16 raw bytes anywhere. Returns those whose SHA-256 is *commitment*."""
    found: set[str] = set()
    for blob in (data, data.replace(b"\x00", b"")):  # UTF-16 text without its zero bytes
        for m in HEX_RUN.finditer(blob):
            run = m.group().lower()
            for i in range(len(run) - 31):
                token = run[i : i + 32]
                if hashlib.sha256(token).hexdigest() == commitment:
                    found.add(token.decode())
    raw = data
    for i in range(len(raw) - 15):
        token = raw[i : i + 16].hex().encode()
        if hashlib.sha256(token).hexdigest() == commitment:
            found.add(token.decode())
    return sorted(found)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def scan(folder: Path, commitment: str) -> dict[str, list[str]]:
    hits = {}
    for path in files_under(folder):
        found = tokens_hashing_to(path.read_bytes(), commitment)
        if found:
            hits[str(path.relative_to(folder))] = found
    return hits


def committed_session(db: Database) -> sessions.Session:
    s = sessions.commit(
        db, sessions.prepare(db, TASK, on=ON, place="会议室", operator="张明").id, operator="张明"
    )
    s = sessions.fix_witnesses(db, s.id, operator="张明")
    return sessions.add_witness(db, s.id, *W1, operator="张明")


def test_the_scanner_finds_a_nonce_however_it_is_stored() -> None:
    """The search below is only worth something if it finds N in every form a file could hold it."""
    nonce = new_nonce()
    c = commitment_of(nonce)
    for data in (
        b"xx" + nonce.encode() + b"yy",
        b"abc123" + nonce.upper().encode() + b"def",  # inside a longer hex run, upper case
        nonce.encode("utf-16-le"),
        b"\x01\x02" + bytes.fromhex(nonce) + b"\x03",
    ):
        assert tokens_hashing_to(data, c) == [nonce]
    assert tokens_hashing_to(b"0" * 200, c) == []


def test_no_file_holds_the_nonce_between_commit_and_reveal(demo_db: Database, data_dir: Path) -> None:
    s = committed_session(demo_db)
    nonce = sessions._LIVE[s.id].setup.nonce
    assert commitment_of(nonce) == s.commitment and s.nonce == ""
    backup.auto_backup(demo_db, "during-draw")
    (data_dir.parent / "usb").mkdir()
    manual = backup.backup_to_folder(demo_db, data_dir.parent / "usb")
    if not demo_db.on_server:  # on a server the data folder holds the keys, the anchor and the backups
        assert (data_dir / "dsj.sqlite3-wal").exists() or any(data_dir.glob("*-wal"))  # WAL scanned as well
    assert scan(data_dir, s.commitment) == {}
    assert scan(manual.path.parent, s.commitment) == {}
    with demo_db.read() as conn:
        row = conn.exec_driver_sql("SELECT nonce FROM draw_session WHERE id = ?", (s.id,)).scalar_one()
        events = json.dumps(sessions.events(conn, s.id), ensure_ascii=False)
        journal = json.dumps(
            [list(r) for r in conn.exec_driver_sql("SELECT * FROM journal")], ensure_ascii=False
        )
    assert row == "" and nonce not in events and nonce not in journal
    assert nonce not in repr(sessions._LIVE[s.id]) and nonce not in repr(s)
    # The control: once revealed, N is public and the same search finds it in the data folder.
    s = sessions.add_witness(demo_db, s.id, *W2)
    s = sessions.do_reveal(demo_db, s.id)
    assert s.nonce == nonce and not sessions.is_live(s.id)
    if demo_db.on_server:  # the data are on the server: it is in the database now
        assert demo_db.scalar("SELECT nonce FROM draw_session WHERE id = :i", {"i": s.id}) == nonce
    else:
        assert scan(data_dir, s.commitment)


CHILD = textwrap.dedent(
    """
    import sys
    from datetime import date
    from pathlib import Path
    from dsj_desktop.db.engine import open_database
    from dsj_desktop.services import sessions

    db = open_database(Path(sys.argv[1]))
    s = sessions.prepare(db, sys.argv[2], on=date(2026, 6, 1), operator="张明")
    s = sessions.commit(db, s.id, operator="张明")
    s = sessions.fix_witnesses(db, s.id)
    s = sessions.add_witness(db, s.id, "企业代表", "3141592653")
    print(s.id, flush=True)
    if sys.argv[3] == "wait":
        sys.stdin.readline()  # alive, holding N, until the parent says
    db.close()
    """
)


def run_child(data_dir: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), TASK, mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
    )  # fmt: skip


def test_a_session_whose_program_stopped_before_the_reveal_ends_void(
    demo_db: Database, data_dir: Path
) -> None:
    child = run_child(data_dir, "exit")
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    sid = out.split()[-1]
    s = sessions.get_session(demo_db, sid)
    assert s.status == sessions.COMMITTED and s.nonce == "" and sessions.is_interrupted(demo_db, s)
    listed = subprocess.run([sys.executable, "-m", "dsj_desktop", "--data-dir", str(data_dir), "sessions", TASK],
                            capture_output=True, text=True, encoding="utf-8", timeout=120)  # fmt: skip
    assert f"{sid}" in listed.stdout and "开奖前中断" in listed.stdout
    with pytest.raises(sessions.DrawError, match="开奖前中断"):
        sessions.add_witness(demo_db, sid, *W2)
    s = sessions.get_session(demo_db, sid)
    assert s.status == sessions.VOIDED and s.void_reason == sessions.INTERRUPTED == "开奖前中断"
    rec = s.record
    assert rec is not None and rec["nonce"] is None and rec["seed"] is None and rec["selected"] == []
    assert rec["commitment"] == s.commitment and rec["witnesses"] == [{"name": W1[0], "digits": W1[1]}]
    assert verify_record(rec).ok
    # The next session lists it, with nonce_revealed false.
    nxt = sessions.commit(demo_db, sessions.prepare(demo_db, TASK, on=ON).id)
    assert nxt.inputs["previous"] == [
        {"session": sid, "status": "voided", "reason": "开奖前中断", "commitment": s.commitment,
         "nonce_revealed": False}
    ]  # fmt: skip
    for w in (W1, W2):
        nxt = sessions.add_witness(demo_db, nxt.id, *w)
    nxt = sessions.confirm(demo_db, sessions.do_reveal(demo_db, nxt.id).id)
    assert nxt.record is not None and nxt.record["previous"][0]["nonce_revealed"] is False
    assert verify_record(nxt.record).ok


def test_preparing_again_voids_an_interrupted_session_first(demo_db: Database, data_dir: Path) -> None:
    child = run_child(data_dir, "exit")
    sid = child.communicate(timeout=120)[0].split()[-1]
    nxt = sessions.prepare(demo_db, TASK, on=ON)
    first = sessions.get_session(demo_db, sid)
    assert first.status == sessions.VOIDED and first.void_reason == sessions.INTERRUPTED
    assert nxt.inputs["previous"][0]["nonce_revealed"] is False


def test_a_session_running_in_another_program_is_left_alone(demo_db: Database, data_dir: Path) -> None:
    child = run_child(data_dir, "wait")
    try:
        assert child.stdout is not None
        sid = child.stdout.readline().strip()
        s = sessions.get_session(demo_db, sid)
        assert not sessions.is_interrupted(demo_db, s)
        with pytest.raises(sessions.DrawError, match="另一个已打开的本程序"):
            sessions.do_reveal(demo_db, sid)
        with pytest.raises(sessions.DrawError, match="已有进行中的抽取场次"):
            sessions.prepare(demo_db, TASK, on=ON)
        assert sessions.get_session(demo_db, sid).status == sessions.COMMITTED
    finally:
        child.communicate("\n", timeout=120)
    assert sessions.is_interrupted(demo_db, sessions.get_session(demo_db, sid))  # its program has ended


def test_the_reveal_refuses_a_nonce_that_does_not_match_the_commitment(demo_db: Database) -> None:
    s = committed_session(demo_db)
    s = sessions.add_witness(demo_db, s.id, *W2)
    live = sessions._LIVE[s.id]
    live.setup = dataclasses.replace(live.setup, nonce=new_nonce())  # N swapped after the announcement
    with pytest.raises(sessions.DrawError, match="承诺值 C 不符"):
        sessions.do_reveal(demo_db, s.id)
    after = sessions.get_session(demo_db, s.id)
    assert after.status == sessions.COMMITTED and after.nonce == "" and after.seed == ""
    # The void still works, and never discloses the swapped nonce as if it were the announced one.
    voided = sessions.void(demo_db, s.id, "随机数与承诺值不符")
    assert voided.record is not None and voided.record["nonce"] is None and voided.nonce == ""
    assert voided.record["commitment"] == s.commitment and verify_record(voided.record).ok


def test_the_record_carries_the_commitment_as_announced(demo_db: Database) -> None:
    s = committed_session(demo_db)
    with demo_db.read() as conn:
        announced = next(e for e in sessions.events(conn, s.id) if e["kind"] == "commit")["detail"][
            "commitment"
        ]
    s = sessions.add_witness(demo_db, s.id, *W2)
    s = sessions.confirm(demo_db, sessions.do_reveal(demo_db, s.id).id)
    assert s.record is not None and s.record["commitment"] == announced == s.commitment
    # build_record takes the stored commitment: it never recomputes one from the nonce...
    setup = sessions._frozen_setup(s, new_nonce())
    other = "ab" * 32
    assert build_record(setup, status="voided", void_reason="测试", commitment=other)["commitment"] == other
    # ... and refuses a revealed nonce that does not hash to it.
    result = sessions._result(s)
    with pytest.raises(RecordError, match="承诺值 C 不符"):
        build_record(result, commitment=other)
    assert build_record(result, commitment=s.commitment)["commitment"] == s.commitment


def test_the_draw_screen_asks_for_fixed_digits_before_any_is_entered(demo_db: Database) -> None:
    s = sessions.commit(demo_db, sessions.prepare(demo_db, TASK, on=ON).id)
    with demo_db.read() as conn:
        assert not sessions.witnesses_fixed(conn, s.id)
    sessions.fix_witnesses(demo_db, s.id, operator="张明")
    sessions.fix_witnesses(demo_db, s.id, operator="张明")  # once is enough: one event
    with demo_db.read() as conn:
        assert sessions.witnesses_fixed(conn, s.id)
        assert [e["kind"] for e in sessions.events(conn, s.id)] == ["prepare", "commit", "witnesses_fixed"]


def test_the_draw_screen_closes_an_interrupted_session(demo_db: Database, data_dir: Path, qtbot: Any) -> None:
    from dsj_desktop.ui.draw.controller import DrawController
    from dsj_desktop.ui.draw.stage import CLOSED

    sid = run_child(data_dir, "exit").communicate(timeout=120)[0].split()[-1]
    c = DrawController(demo_db, sid)
    assert c.session.status == sessions.VOIDED and c.session.void_reason == sessions.INTERRUPTED
    assert c.step == CLOSED and c.session.record is not None and c.session.record["nonce"] is None
