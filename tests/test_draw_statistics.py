"""Deterministic statistical checks: over many fixed seeds, the draw treats candidates uniformly.

The seeds are ``H(str(i))``, so the test gives the same verdict on every run. Critical values
are from the chi-square table at significance 0.001 (no scipy needed).
"""

from __future__ import annotations

from collections import Counter

from dsj_desktop.draw.algorithm import H, compute_selection, parse_params, rank_people

N_CANDIDATES = 20
K = 5
DRAWS = 4000
CHI2_0001_DF19 = 43.820  # chi-square, 19 degrees of freedom, upper 0.1 % point
CHI2_0001_DF9 = 27.877  # 9 degrees of freedom
CHI2_0999_DF19 = 5.407  # lower 0.1 % point, 19 degrees of freedom: "too uniform" is suspicious too

TARGETS = [(f"91140522{i:010d}", "") for i in range(N_CANDIDATES)]
INSPECTORS = [f"1405220000{i}" for i in range(10)]


def selection_counts() -> Counter[str]:
    params = parse_params({"quotas": {"": K}, "team_size": 2}, n_inspectors=len(INSPECTORS), n_experts=0)
    counts: Counter[str] = Counter()
    for i in range(DRAWS):
        selected = compute_selection(H(str(i)), TARGETS, INSPECTORS, [], params)
        assert len(selected) == K
        counts.update(s.id for s in selected)
    return counts


def test_each_candidate_drawn_uniformly() -> None:
    counts = selection_counts()
    expected = DRAWS * K / N_CANDIDATES
    x2 = sum((counts[t] - expected) ** 2 / expected for t, _ in TARGETS)
    # Each draw takes K of N without replacement: a candidate's count is Binomial(D, p), p = K/N,
    # and counts are negatively correlated; then X² / ((1 - p)·N/(N - 1)) follows chi-square
    # with N - 1 degrees of freedom.
    p = K / N_CANDIDATES
    corrected = x2 / ((1 - p) * N_CANDIDATES / (N_CANDIDATES - 1))
    assert CHI2_0999_DF19 < corrected < CHI2_0001_DF19, corrected


def test_first_inspector_uniform() -> None:
    """For one target, the inspector ranked first is uniform over the pool."""
    target = TARGETS[0][0]
    first = Counter(
        rank_people(H(f"inspector-{i}"), "inspector", target, INSPECTORS)[0] for i in range(DRAWS)
    )
    expected = DRAWS / len(INSPECTORS)
    x2 = sum((first[p] - expected) ** 2 / expected for p in INSPECTORS)
    assert x2 < CHI2_0001_DF9, x2
