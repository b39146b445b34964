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

import numpy as np

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


# ---- working time as arrays ----------------------------------------------------------------

_US = timedelta(microseconds=1)
#: the longest span laid out as arrays (a century); longer ones are walked day by day
_MOST_DAYS = 36_600


class WorkingTime:
    """A calendar's working time from ``first`` to ``last`` (whole local days) as arrays,
    for deadlines of many cases at once: a moment becomes the working microseconds before
    it (:meth:`worked`), a deadline in working time is an addition, and :meth:`moment`
    turns the sum back into a moment, both by ``np.searchsorted`` on the working periods.

    Moments are int64 microseconds since the Unix epoch (UTC). The zone must keep one UTC
    offset over the span (Asia/Shanghai does): :func:`working_time` answers None
    otherwise, and the caller keeps the day-by-day arithmetic. The answers are those of
    :meth:`WorkCalendar.add_working_hours` to the microsecond.
    """

    def __init__(self, calendar: WorkCalendar, first: date, last: date, offset: timedelta):
        self.first, self.last = first, last
        self.offset_us = offset // _US
        days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
        weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
        working = np.isin(weekday, sorted(calendar.workweek))
        for day, flag in calendar.days.items():
            if first <= day <= last:
                working[(day - first).days] = flag
        midnight = days[working].astype("datetime64[us]").astype("int64")
        begins = np.array([b // _US for b, _ in calendar._periods], dtype="int64")
        ends = np.array([e // _US for _, e in calendar._periods], dtype="int64")
        #: local starts and ends of the working periods, in order
        self.begins = (midnight[:, None] + begins).ravel()
        self.ends = (midnight[:, None] + ends).ravel()
        #: working microseconds before each period's start, and at its end
        self.done_at_end = np.cumsum(self.ends - self.begins)
        self.done_at_begin = self.done_at_end - (self.ends - self.begins)

    @property
    def total(self) -> int:
        """Working microseconds in the whole span."""
        return int(self.done_at_end[-1]) if len(self.done_at_end) else 0

    def worked(self, moments: np.ndarray) -> np.ndarray:
        """Working microseconds from the span's start to each moment (within the span)."""
        local = moments + self.offset_us
        k = np.searchsorted(self.ends, local, side="right")
        inside = k < len(self.ends)
        k = np.minimum(k, len(self.ends) - 1)
        into = np.clip(local - self.begins[k], 0, None)
        return np.where(inside, self.done_at_begin[k] + into, self.total)

    def moment(self, worked: np.ndarray) -> np.ndarray:
        """The first moment by which ``worked`` working microseconds (> 0) are done: the
        end of a period when they use it up exactly, as :meth:`add_working_hours` says."""
        k = np.searchsorted(self.done_at_end, worked, side="left")
        if np.any(k >= len(self.done_at_end)):
            raise ValueError("working time beyond the span")
        return self.begins[k] + (worked - self.done_at_begin[k]) - self.offset_us

    def add(self, moments: np.ndarray, durations: np.ndarray) -> np.ndarray:
        """``add_working_hours`` of each moment and duration (microseconds, 0 keeps the
        moment; a positive one under a microsecond is the caller's to refuse)."""
        later = self.moment(self.worked(moments) + durations)
        return np.where(durations > 0, later, moments)


def _working_time(calendar: WorkCalendar, first: date, last: date) -> WorkingTime | None:
    offsets = {
        calendar.tz.utcoffset(datetime.combine(first + timedelta(days=n), _MIDNIGHT))
        for n in range((last - first).days + 2)
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return WorkingTime(calendar, first, last, offset or timedelta())


def working_time(calendar: WorkCalendar, moments: np.ndarray, most: int) -> WorkingTime | None:
    """Working time covering ``moments`` (UTC microseconds) and ``most`` working
    microseconds after the latest of them; None in a zone whose offset changes there."""
    if not len(moments):
        moments = np.zeros(1, dtype="int64")
    lo = (np.datetime64(int(moments.min()), "us") - np.timedelta64(1, "D")).astype("datetime64[D]")
    hi = (np.datetime64(int(moments.max()), "us") + np.timedelta64(1, "D")).astype("datetime64[D]")
    first, last = lo.astype(date), hi.astype(date)
    extra = 8
    while True:
        found = _working_time(calendar, first, last + timedelta(days=extra))
        if found is None:
            return None
        needed = found.worked(np.array([int(moments.max())], dtype="int64"))[0] + most
        if needed < found.total:
            return found
        if extra > _MOST_DAYS:  # a few minutes a day for MAX_HOURS: the day-by-day walk
            return None
        extra *= 2
