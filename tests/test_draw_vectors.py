"""Every DSJ-DRAW-1 test vector reproduces exactly (``tests/fixtures/draw-v1-vectors.json``, a copy of the
file published beside the specification, pinned by its SHA-256)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.draw.algorithm import (
    DrawHashes,
    DrawInput,
    SubstitutionRequest,
    apply_substitutions,
    commitment_of,
    compute_seed,
    compute_selection,
    expert_ticket,
    hash_ids,
    hash_params,
    hash_targets,
    inspector_ticket,
    parse_params,
    rank_people,
    replay_substitutions,
    run_draw,
    target_ticket,
)

from . import draw_reference

VECTORS_PATH = Path(__file__).parent / "fixtures" / "draw-v1-vectors.json"  # a copy of the spec's file
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def make_input(inputs: dict[str, Any]) -> DrawInput:
    return DrawInput(
        session=inputs["session"],
        targets=[(t["id"], t["stratum"]) for t in inputs["targets"]],
        inspectors=[p["id"] for p in inputs["inspectors"]],
        experts=[p["id"] for p in inputs["experts"]],
        params=inputs["params"],
        witnesses=[(w["name"], w["digits"]) for w in inputs["witnesses"]],
        nonce=inputs["nonce"],
    )


def requests_of(expected: dict[str, Any]) -> list[SubstitutionRequest]:
    """A vector lists each substitution with its outcome; the request is everything but ``substitute``."""
    return [
        SubstitutionRequest(
            target=s["target"],
            removed=s["removed"],
            reason=s["reason"],
            unavailable=tuple((x["id"], x["reason"]) for x in s["skipped"]),
        )
        for s in expected["substitutions"]
    ]


VECTORS_SHA256 = "a5760387758147a4cc4c2e0b27af9cfeb98d1535e31096654953ab2b35319773"  # the published file


def test_vectors_present() -> None:
    assert hashlib.sha256(VECTORS_PATH.read_bytes()).hexdigest() == VECTORS_SHA256
    assert len(VECTORS) >= 3
    assert any(v["expected"]["substitutions"] for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vectors_follow_the_specification_as_written(vector: dict[str, Any]) -> None:
    """The expected selection is what sections 4–5, re-implemented independently in the tests, give."""
    inp, exp = vector["inputs"], vector["expected"]
    targets = [(t["id"], t["stratum"]) for t in inp["targets"]]
    inspectors = [p["id"] for p in inp["inspectors"]]
    experts = [p["id"] for p in inp["experts"]]
    assert draw_reference.select(exp["seed"], targets, inspectors, experts, inp["params"]) == exp["selected"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_full_draw(vector: dict[str, Any]) -> None:
    result = run_draw(make_input(vector["inputs"]))
    expected = vector["expected"]
    got = result.to_json()
    assert got["hashes"] == expected["hashes"]
    assert got["commitment"] == expected["commitment"]
    assert got["seed"] == expected["seed"]
    assert got["selected"] == expected["selected"]
    # The params hashed are exactly the ones given (nothing added or reordered).
    assert result.setup.params == vector["inputs"]["params"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_core_functions_on_raw_inputs(vector: dict[str, Any]) -> None:
    """The verifier's layer, on the inputs exactly as written (unsorted), gives the same values."""
    inp, exp = vector["inputs"], vector["expected"]
    hashes = DrawHashes(
        targets=hash_targets((t["id"], t["stratum"]) for t in inp["targets"]),
        inspectors=hash_ids(p["id"] for p in inp["inspectors"]),
        experts=hash_ids(p["id"] for p in inp["experts"]),
        params=hash_params(inp["params"]),
    )
    assert hashes.to_json() == exp["hashes"]
    assert commitment_of(inp["nonce"]) == exp["commitment"]
    seed = compute_seed(inp["session"], hashes, [w["digits"] for w in inp["witnesses"]], inp["nonce"])
    assert seed == exp["seed"]
    inspectors = [p["id"] for p in inp["inspectors"]]
    experts = [p["id"] for p in inp["experts"]]
    params = parse_params(inp["params"], n_inspectors=len(inspectors), n_experts=len(experts))
    selected = compute_selection(
        seed, [(t["id"], t["stratum"]) for t in inp["targets"]], inspectors, experts, params
    )
    assert [s.to_json() for s in selected] == exp["selected"]
    for item in exp["selected"]:
        tid = item["id"]
        assert target_ticket(seed, tid) == item["ticket"] == draw_reference.target_ticket(seed, tid)
        for kind, ticket, people in (
            ("inspector", inspector_ticket, inspectors),
            ("expert", expert_ticket, experts),
        ):
            for p in people:
                assert ticket(seed, tid, p) == draw_reference.person_ticket(seed, kind, tid, p)
            # The ranking: by ticket, ties by id bytes, as the specification orders it.
            expected_rank = sorted(
                people, key=lambda p: (draw_reference.person_ticket(seed, kind, tid, p), p.encode())
            )
            assert list(rank_people(seed, kind, tid, people)) == expected_rank


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_substitutions(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    result = run_draw(make_input(vector["inputs"]))
    outcome = apply_substitutions(result, requests_of(expected))
    assert len(outcome.substitutions) == len(expected["substitutions"])
    for got, exp in zip(outcome.substitutions, expected["substitutions"], strict=True):
        assert got.substitute == exp["substitute"]
        as_json = got.to_json()
        for key in ("target", "removed", "reason", "skipped", "substitute"):
            assert as_json[key] == exp[key]
    # The teams after substitution: the substitute takes the removed member's place.
    teams = {s.id: list(s.inspectors) for s in result.selected}
    for exp in expected["substitutions"]:
        team = teams[exp["target"]]
        team[team.index(exp["removed"])] = exp["substitute"]
    assert {s.id: list(s.inspectors) for s in outcome.selected} == teams
    # The same through the raw replay the verifier uses.
    setup = result.setup
    replayed = replay_substitutions(
        result.seed, setup.inspectors, setup.experts, setup.parsed, result.selected, requests_of(expected)
    )
    assert [s.substitute for s in replayed.substitutions] == [
        s["substitute"] for s in expected["substitutions"]
    ]


def test_vector_skipped_inspector_would_otherwise_be_chosen() -> None:
    """In the vector with a skipped inspector, the skip matters: without it the skipped one comes in."""
    vector = next(v for v in VECTORS if any(s["skipped"] for s in v["expected"]["substitutions"]))
    result = run_draw(make_input(vector["inputs"]))
    sub = vector["expected"]["substitutions"][0]
    plain = SubstitutionRequest(sub["target"], sub["removed"], sub["reason"])
    outcome = apply_substitutions(result, [plain])
    assert outcome.substitutions[0].substitute == sub["skipped"][0]["id"]


def test_documented_worked_example_matches() -> None:
    """docs/draw-algorithm.md shows the first vector's values: they must be what the code computes."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "draw-algorithm.md").read_text(encoding="utf-8")
    result = run_draw(make_input(VECTORS[0]["inputs"]))
    for value in (*result.hashes.to_json().values(), result.commitment, result.seed):
        assert f"`{value}`" in doc
    for item in result.selected:
        assert f"`{item.ticket}`" in doc
        assert f"**`{item.inspectors[0]}`、`{item.inspectors[1]}`**" in doc
