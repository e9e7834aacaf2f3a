"""完整性检查: is the data file exactly what the program wrote?

Checks SQLite's own structure, the protection triggers, the journal's hash chain and signatures,
every row's seal (a row changed, added or removed with another tool is named with its table and
key), and every signed draw record. Runs at start (in the background) and on demand.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from dsj_desktop.db import draw_inputs, pg
from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db.engine import Database
from dsj_desktop.db.server_keys import ROTATE_ACTION
from dsj_desktop.errors import UserError
from dsj_desktop.progress import Job, Progress

KEY_COLUMNS = ("uscc", "cert_no", "code", "username", "session_id", "person_code", "key", "name")


@dataclass(frozen=True)
class Finding:
    area: str  # 数据库结构 / 保护触发器 / 操作日志 / 数据行 / 抽取记录
    table: str
    row: str  # which row, for a person to find it
    detail: str

    def text(self) -> str:
        where = f"{self.table} {self.row}".strip()
        return f"【{self.area}】{where}：{self.detail}" if where else f"【{self.area}】{self.detail}"


@dataclass
class IntegrityReport:
    findings: list[Finding] = field(default_factory=list)
    rows_checked: int = 0
    journal_entries: int = 0
    records_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def text(self, limit: int = 200) -> str:
        head = (
            f"完整性检查：数据行 {self.rows_checked:,} 行，操作日志 {self.journal_entries:,} 条，"
            f"抽取记录 {self.records_checked} 份。"
        )
        if self.ok:
            return head + "\n结论：全部一致，未发现程序以外的改动。"
        lines = [head, f"结论：发现 {len(self.findings)} 处问题（可能有人用其他工具改过数据库）："]
        lines += [f"  {f.text()}" for f in self.findings[:limit]]
        if len(self.findings) > limit:
            lines.append(f"  ……另有 {len(self.findings) - limit} 处。")
        return "\n".join(lines)


def _changed(
    table: str, rowid: int, sealed: tuple[Any, ...], stored: bytes, revoked: dict[str, bytes]
) -> str:
    """What a row whose seal does not match is: changed outside the program, or sealed with a write
    key revoked before (every row that verified was sealed again when the key was replaced)."""
    for public, key in revoked.items():
        if stored == guard_mod.Guard(key, None, b"").seal(table, rowid, sealed):
            return (f"这一行是用已撤销的写入密钥（指纹 {_fp(bytes.fromhex(public))}）封存的：撤销之后有人用被撤销的"
                    "电脑或被盗的密钥写入了它，不是本程序写入的")  # fmt: skip
    return "这一行在本程序之外被改动过"


def _describe(table: str, cols: list[str], values: tuple[Any, ...] | None, rowid: int) -> str:
    label = f"第 {rowid} 行"
    if values is None:
        return label
    named = dict(zip(cols, values, strict=False))
    keys = [f"{k}={named[k]}" for k in KEY_COLUMNS if named.get(k) not in (None, "")][:2]
    return f"{label}（{'，'.join(keys)}）" if keys else label


def _fp(public: bytes) -> str:
    from dsj_desktop.keys import sha256_fingerprint

    return sha256_fingerprint(public)[:29] + "…"


def _rotation(action: str, detail: str) -> tuple[bytes, bytes] | None:
    """(old, new) write key of a journal entry replacing the write key, else None."""
    if action != ROTATE_ACTION:
        return None
    try:
        d = json.loads(detail)
        old, new = bytes.fromhex(d["old_write_key"]), bytes.fromhex(d["new_write_key"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return (old, new) if len(old) == len(new) == 32 else None


def verify_journal(rows: list[tuple[Any, ...]], public_key: bytes | None) -> list[Finding]:
    """The chain (each entry carries the previous hash), each hash, each signature.

    On a server the write key may have been replaced (an administrator revoking a workstation):
    an entry "更换服务器写入密钥" names the old and the new key and is signed with the new one;
    entries before it verify with the old key, entries after it with the new one, and the last key
    of the chain must be *public_key* (the one this program holds). An entry signed after the change
    with a revoked key is named as such."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    changes = [
        c
        for jid, at, who, action, detail, prev_hash, h, _ in rows
        if (c := _rotation(action, detail)) is not None
        and guard_mod.entry_hash(prev_hash, at, who, action, detail) == h
    ]
    current = changes[0][0] if changes and public_key else public_key
    revoked: dict[bytes, int] = {}  # revoked key → the entry that revoked it
    findings: list[Finding] = []

    def signed_by(key: bytes, sig: str, h: str) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(bytes.fromhex(sig), bytes.fromhex(h))
        except (InvalidSignature, ValueError):
            return False
        return True

    prev = guard_mod.GENESIS
    for jid, at, who, action, detail, prev_hash, h, sig in rows:
        where = f"第 {jid} 条（{at} {action[:30]}）"
        if prev_hash != prev:
            findings.append(
                Finding("操作日志", "journal", where, "与前一条的链接断开（有日志被删除、插入或改动）")
            )
        expect = guard_mod.entry_hash(prev_hash, at, who, action, detail)
        if expect != h:
            findings.append(Finding("操作日志", "journal", where, "内容与其哈希不符（这条日志被改动过）"))
        elif current is not None:
            change = _rotation(action, detail)
            if change is not None:
                if change[0] != current:
                    findings.append(Finding("操作日志", "journal", where,
                                            "更换写入密钥的记录与之前使用的写入密钥不衔接（这条日志不是本程序写入的）"))  # fmt: skip
                revoked.setdefault(current, jid)
                current = change[1]
            if not signed_by(current, sig, h):
                by = next((k for k in revoked if k != current and signed_by(k, sig, h)), None)
                findings.append(Finding("操作日志", "journal", where, "签名无效（不是本局密钥签署的）" if by is None else
                                        f"签名用的是第 {revoked[by]} 条起已撤销的写入密钥（指纹 {_fp(by)}）："
                                        "撤销之后有人用被撤销的电脑或被盗的密钥写入了这条日志"))  # fmt: skip
        prev = h
    if changes and public_key is not None and current != public_key:
        findings.append(Finding("操作日志", "journal", "", f"操作日志最后换用的写入密钥（指纹 {_fp(current or b'')}）"
                                f"不是本机使用的写入密钥（指纹 {_fp(public_key)}）"))  # fmt: skip
    return findings


def _server_record_key(db: Database) -> bytes | None:
    """The bureau's record key a server database registers (None on the SQLite file)."""
    from dsj_desktop.keys import KeyStore

    store = KeyStore(db.data_dir)
    return store.record_public_key_bytes() if db.on_server and store.on_server else None


def _check_records(conn: Connection, bureau_key: bytes | None = None) -> tuple[int, list[Finding]]:
    """Every stored record verifies; with *bureau_key* (a shared server: the record key it registers)
    every record is signed with that one key, whichever workstation drew — or with an earlier key of
    the bureau (journalled "生成新的本局签名密钥") when it was signed before that key was replaced."""
    from dsj_desktop.db.server_keys import bureau_key_changes
    from dsj_desktop.draw.algorithm import canonical_json
    from dsj_desktop.draw.record import verify_record

    # An earlier key of the bureau → the journal entry that replaced it.
    replaced = {old.hex(): jid for jid, old, _ in bureau_key_changes(conn, bureau_key)} if bureau_key else {}
    findings = []
    n = 0
    latest: dict[str, int] = {}
    versions = conn.exec_driver_sql(
        "SELECT session_id, version, sha256 FROM draw_record ORDER BY session_id, version"
    ).all()
    for sid, version, sha in versions:  # one at a time (each may take 10 MB)
        n += 1
        where = f"场次 {sid} 第 {version} 版"
        stored, at, targets = conn.exec_driver_sql(draw_inputs.RECORD_SQL, (sid, version)).one()
        try:
            # Stored without its candidates (schema 8 on): they are put back from the session's
            # frozen inputs, whose own row is checked with the others.
            text = draw_inputs.record_with_candidates(stored, at, targets)
        except ValueError:
            findings.append(Finding("抽取记录", "draw_record", where,
                                    "记录中候选名单的位置不对，或该场次的抽取输入缺失"))  # fmt: skip
            continue
        del stored, targets
        try:
            record = json.loads(text)
        except ValueError:
            findings.append(Finding("抽取记录", "draw_record", where, "记录不是有效的 JSON"))
            continue
        # Stored as its canonical JSON (schema 7 on): then the text itself hashes to the digest.
        if (
            hashlib.sha256(text.encode("utf-8")).hexdigest() != sha
            and hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest() != sha
        ):
            findings.append(Finding("抽取记录", "draw_record", where, "记录内容与保存时的哈希不符"))
        del text
        report = verify_record(record)
        for c in report.failed:
            findings.append(Finding("抽取记录", "draw_record", where, f"{c.name}：{c.detail}"))
        signed_with = (record.get("signature") or {}).get("public_key") if isinstance(record, dict) else None
        head = record.get("journal_head")
        seq = head.get("seq") if isinstance(head, dict) else None
        if bureau_key is not None and signed_with is not None and signed_with != bureau_key.hex():
            until = replaced.get(signed_with)
            if until is None:
                findings.append(
                    Finding("抽取记录", "draw_record", where, "记录不是用服务器登记的本局密钥签署的")
                )
            elif not isinstance(seq, int) or seq >= until:
                findings.append(Finding("抽取记录", "draw_record", where,
                                        f"记录是用本局已更换的旧密钥签署的，但签署时间在第 {until} 条日志更换密钥之后"))  # fmt: skip
        if isinstance(seq, int) and seq > 0 and _hash_at(conn, seq) != head.get("hash"):
            findings.append(Finding("抽取记录", "journal", where,
                                    f"签署时的操作日志第 {seq} 条已不在或被改动（操作日志被截断或改写）"))  # fmt: skip
        del record, report
        latest[sid] = int(version)
    for sid, version in conn.exec_driver_sql("SELECT id, record_version FROM draw_session"):
        if int(version or 0) != latest.get(sid, 0):
            findings.append(
                Finding("抽取记录", "draw_session", f"场次 {sid}", "场次所指的记录版本与记录版本表不一致")
            )
    return n, findings


def check_anchor(conn: Connection, data_dir: Path, public_key: bytes | None) -> list[Finding]:
    """The journal against the anchor file beside the database, and the row counts against the
    journal's last entry."""
    from dsj_desktop.db import anchor

    findings = []
    seq, h, logged = guard_mod.journal_head(conn)
    try:
        found = anchor.read(data_dir, public_key)
    except anchor.AnchorError as exc:
        findings.append(Finding("操作日志锚定", "", anchor.ANCHOR_FILE, str(exc)))
    else:
        if found is None and pg.is_pg(conn):
            pass  # a workstation new to the shared server has no anchor yet (docs/postgresql.md)
        elif found is None:
            findings.append(Finding("操作日志锚定", "", anchor.ANCHOR_FILE,
                                    "锚定文件缺失：无法确认操作日志末尾没有被删除"))  # fmt: skip
        else:
            diff = anchor.compare(found, anchor.Head(seq, h), lambda n: _hash_at(conn, n))
            if diff is not None and not (diff[0] == "stale" and pg.is_pg(conn)):  # others write on a server
                findings.append(Finding("操作日志锚定", "journal", "", diff[1]))
    if logged is not None:
        for text in guard_mod.count_differences(logged, guard_mod.table_counts(conn)):
            findings.append(Finding("数据行", "", "", f"{text}（有行连同其封存在本程序之外被删除或加入）"))
    return findings


def _hash_at(conn: Connection, seq: int) -> str | None:
    row = conn.exec_driver_sql("SELECT hash FROM journal WHERE id = ?", (seq,)).first()
    return None if row is None else str(row[0])


def journal_events(conn: Connection) -> list[Finding]:
    """What the program itself found changed outside it (and recorded in the journal) at a start or
    before a write: removed or foreign triggers, a cut journal, rows gone with their seals."""
    marks = ",".join("?" * len(guard_mod.EVENT_ACTIONS))
    findings = []
    for jid, at, action, detail in conn.exec_driver_sql(
        f"SELECT id, at, action, detail FROM journal WHERE action IN ({marks}) ORDER BY id",
        tuple(guard_mod.EVENT_ACTIONS),
    ):
        try:
            d = json.loads(detail)
        except ValueError:
            d = {}
        items = d.get("triggers") or d.get("problems") or []
        what = "；".join(str(x) for x in items[:8]) + ("……" if len(items) > 8 else "")
        area = "保护触发器" if action == guard_mod.TRIGGERS_RESTORED else "程序之外的改动"
        findings.append(Finding(area, "journal", f"第 {jid} 条（{at[:19]}）", f"{action}：{what}"))
    return findings


def check(db: Database) -> Job[IntegrityReport]:
    report = IntegrityReport()
    guard = db.guard
    with db.read() as conn:
        yield Progress("正在检查数据库结构……")
        server = pg.is_pg(conn)  # (a PostgreSQL server checks its own structure)
        revoked: dict[str, bytes] = {}
        if server and db.key_source is not None:
            from dsj_desktop.db import server_keys

            if pg.meta(conn, "write_key") not in (None, guard.public_key.hex()):
                raise UserError(server_keys.STALE_WRITE_KEY)
            revoked = server_keys.retired_seal_keys(conn, guard.seal_key, guard.public_key)
        problems = ["ok"] if server else [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
        if problems != ["ok"]:
            for p in problems[:20]:
                report.findings.append(Finding("数据库结构", "", "", str(p)))
        want = guard_mod.program_triggers(conn)
        have = guard_mod.all_triggers(conn)
        for name, what in guard_mod.trigger_differences(want, have):
            report.findings.append(Finding("保护触发器", "", name, what))

        yield Progress("正在核对操作日志……")
        rows = conn.exec_driver_sql(
            "SELECT id, at, actor, action, detail, prev_hash, hash, signature FROM journal ORDER BY id"
        ).fetchall()
        report.journal_entries = len(rows)
        report.findings += verify_journal([tuple(r) for r in rows], guard.public_key)
        if guard.anchoring:
            report.findings += check_anchor(conn, db.data_dir, guard.public_key)
        report.findings += journal_events(conn)

        if server:
            for table, op, rowid in pg.foreign_changes(conn):
                what = {"I": "加入", "U": "改动", "D": "删除"}.get(op, op)
                report.findings.append(Finding("程序之外的改动", guard_mod.table_title(table), f"第 {rowid} 行",
                                               f"这一行在本程序之外被{what}（服务器记下了这次改动）"))  # fmt: skip

        tables = guard_mod.sealed_tables(conn)
        for i, (table, cols) in enumerate(tables.items()):
            yield Progress("正在核对数据行……", i, len(tables))
            seals = guard_mod.stored_seals(conn, table)
            title = guard_mod.table_title(table)
            for rowid, sealed in guard_mod.sealed_rows(conn, table, cols):
                report.rows_checked += 1
                stored = seals.pop(rowid, None)
                values = pg.values_of(sealed[0], cols) if server else sealed
                if stored is None:
                    report.findings.append(Finding("数据行", title, _describe(table, cols, values, rowid),
                                                   "这一行不是本程序写入的（没有封存记录）"))  # fmt: skip
                elif stored != guard.seal(table, rowid, sealed):
                    report.findings.append(Finding("数据行", title, _describe(table, cols, values, rowid),
                                                   _changed(table, rowid, sealed, stored, revoked)))  # fmt: skip
            for rowid in sorted(seals):
                report.findings.append(Finding("数据行", title, _describe(table, cols, None, rowid),
                                               "这一行在本程序之外被删除了"))  # fmt: skip

        yield Progress("正在核对抽取记录的签名……")
        bureau = _server_record_key(db)
        report.records_checked, found = _check_records(conn, bureau)
        report.findings += found
    return report


def check_and_record(db: Database, how: str = "") -> Job[IntegrityReport]:
    """The check, then one journal entry with its conclusion (*how*: e.g. "（启动时）")."""
    report = yield from check(db)
    db.record(f"完整性检查{how}", {"ok": report.ok, "findings": len(report.findings)})
    return report


def check_file(path: Path, public_key: bytes | None) -> tuple[str, list[Finding], int]:
    """A quick check of a backup file without opening it as the live database: SQLite's structure
    and the journal chain. Returns (integrity_check result, findings, schema version)."""
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)  # writes nothing beside it
    try:
        result = con.execute("PRAGMA integrity_check").fetchone()[0]
        version = int(con.execute("PRAGMA user_version").fetchone()[0])
        has_journal = con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'journal'").fetchone()[0]
        rows = (
            con.execute(
                "SELECT id, at, actor, action, detail, prev_hash, hash, signature FROM journal ORDER BY id"
            ).fetchall()
            if has_journal
            else []
        )
    finally:
        con.close()
    return str(result), verify_journal(rows, public_key), version
