"""A real PostgreSQL server for the tests, started by the test session itself.

``pytest --engine=postgres`` (or ``DSJ_TEST_ENGINE=postgres``) runs the same tests against
PostgreSQL: the ``data_dir`` fixture then also points ``DSJ_DATABASE_URL`` at a fresh database
of one server started once per test session (Debian's ``postgresql-15`` binaries, run as the
``postgres`` OS user when the tests run as root, in a private temporary folder with its own port
and socket; stopped at the end of the session). The default engine is SQLite.

The port is one found free just before the start; another test session starting at the same
moment may take it first (or a connection may use it as its local port): the server then fails to
bind it, and is started again on another port.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ENGINES = ("sqlite", "postgres")


def pg_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl (Debian keeps them off PATH)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        for d in sorted(root.iterdir(), key=lambda p: p.name, reverse=True):
            if (d / "bin" / "initdb").exists():
                return d / "bin"
    return None


START_ATTEMPTS = 8  # starts on a port another process took meanwhile, before giving up


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortTaken(RuntimeError):
    """The server could not listen on its port: another process holds it."""


def _port_taken(log_text: str) -> bool:
    return "could not bind" in log_text and "Address already in use" in log_text


@dataclass
class PgServer:
    """One running server: its port, its superuser, and fresh databases on demand."""

    root: Path
    bin_dir: Path
    port: int
    user: str = "postgres"

    _names = itertools.count(1)

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute(sql)  # type: ignore[arg-type]

    def create_database(self, template: str | None = None) -> str:
        name = f"dsj_test_{os.getpid()}_{next(self._names)}"
        self.admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_server_user(cmd: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *cmd] if owner else cmd


def _start(bin_dir: Path, data: Path, sock: Path, log: Path, owner: str | None) -> int:
    """Start the server of *data* on a free port and return the port; :class:`PortTaken` when
    another process took that port between the check and the server's bind."""
    port = _free_port()
    before = log.stat().st_size
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    opts += " -c full_page_writes=off -c max_connections=60"
    started = subprocess.run(
        _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "start"], owner),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    if started.returncode == 0:
        return port
    with log.open("rb") as f:
        f.seek(before)
        said = f.read().decode("utf-8", "replace")
    if _port_taken(said):
        raise PortTaken(f"port {port}: {said.strip()}")
    raise RuntimeError(f"PostgreSQL did not start (pg_ctl {started.returncode}): {started.stderr}\n{said}")


@contextlib.contextmanager
def start_server() -> Iterator[PgServer]:
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="dsj-pg-"))
    os.chmod(root, 0o755)  # mkdtemp makes it 0700: the server's user must reach its subfolders
    data, sock = root / "data", root / "sock"
    data.mkdir()
    sock.mkdir()
    owner = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    if owner:
        shutil.chown(data, owner, owner)
        shutil.chown(sock, owner, owner)
    log = root / "server.log"
    subprocess.run(
        _as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                         "-E", "UTF8", "--locale=C.UTF-8"], owner),
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    log.touch()
    if owner:
        shutil.chown(log, owner, owner)
    attempt = 1
    while True:
        try:
            port = _start(bin_dir, data, sock, log, owner)
            break
        except PortTaken:
            if attempt == START_ATTEMPTS:
                shutil.rmtree(root, ignore_errors=True)
                raise
            attempt += 1
        except RuntimeError:
            shutil.rmtree(root, ignore_errors=True)
            raise
    try:
        yield PgServer(root, bin_dir, port)
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
