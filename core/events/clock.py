"""Working time: deadlines count working hours on working days, in the town's local time.

A working day is Monday to Friday unless the calendar lists it as a holiday,
plus the weekend days listed as make-up working days (调休). Times are stored
in UTC; the calendar is read in local time (China has one offset and no
daylight saving, so a fixed offset is exact).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cached_property

from jiceng.core.config import CalendarSettings


class WorkingClock:
    def __init__(self, calendar: CalendarSettings) -> None:
        self.calendar = calendar
        self.zone = timezone(timedelta(hours=calendar.utc_offset_hours))
        self.holidays = frozenset(calendar.holidays)
        self.workdays = frozenset(calendar.extra_workdays)

    @cached_property
    def day_hours(self) -> float:
        return (_minutes(self.calendar.workday_end) - _minutes(self.calendar.workday_start)) / 60

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def _span(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.calendar.workday_start, self.zone),
            datetime.combine(day, self.calendar.workday_end, self.zone),
        )

    def add(self, start: datetime, *, hours: float = 0, days: int = 0) -> datetime:
        """The moment ``hours`` working hours (or ``days`` working days) after ``start``, in UTC."""
        left = timedelta(hours=hours + days * self.day_hours)
        moment = start.astimezone(self.zone)
        day = moment.date()
        while True:
            if self.is_workday(day):
                opens, shuts = self._span(day)
                begin = max(moment, opens)
                if begin < shuts:
                    if begin + left <= shuts:
                        return (begin + left).astimezone(UTC)
                    left -= shuts - begin
            day += timedelta(days=1)
            moment = datetime.combine(day, time.min, self.zone)

    def between(self, start: datetime, end: datetime) -> float:
        """Working hours from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        if end < start:
            return -self.between(end, start)
        a, b = start.astimezone(self.zone), end.astimezone(self.zone)
        total = timedelta()
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                opens, shuts = self._span(day)
                lo, hi = max(a, opens), min(b, shuts)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute
