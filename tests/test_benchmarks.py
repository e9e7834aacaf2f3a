"""The benchmarks that measure issue 17's goals still run (they are scripts, not tests, and nothing
else would notice one breaking): each is run on a small county, on both engines, and must print its
ratios. Nothing here is timed; the figures themselves are read by people (benchmarks/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pg_server import pg_bin_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _once_and_with_a_server(engine: str) -> None:
    if engine == "postgres":  # (each script runs both engines itself: once is enough)
        pytest.skip("the benchmark scripts run both engines themselves: checked in the SQLite run")
    if pg_bin_dir() is None and not os.environ.get("CI"):
        pytest.skip("no PostgreSQL server binaries (Debian's postgresql-15; .ci/run installs them)")


def run_script(name: str, *args: str, tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DSJ_DATABASE_URL", "DSJ_KEY_PASSPHRASE")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_session_benchmark_prints_its_ratios_on_both_engines(tmp_path: Path) -> None:
    out = run_script(
        "bench_session.py", "--engine", "both", "--rows", "400", "--repeat", "1", tmp_path=tmp_path
    )
    assert out.count("RATIO prepare + reveal") == 2, out
    assert out.count("RATIO confirm") == 2, out
    assert out.count("PEAK memory") == 2, out
    assert "== SQLite ==" in out and "== PostgreSQL ==" in out


def test_the_engines_benchmark_prints_both_import_ratios(tmp_path: Path) -> None:
    out = run_script("bench_engines.py", "--rows", "400", tmp_path=tmp_path)
    assert "SQLite:" in out and "PostgreSQL:" in out, out
    assert out.count("x bare parse") == 2, out
