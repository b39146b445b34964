"""The column-wise facts (evaluation_frame) against ``case_facts``, the rule they vectorise.

Random histories (any walk the state machine allows, with deferrals, escalations
naming a bureau or none, reopens, stored reopen counts, events after the period's
end) on random calendars (working periods, workweeks, holidays and make-up working
days, a zone with daylight saving time), read as of a random moment: every fact of
every case must be the scalar one, to the microsecond, and a history the scalar
function refuses must be refused the same way.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.evaluation import COUNTS, MEDIANS, case_facts, case_row
from gridsvc.core.evaluation_frame import (
    EVENT_COLUMNS,
    before_period,
    facts_frame,
    facts_of,
    micros,
    rows_frame,
)
from gridsvc.core.routing import StepLimits
from gridsvc.core.workflow import TRANSITIONS, Colour, Status, allowed_actions
from gridsvc.core.worktime import WorkCalendar, working_time

START = datetime(2026, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
HOURS = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1 / 3, 2.5, 4.0, 8.0, 24.0, 72.0])


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    """Working periods, a workweek, holidays and make-up days around March–April 2026."""
    cuts = sorted(draw(st.sets(st.integers(0, 48), min_size=2, max_size=6)))
    pairs = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    periods = [(_half_hour(a), _half_hour(b)) for a, b in pairs]
    workweek = draw(st.sets(st.integers(0, 6), min_size=1))
    days = draw(
        st.dictionaries(st.dates(date(2026, 2, 20), date(2026, 5, 1)), st.booleans(), max_size=20)
    )
    zone = draw(st.sampled_from(["Asia/Shanghai", "Asia/Shanghai", "Europe/Berlin"]))
    return WorkCalendar(days, periods, zone, workweek=workweek)


def _half_hour(n: int) -> time:
    return time(0) if n == 48 else time(n // 2, 30 * (n % 2))


@st.composite
def walks(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A history the state machine allows, seconds to days apart, reported at any hour."""
    status = Status.REPORTED
    moment = START + timedelta(seconds=draw(st.integers(0, 40 * 86400)))
    events = [
        {"action": "report", "from_status": None, "to_status": status, "at": moment, "data": {}}
    ]
    for _ in range(draw(st.integers(0, 12))):
        actions = allowed_actions(status)
        if not actions:
            break
        action = draw(st.sampled_from(actions))
        target = TRANSITIONS[action].target or status
        moment += timedelta(seconds=draw(st.sampled_from([0, 1, 60, 1800, 3600 * 7, 86400 * 3])))
        moment += timedelta(seconds=draw(st.integers(0, 86400)))
        data = {"department": draw(st.sampled_from(["X06", "X07", None, ""]))}
        events.append(
            {
                "action": action,
                "from_status": status,
                "to_status": target,
                "at": moment,
                "data": data if action == "escalate" else {},
            }
        )
        status = target
    return events


@st.composite
def district(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """Cases (colour, limits, clock, stored reopen count) and their histories."""
    n = draw(st.integers(1, 8))
    cases = [
        {
            "colour": draw(st.sampled_from(list(Colour))).value,
            "dispatch_h": draw(HOURS),
            "accept_h": draw(HOURS),
            "handle_h": draw(HOURS),
            "verify_h": draw(HOURS),
            "clock": draw(st.integers(0, 1)),
            "reopen_count": draw(st.integers(0, 2)),
        }
        for _ in range(n)
    ]
    return cases, [draw(walks()) for _ in range(n)]


def _frames(
    cases: list[dict[str, Any]], histories: list[list[dict[str, Any]]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    events = [
        {
            "case": i,
            "action": e["action"],
            "from_status": e["from_status"],
            "to_status": e["to_status"],
            "at": micros(e["at"]),
            "department": (e["data"] or {}).get("department"),
        }
        for i, history in enumerate(histories)
        for e in history
    ]
    return pd.DataFrame(cases), pd.DataFrame(events, columns=list(EVENT_COLUMNS))


def _clocks(calendar: WorkCalendar) -> list[WorkCalendar]:
    """A case's two clocks: the town's calendar, natural time in its zone (grid cases)."""
    return [calendar, WorkCalendar.continuous(calendar.tz.key)]


def _scalar(case: dict[str, Any], history: list[dict[str, Any]], clocks: Any, as_of: datetime):
    limits = StepLimits(case["dispatch_h"], case["accept_h"], case["handle_h"], case["verify_h"])
    return case_facts(
        history, Colour(case["colour"]), limits, clocks[case["clock"]], as_of, case["reopen_count"]
    )


@settings(max_examples=300, deadline=None)
@given(data=district(), calendar=calendars(), after=st.integers(0, 60 * 86400))
def test_the_columns_give_every_case_its_scalar_facts(
    data: tuple[list[dict[str, Any]], list[list[dict[str, Any]]]],
    calendar: WorkCalendar,
    after: int,
) -> None:
    cases, histories = data
    clocks, as_of = _clocks(calendar), START + timedelta(seconds=after)
    case_frame, event_frame = _frames(cases, histories)
    try:
        expected = [_scalar(c, h, clocks, as_of) for c, h in zip(cases, histories, strict=True)]
    except Exception as refused:  # the scalar rule refuses: the columns must refuse alike
        with pytest.raises(type(refused)):
            facts_frame(case_frame, event_frame, clocks, as_of)
        return
    got = facts_frame(case_frame, event_frame, clocks, as_of)
    assert [facts_of(got, i) for i in range(len(cases))] == expected
    start = as_of - timedelta(days=30)
    rows = rows_frame(got, start, as_of)
    for i, facts in enumerate(expected):
        want = case_row(facts, start, as_of)
        have = rows.iloc[i].to_dict()
        for name, value in want.items():
            assert (have[name] if value is not None else None) == value or (
                value is None and np.isnan(have[name])
            ), name


def test_events_out_of_time_order_are_refused_as_the_scalar_rule_does() -> None:
    history = [
        {"action": "report", "from_status": None, "to_status": "reported", "at": START},
        {
            "action": "dispatch",
            "from_status": "reported",
            "to_status": "dispatched",
            "at": START - timedelta(hours=1),
        },
    ]
    case = {"colour": "yellow", "dispatch_h": 1.0, "accept_h": 1.0, "handle_h": 1.0}
    case |= {"verify_h": 1.0, "clock": 0, "reopen_count": 0}
    case_frame, event_frame = _frames([case], [[e | {"data": {}} for e in history]])
    clocks = [WorkCalendar()]
    with pytest.raises(type(_refusal(case, history, clocks))):
        facts_frame(case_frame, event_frame, clocks, START + timedelta(days=1))


def _refusal(case: dict[str, Any], history: list[dict[str, Any]], clocks: Any) -> Exception:
    try:
        _scalar(case, [e | {"data": {}} for e in history], clocks, START + timedelta(days=1))
    except Exception as refused:
        return refused
    raise AssertionError("the scalar rule took a history out of time order")


@settings(max_examples=200, deadline=None)
@given(
    calendar=calendars(),
    seconds=st.lists(st.integers(0, 50 * 86400), min_size=1, max_size=5),
    hours=st.lists(HOURS, min_size=1, max_size=5),
)
def test_working_time_adds_as_the_calendar_does(
    calendar: WorkCalendar, seconds: list[int], hours: list[float]
) -> None:
    moments = [START + timedelta(seconds=s) for s in seconds]
    durations = [timedelta(hours=h) // timedelta(microseconds=1) for h in hours]
    pairs = [(m, h, d) for m in moments for h, d in zip(hours, durations, strict=True)]
    times = working_time(calendar, np.array([micros(m) for m in moments]), max(durations))
    if times is None:  # Berlin changes its offset in March: the caller walks day by day
        assert calendar.tz.key == "Europe/Berlin"
        return
    got = times.add(np.array([micros(m) for m, _, _ in pairs]), np.array([d for _, _, d in pairs]))
    assert list(got) == [micros(calendar.add_working_hours(m, h)) for m, h, _ in pairs]


@settings(max_examples=200, deadline=None)
@given(data=district(), calendar=calendars(), after=st.integers(0, 60 * 86400))
def test_cases_left_unread_before_the_period_count_nowhere(
    data: tuple[list[dict[str, Any]], list[list[dict[str, Any]]]],
    calendar: WorkCalendar,
    after: int,
) -> None:
    """What the service does not read (before_period) must be what case_row counts as 0."""
    cases, histories = data
    clocks, as_of = _clocks(calendar), START + timedelta(seconds=after)
    start = as_of - timedelta(days=10)
    case_frame, _ = _frames(cases, histories)
    reported = np.array([micros(h[0]["at"]) for h in histories], dtype="int64")
    early = before_period(case_frame, reported, clocks, start, as_of)
    for case, history, unread in zip(cases, histories, early, strict=True):
        if unread:
            row = case_row(_scalar(case, history, clocks, as_of), start, as_of)
            assert not any(row[name] for name in COUNTS)
            assert all(row[name] is None for name in MEDIANS)


def test_a_case_due_before_the_period_is_left_unread_and_one_due_in_it_is_not() -> None:
    natural = [WorkCalendar.continuous()]
    case = {"colour": "yellow", "dispatch_h": 1.0, "accept_h": 1.0, "handle_h": 1.0}
    case |= {"verify_h": 1.0, "clock": 0, "reopen_count": 0}  # a 5-hour loop
    frame = pd.DataFrame([case, case])
    reported = np.array([micros(START - timedelta(hours=6)), micros(START - timedelta(hours=4))])
    early = before_period(frame, reported, natural, START, START + timedelta(days=1))
    assert list(early) == [True, False]
