"""The same work on both engines: importing N targets (as a ratio to python-calamine's bare parse of
the file) and the integrity check of the result, on the SQLite file and on a PostgreSQL server that
this script starts (tests/pg_server.py; Debian's postgresql-15).

    python benchmarks/bench_engines.py [--rows 100000] [--repeat 3]

Each engine imports the file *repeat* times, each time into a new database, and the fastest import
(and check) is shown, as the bare parse is the fastest of three: on a noisy 2-core machine a single
import measured the machine as much as the program.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import python_calamine as pc
from common import target_workbook

from dsj_desktop.db.engine import open_database
from dsj_desktop.domain.specs import TARGETS
from dsj_desktop.io.importer import import_directory
from dsj_desktop.progress import run_job
from dsj_desktop.services import integrity
from tests.pg_server import start_server


def bare_parse(path: Path) -> float:
    t = time.perf_counter()
    wb = pc.CalamineWorkbook.from_path(str(path))
    wb.get_sheet_by_index(0).to_python()
    wb.close()
    return time.perf_counter() - t


def run(data: Path, xlsx: Path, url: str | None) -> tuple[float, float]:
    db = open_database(data, url=url)
    try:
        t = time.perf_counter()
        run_job(import_directory(db, TARGETS, xlsx, add_unknown_codes=True))
        imported = time.perf_counter() - t
        t = time.perf_counter()
        report = run_job(integrity.check(db))
        checked = time.perf_counter() - t
        assert report.ok, report.text()
    finally:
        db.close()
    return imported, checked


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="imports per engine, each into a new database")
    args = ap.parse_args()
    os.environ.pop("DSJ_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="dsj-bench-engines-") as tmp:
        work = Path(tmp)
        xlsx = target_workbook(work / "targets.xlsx", args.rows)
        parse = min(bare_parse(xlsx) for _ in range(3))
        print(f"bare parse of {args.rows:,} rows: {parse:.2f} s")
        runs = [run(work / f"sqlite-{i}", xlsx, None) for i in range(args.repeat)]
        imp, chk = min(r[0] for r in runs), min(r[1] for r in runs)
        print(
            f"SQLite:     import {imp:.2f} s ({imp / parse:.2f}x bare parse), check {chk:.2f} s  {_each(runs)}"
        )
        # The server database's keys are new, under a passphrase of this run (the program asks for one
        # when it makes a server database's keys; a script has no terminal to ask at).
        os.environ.setdefault("DSJ_KEY_PASSPHRASE", "bench-engines-" + os.urandom(8).hex())
        with start_server() as server:
            runs = [
                run(work / f"pg-{i}", xlsx, server.url(server.create_database())) for i in range(args.repeat)
            ]
            imp, chk = min(r[0] for r in runs), min(r[1] for r in runs)
            print(
                f"PostgreSQL: import {imp:.2f} s ({imp / parse:.2f}x bare parse), check {chk:.2f} s  {_each(runs)}"
            )


def _each(runs: list[tuple[float, float]]) -> str:
    return "(each import: " + ", ".join(f"{r[0]:.2f}" for r in runs) + " s)"


if __name__ == "__main__":
    main()
