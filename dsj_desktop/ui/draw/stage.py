"""What the public sees of a draw session, without Qt: the steps, the animation's timing, and the
rolling animation planned as beats and reels.

The result is fixed by the seed when the nonce is revealed; the rolling animation only shows it,
name by name. Everything here is a pure function of the session (and, for the reels' order of
passing names, a random generator seeded by the session's seed): it can be tested without a screen.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dsj_desktop.services import sessions

# --- steps -----------------------------------------------------------------------------------

NOTICE, WITNESSES, REVEAL, ROLLING, RESULT, CLOSED = (
    "notice",
    "witnesses",
    "reveal",
    "rolling",
    "result",
    "closed",
)
STEPS = (NOTICE, WITNESSES, REVEAL, ROLLING, RESULT)
STEP_TITLES = {
    NOTICE: "抽取前公告", WITNESSES: "见证人输入", REVEAL: "开奖", ROLLING: "滚动抽取", RESULT: "结果确认",
    CLOSED: "结果确认",
}  # fmt: skip

SPEED_KEY = "draw_animation_speed"
SPEEDS = {"slow": "慢", "normal": "正常", "fast": "快"}
RESULT_ROWS_PER_PAGE = 10
PAGE_MS = 8000


@dataclass(frozen=True)
class Timing:
    target_ms: int  # one drawn target: the drum slows down and lands
    team_ms: int  # one target's team: the reels stop one after the other
    pause_ms: int  # after each landing
    mandatory_ms: int
    names_per_s: float  # how many names pass the window per second of rolling


# 快 keeps a 200-target draw (200 targets + 200 teams) to about three minutes.
TIMINGS = {
    "slow": Timing(3000, 3200, 1100, 1800, 10.0),
    "normal": Timing(2200, 2400, 650, 1300, 12.0),
    "fast": Timing(320, 400, 90, 400, 20.0),
}


def initial_step(s: sessions.Session) -> str:
    if s.status in (sessions.CONFIRMED, sessions.VOIDED):
        return CLOSED
    if s.status == sessions.REVEALED:
        return REVEAL
    if s.status == sessions.COMMITTED and s.witnesses:
        return WITNESSES
    return NOTICE


# --- the rolling animation -------------------------------------------------------------------

MANDATORY, TARGET, TEAM = "mandatory", "target", "team"


@dataclass
class Reel:
    label: str
    strip: list[str]  # names passing the window in turn; it lands on the last one
    stop_at: float  # the fraction of the beat at which this reel stops

    def position(self, t: float) -> float:
        x = 1.0 if self.stop_at <= 0 else min(1.0, t / self.stop_at)
        return (1 - (1 - x) ** 3) * (len(self.strip) - 1)  # ease-out: fast, then slowing to a stop

    def stopped(self, t: float) -> bool:
        return t >= self.stop_at


@dataclass
class Beat:
    kind: str  # MANDATORY, TARGET or TEAM
    indices: list[int]  # positions in the session's result that this beat lands
    stratum: str = ""
    number: int = 1  # within its phase (targets, then teams)
    of: int = 1
    reels: list[Reel] = field(default_factory=list)
    duration_ms: int = 0


@dataclass
class RollState:
    beats: list[Beat]
    index: int = 0
    t: float = 0.0
    landed_targets: list[int] = field(default_factory=list)  # result positions, in landing order
    landed_teams: list[int] = field(default_factory=list)
    finished: bool = False

    @property
    def beat(self) -> Beat | None:
        return self.beats[self.index] if 0 <= self.index < len(self.beats) else None


def plan_beats(s: sessions.Session) -> list[Beat]:
    """Mandatory units first, then each stratum's drawn targets in ticket order, then every
    target's team in assignment order (the order of the record)."""
    result = s.result
    beats: list[Beat] = []
    mandatory = [i for i, x in enumerate(result) if x["mandatory"]]
    if mandatory:
        beats.append(Beat(MANDATORY, mandatory))
    drawn = [i for i, x in enumerate(result) if not x["mandatory"]]
    quotas: dict[str, int] = s.inputs["params"]["quotas"]
    order = {st: n for n, st in enumerate(quotas)}
    drawn.sort(key=lambda i: (order.get(result[i]["stratum"], len(order)), result[i]["ticket"]))
    for n, i in enumerate(drawn, start=1):
        beats.append(Beat(TARGET, [i], result[i]["stratum"], n, len(drawn)))
    for n, i in enumerate(range(len(result)), start=1):
        if result[i]["inspectors"] or result[i]["experts"]:
            beats.append(Beat(TEAM, [i], result[i]["stratum"], n, len(result)))
    return beats


def strip(pool: Sequence[str], landing: str, n: int, rng: random.Random) -> list[str]:
    """*n* names from *pool* (real names, shuffled for show) ending on *landing*."""
    others = [p for p in pool if p != landing] or [landing]
    out: list[str] = []
    while len(out) < n - 1:
        batch = list(others)
        rng.shuffle(batch)
        out.extend(batch)
    out = out[: n - 1]
    # never the landing name just before landing (it would look like a stutter)
    if out and out[-1] == landing and len(others) > 1:
        out[-1] = next(p for p in others if p != landing)
    return [*out, landing]


def pool_names_by_stratum(s: sessions.Session) -> dict[str, list[str]]:
    """The candidates' names by stratum (what the drum of a stratum shows passing)."""
    names = s.target_names
    by: dict[str, list[str]] = {}
    for tid, st in s.inputs["targets"]:
        by.setdefault(st, []).append(names.get(tid, tid))
    return by


def make_reels(
    s: sessions.Session, beat: Beat, timing: Timing, rng: random.Random, pool: dict[str, list[str]]
) -> None:
    """Fill *beat*'s reels and duration: one drum for a target (its stratum's names passing), one
    reel per team member (each its own share of the other people, stopping one after the other)."""
    if beat.kind == MANDATORY:
        beat.duration_ms = timing.mandatory_ms
        beat.reels = []
        return
    if beat.kind == TARGET:
        beat.duration_ms = timing.target_ms
        x = s.result[beat.indices[0]]
        name = s.target_names.get(x["id"], x["id"])
        n = max(6, min(48, round(timing.target_ms / 1000 * timing.names_per_s)))
        beat.reels = [Reel("", strip(pool.get(x["stratum"], []), name, n, rng), 1.0)]
        return
    beat.duration_ms = timing.team_ms
    x = s.result[beat.indices[0]]
    members = [(sessions.INSPECTOR, p) for p in x["inspectors"]] + [
        (sessions.EXPERT, p) for p in x["experts"]
    ]
    inspector_names = [i[1] for i in s.inputs["inspectors"]]
    expert_names = [e[1] for e in s.inputs["experts"]]
    n = max(6, min(40, round(timing.team_ms / 1000 * timing.names_per_s)))
    reels = []
    k = len(members)
    landing = {
        (s.inspector_names if kd == sessions.INSPECTOR else s.expert_names).get(p, p) for kd, p in members
    }
    # Each reel scrolls its own share of the other names: two reels never show one person at once.
    shares: dict[str, list[list[str]]] = {}
    for kind, names in ((sessions.INSPECTOR, inspector_names), (sessions.EXPERT, expert_names)):
        n_reels = sum(1 for kd, _ in members if kd == kind) or 1
        rest = [p for p in dict.fromkeys(names) if p not in landing]
        shares[kind] = [rest[i::n_reels] for i in range(n_reels)]
    seen: dict[str, int] = {}
    for j, (kind, pid) in enumerate(members):
        nth = seen.get(kind, 0)
        seen[kind] = nth + 1
        share = shares[kind][nth]
        name = (s.inspector_names if kind == sessions.INSPECTOR else s.expert_names).get(pid, pid)
        label = f"执法检查人员 {j + 1}" if kind == sessions.INSPECTOR else "专家"
        stop = 0.5 + 0.5 * (j + 1) / k
        reels.append(Reel(label, strip(share, name, max(4, round(n * stop)), rng), stop))
    beat.reels = reels


# --- what the public screen shows of a session ------------------------------------------------


def nonce_public(s: sessions.Session) -> bool:
    """The nonce may be shown: revealed, or disclosed by a void after the commitment."""
    return bool(s.nonce) and (
        s.status in (sessions.REVEALED, sessions.CONFIRMED)
        or (s.status == sessions.VOIDED and bool(s.commitment))
    )


def stratified(s: sessions.Session) -> bool:
    """Strata, or 必查 beside the random draw (then the result says how each target was chosen)."""
    quotas = s.inputs["params"]["quotas"]
    return set(quotas) != {""} or bool(s.inputs["params"]["mandatory"])


def pages(s: sessions.Session) -> int:
    """How many pages of RESULT_ROWS_PER_PAGE the result fills on the public screen."""
    return max(1, math.ceil(len(s.result) / RESULT_ROWS_PER_PAGE))


def result_view(s: sessions.Session) -> list[dict[str, Any]]:
    """The result as the public sees it: names only (no personal ids), current teams."""
    names = s.target_names
    inspectors, experts = s.inspector_names, s.expert_names
    teams = s.current_teams()
    replaced = {(x["target"], x["substitute"]) for x in s.substitutions}
    out = []
    for i, x in enumerate(s.result):
        team = teams[x["id"]]
        out.append({
            "no": i + 1,
            "id": x["id"],
            "name": names.get(x["id"], x["id"]),
            "stratum": "必查" if x["mandatory"] else (x["stratum"] or "随机抽取"),
            "ticket": x["ticket"],
            "inspectors": [inspectors.get(p, p) + ("（递补）" if (x["id"], p) in replaced else "")
                           for p in team[sessions.INSPECTOR]],
            "experts": [experts.get(p, p) + ("（递补）" if (x["id"], p) in replaced else "")
                        for p in team[sessions.EXPERT]],
        })  # fmt: skip
    return out
