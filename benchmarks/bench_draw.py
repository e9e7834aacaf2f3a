"""Benchmark of the DSJ-DRAW-1 implementation (a script, not a test).

    python benchmarks/bench_draw.py [--reps N]

Over a generated pool of 100,000 candidates in 12 strata, 200 inspectors (40 experts) and a few
hundred conflicts, it measures, best of N runs each:

(a) the bare cost of hashing 100,000 ticket inputs with ``hashlib.sha256(...).hexdigest()``;
(a2) the same bare hashing of exactly the tickets the 200-target draw and its verification
    compute: ``T`` of all 100,000 target candidates, and ``I`` and ``E`` of all 200 inspector and
    40 expert candidates for each of the 200 drawn targets (148,000 tickets, section 4);
(b) the whole draw from inputs to result (validation, the four hashes, commitment, seed,
    selection, teams, experts) for a 200-target draw, and for a 5 % draw (information). The
    candidates come as the program reads them: ``SELECT … ORDER BY uscc`` from SQLite (whose
    BINARY order is the UTF-8 byte order of DSJ-DRAW-1); the same draw from a shuffled list
    is shown for information;
(c) ``verify_record`` on the signed record of the 200-target draw;

and prints each as a ratio to (a), all measured in the same run, and (c) also as a ratio to (a2),
the bare hashing of the record's own tickets. Goal: (b) and (c) ≤ 3.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from dsj_desktop.draw.algorithm import (
    DrawInput,
    balance_regions,
    canonical_conflicts,
    quota_from_basis_points,
    reveal,
    run_draw,
)
from dsj_desktop.draw.record import build_record, sign_record, verify_record

N_TARGETS = 100_000
N_INSPECTORS = 200
N_EXPERTS = 40
N_CONFLICTS = 400
STRATA = [
    "城关镇", "北留镇", "润城镇", "町店镇", "芹池镇", "嘉峰镇",
    "郑村镇", "固隆乡", "东冶镇", "西河乡", "南岭乡", "中村乡",
]  # fmt: skip
USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WITNESSES = [("见证人甲", "3141592653"), ("见证人乙", "2718281828"), ("见证人丙", "1414213562")]


def best_of(reps: int, fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def make_pool(rng: random.Random) -> tuple[list[tuple[str, str]], list[str], list[str], list[list[str]]]:
    ids: set[str] = set()
    while len(ids) < N_TARGETS:
        ids.add("91140522" + "".join(rng.choices(USCC, k=10)))
    weights = [rng.randint(2, 20) for _ in STRATA]
    targets = [(i, rng.choices(STRATA, weights)[0]) for i in ids]
    rng.shuffle(targets)  # in no particular order, as if read from a database
    inspectors = [f"140522{n:05d}" for n in range(N_INSPECTORS)]
    experts = [f"ZJ{n:03d}" for n in range(N_EXPERTS)]
    conflicts = [[rng.choice(inspectors), rng.choice(targets)[0]] for _ in range(N_CONFLICTS)]
    return targets, inspectors, experts, conflicts


def as_read_from_database(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The rows as the program gets them: from SQLite, ordered by the code."""
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE target (uscc TEXT PRIMARY KEY, stratum TEXT NOT NULL)")
    con.executemany("INSERT INTO target VALUES (?, ?)", rows)
    out = con.execute("SELECT uscc, stratum FROM target ORDER BY uscc").fetchall()
    con.close()
    return out


def make_input(
    targets: list[tuple[str, str]],
    inspectors: list[str],
    experts: list[str],
    conflicts: list[list[str]],
    total: int,
) -> DrawInput:
    sizes = Counter(s for _, s in targets)
    params = {
        "quotas": balance_regions(total, dict(sizes)),
        "team_size": 2,
        "inspector_conflicts": canonical_conflicts(conflicts),
        "expert_count": 1,
    }
    return DrawInput(f"S-BENCH-{total}", targets, inspectors, experts, params, WITNESSES, "5a" * 16)


def signed_record(
    result: Any, targets: list[tuple[str, str]], inspectors: list[str], experts: list[str]
) -> dict[str, Any]:
    """The benchmark draw's record with made-up names, signed with a fixed test key."""
    return sign_record(
        build_record(
            result,
            task={"code": "BENCH", "name": "基准测试"},
            target_names={i: f"测试企业{n:06d}有限公司" for n, (i, _) in enumerate(targets)},
            inspector_names={p: f"执法人员{p[-3:]}" for p in inspectors},
            inspector_units=dict.fromkeys(inspectors, "综合行政执法队"),
            expert_names={e: f"专家{e}" for e in experts},
        ),
        bytes(range(32)),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(20260301)
    shuffled, inspectors, experts, conflicts = make_pool(rng)
    targets = as_read_from_database(shuffled)

    seed = hashlib.sha256(b"bench").hexdigest()
    prefix = f"{seed}\x1ftarget\x1f".encode()
    id_bytes = [i.encode() for i, _ in targets]
    sha256 = hashlib.sha256

    inp200 = make_input(targets, inspectors, experts, conflicts, 200)
    inp5 = make_input(targets, inspectors, experts, conflicts, quota_from_basis_points(N_TARGETS, 500))
    inp_shuffled = make_input(shuffled, inspectors, experts, conflicts, 200)
    setup200 = inp200.setup()
    result = run_draw(inp200)
    record = signed_record(result, targets, inspectors, experts)
    report = verify_record(record)
    assert report.ok, report.text()
    # (a2): every ticket the draw and its verification hash, with the record's own seed.
    rec_seed = record["seed"]
    ticket_inputs = [(f"{rec_seed}\x1ftarget\x1f".encode(), id_bytes)]
    for kind, people in (("inspector", inspectors), ("expert", experts)):
        people_bytes = [p.encode() for p in people]
        ticket_inputs += [
            (f"{rec_seed}\x1f{kind}\x1f{s['id']}\x1f".encode(), people_bytes) for s in record["selected"]
        ]
    n_tickets = sum(len(items) for _, items in ticket_inputs)

    # Every repetition measures everything once, so all figures see the same machine load;
    # the best time of each is kept.
    jobs: dict[str, Callable[[], Any]] = {
        "a": lambda: [sha256(prefix + b).hexdigest() for b in id_bytes],
        "a2": lambda: [sha256(p + b).hexdigest() for p, items in ticket_inputs for b in items],
        "b": lambda: run_draw(inp200),
        "b_setup": inp200.setup,
        "b_reveal": lambda: reveal(setup200, WITNESSES),
        "b_shuffled": lambda: run_draw(inp_shuffled),
        "b5": lambda: run_draw(inp5),
        "c": lambda: verify_record(record),
    }
    best: dict[str, float] = dict.fromkeys(jobs, float("inf"))
    for _ in range(args.reps):
        for name, job in jobs.items():
            best[name] = min(best[name], best_of(1, job))
    a = best["a"]

    def line(label: str, key: str) -> None:
        print(f"{label:<52} {best[key] * 1000:8.1f} ms  {best[key] / a:6.2f}")

    print(
        f"pool: {N_TARGETS} candidates in {len(STRATA)} strata, {N_INSPECTORS} inspectors, "
        f"{N_EXPERTS} experts, {len(conflicts)} conflicts; best of {args.reps}"
    )
    print(f"{'':<52} {'time':>11}  {'ratio to (a)':>6}")
    line("(a) sha256(prefix + id).hexdigest(), 100,000 tickets", "a")
    line(f"(a2) same, the record's {n_tickets:,} tickets (T, I, E)", "a2")
    line("(b) whole draw, 200 targets", "b")
    line("      of which validation, hashes, commitment", "b_setup")
    line("      of which reveal: seed, selection, teams", "b_reveal")
    line("    same, candidates in shuffled order (information)", "b_shuffled")
    line(f"    whole draw, 5 % = {sum(inp5.params['quotas'].values())} targets (information)", "b5")
    line("(c) verify_record, signed 200-target record", "c")
    print(f"{'    (c) as a ratio to (a2), its own tickets':<52} {'':>11}  {best['c'] / best['a2']:6.2f}")


if __name__ == "__main__":
    main()
