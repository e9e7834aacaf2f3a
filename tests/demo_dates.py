"""The dates the tests mean, so that the suite passes whatever the real date is.

The demo county follows the calendar (:func:`dsj_desktop.demo.demo_year`): made in 2027 it is about
2027. The tests are written about one fixed demo, that of :data:`DEMO_YEAR` (tasks ``RW-2026-01`` …
``RW-2026-06``, sessions ``S-2026-…``), and every test that acts "today" on it names its day:
passed as ``on=``/``--date``, or the program's clock pinned (:func:`pinned_day`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time

from dsj_desktop import clock

DEMO_YEAR = 2026
# A day on which every task of the demo's plan can be drawn (RW-2026-06 starts on 06-01), its two
# draws lie behind, their results are due or overdue, and the demo's few inspectors who cannot be
# drawn are so (two certificates expired, the latest on 06-30; three not on duty).
DEMO_DAY = date(DEMO_YEAR, 7, 1)


@contextmanager
def pinned_day(day: date = DEMO_DAY, at: time = time(9, 0)) -> Iterator[date]:
    """The program's clock (:mod:`dsj_desktop.clock`) on *day* from *at* on (one second further at
    each reading), in this process; a child process needs the day passed (``--date``)."""
    with clock.pinned(datetime.combine(day, at)):
        yield day
