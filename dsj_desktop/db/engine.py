"""Opening the one SQLite file: WAL, foreign keys, schema version, upgrades after a backup copy,
and the guard (row seals, roles, journal — see :mod:`dsj_desktop.db.guard`) on every connection."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

from dsj_desktop import actor
from dsj_desktop.clock import now_iso
from dsj_desktop.db import anchor, lock, pg
from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db.guard import Guard, TxState
from dsj_desktop.db.migrations import (
    ANCHORED_FROM,
    DERIVED_ROWS,
    GUARDED_FROM,
    MIGRATIONS,
    SCHEMA_VERSION,
    Step,
)
from dsj_desktop.errors import DatabaseError, PermissionDenied
from dsj_desktop.paths import backups_dir, database_path

APPLICATION_ID = 0x44534A31  # "DSJ1" in the SQLite header: marks our files
SQLITE_MAGIC = b"SQLite format 3\x00"
STATE_KEY = "dsj_tx"
GUARD_KEY = "dsj_guard"


def _configure_with(guard: Guard) -> Any:
    def configure(dbapi_conn: sqlite3.Connection, record: Any) -> None:
        # Transactions are begun explicitly (see _begin); the driver must not begin its own.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 10000")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()
        state = TxState()
        record.info[STATE_KEY] = state
        record.info[GUARD_KEY] = guard
        guard.register(dbapi_conn, state)

    return configure


def _connection_state(guard: Guard) -> Callable[[Any], None]:
    """A server connection's per-connection state (the seals are computed in the program there)."""

    def configure(record: Any) -> None:
        record.info[STATE_KEY] = TxState()
        record.info[GUARD_KEY] = guard

    return configure


def _begin(conn: Connection) -> None:
    if conn.get_execution_options().get("dsj_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


# In a connection's info: the journal's head and SQLite's change marks after its last write.
UNCHANGED_KEY = "dsj_unchanged"


def _change_marks(conn: Connection) -> tuple[int, int, int]:
    """SQLite's marks of change, as this connection sees them: ``data_version`` (changes when another
    connection, of this or another process, commits), ``schema_version`` (any change of the schema)
    and this connection's count of rows it has inserted, changed or deleted (triggers included)."""
    dbapi = _driver(conn)
    data = dbapi.execute("PRAGMA data_version").fetchone()[0]
    schema = dbapi.execute("PRAGMA schema_version").fetchone()[0]
    return int(data), int(schema), int(dbapi.total_changes)


def _driver(conn: Connection) -> sqlite3.Connection:
    return _driver_of(conn.connection)


def _driver_of(raw: Any) -> sqlite3.Connection:
    dbapi = raw.driver_connection
    assert isinstance(dbapi, sqlite3.Connection)
    return dbapi


def make_engine(path: Path, guard: Guard) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False},
        poolclass=NullPool if str(path) == ":memory:" else None,
    )
    event.listen(engine, "connect", _configure_with(guard))
    event.listen(engine, "begin", _begin)
    return engine


def tx_state(conn: Connection) -> TxState:
    """The guard's record of what the current write transaction on *conn* has changed."""
    state: TxState = conn.connection.info[STATE_KEY]
    return state


def guard_of(conn: Connection) -> Guard:
    guard: Guard = conn.connection.info[GUARD_KEY]
    return guard


def make_guard(data_dir: Path) -> Guard:
    """The bureau's Ed25519 key signs the journal; a key derived from it seals the rows."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from dsj_desktop.keys import KeyStore

    store = KeyStore(data_dir)
    store.server = None  # the folder's own key file (the SQLite file's, or an old-scheme server's)
    private = store.record_private_key()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    seal_key = hashlib.sha256(b"dsj-row-seal-v1" + raw).digest()
    public = store.record_public_key_bytes()
    return Guard(seal_key, private.sign, public)


_WRITE_KEY_SQL = "SELECT value FROM dsj_meta WHERE key = 'write_key'"
_ROLE_SQL = "SELECT role, active FROM account WHERE username = ?"


class Database:
    """One open data file. Thread-safe: each use takes its own connection."""

    def __init__(self, path: Path, engine: Engine, guard: Guard, url: str | None = None) -> None:
        self.path = (
            path  # the data folder's SQLite file (unused on a server, but its folder is the data folder)
        )
        self.engine = engine
        self.guard = guard
        self.url = url  # a PostgreSQL server's URL (None: the SQLite file); never holds a password
        self.warnings: list[str] = []  # found while opening, for the start page
        self.key_source: Any = None  # on a server keeping the bureau's keys: its keyvault.ServerKeys
        self.fresh_meta: dict[str, str] = {}  # a new server database's key rows, written at creation
        self.made_here: list[Path] = []  # the SQLite file and the key files this opening created
        self._shared = threading.local()
        self._checkpoint_lock = threading.Lock()
        self._checkpoint_thread: threading.Thread | None = None
        self._checkpoint_wanted = False
        # On a server: the journal's head after this program's last write whose start was clean, that
        # write's transaction id and the server's start (see _before_write); None until one committed.
        self._server_mark: tuple[tuple[int, str], int, str] | None = None
        # On a server: ids of this program's transactions that changed only its own bookkeeping (the
        # workstation noted by hold_live), drawn since that write: they do not call for a count.
        self._own_xids: set[int] = set()

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    @property
    def on_server(self) -> bool:
        """Whether the data are on a PostgreSQL server (shared by several workstations)."""
        return self.url is not None

    @property
    def location(self) -> str:
        """Where the data are, for a person: the file, or the server and database."""
        return pg.without_password(self.url) if self.url else str(self.path)

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
    def write(
        self,
        action: str = "",
        detail: Mapping[str, Any] | None = None,
        *,
        bulk: bool = False,
        system: bool = False,
        journal: bool = False,
    ) -> Iterator[Connection]:
        """A write transaction: ``BEGIN IMMEDIATE``; commits on success, rolls back on any exception
        (including ``GeneratorExit`` when a job is cancelled). It ends with one journal entry naming
        *action* (or the tables changed) and the account; *journal* forces the entry even without
        row changes (exports). *bulk* turns the row triggers off: the writer seals its rows itself
        (:func:`dsj_desktop.db.guard.seal_rows`). *system*: internal bookkeeping, no role check."""
        shared = getattr(self._shared, "conn", None)
        if shared is not None:
            with shared.begin_nested():  # a savepoint inside the shared transaction (see sharing())
                yield shared
            return
        marker = lock.operation(self.data_dir, action) if action and not system else nullcontext()
        with marker, self.engine.connect().execution_options(dsj_write=True) as conn:
            state: TxState = conn.connection.info[STATE_KEY]
            state.reset()
            state.action, state.bulk, state.system, state.forced = action, bulk, system, journal
            state.detail = dict(detail or {})
            info = conn.connection.info
            unchanged = info.pop(UNCHANGED_KEY, None)  # kept again only if this write commits
            after = None
            server_mark: guard_mod.WriteMark | None = None  # on a server, when this write began cleanly
            server_after = None
            autocheckpoint: int | None = None  # this connection's own, while turned off for a long text
            try:
                with conn.begin():
                    key = self.key_source is not None and not self.fresh_meta
                    who = actor.current()
                    username = (
                        who.username if who is not None and self.guard.accounts_exist and not system else None
                    )
                    early = self._start_reads(conn, key, username) if self.url is not None else {}
                    if key:
                        self._same_write_key(conn, early)
                    if username is not None:
                        row = (
                            early["role"]
                            if "role" in early
                            else conn.exec_driver_sql(_ROLE_SQL, (username,)).first()
                        )
                        state.role, state.active = (row[0], bool(row[1])) if row else (None, False)
                    if bulk:  # the triggers will be off: the role is checked once, here
                        self.guard.check(state, "*")
                    if self.guard.anchoring:
                        server_mark = self._before_write(conn, state, unchanged, early)
                        state.xact_wanted = server_mark is not None
                    yield conn
                    guard_mod.flush(conn, self.guard, state, now_iso())
                    if self.guard.anchoring and state.head and state.start_counts is not None:
                        if not pg.is_pg(conn):
                            after = (state.head, *_change_marks(conn))  # (no other writer until COMMIT)
                        elif server_mark is not None and self._counted_all(conn, state, server_mark):
                            server_after = (state.head, server_mark.xid, server_mark.started)
                    if self.guard.anchoring and state.head and state.start_head:
                        # Before COMMIT: the new head as pending (a crash now is not a cut journal).
                        anchor.write_pending(self.data_dir, anchor.Head(*state.start_head),
                                             anchor.Head(*state.head), now_iso(), self.guard.sign)  # fmt: skip
                    if state.long_text and self.url is None:
                        autocheckpoint = self._defer_checkpoint(conn)
                if autocheckpoint is not None:  # committed: the WAL copied into the file by another thread
                    self._checkpoint_later()
                if after is not None:
                    info[UNCHANGED_KEY] = after
                if server_after is not None:  # (committed: a fact any later write may build on)
                    self._server_mark = server_after
                    self._own_xids = {x for x in self._own_xids if x > server_after[1]}
                if self.guard.anchoring and state.head:
                    anchor.write_head(self.data_dir, anchor.Head(*state.head), now_iso(), self.guard.sign,
                                      self.guard.public_key)  # fmt: skip
            except Exception:
                if state.denied:  # a trigger refused a change this account may not make
                    raise PermissionDenied(state.denied) from None
                raise
            finally:
                if autocheckpoint is not None:
                    _driver(conn).execute(f"PRAGMA wal_autocheckpoint = {autocheckpoint:d}")
                state.reset()

    def _start_reads(self, conn: Connection, key: bool, username: str | None) -> dict[str, Any]:
        """On a server, what a write reads first, under the write lock, sent at once (one round trip
        where each took one): the database's write key (*key*), the account's role (*username*), the
        write mark and, when the program's last write began cleanly (the journal's head is then read
        just after the mark, see :meth:`_before_write`), the journal's head."""
        wanted: dict[str, pg.Statement] = {}
        if key:
            wanted["key"] = (_WRITE_KEY_SQL, None)
        if username is not None:
            wanted["role"] = (_ROLE_SQL, (username,))
        if self.guard.anchoring:
            wanted["mark"] = (guard_mod.MARK_SQL, None)
            if self._server_mark is not None:
                wanted["head"] = (guard_mod.HEAD_SQL, None)
        return pg.first_rows(conn, wanted)

    def _same_write_key(self, conn: Connection, early: Mapping[str, Any]) -> None:
        """On a server keeping the bureau's keys: this program still holds the database's write key
        (an administrator may have replaced it since this program connected, to revoke a PC). Read
        after the write lock, so no write with a revoked key can follow the change. *early*: what
        :meth:`_start_reads` read."""
        from dsj_desktop.db import server_keys

        row = early["key"] if "key" in early else conn.exec_driver_sql(_WRITE_KEY_SQL).first()
        current = row[0] if row is not None else None
        if current is not None and current != self.guard.public_key.hex():
            raise DatabaseError(server_keys.STALE_WRITE_KEY)

    @staticmethod
    def _defer_checkpoint(conn: Connection) -> int:
        """Before the COMMIT of a write that stored a long text asking for it (a signed draw record,
        ~9 MB at city scale): no checkpoint by this COMMIT (SQLite's automatic one would copy those pages
        from the WAL into the database file and sync it before the COMMIT returns). The COMMIT itself
        is as durable as any (synchronous = FULL: the WAL is synced); the copy is made just after, by
        :meth:`_checkpoint_later`. Returns the connection's setting, restored after the COMMIT."""
        dbapi = _driver(conn)
        pages = int(dbapi.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        dbapi.execute("PRAGMA wal_autocheckpoint = 0")
        return pages

    def _checkpoint_later(self) -> None:
        """Copy the WAL into the database file (a passive checkpoint: it waits for nobody and blocks
        nobody) in a thread of its own, after the COMMIT of a long text: the draw step returns without
        waiting for it. One such thread at a time; a request made while it runs is served by it."""
        with self._checkpoint_lock:
            self._checkpoint_wanted = True
            if self._checkpoint_thread is not None:
                return
            self._checkpoint_thread = threading.Thread(
                target=self._checkpoints, name="dsj-checkpoint", daemon=True
            )
            self._checkpoint_thread.start()

    def _checkpoints(self) -> None:
        while True:
            with self._checkpoint_lock:
                if not self._checkpoint_wanted:
                    self._checkpoint_thread = None
                    return
                self._checkpoint_wanted = False
            try:  # a connection of its own, closed at once (its memory freed; the pool's are kept)
                raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                try:
                    raw.execute("PRAGMA synchronous = FULL")
                    raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    raw.close()
            except Exception:  # (a later COMMIT's automatic checkpoint copies the WAL then)
                pass

    def wait_for_checkpoint(self) -> None:
        """Until the checkpoint asked by :meth:`_checkpoint_later` (if any) is done."""
        thread = self._checkpoint_thread
        if thread is not None:
            thread.join()

    def _before_write(
        self, conn: Connection, state: TxState, unchanged: Any = None, early: Mapping[str, Any] | None = None
    ) -> guard_mod.WriteMark | None:
        """Before a write: does the journal still end where the anchor file says, and does every table
        hold as many rows as the last entry logged? If not, something outside the program changed the
        database since: that goes into the journal first (and ``check`` reports it from then on).

        *unchanged* (SQLite): what this connection's last write left (the journal's head and SQLite's
        change marks, :func:`_change_marks`). When the journal still ends there and no connection has
        committed since, nor has this one changed a row or the schema, every table holds the rows that
        entry logged: they need no counting.

        On a server the same is proven from transaction ids (:func:`guard.write_mark`). Every change
        of a row or of the schema, by whatever session, with the triggers on or lifted, inside a
        savepoint or not, is made by a transaction holding an id; ids are drawn one after the other,
        cluster-wide. A write's start is *clean* when every id below its own had ended before it
        began (none in progress, none drawn between its snapshot and its own id) and the tables are
        plain local tables. Let W be this program's last write that began cleanly and committed, with
        id X and head H (``_server_mark``), and let this write begin cleanly, on the same server run,
        with id X + 1 (or X + k, the ids between being the program's own workstation notes, which
        change only a table never counted: :meth:`hold_live`) and find the journal ending at H:

        * a transaction with an id below X had ended before W began: W counted its rows (or took
          counts proven the same way), and read its notes in ``dsj_change``;
        * no other id was drawn after X: no other transaction changed anything after W began, nor
          while it ran (W's own savepoints would have drawn ids too);
        * a transaction drawing an id after this write's drew it after this write's snapshot: it is
          invisible here (and the next write, finding an id between, counts);
        * W's own transaction changed rows only in the tables its entry counted again at its end, as
          the server itself counts them (:meth:`_counted_all`: a trigger planted to delete rows with
          the capture trigger lifted, inside the program's own write, is seen there);

        so every table holds the rows H logged, and ``dsj_change`` holds no foreign note: neither is
        read. Anything else — another workstation's write, a tool's change, autovacuum's ANALYZE,
        a transaction begun before W and still open, a server restarted — draws an id, is in progress
        or shows, and the tables are counted as before. Returns this write's mark when its start was
        clean (for ``_server_mark`` once it commits), else None. *early*: the rows
        :meth:`_start_reads` read (the mark, the head)."""
        on_server = pg.is_pg(conn)
        mark: guard_mod.WriteMark | None = None
        known: tuple[int, str, dict[str, int]] | None = None  # the head, and the counts proven to stand
        if on_server:
            mark = guard_mod.write_mark(conn, early)
            last = self._server_mark
            if (
                mark is not None
                and last is not None
                and last[2] == mark.started
                and self._only_own_between(last[1], mark.xid)
            ):
                seq, h, logged = guard_mod.journal_head(conn, early)
                if logged is not None and (seq, h) == last[0]:
                    known = (seq, h, logged)
        if known is None:
            names = guard_mod.table_names(conn)
            if "journal" not in names:
                state.start_head = (0, guard_mod.GENESIS)  # a new file: created in this transaction
                return None
            seq, h, logged = guard_mod.journal_head(conn)
        state.start_head = (seq, h)
        if state.system and state.bulk:
            return None  # an upgrade step (the checks come before and after it)
        problems = []
        if on_server and known is None:  # rows changed on the server by other means with the triggers on
            foreign = pg.foreign_changes(conn)
            if foreign:
                problems += [f"{guard_mod.table_title(t)}（{t}）第 {r} 行 {op}" for t, op, r in foreign[:50]]
                conn.exec_driver_sql("DELETE FROM dsj_change")
        try:
            found = anchor.read(self.data_dir, self.guard.public_key)
        except anchor.AnchorError as exc:
            problems.append(str(exc))
        else:
            if found is None:
                if self.guard.anchor_expected:
                    problems.append("锚定文件缺失（被删除或移走）")
            else:
                diff = anchor.compare(found, anchor.Head(seq, h), lambda n: _hash_at(conn, n))
                if diff is not None and diff[0] != "stale":  # stale: this write brings it up to date
                    problems.append(diff[1])
        if known is not None:
            counts = dict(known[2])
        elif unchanged is not None and logged is not None and unchanged == ((seq, h), *_change_marks(conn)):
            counts = dict(logged)
        else:
            counts = guard_mod.table_counts(conn, names)
        state.start_counts = dict(counts)  # the end of the write counts only the tables it changed
        if logged is not None:
            problems += guard_mod.count_differences(logged, counts)
        if problems:  # on record from now on, with the counts found (the next write compares with them)
            state.head = guard_mod.append(conn, self.guard, now_iso(), "系统", guard_mod.OUTSIDE_CHANGE,
                                          {"problems": problems, guard_mod.STATE_KEY: counts})  # fmt: skip
        return mark

    @staticmethod
    def _counted_all(conn: Connection, state: TxState, mark: guard_mod.WriteMark) -> bool:
        """On a server, just before the COMMIT of a write: the server's own counts of what this
        transaction changed show rows inserted or deleted only in tables whose rows the journal entry
        counted again at its end (:func:`guard.end_counts`) — not, say, by a trigger someone added that
        works with the capture trigger lifted —, and ``dsj_change`` holds no note (the write removed
        its own and any found when it began). Else the next write counts every table and reads
        ``dsj_change``."""
        start = state.start_counts or {}
        row = state.xact_row or conn.exec_driver_sql(guard_mod.XACT_END_SQL).one()  # (read by flush)
        changed = pg.xact_changes(row[:4], mark.counts)
        if changed is None or row[4]:
            return False
        recounted = set(start) if state.system else set(state.counts) | state.copied
        return not (changed & set(start)) - recounted

    def _only_own_between(self, earlier: int, xid: int) -> bool:
        """Whether every transaction id drawn after *earlier* and before *xid* is one of this
        program's own that changed only its bookkeeping (none, mostly)."""
        own = self._own_xids
        return (
            earlier < xid and xid - earlier - 1 <= len(own) and all(x in own for x in range(earlier + 1, xid))
        )

    def hold_live(self, session_id: str) -> lock.Held | None:
        """Hold "draw session *session_id* is alive in this process" where every workstation sees it
        (a lock file in the data folder; on a server, an advisory lock); None if held elsewhere."""
        if self.url is not None:
            held = pg.hold_live(self.engine, session_id)
            if held is not None and held.xid is not None:
                self._own_xids.add(held.xid)
            return held
        return lock.hold(self.data_dir / f"draw-{session_id}.lock")

    def renew_live(self, session_id: str, held: lock.Held | None) -> lock.Held | None:
        """*held* (from :meth:`hold_live`) if it still holds; on a server, a hold lost with its
        connection (this workstation off the network for over a minute: the server ended its session)
        is taken again, so other workstations see the session alive here once more."""
        if isinstance(held, pg.LiveHold) and held.lost():
            held.close()
            return self.hold_live(session_id)
        return held

    def live_elsewhere(self, session_id: str) -> str | None:
        """Whether another running program holds *session_id* alive: None if not, else the
        workstation's name on a server ("" on the SQLite file, where it is this computer)."""
        if self.url is not None:
            return pg.live_elsewhere(self.engine, session_id)
        return "" if lock.held_elsewhere(self.data_dir / f"draw-{session_id}.lock") else None

    def journal_head(self) -> dict[str, Any]:
        """The journal's head — {"seq": number of the last entry, "hash": its hash} — for a manifest
        or a signed record to carry (see :mod:`dsj_desktop.db.anchor`)."""
        with self.read() as conn:
            seq, h, _ = guard_mod.journal_head(conn)
        return {"seq": seq, "hash": h}

    def record(self, action: str, detail: Mapping[str, Any] | None = None) -> None:
        """A journal entry for work that changes no rows (an export, a backup, a check)."""
        with self.write(action, detail, journal=True, system=True):
            pass

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

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        with self.read() as conn:
            return conn.exec_driver_sql(sql, dict(params or {})).scalar()

    def schema_version(self) -> int:
        with self.read() as conn:
            return guard_mod.schema_version(conn)

    def backup_to(self, dest: Path) -> Path:
        """A consistent copy of the whole database via SQLite's online backup API: one file, readable
        by its owner only, in rollback-journal mode (reading it later leaves no -wal/-shm beside it).
        On a PostgreSQL server: pg_dump's custom format (see :mod:`dsj_desktop.db.pg_backup`)."""
        private_dir(dest.parent)
        private_file(dest)
        if self.url is not None:
            from dsj_desktop.db import pg_backup

            return pg_backup.dump(self.url, dest)
        raw = self.engine.raw_connection()
        try:
            src = raw.driver_connection
            assert isinstance(src, sqlite3.Connection)
            with sqlite3.connect(dest) as out:
                src.backup(out)
            out.execute("PRAGMA journal_mode = DELETE")
            out.close()
        finally:
            raw.close()
        return dest

    def close(self) -> None:
        if self.key_source is not None:
            from dsj_desktop.keys import use_server_keys

            self.key_source.lock()
            use_server_keys(self.data_dir, None, only=self.key_source)
        self.wait_for_checkpoint()
        self.engine.dispose()


def private_dir(path: Path) -> None:
    """A folder only its owner can open (0700 on Linux; on Windows the user's profile folder already
    keeps other accounts out, see docs/security.md)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(path, 0o700)


def private_file(path: Path) -> None:
    """Create *path* empty (if needed) readable and writable by its owner only (0600 on Linux)."""
    if os.name == "posix":
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)


def _hash_at(conn: Connection, seq: int) -> str | None:
    row = conn.exec_driver_sql("SELECT hash FROM journal WHERE id = ?", (seq,)).first()
    return None if row is None else str(row[0])


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
    ext = ".pgdump" if db.on_server else ".sqlite3"
    dest = backups_dir(db.data_dir) / f"upgrade-v{old}-to-v{new}-{stamp}{ext}"
    return db.backup_to(dest)


def open_database(
    data_dir: Path,
    *,
    url: str | None = None,
    migrations: Mapping[int, Step] | None = None,
    target_version: int | None = None,
) -> Database:
    """Open (creating if needed) the data file in *data_dir*, upgrading it to the current schema.
    With a server (*url*, else ``DSJ_DATABASE_URL``, else the data folder's saved server, see
    :func:`dsj_desktop.db.pg.resolve_url`) the database is there; the data folder keeps the keys.

    *migrations* and *target_version* exist for tests of the upgrade mechanism.
    """
    steps = MIGRATIONS if migrations is None else migrations
    latest = SCHEMA_VERSION if target_version is None else target_version
    private_dir(data_dir)
    path = database_path(data_dir)
    server = pg.resolve_url(data_dir, url)
    if server is None:
        _check_file(path)
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if p == path or p.exists():
                private_file(p)  # SQLite gives -wal and -shm the main file's mode
    # On a server the journal key is the database's (db/server_keys.py), known once it is read.
    before = _local_files(data_dir) if server is None else set()
    guard = make_guard(data_dir) if server is None else Guard(b"", None, b"")
    if server is None:
        db = Database(path, make_engine(path, guard), guard)
    else:
        db = Database(
            path, pg.make_engine(server, _connection_state(guard)), guard, pg.without_password(server)
        )
    guard.migrating = True  # only the steps below may write as 系统 beyond login bookkeeping
    try:
        version = db.schema_version()
        with db.read() as conn:
            if server is None:
                has_tables = conn.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_master WHERE type='table'"
                ).scalar()
            else:
                has_tables = len(pg.table_names(conn))
                if has_tables and pg.meta(conn, "application") != "DSJ1":
                    raise DatabaseError(
                        f"服务器数据库“{db.location}”是其他程序的数据库，不是本程序的数据库。"
                        "为保护数据，程序不会改动它；请连接为本程序新建的空数据库。"
                    )
                _server_keys(db, conn, fresh=version == 0 and not has_tables)
        # A file of schema 6 on has an anchor file: its absence is a finding from the first write on.
        db.guard.anchoring = db.guard.anchor_expected = version >= ANCHORED_FROM
        if server is not None and not anchor.anchor_path(data_dir).exists():
            db.guard.anchor_expected = False  # a workstation new to the shared server starts its own
        if version == 0 and not has_tables:
            _create_fresh(db, latest)
            if server is None:
                db.made_here = sorted(_local_files(data_dir) - before)
        elif version > latest:
            raise DatabaseError(
                f"数据文件“{path}”由较新版本的程序写入（数据库版本 {version}），"
                f"本程序只支持到版本 {latest}。为保护数据，程序不会打开或改动它；请安装新版本的程序。"
            )
        else:
            earlier = _trigger_problems(db) if _guarded(db) else []  # before an upgrade touches them
            if version < latest:
                _upgrade(db, version, latest, steps)
            _start_guard(db, earlier)
        db.guard.anchor_expected = db.guard.anchoring and (
            server is None or anchor.anchor_path(data_dir).exists()
        )
    except BaseException:
        db.close()
        raise
    finally:
        guard.migrating = False
    return db


def _local_files(data_dir: Path) -> set[Path]:
    """The SQLite file and the folder's own key files (record key, PDF key and certificate) there now."""
    from dsj_desktop.keys import KEYS_DIRNAME, PDF_CERT_FILE, PDF_KEY_FILE, RECORD_KEY_FILE

    path = database_path(data_dir)
    names = [
        path,
        *(Path(data_dir) / KEYS_DIRNAME / n for n in (RECORD_KEY_FILE, PDF_KEY_FILE, PDF_CERT_FILE)),
    ]
    return {p for p in names if p.exists() and (p != path or p.stat().st_size > 0)}


def discard_unused(db: Database) -> bool:
    """A workstation joining a server on its first start (the first-run wizard's 本单位已有服务器)
    opened the data folder's SQLite file first, which made the file and its own signing keys: when
    nobody used that file (no account, nothing in its journal but the program's own entries), it
    is closed and removed with the keys made for it, so that the folder holds no keys that are not
    the bureau's. They are made again if the file is used later (断开服务器). True: removed."""
    from dsj_desktop.keys import KEYS_DIRNAME

    if db.on_server or not db.made_here:
        return False
    with db.read() as conn:
        used = conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM account) + (SELECT count(*) FROM journal WHERE actor <> '系统')"
        ).scalar()
    if used:
        return False
    db.close()
    path = database_path(db.data_dir)
    for p in (*db.made_here, Path(f"{path}-wal"), Path(f"{path}-shm"), anchor.anchor_path(db.data_dir)):
        p.unlink(missing_ok=True)
    db.made_here = []
    keys_dir = Path(db.data_dir) / KEYS_DIRNAME
    if keys_dir.is_dir() and not any(keys_dir.iterdir()):
        keys_dir.rmdir()
    return True


def _server_keys(db: Database, conn: Connection, *, fresh: bool) -> None:
    """A server database keeps the bureau's keys (db/server_keys.py); one made before that scheme
    keeps using the data folder's own keys, which must be the registered ones."""
    from dsj_desktop.db import server_keys

    if fresh:
        rows, write, items = server_keys.new_vault(db.data_dir, db.location)
        server_keys.configure(db, write)
        record, pdf = bytes.fromhex(rows["record_key"]), bytes.fromhex(rows["pdf_key"])
        server_keys.register(db, record, pdf, conn).prime(items)
        db.fresh_meta = rows
    elif server_keys.is_vaulted(conn):
        server_keys.attach(db, conn)
    else:
        local = make_guard(db.data_dir)
        db.guard.seal_key = local.seal_key
        db.guard.set_signer(local.sign, local.public_key)
        _check_bureau_key(db, conn)


def _check_bureau_key(db: Database, conn: Connection) -> None:
    """On a shared server every workstation must hold the bureau's one record key: its fingerprint
    is registered in the database when it is created, and a workstation with another key is refused
    (its seals and signatures would not verify anywhere else)."""
    from dsj_desktop.keys import sha256_fingerprint

    registered = pg.meta(conn, "record_key")
    if registered is None:
        return
    mine = db.guard.public_key.hex()
    if registered != mine:
        raise DatabaseError(
            f"本机数据文件夹中的抽取记录密钥（指纹 {sha256_fingerprint(db.guard.public_key)[:29]}…）"
            f"不是服务器数据库“{db.location}”登记的本局密钥（指纹 "
            f"{sha256_fingerprint(bytes.fromhex(registered))[:29]}…）。同一单位的各台电脑必须使用同一套本局密钥："
            "请由管理员把本局密钥（keys 文件夹）复制到本机的数据文件夹后再连接。"
        )


def _set_version(conn: Connection, version: int) -> None:
    if pg.is_pg(conn):
        pg.set_meta(conn, "schema_version", str(int(version)))
        pg.set_meta(conn, "application", "DSJ1")
    else:
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")


def _guarded(db: Database) -> bool:
    if db.on_server:
        with db.read() as conn:
            return "row_seal" in pg.table_names(conn)
    with db.read() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='row_seal'"
            ).scalar()
        )


def _trigger_problems(db: Database) -> list[tuple[str, str]]:
    with db.read() as conn:
        return guard_mod.trigger_differences(guard_mod.program_triggers(conn), guard_mod.all_triggers(conn))


def _earlier_guard_version(
    problems: list[tuple[str, str]], want: Mapping[str, str], have: Mapping[str, str]
) -> bool:
    """Whether the only difference is a complete set of guard triggers of an earlier program version
    (replaced quietly: the seals are left as they are, so nothing changed meanwhile is hidden)."""
    p = guard_mod.TRIGGER_PREFIX
    if any(not name.startswith(p) for name, _ in problems):
        return False
    old = {n for n in have if n.startswith(p)}
    versions = {n[len(p) :].split("_", 1)[0] for n in old}
    if len(versions) != 1:
        return False
    (v,) = versions
    if not (v[:1] == "v" and v[1:].isdigit() and int(v[1:]) < guard_mod.GUARD_VERSION):
        return False
    now = f"{p}v{guard_mod.GUARD_VERSION}_"
    return {now + n[len(p) + len(v) + 1 :] for n in old} == {n for n in want if n.startswith(p)}


def _start_guard(db: Database, earlier: list[tuple[str, str]] | None = None) -> None:
    """Triggers exactly as the program makes them, the account flag, and — when the file's triggers
    were not the program's own (removed, changed, or others added with another tool) — a warning for
    the start page and a journal entry that ``check`` reports from then on. Seals are not touched."""
    if not _guarded(db):
        return  # a test of the upgrade mechanism stopped before version 4
    with db.read() as conn:
        want = guard_mod.program_triggers(conn)
        have = guard_mod.all_triggers(conn)
        db.guard.columns = guard_mod.guarded_tables(conn)
        db.guard.accounts_exist = bool(conn.exec_driver_sql("SELECT count(*) FROM account").scalar())
    problems = list(earlier or []) or guard_mod.trigger_differences(want, have)
    if not problems:
        return
    if not earlier and _earlier_guard_version(problems, want, have):
        with db.write("更新数据库保护触发器", system=True, journal=True) as conn:
            guard_mod.install_program_triggers(conn)
        return
    names = [f"{name}（{what}）" for name, what in problems]
    db.warnings.append(
        f"数据库的保护触发器与本程序的不一致（{len(names)} 处：{'、'.join(names[:5])}"
        f"{'……' if len(names) > 5 else ''}），可能有人用其他工具改过数据库。已恢复为本程序的触发器并记入操作日志；"
        "请运行“完整性检查”查看数据是否被改动。"
    )
    with db.write(guard_mod.TRIGGERS_RESTORED, {"triggers": names}, system=True, journal=True) as conn:
        guard_mod.install_program_triggers(conn)


def _create_fresh(db: Database, version: int) -> None:
    # The SQLModel definitions are needed only here (and by the tests that compare schemas): a
    # program opening an existing file never pays for importing them.
    from sqlmodel import SQLModel

    import dsj_desktop.db.models  # noqa: F401  (defines the tables on SQLModel.metadata)
    from dsj_desktop.domain.codelists import seed_code_lists

    db.guard.anchoring = version >= ANCHORED_FROM  # the file's first write makes its first anchor
    with db.write("创建数据文件", {"schema_version": version}, system=True) as conn:
        if db.on_server:
            pg.create_schema(conn)
            for key, value in db.fresh_meta.items():  # the bureau's keys (db/server_keys.py)
                pg.set_meta(conn, key, value)
            db.fresh_meta = {}
        else:
            SQLModel.metadata.create_all(conn)
        _set_version(conn, version)
        if version >= GUARDED_FROM:
            guard_mod.install_program_triggers(conn)
            db.guard.columns = guard_mod.guarded_tables(conn)
        seed_code_lists(conn)


def _inherit_verified(conn: Connection, good: dict[str, set[int]]) -> None:
    """A table an upgrade step filled from another's rows (:data:`~dsj_desktop.db.migrations.DERIVED_ROWS`)
    counts as verified exactly where its source rows verified before the upgrade."""
    for table, (source, sql) in DERIVED_ROWS.items():
        if table in good or source not in good or table not in guard_mod.table_names(conn):
            continue
        ok = good[source]
        good[table] = {int(new_id) for new_id, old_id in conn.exec_driver_sql(sql) if int(old_id) in ok}


def _upgrade(db: Database, old: int, new: int, steps: Mapping[int, Step]) -> None:
    missing = [v for v in range(old, new) if v not in steps]
    if missing:
        raise DatabaseError(f"数据文件版本 {old} 无法升级到 {new}：缺少升级步骤 {missing}。")
    _backup_before_upgrade(db, old, new)
    # Which rows verify now: only those are sealed again once the columns have changed (a row
    # changed with another tool keeps its broken seal, and `check` still names it).
    good: dict[str, set[int]] = {}
    if old >= GUARDED_FROM:
        with db.read() as conn:
            good = guard_mod.verified_rows(conn, db.guard)
    for v in range(old, new):
        # Each step and its version number commit together, or not at all. The triggers are off
        # (bulk) during steps: the file is sealed again once the columns are final.
        with db.write(f"升级数据库：版本 {v} → {v + 1}", system=True, bulk=True) as conn:
            steps[v](conn)
            _set_version(conn, v + 1)
    if new >= ANCHORED_FROM:
        db.guard.anchoring = True  # this last write makes the first anchor of a file upgraded to 6
    if new >= GUARDED_FROM:
        with db.write(
            f"数据库升级到版本 {new}：重新封存核对无误的数据行", system=True, bulk=True, journal=True
        ) as conn:
            if old >= GUARDED_FROM:
                _inherit_verified(conn, good)
            guard_mod.install(conn)
            db.guard.columns = guard_mod.guarded_tables(conn)
            n = guard_mod.reseal_verified(conn, db.guard, good)
        db.warnings.append(f"数据库已从版本 {old} 升级到 {new}（升级前已自动备份），{n} 行数据已重新封存。")
