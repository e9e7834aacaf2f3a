"""Long work is written as generators that yield :class:`Progress` and return their result.

The GUI runs them on a worker thread with a progress dialog (``dsj_desktop.ui.runner``); the
command line simply drives them. Cancelling closes the generator, which raises ``GeneratorExit``
at the ``yield``: any open transaction rolls back on the way out.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    message: str
    done: int = 0
    total: int | None = None  # None: indeterminate


Job = Generator[Progress, None, T]


def run_job(job: Job[T], on_progress: Callable[[Progress], None] | None = None) -> T:
    """Drive a job to completion on the calling thread and return its result."""
    while True:
        try:
            step = next(job)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if on_progress is not None:
            on_progress(step)


def every(n: int, i: int) -> bool:
    """True every *n* items, to yield progress without flooding the GUI."""
    return i % n == 0
