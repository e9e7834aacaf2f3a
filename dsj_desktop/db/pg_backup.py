"""Backups of a PostgreSQL database with the server's own tools (pg_dump / pg_restore, custom format).

The password, when the server needs one, reaches the tools only through their environment
(``PGPASSWORD`` from memory, or the user's ``~/.pgpass``): it is never written to disk."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from dsj_desktop.errors import DatabaseError


def tool(name: str) -> str:
    """pg_dump / pg_restore: on PATH, else the newest Debian server package's folder."""
    found = shutil.which(name)
    if found:
        return found
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        for d in sorted(root.iterdir(), key=lambda p: p.name, reverse=True):
            if (d / "bin" / name).exists():
                return str(d / "bin" / name)
    raise DatabaseError(
        f"找不到 PostgreSQL 的 {name} 程序：请安装 PostgreSQL 客户端工具（postgresql-client）。"
    )


def _run(cmd: list[str], password: str | None) -> None:
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise DatabaseError(f"{Path(cmd[0]).name} 失败：{done.stderr.strip()[-500:]}")


def dump(url: str, dest: Path, password: str | None = None) -> Path:
    """The whole database into *dest* (pg_dump's custom format), readable by its owner only."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    _run([tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}",
          f"--dbname={url}"], password)  # fmt: skip
    if os.name == "posix":
        os.chmod(dest, 0o600)
    return dest


def restore(url: str, src: Path, password: str | None = None) -> None:
    """Replace the database's content with the dump *src*, all or nothing (one transaction)."""
    _run([tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", f"--dbname={url}", str(src)], password)  # fmt: skip


def is_dump(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"PGDMP"


def database_url(url: str, name: str) -> str:
    """*url* naming database *name* instead."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _admin(url: str, sql: str) -> None:
    from dsj_desktop.db import pg

    with pg.connect(url, autocommit=True) as con:
        con.execute(sql)


@contextlib.contextmanager
def scratch_copy(url: str, src: Path) -> Iterator[str]:
    """The dump *src* restored into a temporary database on the same server (the account needs the
    CREATEDB privilege), for checking it completely before it counts; dropped afterwards."""
    name = f"dsj_verify_{secrets.token_hex(6)}"
    try:
        _admin(url, f'CREATE DATABASE "{name}"')
    except Exception as exc:
        raise DatabaseError(
            f"无法在服务器上建立临时数据库来核对备份（数据库账户需要 CREATEDB 权限）：{exc}"
        ) from None
    scratch = database_url(url, name)
    try:
        _run([tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
              f"--dbname={scratch}", str(src)], None)  # fmt: skip
        yield scratch
    finally:
        with contextlib.suppress(Exception):
            _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
