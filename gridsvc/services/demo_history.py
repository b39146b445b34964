"""The demo's recorded year laid onto the present, so that it always ends yesterday.

``reports.csv`` is generated once, for fixed dates (deterministic, reviewable
in a diff). Loaded as it is, the history would age: the dashboard's default
period (the last full month) would be empty and every open case long overdue.
So the loader moves the whole history by a whole number of weeks (weekdays
and the hour profile stay what they were: a Monday stays a Monday) until its
last day is yesterday or up to six days later, and then drops what would lie
in the future: every event from the start of today on. Cases open at that cut
are the ones in progress, mostly within their deadlines.

Holidays do not move with the weeks. A step of a town or county case that the
recording spent over a holiday (or a 调休 working weekend) would read, on the
dates it lands on, as a different number of working hours; such a step is laid
again from its start with the working hours it took when recorded, so the
simulated behaviour (how much of each limit a step used) reads the same on the
real calendar. Grid-level cases run on natural time and are only moved.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gridsvc.core.worktime import WorkCalendar

_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Replay:
    """How recorded times map to the present: moved by ``shift``, nothing from ``cut`` on."""

    shift: timedelta
    cut: datetime
    calendar: WorkCalendar
    listed: tuple[date, ...] = ()  # the calendar's listed days, sorted

    @classmethod
    def ending_yesterday(cls, last_day: date, today: date, calendar: WorkCalendar) -> Replay:
        """The fewest whole weeks that move ``last_day`` to yesterday or later (0–6 days later);
        the cut is midnight at the start of ``today`` on the calendar's clock."""
        yesterday = today - timedelta(days=1)
        weeks = math.ceil((yesterday - last_day).days / 7)
        cut = datetime.combine(today, time(0), tzinfo=calendar.tz)
        return cls(weeks * _WEEK, cut, calendar, tuple(sorted(calendar.days)))

    def times(self, recorded: Sequence[datetime | None], working: bool) -> list[datetime | None]:
        """A case's step times (report first; None once a step was not reached) in the present.

        ``working``: the case's deadlines run in working hours (town and county
        matters), so a step touching a listed day keeps its recorded working hours.
        Times at or after the cut, and every later step, become None.
        """
        out: list[datetime | None] = []
        for i, at in enumerate(recorded):
            if at is None or (out and out[-1] is None):
                out.append(None)
                continue
            moved = self._relaid(recorded[i - 1], at, out[-1]) if i and working else at + self.shift
            out.append(moved if moved < self.cut else None)
        return out

    def _relaid(
        self, old_start: datetime | None, old_end: datetime, start: datetime | None
    ) -> datetime:
        """The end of a step that began at ``start`` (moved, maybe relaid) and took the working
        hours it took from ``old_start`` to ``old_end`` when recorded."""
        assert old_start is not None and start is not None
        naive = start + (old_end - old_start)
        if not (self._touches_listed(old_start, old_end) or self._touches_listed(start, naive)):
            return naive
        hours = self.calendar.working_hours_between(old_start, old_end)
        if math.isclose(hours, self.calendar.working_hours_between(start, naive), abs_tol=1e-9):
            return naive
        return self.calendar.add_working_hours(start, hours)

    def _touches_listed(self, a: datetime, b: datetime) -> bool:
        """Whether a day the calendar lists (holiday or working weekend) lies in ``[a, b]``."""
        days = self.listed
        first = a.astimezone(self.calendar.tz).date()
        last = b.astimezone(self.calendar.tz).date()
        i = bisect.bisect_left(days, first)
        return i < len(days) and days[i] <= last
