"""Working days (工作日): the seed states some targets in them (几个工作日内给出处理意见, 退款将在几个
工作日内退回). Weekends are off and a calendar file says which weekdays are holidays and which
weekend days are worked instead (调休), in Beijing time. Pure once loaded."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
DEFAULT_CALENDAR = Path(__file__).parent / "calendars" / "cn.txt"


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class Calendar:
    off: frozenset[date] = frozenset()
    work: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.work:
            return True
        return day.weekday() < 5 and day not in self.off

    def after(self, start: datetime, days: int) -> datetime:
        """The same time of day (Beijing) on the `days`-th working day after `start`'s day."""
        local = start.astimezone(BEIJING)
        day, left = local.date(), days
        while left > 0:
            day += timedelta(days=1)
            left -= self.is_working_day(day)
        return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)

    @classmethod
    def parse(cls, text: str, source: str = "calendar") -> "Calendar":
        off, work = set(), set()
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            try:
                day = date.fromisoformat(parts[0])
            except (ValueError, IndexError):
                raise CalendarError(f"{source}:{n}: '{raw}' does not start with a date (YYYY-MM-DD)") from None
            kind = parts[1] if len(parts) > 1 else ""
            if kind not in ("off", "work"):
                raise CalendarError(f"{source}:{n}: '{raw}': say 'off' or 'work' after the date")
            (off if kind == "off" else work).add(day)
        if off & work:
            raise CalendarError(f"{source}: {sorted(off & work)[0]} is both off and a working day")
        return cls(frozenset(off), frozenset(work))


@lru_cache(maxsize=8)
def load(path: str = "") -> Calendar:
    """The calendar at `path` (the repository's own when empty), read once per process."""
    p = Path(path) if path else DEFAULT_CALENDAR
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise CalendarError(f"the holidays file {p} cannot be read: {e}") from None
    return Calendar.parse(text, str(p))
