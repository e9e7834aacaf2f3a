"""A workstation that loses the network (cable pulled, Wi-Fi gone, the PC suspended) goes silent: no
FIN, no RST. Every program connection to the server carries keepalive and user-timeout settings on
both ends, so the server drops the vanished session (its transaction rolled back, the write lock and a
draw's live hold released) and the workstation's own call fails with a Chinese message instead of
hanging, both within about a minute (``pg.SILENT_PEER_S``).

The lost network itself is played in a private network namespace (tests/netloss_scenario.py), where
taking the loopback interface down silences TCP without a word; it is skipped where namespaces cannot
be made (not root, no ``unshare`` or ``ip``)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.db import pg
from dsj_desktop.db.engine import Database
from dsj_desktop.errors import DatabaseError
from tests.pg_server import pg_bin_dir
from tests.server_helpers import add_target

pytestmark = pytest.mark.skipif(
    pg_bin_dir() is None and not os.environ.get("CI"), reason="no PostgreSQL server package installed"
)
ROOT = Path(__file__).resolve().parents[1]
SERVER_SETTINGS = (
    "tcp_keepalives_idle",
    "tcp_keepalives_interval",
    "tcp_keepalives_count",
    "tcp_user_timeout",
)


def test_production_timings() -> None:
    assert (pg.SILENT_PEER_S, pg.KEEPALIVE_IDLE_S, pg.KEEPALIVE_INTERVAL_S, pg.KEEPALIVE_COUNT) == (
        60,
        30,
        10,
        3,
    )
    # A silent peer is given up after a minute either way: unanswered probes, or unacknowledged data.
    assert pg.KEEPALIVE_IDLE_S + pg.KEEPALIVE_COUNT * pg.KEEPALIVE_INTERVAL_S == pg.SILENT_PEER_S
    assert pg.connection_params("postgresql://u@h/db") == {
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": 60000,
    }
    assert pg.session_defaults() == {
        "tcp_keepalives_idle": "30",
        "tcp_keepalives_interval": "10",
        "tcp_keepalives_count": "3",
        "tcp_user_timeout": "60000",
    }
    own = pg.connection_params("postgresql://u@h/db?keepalives_idle=5&tcp_user_timeout=0")
    assert "keepalives_idle" not in own and "tcp_user_timeout" not in own and own["keepalives_count"] == 3


def _shown(dbapi: Any) -> dict[str, str]:
    with dbapi.cursor() as cur:
        return {name: str(cur.execute(f"SHOW {name}").fetchone()[0]) for name in SERVER_SETTINGS}


def _socket_options(dbapi: Any) -> tuple[int, int, int, int, int]:
    """The client socket's keepalive and user-timeout options, as the kernel holds them."""
    sock = socket.socket(fileno=os.dup(dbapi.pgconn.socket))
    try:
        tcp = socket.IPPROTO_TCP
        return (
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            sock.getsockopt(tcp, socket.TCP_KEEPIDLE),
            sock.getsockopt(tcp, socket.TCP_KEEPINTVL),
            sock.getsockopt(tcp, socket.TCP_KEEPCNT),
            sock.getsockopt(tcp, socket.TCP_USER_TIMEOUT),
        )
    finally:
        sock.close()


MINUTE = {"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3",
          "tcp_user_timeout": "60000"}  # fmt: skip


@pytest.mark.skipif(not hasattr(socket, "TCP_USER_TIMEOUT"), reason="Linux socket options")
def test_program_connections_carry_the_settings(pdb: Database, server_url: str) -> None:
    with pdb.read() as conn:  # a connection of the pool
        dbapi = conn.connection.driver_connection
        assert _shown(dbapi) == MINUTE
        assert _socket_options(dbapi) == (1, 30, 10, 3, 60000)
    con = pg.connect(server_url)  # a one-off connection (trying the server, creating its database)
    try:
        assert _shown(con) == MINUTE
        assert _socket_options(con) == (1, 30, 10, 3, 60000)
    finally:
        con.close()


@pytest.mark.skipif(not hasattr(socket, "TCP_USER_TIMEOUT"), reason="Linux socket options")
def test_a_url_s_own_values_win(server_url: str) -> None:
    url = server_url + "?keepalives_idle=5&tcp_user_timeout=7000&options=-c%20tcp_keepalives_idle%3D9"
    engine = pg.make_engine(url, lambda record: None)
    try:
        with engine.connect() as conn:
            dbapi = conn.connection.driver_connection
            assert _shown(dbapi) == {**MINUTE, "tcp_keepalives_idle": "9"}
            assert _socket_options(dbapi) == (1, 5, 10, 3, 7000)
    finally:
        engine.dispose()
    con = pg.connect(url)
    try:
        assert _shown(con) == {**MINUTE, "tcp_keepalives_idle": "9"}
        assert _socket_options(con) == (1, 5, 10, 3, 7000)
    finally:
        con.close()


def test_a_setting_the_server_does_not_know_is_skipped(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg, "session_defaults", lambda: {"no_such_setting": "1", "tcp_keepalives_count": "4"})
    con = pg.connect(server_url)
    try:
        assert _shown(con)["tcp_keepalives_count"] == "4"
    finally:
        con.close()


def test_a_write_kept_waiting_for_the_write_lock_says_so(
    server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from dsj_desktop.db.engine import open_database

    monkeypatch.setattr(pg, "LOCK_TIMEOUT", "1s")
    db = open_database(tmp_path / "ws1")
    try:
        with psycopg.connect(server_url) as other:  # another workstation in the middle of a write
            other.execute(f"SELECT pg_advisory_xact_lock({pg.WRITE_LOCK_KEY})")
            with pytest.raises(DatabaseError, match=r"其他电脑正在写入数据.*没有保存.*稍后重试"):
                add_target(db, "91110000100000005X", "等待公司")
        add_target(db, "91110000100000005X", "等待公司")  # the lock released: the write goes through
    finally:
        db.close()


def test_a_lost_connection_is_said_in_chinese_naming_the_server() -> None:
    said = pg.lost_message("postgresql://dsj@192.168.1.20:5433/dsj")
    assert "192.168.1.20:5433" in said and "连接中断" in said and "都没有保存" in said and "网络" in said
    # Lost at COMMIT, the outcome is not known: never claimed unsaved.
    said = pg.lost_message("postgresql://dsj@srv/dsj", committing=True)
    assert "srv:5432" in said and "可能已经完整保存" in said and "不会只保存一部分" in said
    assert pg.server_name("postgresql://dsj@/dsj?host=/run/postgresql") == "/run/postgresql:5432"


def test_a_connection_lost_at_commit_is_not_called_unsaved(pdb: Database) -> None:
    from sqlalchemy import event

    def cut(conn: Any) -> None:  # the connection breaks as the COMMIT is sent (whose outcome is unknown)
        conn.connection.driver_connection.close()

    event.listen(pdb.engine, "commit", cut)
    try:
        with pytest.raises(pg.ConnectionLost, match="可能已经完整保存"):
            add_target(pdb, "91110000100000006X", "提交时断网公司")
    finally:
        event.remove(pdb.engine, "commit", cut)
    # Lost before the COMMIT: nothing saved, and said so.
    with pytest.raises(pg.ConnectionLost, match="都没有保存"), pdb.write("断网") as conn:
        conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('lost', '1')")
        conn.connection.driver_connection.close()
        conn.exec_driver_sql("SELECT 1")
    add_target(pdb, "91110000100000007X", "之后公司")  # the pool connects again
    with pdb.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM setting WHERE key = 'lost'").scalar() == 0


def _namespaces_refused() -> str | None:
    """Why a private network namespace cannot be used here (None: it can)."""
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return f"no {tool} command"
    try:
        tried = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "down"],
                               capture_output=True, text=True, timeout=30)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare -n failed: {exc}"
    if tried.returncode != 0:
        return f"no private network namespace (root needed): {tried.stderr.strip()}"
    return None


def test_a_workstation_losing_the_network_mid_write_releases_everything(tmp_path: Path) -> None:
    """A (over TCP) holds a draw's live hold and is in the middle of a write, sending a long text, when
    its network goes silent; B (on the server's unix socket) then writes, sees the hold gone, and
    ``check`` passes with nothing of A's write; A's call fails with the Chinese message, not a hang."""
    refused = _namespaces_refused()
    if refused:
        pytest.skip(refused)
    result = tmp_path / "result.json"
    env = {**os.environ, "DSJ_DATA_DIR": str(tmp_path / "default")}
    env.pop("DSJ_DATABASE_URL", None)
    done = subprocess.run(["unshare", "-n", sys.executable, "-m", "tests.netloss_scenario", str(result)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0 and result.exists(), done.stdout + done.stderr
    seen = json.loads(result.read_text(encoding="utf-8"))
    assert seen["a_before"] == ["held", "inside"] and seen["a2_before"] == ["inside"], seen
    assert seen["live_before"] == "抽取室", seen  # (A's hold was there before the cut)
    assert seen["b_wrote"] is True, seen
    assert seen["live_after"] is None, seen
    for who in ("a", "a2"):
        last = seen[who][-1]
        assert last.startswith("raised ConnectionLost "), seen
        assert seen["server"] in last and "连接中断" in last and "都没有保存" in last and "网络" in last
    assert seen["a_rows"] == 0 and seen["notes"] == 0 and seen["b_rows"] == 1, seen
    assert seen["check_ok"], seen["check_text"]
