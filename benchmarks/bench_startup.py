"""Start-up.

The command line: ``dsj-desktop --version`` and ``dsj-desktop --help`` as a ratio to a bare
``python -c pass`` (goal ≤ 5 each), median of --reps fresh processes, interleaved.

The GUI: time from process start to the main window shown, with 100,000 targets, as a ratio to a
bare PySide6 window in the same environment (goal ≤ 2); and the resident memory with the
100,000-row directory open (goal: under bare PySide6 + 150 MB). Each measurement is a fresh
process (QT_QPA_PLATFORM=offscreen), best of five, interleaved.

    python benchmarks/bench_startup.py [--reps 15] [--cli-only] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BARE = r"""
import time, sys
t0 = float(sys.argv[1])
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication([])
w = QMainWindow(); w.setCentralWidget(QLabel("hello")); w.resize(1280, 800); w.show()
app.processEvents()
print(f"shown {time.time() - t0:.4f}")
print(f"rss {open('/proc/self/status').read().split('VmRSS:')[1].split()[0]}")
"""

APP = r"""
import time, sys
t0 = float(sys.argv[1])
from pathlib import Path
from PySide6.QtWidgets import QApplication
from dsj_desktop.ui.app import setup_application
from dsj_desktop.ui.main_window import MainWindow
app = QApplication([])
setup_application(app)
w = MainWindow(); w.resize(1280, 800); w.show()   # what run_gui shows first
app.processEvents()
print(f"shown {time.time() - t0:.4f}")
from dsj_desktop.db.engine import open_database
db = open_database(Path(sys.argv[2]))
w.attach(db)                                        # then the data: the start page with its counts
app.processEvents()
w.grab()
print(f"data {time.time() - t0:.4f}")
# Then open the 100,000-row directory and let it paint.
w.show_directory("targets")
app.processEvents()
w.directory_tabs["targets"].table.viewport().grab()
print(f"table {time.time() - t0:.4f}")
print(f"rss {open('/proc/self/status').read().split('VmRSS:')[1].split()[0]}")
print(f"rows {w.directory_tabs['targets'].model.rowCount()}")
"""


def run(code: str, *args: str) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code, f"{t0:.6f}", *args], capture_output=True, text=True,
                         env=env, check=True).stdout  # fmt: skip
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def wall(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def command_line(reps: int) -> None:
    """``dsj-desktop --version`` and ``--help`` (the installed script when there is one) against a
    bare interpreter, each the median of *reps* fresh processes."""
    script = Path(sys.executable).with_name("dsj-desktop")
    program = [str(script)] if script.is_file() else [sys.executable, "-m", "dsj_desktop"]
    runs: dict[str, list[float]] = {"bare": [], "--version": [], "--help": []}
    for _ in range(reps):
        runs["bare"].append(wall([sys.executable, "-c", "pass"]))
        runs["--version"].append(wall([*program, "--version"]))
        runs["--help"].append(wall([*program, "--help"]))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"command line: {' '.join(Path(a).name for a in program)}, median of {reps} runs each")
    print(f"python -c pass:                {med['bare'] * 1000:7.1f} ms")
    for arg in ("--version", "--help"):
        print(f"dsj-desktop {arg + ':':<18}{med[arg] * 1000:7.1f} ms")
    for arg in ("--version", "--help"):
        print(f"RATIO {arg + ':':<24}{med[arg] / med['bare']:7.2f}   (goal ≤ 5)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path)
    ap.add_argument("--reps", type=int, default=15, help="runs of each command-line measurement")
    ap.add_argument("--cli-only", action="store_true", help="measure the command line only")
    args = ap.parse_args()
    command_line(args.reps)
    if args.cli_only:
        return
    print()
    work = args.keep or Path(tempfile.mkdtemp(prefix="dsj-bench-start-"))
    data = work / "data"
    if not (data / "dsj.sqlite3").exists():
        from common import target_workbook

        from dsj_desktop.db.engine import open_database
        from dsj_desktop.domain.specs import TARGETS
        from dsj_desktop.io.importer import import_directory
        from dsj_desktop.progress import run_job

        db = open_database(data)
        run_job(import_directory(db, TARGETS, target_workbook(work / "targets-100000.xlsx", 100_000),
                                 add_unknown_codes=True))  # fmt: skip
        db.close()
    bare_t, app_t, data_t, table_t, bare_m, app_m = [], [], [], [], [], []
    rows = ""
    for _ in range(5):
        b = run(BARE)
        a = run(APP, str(data))
        bare_t.append(float(b["shown"]))
        app_t.append(float(a["shown"]))
        data_t.append(float(a["data"]))
        table_t.append(float(a["table"]))
        bare_m.append(int(b["rss"]) / 1024)
        app_m.append(int(a["rss"]) / 1024)
        rows = a["rows"]
    print(f"targets in the database: {int(rows):,}")
    print(
        f"bare PySide6 window shown:     {min(bare_t) * 1000:7.0f} ms   (runs: {', '.join(f'{t * 1000:.0f}' for t in bare_t)})"
    )
    print(
        f"main window shown:             {min(app_t) * 1000:7.0f} ms   (runs: {', '.join(f'{t * 1000:.0f}' for t in app_t)})"
    )
    print(f"RATIO start-up:                {min(app_t) / min(bare_t):7.2f}   (goal ≤ 2)")
    print(
        f"start page with its counts:    {min(data_t) * 1000:7.0f} ms   ({min(data_t) / min(bare_t):.2f} × bare)"
    )
    print(f"100,000-row table painted:     {min(table_t) * 1000:7.0f} ms")
    print(f"resident memory, bare window:  {min(bare_m):7.0f} MB")
    print(
        f"resident memory, 100k open:    {min(app_m):7.0f} MB   (+{min(app_m) - min(bare_m):.0f} MB; goal < +150 MB)"
    )


if __name__ == "__main__":
    main()
