"""Directory import at 100,000 rows, as a ratio to python-calamine's bare parse of the same file
(goal ≤ 2), and the time to show the first screen of the 100,000-row table after a search keystroke.

    python benchmarks/bench_import.py [--rows 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import python_calamine as pc
from common import best_of, target_workbook

from dsj_desktop.db.engine import open_database
from dsj_desktop.domain.specs import TARGETS
from dsj_desktop.io.importer import import_directory
from dsj_desktop.progress import run_job


def bare_parse(path: Path) -> int:
    wb = pc.CalamineWorkbook.from_path(str(path))
    rows = wb.get_sheet_by_index(0).to_python()
    wb.close()
    return len(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="folder for the generated workbook (reused between runs)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="dsj-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    xlsx = work / f"targets-{args.rows}.xlsx"
    t0 = time.perf_counter()
    target_workbook(xlsx, args.rows)
    print(f"workbook: {xlsx} ({xlsx.stat().st_size / 1e6:.1f} MB, made in {time.perf_counter() - t0:.1f} s)")

    # Parse and import alternate, so both see the same machine load; the best of each is compared.
    parses: list[float] = []
    imports: list[float] = []
    data_dir = Path()
    for _ in range(4):
        t_parse, n = best_of(1, lambda: bare_parse(xlsx))
        parses.append(t_parse)
        data_dir = Path(tempfile.mkdtemp(prefix="dsj-bench-db-"))
        db = open_database(data_dir)
        t_import, summary = best_of(
            1, lambda db=db: run_job(import_directory(db, TARGETS, xlsx, add_unknown_codes=True))
        )
        imports.append(t_import)
        db.close()
    print(
        f"python-calamine bare parse:      {min(parses):7.2f} s  ({n - 1} data rows; runs: "
        + ", ".join(f"{t:.2f}" for t in parses)
        + ")"
    )
    print(
        f"import into an empty database:   {min(imports):7.2f} s  (added {summary.added}; runs: "
        + ", ".join(f"{t:.2f}" for t in imports)
        + ")"
    )
    db = open_database(data_dir)
    t_re, s2 = best_of(2, lambda: run_job(import_directory(db, TARGETS, xlsx)))
    print(f"re-import, all rows unchanged:   {t_re:7.2f} s  (unchanged {s2.unchanged})")
    db.close()
    print(f"RATIO import / bare parse:       {min(imports) / min(parses):7.2f}   (goal ≤ 2)")
    print(f"RATIO re-import / bare parse:    {t_re / min(parses):7.2f}")

    # The first screen of the table after a keystroke in the search box.
    from PySide6.QtWidgets import QApplication

    from dsj_desktop.ui.app import setup_application
    from dsj_desktop.ui.directory_tab import DirectoryTab

    app = QApplication([])
    setup_application(app)
    db = open_database(data_dir)
    t = time.perf_counter()
    tab = DirectoryTab(db, TARGETS)
    tab.resize(1280, 800)
    tab.show()
    app.processEvents()
    tab.table.viewport().grab()
    print(f"tab with {tab.model.rowCount():,} rows shown in: {(time.perf_counter() - t) * 1000:7.0f} ms")
    timings = []
    for text in ("青", "青山", "青山宏", "机械", "加油站", "9114"):
        t = time.perf_counter()
        tab.search.setText(text)
        tab.apply_filter()  # what the debounce timer calls
        tab.table.viewport().grab()  # paints the first screen: fetches its rows
        timings.append((text, (time.perf_counter() - t) * 1000, tab.model.rowCount()))
    for text, ms, n in timings:
        print(f"search “{text}” → first screen: {ms:7.0f} ms  ({n:,} rows match)")
    t = time.perf_counter()
    tab.table.scrollToBottom()
    tab.table.viewport().grab()
    print(f"jump to the last row:            {(time.perf_counter() - t) * 1000:7.0f} ms")
    print(f"MAX first screen after a keystroke: {max(ms for _, ms, _ in timings):.0f} ms "
          f"(plus the {150} ms typing pause before the search runs)")  # fmt: skip
    db.close()


if __name__ == "__main__":
    main()
