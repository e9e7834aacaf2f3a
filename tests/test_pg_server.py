"""The tests' PostgreSQL server (tests/pg_server.py): two test sessions starting at the same moment
each get a server of their own, even when both chose the same free port."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests import pg_server
from tests.pg_server import PgServer, pg_bin_dir, start_server

pytestmark = pytest.mark.skipif(
    pg_bin_dir() is None and not os.environ.get("CI"), reason="no PostgreSQL server package installed"
)


def _together(n: int, use: Callable[[PgServer], Any]) -> list[Any]:
    """Start *n* servers at the same moment (one thread each); what *use* says of each, or the
    error that stopped one."""
    ready = threading.Barrier(n)
    results: list[Any] = [None] * n

    def one(i: int) -> None:
        try:
            ready.wait()
            with start_server() as server:
                results[i] = use(server)
                ready.wait()  # every server up at once before any stops
        except BaseException as exc:  # reported by the test
            results[i] = exc
            with contextlib.suppress(threading.BrokenBarrierError):
                ready.abort()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return results


def _own(server: PgServer) -> tuple[int, str]:
    """The port and the data folder of the server answering on *server*'s port."""
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as con:
        row = con.execute("SHOW data_directory").fetchone()
    assert row is not None
    return server.port, str(row[0])


def _expected(server: PgServer) -> str:
    return str(server.root / "data")


def test_two_servers_started_at_once_on_the_same_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both sessions find the same port free (the race, made certain): one server gets it, the
    other is started again on another port; each answers with its own data folder."""
    real = pg_server._free_port
    same = real()
    asked: list[int] = []
    lock = threading.Lock()

    def first_the_same() -> int:
        with lock:
            asked.append(1)
            return same if len(asked) <= 2 else real()

    monkeypatch.setattr(pg_server, "_free_port", first_the_same)
    results = _together(2, lambda s: (*_own(s), _expected(s)))
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    (port1, dir1, want1), (port2, dir2, want2) = results
    assert (dir1, dir2) == (want1, want2) and dir1 != dir2
    assert port1 != port2 and same in (port1, port2)
    assert len(asked) == 3  # the one that lost the port asked for another once


def test_servers_started_at_once_in_a_loop() -> None:
    for _ in range(int(os.environ.get("DSJ_PG_RACE_ROUNDS", "2"))):
        results = _together(2, lambda s: (*_own(s), _expected(s)))
        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, errors
        assert all(got == want for _port, got, want in results)
        assert results[0][0] != results[1][0]


def test_a_server_that_cannot_start_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port that stays taken: given up after a few attempts, with the server's own words."""
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.setattr(pg_server, "_free_port", lambda: port)
        monkeypatch.setattr(pg_server, "START_ATTEMPTS", 2)
        with pytest.raises(pg_server.PortTaken, match="Address already in use"), start_server():
            pass
