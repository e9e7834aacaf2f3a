"""Making the program's database on the unit's server from 连接单位服务器, when the account may
(``CREATEDB``): the server administrator then only makes the account."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from dsj_desktop.db import pg

MAINTENANCE_DATABASES = ("postgres", "template1")


def _with_stored_password(url: str) -> str:
    if urlsplit(url).password is None:
        stored = pg.password_for(url)
        if stored:
            return pg.with_password(url, stored)
    return url


def _maintenance(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def may_create(url: str, timeout: int = 8) -> tuple[bool, str]:
    """Whether the account of *url* may create the database *url* names: (yes or no, why not in
    Chinese when not)."""
    import psycopg

    url = _with_stored_password(url)
    parts = urlsplit(url)
    user = parts.username or ""
    last = ""
    for name in MAINTENANCE_DATABASES:
        try:
            with pg.connect(_maintenance(url, name), connect_timeout=timeout) as con:
                row = con.execute(
                    "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
                ).fetchone()
        except psycopg.Error as exc:
            last = str(exc).strip()
            continue
        if row and row[0]:
            return True, ""
        return False, (
            f"用户“{user}”没有建立数据库的权限。请服务器管理员先建立这个数据库（例如 "
            f"createdb -O {user} {parts.path.lstrip('/')}），或给这个用户建库权限（ALTER ROLE {user} CREATEDB）。"
        )
    return False, f"无法确认用户“{user}”能否建立数据库（{last}）。请服务器管理员先建立这个数据库。"


def create(url: str, timeout: int = 8) -> None:
    """``CREATE DATABASE`` the database *url* names, owned by its account."""
    import psycopg
    from psycopg import sql

    url = _with_stored_password(url)
    dbname = urlsplit(url).path.lstrip("/")
    last: Exception | None = None
    for name in MAINTENANCE_DATABASES:
        try:
            with pg.connect(_maintenance(url, name), connect_timeout=timeout, autocommit=True) as con:
                con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
                return
        except psycopg.OperationalError as exc:
            last = exc
    assert last is not None
    raise last
