"""Working days and result deadlines (pure): 调休, the 2026 National Day holiday, unknown years."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from dsj_desktop.domain.workdays import (
    DateListError,
    DeadlineState,
    MissingYear,
    WorkCalendar,
    YearArrangement,
    deadline,
    due_date,
    format_date_list,
    parse_date_list,
)

CAL = WorkCalendar()


def test_the_package_data_for_the_2026_national_day_is_what_the_tests_assume() -> None:
    # Checked against chinese-calendar rather than trusted: 10/1–10/7 off (7 days, not 10/8),
    # Sunday 9/20 and Saturday 10/10 are working days (调休).
    off = sorted(d for d in chinese_calendar.holidays if date(2026, 9, 28) <= d <= date(2026, 10, 12))
    assert off == [date(2026, 10, i) for i in range(1, 8)]
    assert chinese_calendar.is_workday(date(2026, 10, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # a Saturday
    assert date(2026, 10, 10).weekday() == 5
    assert chinese_calendar.is_workday(date(2026, 9, 20))  # a Sunday
    assert not chinese_calendar.is_workday(date(2026, 10, 11))


def test_due_date_across_the_national_day_holiday_counts_the_tiaoxiu_saturday() -> None:
    # Inspected Monday 2026-09-28: 9/29, 9/30, (10/1–10/7 off), 10/8, 10/9, Sat 10/10, 10/12, 10/13.
    assert CAL.add_workdays(date(2026, 9, 28), 7) == date(2026, 10, 13)
    # Inspected on the last day before the holiday: the first working day after it is 10/8.
    assert CAL.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # Inspected Friday 10/9: the next working day is the 调休 Saturday 10/10.
    assert CAL.add_workdays(date(2026, 10, 9), 1) == date(2026, 10, 10)
    # Without the 调休 Saturday the deadline would be one day later.
    assert CAL.add_workdays(date(2026, 10, 9), 2) == date(2026, 10, 12)


def test_a_tiaoxiu_sunday_and_the_spring_festival() -> None:
    # Inspected Friday 2026-09-18: Sunday 9/20 is a working day (调休 for the National Day).
    assert CAL.add_workdays(date(2026, 9, 18), 1) == date(2026, 9, 20)
    # Spring Festival 2026: 2/15–2/23 off, Saturdays 2/14 and 2/28 worked.
    assert CAL.add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_workdays(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert CAL.workdays_between(date(2026, 2, 13), date(2026, 2, 24)) == 2


def test_the_deadline_length_is_a_parameter() -> None:
    start = date(2026, 6, 1)  # a Monday, no holiday near
    assert CAL.add_workdays(start, 5) == date(2026, 6, 8)
    assert CAL.add_workdays(start, 7) == date(2026, 6, 10)
    # 20 working days cross the Dragon Boat Festival (6/19 Friday off).
    assert CAL.add_workdays(start, 20) == date(2026, 6, 30)


def test_a_year_the_package_does_not_cover_is_never_guessed() -> None:
    assert 2027 not in CAL.package_years
    assert CAL.source(2027) is None
    with pytest.raises(MissingYear) as exc:
        CAL.is_workday(date(2027, 1, 4))
    assert exc.value.year == 2027
    # A due date running into 2027 cannot be computed, and says why.
    dl = due_date(CAL, date(2026, 12, 28), 7)
    assert dl.state is DeadlineState.UNKNOWN and dl.due is None
    assert dl.due_text == "无法计算（缺少 2027 年节假日安排）"
    assert (
        deadline(CAL, date(2026, 12, 28), 7, None, date(2026, 12, 29)).text
        == "无法计算（缺少 2027 年节假日安排）"
    )
    # Within 2026 it can (12/28 + 3 working days = 12/31).
    assert CAL.add_workdays(date(2026, 12, 28), 3) == date(2026, 12, 31)


def test_an_operator_entered_year_is_used() -> None:
    off = parse_date_list("2027-01-01 至 2027-01-03\n2027-02-06~02-12")
    work = parse_date_list("2027-02-14、2027年2月20日")
    arr = YearArrangement(2027, frozenset(off), frozenset(work))
    assert arr.problems() == []
    cal = WorkCalendar([arr])
    assert cal.source(2027) == "操作员录入"
    assert not cal.is_workday(date(2027, 1, 1))  # Friday, 元旦
    assert cal.is_workday(date(2027, 2, 14))  # Sunday, 调休上班
    assert not cal.is_workday(date(2027, 2, 8))  # Monday, 春节
    assert cal.is_workday(date(2027, 3, 1))  # an ordinary Monday
    # 2026-12-28 (Mon): 12/29, 12/30, 12/31, (1/1–1/3 off), 1/4, 1/5, 1/6, 1/7.
    assert due_date(cal, date(2026, 12, 28), 7).due == date(2027, 1, 7)
    # 2027-02-05 (Fri) + 1: 2/6–2/12 off, Saturday 2/13 off, Sunday 2/14 worked (调休).
    assert cal.add_workdays(date(2027, 2, 5), 1) == date(2027, 2, 14)


def test_entered_arrangements_are_checked() -> None:
    bad = YearArrangement(2027, frozenset({date(2027, 1, 1), date(2026, 12, 31)}),
                          frozenset({date(2027, 1, 1), date(2027, 1, 6)}))  # fmt: skip
    problems = "；".join(bad.problems())
    assert "2026-12-31 不在 2027 年" in problems
    assert "既是放假又是调休上班：2027-01-01" in problems
    assert "2027-01-06（周三）" in problems
    assert "没有录入任何放假日期" in "；".join(YearArrangement(2027, frozenset(), frozenset()).problems())


def test_date_lists_parse_and_format() -> None:
    assert parse_date_list("2027-10-01 至 2027-10-03") == [date(2027, 10, i) for i in (1, 2, 3)]
    assert parse_date_list("2027/10/01-2027/10/02，2027.5.1") == [
        date(2027, 5, 1),
        date(2027, 10, 1),
        date(2027, 10, 2),
    ]
    assert format_date_list(parse_date_list("2027-10-01 至 2027-10-03\n2027-05-01")) == (
        "2027-05-01\n2027-10-01 至 2027-10-03"
    )
    with pytest.raises(DateListError, match="无法识别“国庆”"):
        parse_date_list("国庆")
    with pytest.raises(DateListError, match="不在 2027 年"):
        parse_date_list("2026-12-31", 2027)
    with pytest.raises(DateListError, match="不是有效日期"):
        parse_date_list("2027-02-30")
    with pytest.raises(DateListError, match="早于开始日期"):
        parse_date_list("2027-10-07 至 2027-10-01")


def test_deadline_states() -> None:
    inspected = date(2026, 9, 28)  # due 2026-10-13
    assert deadline(CAL, None, 7, None, date(2026, 10, 1)).state is DeadlineState.NONE
    running = deadline(CAL, inspected, 7, None, date(2026, 10, 9))
    assert running.state is DeadlineState.OPEN and running.left == 4 and running.text == "剩余 4 个工作日"
    soon = deadline(CAL, inspected, 7, None, date(2026, 10, 12))
    assert soon.state is DeadlineState.DUE_SOON and soon.left == 2
    today_due = deadline(CAL, inspected, 7, None, date(2026, 10, 13))
    assert today_due.state is DeadlineState.DUE_SOON and today_due.text == "今日到期"
    over = deadline(CAL, inspected, 7, None, date(2026, 10, 15))
    assert over.state is DeadlineState.OVERDUE and over.late_by == 2 and over.is_overdue
    on_time = deadline(CAL, inspected, 7, date(2026, 10, 13), date(2026, 11, 1))
    assert on_time.state is DeadlineState.ON_TIME and on_time.text == "按期"
    late = deadline(CAL, inspected, 7, date(2026, 10, 14), date(2026, 11, 1))
    assert late.state is DeadlineState.LATE and late.is_overdue and late.text == "逾期录入（超期 1 个工作日）"


def test_past_due_stays_overdue_when_today_is_in_an_unknown_year() -> None:
    # Due in 2026; on 2027-01-15 (no 2027 arrangement) it is overdue, only the count is unknown.
    over = deadline(CAL, date(2026, 12, 1), 7, None, date(2027, 1, 15))
    assert over.state is DeadlineState.OVERDUE and over.late_by is None and over.text == "已逾期"
    late = deadline(CAL, date(2026, 12, 1), 7, date(2027, 1, 15), date(2027, 2, 1))
    assert late.state is DeadlineState.LATE and late.text == "逾期录入"
