"""Helpers shared by the benchmark scripts: generated data files, timing."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from dsj_desktop.demo import make_targets
from dsj_desktop.domain.fields import format_value
from dsj_desktop.domain.specs import TARGETS


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest wall time of *n* runs (the machine is noisy; the minimum is the fairest)."""
    best = float("inf")
    result: Any = None
    for _ in range(n):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def target_workbook(path: Path, rows: int, seed: int = 7) -> Path:
    """A realistic target directory of *rows* rows (the demo county's generator, scaled up)."""
    if path.exists():
        return path
    rng = random.Random(seed)
    scale = rows // 3000 + 1
    records = make_targets(rng, scale)[:rows]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("检查对象名录库")
    ws.append(TARGETS.headers)
    for r in records:
        ws.append([format_value(f, r[f.attr]) for f in TARGETS.fields])
    wb.save(path)
    return path
