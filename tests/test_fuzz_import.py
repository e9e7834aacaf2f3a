"""Malformed workbooks (truncated zips, random cells, huge strings, formulas, merged cells, hidden
sheets) fed to every importer: each ends in a clear Chinese refusal or a clean import, never a
crash and never a partial write."""

from __future__ import annotations

import io
import re
import tempfile
import time
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from dsj_desktop.db import guard as guard_mod
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.domain.plan_specs import ITEMS, PLAN_ROWS
from dsj_desktop.domain.specs import DIRECTORIES, TARGETS
from dsj_desktop.errors import UserError
from dsj_desktop.io.importer import import_directory
from dsj_desktop.progress import run_job
from dsj_desktop.services.plan import import_plan
from tests.demo_dates import DEMO_YEAR
from tests.pg_server import PgServer
from tests.test_import import fingerprint, target_row

SPECS = {**{k: v for k, v in DIRECTORIES.items()}, "items": ITEMS, "plan": PLAN_ROWS}


def _legal(s: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", s)  # what openpyxl can store; tabs and line breaks stay


texts = st.text(max_size=30).map(_legal)
cells = st.one_of(
    st.none(),
    texts,
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=5).map(_legal),
    st.sampled_from(["是", "否", "一般", "较大", "机械", "城关镇", "=1/0", "=SUM(A1:A3)", "=A1&B1", "#N/A",
                     "2027-12-31", "9" * 18, "91350100M000100Y43", "  ", "\u3000", "重大:100%;低:5%", "20家"]),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.just("长" * 40000),  # huge string
)  # fmt: skip


_FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def xlsx_bytes(wb: Workbook) -> bytes:
    """The workbook saved as bytes that depend on its content only. openpyxl stamps the current time
    into docProps/core.xml (created, modified) and into every zip entry; the deflated core.xml then
    changes length from one second to the next, so hypothesis replaying an example (truncate or flip
    at a position below len(data)) would draw differently: FlakyStrategyDefinition. Fixed stamps
    make a replay give the very same file."""
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "docProps/core.xml":
                content = _STAMP.sub(rb"\g<1>2026-01-01T00:00:00Z\g<2>", content)
            dst.writestr(zipfile.ZipInfo(info.filename, _FIXED_ZIP_TIME), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


@st.composite
def workbooks(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(sorted(SPECS)))
    spec = SPECS[kind]
    wb = Workbook()
    ws = wb.active
    if draw(st.booleans()):  # a title row above the headers
        ws.append([draw(texts)])
    headers = list(spec.headers)
    if draw(st.booleans()):
        headers = draw(st.permutations(headers))
    if draw(st.booleans()):
        headers = headers[: draw(st.integers(0, len(headers)))]
    ws.append(headers)
    for _ in range(draw(st.integers(0, 6))):
        if kind == "targets" and draw(st.booleans()):
            ws.append(target_row(draw(st.integers(1, 50))))
        else:
            ws.append([draw(cells) for _ in headers])
    if draw(st.booleans()) and ws.max_row > 2:
        ws.merge_cells(start_row=2, start_column=1, end_row=3, end_column=2)
    if draw(st.booleans()):
        hidden = wb.create_sheet("隐藏的表", 0)
        hidden.sheet_state = "hidden"
        hidden.append(["x"])
    data = xlsx_bytes(wb)
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "garbage"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    elif damage == "garbage":
        data = draw(st.binary(max_size=200))
    return (kind + "\n").encode() + data


def test_a_generated_workbook_does_not_depend_on_the_time_it_was_saved() -> None:
    """Hypothesis replays an example by drawing again: the bytes (and their length, which bounds the
    truncate and flip positions) must come out the same a second later."""

    def build() -> bytes:
        wb = Workbook()
        wb.active.append(list(TARGETS.headers))
        wb.active.append(target_row(1))
        return xlsx_bytes(wb)

    first = build()
    time.sleep(1.1)  # the stamps have a resolution of one second
    assert build() == first


@pytest.fixture(scope="module")
def fuzz_db(engine: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """The demo county, on the engine of this test run (a database of its own on the test server)."""
    from dsj_desktop.demo import fill_demo

    d = Path(tempfile.mkdtemp(prefix="dsj-fuzz-"))
    server: PgServer | None = request.getfixturevalue("pg_server") if engine == "postgres" else None
    name = server.create_database() if server is not None else None
    db = open_database(d, url=server.url(name) if server is not None and name else None)
    try:
        run_job(fill_demo(db, year=DEMO_YEAR))
        yield db
    finally:
        db.close()
        if server is not None and name:
            server.drop_database(name)


def _written(db: Database) -> Any:
    """What any write would change: the SQLite file's bytes; on a server, the journal's head, every
    row's seal and every table's row count (a program write changes at least the head)."""
    if not db.on_server:
        return fingerprint(db.data_dir)
    with db.read() as conn:
        seals = conn.exec_driver_sql(
            "SELECT md5(string_agg(tbl || ':' || row_id || ':' || encode(seal, 'hex'), ',' ORDER BY tbl, row_id)) "
            "FROM row_seal"
        ).scalar()
        return guard_mod.journal_head(conn)[:2], seals, guard_mod.table_counts(conn)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])  # fmt: skip
@given(blob=workbooks())
def test_malformed_workbooks_end_in_a_clear_error_or_a_clean_import(fuzz_db: Database, blob: bytes) -> None:
    kind, data = blob.split(b"\n", 1)
    spec = SPECS[kind.decode()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.xlsx"
        path.write_bytes(data)
        counts_before = _counts(fuzz_db)
        before = _written(fuzz_db)
        job: Any = import_plan(fuzz_db, path) if spec is PLAN_ROWS else import_directory(fuzz_db, spec, path)
        try:
            run_job(job)
        except UserError as exc:
            message = str(exc)
            assert message and any("\u4e00" <= ch <= "\u9fff" for ch in message), message
            assert _written(fuzz_db) == before  # refused: nothing written at all
            assert _counts(fuzz_db) == counts_before
            return
        # Accepted: every row it holds passed the same rules; the file is still consistent (on a
        # server: no change left unsealed, the server keeping its own pages consistent).
        if fuzz_db.on_server:
            assert fuzz_db.scalar("SELECT count(*) FROM dsj_change") == 0
        else:
            assert fuzz_db.scalar("PRAGMA integrity_check") == "ok"


def _counts(db: Database) -> tuple[int, ...]:
    with db.read() as conn:
        return tuple(
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
            for t in ("target", "inspector", "expert", "conflict", "item", "plan", "task", "journal")
        )


def test_the_fuzzed_database_still_verifies(fuzz_db: Database, engine: str) -> None:
    from dsj_desktop.services import integrity

    assert fuzz_db.on_server == (engine == "postgres")
    assert run_job(integrity.check(fuzz_db)).ok


assert TARGETS.kind in SPECS


def test_a_damaged_compressed_sheet_ends_in_a_clear_error(db: Database, tmp_path: Path) -> None:
    """A byte flipped inside the sheet's deflate stream (a zlib error while the sheet is looked at for
    a used range, found by the fuzz test above) ends in a Chinese refusal, never a traceback."""
    import zipfile

    wb = Workbook()
    wb.active.append(TARGETS.headers)
    for n in range(1, 40):
        wb.active.append(target_row(n))
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    refused = 0
    for at in range(start + 2, start + info.compress_size - 2, max(1, info.compress_size // 40)):
        path = tmp_path / f"damaged-{at}.xlsx"
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
        try:
            run_job(import_directory(db, TARGETS, path, dry_run=True))
        except UserError as exc:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in str(exc)), str(exc)
            refused += 1
    assert refused
