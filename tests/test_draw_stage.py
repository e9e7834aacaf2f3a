"""The draw screen's Qt-free part (dsj_desktop.ui.draw.stage): steps, beats, reels, what the public
sees. Tested without a screen; importing it loads no Qt."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsj_desktop.db.engine import open_database
from dsj_desktop.services import sessions
from dsj_desktop.ui.draw import stage
from dsj_desktop.ui.draw.stage import (
    CLOSED,
    MANDATORY,
    NOTICE,
    REVEAL,
    TARGET,
    TEAM,
    TIMINGS,
    WITNESSES,
    Reel,
    make_reels,
    plan_beats,
    pool_names_by_stratum,
    result_view,
    strip,
)

from .demo_dates import DEMO_DAY
from .test_draw_sessions import W1, W2


@pytest.fixture
def revealed(demo_data_dir: Path) -> Iterator[sessions.Session]:
    """RW-2026-02 revealed: strata by town, and 必查 units (黑名单) beside the random ones."""
    db = open_database(demo_data_dir)
    s = sessions.prepare(db, "RW-2026-02", on=DEMO_DAY, operator="测试员")
    s = sessions.commit(db, s.id, operator="测试员")
    for name, digits in (W1, W2):
        s = sessions.add_witness(db, s.id, name, digits, operator="测试员")
    yield sessions.do_reveal(db, s.id, operator="测试员")
    db.close()


def test_the_stage_module_loads_no_qt() -> None:
    code = "import sys, dsj_desktop.ui.draw.stage\nprint([m for m in sys.modules if m.startswith('PySide6')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_strip_passes_real_names_and_lands_on_the_drawn_one() -> None:
    pool = [f"单位{i}" for i in range(8)]
    for n in (4, 6, 30):
        s = strip(pool, "单位3", n, random.Random(n))
        assert len(s) == n and s[-1] == "单位3" and s[-2] != "单位3"
        assert set(s) <= set(pool)
    assert strip([], "唯一", 5, random.Random(1)) == ["唯一"] * 5  # nothing else to show: the name itself


def test_a_reel_slows_down_and_stops_where_it_says() -> None:
    reel = Reel("", [str(i) for i in range(20)], 0.75)
    positions = [reel.position(t / 100) for t in range(101)]
    assert positions[0] == 0 and positions[75] == positions[-1] == 19
    steps = [b - a for a, b in itertools.pairwise(positions[:76])]
    assert all(x >= 0 for x in steps) and steps[0] > steps[-1]  # fast, then slowing to a stop
    assert not reel.stopped(0.74) and reel.stopped(0.75)


def test_the_first_step_follows_the_session(revealed: sessions.Session) -> None:
    assert stage.initial_step(revealed) == REVEAL
    assert stage.STEP_TITLES[CLOSED] == stage.STEP_TITLES[stage.RESULT]
    assert {NOTICE, WITNESSES, REVEAL} <= set(stage.STEPS)


def test_beats_show_mandatory_then_targets_then_teams(revealed: sessions.Session) -> None:
    s = revealed
    beats = plan_beats(s)
    kinds = [b.kind for b in beats]
    assert kinds[0] == MANDATORY and kinds.index(TEAM) == kinds.count(MANDATORY) + kinds.count(TARGET)
    mandatory = beats[0].indices
    assert mandatory and all(s.result[i]["mandatory"] for i in mandatory)
    targets = [b for b in beats if b.kind == TARGET]
    assert [b.number for b in targets] == list(range(1, len(targets) + 1))
    order = list(s.inputs["params"]["quotas"])
    keys = [
        (order.index(s.result[b.indices[0]]["stratum"]), s.result[b.indices[0]]["ticket"]) for b in targets
    ]
    assert keys == sorted(keys) and len({k[0] for k in keys}) > 1  # stratum by stratum, in ticket order
    teams = [b for b in beats if b.kind == TEAM]
    assert [b.indices[0] for b in teams] == list(range(len(s.result)))  # every target's team, in order


def test_reels_last_as_the_speed_says_and_land_on_the_result(revealed: sessions.Session) -> None:
    s = revealed
    pool = pool_names_by_stratum(s)
    for speed, timing in TIMINGS.items():
        for i, beat in enumerate(plan_beats(s)):
            make_reels(s, beat, timing, random.Random(f"{s.seed}:{i}"), pool)
            x = s.result[beat.indices[0]]
            if beat.kind == MANDATORY:
                assert beat.duration_ms == timing.mandatory_ms and beat.reels == []
            elif beat.kind == TARGET:
                assert beat.duration_ms == timing.target_ms, speed
                assert beat.reels[0].strip[-1] == s.target_names[x["id"]]
            else:
                assert beat.duration_ms == timing.team_ms
                landed = [r.strip[-1] for r in beat.reels]
                assert landed == [s.inspector_names[p] for p in x["inspectors"]]
                stops = [r.stop_at for r in beat.reels]
                assert stops == sorted(stops) and stops[-1] == 1.0  # one after the other


def test_the_public_result_has_names_and_no_personal_ids(revealed: sessions.Session) -> None:
    s = revealed
    rows = result_view(s)
    assert [r["no"] for r in rows] == list(range(1, len(s.result) + 1))
    assert "必查" in {r["stratum"] for r in rows} and "城关镇" in {r["stratum"] for r in rows}
    for r, x in zip(rows, s.result, strict=True):
        assert r["name"] == s.target_names[x["id"]]
        assert r["inspectors"] == [s.inspector_names[p] for p in x["inspectors"]]
    assert stage.stratified(s) and stage.pages(s) == -(-len(rows) // stage.RESULT_ROWS_PER_PAGE)
    assert stage.nonce_public(s)
