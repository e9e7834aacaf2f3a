"""Opening the one SQLite file: WAL, foreign keys, schema version, upgrades after a backup copy."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

from dsj_desktop.db import models  # noqa: F401  (registers the tables)
from dsj_desktop.db.migrations import MIGRATIONS, SCHEMA_VERSION, Step
from dsj_desktop.errors import DatabaseError
from dsj_desktop.paths import backups_dir, database_path

APPLICATION_ID = 0x44534A31  # "DSJ1" in the SQLite header: marks our files
SQLITE_MAGIC = b"SQLite format 3\x00"


def _configure(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # Transactions are begun explicitly (see _begin); the driver must not begin its own.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 10000")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = FULL")
    cur.close()


def _begin(conn: Connection) -> None:
    if conn.get_execution_options().get("dsj_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False},
        poolclass=NullPool if str(path) == ":memory:" else None,
    )
    event.listen(engine, "connect", _configure)
    event.listen(engine, "begin", _begin)
    return engine


class Database:
    """One open data file. Thread-safe: each use takes its own connection."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self._shared = threading.local()

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot)."""
        shared = getattr(self._shared, "conn", None)
        if shared is not None:
            yield shared
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: ``BEGIN IMMEDIATE``; commits on success, rolls back on any exception
        (including ``GeneratorExit`` when a job is cancelled)."""
        shared = getattr(self._shared, "conn", None)
        if shared is not None:
            with shared.begin_nested():  # a savepoint inside the shared transaction
                yield shared
            return
        with self.engine.connect().execution_options(dsj_write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def sharing(self, conn: Connection) -> Iterator[None]:
        """Inside this block, on this thread, :meth:`read` and :meth:`write` join *conn*'s open write
        transaction (each nested write in a savepoint), so a larger job can call services that open
        their own transactions and still commit all or nothing (the demo draws use this)."""
        previous = getattr(self._shared, "conn", None)
        self._shared.conn = conn
        try:
            yield
        finally:
            self._shared.conn = previous

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """An ORM session in one transaction; committed on success when *write* is true."""
        ctx = self.write() if write else self.read()
        with ctx as conn, Session(bind=conn, expire_on_commit=False) as s:
            yield s
            if write:
                s.flush()

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        with self.read() as conn:
            return conn.exec_driver_sql(sql, dict(params or {})).scalar()

    def schema_version(self) -> int:
        return int(self.scalar("PRAGMA user_version"))

    def backup_to(self, dest: Path) -> Path:
        """A consistent copy of the whole database via SQLite's online backup API."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        raw = self.engine.raw_connection()
        try:
            src = raw.driver_connection
            assert isinstance(src, sqlite3.Connection)
            with sqlite3.connect(dest) as out:
                src.backup(out)
            out.close()
        finally:
            raw.close()
        return dest

    def close(self) -> None:
        self.engine.dispose()


def _check_file(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as f:
        head = f.read(100)
    if not head.startswith(SQLITE_MAGIC):
        raise DatabaseError(f"文件“{path}”不是数据库文件（可能已损坏或被替换），程序不会改动它。")
    app_id = int.from_bytes(head[68:72], "big")
    if app_id not in (0, APPLICATION_ID):
        raise DatabaseError(f"文件“{path}”是其他程序的数据库，不是本程序的数据文件。")


def _backup_before_upgrade(db: Database, old: int, new: int) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = backups_dir(db.data_dir) / f"upgrade-v{old}-to-v{new}-{stamp}.sqlite3"
    return db.backup_to(dest)


def open_database(
    data_dir: Path,
    *,
    migrations: Mapping[int, Step] | None = None,
    target_version: int | None = None,
) -> Database:
    """Open (creating if needed) the data file in *data_dir*, upgrading it to the current schema.

    *migrations* and *target_version* exist for tests of the upgrade mechanism.
    """
    steps = MIGRATIONS if migrations is None else migrations
    latest = SCHEMA_VERSION if target_version is None else target_version
    data_dir.mkdir(parents=True, exist_ok=True)
    path = database_path(data_dir)
    _check_file(path)
    db = Database(path, make_engine(path))
    try:
        version = db.schema_version()
        with db.read() as conn:
            has_tables = conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).scalar()
        if version == 0 and not has_tables:
            _create_fresh(db, latest)
        elif version > latest:
            raise DatabaseError(
                f"数据文件“{path}”由较新版本的程序写入（数据库版本 {version}），"
                f"本程序只支持到版本 {latest}。为保护数据，程序不会打开或改动它；请安装新版本的程序。"
            )
        elif version < latest:
            _upgrade(db, version, latest, steps)
    except BaseException:
        db.close()
        raise
    return db


def _create_fresh(db: Database, version: int) -> None:
    from dsj_desktop.domain.codelists import seed_code_lists

    with db.write() as conn:
        SQLModel.metadata.create_all(conn)
        seed_code_lists(conn)
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")


def _upgrade(db: Database, old: int, new: int, steps: Mapping[int, Step]) -> None:
    missing = [v for v in range(old, new) if v not in steps]
    if missing:
        raise DatabaseError(f"数据文件版本 {old} 无法升级到 {new}：缺少升级步骤 {missing}。")
    _backup_before_upgrade(db, old, new)
    for v in range(old, new):
        # Each step and its version number commit together, or not at all.
        with db.write() as conn:
            steps[v](conn)
            conn.exec_driver_sql(f"PRAGMA user_version = {v + 1}")
            conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
