"""Shared fixtures. Every test works in a temporary data folder: no test touches real user data.

The suite passes whatever the real date is: the demo the fixtures build is the 2026 one the tests are
written about, and a test acting "today" on it names its day (tests/demo_dates.py). To check, run the
suite under libfaketime at a date ahead (tests/test_dates.py runs the date-dependent part that way)::

    faketime '2027-12-28 10:00:00' .venv/bin/python -m pytest -q
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import hypothesis.internal.observability  # noqa: F401
import pytest

# hypothesis is imported here, at the start: otherwise its pytest plugin imports it at the end of a
# run that used none of its tests (for its summary), and there CPython 3.11.7 failed to compile it
# ("AST constructor recursion depth mismatch", seen with `--engine=postgres tests/test_import.py`).

# Before anything imports Qt: draw offscreen, and make an accidental default data folder harmless.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["DSJ_DATA_DIR"] = tempfile.mkdtemp(prefix="dsj-test-default-")
os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp(prefix="dsj-test-xdg-"))

from dsj_desktop import keyvault
from dsj_desktop.db import pg
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.demo import fill_demo
from dsj_desktop.progress import run_job
from tests.demo_dates import DEMO_YEAR
from tests.pg_server import ENGINES, PgServer, start_server

os.environ.pop("DSJ_DATABASE_URL", None)  # the engine is chosen per test below, never inherited
# The bureau's key passphrase of every server database a test makes (tests of asking it unset it).
os.environ["DSJ_KEY_PASSPHRASE"] = TEST_KEY_PASSPHRASE = "test-passphrase-本局"
keyvault.SCRYPT_N = 2**12  # a test's vaults open fast; the vault names its own parameters


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        choices=ENGINES,
        default=os.environ.get("DSJ_TEST_ENGINE", "sqlite"),
        help="database engine the tests run against (default: $DSJ_TEST_ENGINE or sqlite); "
        "postgres starts a PostgreSQL server for the session (tests/pg_server.py)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, skip the tests marked ``sqlite_only(reason)``: they work on the SQLite file
    itself (its triggers, journal file, -wal/-shm, sqlite_master); the reason says where the server's
    equivalent is tested, or why there is none."""
    if config.getoption("engine") != "postgres":
        return
    for item in items:
        mark = item.get_closest_marker("sqlite_only")
        if mark is not None:
            reason = mark.args[0] if mark.args else mark.kwargs.get("reason", "")
            assert reason, f"{item.nodeid}: sqlite_only needs a reason"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(scope="session")
def engine(pytestconfig: pytest.Config) -> str:
    """The engine of this test run: "sqlite" or "postgres"."""
    return str(pytestconfig.getoption("engine"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole test session (started on first use)."""
    with start_server() as server:
        yield server


@pytest.fixture
def server_url(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database on the session's server, named by ``DSJ_DATABASE_URL`` (the server tests)."""
    name = pg_server.create_database()
    url = pg_server.url(name)
    monkeypatch.setenv("DSJ_DATABASE_URL", url)
    yield url
    pg_server.drop_database(name)


@pytest.fixture
def pdb(tmp_path: Path, server_url: str) -> Iterator[Database]:
    """A first workstation (data folder ``ws1``) on :func:`server_url`."""
    database = open_database(tmp_path / "ws1")
    yield database
    database.close()


_FOLDER_DBS: dict[Path, str] = {}  # on PostgreSQL: each data folder a test opens has a database of its own


@pytest.fixture
def pg_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str | None]:
    """On PostgreSQL: a fresh database for this test, named by ``DSJ_DATABASE_URL``; None on SQLite.
    A further data folder the test opens in this process (a "fresh" folder, another PC) gets a fresh
    database of its own, as each folder has its own SQLite file."""
    if request.getfixturevalue("engine") != "postgres":
        yield None
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database(getattr(request, "param", None))
    url = server.url(name)
    monkeypatch.setenv("DSJ_DATABASE_URL", url)
    _FOLDER_DBS.clear()
    made: list[str] = []
    original = pg.resolve_url

    def per_folder(data_dir: Path, given: str | None = None) -> str | None:
        if given or not os.environ.get("DSJ_DATABASE_URL"):
            return original(data_dir, given)
        key = Path(data_dir).resolve()
        if key not in _FOLDER_DBS:
            if not _FOLDER_DBS:  # the test's own data folder: the database named by the environment
                _FOLDER_DBS[key] = os.environ["DSJ_DATABASE_URL"]
            else:
                made.append(server.create_database())
                _FOLDER_DBS[key] = server.url(made[-1])
        return _FOLDER_DBS[key]

    monkeypatch.setattr(pg, "resolve_url", per_folder)
    yield url
    _FOLDER_DBS.clear()
    for n in [name, *made]:
        server.drop_database(n)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_database: str | None) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("DSJ_DATA_DIR", str(d))
    if pg_database is not None:
        _FOLDER_DBS[d.resolve()] = pg_database
    return d


@pytest.fixture
def db(data_dir: Path) -> Iterator[Database]:
    database = open_database(data_dir)
    yield database
    database.close()


@pytest.fixture
def demo_db(db: Database) -> Database:
    """The demo county's directories and plan, without draws (tests make their own)."""
    run_job(fill_demo(db, draws=False, year=DEMO_YEAR))
    return db


@pytest.fixture
def demo_results_db(db: Database) -> Database:
    """The whole demo as a new user gets it: also two confirmed draws with some results."""
    run_job(fill_demo(db, year=DEMO_YEAR))
    return db


_DEMO_CACHE: dict[str, Path] = {}


def _demo_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, draws: bool, server: PgServer | None = None
) -> Path:
    """A copy of a demo data folder (built once per test session) with its keys: the journal's
    signatures and the row seals belong to the folder's key. On PostgreSQL the demo database is
    built once and each test gets a copy made from it as a template."""
    d = tmp_path / "demo-data"
    d.mkdir()
    key = f"src-{draws}-{'postgres' if server is not None else 'sqlite'}"
    if server is not None:
        if key not in _DEMO_CACHE:
            src = Path(tempfile.mkdtemp(prefix="dsj-demo-"))
            name = server.create_database()
            monkeypatch.setenv("DSJ_DATABASE_URL", server.url(name))
            database = open_database(src, url=server.url(name))
            run_job(fill_demo(database, draws=draws, year=DEMO_YEAR))
            database.close()
            (src / "pg-database").write_text(name)
            _DEMO_CACHE[key] = src
        src = _DEMO_CACHE[key]
        copy = server.create_database(template=(src / "pg-database").read_text())
        monkeypatch.setenv("DSJ_DATABASE_URL", server.url(copy))
        _FOLDER_DBS[d.resolve()] = server.url(copy)
        pg.save_url(d, server.url(copy))  # the folder is connected to its server (child processes too)
        shutil.copytree(src / "keys", d / "keys")
        shutil.copyfile(src / "journal-anchor.json", d / "journal-anchor.json")
        monkeypatch.setenv("DSJ_DATA_DIR", str(d))
        return d
    if key not in _DEMO_CACHE:
        src = Path(tempfile.mkdtemp(prefix="dsj-demo-"))
        database = open_database(src)
        run_job(fill_demo(database, draws=draws, year=DEMO_YEAR))
        database.backup_to(src / "snapshot.sqlite3")
        database.close()
        with sqlite3.connect(src / "snapshot.sqlite3") as con:  # a live data file, not a backup copy
            con.execute("PRAGMA journal_mode = WAL")
        con.close()
        _DEMO_CACHE[key] = src
    src = _DEMO_CACHE[key]
    shutil.copyfile(src / "snapshot.sqlite3", d / "dsj.sqlite3")
    shutil.copytree(src / "keys", d / "keys")
    shutil.copyfile(src / "journal-anchor.json", d / "journal-anchor.json")  # the journal's head, signed
    monkeypatch.setenv("DSJ_DATA_DIR", str(d))
    return d


def _server(request: pytest.FixtureRequest) -> PgServer | None:
    if request.getfixturevalue("engine") != "postgres":
        return None
    server: PgServer = request.getfixturevalue("pg_server")
    return server


@pytest.fixture
def demo_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, pg_database: str | None
) -> Path:
    """A data folder holding the demo county without draws (built once per test session, copied per test)."""
    return _demo_copy(tmp_path, monkeypatch, draws=False, server=_server(request))


@pytest.fixture
def demo_results_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, pg_database: str | None
) -> Path:
    """A data folder holding the whole demo, draws and results included."""
    return _demo_copy(tmp_path, monkeypatch, draws=True, server=_server(request))
