"""A workstation losing the network in the middle of a write, run inside a private network namespace
(``unshare -n``, see tests/test_pg_netloss.py): a server of its own (tests/pg_server.py) on
127.0.0.1 there and on its unix socket. Workstation A connects over TCP; cutting the namespace's
network (``ip link set lo down``) silences its connections without a FIN or RST, as a pulled cable or
a suspended PC does. Workstation B, on the unix socket, is not cut off.

``python -m tests.netloss_scenario FOLDER/RESULT.json`` (the orchestrator, as root inside the
namespace) keeps the workstations' data folders in FOLDER and writes what it saw to RESULT.json; ``python -m tests.netloss_scenario --workstation MODE URL DIR``
is one of A's processes. Every wait is bounded; the timing constants are lowered in every process
here (``FAST``), the production values are asserted by the unit tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dsj_desktop.db import pg

FAST = {"SILENT_PEER_S": 6, "KEEPALIVE_IDLE_S": 2, "KEEPALIVE_INTERVAL_S": 1, "KEEPALIVE_COUNT": 3}
SESSION = "S-NETLOSS-1"  # the draw session A keeps alive (the live hold needs no session row)
WAIT_S = 150  # the longest any step may take here (detection takes about FAST["SILENT_PEER_S"])
BIG = 48 * 1024 * 1024  # a text far larger than the sockets' buffers: send_all waits on the silent server


def _fast() -> None:
    for name, value in FAST.items():
        setattr(pg, name, value)


def _wait_for(path: Path, limit: float = WAIT_S) -> None:
    end = time.monotonic() + limit
    while not path.exists():
        if time.monotonic() > end:
            raise TimeoutError(f"{path.name} never appeared")
        time.sleep(0.05)


def workstation(mode: str, url: str, data_dir: Path) -> None:
    """Workstation A. ``write``: the draw's live hold, then a program write (the write lock held, a
    row inserted, a long text queued in pipeline mode as a draw's record is); once the network is cut,
    the write goes on sending it (``pg.send_all``). ``read``: a read transaction, and after the cut a
    plain statement. Prints what its call raised, in one line."""
    from dsj_desktop.db.engine import open_database

    _fast()
    cut = data_dir / "cut"
    db = open_database(data_dir, url=url)
    try:
        if mode == "write":
            hold = db.hold_live(SESSION)
            print("held" if hold is not None else "not-held", flush=True)
            with db.write("断网测试：写入") as conn:
                conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES (?, ?)", ("netloss-a", "A"))
                dbapi = conn.connection.driver_connection
                assert dbapi is not None
                with dbapi.pipeline():
                    # Queued: psycopg sends what the socket takes at once, the rest is send_all's.
                    dbapi.execute("SELECT length(%s)", ("x" * BIG,))
                    print("inside", flush=True)
                    _wait_for(cut)
                    pg.send_all(dbapi)
                conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES (?, ?)", ("netloss-a2", "A"))
        else:
            with db.read() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM setting").scalar()
                print("inside", flush=True)
                _wait_for(cut)
                conn.exec_driver_sql("SELECT count(*) FROM setting").scalar()
        print("finished", flush=True)
    except Exception as exc:
        print("raised", type(exc).__name__, str(exc).replace("\n", " "), flush=True)


def _spawn(mode: str, url: str, data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DSJ_DATA_DIR": str(data_dir), "DSJ_WORKSTATION": "抽取室"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.netloss_scenario", "--workstation", mode, url, str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip


def _line_with(p: subprocess.Popen[str], word: str) -> list[str]:
    assert p.stdout is not None
    seen = []
    while line := p.stdout.readline():
        seen.append(line.rstrip())
        if line.startswith(word):
            return seen
    raise RuntimeError(f"workstation ended before {word!r}: {seen}")


def orchestrate(result_path: Path) -> None:
    from dsj_desktop import keyvault
    from dsj_desktop.db.engine import open_database
    from tests.pg_server import start_server
    from tests.server_helpers import add_target, check

    _fast()
    keyvault.SCRYPT_N = 2**12  # (the vault names its parameters: A's processes open it as made)
    os.environ.setdefault("DSJ_KEY_PASSPHRASE", "test-passphrase-本局")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    out: dict[str, Any] = {}
    root = result_path.parent
    with start_server() as server:
        name = server.create_database()
        tcp = server.url(name)
        unix = f"postgresql://{server.user}@/{name}?host={server.root / 'sock'}&port={server.port}"
        ws_a, ws_a2, ws_b = root / "ws-a", root / "ws-a2", root / "ws-b"
        open_database(ws_a, url=tcp).close()  # the first workstation makes the database
        open_database(ws_a2, url=tcp).close()  # the others join it (with the key passphrase) first:
        b = open_database(ws_b, url=unix)  # nothing of theirs waits for A's write lock below
        reader = _spawn("read", tcp, ws_a2)
        writer: subprocess.Popen[str] | None = None
        try:
            out["a2_before"] = _line_with(reader, "inside")
            # A's send_all path: the URL keeps the kernel from giving up on unacknowledged data within
            # the test (its own tcp_user_timeout wins over the program's): only send_all's bound ends it.
            writer = _spawn("write", tcp + "?tcp_user_timeout=900000", ws_a)
            out["a_before"] = _line_with(writer, "inside")
            out["live_before"] = b.live_elsewhere(SESSION)
            subprocess.run(["ip", "link", "set", "lo", "down"], check=True)
            cut_at = time.monotonic()
            for d in (ws_a, ws_a2):
                (d / "cut").touch()
            # B: a write, retried while refused (the write lock still held), and the hold gone.
            refusals: list[str] = []
            while True:
                try:
                    add_target(b, "91110000100000004X", "断网后公司")
                    out["b_wrote"] = True
                    break
                except Exception as exc:  # (a refusal: DatabaseError, with the change)
                    refusals.append(f"{type(exc).__name__}: {exc}")
                    if time.monotonic() - cut_at > WAIT_S:
                        out["b_wrote"] = False
                        break
                    time.sleep(1)
            out["b_refusals"] = refusals
            while (held := b.live_elsewhere(SESSION)) is not None and time.monotonic() - cut_at < WAIT_S:
                time.sleep(0.5)
            out["live_after"] = held
            for key, p in (("a", writer), ("a2", reader)):
                assert p is not None
                try:
                    said, _ = p.communicate(timeout=max(1.0, WAIT_S - (time.monotonic() - cut_at)))
                    out[key] = said.strip().splitlines()
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.communicate()
                    out[key] = ["hung"]
            with b.read() as conn:
                out["a_rows"] = conn.exec_driver_sql(
                    "SELECT count(*) FROM setting WHERE key LIKE 'netloss-a%'"
                ).scalar_one()
                out["notes"] = conn.exec_driver_sql("SELECT count(*) FROM dsj_change").scalar_one()
                out["b_rows"] = conn.exec_driver_sql(
                    "SELECT count(*) FROM target WHERE uscc = '91110000100000004X'"
                ).scalar_one()
            report = check(b)
            out["check_ok"], out["check_text"] = report.ok, report.text()
            out["server"] = f"127.0.0.1:{server.port}"
        finally:
            for p in (writer, reader):
                if p is not None and p.poll() is None:
                    p.kill()
            b.close()
    result_path.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1] == "--workstation":
        workstation(sys.argv[2], sys.argv[3], Path(sys.argv[4]))
    else:
        orchestrate(Path(sys.argv[1]))
