"""The suite and the demo whatever the real date is.

The demo follows the calendar (a bureau trying the program in 2028 sees a 2028 plan, not one of
2026 long past), the tests pin the dates they mean (tests/demo_dates.py), and a guard runs a
representative part of the suite under a fake clock years ahead, so that nothing creeps back in.
Run the whole suite that way too, before a release (libfaketime; Debian: ``apt-get install faketime``)::

    faketime '2027-12-28 10:00:00' .venv/bin/python -m pytest -q

(Not with ``FAKETIME_DONT_FAKE_MONOTONIC=1``: with libfaketime 0.9.10 Python's ``time.sleep`` then fails
with EINVAL. The monotonic clock faked runs on at its real pace, which is all Qt's timers need.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from dsj_desktop.db.engine import Database
from dsj_desktop.demo import demo_year, fill_demo
from dsj_desktop.demo.results import demo_draws, story_ends
from dsj_desktop.domain import workdays
from dsj_desktop.progress import run_job
from dsj_desktop.services import integrity, sessions
from dsj_desktop.services.plan import task_pool

from .demo_dates import DEMO_DAY, DEMO_YEAR, pinned_day

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_is_about_the_latest_year_whose_story_is_over() -> None:
    for year in (2026, 2027, 2031, 2040):
        end = story_ends(year)
        assert date(year, 5, 1) < end < date(year, 6, 1), end
        assert demo_year(end) == year - 1  # nothing of the demo may lie in the future
        assert demo_year(end + timedelta(days=1)) == year
        assert demo_year(date(year, 1, 2)) == year - 1  # its plan's 烟花爆竹 task runs into January
        assert demo_year(date(year, 12, 31)) == year


def test_the_demo_draws_are_on_working_days() -> None:
    # as the tests know them
    assert [d.on for d in demo_draws(DEMO_YEAR)] == [date(2026, 3, 9), date(2026, 4, 7)]
    for year in workdays.PACKAGE_YEARS & set(range(2010, 2100)):
        for d in demo_draws(year):
            assert chinese_calendar.is_workday(d.on) and d.on.weekday() < 5, d


def test_a_demo_made_in_another_year_is_about_that_year_and_honest(db: Database) -> None:
    """Made on 2027-09-15, the demo is about 2027 (a year whose 节假日安排 chinese-calendar 1.11 does not
    know): its plan, draws on their days in the past, certificates valid on the day, a clean check."""
    today = date(2027, 9, 15)
    with pinned_day(today):
        assert run_job(fill_demo(db)).counts["已确认的抽取场次"] == 2
        with db.read() as conn:
            assert conn.exec_driver_sql("SELECT code, year FROM plan").all() == [("JH-2027-01", 2027)]
            tasks = [r[0] for r in conn.exec_driver_sql("SELECT code FROM task ORDER BY code")]
            assert tasks == [f"RW-2027-0{i}" for i in range(1, 7)]
            assert {r[0] for r in conn.exec_driver_sql("SELECT year FROM item")} == {2026, 2027}
            listed = sessions.list_sessions(conn)
            assert sorted((s.task_code, s.draw_date) for s in listed) == [
                (d.task, d.on) for d in demo_draws(2027)
            ]
            assert all(s.id.startswith("S-2027-") and s.draw_date < today for s in listed)
            for s in listed:
                times = [e["at"] for e in sessions.events(conn, s.id)]
                assert times and all(t[:10] == s.draw_date.isoformat() for t in times)
            entered = [r[0] for r in conn.exec_driver_sql("SELECT entered_at FROM inspection_result")]
            assert entered and max(entered)[:10] <= story_ends(2027).isoformat() < today.isoformat()
            # As in the 2026 demo on its day: a task in its period can be drawn, by the same inspectors.
            from dsj_desktop.services.plan import get_task

            tp = task_pool(conn, get_task(conn, "RW-2027-02"), today)
            assert not tp.problems and tp.inspectors_eligible > 0
        report = run_job(integrity.check(db))
    assert report.ok, report


def test_the_tests_demo_is_the_one_they_are_written_about(demo_db: Database) -> None:
    with demo_db.read() as conn:
        assert conn.exec_driver_sql("SELECT code FROM plan").scalar_one() == f"JH-{DEMO_YEAR}-01"
        periods = conn.exec_driver_sql("SELECT code, start_date, end_date FROM task").all()
    assert all(str(start) <= DEMO_DAY.isoformat() <= str(end) for _, start, end in periods), periods


# Tests that failed when the real date moved on (the demo's tasks past their periods, results overdue,
# certificates expired, a year without working days): run under a clock years ahead, late in
# a year, they must pass as they do today.
GUARDED = (
    "tests/test_draw_stage.py",
    "tests/test_small_points.py",
    "tests/test_draw_again.py",
    "tests/test_ui_plan.py",
    "tests/test_ui_results.py",
    "tests/test_ui_directories.py",
    "tests/test_publish.py",
)


NO_FAKETIME = "libfaketime is not installed (apt-get install faketime)"


@pytest.mark.skipif(shutil.which("faketime") is None, reason=NO_FAKETIME)
@pytest.mark.skipif(bool(os.environ.get("FAKETIME")), reason="already under a fake clock")
def test_date_dependent_tests_pass_years_ahead(tmp_path: Path) -> None:
    ahead = date(date.today().year + 2, 12, 28)  # 元旦 ahead, a year no working-day table knows yet
    cmd = ["faketime", f"{ahead.isoformat()} 10:00:00", sys.executable, "-m", "pytest", "-q", "-x",
           "-p", "no:cacheprovider", "-p", "no:randomly", "--basetemp", str(tmp_path / "t"), *GUARDED]  # fmt: skip
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False)
    assert run.returncode == 0, f"under a clock at {ahead}:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
    assert " passed" in run.stdout and " failed" not in run.stdout
