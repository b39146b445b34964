"""Working hours on a holiday calendar: the clock that step deadlines run on.

Time limits in the responsibility list are working hours: a two-hour limit
set at 17:30 on a Friday before the Qingming holiday ends on Tuesday. A day
is a working day Monday–Friday unless the calendar says otherwise: the State
Council schedule makes some weekdays public holidays and some weekends
working days (调休). On a working day the hours are the working periods
(09:00–12:00 and 13:00–18:00 by default).

Times are counted on the wall clock of the calendar's time zone
(Asia/Shanghai has no daylight saving time). Inputs must be aware datetimes:
a naive one would be read in whatever zone the server happens to run in.
The arithmetic walks day by day, never minute by minute, so spans of months
cost a few hundred steps.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gridsvc.core.errors import InvalidInput
from gridsvc.core.messages import Msg

#: The longest span :meth:`WorkCalendar.add_working_hours` accepts, about 50 working
#: years: more is a unit mistake (seconds for hours), and would walk the calendar for ages.
MAX_HOURS = 100_000.0

_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
_WEEKDAYS = frozenset(range(5))

#: A working period as offsets from midnight, so that one may end at 24:00.
_Period = tuple[timedelta, timedelta]


class WorkCalendar:
    """Working days and working periods in one time zone.

    ``days[d]`` overrides the Monday–Friday rule for date ``d``: False for a
    public holiday, True for an adjusted working weekend (调休). ``periods``
    are the working periods of a working day, in order and not overlapping;
    an end of 00:00 means midnight at the end of the day. ``workweek`` lists
    the weekdays that work by default (0 = Monday).
    """

    def __init__(
        self,
        days: Mapping[date, bool] | None = None,
        periods: Sequence[tuple[time, time]] = ((time(9), time(12)), (time(13), time(18))),
        tz: str = "Asia/Shanghai",
        *,
        workweek: Collection[int] = _WEEKDAYS,
    ) -> None:
        self.days: dict[date, bool] = dict(days or {})
        self.periods: tuple[tuple[time, time], ...] = tuple(periods)
        self.tz = _zone(tz)
        self.workweek = frozenset(workweek)
        self._periods = _offsets(self.periods)
        if not self.workweek or not self.workweek <= frozenset(range(7)):
            # an empty workweek would leave the clock with nowhere to run
            raise InvalidInput(Msg("calendar.workweek", workweek=sorted(self.workweek)))

    @classmethod
    def from_records(
        cls,
        rows: Iterable[Mapping[str, str]],
        *,
        periods: Sequence[tuple[time, time]] = ((time(9), time(12)), (time(13), time(18))),
        tz: str = "Asia/Shanghai",
    ) -> WorkCalendar:
        """A calendar from rows as ``csv.DictReader`` reads ``holidays.csv``.

        Columns ``date`` (ISO), ``name`` and ``is_workday`` (0 holiday, 1
        adjusted working day). A date listed twice with different values is
        refused: the schedule would be ambiguous.
        """
        days: dict[date, bool] = {}
        for row in rows:
            day, working = _holiday_row(row)
            if days.get(day, working) != working:
                raise InvalidInput(Msg("calendar.both", day=day))
            days[day] = working
        return cls(days, periods, tz)

    @classmethod
    def continuous(cls, tz: str = "Asia/Shanghai") -> WorkCalendar:
        """Natural time: every day, all day (street teams in shifts, the 24-hour grid centre)."""
        return cls(periods=((_MIDNIGHT, _MIDNIGHT),), tz=tz, workweek=range(7))

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day: the calendar's entry, else the workweek."""
        return self.days.get(d, d.weekday() in self.workweek)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` working hours after ``start``, in the calendar's zone.

        A start outside working time starts counting at the next working
        period. A result that exactly uses up a period is that period's end
        (12:00, not 13:00): a deadline "by noon". Zero hours is ``start`` itself.
        """
        local = self._local(start)
        remaining = _duration(hours)
        if hours == 0:
            return local.replace(tzinfo=self.tz)
        for begin, end in self._working_intervals(local):
            counted_from = max(begin, local)
            if remaining <= end - counted_from:
                return (counted_from + remaining).replace(tzinfo=self.tz)
            remaining -= end - counted_from
        raise AssertionError("unreachable: working intervals never end")  # pragma: no cover

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Working hours from ``a`` to ``b``; 0 when ``b`` is not after ``a``."""
        start, stop = self._local(a), self._local(b)
        total = timedelta()
        if stop <= start:
            return 0.0
        for begin, end in self._working_intervals(start):
            if begin >= stop:
                break
            total += min(end, stop) - max(begin, start)
        return total / timedelta(hours=1)

    def _local(self, moment: datetime) -> datetime:
        """Naive wall-clock time in the calendar's zone."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidInput(Msg("calendar.naive", moment=moment.isoformat()))
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def _working_intervals(self, local: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (naive, local) that end after ``local``, in order, forever."""
        day = local.date()
        while True:
            if self.is_workday(day):
                midnight = datetime.combine(day, _MIDNIGHT)
                for begin, end in self._periods:
                    if midnight + end > local:
                        yield midnight + begin, midnight + end
            day += _DAY


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(Msg("calendar.unknown_zone", name=name)) from None


def _offsets(periods: Sequence[tuple[time, time]]) -> tuple[_Period, ...]:
    """Periods as offsets from midnight, checked to be in order and not overlapping.

    An empty list is refused: nothing could ever be done on such a calendar.
    """
    if not periods:
        raise InvalidInput(Msg("calendar.no_periods"))
    offsets: list[_Period] = []
    previous_end = timedelta()
    for begin, end in periods:
        b, e = _offset(begin), _offset(end) or _DAY
        if not previous_end <= b < e:
            raise InvalidInput(
                Msg("calendar.periods_order", begin=begin, end=end, previous_end=previous_end)
            )
        offsets.append((b, e))
        previous_end = e
    return tuple(offsets)


def _offset(moment: time) -> timedelta:
    if moment.tzinfo is not None:
        raise InvalidInput(Msg("calendar.period_zone", moment=moment))
    return timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


def _duration(hours: float) -> timedelta:
    if not (math.isfinite(hours) and 0 <= hours <= MAX_HOURS):
        raise InvalidInput(Msg("calendar.hours", most=MAX_HOURS, hours=hours))
    return timedelta(hours=hours)


def _holiday_row(row: Mapping[str, str]) -> tuple[date, bool]:
    raw_date = (row.get("date") or "").strip()
    raw_flag = (row.get("is_workday") or "").strip()
    try:
        day = date.fromisoformat(raw_date)
    except ValueError:
        raise InvalidInput(Msg("calendar.bad_date", raw=raw_date), field="date") from None
    if raw_flag not in {"0", "1"}:
        raise InvalidInput(
            Msg("calendar.bad_flag", raw_date=raw_date, raw_flag=raw_flag),
            field="is_workday",
        )
    return day, raw_flag == "1"
