"""The publicly verifiable draw, DSJ-DRAW-1: algorithm, signed record, verification.

Pure core code: no database, no Qt.
"""

from __future__ import annotations

from dsj_desktop.draw.algorithm import (
    SPEC_ID,
    DrawHashes,
    DrawInput,
    DrawInputError,
    DrawParams,
    DrawResult,
    DrawSetup,
    SelectedTarget,
    Substitution,
    SubstitutionOutcome,
    SubstitutionRequest,
    Witness,
    apply_substitutions,
    balance_regions,
    canonical_json,
    quota_from_basis_points,
    reveal,
    run_draw,
)

__all__ = [
    "SPEC_ID",
    "DrawHashes",
    "DrawInput",
    "DrawInputError",
    "DrawParams",
    "DrawResult",
    "DrawSetup",
    "SelectedTarget",
    "Substitution",
    "SubstitutionOutcome",
    "SubstitutionRequest",
    "Witness",
    "apply_substitutions",
    "balance_regions",
    "canonical_json",
    "quota_from_basis_points",
    "reveal",
    "run_draw",
]
