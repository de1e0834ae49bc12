"""Working days: weekends and the calendar's holidays are off, its 调休 weekend days worked."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from runtime.api.workdays import BEIJING, Calendar, CalendarError, load


def at(y, m, d, hour=10):
    return datetime(y, m, d, hour, tzinfo=BEIJING).astimezone(timezone.utc)


@pytest.mark.parametrize("start,days,due", [
    (at(2026, 12, 4), 3, at(2026, 12, 9)),  # Friday: Monday, Tuesday, Wednesday
    (at(2026, 9, 30), 3, at(2026, 10, 10)),  # 国庆: 1-7 October off, Saturday the 10th worked
    (at(2026, 2, 13), 1, at(2026, 2, 14)),  # 春节: Saturday 14 February worked
    (at(2026, 2, 14), 1, at(2026, 2, 24)),  # then off until Tuesday the 24th (23rd off, a Monday)
    (at(2027, 1, 1), 1, at(2027, 1, 4)),  # a year the file does not list: only its weekends off
])
def test_working_days_follow_the_calendar(start, days, due):
    assert load().after(start, days) == due


def test_the_time_of_day_is_kept_across_midnight_utc():
    late = datetime(2026, 12, 3, 17, 30, tzinfo=timezone.utc)  # Friday 01:30 in Beijing
    assert load().after(late, 1) == late + timedelta(days=3)  # Monday 01:30 in Beijing


def test_a_calendar_file_says_what_is_wrong_with_it():
    with pytest.raises(CalendarError, match="line|:2:"):
        Calendar.parse("2026-10-01 off\n2026-10-02 holiday\n", "mine.txt")
    with pytest.raises(CalendarError, match="both"):
        Calendar.parse("2026-10-01 off\n2026-10-01 work\n")
    with pytest.raises(CalendarError, match="cannot be read"):
        load("/nonexistent/holidays.txt")
    assert Calendar.parse("# only a comment\n\n2026-10-03 work  # a Saturday\n").is_working_day(date(2026, 10, 3))
