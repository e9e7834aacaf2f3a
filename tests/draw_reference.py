"""DSJ-DRAW-1 sections 4–5 written out again from the specification's text, with hashlib only and no
code of the program: tests compare the program (and the test vectors) with it, so a rule broken in
the program cannot be checked against its own output."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SEP = "\x1f"


def H(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def target_ticket(seed: str, target: str) -> str:
    return H(f"{seed}{SEP}target{SEP}{target}")


def person_ticket(seed: str, kind: str, target: str, person: str) -> str:
    return H(f"{seed}{SEP}{kind}{SEP}{target}{SEP}{person}")


def _teams(
    seed: str,
    kind: str,
    order: Sequence[str],
    people: Iterable[str],
    size: int,
    cap: int,
    conflicts: Iterable[Sequence[str]],
) -> dict[str, list[str]]:
    """§5.3: walk the targets in order; per target rank the non-conflicting people by ticket, take those
    under the cap, then (if still short) anyone not yet on the team; count each member once."""
    people = list(people)
    clash = {(p, t) for p, t in conflicts}
    count = dict.fromkeys(people, 0)
    out: dict[str, list[str]] = {}
    for t in order:
        if size == 0:
            out[t] = []
            continue
        ranked = sorted(
            (p for p in people if (p, t) not in clash),
            key=lambda p: (person_ticket(seed, kind, t, p), p.encode()),
        )
        team = [p for p in ranked if count[p] < cap][:size]
        for p in ranked:
            if len(team) == size:
                break
            if p not in team:
                team.append(p)
        for p in team:
            count[p] += 1
        out[t] = team
    return out


def select(
    seed: str,
    targets: Iterable[Sequence[str]],
    inspectors: Iterable[str],
    experts: Iterable[str],
    params: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """§5.1–5.4: the selected targets in assignment order, as the record lists them."""
    strata: dict[str, list[str]] = {}
    for tid, stratum in targets:
        strata.setdefault(stratum, []).append(tid)
    chosen: list[tuple[str, str | None, bool]] = []
    for stratum, k in params["quotas"].items():
        ranked = sorted(strata.get(stratum, []), key=lambda i: (target_ticket(seed, i), i.encode()))
        chosen += [(i, stratum, False) for i in ranked[:k]]
    chosen += [(i, None, True) for i in params.get("mandatory", [])]
    chosen.sort(key=lambda c: (target_ticket(seed, c[0]), c[0].encode()))
    order = [c[0] for c in chosen]
    teams = _teams(seed, "inspector", order, inspectors, params["team_size"], params["inspector_cap"],
                   params.get("inspector_conflicts", []))  # fmt: skip
    panel = _teams(seed, "expert", order, experts, params.get("expert_count", 0), params.get("expert_cap", 0),
                   params.get("expert_conflicts", []))  # fmt: skip
    return [
        {"id": i, "stratum": s, "mandatory": m, "ticket": target_ticket(seed, i), "inspectors": teams[i],
         "experts": panel[i]}
        for i, s, m in chosen
    ]  # fmt: skip
