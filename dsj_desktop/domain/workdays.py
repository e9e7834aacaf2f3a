"""Chinese working days (工作日) and the result deadlines counted in them. Pure: no database, no Qt.

China's official calendar moves working days around the public holidays (调休): some weekdays
are holidays and some Saturdays or Sundays are working days. The arrangement for each year is
published by the State Council, usually in November of the year before. Two sources are used:

* the ``chinese-calendar`` package (years it has data for, 2004–2026 in version 1.11.0), and
* arrangements the operator entered for other years (放假 and 调休上班 dates, kept in the
  database), which take precedence for the years they cover.

For a year that neither covers, nothing is guessed: :class:`MissingYear` is raised, and a due
date in that year is shown as 无法计算（缺少 2027 年节假日安排）.

A result is due *N* working days after the inspection: the inspection day itself does not
count, the *N*-th working day after it is the last day (the usual reading of "7 个工作日内").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

import chinese_calendar

DEFAULT_DEADLINE_DAYS = 7
MIN_DEADLINE_DAYS, MAX_DEADLINE_DAYS = 1, 60
DUE_SOON_WORKDAYS = 2  # "due soon": at most this many working days left (today included)
PACKAGE_NAME = "chinese-calendar"
PACKAGE_VERSION = str(getattr(chinese_calendar, "__version__", ""))


class MissingYear(Exception):
    """No official holiday arrangement is known for *year*."""

    def __init__(self, year: int) -> None:
        super().__init__(f"缺少 {year} 年节假日安排")
        self.year = year


def _package_years() -> frozenset[int]:
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    covered = set()
    for y in years:
        try:
            chinese_calendar.is_workday(date(y, 7, 1))
        except NotImplementedError:
            continue
        covered.add(y)
    return frozenset(covered)


PACKAGE_YEARS = _package_years()


@dataclass(frozen=True)
class YearArrangement:
    """One year's official arrangement as the operator entered it: the days off (放假, including
    weekend days inside a holiday) and the weekend days that are working days (调休上班)."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    names: Mapping[date, str] = field(default_factory=dict, compare=False)

    def problems(self) -> list[str]:
        """Why this arrangement cannot be right (empty when it is acceptable)."""
        out = []
        for d in sorted(self.holidays | self.workdays):
            if d.year != self.year:
                out.append(f"{d.isoformat()} 不在 {self.year} 年")
        both = sorted(self.holidays & self.workdays)
        if both:
            out.append("既是放假又是调休上班：" + "、".join(d.isoformat() for d in both))
        weekdays = sorted(d for d in self.workdays if d.weekday() < 5)
        if weekdays:
            out.append(
                "调休上班日应为周六或周日，以下日期本来就是工作日："
                + "、".join(f"{d.isoformat()}（{WEEKDAY_NAMES[d.weekday()]}）" for d in weekdays)
            )
        if not self.holidays:
            out.append(f"没有录入任何放假日期；请按国务院办公厅 {self.year} 年部分节假日安排的通知录入")
        return out


WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class WorkCalendar:
    """Working days from the package and the operator's arrangements."""

    def __init__(self, entered: Iterable[YearArrangement] = (), *, use_package: bool = True) -> None:
        self.entered: dict[int, YearArrangement] = {a.year: a for a in entered}
        self.package_years = PACKAGE_YEARS if use_package else frozenset()

    def source(self, year: int) -> str | None:
        """Where the arrangement of *year* comes from, in Chinese; None when it is unknown."""
        if year in self.entered:
            return "操作员录入"
        if year in self.package_years:
            return f"程序自带（{PACKAGE_NAME} {PACKAGE_VERSION}）".replace(" ）", "）")
        return None

    def covers(self, year: int) -> bool:
        return self.source(year) is not None

    def is_workday(self, d: date) -> bool:
        arr = self.entered.get(d.year)
        if arr is not None:
            if d in arr.holidays:
                return False
            if d in arr.workdays:
                return True
            return d.weekday() < 5
        if d.year in self.package_years:
            return bool(chinese_calendar.is_workday(d))
        raise MissingYear(d.year)

    def add_workdays(self, start: date, n: int) -> date:
        """The *n*-th working day after *start* (start itself not counted); *n* ≥ 1."""
        if n < 1:
            raise ValueError("n must be at least 1")
        d = start
        left = n
        while left:
            d += timedelta(days=1)
            if self.is_workday(d):
                left -= 1
        return d

    def workdays_between(self, after: date, until: date) -> int:
        """Working days in the interval (*after*, *until*]; negative when *until* is earlier."""
        if until < after:
            return -self.workdays_between(until, after)
        n = 0
        d = after
        while d < until:
            d += timedelta(days=1)
            if self.is_workday(d):
                n += 1
        return n


# --- deadlines --------------------------------------------------------------------------------


class DeadlineState(Enum):
    NONE = "none"  # not inspected yet: no deadline runs
    OPEN = "open"  # running, more than DUE_SOON_WORKDAYS working days left
    DUE_SOON = "due_soon"  # running, at most DUE_SOON_WORKDAYS working days left (today included)
    OVERDUE = "overdue"  # running, past the due date
    ON_TIME = "on_time"  # done on or before the due date
    LATE = "late"  # done after the due date (逾期录入): stays marked
    UNKNOWN = "unknown"  # the due date falls in a year without an arrangement


@dataclass(frozen=True)
class Deadline:
    state: DeadlineState
    due: date | None = None
    missing_year: int | None = None
    left: int | None = None  # working days left, today included (running deadlines)
    late_by: int | None = None  # working days past the due date
    due_today: bool = False

    @property
    def due_text(self) -> str:
        if self.missing_year is not None:
            return f"无法计算（缺少 {self.missing_year} 年节假日安排）"
        return self.due.isoformat() if self.due else ""

    @property
    def text(self) -> str:
        s = self.state
        if s is DeadlineState.NONE:
            return ""
        if s is DeadlineState.UNKNOWN:
            return self.due_text
        if s is DeadlineState.ON_TIME:
            return "按期"
        if s is DeadlineState.LATE:
            return f"逾期录入（超期 {self.late_by} 个工作日）" if self.late_by else "逾期录入"
        if s is DeadlineState.OVERDUE:
            return f"已逾期 {self.late_by} 个工作日" if self.late_by else "已逾期"
        if self.due_today:
            return "今日到期"
        return f"剩余 {self.left} 个工作日"

    @property
    def is_overdue(self) -> bool:
        """Past due now, or done late (逾期录入 stays marked)."""
        return self.state in (DeadlineState.OVERDUE, DeadlineState.LATE)


def due_date(cal: WorkCalendar, inspected_on: date, days: int) -> Deadline:
    """The due date alone (state OPEN), or UNKNOWN naming the missing year."""
    try:
        return Deadline(DeadlineState.OPEN, cal.add_workdays(inspected_on, days))
    except MissingYear as exc:
        return Deadline(DeadlineState.UNKNOWN, missing_year=exc.year)


def deadline(
    cal: WorkCalendar, inspected_on: date | None, days: int, done_on: date | None, today: date
) -> Deadline:
    """The deadline of one result: due *days* working days after *inspected_on*; *done_on* is the day
    the result was entered (None: not yet). Compared with *today* while it is still running."""
    if inspected_on is None:
        return Deadline(DeadlineState.NONE)
    base = due_date(cal, inspected_on, days)
    if base.due is None:
        return base
    due = base.due

    def late_by(until: date) -> int | None:
        try:
            return cal.workdays_between(due, until)
        except MissingYear:  # late for sure; by how many working days cannot be counted
            return None

    if done_on is not None:
        if done_on <= due:
            return Deadline(DeadlineState.ON_TIME, due)
        return Deadline(DeadlineState.LATE, due, late_by=late_by(done_on))
    if today > due:
        return Deadline(DeadlineState.OVERDUE, due, late_by=late_by(today))
    # Working days left, today counting when it is one (every day up to the due date is known).
    left = cal.workdays_between(today, due) + (1 if cal.is_workday(today) else 0)
    left = max(left, 1)
    state = DeadlineState.DUE_SOON if left <= DUE_SOON_WORKDAYS else DeadlineState.OPEN
    return Deadline(state, due, left=left, due_today=due == today)


# --- entering an arrangement ------------------------------------------------------------------

_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_SHORT = r"(?:(\d{1,2})\s*[-/.月]\s*)?(\d{1,2})\s*日?"
_RANGE = re.compile(rf"^{_DATE}(?:\s*(?:至|到|~|～|—|–|-{{1,2}})\s*(?:{_DATE}|{_SHORT}))?$")
_SPLIT = re.compile(r"[\n\r,，;；、]+")


class DateListError(ValueError):
    """The text is not a list of dates; the message says which part, in Chinese."""


def parse_date_list(text: str, year: int | None = None) -> list[date]:
    """Dates and ranges as an office worker types them from the State Council notice:
    ``2027-10-01 至 2027-10-07``, ``2027年2月6日``, ``2027-02-06~02-12``, separated by lines,
    commas or 、. Returns the sorted distinct dates. *year*: every date must be in it."""
    out: set[date] = set()
    for raw in _SPLIT.split(text):
        part = raw.strip().replace("　", " ")
        if not part:
            continue
        m = _RANGE.match(part)
        if not m:
            raise DateListError(f"无法识别“{part}”：请写作 2027-10-01，或日期范围 2027-10-01 至 2027-10-07")
        g = m.groups()
        try:
            first = date(int(g[0]), int(g[1]), int(g[2]))
            if g[3] is not None:
                last = date(int(g[3]), int(g[4]), int(g[5]))
            elif g[7] is not None:
                last = date(first.year, int(g[6]) if g[6] else first.month, int(g[7]))
            else:
                last = first
        except ValueError:
            raise DateListError(f"“{part}”不是有效日期") from None
        if last < first:
            raise DateListError(f"“{part}”的结束日期早于开始日期")
        if (last - first).days > 40:
            raise DateListError(f"“{part}”跨越 {(last - first).days + 1} 天，请检查")
        d = first
        while d <= last:
            if year is not None and d.year != year:
                raise DateListError(f"“{part}”中的 {d.isoformat()} 不在 {year} 年")
            out.add(d)
            d += timedelta(days=1)
    return sorted(out)


def format_date_list(dates: Iterable[date]) -> str:
    """Consecutive dates joined into ranges, one per line (the inverse of :func:`parse_date_list`)."""
    ds = sorted(set(dates))
    lines: list[str] = []
    i = 0
    while i < len(ds):
        j = i
        while j + 1 < len(ds) and ds[j + 1] - ds[j] == timedelta(days=1):
            j += 1
        lines.append(ds[i].isoformat() if i == j else f"{ds[i].isoformat()} 至 {ds[j].isoformat()}")
        i = j + 1
    return "\n".join(lines)
