"""Killed midway: an import and a draw confirmation are killed at random points in a subprocess
(fixed seeds, many runs). After each kill the file passes integrity_check, the journal chain and
every seal verify, and the data is wholly before or wholly after the operation."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsj_desktop.db import lock
from dsj_desktop.db.engine import open_database
from dsj_desktop.progress import run_job
from dsj_desktop.services import integrity
from tests.demo_dates import DEMO_DAY, DEMO_YEAR
from tests.test_import import target_row, write_xlsx

RUNS = 10
MARKER_GRACE = 0.05  # a kill this soon after "ready" may come before the operation has begun

CHILD_IMPORT = """
import sys
from pathlib import Path
from dsj_desktop.db.engine import open_database
from dsj_desktop.domain.specs import TARGETS
from dsj_desktop.io.importer import import_directory
from dsj_desktop.progress import run_job
db = open_database(Path(sys.argv[1]))
print("ready", flush=True)
run_job(import_directory(db, TARGETS, Path(sys.argv[2])))
print("done", flush=True)
"""

CHILD_CONFIRM = """
import sys
from pathlib import Path
from dsj_desktop.db.engine import open_database
from dsj_desktop.services import sessions
db = open_database(Path(sys.argv[1]))
print("ready", flush=True)
sessions.confirm(db, sys.argv[2])
print("done", flush=True)
"""


def _run_and_kill(code: str, args: list[str], delay: float | None) -> tuple[bool, float]:
    """Start the child, wait for "ready", kill it *delay* seconds later (None: let it finish).
    Returns (whether it had finished, seconds from ready to done or to the kill)."""
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    if delay is None:
        out = child.communicate()[0]
        return "done" in out, time.perf_counter() - start
    time.sleep(delay)
    child.kill()
    out = child.communicate()[0]
    return "done" in out, delay


def _verify(data: Path) -> None:
    db = open_database(data)
    try:
        assert db.scalar("PRAGMA integrity_check") == "ok"
        report = run_job(integrity.check(db))
        assert report.ok, report.text()
    finally:
        db.close()


def _copy(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


@pytest.fixture(scope="module")
def big_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """A data folder, a 20,000-row file, and how long its import takes here (to aim the kills)."""
    from dsj_desktop.demo import fill_demo

    work = tmp_path_factory.mktemp("crash-import")
    src = work / "src"
    db = open_database(src)
    run_job(fill_demo(db, year=DEMO_YEAR))
    db.close()
    path = write_xlsx(work / "big.xlsx", [target_row(n) for n in range(1, 20001)])
    finished, took = _run_and_kill(CHILD_IMPORT, [str(_copy(src, work / "probe")), str(path)], None)
    assert finished
    return src, path, took


@pytest.mark.parametrize("seed", range(RUNS))
def test_an_import_killed_at_a_random_point(
    seed: int, big_import: tuple[Path, Path, float], tmp_path: Path
) -> None:
    src, path, took = big_import
    rng = random.Random(seed)
    data = _copy(src, tmp_path / "data")
    delay = rng.uniform(0.0, took)
    finished, _ = _run_and_kill(CHILD_IMPORT, [str(data), str(path)], delay)
    _verify(data)
    db = open_database(data)
    try:
        n = db.scalar("SELECT count(*) FROM target")
        assert n in (3000, 23000), n  # wholly before or wholly after
        assert finished <= (n == 23000)
    finally:
        db.close()
    msgs = lock.interrupted(data)
    if n == 3000 and delay > MARKER_GRACE:  # killed during the import: the next start says so
        assert msgs and all("导入检查对象名录库" in m for m in msgs)


@pytest.fixture(scope="module")
def revealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, float]:
    """A data folder with a revealed (not yet confirmed) session of a 100 % task, and how long its
    confirmation takes here."""
    from dsj_desktop.demo import fill_demo
    from dsj_desktop.services import sessions
    from tests.test_draw_sessions import add_task

    data = tmp_path_factory.mktemp("revealed")
    db = open_database(data)
    run_job(fill_demo(db, year=DEMO_YEAR))
    add_task(db, "RW-ALL", ratio="100%", industries="", items="YJ-009")  # every unit: a long confirmation
    s = sessions.prepare(db, "RW-ALL", on=DEMO_DAY)
    sessions.commit(db, s.id)
    sessions.add_witness(db, s.id, "甲", "31415926535")
    sessions.add_witness(db, s.id, "乙", "27182818284")
    sessions.do_reveal(db, s.id)
    db.close()
    probe = _copy(data, tmp_path_factory.mktemp("probe") / "d")
    finished, took = _run_and_kill(CHILD_CONFIRM, [str(probe), s.id], None)
    assert finished
    return data, s.id, took


@pytest.mark.parametrize("seed", range(RUNS))
def test_a_confirmation_killed_at_a_random_point(
    seed: int, revealed: tuple[Path, str, float], tmp_path: Path
) -> None:
    src, session, took = revealed
    rng = random.Random(1000 + seed)
    data = _copy(src, tmp_path / "data")
    delay = rng.uniform(0.0, took)
    finished, _ = _run_and_kill(CHILD_CONFIRM, [str(data), session], delay)
    _verify(data)
    db = open_database(data)
    try:
        status = db.scalar("SELECT status FROM draw_session WHERE id = :s", {"s": session})
        selected = db.scalar("SELECT count(*) FROM draw_selection WHERE session_id = :s", {"s": session})
        members = db.scalar("SELECT count(*) FROM draw_member WHERE session_id = :s", {"s": session})
        records = db.scalar("SELECT count(*) FROM draw_record WHERE session_id = :s", {"s": session})
        expected = len(json.loads(db.scalar("SELECT result FROM draw_session WHERE id = :s", {"s": session})))
        if status == "revealed":  # wholly before
            assert (selected, members, records) == (0, 0, 0)
            assert not finished
            if delay > MARKER_GRACE:
                assert any("确认抽取结果" in m for m in lock.interrupted(data))
        else:  # wholly after
            assert status == "confirmed"
            assert selected == expected and members == expected * 2 and records == 1
    finally:
        db.close()
