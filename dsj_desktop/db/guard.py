"""全程留痕 at the database level: every row change is sealed, checked against the account's role
and summarised in the hash-chained journal — whatever code path made it.

How it works. Each data table carries three triggers (generated from its columns at every start):
after an insert or update they store a keyed seal of the new row in ``row_seal``; after a delete
they remove it. The triggers call SQL functions that exist only inside this program, so a SQLite
editor cannot change a row without first removing the triggers, and if it does, the integrity
check finds rows whose seal no longer matches, names the table and row, and reports the missing
triggers. The same functions refuse a change the current account's role does not allow, so the
roles hold in the core whatever the GUI shows. At the end of every write transaction one journal
entry (who, what, which rows, before and after for small changes) is chained to the previous one
and signed with the bureau's Ed25519 key.

Bulk writes (a 100,000-row import) switch the triggers off for their own transaction and seal
their rows in one pass (:func:`seal_rows`): the same seals, computed faster.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from dsj_desktop import actor as actor_mod
from dsj_desktop.db import pg
from dsj_desktop.progress import Job, Progress

UNGUARDED = frozenset({"journal", "row_seal"})
TRIGGER_PREFIX = "dsj_guard_"
GUARD_VERSION = 2  # in every trigger's name: a program with new trigger SQL replaces the old ones quietly
ROWS_IN_JOURNAL = 20  # changes beyond this are counted, not listed
# Columns whose values the journal never copies (it says that they changed, not what they hold).
SECRET_COLUMNS = {"account": frozenset({"password_hash", "recovery_hash"})}
HIDDEN = "〈已隐藏〉"
# What a write as 系统 (``system``) may change once accounts exist, outside the program's own creation,
# upgrade and guard steps (``Guard.migrating``, set only while the data file is opened): an account's
# login bookkeeping, its own password change and a recovery. Nothing else; no row created or deleted.
SYSTEM_COLUMNS = {
    "account": frozenset({"failed_count", "locked_until", "password_hash", "recovery_hash", "updated_at"})
}
SEP = "\x1f"


class GuardError(Exception):
    """Raised inside an SQL function; the transaction rolls back and the message reaches the user."""


@dataclass
class TxState:
    """What one connection's current write transaction has changed so far."""

    bulk: bool = False
    system: bool = False  # internal bookkeeping (logins, upgrades): no role check
    action: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    before: dict[tuple[str, int], list[Any]] = field(default_factory=dict)
    denied: str | None = None
    forced: bool = False  # a journal entry even without row changes (exports, logins)
    role: str | None = None  # the account's role as the database has it now (None: not looked up)
    active: bool = True
    start_head: tuple[int, str] | None = None  # the journal's head when the transaction began
    head: tuple[int, str] | None = None  # the journal's head after this transaction's entries
    keep_unsealed: set[tuple[str, int]] = field(
        default_factory=set
    )  # PostgreSQL: rows a bulk write must not seal
    # PostgreSQL: rows the program inserted and sealed itself in this transaction (their seals stored
    # already), with their values as the journal lists them: not read back at its end, unless changed again.
    known: dict[tuple[str, int], tuple[Any, ...]] = field(default_factory=dict)
    start_counts: dict[str, int] | None = None  # every table's rows when the write began (anchoring)
    copied: set[str] = field(default_factory=set)  # PostgreSQL: tables written with the capture trigger off
    long_text: bool = False  # a long text stored (insert_text_row, SQLite): the WAL checkpointed later
    xact_wanted: bool = False  # PostgreSQL: the engine wants the server's counts at the end (XACT_END_SQL)
    xact_row: tuple[Any, ...] | None = None  # ... as flush read them with the journal entry

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def count(self, table: str, op: str, n: int = 1) -> None:
        t = self.counts.setdefault(table, {})
        t[op] = t.get(op, 0) + n

    @property
    def changed(self) -> bool:
        return bool(self.counts) or self.forced


def _encode_other(v: Any) -> str:
    if v is None:
        return "\x00"
    if isinstance(v, bool):
        return f"i{int(v)}"
    if isinstance(v, int):
        return f"i{v}"
    if isinstance(v, float):
        return f"f{v!r}"
    if isinstance(v, bytes):
        return "b" + v.hex()
    return "s" + str(v)


def _encode(values: Iterable[Any]) -> bytes:
    """Each value tagged with its type, joined by U+001F (text and integers on the fast path: a
    100,000-row import seals every row)."""
    return SEP.join(
        [
            ("s" + v) if type(v) is str else ("i" + str(v)) if type(v) is int else _encode_other(v)
            for v in values
        ]
    ).encode("utf-8")


JOURNAL_VALUE_CHARS = 300


def _brief(v: Any) -> Any:
    """A value as the journal shows it: long texts (a draw's frozen inputs, a signed record) by
    their length and SHA-256, so the journal names them without copying megabytes."""
    if isinstance(v, bytes):
        return f"〈{len(v)} 字节，SHA-256 {hashlib.sha256(v).hexdigest()[:16]}…〉"
    if isinstance(v, str) and len(v) > JOURNAL_VALUE_CHARS:
        digest = hashlib.sha256(v.encode("utf-8")).hexdigest()[:16]
        return f"{v[:80]}…〈共 {len(v):,} 字符，SHA-256 {digest}…〉"
    return v


class Guard:
    """The seal key, the journal key and the per-connection functions of one data file."""

    def __init__(self, seal_key: bytes, sign: Any, public_key: bytes) -> None:
        self.seal_key = seal_key
        self._sign = sign  # bytes -> signature bytes
        self.public_key = public_key
        self.accounts_exist = False  # kept up to date by the accounts service
        self.migrating = False  # while the data file is opened: creation, upgrades, the guard's triggers
        self.columns: dict[str, list[str]] = {}
        self.anchoring = False  # the journal's head is kept in the anchor file (schema 6 on)
        self.anchor_expected = (
            False  # a missing anchor file is a finding (not a file being created or upgraded)
        )
        # The last row with a long text the program inserted on a server and sealed itself (a draw's
        # 9 MB frozen inputs), kept so that checking it later needs no read of that text (see
        # :func:`_kept_values`); None when there is none.
        self.long_row: LongRow | None = None

    # --- seals ---------------------------------------------------------------------------

    def seal(self, table: str, rowid: int, values: Sequence[Any]) -> bytes:
        data = _encode((table, rowid, *values))
        return hashlib.blake2b(data, key=self.seal_key, digest_size=16).digest()

    def sign(self, data: bytes) -> bytes:
        return bytes(self._sign(data))

    def set_signer(self, sign: Any, public_key: bytes) -> None:
        """The journal key, once known (a server database names it; see db/server_keys.py)."""
        self._sign = sign
        self.public_key = public_key

    # --- permissions ---------------------------------------------------------------------

    def check(self, st: TxState, table: str) -> None:
        if not self.accounts_exist:
            return
        if st.system:
            if self.migrating or table in SYSTEM_COLUMNS:
                return
            st.denied = (
                f"“系统”身份只用于程序自身的数据库升级和登录记录，不能修改{_TABLE_TITLES.get(table, table)}。"
            )
            raise GuardError(st.denied)
        who = actor_mod.current()
        # The role the database holds now, not the one at login: a change by an administrator
        # (a new role, a disabled account) applies to the very next write.
        role = st.role if st.role is not None else (who.role if who else None)
        if who is None:
            st.denied = (
                "此数据文件夹已设置账户，修改数据前需要登录（命令行请用 --user 指定账户，"
                "密码从终端输入或由环境变量 DSJ_PASSWORD 提供）。"
            )
        elif not st.active:
            st.denied = f"账户“{who.label}”已被停用，不能再修改数据。"
        elif not actor_mod.may_write(role, table):
            title = actor_mod.ROLE_TITLES.get(role or "", role or "")
            st.denied = f"账户“{who.label}”的角色是“{title}”，无权修改{_TABLE_TITLES.get(table, table)}。"
        else:
            return
        raise GuardError(st.denied)

    def check_system_row(
        self, st: TxState, table: str, op: str, before: list[Any] | None, after: Sequence[Any]
    ) -> None:
        """A write as 系统 changes only the bookkeeping columns of an existing row (see SYSTEM_COLUMNS)."""
        if not st.system or self.migrating or not self.accounts_exist:
            return
        allowed = SYSTEM_COLUMNS.get(table, frozenset())
        cols = self.columns.get(table, [])
        changed = (
            {c for c, b, a in zip(cols, before, after, strict=False) if b != a}
            if before is not None
            else None
        )
        if op != "U" or changed is None or not changed <= allowed:
            st.denied = f"“系统”身份不能新增、删除或修改{_TABLE_TITLES.get(table, table)}的这些内容。"
            raise GuardError(st.denied)

    # --- SQL functions, registered on every connection -----------------------------------

    def register(self, dbapi: sqlite3.Connection, st: TxState) -> None:
        def bulk() -> int:
            return 1 if st.bulk else 0

        def old(table: str, rowid: int, *values: Any) -> None:
            self.check(st, table)
            if len(st.rows) < ROWS_IN_JOURNAL or st.system:
                st.before[(table, rowid)] = list(values)

        def new(table: str, op: str, rowid: int, *values: Any) -> bytes:
            self.check(st, table)
            if st.system:
                self.check_system_row(st, table, op, st.before.get((table, rowid)), values)
            st.count(table, "insert" if op == "I" else "update")
            if len(st.rows) < ROWS_IN_JOURNAL:
                before = st.before.pop((table, rowid), None)
                st.rows.append(describe_row(table, op, rowid, self.columns.get(table, []), before, values))
            return self.seal(table, rowid, values)

        def gone(table: str, rowid: int) -> None:
            self.check(st, table)
            if st.system:
                self.check_system_row(st, table, "D", None, ())
            st.count(table, "delete")
            if len(st.rows) < ROWS_IN_JOURNAL:
                st.rows.append({"table": table, "op": "D", "rowid": rowid})

        dbapi.create_function("dsj_bulk", 0, bulk, deterministic=False)
        dbapi.create_function("dsj_old", -1, old)
        dbapi.create_function("dsj_new", -1, new)
        dbapi.create_function("dsj_gone", 2, gone)


def describe_row(
    table: str, op: str, rowid: int, cols: Sequence[str], before: Sequence[Any] | None, values: Sequence[Any]
) -> dict[str, Any]:
    """A changed row as the journal lists it: its values when new, the changed columns when updated."""
    row: dict[str, Any] = {"table": table, "op": op, "rowid": rowid}
    after = dict(zip(cols, values, strict=False))
    secret = SECRET_COLUMNS.get(table, frozenset())
    if before is not None:
        prev = dict(zip(cols, before, strict=False))
        row["changed"] = {
            k: [HIDDEN, HIDDEN] if k in secret else [_brief(prev.get(k)), _brief(v)]
            for k, v in after.items()
            if prev.get(k) != v
        }
    else:
        row["values"] = {k: HIDDEN if k in secret else _brief(v) for k, v in after.items()}
    return row


_TABLE_TITLES = {
    "*": "数据", "setting": "设置", "account": "账户", "holiday_year": "节假日安排", "holiday_day": "节假日安排", "target": "检查对象名录库",
    "inspector": "执法检查人员名录库", "expert": "专家库", "conflict": "回避关系", "code_value": "代码表",
    "item": "抽查事项清单", "plan": "年度抽查计划", "task": "抽查任务", "draw_session": "抽取场次", "draw_input": "抽取场次的冻结输入",
    "task_item": "任务的抽查事项", "draw_event": "抽取过程记录", "draw_selection": "抽中的检查对象",
    "draw_member": "检查组成员", "draw_record": "签名的抽取记录", "inspection_result": "检查结果",
    "result_version": "检查结果历次版本", "publication": "结果公示", "publication_item": "公示条目",
}  # fmt: skip


def table_title(table: str) -> str:
    return _TABLE_TITLES.get(table, table)


# --- triggers ---------------------------------------------------------------------------------


def guarded_tables(conn: Connection) -> dict[str, list[str]]:
    """Every data table and its columns, in table order."""
    if pg.is_pg(conn):
        return {t: pg.columns(conn, t) for t in pg.table_names(conn) if t not in UNGUARDED | pg.INTERNAL}
    names = [
        r[0]
        for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {
        t: [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info('{t}')")]
        for t in names
        if t not in UNGUARDED
    }


def trigger_sql(table: str, columns: Sequence[str]) -> dict[str, str]:
    # Delete-then-insert rather than INSERT OR REPLACE: inside a trigger, the conflict clause of the
    # outer statement (e.g. an upsert) would override OR REPLACE.
    new = ", ".join(f'NEW."{c}"' for c in columns)
    old = ", ".join(f'OLD."{c}"' for c in columns)
    p = f"{TRIGGER_PREFIX}v{GUARD_VERSION}_{table}"
    forget = f"DELETE FROM row_seal WHERE tbl = '{table}' AND row_id IN (OLD.rowid, NEW.rowid); "
    return {
        f"{p}_ins": (
            f'CREATE TRIGGER "{p}_ins" AFTER INSERT ON "{table}" WHEN dsj_bulk() = 0 BEGIN '
            f"DELETE FROM row_seal WHERE tbl = '{table}' AND row_id = NEW.rowid; "
            f"INSERT INTO row_seal (tbl, row_id, seal) "
            f"VALUES ('{table}', NEW.rowid, dsj_new('{table}', 'I', NEW.rowid, {new})); END"
        ),
        f"{p}_upd": (
            f'CREATE TRIGGER "{p}_upd" AFTER UPDATE ON "{table}" WHEN dsj_bulk() = 0 BEGIN '
            f"SELECT dsj_old('{table}', OLD.rowid, {old}); "
            + forget
            + f"INSERT INTO row_seal (tbl, row_id, seal) "
            f"VALUES ('{table}', NEW.rowid, dsj_new('{table}', 'U', NEW.rowid, {new})); END"
        ),
        f"{p}_del": (
            f'CREATE TRIGGER "{p}_del" AFTER DELETE ON "{table}" WHEN dsj_bulk() = 0 BEGIN '
            f"SELECT dsj_gone('{table}', OLD.rowid); "
            f"DELETE FROM row_seal WHERE tbl = '{table}' AND row_id = OLD.rowid; END"
        ),
    }


def capture_trigger_name(table: str) -> str:
    """PostgreSQL: the name of *table*'s capture trigger (see :func:`dsj_desktop.db.pg.capture_trigger`)."""
    return f"{TRIGGER_PREFIX}v{GUARD_VERSION}_{table}"


def expected_triggers(conn: Connection) -> dict[str, str]:
    out: dict[str, str] = {}
    server = pg.is_pg(conn)
    for table, cols in guarded_tables(conn).items():
        if server:
            name = capture_trigger_name(table)
            out[name] = pg.capture_trigger(name, table)
        else:
            out.update(trigger_sql(table, cols))
    return out


def installed_triggers(conn: Connection) -> dict[str, str]:
    if pg.is_pg(conn):
        return {k: v for k, v in pg.all_triggers(conn).items() if k.startswith(TRIGGER_PREFIX)}
    return {
        r[0]: r[1]
        for r in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?",
            (TRIGGER_PREFIX + "%",),
        )
    }


def all_triggers(conn: Connection) -> dict[str, str]:
    """Every trigger in the file, whoever made it."""
    if pg.is_pg(conn):
        return pg.all_triggers(conn)
    return {
        r[0]: r[1] for r in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    }


def program_triggers(conn: Connection) -> dict[str, str]:
    """Exactly the triggers this program puts in a file of this schema version: the guard's and the
    ``keep_*`` ones that refuse deleting or rewriting records."""
    from dsj_desktop.db.migrations import keep_triggers

    version = schema_version(conn)
    return {**expected_triggers(conn), **keep_triggers(version, server=pg.is_pg(conn))}


def schema_version(conn: Connection) -> int:
    if pg.is_pg(conn):
        return pg.schema_version(conn)
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)


def _drop_trigger(conn: Connection, name: str) -> None:
    if pg.is_pg(conn):
        pg.drop_trigger(conn, name)
    else:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')


def _create_trigger(conn: Connection, sql: str) -> None:
    if pg.is_pg(conn):
        pg.create_trigger(conn, sql)
    else:
        conn.exec_driver_sql(sql)


def trigger_differences(want: dict[str, str], have: dict[str, str]) -> list[tuple[str, str]]:
    """(trigger, 缺失/多出/被改动) for every difference between the program's set and the file's."""
    out = []
    for name in sorted(set(want) | set(have)):
        if want.get(name) != have.get(name):
            out.append((name, "缺失" if name not in have else "多出" if name not in want else "被改动"))
    return out


def install_program_triggers(conn: Connection) -> None:
    """Make the file's triggers exactly the program's own: drop any other, create what is missing."""
    if pg.is_pg(conn):
        pg.install_functions(conn)
    want = program_triggers(conn)
    have = all_triggers(conn)
    for name, sql in have.items():
        if want.get(name) != sql:
            _drop_trigger(conn, name)
    for name, sql in want.items():
        if have.get(name) != sql:
            _create_trigger(conn, sql)


def install(conn: Connection) -> int:
    """(Re)create the triggers whose SQL differs from what the current columns need; returns how many."""
    if pg.is_pg(conn):
        pg.install_functions(conn)
    want = expected_triggers(conn)
    have = installed_triggers(conn)
    changed = 0
    for name, sql in have.items():
        if want.get(name) != sql:
            _drop_trigger(conn, name)
    for name, sql in want.items():
        if have.get(name) != sql:
            _create_trigger(conn, sql)
            changed += 1
    return changed


def seal_rows(conn: Connection, guard: Guard, table: str, where: str = "", params: Sequence[Any] = ()) -> int:
    """Seal rows written with the triggers off (bulk writes, upgrades): one pass, the same seals."""
    if pg.is_pg(conn):
        return pg.seal_where(conn, guard.seal, table, where.replace("rowid", "t.rowid"), params)
    cols = guard.columns.get(table) or [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info('{table}')")]
    quoted = ", ".join(f'"{c}"' for c in cols)
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    rows = dbapi.execute(f'SELECT rowid, {quoted} FROM "{table}" {where}', tuple(params)).fetchall()
    seal = guard.seal
    _store_seals(conn, [(table, r[0], seal(table, r[0], r[1:])) for r in rows])  # not in a trigger: fine
    return len(rows)


def unverified_rows(conn: Connection, guard: Guard, table: str, rowids: Sequence[int]) -> set[int]:
    """Which of these rows do not match their seal now (changed outside the program). A bulk update
    must not seal them again: that would hide the outside change (see :func:`reseal_verified`). On a
    server, rows the current transaction has changed itself are not among them (checked at its end)."""
    if pg.is_pg(conn):
        return _unverified_pg(conn, guard, table, rowids)
    cols = guard.columns.get(table) or [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info('{table}')")]
    quoted = ", ".join(f'"{c}"' for c in cols)
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    bad: set[int] = set()
    for start in range(0, len(rowids), 900):
        chunk = list(rowids[start : start + 900])
        marks = ", ".join("?" * len(chunk))
        seals = dict(
            dbapi.execute(
                f"SELECT row_id, seal FROM row_seal WHERE tbl = ? AND row_id IN ({marks})", (table, *chunk)
            ).fetchall()
        )
        for r in dbapi.execute(f'SELECT rowid, {quoted} FROM "{table}" WHERE rowid IN ({marks})', chunk):
            if seals.get(r[0]) != guard.seal(table, r[0], tuple(r[1:])):
                bad.add(r[0])
    return bad


def pending_rows(conn: Connection, table: str, rowids: Sequence[int]) -> set[int]:
    """Which of these rows the current write transaction has changed and not yet sealed: on a server
    the program seals them when the transaction ends (:func:`settle_server_write`); SQLite's triggers
    seal each change at once, so there are none."""
    if not pg.is_pg(conn) or not rowids:
        return set()
    return {
        int(r[0])
        for r in conn.exec_driver_sql(
            "SELECT row_id FROM dsj_change WHERE tx = txid_current() AND tbl = %s AND row_id = ANY(%s)",
            (table, list(rowids)),
        )
    }


@dataclass(eq=False)
class LongRow:
    """A row the program inserted on a server with long texts given as their UTF-8 and sealed from
    the values it sent (:func:`_insert_known_row`): the table's shape then (:func:`pg.row_shape`), the
    row's seal, its other values as sent, and its long texts (their UTF-8 and length in characters;
    their SHA-256 once computed)."""

    table: str
    rowid: int
    shape: list[tuple[str, int]]
    seal: bytes
    values: dict[str, Any]
    texts: dict[str, bytes]
    chars: dict[str, int | None]
    sha256: dict[str, bytes] = field(default_factory=dict)


def _escaped_pieces(
    data: bytes, known: Mapping[tuple[int, int], tuple[bytes, Sequence[bytes]]] | None
) -> Iterator[bytes]:
    """:func:`pg.json_string_body` of *data* in pieces (:func:`pg.json_string_body_chunks`), where
    *known* gives it for some spans of *data* (start, end: the bytes there and their escaped UTF-8,
    taken as they are when those bytes are the ones at that place in *data*; spans cut between
    characters)."""
    done = 0
    view = memoryview(data)
    for (start, end), (raw, escaped) in sorted((known or {}).items()):
        if start < done or end - start != len(raw) or not data.startswith(raw, start):
            continue  # (never expected: escaped here)
        yield from pg.json_string_body_chunks(bytes(view[done:start]))
        yield from escaped
        done = end
    yield from pg.json_string_body_chunks(bytes(view[done:]) if done else data)


def escaped_ahead(conn: Connection, data: bytes) -> dict[tuple[int, int], tuple[bytes, list[bytes]]] | None:
    """On a server: the escaped UTF-8 (in pieces) a long text whose UTF-8 is *data* is sealed as, made
    ahead of its write (by whoever reads what it will write, before the write begins), for
    :func:`insert_text_row`'s *escaped*; None on SQLite, where a text is sealed as it is."""
    if not pg.is_pg(conn):
        return None
    return {(0, len(data)): (data, list(pg.json_string_body_chunks(data)))}


def forget_long_row(guard: Guard) -> None:
    """Let go of the long texts kept by :class:`LongRow` (some 9 MB at city scale)."""
    guard.long_row = None


def long_text_chars(guard: Guard, table: str, rowid: int, column: str) -> int | None:
    """The length in characters of a long text of the row kept by :class:`LongRow`, if that is the
    row (and its length was known when it was written); else None."""
    kept = guard.long_row
    if kept is None or (kept.table, kept.rowid) != (table, rowid):
        return None
    return kept.chars.get(column)


def _kept(conn: Connection, guard: Guard, table: str, rowid: int, utf8: Collection[str]) -> LongRow | None:
    """The guard's :class:`LongRow` if it is this row, with these long texts, on a connection whose
    texts come as UTF-8 (textsend gives a text in the connection's encoding); else None."""
    kept = guard.long_row
    if kept is None or (kept.table, kept.rowid) != (table, rowid) or set(kept.texts) != set(utf8):
        return None
    dbapi = conn.connection.driver_connection
    if dbapi is None or dbapi.info.encoding != "utf-8":
        return None
    return kept


def _kept_values(dbapi: Any, kept: LongRow) -> dict[str, Any] | None:
    """A server row kept as :class:`LongRow` compared with what was written, without reading its long
    texts: the server gives the SHA-256 of each as stored, the other values and the stored seal. It
    matches its seal when the table has the shape it had, the stored seal is the one made when the
    row was written, and every value is the one written then (each long text: the same SHA-256 as
    the bytes kept). Then its values (the long texts as the bytes kept); else None: the row is to be
    read and its seal computed as usual (:func:`sealed_row`), which tells a change made by other
    means from one the program made since. Only *dbapi* is used (this may run in a thread of its own
    while the caller does other things)."""
    missing = {c: t for c, t in kept.texts.items() if c not in kept.sha256}
    digests: dict[str, bytes] = {}

    def digest() -> None:  # (hashlib lets go of the interpreter's lock over megabytes)
        digests.update((c, hashlib.sha256(t).digest()) for c, t in missing.items())

    worker = threading.Thread(target=digest, name="dsj-sha256", daemon=True)
    worker.start()
    short, longs = list(kept.values), list(kept.texts)
    columns = [f't."{c}"' for c in short] + [f'sha256(textsend(t."{c}"))' for c in longs]
    try:
        with dbapi.cursor() as cur:
            cur.execute(f'SELECT * FROM "{kept.table}" LIMIT 0')
            shape = [(str(d.name), int(d.type_code)) for d in cur.description or ()]
            if shape != kept.shape:
                return None
            cur.execute(
                f"SELECT {', '.join(columns)}, (SELECT seal FROM row_seal WHERE tbl = %s AND row_id = %s) "
                f'FROM "{kept.table}" AS t WHERE t.rowid = %s',
                (kept.table, kept.rowid, kept.rowid),
            )
            found = cur.fetchone()
    finally:
        worker.join()
    kept.sha256.update(digests)
    if found is None:
        return None
    values = dict(zip(short, found[: len(short)], strict=True))
    stored = [_as_bytes(d) for d in found[len(short) : len(short) + len(longs)]]
    if (
        _as_bytes(found[-1]) != kept.seal
        or any(type(values[c]) is not type(v) or values[c] != v for c, v in kept.values.items())
        or stored != [kept.sha256[c] for c in longs]
    ):
        return None
    values.update(kept.texts)
    values["rowid"] = kept.rowid
    return values


def sealed_row(
    conn: Connection, guard: Guard, table: str, rowid: int, utf8: Collection[str] = ()
) -> tuple[dict[str, Any], bool] | None:
    """One row's values by column and whether they match its seal, from one read (what is checked is
    what the caller then uses: a draw's 7 MB inputs are read once); None when there is no such row.
    *utf8*: text columns read as their UTF-8 bytes (sealed as they are, not encoded again)."""
    if pg.is_pg(conn):
        kept = _kept(conn, guard, table, rowid, utf8)
        if kept is not None:  # the row the program wrote last with a long text: that text not read
            known = _kept_values(conn.connection.driver_connection, kept)
            if known is not None:
                return known, True
        # The values as stored, the row's JSON rendered here (a 7 MB text is not converted by the server;
        # the *utf8* ones read, escaped and sealed as their UTF-8).
        as_utf8 = pg.sealed_parts(conn, table, rowid, utf8) if utf8 else None
        if as_utf8 is not None:
            parts, values = as_utf8
            expected = pg.seal_of_text(guard.seal_key, table, rowid, *parts)
        else:
            found_pg = pg.sealed_texts(conn, table, [rowid]).get(rowid)
            if found_pg is None:
                return None
            text, read = found_pg
            expected = pg.seal_of_text(guard.seal_key, table, rowid, text)
            values = read if read is not None else json.loads(text)
    else:
        sqlite_row = _sqlite_row(conn, guard, table, rowid, utf8)
        if sqlite_row is None:
            return None
        cols, found, raw = sqlite_row
        expected = seal_with_utf8(guard, table, rowid, found, raw)
        values = dict(zip(cols, found, strict=True))
    return values, _stored_seal(conn, table, rowid) == expected or bool(pending_rows(conn, table, [rowid]))


def _sqlite_row(
    conn: Connection, guard: Guard, table: str, rowid: int, utf8: Collection[str]
) -> tuple[list[str], tuple[Any, ...], set[int]] | None:
    """SQLite: one row's columns and values (the *utf8* ones as their UTF-8 bytes), and the positions
    of those bytes (sealed as they are); None when there is no such row."""
    cols = guard.columns.get(table) or [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info('{table}')")]
    quoted = ", ".join(f'CAST("{c}" AS BLOB)' if c in utf8 else f'"{c}"' for c in cols)
    found = conn.exec_driver_sql(f'SELECT {quoted} FROM "{table}" WHERE rowid = ?', (rowid,)).first()
    if found is None:
        return None
    values = tuple(found)
    return cols, values, {i for i, c in enumerate(cols) if c in utf8 and type(values[i]) is bytes}


def _stored_seal(conn: Connection, table: str, rowid: int) -> bytes | None:
    return _as_bytes(
        conn.exec_driver_sql(
            "SELECT seal FROM row_seal WHERE tbl = ? AND row_id = ?", (table, rowid)
        ).scalar()
    )


def sealed_row_later(
    conn: Connection, guard: Guard, table: str, rowid: int, utf8: Collection[str] = ()
) -> tuple[dict[str, Any], Callable[[], bool]] | None:
    """:func:`sealed_row`, the values at once and whether they match the seal from the function
    returned: on SQLite the seal of a long row (a draw's 9 MB inputs) is computed in a thread (hashlib
    lets go of the interpreter's lock), while the caller goes on with the values; the function waits
    for it. Whoever uses the values for anything lasting asks it first. On a server, for the row kept
    as :class:`LongRow`, its values are those kept and they are compared with the row in a thread
    (:func:`_kept_values`; the server hashes the long texts meanwhile): the caller leaves the
    connection alone until it asks (or waits for the thread when it uses it). The function says
    whether the values given are the row's and match its seal."""
    if pg.is_pg(conn):
        kept = _kept(conn, guard, table, rowid, utf8)
        if kept is not None:
            dbapi = conn.connection.driver_connection
            compared: dict[str, Any] = {}

            def compare_kept() -> None:
                try:
                    compared["values"] = _kept_values(dbapi, kept)
                except BaseException as exc:  # (raised again by the caller's thread)
                    compared["error"] = exc

            worker = threading.Thread(target=compare_kept, name="dsj-seal-check", daemon=True)
            worker.start()
            given = {**kept.values, **kept.texts, "rowid": rowid}

            def kept_matches() -> bool:
                worker.join()
                if "error" in compared:
                    raise compared["error"]
                if compared["values"] is not None:
                    return True
                guard.long_row = None  # (differs: read and compared as any row)
                found_now = sealed_row(conn, guard, table, rowid, utf8)
                return (
                    found_now is not None
                    and found_now[1]
                    and all(found_now[0].get(c) == v for c, v in given.items())
                )

            return given, kept_matches
        found = sealed_row(conn, guard, table, rowid, utf8)
        if found is None:
            return None
        values, ok = found
        return values, lambda: ok
    read = _sqlite_row(conn, guard, table, rowid, utf8)
    if read is None:
        return None
    cols, found_values, raw = read
    stored = _stored_seal(conn, table, rowid)
    done: dict[str, Any] = {}

    def compare() -> None:
        try:
            done["ok"] = stored == seal_with_utf8(guard, table, rowid, found_values, raw)
        except BaseException as exc:  # (raised again by the caller's thread)
            done["error"] = exc

    worker = threading.Thread(target=compare, name="dsj-seal-check", daemon=True)
    worker.start()

    def matches() -> bool:
        worker.join()
        if "error" in done:
            raise done["error"]
        return bool(done["ok"])

    return dict(zip(cols, found_values, strict=True)), matches


def _unverified_pg(conn: Connection, guard: Guard, table: str, rowids: Sequence[int]) -> set[int]:
    # Rows this transaction has changed itself are sealed at its end, where their state before the
    # change is checked (:func:`settle_server_write`): not reported here, nor kept from being sealed.
    mine = pending_rows(conn, table, rowids)
    bad: set[int] = set()
    ids = [r for r in rowids if r not in mine]
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        seals: dict[int, Any] = {
            int(r[0]): r[1]
            for r in conn.exec_driver_sql(
                "SELECT row_id, seal FROM row_seal WHERE tbl = %s AND row_id = ANY(%s)", (table, chunk)
            )
        }
        for rid, (text, _) in pg.sealed_texts(conn, table, chunk).items():
            if _as_bytes(seals.get(rid)) != pg.seal_of_text(guard.seal_key, table, rid, text):
                bad.add(rid)
    # The flush seals every row the transaction changed: not these (their outside change stays visible).
    st = conn.connection.info.get("dsj_tx")
    if st is not None:
        st.keep_unsealed.update((table, i) for i in bad)
    return bad


def _as_bytes(v: Any) -> bytes | None:
    return None if v is None else bytes(v)


def seal_new_rows(
    conn: Connection,
    guard: Guard,
    table: str,
    first_rowid: int,
    attrs: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fixed: dict[str, Any],
    types: Sequence[type] | None = None,
) -> int:
    """Seal rows just inserted (rowids from *first_rowid* on, in order) from the values written,
    without reading them back: *rows* hold the *attrs* columns, *fixed* the others. The seals are
    the ones the triggers compute (a test compares them), only faster. *types*: when the caller
    knows the exact type (str or int) of each column's every value, with *rows* tuples."""
    if pg.is_pg(conn):
        return len(rows)  # sealed with everything else the transaction changed (settle_server_write)
    cols = guard.columns.get(table) or [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info('{table}')")]
    pos = {a: i for i, a in enumerate(attrs)}
    pick: list[tuple[int, Any]] = []  # for each table column: (index in the row, or -1 with a constant)
    for c in cols:
        if c in pos:
            pick.append((pos[c], None))
        elif c == "id":
            pick.append((-2, None))
        elif c in fixed:
            pick.append((-1, fixed[c]))
        else:
            raise ValueError(f"no value for column {table}.{c}")
    seal = guard.seal
    out = []
    k = len(attrs)
    consts = [const for i, const in pick[k + 1 :]]
    if [i for i, _ in pick[: k + 1]] == [-2, *range(k)] and all(i == -1 for i, _ in pick[k + 1 :]):
        # The usual layout (id, the row's columns in order, then constants): the seal's input as
        # :func:`_encode` makes it, from a fixed head and tail around each row's encoded values.
        tail = (SEP + SEP.join(map(_encode_value, consts))) if consts else ""
        key = guard.seal_key
        blake2b = hashlib.blake2b
        prefix = "s" + table + SEP + "i"
        if types is not None and len(types) == k and set(types) <= {str, int}:
            # Every row's encoded values from one template: "s" + text, "i" + the integer.
            template = SEP.join("s%s" if t is str else "i%d" for t in types)
            for n, row in enumerate(rows):
                rowid = first_rowid + n
                text = f"{prefix}{rowid}{SEP}i{rowid}{SEP}" + template % row + tail
                out.append((table, rowid, blake2b(text.encode("utf-8"), key=key, digest_size=16).digest()))
        else:
            for n, row in enumerate(rows):
                rowid = first_rowid + n
                text = f"{prefix}{rowid}{SEP}i{rowid}{SEP}" + SEP.join([
                    ("s" + v) if type(v) is str else ("i" + str(v)) if type(v) is int else _encode_other(v)
                    for v in row
                ]) + tail  # fmt: skip
                out.append((table, rowid, blake2b(text.encode("utf-8"), key=key, digest_size=16).digest()))
    else:
        for n, row in enumerate(rows):
            rowid = first_rowid + n
            values = [rowid if i == -2 else const if i == -1 else row[i] for i, const in pick]
            out.append((table, rowid, seal(table, rowid, values)))
    _store_seals(conn, out)
    return len(out)


def insert_rows(
    conn: Connection,
    guard: Guard,
    table: str,
    attrs: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    fixed: dict[str, Any],
    types: Sequence[type] | None = None,
) -> None:
    """Insert *rows* (the *attrs* columns; *fixed*: the other columns' one value, ``id`` left to the
    database) inside an ordinary write, sealed and journalled exactly as the row triggers would do it
    but in one pass (a confirmed draw writes some 2,000 selection and team rows): on SQLite the
    triggers are off for this statement, the role is checked once for the table, the seals are made
    from the values written (:func:`seal_new_rows`), the rows counted and the first of them listed for
    the journal as the triggers list them. On a server they are sent with COPY and sealed from the
    values sent (:func:`_copy_known_rows`), each noted by the capture trigger (checked, counted and
    listed at the end of the write); for a write as 系统 (whose every row is checked) and in a bulk
    write they go through the ordinary path."""
    if not rows:
        return
    names = [*attrs, *fixed]
    sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
    st: TxState | None = conn.connection.info.get("dsj_tx")
    consts = tuple(fixed.values())
    full = [(*r, *consts) for r in rows] if consts else rows
    server = pg.is_pg(conn)
    if (
        server
        and st is not None
        and not (st.bulk or st.system)
        and _copy_known_rows(conn, guard, st, table, attrs, rows, fixed)
    ):
        return
    if server or st is None or st.bulk or st.system:
        conn.exec_driver_sql(sql, full)
        return
    guard.check(st, table)  # what the triggers' dsj_new would check on every row
    first = int(conn.exec_driver_sql(f'SELECT coalesce(max(rowid), 0) + 1 FROM "{table}"').scalar_one())
    st.bulk = True
    try:
        conn.exec_driver_sql(sql, full)
    finally:
        st.bulk = False
    last = int(conn.exec_driver_sql(f'SELECT coalesce(max(rowid), 0) FROM "{table}"').scalar_one())
    cols = guard.columns.get(table) or [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info('{table}')")]
    if last - first + 1 == len(rows):  # consecutive rowids, in order: sealed from the values written
        seal_new_rows(conn, guard, table, first, attrs, rows, fixed, types)
    else:
        seal_rows(conn, guard, table, "WHERE rowid >= ?", (first,))
    st.count(table, "insert", len(rows))
    listed = ROWS_IN_JOURNAL - len(st.rows)
    if listed > 0:  # the first rows, as the triggers list them (their values as stored)
        quoted = ", ".join(f'"{c}"' for c in cols)
        for r in conn.exec_driver_sql(
            f'SELECT rowid, {quoted} FROM "{table}" WHERE rowid >= ? ORDER BY rowid LIMIT ?', (first, listed)
        ):
            st.rows.append(describe_row(table, "I", int(r[0]), cols, None, tuple(r[1:])))


def _copy_known_rows(
    conn: Connection,
    guard: Guard,
    st: TxState,
    table: str,
    attrs: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    fixed: Mapping[str, Any],
) -> bool:
    """PostgreSQL, :func:`insert_rows` in an ordinary write: the rows sent with one ``COPY`` (their ids
    drawn from the table's sequence) and sealed from the values sent, rendered as the server renders
    them (:func:`dsj_desktop.db.pg.json_renderer`; the first and last rows are compared with the
    server's own text), their seals sent with a second ``COPY``. Where the write has changed nothing
    else yet (a confirmation's first rows), the capture trigger is off for the COPY as in a bulk import
    (:func:`dsj_desktop.db.pg.pause_capture`) and the rows are checked against the role, counted and
    listed for the journal here, exactly as :func:`settle_server_write` would do with their notes;
    otherwise every row is noted and handled there, only not read back (``st.known``; a row with a
    value whose JSON is not certain is read back). False, with nothing written: the table has a
    column not given (left to its default) or no sequence for its rowid; the caller then inserts the
    rows as usual."""
    shape = pg.row_shape(conn, table)
    names = [name for name, _ in shape]
    id_column = "id" if dict(shape).get("id") in pg.INT_OIDS else "rowid"  # the one the rowid follows
    given = [id_column, *attrs, *fixed]
    # Every column given (a table with an ``id`` has its rowid generated from it), none twice.
    if len(set(given)) != len(given) or set(names) != {*given, "rowid"}:
        return False
    render = pg.json_renderer(shape)
    if render is None:
        return False
    consts = tuple(fixed.values())
    at = {name: i for i, name in enumerate(given)}
    pick = [0 if name == "rowid" else at[name] for name in names]
    cols = guard.columns.get(table) or [n for n in names if n != "rowid"]
    if not set(cols) <= set(at):
        return False
    listed = [at[name] for name in cols]
    try:
        ids = pg.new_ids(conn, table, len(rows), id_column)
    except ValueError:  # no sequence to draw them from
        return False
    key = guard.seal_key
    full = [(rid, *row, *consts) for rid, row in zip(ids, rows, strict=True)]
    texts = [render([v[i] for i in pick]) for v in full]
    # The capture trigger off for this COPY where nothing is noted yet in this write (the rows are then
    # checked, counted and listed here, first, as the trigger's notes would list them) and every row
    # is rendered (each must be sealed here); else the rows are noted, and only not read back.
    trigger = capture_trigger_name(table)
    quiet = all(t is not None for t in texts) and pg.pause_capture_if_quiet(conn, table, trigger)
    if quiet:
        guard.check(st, table)
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    quoted = ", ".join(f'"{c}"' for c in given)
    columns = pg.transpose(ids, rows)
    types = [str if all(type(v) is str for v in c) else int if all(type(v) is int for v in c) else None
             for c in columns[1:]]  # fmt: skip
    with dbapi.cursor() as cur, cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as cp:
        if all(t is not None for t in types) and all(type(v) in (str, int) for v in consts):
            cp.write(pg.copy_text(columns, types, consts))  # type: ignore[arg-type]  # (one write)
        else:
            for v in full:
                cp.write_row(v)
        # While the server takes the rows: their seals.
        seal_lines = [
            pg.seal_line(table, rid, pg.seal_of_text(key, table, rid, text).hex())
            for rid, text in zip(ids, texts, strict=True)
            if text is not None
        ]
    sealed = [rid for rid, text in zip(ids, texts, strict=True) if text is not None]
    ends = {
        rid: text for rid, text in zip(ids, texts, strict=True) if sealed and rid in (sealed[0], sealed[-1])
    }
    # (The trigger on again, the ends read back and the highest seal found: one round trip.)
    server_ends, highest = pg.after_copy(conn, table, trigger if quiet else None, list(ends))
    if sealed:
        if server_ends != ends:  # never expected: sealed from the server's text
            if not quiet:
                return True  # (read back and sealed at the end of the write, with every noted row)
            found = pg.row_texts(conn, table, ids)
            seal_lines = [
                pg.seal_line(table, rid, pg.seal_of_text(key, table, rid, found[rid]).hex()) for rid in ids
            ]
            sealed = list(ids)
        pg.copy_seals(conn, table, sealed, ["".join(seal_lines)], (highest,))
    if quiet:  # what settle_server_write does with each noted row
        st.count(table, "insert", len(full))
        for v in full[: max(ROWS_IN_JOURNAL - len(st.rows), 0)]:
            st.rows.append(describe_row(table, "I", v[0], cols, None, tuple(v[i] for i in listed)))
        return True
    for v, text in zip(full, texts, strict=True):
        if text is not None:
            st.known[(table, v[0])] = tuple(v[i] for i in listed)
    return True


def seal_with_utf8(
    guard: Guard, table: str, rowid: int, values: Sequence[Any], utf8: Collection[int]
) -> bytes:
    """:meth:`Guard.seal` of a row some of whose texts (at the positions *utf8*) are given as their
    UTF-8 bytes: the same seal, without encoding those texts (megabytes) again."""
    h = hashlib.blake2b(key=guard.seal_key, digest_size=16)
    pending = [_encode_value(table), _encode_value(rowid)]
    for i, v in enumerate(values):
        if i in utf8:
            h.update((SEP.join(pending) + SEP + "s").encode("utf-8"))
            h.update(v)
            pending = [""]  # what follows starts with a separator
        else:
            pending.append(_encode_value(v))
    h.update(SEP.join(pending).encode("utf-8"))
    return h.digest()


def insert_text_row(
    conn: Connection,
    guard: Guard,
    table: str,
    values: Mapping[str, Any],
    column: str,
    data: bytes,
    chars: int | None,
    sha256_hex: str | None = None,
    text: str | None = None,
    *,
    checkpoint_later: bool = False,
    remember: bool = True,
    meanwhile: Callable[[], None] | None = None,
    escaped: Mapping[tuple[int, int], tuple[bytes, Sequence[bytes]]] | None = None,
) -> None:
    """Insert one row: *values*, and in *column* a long text (a signed record, a draw's frozen
    candidates: some 10 MB at city scale) given as its UTF-8 *data*, its length in characters (None:
    counted here if the journal lists the row) and its SHA-256 if known (and the *text* itself, if
    the caller has it). On SQLite the text is bound as those bytes (``CAST(? AS TEXT)`` stores the
    same text), sealed from them and described for the journal with that digest, where the row
    trigger would decode it, encode it again and hash it once more: sealed, counted and listed exactly
    as by the trigger. The hashing runs in a thread while the database stores the row (both let go of
    the interpreter's lock over megabytes), for the row id the database gives next (sealed again
    should it give another). On a server, in an ordinary write, the row is sealed from the bytes sent
    and not read back (:func:`_insert_known_row`); in a bulk write or as 系统 it takes the ordinary
    path (sealed with every other row at the end of the write). *checkpoint_later*: the write's COMMIT leaves copying
    the WAL into the file to a thread (SQLite; see ``Database.write``). *remember*: on a server, the
    row kept as :class:`LongRow` (checked later without reading *data* back). *meanwhile*: called
    while the row is stored (on a server while the server parses and compresses it; elsewhere after
    the INSERT): the caller's own work, done before the write goes on. *escaped*: spans of *data* whose
    escaped UTF-8 for the seal the caller has, by (start, end): the bytes there and that escaped
    UTF-8 in pieces (:func:`escaped_ahead`; on a server)."""
    names = [*values, column]
    marks = ", ".join("?" * len(values))
    st: TxState | None = conn.connection.info.get("dsj_tx")
    if pg.is_pg(conn) or st is None or st.bulk or st.system:
        # On a server, in an ordinary write: sealed from the bytes sent (as on SQLite), not read back.
        if (
            pg.is_pg(conn)
            and st is not None
            and not (st.bulk or st.system)
            and _insert_known_row(
                conn,
                guard,
                st,
                table,
                {
                    **values,
                    column: brief_utf8(
                        data,
                        chars if chars is not None else pg.utf8_length(data),
                        sha256_hex or hashlib.sha256(data).hexdigest(),
                    ),
                },
                {column: data},
                {column: chars} if remember else None,
                meanwhile,
                {column: escaped} if escaped else None,
            )
        ):
            return
        conn.exec_driver_sql(
            f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({marks}, ?)',
            (*values.values(), data.decode("utf-8") if text is None else text),
        )
        if meanwhile is not None:
            meanwhile()
        return
    guard.check(st, table)
    st.long_text = st.long_text or checkpoint_later
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    cols = guard.columns.get(table) or [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info('{table}')")]
    missing = [
        c for c in cols if c not in names
    ]  # left to their defaults: read back, as the trigger sees them
    at = cols.index(column)
    done: dict[str, Any] = {}
    worker = None
    if not missing:  # every value known: sealed (for the next row id) while the row is stored
        expected = int(dbapi.execute(f'SELECT coalesce(max(rowid), 0) + 1 FROM "{table}"').fetchone()[0])
        ordered = [data if c == column else values[c] for c in cols]

        def hash_while_stored() -> None:
            try:
                done["seal"] = seal_with_utf8(guard, table, expected, ordered, {at})
                if sha256_hex is None:
                    done["sha256"] = hashlib.sha256(data).hexdigest()
                if meanwhile is not None:  # (SQLite lets go of the interpreter's lock while it stores)
                    meanwhile()
            except BaseException as exc:  # (raised again by the caller's thread)
                done["error"] = exc

        worker = threading.Thread(target=hash_while_stored, name="dsj-seal", daemon=True)
        worker.start()
    st.bulk = True
    try:
        sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({marks}, CAST(? AS TEXT))'
        rowid = int(dbapi.execute(sql, (*values.values(), data)).lastrowid)
    finally:
        st.bulk = False
        if worker is not None:
            worker.join()
    if "error" in done:
        raise done["error"]
    if worker is None and meanwhile is not None:
        meanwhile()
    row = dict(values)
    if missing:
        found = conn.exec_driver_sql(
            f'SELECT {", ".join(missing)} FROM "{table}" WHERE rowid = ?', (rowid,)
        ).one()
        row.update(zip(missing, found, strict=True))
    row[column] = data
    if worker is None or rowid != expected:
        done["seal"] = seal_with_utf8(guard, table, rowid, [row[c] for c in cols], {at})
    _store_seals(conn, [(table, rowid, done["seal"])])
    st.count(table, "insert")
    if len(st.rows) < ROWS_IN_JOURNAL:
        digest = sha256_hex or done.get("sha256") or hashlib.sha256(data).hexdigest()
        row[column] = None
        listed = describe_row(table, "I", rowid, cols, None, [row[c] for c in cols])
        length = pg.utf8_length(data) if chars is None else chars
        listed["values"][column] = brief_utf8(data, length, digest)
        st.rows.append(listed)


def _insert_known_row(
    conn: Connection,
    guard: Guard,
    st: TxState,
    table: str,
    values: Mapping[str, Any],
    utf8: Mapping[str, bytes],
    remember: Mapping[str, int | None] | None = None,
    meanwhile: Callable[[], None] | None = None,
    known: Mapping[str, Mapping[tuple[int, int], tuple[bytes, Sequence[bytes]]]] | None = None,
) -> bool:
    """PostgreSQL, one row inserted in an ordinary write and sealed from the values sent, its JSON
    rendered as the server renders it (:func:`dsj_desktop.db.pg.json_renderer`): a long text is not
    converted to JSON by the server and read back. The columns in *utf8* are given as their text's
    UTF-8 (*values* then holds what the journal shows of them): sent as they are
    (:class:`~dsj_desktop.db.pg.Utf8Text`) and escaped as UTF-8 (:func:`dsj_desktop.db.pg.json_string_body`),
    never decoded or encoded again. The capture trigger notes the row as any other (checked against
    the role, counted and listed at the end of the write), only not read back (``st.known``). False,
    with nothing written: the table has a column not given here (other than its ``rowid``, drawn from
    its sequence), or a column of a type whose JSON is not rendered here. *remember*: the row is kept
    as the guard's :class:`LongRow` (with the length in characters of each text in *utf8*, when
    known). *meanwhile*: called while the server stores the row (after the seal's text is escaped).
    *known*: for a text in *utf8*, spans whose escaped UTF-8 the caller has (:func:`_escaped_pieces`)."""
    shape, drawn = pg.row_shape_and_rowid(conn, table)
    if {name for name, _ in shape} != {*values, "rowid"} or "id" in values:
        return False
    render = pg.json_renderer(shape)
    if render is None:
        return False
    if drawn is None:  # no sequence for the rowid
        return False
    rowid = drawn
    sent = {**values, **{c: pg.Utf8Text(v) for c, v in utf8.items()}, "rowid": rowid}
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    insert = f'INSERT INTO "{table}" ({", ".join(sent)}) VALUES ({", ".join(["%s"] * len(sent))})'
    params = tuple(sent.values())
    del sent
    # The row's JSON with each long text left empty, cut between that text's quotes: the pieces between
    # which each text's escaped UTF-8 goes (None, never expected: the row is read back at the end).
    text = render([rowid if name == "rowid" else "" if name in utf8 else values[name] for name, _ in shape])
    places = []
    for name in utf8:
        head = json.dumps(name) + ': ""'
        if text is not None and text.count(head) == 1:
            places.append((text.index(head) + len(head) - 1, name))
    layout: list[str] | None = None
    if text is not None and len(places) == len(utf8):
        layout, done = [], 0
        for at, name in sorted(places):
            layout += [text[done:at], name]
            done = at
        layout.append(text[done:])
    del text
    seal: bytes | None = None
    # In pipeline mode, the statement sent in full before anything else: the server parses, compresses
    # and stores the row (10 MB) while its text is escaped here a piece at a time, each piece hashed in
    # a thread while the next is escaped, and *meanwhile* runs.
    with dbapi.pipeline():
        dbapi.execute(insert, params)
        pg.send_all(dbapi)
        hasher = pg.ThreadedHash(pg.seal_hash(guard.seal_key, table, rowid)) if layout else None
        try:
            for n, piece in enumerate(layout or ()):
                if n % 2 == 0:
                    hasher.update(piece)  # type: ignore[union-attr]
                    continue
                for escaped in _escaped_pieces(utf8[piece], (known or {}).get(piece)):
                    hasher.update(escaped)  # type: ignore[union-attr]
            if meanwhile is not None:
                meanwhile()
            seal = hasher.digest() if hasher is not None else None
        finally:
            if hasher is not None:
                hasher.close()
        if seal is not None:  # (stored with the row: one round trip for both)
            dbapi.execute(pg.STORE_SEAL, (table, rowid, seal))
    del params
    if seal is None:
        return True
    cols = guard.columns.get(table) or [name for name, _ in shape if name != "rowid"]
    st.known[(table, rowid)] = tuple(values[c] for c in cols)
    if remember is not None:
        guard.long_row = LongRow(
            table, rowid, shape, seal, {c: v for c, v in values.items() if c not in utf8},
            dict(utf8), {c: remember.get(c) for c in utf8},
        )  # fmt: skip
    return True


def brief_utf8(data: bytes, chars: int, sha256_hex: str) -> Any:
    """:func:`_brief` of the text whose UTF-8 is *data* (*chars* characters, SHA-256 *sha256_hex*)."""
    if chars <= JOURNAL_VALUE_CHARS:
        return data.decode("utf-8")
    start = data[: 4 * 80].decode("utf-8", "ignore")[:80]  # (80 characters take at most 320 bytes)
    return f"{start}…〈共 {chars:,} 字符，SHA-256 {sha256_hex[:16]}…〉"


COPY_CHUNK = 5000  # rows sent and sealed between two progress reports


def copy_new_rows(
    conn: Connection,
    guard: Guard,
    table: str,
    attrs: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fixed: Mapping[str, Any],
    types: Sequence[type] | None = None,
    total: int | None = None,
) -> Job[list[int]]:
    """PostgreSQL, in a bulk write: insert *rows* (the *attrs* columns; *fixed*: the other columns'
    one value, ``id`` drawn from the table's sequence) with ``COPY … FROM STDIN`` and seal them; the
    new ids, in order. *types* as for :func:`seal_new_rows`; *total*: for the progress reports.

    The seals are the ones :func:`settle_server_write` would make (``to_jsonb(row)::text`` under the
    key), computed from the values sent (:func:`dsj_desktop.db.pg.row_json_template`; the first and
    last rows are compared with the server's own text, and the rows are read back if ever they
    differ) while the server takes the rows. The capture trigger need not note rows the program
    itself wrote and sealed: it is off for this statement where the program owns the table (else its
    notes of these rows are removed). The role was checked when the bulk write began (as on SQLite);
    the caller counts the rows for the journal. All in the caller's transaction: nothing stays of a
    failure or a cancel."""
    if not rows:
        return []
    n = len(rows)
    ids = pg.new_ids(conn, table, n)
    trigger = capture_trigger_name(table)
    paused = pg.pause_capture(conn, table, trigger)
    st: TxState | None = conn.connection.info.get("dsj_tx")
    if st is not None:
        st.copied.add(table)  # (its rows counted again at the end of the write)
    template = pg.row_json_template(pg.column_types(conn, table), attrs, types, fixed)
    consts = tuple(fixed.values())
    names = ", ".join(f'"{c}"' for c in ("id", *attrs, *fixed))
    key = guard.seal_key
    blake2b = hashlib.blake2b
    head = f"s{table}{SEP}i"
    seal_lines: list[str] = []
    ends: dict[int, str] = {}  # the rendered text of the first and the last row
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as cp:
        for start in range(0, n, COPY_CHUNK):
            chunk = rows[start : start + COPY_CHUNK]
            chunk_ids = ids[start : start + COPY_CHUNK]
            if template is None or types is None:
                for rid, row in zip(chunk_ids, chunk, strict=True):
                    cp.write_row((rid, *row, *consts))
            else:
                columns = pg.transpose(chunk_ids, chunk)
                cp.write(pg.copy_text(columns, types, consts))
                # While the server takes the rows: each row's seal, over its JSON as the server
                # renders it, after the seal's head ("s" table, "i" rowid, "s"), as Guard.seal has it.
                inputs = pg.render_rows(template, columns, head)
                seal_lines.append(
                    "".join([
                        pg.seal_line(table, rid, blake2b(x.encode(), key=key, digest_size=16).hexdigest())
                        for rid, x in zip(chunk_ids, inputs, strict=True)
                    ])
                )  # fmt: skip
                for i in {0, len(inputs) - 1} if start == 0 else {len(inputs) - 1}:
                    ends[chunk_ids[i]] = inputs[i].split(SEP, 2)[2][1:]
            yield Progress("正在写入数据库……", start + len(chunk), total or n)
    if paused:
        pg.resume_capture(conn, table, trigger)
    else:
        conn.exec_driver_sql(
            "DELETE FROM dsj_change WHERE tx = txid_current() AND tbl = %s AND op = 'I' AND row_id = ANY(%s)",
            (table, list(ids)),
        )
    if template is not None and pg.row_texts(conn, table, list(ends)) != ends:
        template = None  # never expected (a test compares the texts): the seals from what the server holds
    if template is None:
        yield Progress("正在封存数据……")
        texts = pg.row_texts(conn, table, ids)
        seal_lines = [
            "".join(pg.seal_line(table, rid, guard.seal(table, rid, (texts[rid],)).hex()) for rid in ids)
        ]
    pg.copy_seals(conn, table, ids, seal_lines)
    return list(ids)


def sealed_tables(conn: Connection) -> dict[str, list[str]]:
    """The tables whose rows carry seals: every data table, and the journal (schema 6 on)."""
    from dsj_desktop.db.migrations import ANCHORED_FROM

    out = guarded_tables(conn)
    if schema_version(conn) >= ANCHORED_FROM:
        out["journal"] = pg.table_columns(conn, "journal")
    return out


def sealed_rows(conn: Connection, table: str, cols: Sequence[str]) -> Iterable[tuple[int, tuple[Any, ...]]]:
    """(rowid, what its seal covers) for every row of *table*."""
    if pg.is_pg(conn):
        for rid, text in conn.exec_driver_sql(pg.row_text_sql(table)):
            yield int(rid), (text,)
        return
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    quoted = ", ".join(f'"{c}"' for c in cols)
    for r in dbapi.execute(f'SELECT rowid, {quoted} FROM "{table}"'):
        yield r[0], tuple(r[1:])


def stored_seals(conn: Connection, table: str) -> dict[int, bytes]:
    return {
        int(r[0]): bytes(r[1])
        for r in conn.exec_driver_sql("SELECT row_id, seal FROM row_seal WHERE tbl = ?", (table,))
    }


def _store_seals(conn: Connection, rows: list[tuple[str, int, bytes]]) -> None:
    if pg.is_pg(conn):
        pg.store_seals(conn, rows)
        return
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    dbapi.executemany("INSERT OR REPLACE INTO row_seal (tbl, row_id, seal) VALUES (?, ?, ?)", rows)


def verified_rows(conn: Connection, guard: Guard) -> dict[str, set[int]]:
    """For every sealed table, the rows whose seal matches them now (before a schema change)."""
    out: dict[str, set[int]] = {}
    for table, cols in sealed_tables(conn).items():
        seals = stored_seals(conn, table)
        out[table] = {
            rid
            for rid, values in sealed_rows(conn, table, cols)
            if seals.get(rid) == guard.seal(table, rid, values)
        }
    return out


def reseal_verified(conn: Connection, guard: Guard, good: dict[str, set[int]]) -> int:
    """Seal again, after a schema change, exactly the rows that verified before it (*good*, from
    :func:`verified_rows`), and every row of a table that had no seals before. A row whose seal did not
    verify keeps its old seal (or none), and a seal without its row stays: the integrity check still
    names them. Seals are never made for rows nobody checked."""
    n = 0
    for table, cols in sealed_tables(conn).items():
        ok = good.get(table)
        rows = [
            (table, rid, guard.seal(table, rid, values))
            for rid, values in sealed_rows(conn, table, cols)
            if ok is None or rid in ok
        ]
        _store_seals(conn, rows)
        n += len(rows)
    return n


def _encode_value(v: Any) -> str:
    return ("s" + v) if type(v) is str else ("i" + str(v)) if type(v) is int else _encode_other(v)


# --- the journal ------------------------------------------------------------------------------

GENESIS = "0" * 64


def entry_hash(prev: str, at: str, who: str, action: str, detail: str) -> str:
    data = SEP.join(("DSJ-JOURNAL-1", prev, at, who, action, detail)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _chained(
    guard: Guard, prev: str, at: str, who: str, action: str, detail: dict[str, Any]
) -> tuple[str, str, str]:
    """An entry's detail as stored, its hash chained to *prev*, and its signature (hex)."""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    h = entry_hash(prev, at, who, action, text)
    return text, h, guard.sign(bytes.fromhex(h)).hex()


def append(
    conn: Connection, guard: Guard, at: str, who: str, action: str, detail: dict[str, Any]
) -> tuple[int, str]:
    """Chain one entry to the journal, sign its hash and seal the row; returns (its id, its hash)."""
    if pg.is_pg(conn):  # (program writes hold the write lock: nobody appends in between)
        prev, jid = conn.exec_driver_sql(_JOURNAL_NEXT).one()
        shape = pg.row_shape(conn, "journal")
        h, _ = _write_entry(conn, guard, prev or GENESIS, int(jid), shape, (at, who, action, detail))
        return int(jid), h
    last = conn.exec_driver_sql("SELECT hash FROM journal ORDER BY id DESC LIMIT 1").first()
    prev = last[0] if last else GENESIS
    text, h, sig = _chained(guard, prev, at, who, action, detail)
    cur = conn.exec_driver_sql(
        "INSERT INTO journal (at, actor, action, detail, prev_hash, hash, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, who, action, text, prev, h, sig),
    )
    jid = int(cur.lastrowid or 0)
    conn.exec_driver_sql(
        "INSERT OR REPLACE INTO row_seal (tbl, row_id, seal) VALUES ('journal', ?, ?)",
        (jid, guard.seal("journal", jid, (jid, at, who, action, text, prev, h, sig))),
    )
    return jid, h


# Entries the program writes when it finds that the file was changed by other means; `check`
# reports every one of them (the evidence stays in the append-only journal).
TRIGGERS_RESTORED = "恢复数据库保护触发器"
OUTSIDE_CHANGE = "写入前发现程序之外的改动"
EVENT_ACTIONS = (TRIGGERS_RESTORED, OUTSIDE_CHANGE)


HEAD_SQL = "SELECT id, hash, detail FROM journal ORDER BY id DESC LIMIT 1"


def journal_head(
    conn: Connection, early: Mapping[str, Any] | None = None
) -> tuple[int, str, dict[str, int] | None]:
    """(id, hash, row counts logged with it) of the journal's last entry; (0, GENESIS, None) when empty.
    *early*: the row of ``HEAD_SQL`` read already under the name "head" (else it is read now)."""
    row = early["head"] if early is not None and "head" in early else conn.exec_driver_sql(HEAD_SQL).first()
    if row is None:
        return 0, GENESIS, None
    try:
        state = json.loads(row[2]).get(STATE_KEY)
    except (ValueError, AttributeError):
        state = None
    return int(row[0]), str(row[1]), state if isinstance(state, dict) else None


STATE_KEY = "state"  # in a journal entry's detail: the number of rows of every table after it


# At the start of a program write, in one statement: its transaction id (drawn now), the statement's
# snapshot, the server's start, whether every table this schema could count is an ordinary local heap
# table (no partition or foreign table, no row security, no other access method, no inheritance in
# the database) whose rows change only by transactions holding ids, and pg.XACT_COUNTS.
MARK_SQL = (
    "SELECT txid_current(), txid_snapshot_xmin(s), txid_snapshot_xmax(s), pg_postmaster_start_time()::text, "
    "NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
    "AND (c.relkind IN ('p', 'f') OR c.relrowsecurity OR (c.relkind = 'r' AND c.relam <> "
    f"(SELECT oid FROM pg_am WHERE amname = 'heap')))) AND NOT EXISTS (SELECT 1 FROM pg_inherits), {pg.XACT_COUNTS} "
    "FROM txid_current_snapshot() s"
)


@dataclass(frozen=True)
class WriteMark:
    """PostgreSQL: a program write whose start was clean (see :func:`write_mark`)."""

    xid: int  # its transaction id
    started: str  # when the server started (a restart, a restored cluster: another server)
    counts: dict[str, str]  # the rows inserted and deleted per table as the server counted them then


def write_mark(conn: Connection, early: Mapping[str, Any] | None = None) -> WriteMark | None:
    """PostgreSQL, at the start of a program write (under the write lock): this transaction's id,
    drawn now, when the start is *clean*: every id below ours had ended (the statement's snapshot,
    taken just before our id was drawn, has ``xmax`` — one past the latest ended id — equal to ours
    and no id in progress, ``xmin = xmax``) and the tables are plain (``MARK_SQL``). None otherwise
    (the id is drawn all the same). See :meth:`dsj_desktop.db.engine.Database._before_write` for
    what it proves. *early*: the row of ``MARK_SQL`` read already under the name "mark"."""
    row = early["mark"] if early is not None and "mark" in early else conn.exec_driver_sql(MARK_SQL).one()
    xid, xmin, xmax, started, plain, counts = row
    if not (plain and int(xmin) == int(xmax) == int(xid)):
        return None
    return WriteMark(int(xid), str(started), json.loads(counts))


def table_names(conn: Connection) -> list[str]:
    if pg.is_pg(conn):
        return [t for t in pg.table_names(conn) if t not in pg.INTERNAL]
    dbapi = conn.connection.driver_connection  # (raw: this runs twice in every write)
    assert dbapi is not None
    return [
        r[0]
        for r in dbapi.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]


def table_counts(conn: Connection, names: Sequence[str] | None = None) -> dict[str, int]:
    """How many rows each data table holds (logged with every journal entry: a row deleted together
    with its seal shows as a count that no entry explains)."""
    tables = [t for t in (table_names(conn) if names is None else names) if t not in UNGUARDED]
    if not tables:
        return {}
    sql = counts_sql(tables)
    if pg.is_pg(conn):
        return {str(t): int(n) for t, n in conn.exec_driver_sql(sql)}
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    return {str(t): int(n) for t, n in dbapi.execute(sql)}


def counts_sql(tables: Sequence[str]) -> str:
    """One statement counting the rows of each of *tables*: rows of (table, count)."""
    return " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)


def end_counts(conn: Connection, st: TxState) -> dict[str, int]:
    """Every table's rows at the end of a write on SQLite, for its journal entry: those it began with
    (counted under the write lock, see :meth:`Database._before_write`), the tables this write changed
    counted again. Every row written, changed or deleted outside a bulk write passes a row trigger,
    which names its table in ``st.counts`` (also a row replaced by ``INSERT OR REPLACE``: its table is
    named by the insert; and rows written in one pass by :func:`insert_rows` and
    :func:`insert_text_row`, which name their table themselves), so no other table can have changed.
    Counted in full: a write as 系统 (upgrades change tables), a bulk write (triggers off), or a write
    without the counts it began with. (A server's: :func:`_server_recount`.)"""
    start = st.start_counts
    if start is None or st.system or st.bulk:
        return table_counts(conn)
    names = [t for t in table_names(conn) if t not in UNGUARDED]  # (a table made or removed: counted)
    counts = table_counts(conn, [t for t in names if t in st.counts or t not in start])
    return {t: counts[t] if t in counts else start[t] for t in names}


def count_differences(logged: dict[str, int], now: dict[str, int]) -> list[str]:
    return [
        f"{table_title(t)}（{t}）日志记载 {n:,} 行，现有 {now.get(t, 0):,} 行"
        for t, n in sorted(logged.items())
        if now.get(t, 0) != n
    ]


def describe_changes(st: TxState) -> str:
    parts = []
    ops = {"insert": "新增", "update": "修改", "delete": "删除"}
    for table, c in sorted(st.counts.items()):
        done = "、".join(f"{ops[o]} {n}" for o, n in c.items() if n)
        parts.append(f"{table_title(table)}（{done}）")
    return "；".join(parts)


def _entry(st: TxState) -> tuple[str, str, dict[str, Any]]:
    """(who, action, detail) of the journal entry for what *st* changed."""
    action = st.action or ("修改数据：" + describe_changes(st))
    detail = dict(st.detail)
    if st.counts:
        detail["changes"] = st.counts
    if st.rows:
        detail["rows"] = st.rows
    who = actor_mod.label() if (actor_mod.current() is not None or not st.system) else "系统"
    return who, action, detail


def flush(conn: Connection, guard: Guard, st: TxState, at: str) -> None:
    """End of a write transaction: the journal entry for everything it changed."""
    if pg.is_pg(conn):
        _flush_server(conn, guard, st, at)
        return
    if not st.changed:
        return
    who, action, detail = _entry(st)
    if guard.anchoring:
        detail[STATE_KEY] = end_counts(conn, st)
    st.head = append(conn, guard, at, who, action, detail)


# On a server, the end of a write in three round trips (each a wait for the server, which on a busy
# machine costs more than the statement): the notes taken; the rows to seal read together with the
# journal's head, its columns, the new entry's id and the recounted tables; the seals, the entry and
# the server's own counts of what the transaction changed (for the next write) written and read.
_TAKE_NOTES = "DELETE FROM dsj_change WHERE tx = txid_current() RETURNING n, tbl, op, row_id, old_row"
_JOURNAL_NEXT = "SELECT (SELECT hash FROM journal ORDER BY id DESC LIMIT 1), nextval(pg_get_serial_sequence('journal', 'id'))"
_JOURNAL_SHAPE = 'SELECT * FROM "journal" LIMIT 0'
_JOURNAL_INSERT = (
    "INSERT INTO journal (id, at, actor, action, detail, prev_hash, hash, signature) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
XACT_END_SQL = f"{pg.XACT_CHANGES_SQL}, EXISTS (SELECT 1 FROM dsj_change)"


def _flush_server(conn: Connection, guard: Guard, st: TxState, at: str) -> None:
    """:func:`flush` on a server: :func:`settle_server_write`, then the journal entry (as
    :func:`append` chains it) and, when the engine asks (``st.xact_wanted``), the server's counts of
    what the transaction changed (``st.xact_row``, see ``Database._counted_all``), sent with the seals."""
    recount: list[str] | None = None

    def also() -> list[pg.Statement]:
        nonlocal recount
        if not st.changed:
            return []
        wanted: list[pg.Statement] = [(_JOURNAL_NEXT, None), (_JOURNAL_SHAPE, None)]
        if guard.anchoring:
            recount = _server_recount(st)
            if recount:
                wanted.append((counts_sql(recount), None))
        return wanted

    seals, gone, read = settle_server_write(conn, guard, st, also)
    if not st.changed:
        _store_server_seals(conn, seals, gone)
        return
    who, action, detail = _entry(st)
    if guard.anchoring:
        start = st.start_counts
        if recount is None:  # (a write as 系统, or one without its starting counts: every table)
            detail[STATE_KEY] = table_counts(conn)
        else:
            assert start is not None
            detail[STATE_KEY] = {**start, **{str(t): int(n) for t, n in read[2]}} if recount else dict(start)
    prev, jid = read[0].fetchone()
    shape = [(str(d.name), int(d.type_code)) for d in read[1].description or ()]
    entry = (at, who, action, detail)
    h, st.xact_row = _write_entry(
        conn, guard, prev or GENESIS, int(jid), shape, entry, seals, gone, st.xact_wanted
    )
    st.head = (int(jid), h)


def _write_entry(
    conn: Connection,
    guard: Guard,
    prev: str,
    jid: int,
    shape: Sequence[tuple[str, int]],
    entry: tuple[str, str, str, dict[str, Any]],
    seals: Sequence[tuple[str, int, bytes]] = (),
    gone: Sequence[tuple[str, int]] = (),
    xact: bool = False,
) -> tuple[str, tuple[Any, ...] | None]:
    """On a server: the journal entry *entry* (at, who, action, detail) chained to *prev* as row *jid*
    (drawn from the journal's sequence; *shape*: the journal's columns), sealed from the values written
    (rendered as the server renders the row) and sent in one pipeline with the *seals* to store, the
    seals *gone* and, when *xact*, the server's counts of what the transaction changed
    (``XACT_END_SQL``). A row whose text is not certain here is read back and sealed after, and its
    counts are left for the engine to ask. Returns the entry's hash and the counts read."""
    at, who, action, detail = entry
    text, h, sig = _chained(guard, prev, at, who, action, detail)
    row = (jid, at, who, action, text, prev, h, sig)
    rendered = _journal_text(shape, row)
    if rendered is not None:
        seals = [*seals, ("journal", jid, pg.seal_of_text(guard.seal_key, "journal", jid, rendered))]
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    counts = None
    with dbapi.pipeline():
        _store_server_seals(conn, seals, gone)
        dbapi.execute(_JOURNAL_INSERT, row)
        if rendered is not None and xact:
            counts = dbapi.execute(XACT_END_SQL)
    if rendered is None:
        pg.seal_where(conn, guard.seal, "journal", "WHERE t.id = %s", (jid,))
    return h, tuple(counts.fetchone()) if counts is not None else None


def _journal_text(shape: Sequence[tuple[str, int]], row: Sequence[Any]) -> str | None:
    """``to_jsonb(row)::text`` of a journal row (id, at, actor, action, detail, prev_hash, hash,
    signature) rendered here, when the journal's columns are those and their text is certain."""
    render = pg.json_renderer(shape)
    names = ("id", "at", "actor", "action", "detail", "prev_hash", "hash", "signature")
    values = {**dict(zip(names, row, strict=True)), "rowid": row[0]}
    if render is None or {name for name, _ in shape} != set(values):
        return None
    return render([values[name] for name, _ in shape])


def _store_server_seals(
    conn: Connection, seals: Sequence[tuple[str, int, bytes]], gone: Sequence[tuple[str, int]]
) -> None:
    pg.store_seals(conn, seals)
    if gone:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        with dbapi.cursor() as cur:
            cur.executemany("DELETE FROM row_seal WHERE tbl = %s AND row_id = %s", gone)


def _server_recount(st: TxState) -> list[str] | None:
    """The tables whose rows the journal entry of a server write counts again at its end; None: every
    table (a write as 系统, whose upgrades change tables, or one without the counts it began with). The
    others are those it began with (:func:`end_counts`): every change a program write makes is noted by
    the capture trigger and counted (:func:`settle_server_write`), or made with the trigger off by
    :func:`copy_new_rows`, which names its table (``st.copied``)."""
    start = st.start_counts
    if start is None or st.system:
        return None
    return sorted((set(st.counts) | st.copied) & set(start))


def settle_server_write(
    conn: Connection, guard: Guard, st: TxState, also: Callable[[], Sequence[pg.Statement]] = list
) -> tuple[list[tuple[str, int, bytes]], list[tuple[str, int]], list[Any]]:
    """End of a write: every row this transaction changed (noted by the capture trigger) is checked
    against the account's role, described for the journal and sealed; the notes are removed. A row
    the program inserted and sealed itself (``st.known``) and did not change again is not read back.
    Returns the seals to store and the rows whose seals go (the caller stores them), and the cursors
    of the statements *also* gives (asked once the notes are counted) read with the changed rows."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    notes = sorted(dbapi.execute(_TAKE_NOTES).fetchall(), key=lambda r: int(r[0]))
    first: dict[tuple[str, int], str | None] = {}  # the row before this transaction touched it
    last_op: dict[tuple[str, int], str] = {}
    noted: dict[tuple[str, int], int] = {}
    # A bulk writer counts the rows of its own table itself (and lists none, as on SQLite).
    counted = set(st.counts) if st.bulk else set()
    for _, tbl, op, row_id, old_row in notes:
        key = (str(tbl), int(row_id))
        guard.check(st, key[0])
        if key[0] not in counted:
            st.count(key[0], {"I": "insert", "U": "update", "D": "delete"}[str(op)])
        if key not in first:
            first[key] = None if op == "I" else old_row
        last_op[key] = str(op)
        noted[key] = noted.get(key, 0) + 1
    del notes
    # Inserted by the program, sealed already and not changed since: its values are those written.
    known = {k: st.known[k] for k, op in last_op.items() if op == "I" and noted[k] == 1 and k in st.known}
    by_table: dict[str, list[int]] = {}
    for (tbl, rid), op in last_op.items():
        if op != "D" and (tbl, rid) not in known:
            by_table.setdefault(tbl, []).append(rid)
    now, read = pg.sealed_texts_and(conn, by_table, also())
    for (tbl, rid), op in last_op.items():
        listed = len(st.rows) < ROWS_IN_JOURNAL and tbl not in counted
        if op == "D":
            if st.system:
                guard.check_system_row(st, tbl, "D", None, ())
            if listed:
                st.rows.append({"table": tbl, "op": "D", "rowid": rid})
            continue
        if not (st.system or listed):
            continue  # (the values are needed only to check or to list the row)
        cols = guard.columns.get(tbl, [])
        before_text = first[(tbl, rid)]
        before = list(pg.values_of(before_text, cols)) if before_text is not None else None
        after = known.get((tbl, rid))
        if after is None:
            text, values = now[(tbl, rid)]
            after = tuple(values.get(c) for c in cols) if values is not None else pg.values_of(text, cols)
        if st.system:
            guard.check_system_row(st, tbl, "U" if before is not None else "I", before, after)
        if listed:
            st.rows.append(describe_row(tbl, "U" if before is not None else "I", rid, cols, before, after))
    keep = st.keep_unsealed
    key_ = guard.seal_key
    seals = [
        (tbl, rid, pg.seal_of_text(key_, tbl, rid, text))
        for (tbl, rid), (text, _) in now.items()
        if (tbl, rid) not in keep
    ]
    gone = [(tbl, rid) for (tbl, rid), op in last_op.items() if op == "D"]
    return seals, gone, read
