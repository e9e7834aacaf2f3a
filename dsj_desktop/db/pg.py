"""The same program on a shared PostgreSQL server (``--database postgresql://…`` or
``DSJ_DATABASE_URL``). See docs/postgresql.md for the design; in short:

* The connection behaves like the SQLite one to the rest of the code: ``?`` and ``:name``
  placeholders are accepted (translated here), booleans are stored as 0/1 integers, dates are read
  back as ISO text, every data table has a ``rowid`` column (the ``id`` itself where there is one).
* Seals are computed in Python with the same key as on SQLite, over the row's canonical JSON text
  (``to_jsonb(row)::text``): the key never reaches the server. A plain PL/pgSQL trigger on every
  data table notes each changed row (with its previous JSON) in ``dsj_change``; the one write path
  (:func:`dsj_desktop.db.guard.flush`) checks the account's role for each noted row, seals it, writes
  the journal entry and removes the notes of its own transaction. A row changed behind the program's
  back (even with triggers lifted by ``session_replication_role = replica``) keeps a seal that no
  longer matches: ``check`` names it, as on SQLite.
* Every write transaction of the program first takes one transaction-level advisory lock: program
  writes are serialised as SQLite's ``BEGIN IMMEDIATE`` serialises them, so the journal stays one
  chain and the row counts it logs are exact, whichever workstation writes.
* Schema version and the bureau's record-key fingerprint live in ``dsj_meta``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from dsj_desktop.errors import DatabaseError

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy import Connection, Engine

URL_ENV = "DSJ_DATABASE_URL"
URL_FILE = "database-server.json"  # in the data folder: the server's URL, never with a password
WRITE_LOCK_KEY = 0x44534A31  # "DSJ1": the advisory lock every program write takes first
LOCK_TIMEOUT = "60s"  # a write waiting longer for another workstation's write is refused, not stuck
# A workstation that loses the network (cable pulled, Wi-Fi gone, the PC suspended) goes silent: no
# FIN, no RST. Left to the OS defaults the server would keep its session, open transaction and locks
# (the write lock, a draw's live hold) until TCP keepalive notices, after 2 h 11 min, and the program
# waiting for an answer would hang as long (~15 min of retransmissions when data were in flight). So
# both ends give up on a peer silent for about a minute (connection_params, session_defaults):
# keepalive probes after 30 s of silence, every 10 s, the third unanswered ends it (30 + 3 × 10 =
# 60 s); data unacknowledged for 60 s end it too (tcp_user_timeout). A Wi-Fi glitch of a few seconds
# is bridged by TCP's own retransmissions, far inside that minute, and a minute is LOCK_TIMEOUT: a
# write refused while a vanished workstation held the write lock goes through when tried again.
SILENT_PEER_S = 60  # a server or workstation silent this long is gone (also send_all's bound)
LIVE_RECHECK_S = SILENT_PEER_S / 2  # a draw's live hold answered this recently is not asked again
KEEPALIVE_IDLE_S = 30  # silence before the first keepalive probe
KEEPALIVE_INTERVAL_S = 10  # between probes
KEEPALIVE_COUNT = 3  # unanswered probes that end the connection
INTERNAL = frozenset(
    {"dsj_change", "dsj_meta", "dsj_workstation"}
)  # the program's own bookkeeping, never sealed
CAPTURE_FUNCTION = "dsj_capture"
KEEP_FUNCTION = "dsj_keep"

# --- the URL -------------------------------------------------------------------------------


def is_server_url(url: str | None) -> bool:
    return bool(url) and str(url).split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (
        (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    )
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def saved_url(data_dir: Path) -> str | None:
    try:
        data = json.loads((data_dir / URL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = data.get("url") if isinstance(data, dict) else None
    return str(url) if is_server_url(url) else None


def save_url(data_dir: Path, url: str) -> None:
    """Remember the server for this data folder (the password is never written)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / URL_FILE).write_text(json.dumps({"url": without_password(url)}), encoding="utf-8")


def resolve_url(data_dir: Path, url: str | None = None) -> str | None:
    """The server to use: *url*, else ``DSJ_DATABASE_URL``, else the data folder's saved server;
    None: the SQLite file in the data folder."""
    for candidate in (url, os.environ.get(URL_ENV), saved_url(data_dir)):
        if candidate:
            if not is_server_url(candidate):
                raise DatabaseError(f"数据库地址“{without_password(candidate)}”不是 postgresql:// 地址。")
            return candidate
    return None


def password_for(url: str) -> str | None:
    """A password the URL lacks: the OS credential store (``keyring``, where installed), else a prompt
    on a terminal. libpq itself also reads ``PGPASSWORD`` and ``~/.pgpass``. Never written anywhere."""
    if urlsplit(url).password is not None:
        return None
    try:
        import keyring

        found = keyring.get_password("dsj-desktop", without_password(url))
        if found:
            return str(found)
    except Exception:
        pass
    return None


def forget_url(data_dir: Path) -> None:
    """Back to the SQLite file of the data folder: the saved server is forgotten (and the
    ``DSJ_DATABASE_URL`` of this process, which ``--database`` sets)."""
    (data_dir / URL_FILE).unlink(missing_ok=True)
    os.environ.pop(URL_ENV, None)


def keyring_available() -> bool:
    """Whether the OS credential store can be used (the ``keyring`` package is installed)."""
    try:
        import keyring  # noqa: F401
    except Exception:
        return False
    return True


def store_password(url: str, password: str) -> None:
    """Keep *password* for *url* in the OS credential store (never in a file of the program)."""
    import keyring

    keyring.set_password("dsj-desktop", without_password(url), password)


def with_password(url: str, password: str) -> str:
    """*url* carrying *password* (for this run's connections only; never saved)."""
    from urllib.parse import quote

    parts = urlsplit(without_password(url))
    user = parts.username or ""  # as written in the URL (already percent-encoded)
    netloc = f"{user}:{quote(password, safe='')}@" + parts.netloc.split("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def prompt_password(url: str) -> str | None:
    """Ask for the password the server wants: through :data:`password_prompt` when a front end set
    one (the GUI asks in a dialog), else on the terminal. None: nobody to ask, or no answer."""
    if password_prompt is not None:
        return password_prompt(without_password(url))
    import sys

    if not sys.stdin or not sys.stdin.isatty():
        return None
    import getpass

    return getpass.getpass(f"数据库服务器 {without_password(url)} 的密码：")


# Set by a front end that has no terminal (ui/app.py): called with the URL without password, from
# whatever thread opens the connection; returns the password, or None when the user gave up.
password_prompt: Callable[[str], str | None] | None = None


# --- every connection: a silent peer is noticed -----------------------------------------------
# (idle_in_transaction_session_timeout is deliberately left as the server has it: a write can still
# wait on a person (the key passphrase, asked before a signing write takes the write lock, is asked
# inside it should the keys lock again in between), and a `check` or an import at city scale works
# between statements for minutes; a vanished workstation is caught by the settings below instead.)


def connection_params(url: str) -> dict[str, Any]:
    """libpq's parameters that make this workstation notice a silent server (SILENT_PEER_S), those the
    URL sets itself left out: the URL's own values win."""
    own = set(parse_qs(urlsplit(url).query))
    params: dict[str, Any] = {
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE_S,
        "keepalives_interval": KEEPALIVE_INTERVAL_S,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": SILENT_PEER_S * 1000,  # milliseconds
    }
    return {k: v for k, v in params.items() if k not in own}


def session_defaults() -> dict[str, str]:
    """The server's settings, for this session, that make it drop a workstation gone silent (its
    transaction rolled back, its locks released) after SILENT_PEER_S."""
    return {
        "tcp_keepalives_idle": str(KEEPALIVE_IDLE_S),
        "tcp_keepalives_interval": str(KEEPALIVE_INTERVAL_S),
        "tcp_keepalives_count": str(KEEPALIVE_COUNT),
        "tcp_user_timeout": str(SILENT_PEER_S * 1000),
    }


# Only settings the server knows (an older or odd server skips the others) and only where nobody chose
# a value: the server's default or its configuration file; one given in the URL (``options=-c …``),
# or by ALTER ROLE / DATABASE … SET, stands.
_SESSION_DEFAULTS_SQL = (
    "SELECT set_config(s.name, d.value, false) FROM pg_settings s "
    "JOIN unnest(%s::text[], %s::text[]) AS d(name, value) ON d.name = s.name "
    "WHERE s.source IN ('default', 'configuration file')"
)


def set_session_defaults(dbapi_conn: Any) -> None:
    """:func:`session_defaults` on a new psycopg connection (committed). A server that refuses them
    is used as it is."""
    import psycopg

    wanted = session_defaults()
    try:
        with dbapi_conn.cursor() as cur:
            cur.execute(_SESSION_DEFAULTS_SQL, (list(wanted), list(wanted.values())))
        dbapi_conn.commit()
    except psycopg.OperationalError:
        raise
    except psycopg.Error:
        dbapi_conn.rollback()


def connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A one-off psycopg connection (trying a server, creating its database) with the defaults of the
    pool's (:func:`connection_params`, :func:`set_session_defaults`); *kwargs* as psycopg.connect's."""
    import psycopg

    con = psycopg.connect(url, **{**connection_params(url), **kwargs})
    try:
        set_session_defaults(con)
    except BaseException:
        con.close()
        raise
    return con


def server_name(url: str) -> str:
    """The server of *url* as a person names it: host and port."""
    parts = urlsplit(url)
    host = parts.hostname or (parse_qs(parts.query).get("host") or ["localhost"])[0]
    return f"{host}:{parts.port or 5432}"


class ConnectionLost(DatabaseError):
    """The connection to the server broke during an operation (the network lost, the server gone)."""


def lost_message(url: str, committing: bool = False) -> str:
    where = server_name(url)
    if committing:
        return (
            f"与单位服务器 {where} 的连接在保存的最后一步中断了：这次操作可能已经完整保存，也可能完全没有保存"
            "（不会只保存一部分）。请检查本机的网络连接，网络恢复后先查看这次操作的结果，再决定是否重做。"
        )
    return (
        f"与单位服务器 {where} 的连接中断了，这次操作的内容都没有保存。请检查本机的网络连接，网络恢复后重试。"
    )


# --- trying a server before using it ------------------------------------------------------

PROBE_READY = "ready"  # a dsj database the program can open
PROBE_EMPTY = "empty"  # reachable, but no dsj database yet (open_database creates the schema)
PROBE_FOREIGN = "foreign"  # reachable, holds other tables: not a database of this program
PROBE_NEWER = "newer"  # written by a newer program: refused
PROBE_PASSWORD = "password"  # wrong or missing password
PROBE_NO_DATABASE = "no-database"  # the server has no database of that name
PROBE_UNREACHABLE = "unreachable"  # no server answers at that address and port
PROBE_FAILED = "failed"  # anything else the server said


def probe(url: str, latest: int, timeout: int = 8) -> tuple[str, str]:
    """Try the server at *url* without changing anything: ``(PROBE_…, the server's answer in
    Chinese)``. *latest* is the schema version this program writes."""
    import psycopg

    shown = without_password(url)
    parts = urlsplit(url)
    where = server_name(url)
    dbname = parts.path.lstrip("/") or (parts.username or "")
    if parts.password is None:
        stored = password_for(url)  # the OS credential store
        if stored:
            url = with_password(url, stored)
    try:
        con = connect(url, connect_timeout=timeout, application_name=workstation_tag())
    except psycopg.OperationalError as exc:
        text = str(exc)
        state = getattr(exc, "sqlstate", None)
        if state in ("28P01",) or "password" in text:
            return (
                PROBE_PASSWORD,
                f"服务器 {where} 拒绝了用户“{parts.username or ''}”的密码：密码不对，或没有输入密码。",
            )
        if state == "3D000" or ("database" in text and "does not exist" in text):
            return PROBE_NO_DATABASE, (
                f"服务器 {where} 可以连接，但上面没有名为“{dbname}”的数据库。请检查数据库名，"
                "或请服务器管理员先建立这个数据库（见使用说明“六”）。"
            )
        if state == "28000" or "no pg_hba.conf entry" in text or "role" in text:
            return PROBE_FAILED, f"服务器 {where} 不允许这个用户从本机连接：{text.strip()}"
        return PROBE_UNREACHABLE, (
            f"连接不上服务器 {where}：请检查服务器地址和端口、网络，以及服务器是否已开机运行。"
            f"\n（{text.strip()}）"
        )
    except Exception as exc:  # a malformed address
        return PROBE_FAILED, f"无法连接“{shown}”：{exc}"
    try:
        with con:
            version_text = con.execute("SHOW server_version").fetchone()
            server_version = str(version_text[0]) if version_text else ""
            has_meta = con.execute("SELECT to_regclass('dsj_meta') IS NOT NULL").fetchone()
            if has_meta and has_meta[0]:
                row = con.execute("SELECT value FROM dsj_meta WHERE key = 'schema_version'").fetchone()
                version = int(row[0]) if row else 0
            else:
                version = 0
            tables = con.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')"
            ).fetchone()
            count = int(tables[0]) if tables else 0
    except psycopg.Error as exc:
        return PROBE_FAILED, f"服务器 {where} 的数据库“{dbname}”可以连接，但查询时出错：{exc}"
    head = f"已连接服务器 {where}（PostgreSQL {server_version}），数据库“{dbname}”"
    if version > latest:
        return PROBE_NEWER, (
            f"{head}由较新版本的程序写入（数据库版本 {version}），本程序只支持到版本 {latest}。"
            "为保护数据，程序不会使用它；请先安装新版本的程序。"
        )
    if version:
        return PROBE_READY, f"{head}：连接正常，是本程序的数据库（数据库版本 {version}）。"
    if count:
        return PROBE_FOREIGN, (
            f"{head}里已有其他表格，不是本程序的数据库。为避免弄乱其他系统的数据，请换一个数据库名，"
            "或请服务器管理员新建一个空数据库。"
        )
    return PROBE_EMPTY, (
        f"{head}：连接正常，但还不是本程序的数据库（空数据库）。连接后程序会在其中建立数据表，"
        "并进入首次使用向导。"
    )


# --- the connection ----------------------------------------------------------------------------

_OR_IGNORE = re.compile(r"(\s*)INSERT\s+OR\s+IGNORE\s+INTO", re.I)
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|(?<![:\w]):([A-Za-z_]\w*)|\?", re.S)


def translate(sql: str, params: Any) -> str:
    """SQLite-style placeholders (``?``, ``:name``) to psycopg's (``%s``, ``%(name)s``); a literal
    ``%`` doubled. Statements already in psycopg's style are left alone."""
    if _OR_IGNORE.match(sql) and "RETURNING" not in sql.upper():  # SQLite's INSERT OR IGNORE
        sql = _OR_IGNORE.sub(r"\1INSERT INTO", sql, count=1).rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    if params is None:
        return sql
    named = isinstance(params, Mapping)
    if (named and "%(" in sql) or (not named and "%s" in sql):
        return sql
    sql = sql.replace("%", "%%")

    def sub(m: re.Match[str]) -> str:
        text = m.group(0)
        if text == "?":
            return "%s"
        if m.group(1) is not None:
            return f"%({m.group(1)})s"
        return text

    return _TOKEN.sub(sub, sql)


_INSERT = re.compile(r'\s*INSERT\s+INTO\s+"?(\w+)"?', re.I)


class Utf8Text:
    """A text parameter given as its UTF-8 bytes (a signed record's 10 MB): sent to the server as text
    without being decoded and encoded again (nor copied)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def _adapt(dbapi_conn: Any) -> None:
    import psycopg
    from psycopg.adapt import Dumper
    from psycopg.types.string import TextLoader

    class BoolAsInt(Dumper):
        oid = psycopg.postgres.types["int2"].oid

        def dump(self, obj: Any) -> bytes:
            return b"1" if obj else b"0"

    class DateAsText(Dumper):  # dates go in as ISO text, as sqlite3 sends them
        oid = 0

        def dump(self, obj: Any) -> bytes:
            return str(obj.isoformat()).encode()

    from datetime import date

    class Utf8AsText(Dumper):  # a text given as its UTF-8 (Utf8Text): sent as it is
        oid = psycopg.postgres.types["text"].oid

        def dump(self, obj: Any) -> bytes:
            return bytes(obj.data)

    dbapi_conn.adapters.register_dumper(bool, BoolAsInt)
    dbapi_conn.adapters.register_dumper(date, DateAsText)
    dbapi_conn.adapters.register_dumper(Utf8Text, Utf8AsText)
    dbapi_conn.adapters.register_loader("date", TextLoader)  # read back as ISO text, as from SQLite


def _cursor_class() -> Any:
    import psycopg

    class Cursor(psycopg.Cursor[Any]):
        """Accepts SQLite-style placeholders; ``lastrowid`` is the id an INSERT just drew."""

        _inserted_into: str | None = None

        def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:
            if isinstance(query, str):
                query = translate(query, params)
                m = _INSERT.match(query)
                self._inserted_into = m.group(1) if m else None
            return super().execute(query, params, **kw)

        def executemany(self, query: Any, params_seq: Any, **kw: Any) -> None:
            if isinstance(query, str):
                params_seq = list(params_seq)
                query = translate(query, params_seq[0] if params_seq else ())
            self._inserted_into = None
            super().executemany(query, params_seq, **kw)

        @property
        def lastrowid(self) -> int | None:
            """The ``id`` the last INSERT drew from its table's sequence (as sqlite3's lastrowid)."""
            if not self._inserted_into:
                return None
            row = self.connection.execute(
                "SELECT currval(pg_get_serial_sequence(%s, 'id'))", (self._inserted_into,)
            ).fetchone()
            return int(row[0]) if row else None

    return Cursor


_COMMITTING = "dsj_committing"  # in a connection's info from its COMMIT to the next BEGIN


def make_engine(url: str, on_connect: Callable[[Any], None]) -> Engine:
    """The engine over the server at *url*; *on_connect* gets each new pool record (the engine
    module puts its per-connection state there)."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    sa_url = make_url(url).set(drivername="postgresql+psycopg")
    connect_args: dict[str, Any] = {"cursor_factory": _cursor_class(), "application_name": workstation_tag()}
    connect_args.update(connection_params(url))
    password = password_for(url)
    if password:
        connect_args["password"] = password
    engine = create_engine(sa_url, connect_args=connect_args, pool_pre_ping=True)

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        import psycopg

        if "password" in connect_args:  # typed for an earlier connection (SQLAlchemy copies cparams)
            cparams["password"] = connect_args["password"]
        try:
            return dialect.loaded_dbapi.connect(*cargs, **cparams)
        except psycopg.OperationalError as exc:
            if "password" not in str(exc) or "password" in cparams:
                raise
            typed = prompt_password(url)
            if not typed:
                raise
            cparams["password"] = typed  # kept in memory for the pool's later connections only
            connect_args["password"] = typed
            return dialect.loaded_dbapi.connect(*cargs, **cparams)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn: Any, record: Any) -> None:
        _adapt(dbapi_conn)
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            cur.execute("SET TimeZone = 'UTC'")
            cur.execute("SET DateStyle = 'ISO, YMD'")
            # Long texts (a draw's 7 MB frozen inputs, its signed record) compressed with LZ4 where the
            # server has it: stored some three times faster than with the default pglz (the value read
            # back is the same; each stored value names its own method).
            cur.execute(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
            )
            found = cur.fetchone()
            if found and found[0]:
                cur.execute("SET default_toast_compression = 'lz4'")
        dbapi_conn.commit()
        set_session_defaults(dbapi_conn)
        on_connect(record)

    @event.listens_for(engine, "commit")
    def _committing(conn: Connection) -> None:
        conn.info[_COMMITTING] = True  # (a connection lost now may have committed: see _lost)

    @event.listens_for(engine, "handle_error")
    def _lost(ctx: Any) -> BaseException | None:
        """A connection lost during an operation, or a write that waited LOCK_TIMEOUT in vain: said in
        Chinese (a DatabaseError); the pool's own check of an idle connection is left alone."""
        if ctx.is_pre_ping or ctx.connection is None:
            return None
        if ctx.is_disconnect:
            try:
                committing = ctx.statement is None and bool(ctx.connection.info.get(_COMMITTING))
            except Exception:
                committing = False
            return ConnectionLost(lost_message(url, committing))
        if getattr(ctx.original_exception, "sqlstate", None) == "55P03":  # lock_not_available
            return DatabaseError(
                f"其他电脑正在写入数据，本机等了 {LOCK_TIMEOUT.removesuffix('s')} 秒仍未轮到，"
                "这次操作没有保存。请稍后重试。"
            )  # (lock_timeout: the write lock, or a table another workstation is using)
        return None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.info.pop(_COMMITTING, None)  # (this connection's last COMMIT is over)
        if conn.get_execution_options().get("dsj_write"):
            # One program writer at a time (SQLite's BEGIN IMMEDIATE): one journal chain, exact counts.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        else:
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # a snapshot

    return engine


def is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


# --- the schema ----------------------------------------------------------------------------


def table_names(conn: Connection) -> list[str]:
    return [
        str(r[0])
        for r in conn.exec_driver_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]


def table_columns(conn: Connection, table: str) -> list[str]:
    """The table's columns on either engine (on a server without the ``rowid`` added there)."""
    if is_pg(conn):
        return columns(conn, table)
    return [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info('{table}')")]


def columns(conn: Connection, table: str) -> list[str]:
    """The table's columns as the program defines them (the ``rowid`` column added here excluded)."""
    return [
        str(r[0])
        for r in conn.exec_driver_sql(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND column_name <> 'rowid' ORDER BY ordinal_position",
            (table,),
        )
    ]


def meta(conn: Connection, key: str) -> str | None:
    if not conn.exec_driver_sql("SELECT to_regclass('dsj_meta') IS NOT NULL").scalar():
        return None
    row = conn.exec_driver_sql("SELECT value FROM dsj_meta WHERE key = %s", (key,)).first()
    return None if row is None else str(row[0])


def set_meta(conn: Connection, key: str, value: str) -> None:
    conn.exec_driver_sql(
        "INSERT INTO dsj_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def schema_version(conn: Connection) -> int:
    return int(meta(conn, "schema_version") or 0)


def create_schema(conn: Connection) -> None:
    """The SQLModel tables as SQLite holds them (booleans as 0/1 integers), each with a ``rowid``, and
    the program's bookkeeping tables."""
    from sqlalchemy import Boolean
    from sqlalchemy.ext.compiler import compiles
    from sqlmodel import SQLModel

    @compiles(Boolean, "postgresql")
    def _bool_as_int(type_: Any, compiler: Any, **kw: Any) -> str:
        return "INTEGER"

    SQLModel.metadata.create_all(conn)
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS dsj_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS dsj_change (tx BIGINT NOT NULL, n BIGSERIAL PRIMARY KEY, "
        "tbl TEXT NOT NULL, op CHAR(1) NOT NULL, row_id BIGINT NOT NULL, old_row TEXT)"
    )
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_dsj_change_tx ON dsj_change (tx)")
    conn.exec_driver_sql(WORKSTATION_TABLE)
    for table in SQLModel.metadata.tables:
        add_rowid(conn, table)
    for sql in COMPAT_FUNCTIONS:
        conn.exec_driver_sql(sql)


# SQLite's functions that the program's queries use, under the same names (the queries stay one text).
COMPAT_FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION json_array_length(text) RETURNS integer LANGUAGE sql IMMUTABLE "
    "AS $$ SELECT json_array_length($1::json) $$",
    "CREATE OR REPLACE FUNCTION json_extract(text, text) RETURNS text LANGUAGE sql IMMUTABLE "
    "AS $$ SELECT $1::jsonb #>> string_to_array(substr($2, 3), '.') $$",
    "CREATE OR REPLACE AGGREGATE total(double precision) (sfunc = float8pl, stype = float8, initcond = '0')",
    "CREATE OR REPLACE FUNCTION dsj_group_concat_step(text, text) RETURNS text LANGUAGE sql IMMUTABLE "
    "AS $$ SELECT CASE WHEN $2 IS NULL THEN $1 WHEN $1 IS NULL THEN $2 ELSE $1 || ',' || $2 END $$",
    "CREATE OR REPLACE AGGREGATE group_concat(text) (sfunc = dsj_group_concat_step, stype = text)",
    "CREATE OR REPLACE FUNCTION ifnull(anyelement, anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE "
    "AS $$ SELECT coalesce($1, $2) $$",
)


def add_rowid(conn: Connection, table: str) -> None:
    """SQLite's rowid: the integer ``id`` where the table has one, else a number of its own."""
    cols = conn.exec_driver_sql(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s",
        (table,),
    ).fetchall()
    names = {str(c): str(t) for c, t in cols}
    if "rowid" in names:
        return
    if names.get("id") in ("integer", "bigint"):
        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN rowid BIGINT GENERATED ALWAYS AS (id) STORED')
    else:
        conn.exec_driver_sql(
            f'ALTER TABLE "{table}" ADD COLUMN rowid BIGINT GENERATED BY DEFAULT AS IDENTITY'
        )
    conn.exec_driver_sql(f'CREATE UNIQUE INDEX IF NOT EXISTS "ix_{table}_rowid" ON "{table}" (rowid)')


# --- triggers ------------------------------------------------------------------------------------

CAPTURE_SQL = (
    f"CREATE OR REPLACE FUNCTION {CAPTURE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF TG_OP = 'INSERT' THEN\n"
    "    INSERT INTO dsj_change (tx, tbl, op, row_id) VALUES (txid_current(), TG_TABLE_NAME, 'I', NEW.rowid);\n"
    "  ELSIF TG_OP = 'UPDATE' THEN\n"
    "    INSERT INTO dsj_change (tx, tbl, op, row_id, old_row)\n"
    "      VALUES (txid_current(), TG_TABLE_NAME, 'U', NEW.rowid, to_jsonb(OLD)::text);\n"
    "  ELSE\n"
    "    INSERT INTO dsj_change (tx, tbl, op, row_id, old_row)\n"
    "      VALUES (txid_current(), TG_TABLE_NAME, 'D', OLD.rowid, to_jsonb(OLD)::text);\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$"
)
KEEP_SQL = (
    f"CREATE OR REPLACE FUNCTION {KEEP_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  RAISE EXCEPTION '%', TG_ARGV[0];\n"
    "END $$"
)
FUNCTIONS = {CAPTURE_FUNCTION: CAPTURE_SQL, KEEP_FUNCTION: KEEP_SQL}


def _function_body(sql: str) -> str:
    return sql.split("$$", 2)[1]


def capture_trigger(name: str, table: str) -> str:
    """The trigger as PostgreSQL reports it back (pg_get_triggerdef), so the two compare exactly."""
    return (
        f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE ON public.{table} "
        f"FOR EACH ROW EXECUTE FUNCTION {CAPTURE_FUNCTION}()"
    )


def keep_trigger(name: str, table: str, op: str, message: str) -> str:
    return (
        f"CREATE TRIGGER {name} BEFORE {op} ON public.{table} "
        f"FOR EACH ROW EXECUTE FUNCTION {KEEP_FUNCTION}('{message}')"
    )


def all_triggers(conn: Connection) -> dict[str, str]:
    """Every trigger on the program's tables, whoever made it, and every trigger that is disabled
    (``ALTER TABLE … DISABLE TRIGGER``) or whose function was changed shows as changed."""
    out: dict[str, str] = {}
    for name, definition, enabled, fn_name, fn_src in conn.exec_driver_sql(
        "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, p.proname, p.prosrc FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
    ):
        text = str(definition)
        if enabled != "O":
            text += f" /* enabled={enabled} */"
        want = FUNCTIONS.get(str(fn_name))
        if want is None or _function_body(want) != fn_src:
            text += f" /* function {fn_name} not the program's */"
        out[str(name)] = text
    return out


def install_functions(conn: Connection) -> None:
    for sql in FUNCTIONS.values():
        conn.exec_driver_sql(sql)


def drop_trigger(conn: Connection, name: str) -> None:
    row = conn.exec_driver_sql(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = %s", (name,)
    ).first()
    if row is not None:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}" ON "{row[0]}"')


def create_trigger(conn: Connection, definition: str) -> None:
    conn.exec_driver_sql(definition.replace(" ON public.", " ON "))


# --- seals ----------------------------------------------------------------------------------


def row_text_sql(table: str, where: str = "") -> str:
    """The rows as they are sealed: (rowid, canonical JSON text of the whole row)."""
    return f'SELECT t.rowid, to_jsonb(t)::text FROM "{table}" AS t {where}'


def values_of(text: str, cols: Sequence[str]) -> tuple[Any, ...]:
    data = json.loads(text)
    return tuple(data.get(c) for c in cols)


STORE_SEAL = (
    "INSERT INTO row_seal (tbl, row_id, seal) VALUES (%s, %s, %s) "
    "ON CONFLICT (tbl, row_id) DO UPDATE SET seal = excluded.seal"
)


def store_seals(conn: Connection, rows: Sequence[tuple[str, int, bytes]]) -> None:
    if not rows:
        return
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur:
        cur.executemany(STORE_SEAL, rows)


# --- rows rendered here as the server renders them ------------------------------------------------
# A row's seal covers ``to_jsonb(row)::text``. Asking the server for that text of a row holding a long
# text (a draw's 7 MB frozen inputs, its signed record) costs far more than reading the values as they
# are and writing the same text here: the server converts the text to jsonb and back, and the program
# then reads the whole text once more. The columns whose JSON is certain are rendered here (integers,
# texts, dates); a row with any other value is rendered by the server, as before. ``check`` always
# recomputes every seal from the server's own text, so a rendering that ever differed would show there.

INT_OIDS = frozenset({20, 21, 23})  # bigint, smallint, integer
TEXT_OIDS = frozenset({25, 1043})  # text, character varying
DATE_OID = 1082  # read back as ISO text (see _adapt), which is also how to_jsonb writes a date
_ISO_DATE = re.compile(r"[0-9]{4,}-[0-9]{2}-[0-9]{2}")
RowRenderer = Callable[[Sequence[Any]], "str | None"]


def row_shape(conn: Connection, table: str) -> list[tuple[str, int]]:
    """(name, type oid) of every column of *table*, ``rowid`` included, in table order."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur:
        cur.execute(f'SELECT * FROM "{table}" LIMIT 0')
        return [(str(d.name), int(d.type_code)) for d in cur.description or ()]


def row_shape_and_rowid(conn: Connection, table: str) -> tuple[list[tuple[str, int]], int | None]:
    """:func:`row_shape` and a rowid drawn from the sequence of *table*'s ``rowid`` (None: it has no
    such column or sequence), in one round trip (pipeline mode). (A number drawn and not used is a
    gap, as sequences have anyway.)"""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.pipeline():
        shape = dbapi.execute(f'SELECT * FROM "{table}" LIMIT 0')
        drawn = dbapi.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'rowid')) WHERE EXISTS (SELECT 1 FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = 'rowid' AND attnum > 0 AND NOT attisdropped)",
            (table, f'"{table}"'),
        )
    found = drawn.fetchone()
    return (
        [(str(d.name), int(d.type_code)) for d in shape.description or ()],
        None if found is None or found[0] is None else int(found[0]),
    )


def json_renderer(shape: Sequence[tuple[str, int]]) -> RowRenderer | None:
    """A function giving ``to_jsonb(row)::text`` of a row of this *shape* (:func:`row_shape`) from its
    values in that order, exactly as the server writes it: keys in jsonb's order (shorter first, then
    bytewise), ``": "`` and ``", "`` between them, texts escaped as the server escapes them (the rules
    of :func:`json.dumps` without ``ensure_ascii``), integers as written, NULL as null. It returns None
    for a row with a value whose text is not certain (a float, a bool, a text in an integer column…);
    None instead of a function when some column's type is not one of these."""
    from json.encoder import encode_basestring

    if any(oid not in INT_OIDS and oid not in TEXT_OIDS and oid != DATE_OID for _, oid in shape):
        return None
    order = jsonb_key_order([name for name, _ in shape])
    index = {name: i for i, (name, _) in enumerate(shape)}
    kinds = dict(shape)
    plan = [(index[name], encode_basestring(name) + ": ", kinds[name]) for name in order]
    int_oids, text_oids, iso_date = INT_OIDS, TEXT_OIDS, _ISO_DATE.fullmatch

    def render(values: Sequence[Any]) -> str | None:
        parts = []
        for i, head, oid in plan:
            v = values[i]
            if v is None:
                parts.append(head + "null")
            elif oid in text_oids:
                if type(v) is not str:
                    return None
                parts.append(head + encode_basestring(v))
            elif oid in int_oids:
                if type(v) is not int:
                    return None
                parts.append(head + str(v))
            elif type(v) is str and iso_date(v):
                parts.append(f'{head}"{v}"')
            else:
                return None
        return "{" + ", ".join(parts) + "}"

    return render


CLIENT_RENDERED_ROWS = 200  # more rows than this at once: the server renders them (small rows, many)


def sealed_texts(
    conn: Connection, table: str, ids: Sequence[int]
) -> dict[int, tuple[str, dict[str, Any] | None]]:
    """For the rows of *table* with these rowids: ``to_jsonb(row)::text`` (what the row's seal
    covers) and, when the values were read as they are and the text rendered here (a few rows, see
    :func:`json_renderer`), the row's values by column (else None: the server rendered the text)."""
    found, _ = sealed_texts_and(conn, {table: ids})
    return {rid: v for (_, rid), v in found.items()}


Statement = tuple[str, Any]  # (SQL in psycopg's style, its parameters or None)


def first_rows(conn: Connection, statements: Mapping[str, Statement]) -> dict[str, Any]:
    """The first row (or None) of each of *statements*, by name, all sent at once (pipeline mode:
    one round trip; the server runs them one after the other, each with its own snapshot)."""
    if not statements:
        return {}
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.pipeline():
        cursors = {name: dbapi.execute(sql, params) for name, (sql, params) in statements.items()}
    return {name: cur.fetchone() for name, cur in cursors.items()}


def sealed_texts_and(
    conn: Connection, wanted: Mapping[str, Sequence[int]], also: Sequence[Statement] = ()
) -> tuple[dict[tuple[str, int], tuple[str, dict[str, Any] | None]], list[Any]]:
    """:func:`sealed_texts` of the rows *wanted* (rowids by table), keyed by (table, rowid), and the
    statements *also*, all sent at once (pipeline mode: one round trip, where one per table and
    statement took a round trip each). Returns the texts and each of *also*'s cursors, read."""
    out: dict[tuple[str, int], tuple[str, dict[str, Any] | None]] = {}
    if not any(wanted.values()) and not also:
        return out, []
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    as_values: list[tuple[str, list[int], Any]] = []
    as_text: list[tuple[str, Any]] = []
    with dbapi.pipeline():
        for table, ids in wanted.items():
            ids = list(ids)
            if 0 < len(ids) <= CLIENT_RENDERED_ROWS:
                sql = f'SELECT * FROM "{table}" WHERE rowid = ANY(%s)'
                as_values.append((table, ids, dbapi.execute(sql, (ids,))))
                continue
            for start in range(0, len(ids), 5000):
                sql = row_text_sql(table, "WHERE t.rowid = ANY(%s)")
                as_text.append((table, dbapi.execute(sql, (ids[start : start + 5000],))))
        extra = [dbapi.execute(sql, params) for sql, params in also]
    rest: dict[str, list[int]] = {}  # rows whose text is not certain here: rendered by the server
    for table, ids, cur in as_values:
        shape = [(str(d.name), int(d.type_code)) for d in cur.description or ()]
        render = json_renderer(shape)
        if render is not None:
            names = [name for name, _ in shape]
            at = names.index("rowid")
            for row in cur:
                text = render(row)
                if text is not None:
                    out[(table, int(row[at]))] = (text, dict(zip(names, row, strict=True)))
        missing = [i for i in ids if (table, i) not in out]
        if missing:
            rest[table] = missing
    for table, cur in as_text:
        for rid, text in cur:
            out[(table, int(rid))] = (str(text), None)
    for table, ids in rest.items():
        for rid, text in conn.exec_driver_sql(row_text_sql(table, "WHERE t.rowid = ANY(%s)"), (ids,)):
            out[(table, int(rid))] = (str(text), None)
    return out, extra


def sealed_parts(
    conn: Connection, table: str, rowid: int, utf8: Collection[str]
) -> tuple[list[str | bytes], dict[str, Any]] | None:
    """One row read as it is stored, its texts in the columns *utf8* as their UTF-8 (a draw's 7 MB
    candidates: neither decoded here nor encoded again): ``to_jsonb(row)::text`` in parts (those texts
    escaped as UTF-8, :func:`json_string_body`; for :func:`seal_of_text`) and the row's values by
    column. None when there is no such row, or the row cannot be rendered here (then
    :func:`sealed_texts`)."""
    from psycopg.adapt import Loader

    class AsUtf8(Loader):
        def load(self, data: Any) -> bytes:
            return bytes(data)

    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    if dbapi.info.encoding != "utf-8":
        return None
    with dbapi.cursor() as cur:
        for name in ("text", "varchar"):
            cur.adapters.register_loader(name, AsUtf8)
        cur.execute(f'SELECT * FROM "{table}" WHERE rowid = %s', (rowid,))
        shape = [(str(d.name), int(d.type_code)) for d in cur.description or ()]
        row = cur.fetchone()
    render = json_renderer(shape)
    if row is None or render is None:
        return None
    values = {
        name: v.decode("utf-8") if type(v) is bytes and name not in utf8 else v
        for (name, _), v in zip(shape, row, strict=True)
    }
    long = {name: v for name, v in values.items() if name in utf8 and type(v) is bytes}
    text = render([("" if name in long else values[name]) for name, _ in shape])
    if text is None:
        return None
    places = []
    for name in long:
        head = json.dumps(name) + ': ""'
        if text.count(head) != 1:
            return None
        places.append((text.index(head) + len(head) - 1, name))  # between the long text's quotes
    parts: list[str | bytes] = []
    done = 0
    for at, name in sorted(places):
        parts += [text[done:at], json_string_body(long[name])]
        done = at
    parts.append(text[done:])
    return parts, values


_CONTINUATION = bytes(range(0x80, 0xC0))
_NOT_CONTINUATION = bytes(b for b in range(256) if not 0x80 <= b < 0xC0)


def utf8_length(data: bytes) -> int:
    """How many characters the UTF-8 *data* holds (its bytes other than continuation bytes)."""
    return len(data) - len(data.translate(None, _NOT_CONTINUATION))


def seal_of_text(key: bytes, table: str, rowid: int, *text: str | bytes | memoryview) -> bytes:
    """The seal of a row whose ``to_jsonb(row)::text`` is *text* (given in parts, texts or their UTF-8):
    ``Guard.seal(table, rowid, (text,))`` without copying a long text into the seal's input."""
    h = seal_hash(key, table, rowid)
    for part in text:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
    return bytes(h.digest())


_CONTROL = bytes(range(32))


def json_string_body(data: bytes) -> bytes:
    """The UTF-8 of the JSON string (without its quotes) of the text whose UTF-8 is *data*, escaped as
    the server escapes it: a backslash and a quote preceded by a backslash; a text holding a control
    character goes the long way (:func:`json.encoder.encode_basestring`)."""
    if len(data.translate(None, _CONTROL)) != len(data):
        from json.encoder import encode_basestring

        return encode_basestring(data.decode("utf-8"))[1:-1].encode("utf-8")
    return data.replace(b"\\", b"\\\\").replace(b'"', b'\\"')


ESCAPE_CHUNK = 1 << 20  # a long text escaped (and hashed) a megabyte at a time


def json_string_body_chunks(data: bytes, size: int = ESCAPE_CHUNK) -> Iterator[bytes]:
    """:func:`json_string_body` of *data* in pieces of about *size* bytes (cut between characters),
    whose concatenation is that body: each piece can be hashed while the next one is escaped."""
    if len(data) <= size:
        yield json_string_body(data)
        return
    view = memoryview(data)
    start = 0
    while start < len(data):
        end = min(start + size, len(data))
        while end < len(data) and 0x80 <= data[end] < 0xC0:  # (not inside a character's UTF-8)
            end += 1
        yield json_string_body(bytes(view[start:end]))
        start = end


class ThreadedHash:
    """A hash fed in a thread of its own (hashlib lets go of the interpreter's lock over large
    pieces): the caller goes on making the next piece while the last one is hashed."""

    def __init__(self, h: Any) -> None:
        import queue
        import threading

        self._h = h
        self._pieces: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="dsj-seal", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            piece = self._pieces.get()
            if piece is None:
                return
            if not self._error:
                try:
                    self._h.update(piece)
                except BaseException as exc:  # (raised again by digest())
                    self._error.append(exc)

    def update(self, piece: str | bytes | memoryview) -> None:
        self._pieces.put(piece.encode("utf-8") if isinstance(piece, str) else piece)

    def digest(self) -> bytes:
        """The digest of every piece given, once the thread has hashed them."""
        self.close()
        if self._error:
            raise self._error[0]
        return bytes(self._h.digest())

    def close(self) -> None:
        self._pieces.put(None)
        self._thread.join()


def seal_hash(key: bytes, table: str, rowid: int) -> Any:
    """The hash :func:`seal_of_text` feeds with the row's text (its head given already)."""
    import hashlib

    return hashlib.blake2b(f"s{table}{SEAL_SEP}i{rowid}{SEAL_SEP}s".encode(), key=key, digest_size=16)


def send_all(dbapi_conn: Any) -> None:
    """In pipeline mode: wait until everything queued has been sent to the server (which then works
    on it while the caller does something else), without waiting for its results. A server that
    takes nothing for SILENT_PEER_S is given up: the connection is closed and OperationalError raised."""
    import selectors

    pgconn = dbapi_conn.pgconn
    if pgconn.flush() != 1:  # (the connection is non-blocking in pipeline mode: 1, more to send)
        return
    with selectors.DefaultSelector() as selector:
        selector.register(pgconn.socket, selectors.EVENT_WRITE)
        while pgconn.flush() == 1:
            if not selector.select(SILENT_PEER_S):  # not a byte taken for that long: the server is gone
                import psycopg

                dbapi_conn.close()  # (nothing more waits on it: the write rolls back as a lost connection)
                raise psycopg.OperationalError(f"nothing could be sent to the server for {SILENT_PEER_S} s")


def seal_where(
    conn: Connection,
    seal: Callable[[str, int, tuple[Any, ...]], bytes],
    table: str,
    where: str = "",
    params: Sequence[Any] = (),
) -> int:
    """Seal the rows of *table* matching *where* with *seal* (the guard's keyed seal)."""
    rows = conn.exec_driver_sql(row_text_sql(table, where), tuple(params)).fetchall()
    store_seals(conn, [(table, int(r[0]), seal(table, int(r[0]), (r[1],))) for r in rows])
    return len(rows)


def foreign_changes(conn: Connection) -> list[tuple[str, str, int]]:
    """Row changes noted by the capture trigger in transactions that were not the program's (it
    removes its own notes before committing): (table, op, row)."""
    return [
        (str(t), str(o), int(r))
        for t, o, r in conn.exec_driver_sql("SELECT tbl, op, row_id FROM dsj_change ORDER BY n LIMIT 1000")
    ]


# --- what a transaction changed, as the server counts it -----------------------------------------
# The rows this backend's transactions inserted and deleted in each table of the schema, as
# the server itself counts them (whatever made the change: the program's statements, a trigger or rule
# someone added, the capture trigger lifted or not). Counts of transactions this backend committed
# recently may still be included (they reach the shared statistics later): what a transaction changed
# is the difference between these counts at its end and at its start.
XACT_COUNTS = (  # (pg_stat_xact_user_tables's n_tup_ins, n_tup_del, read without the view's joins)
    "(SELECT coalesce(json_object_agg(c.relname, i || ' ' || d), '{}')::text FROM pg_class c, "
    "pg_stat_get_xact_tuples_inserted(c.oid) i, pg_stat_get_xact_tuples_deleted(c.oid) d "
    "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND i + d > 0)"
)
XACT_COUNTS_SQL = f"SELECT {XACT_COUNTS}"
# Just before a COMMIT: the counts above, and whether the transaction may have changed rows in ways
# they do not show (see xact_changes).
XACT_CHANGES_SQL = (
    f"SELECT {XACT_COUNTS}, EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() "
    "AND locktype = 'relation' AND mode = 'AccessExclusiveLock'), "
    "EXISTS (SELECT 1 FROM pg_trigger WHERE tgdeferrable), current_setting('track_counts') = 'on'"
)


def xact_changes(row: Sequence[Any], before: Mapping[str, str]) -> set[str] | None:
    """The tables in which the transaction inserted or deleted rows, from a row of
    ``XACT_CHANGES_SQL`` and the counts at its start (*before*); None when it may have changed rows
    in ways these counts do not show: a relation created, truncated or dropped in it (an ACCESS
    EXCLUSIVE lock), a deferrable trigger in the database (it could still run at the COMMIT), or the
    server's counting turned off."""
    counts, exclusive, deferrable, counting = row
    if exclusive or deferrable or not counting:
        return None
    now: dict[str, str] = json.loads(counts)
    return {t for t in now.keys() | before.keys() if now.get(t) != before.get(t)}


# --- draw sessions alive on some workstation ------------------------------------------------------
# Between prepare and reveal a session's nonce lives only in the memory of the program that drew it
# (DSJ-DRAW-1 §3.4). On SQLite an OS lock on a file in the data folder tells other copies that it is
# alive; on a shared server that program holds a session-level advisory lock instead, on a connection
# of its own that lasts as long as the process (a crash releases it at once, a lost network after
# SILENT_PEER_S: the server drops the silent session).

APP_TAG = "dsj-desktop@"
# Which workstation a server connection belongs to (application_name holds ASCII only).
WORKSTATION_TABLE = "CREATE TABLE IF NOT EXISTS dsj_workstation (pid INTEGER PRIMARY KEY, name TEXT NOT NULL)"


def workstation_name() -> str:
    import socket

    return os.environ.get("DSJ_WORKSTATION", "").strip() or socket.gethostname()  # a name the office gives it


def workstation_tag() -> str:
    return (APP_TAG + workstation_name()).encode("ascii", "replace").decode()[:63]


def _live_key(session_id: str) -> int:
    import hashlib

    u = int.from_bytes(hashlib.sha256(b"dsj-live-session:" + session_id.encode()).digest()[:8], "big")
    return u - (1 << 64) if u >= (1 << 63) else u


class LiveHold:
    """The advisory lock that says "this session is alive here"; :meth:`close` lets it go."""

    def __init__(self, engine: Engine, session_id: str) -> None:
        import time

        self._raw: Any = engine.raw_connection()
        self._seen_at = time.monotonic()  # when the connection last answered
        # The id of the transaction that noted the workstation, when the server's own counts show that
        # it changed nothing but that note (a table of the program's own, never counted): a later write
        # need not count every table because of it (engine.Database._before_write).
        self.xid: int | None = None
        cur: Any = self._raw.cursor()
        cur.execute("SELECT pg_try_advisory_lock(%s)", (_live_key(session_id),))
        got = bool(cur.fetchone()[0])
        if got:
            cur.execute(XACT_COUNTS_SQL)
            before = json.loads(cur.fetchone()[0])
            cur.execute(WORKSTATION_TABLE)
            cur.execute(
                "INSERT INTO dsj_workstation (pid, name) VALUES (pg_backend_pid(), %s) "
                "ON CONFLICT (pid) DO UPDATE SET name = excluded.name RETURNING txid_current()",
                (workstation_name(),),
            )
            xid = int(cur.fetchone()[0])
            cur.execute(XACT_CHANGES_SQL)
            changed = xact_changes(cur.fetchone(), before)
            if changed is not None and changed <= {"dsj_workstation"}:
                self.xid = xid
        self._raw.commit()
        if not got:
            self._raw.close()
            raise RuntimeError(f"session {session_id} is held elsewhere")

    def lost(self) -> bool:
        """Whether the lock is gone: its connection closed or broken (the server ended the session of a
        workstation silent for SILENT_PEER_S, or restarted). One round trip, unless the connection
        answered less than LIVE_RECHECK_S ago: the server cannot have found it silent for
        SILENT_PEER_S since (a draw's steps in quick succession ask nothing)."""
        import time

        raw = self._raw
        if raw is None:
            return True
        if time.monotonic() - self._seen_at < LIVE_RECHECK_S:
            return False
        try:
            cur = raw.cursor()
            cur.execute("SELECT 1")
            cur.fetchone()
            raw.commit()
        except Exception:
            return True
        self._seen_at = time.monotonic()
        return False

    def close(self) -> None:
        """Let the lock go on the connection that holds it, which then goes back to the pool: a new
        connection for every draw would cost the server a new process, its caches cold for the draw's
        next steps. A connection on which that fails (broken) is closed instead, never pooled: closing
        it releases whatever it holds."""
        raw, self._raw = self._raw, None
        if raw is None:
            return
        try:
            raw.cursor().execute("SELECT pg_advisory_unlock_all()")  # (every session-level lock it holds)
            raw.commit()
            raw.close()  # (back to the pool)
        except Exception:
            try:
                raw.detach()
                raw.driver_connection.close()
            except Exception:
                pass


def hold_live(engine: Engine, session_id: str) -> LiveHold | None:
    try:
        return LiveHold(engine, session_id)
    except Exception:
        return None


def live_elsewhere(engine: Engine, session_id: str) -> str | None:
    """The workstation (host name) whose running program holds *session_id*, or None."""
    u = _live_key(session_id) % (1 << 64)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT coalesce(w.name, a.application_name, ''), coalesce(host(a.client_addr), '') FROM pg_locks l "
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid LEFT JOIN dsj_workstation w ON w.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = %s AND l.objid = %s AND l.objsubid = 1 AND l.pid <> pg_backend_pid()",
            (u >> 32, u & 0xFFFFFFFF),
        ).first()
        conn.rollback()
    if row is None:
        return None
    name = str(row[0])
    name = name[len(APP_TAG) :] if name.startswith(APP_TAG) else name
    return name or str(row[1]) or "?"


# --- bulk insert with COPY ---------------------------------------------------------------------
# A bulk import (100,000 targets) sends its new rows with COPY … FROM STDIN and seals them from the
# values it wrote, rendered exactly as the server renders ``to_jsonb(row)::text`` (below): no row is
# read back. The program knows these rows, so the capture trigger need not note them one by one.

TEXT_TYPES = frozenset({"text", "character varying", "character"})
INT_TYPES = frozenset({"integer", "bigint", "smallint"})


def new_ids(conn: Connection, table: str, n: int, column: str = "id") -> Sequence[int]:
    """*n* ids taken from the sequence of *table*'s ``id`` (or other *column*: a ``rowid`` of its own),
    the numbers n calls of ``nextval`` would give, in one step: the sequence is moved past them with
    ``setval`` (100,000 calls of ``nextval`` took 0.7 s of a 100,000-target import). Only program
    writes, which hold the write lock, draw from these sequences; should anything else draw a number
    between the ``nextval`` and the ``setval`` of this one statement, its row and one of these would
    share an id, and the unique index on the column refuses the second (its write rolls back)."""
    if n <= 0:
        return []
    seq, step, last = conn.exec_driver_sql(
        "SELECT s.seq::text, q.seqincrement, setval(s.seq, nextval(s.seq) + (%s - 1) * q.seqincrement) "
        "FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) AS s "
        "LEFT JOIN pg_sequence q ON q.seqrelid = s.seq",
        (n, table, column),
    ).one()
    if seq is None or step is None or last is None:
        raise ValueError(f"table {table} has no {column} sequence")
    step, last = int(step), int(last)
    return range(last - (n - 1) * step, last + step, step)


def column_types(conn: Connection, table: str) -> dict[str, str]:
    """Every column of *table* (``rowid`` included) and its data type, in table order."""
    return {
        str(c): str(t)
        for c, t in conn.exec_driver_sql(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    }


def jsonb_key_order(names: Sequence[str]) -> list[str]:
    """The order of a jsonb object's keys: shorter first, then bytewise (PostgreSQL's jsonb)."""
    return sorted(names, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))


def row_json_template(
    types_on_server: Mapping[str, str],
    attrs: Sequence[str],
    types: Sequence[type] | None,
    fixed: Mapping[str, Any],
) -> tuple[str, list[int], list[bool]] | None:
    """How to render a new row as ``to_jsonb(row)::text`` renders it, without asking the server:
    a %-template, and for each slot the index of its value in ``(id, *row)`` and whether it is text
    (JSON-escaped first, as the server escapes it: the same rules as :func:`json.dumps`). The row's
    columns are *attrs* (each column's every value of type ``types[i]``), *fixed* holds the other
    columns' one value, ``id`` and ``rowid`` are the id. None when some column cannot be rendered
    with certainty (a float, a date, a default the server fills in, mixed types): then the rows are
    read back instead."""
    from json.encoder import encode_basestring

    if types is None or len(types) != len(attrs) or types_on_server.get("id") not in INT_TYPES:
        return None
    if types_on_server.get("rowid") not in INT_TYPES:
        return None
    pos = {a: i for i, a in enumerate(attrs)}
    parts: list[str] = []
    slots: list[int] = []
    text: list[bool] = []
    for key in jsonb_key_order(list(types_on_server)):
        on_server = types_on_server[key]
        head = encode_basestring(key).replace("%", "%%") + ": "
        if key in ("id", "rowid"):
            parts.append(head + "%d")
            slots.append(0)
            text.append(False)
        elif key in pos:
            t = types[pos[key]]
            if t is str and on_server in TEXT_TYPES:
                parts.append(head + "%s")
                text.append(True)
            elif t is int and on_server in INT_TYPES:
                parts.append(head + "%d")
                text.append(False)
            else:
                return None
            slots.append(pos[key] + 1)
        elif key in fixed:
            v = fixed[key]
            if type(v) is str and on_server in TEXT_TYPES:
                parts.append(head + encode_basestring(v).replace("%", "%%"))
            elif type(v) is int and on_server in INT_TYPES:
                parts.append(head + str(v))
            else:
                return None
        else:
            return None
    return "{" + ", ".join(parts) + "}", slots, text


def transpose(ids: Sequence[int], rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """``[ids, first column, second column, …]`` of *rows*."""
    return [ids, *zip(*rows, strict=True)] if rows else [ids]


def render_rows(
    template: tuple[str, list[int], list[bool]], columns: Sequence[Sequence[Any]], head: str = ""
) -> list[str]:
    """``to_jsonb(row)::text`` of each new row (see :func:`row_json_template`), from the rows'
    *columns* (:func:`transpose`); each text after *head* and the row's id, when *head* is given."""
    from json.encoder import encode_basestring

    fmt, slots, text = template
    args = [
        list(map(encode_basestring, columns[s])) if is_text else columns[s]
        for s, is_text in zip(slots, text, strict=True)
    ]
    if head:
        fmt = head.replace("%", "%%") + "%d" + SEAL_SEP + "s" + fmt
        args.insert(0, columns[0])
    return [fmt % a for a in zip(*args, strict=True)]


SEAL_SEP = "\x1f"  # the separator of a seal's input (dsj_desktop.db.guard.SEP)
_COPY_SPECIAL = ("\\", "\t", "\n", "\r")


def copy_text(columns: Sequence[Sequence[Any]], types: Sequence[type], consts: Sequence[Any]) -> str:
    """The rows (:func:`transpose`; after the ids, columns of *types*, str or int) and the *consts*
    after each, as ``COPY … FROM STDIN`` takes them in its text format (a text column is escaped only
    where it holds a backslash, a tab or a line break)."""
    out: list[Sequence[str]] = [list(map(str, columns[0]))]
    for col, t in zip(columns[1:], types, strict=True):
        if t is not str:
            out.append(list(map(str, col)))
            continue
        joined = "".join(col)
        if any(c in joined for c in _COPY_SPECIAL):
            col = [_copy_escape(v) for v in col]
        out.append(col)
    tail = "".join("\t" + (_copy_escape(v) if type(v) is str else str(v)) for v in consts) + "\n"
    return tail.join(map("\t".join, zip(*out, strict=True))) + tail


def _copy_escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def pause_capture(conn: Connection, table: str, trigger: str) -> bool:
    """Switch the capture trigger of *table* off for the rest of this transaction's bulk insert, where
    the program may (it owns the table) and the trigger is on as the program left it; a trigger
    someone disabled or changed is left as found (``check`` reports it). The change is the
    transaction's own: other connections see the trigger on throughout, and a rollback undoes it.
    True: switched off here (:func:`resume_capture` switches it on again)."""
    row = conn.exec_driver_sql(
        "SELECT t.tgenabled, pg_has_role(c.relowner, 'USAGE') FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE t.tgname = %s AND c.relname = %s AND n.nspname = current_schema()",
        (trigger, table),
    ).first()
    if row is None or row[0] != "O" or not row[1]:
        return False
    conn.exec_driver_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER "{trigger}"')
    return True


def pause_capture_if_quiet(conn: Connection, table: str, trigger: str) -> bool:
    """:func:`pause_capture`, only where this transaction has changed nothing yet (no capture note of
    it): the two asked in one query."""
    row = conn.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM dsj_change WHERE tx = txid_current()), t.tgenabled, "
        "pg_has_role(c.relowner, 'USAGE') FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE t.tgname = %s AND c.relname = %s AND n.nspname = current_schema()",
        (trigger, table),
    ).first()
    if row is None or row[0] or row[1] != "O" or not row[2]:
        return False
    conn.exec_driver_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER "{trigger}"')
    return True


def after_copy(
    conn: Connection, table: str, trigger: str | None, ids: Sequence[int]
) -> tuple[dict[int, str], int | None]:
    """After rows are inserted with COPY, in one round trip (pipeline mode): the capture *trigger*
    switched on again (if given: :func:`resume_capture`), the server's ``to_jsonb(row)::text`` of the
    rows *ids* (:func:`row_texts`) and the highest rowid of *table* with a seal (for
    :func:`copy_seals`)."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    ids = list(ids)
    with dbapi.pipeline():
        if trigger is not None:
            dbapi.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER "{trigger}"')
        texts = dbapi.execute(row_text_sql(table, "WHERE t.rowid = ANY(%s)"), (ids,))
        highest = dbapi.execute("SELECT max(row_id) FROM row_seal WHERE tbl = %s", (table,))
    found = {int(rid): str(text) for rid, text in texts.fetchall()}
    top = highest.fetchone()
    return found, None if top is None or top[0] is None else int(top[0])


def resume_capture(conn: Connection, table: str, trigger: str) -> None:
    conn.exec_driver_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER "{trigger}"')


def row_texts(conn: Connection, table: str, ids: Sequence[int]) -> dict[int, str]:
    """``to_jsonb(row)::text`` of the rows of *table* with these rowids, read from the server."""
    out: dict[int, str] = {}
    for start in range(0, len(ids), 5000):
        chunk = list(ids[start : start + 5000])
        for rid, text in conn.exec_driver_sql(row_text_sql(table, "WHERE t.rowid = ANY(%s)"), (chunk,)):
            out[int(rid)] = str(text)
    return out


def copy_seals(
    conn: Connection,
    table: str,
    ids: Sequence[int],
    lines: Sequence[str],
    known: tuple[int | None] | None = None,
) -> None:
    """Store the seals of rows just inserted with COPY (*ids*), given as COPY text (:func:`seal_line`).
    A seal left at one of these rowids by earlier means is replaced, as ``INSERT OR REPLACE`` does
    on SQLite. *known*: (the table's highest sealed rowid,), if read already (:func:`after_copy`)."""
    if not ids:
        return
    # (The table's highest sealed rowid: one step down the index, where the planner would scan the
    # whole table for an EXISTS over a range.)
    if known is not None:
        highest = known[0]
    else:
        highest = conn.exec_driver_sql("SELECT max(row_id) FROM row_seal WHERE tbl = %s", (table,)).scalar()
    if highest is not None and int(highest) >= min(ids):
        conn.exec_driver_sql("DELETE FROM row_seal WHERE tbl = %s AND row_id = ANY(%s)", (table, list(ids)))
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur, cur.copy("COPY row_seal (tbl, row_id, seal) FROM STDIN") as cp:
        for text in lines:
            cp.write(text)


def seal_line(table: str, rowid: int, seal_hex: str) -> str:
    """One seal as COPY's text format takes it (a bytea as \\x and its hex digits, the backslash
    doubled)."""
    return f"{table}\t{rowid}\t\\\\x{seal_hex}\n"
