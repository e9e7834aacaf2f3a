"""The result deadline setting and the operator-entered holiday arrangements (kept in the database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from dsj_desktop.clock import now_iso
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.workdays import (
    DEFAULT_DEADLINE_DAYS,
    MAX_DEADLINE_DAYS,
    MIN_DEADLINE_DAYS,
    PACKAGE_YEARS,
    WorkCalendar,
    YearArrangement,
)
from dsj_desktop.errors import ValidationError
from dsj_desktop.services import settings

DEADLINE_KEY = "result_deadline_days"
HOLIDAY, WORKDAY = "holiday", "workday"


def deadline_days(conn: Connection) -> int:
    """N: results are due N working days after the inspection (default 7)."""
    value = settings.get(conn, DEADLINE_KEY, DEFAULT_DEADLINE_DAYS)
    try:
        n = int(value)
    except (TypeError, ValueError):
        return DEFAULT_DEADLINE_DAYS
    return n if MIN_DEADLINE_DAYS <= n <= MAX_DEADLINE_DAYS else DEFAULT_DEADLINE_DAYS


def read_deadline_days(db: Database) -> int:
    with db.read() as conn:
        return deadline_days(conn)


def set_deadline_days(db: Database, n: int) -> None:
    if not MIN_DEADLINE_DAYS <= n <= MAX_DEADLINE_DAYS:
        raise ValidationError(
            f"期限应在 {MIN_DEADLINE_DAYS} 到 {MAX_DEADLINE_DAYS} 个工作日之间，不能是 {n}。"
        )
    with db.write(f"修改结果录入期限：{n} 个工作日") as conn:
        settings.put(conn, DEADLINE_KEY, n)


def arrangements(conn: Connection) -> list[YearArrangement]:
    rows = conn.exec_driver_sql("SELECT day, year, kind, name FROM holiday_day ORDER BY day").all()
    years = [int(r[0]) for r in conn.exec_driver_sql("SELECT year FROM holiday_year ORDER BY year")]
    out = []
    for y in years:
        days = [(date.fromisoformat(str(r[0])), r[2], r[3]) for r in rows if int(r[1]) == y]
        out.append(
            YearArrangement(
                y,
                frozenset(d for d, k, _ in days if k == HOLIDAY),
                frozenset(d for d, k, _ in days if k == WORKDAY),
                {d: n for d, _, n in days if n},
            )
        )
    return out


def load_calendar(conn: Connection) -> WorkCalendar:
    return WorkCalendar(arrangements(conn))


def read_calendar(db: Database) -> WorkCalendar:
    with db.read() as conn:
        return load_calendar(conn)


@dataclass(frozen=True)
class YearInfo:
    """One row of the holiday settings table."""

    year: int
    source: str  # 程序自带 / 操作员录入 / 未录入
    holidays: int
    workdays: int
    entered_by: str = ""
    entered_at: str = ""
    note: str = ""

    @property
    def missing(self) -> bool:
        return self.source == "未录入"


def year_table(conn: Connection, around: int) -> list[YearInfo]:
    """The years an operator cares about: last year to two years ahead, plus every entered year."""
    cal = load_calendar(conn)
    meta = {
        int(r[0]): (r[1], r[2], r[3])
        for r in conn.exec_driver_sql("SELECT year, entered_by, entered_at, note FROM holiday_year")
    }
    years = sorted(set(range(around - 1, around + 3)) | set(meta))
    out = []
    for y in years:
        src = cal.source(y)
        if y in cal.entered:
            arr = cal.entered[y]
            by, at, note = meta[y]
            out.append(YearInfo(y, src or "", len(arr.holidays), len(arr.workdays), by, at, note))
        elif src is not None:
            out.append(YearInfo(y, src, 0, 0))
        else:
            out.append(YearInfo(y, "未录入", 0, 0))
    return out


def read_year_table(db: Database, around: int) -> list[YearInfo]:
    with db.read() as conn:
        return year_table(conn, around)


def save_arrangement(db: Database, arr: YearArrangement, *, operator: str = "", note: str = "") -> None:
    """Store (or replace) the arrangement of one year; refused when it cannot be right."""
    problems = arr.problems()
    if arr.year in PACKAGE_YEARS:
        problems.insert(0, f"{arr.year} 年的节假日安排程序已自带（国务院办公厅通知），无需录入")
    if problems:
        raise ValidationError(f"{arr.year} 年节假日安排有误：" + "；".join(problems), problems)
    with db.write(f"录入 {arr.year} 年节假日安排") as conn:
        conn.exec_driver_sql("DELETE FROM holiday_day WHERE year = ?", (arr.year,))
        conn.exec_driver_sql(
            "INSERT INTO holiday_year (year, note, entered_by, entered_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (year) DO UPDATE SET note = excluded.note, entered_by = excluded.entered_by, "
            "entered_at = excluded.entered_at",
            (arr.year, note, operator, now_iso()),
        )
        rows = [(d.isoformat(), arr.year, HOLIDAY, arr.names.get(d, "")) for d in sorted(arr.holidays)]
        rows += [(d.isoformat(), arr.year, WORKDAY, arr.names.get(d, "")) for d in sorted(arr.workdays)]
        conn.exec_driver_sql("INSERT INTO holiday_day (day, year, kind, name) VALUES (?, ?, ?, ?)", rows)
