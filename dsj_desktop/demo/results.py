"""Demo draws and results: two confirmed draws of tasks of the demo's year (in March and April) made
by the real draw engine, with
results entered for some targets (on time, one late, one corrected, one inspected but not entered),
so the results tab and the statistics are alive at first start.

Called by :func:`dsj_desktop.demo.county.fill_demo` inside its single transaction (via
:meth:`Database.sharing`). Everything is fixed except the draw nonce, so which companies are drawn
differs from one demo database to the next; what happens to the n-th drawn company does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dsj_desktop import clock
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.result_specs import CATEGORIES, DISPOSALS, NO_HAZARD_CATEGORIES, ON_SITE
from dsj_desktop.services import sessions
from dsj_desktop.services.results import ResultInput, ResultRow, load_rows, save_result

OPERATOR = "张明"
PLACE = "县应急管理局三楼会议室"
WITNESSES = (("企业代表 刘建国", "3141592653"), ("纪检监督员 王芳", "2718281828"))


@dataclass(frozen=True)
class DemoDraw:
    task: str
    on: date
    entered: int  # how many of the drawn targets get a result


def _on_or_after(d: date, weekday: int) -> date:
    return d + timedelta(days=(weekday - d.weekday()) % 7)


def demo_draws(year: int) -> tuple[DemoDraw, ...]:
    """The draws of the demo's *year*: a Monday in March and a Tuesday after 清明 (2026: 3-09, 4-07)."""
    return (
        DemoDraw(f"RW-{year}-01", _on_or_after(date(year, 3, 9), 0), 14),
        DemoDraw(f"RW-{year}-03", _on_or_after(date(year, 4, 7), 1), 6),
    )


def story_ends(year: int) -> date:
    """The last day the demo of *year* dates anything on (the result entered late, see make_demo_draws)."""
    return max(_weekday_after(dd.on, 4) + timedelta(days=24) for dd in demo_draws(year))


# (category, hazards, disposal) in turn for the entered results.
OUTCOMES = (
    (CATEGORIES[0], 0, DISPOSALS[0]),
    (CATEGORIES[1], 2, DISPOSALS[1]),
    (CATEGORIES[0], 0, DISPOSALS[0]),
    (CATEGORIES[1], 1, DISPOSALS[1]),
    (CATEGORIES[2], 3, DISPOSALS[1]),
    (CATEGORIES[0], 0, DISPOSALS[0]),
    (CATEGORIES[3], 4, DISPOSALS[2]),
    (CATEGORIES[5], 0, DISPOSALS[0]),
)


def _at(d: date, hour: int = 16) -> datetime:
    return datetime.combine(d, time(hour, 30))


def _weekday_after(d: date, n: int) -> date:
    """A plain weekday n days on (the demo keeps clear of the holidays in March and April)."""
    d = d + timedelta(days=n)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _enter(db: Database, row: ResultRow, i: int, inspected: date, entered: date) -> None:
    category, hazards, disposal = OUTCOMES[i % len(OUTCOMES)]
    rectify = inspected + timedelta(days=30) if hazards and category not in NO_HAZARD_CATEGORIES else None
    inp = ResultInput(inspected, category, hazards, disposal, ON_SITE, rectify_by=rectify)
    save_result(db, row.session_id, row.uscc, inp, operator=OPERATOR, at=_at(entered))


def make_demo_draws(db: Database, year: int) -> tuple[int, int]:
    """Run the demo draws of *year* and enter results; returns (sessions confirmed, results entered)."""
    confirmed = entered = 0
    for dd in demo_draws(year):
        with clock.pinned(_at(dd.on, 9)):  # the trace shows the draw on its date, from 09:30
            s = sessions.prepare(db, dd.task, on=dd.on, place=PLACE, operator=OPERATOR)
            s = sessions.commit(db, s.id, operator=OPERATOR)
            for name, digits in WITNESSES:
                s = sessions.add_witness(db, s.id, name, digits, operator=OPERATOR)
            s = sessions.do_reveal(db, s.id, operator=OPERATOR)
            s = sessions.confirm(db, s.id, operator=OPERATOR)
        confirmed += 1
        with db.read() as conn:
            rows = sorted(load_rows(conn, session_id=s.id), key=lambda r: r.position)
        for i, row in enumerate(rows[: dd.entered]):
            inspected = _weekday_after(dd.on, 3 + i // 3)
            _enter(db, row, i, inspected, _weekday_after(inspected, 2))
            entered += 1
        # One entered late (逾期录入), one corrected afterwards, one inspected but never entered.
        late, corrected, pending = rows[dd.entered], rows[dd.entered + 1], rows[dd.entered + 2]
        inspected = _weekday_after(dd.on, 4)
        _enter(db, late, 1, inspected, inspected + timedelta(days=24))
        _enter(db, corrected, 0, inspected, _weekday_after(inspected, 1))
        fixed = ResultInput(
            inspected, CATEGORIES[1], 1, DISPOSALS[1], ON_SITE, rectify_by=inspected + timedelta(15)
        )
        save_result(db, corrected.session_id, corrected.uscc, fixed, operator="李娜",
                    reason="复核检查记录，发现漏记 1 项隐患", at=_at(_weekday_after(inspected, 3), 10))  # fmt: skip
        entered += 2
        save_result(db, pending.session_id, pending.uscc, ResultInput(_weekday_after(dd.on, 6)),
                    operator=OPERATOR, at=_at(_weekday_after(dd.on, 6)))  # fmt: skip
    return confirmed, entered
