"""Working hours on the demo holiday calendar: tables for the cases, hypothesis for the laws."""

from __future__ import annotations

import csv
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.errors import InvalidInput
from gridsvc.core.worktime import WorkCalendar

HOLIDAYS = Path(__file__).parents[2] / "data" / "demo" / "holidays.csv"
SH = ZoneInfo("Asia/Shanghai")


def _calendar() -> WorkCalendar:
    with HOLIDAYS.open(encoding="utf-8", newline="") as f:
        return WorkCalendar.from_records(csv.DictReader(f))


CAL = _calendar()


def at(day: str, hhmm: str = "00:00") -> datetime:
    """A Shanghai time, e.g. ``at("2026-04-03", "17:30")``."""
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SH)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-04-03", True),  # Friday before Qingming
        ("2026-04-04", False),  # Qingming, a Saturday
        ("2026-04-06", False),  # Qingming, a Monday
        ("2026-04-11", False),  # ordinary Saturday
        ("2026-02-14", True),  # 调休: working Saturday before the Spring Festival
        ("2026-02-16", False),  # Spring Festival Eve, a Monday
        ("2026-03-02", True),  # ordinary Monday
    ],
)
def test_is_workday(day: str, expected: bool) -> None:
    assert CAL.is_workday(date.fromisoformat(day)) is expected


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at("2026-03-02", "09:00"), 2, at("2026-03-02", "11:00")),
        (at("2026-03-02", "11:00"), 1, at("2026-03-02", "12:00")),  # uses up the morning
        (at("2026-03-02", "11:00"), 2, at("2026-03-02", "14:00")),  # across lunch
        (at("2026-03-02", "12:30"), 1, at("2026-03-02", "14:00")),  # starts in lunch
        (at("2026-03-02", "17:00"), 2, at("2026-03-03", "10:00")),  # across the night
        (at("2026-03-02", "03:00"), 0.5, at("2026-03-02", "09:30")),  # before work
        (at("2026-03-06", "17:00"), 2, at("2026-03-09", "10:00")),  # across a weekend
        (at("2026-03-07", "10:00"), 1, at("2026-03-09", "10:00")),  # starts on a Saturday
        (at("2026-04-03", "17:30"), 2, at("2026-04-07", "10:30")),  # Qingming Sat-Mon
        (at("2026-02-13", "17:00"), 3, at("2026-02-14", "11:00")),  # 调休 Saturday works
        (at("2026-02-14", "17:00"), 3, at("2026-02-24", "11:00")),  # Spring Festival
        (at("2026-03-02", "09:00"), 16, at("2026-03-03", "18:00")),  # two full days
        (at("2026-03-02", "10:00"), 0, at("2026-03-02", "10:00")),
        (at("2026-03-07", "10:00"), 0, at("2026-03-07", "10:00")),  # zero hours: start itself
        # 01:00 UTC is 09:00 in Shanghai; the result is in the calendar's zone
        (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), 1.5, at("2026-03-02", "10:30")),
    ],
)
def test_add_working_hours(start: datetime, hours: float, expected: datetime) -> None:
    result = CAL.add_working_hours(start, hours)
    assert result == expected
    assert result.tzinfo == SH


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (at("2026-03-02", "09:00"), at("2026-03-02", "18:00"), 8.0),
        (at("2026-03-02", "11:30"), at("2026-03-02", "13:30"), 1.0),
        (at("2026-03-06", "17:00"), at("2026-03-09", "10:00"), 2.0),
        (at("2026-04-03", "00:00"), at("2026-04-08", "00:00"), 16.0),  # Fri + Tue: Qingming
        (at("2026-03-07", "08:00"), at("2026-03-08", "23:00"), 0.0),  # a weekend
        (at("2026-03-02", "12:00"), at("2026-03-02", "09:00"), 0.0),  # b before a
        (at("2026-03-02", "12:15"), at("2026-03-02", "12:45"), 0.0),  # inside lunch
    ],
)
def test_working_hours_between(a: datetime, b: datetime, expected: float) -> None:
    assert CAL.working_hours_between(a, b) == pytest.approx(expected)


def test_month_spans_are_fast() -> None:
    start = at("2025-01-02", "10:00")
    began = clock.perf_counter()
    end = CAL.add_working_hours(start, 2000)
    hours = CAL.working_hours_between(at("2025-01-01"), at("2027-01-01"))
    assert clock.perf_counter() - began < 0.5
    assert CAL.working_hours_between(start, end) == pytest.approx(2000)
    # 2025: 261 weekdays - 18 weekday holidays + 5 working weekends = 248
    # 2026: 261 weekdays - 19 weekday holidays + 6 working weekends = 248
    assert hours == pytest.approx(8 * (248 + 248))


def test_continuous_calendar_counts_natural_time() -> None:
    always = WorkCalendar.continuous()
    start = at("2026-04-03", "17:30")
    assert always.add_working_hours(start, 48) == at("2026-04-05", "17:30")
    assert always.working_hours_between(start, at("2026-04-04", "17:30")) == 24.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: CAL.add_working_hours(datetime(2026, 3, 2, 9), 1),
        lambda: CAL.working_hours_between(datetime(2026, 3, 2, 9), at("2026-03-03")),
        lambda: CAL.add_working_hours(at("2026-03-02"), -1),
        lambda: CAL.add_working_hours(at("2026-03-02"), float("nan")),
        lambda: CAL.add_working_hours(at("2026-03-02"), 1e9),
        lambda: WorkCalendar(periods=()),
        lambda: WorkCalendar(periods=((time(13), time(18)), (time(9), time(12)))),
        lambda: WorkCalendar(periods=((time(9), time(9)),)),
        lambda: WorkCalendar(tz="Mars/Olympus"),
        lambda: WorkCalendar(workweek=()),
        lambda: WorkCalendar.from_records([{"date": "2026-13-01", "is_workday": "0"}]),
        lambda: WorkCalendar.from_records([{"date": "2026-01-01", "is_workday": "no"}]),
        lambda: WorkCalendar.from_records(
            [{"date": "2026-01-01", "is_workday": "0"}, {"date": "2026-01-01", "is_workday": "1"}]
        ),
    ],
)
def test_invalid_input_is_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(InvalidInput):
        call()


def test_naive_datetime_message_asks_for_an_offset() -> None:
    with pytest.raises(InvalidInput, match=r"2026-03-02T09:00:00 has no time zone.*\+08:00"):
        CAL.add_working_hours(datetime(2026, 3, 2, 9), 1)


# -- properties -------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SH)
).map(lambda d: d.replace(microsecond=0))
hours = st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False)


def _in_working_time(moment: datetime) -> bool:
    """On a working day, inside a period, ends included (a deadline may be 12:00)."""
    local = moment.astimezone(SH)
    clock_time = local.time()
    return CAL.is_workday(local.date()) and any(
        begin <= clock_time <= end for begin, end in CAL.periods
    )


@settings(max_examples=150, deadline=None)
@given(starts, hours)
def test_between_inverts_add(start: datetime, h: float) -> None:
    assert CAL.working_hours_between(start, CAL.add_working_hours(start, h)) == pytest.approx(
        h, abs=1e-6
    )


@settings(max_examples=150, deadline=None)
@given(starts, hours, hours)
def test_add_is_monotone(start: datetime, h1: float, h2: float) -> None:
    low, high = sorted((h1, h2))
    assert CAL.add_working_hours(start, low) <= CAL.add_working_hours(start, high)


@settings(max_examples=150, deadline=None)
@given(starts, hours.filter(lambda h: h > 0))
def test_add_lands_in_working_time(start: datetime, h: float) -> None:
    assert _in_working_time(CAL.add_working_hours(start, h))


@settings(max_examples=100, deadline=None)
@given(starts, starts, starts)
def test_between_is_additive(a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    total = CAL.working_hours_between(a, c)
    parts = CAL.working_hours_between(a, b) + CAL.working_hours_between(b, c)
    assert total == pytest.approx(parts, abs=1e-6)
    assert total <= (c - a) / timedelta(hours=1)
