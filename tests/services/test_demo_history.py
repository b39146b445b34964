"""The demo's history as a user meets it: loaded on a given day, it ends the day before.

Issue 19, finding 7: the history ended on 2026-10-31 whatever the day, so the
dashboard's default period (the last full month) was empty and every open case
red; and a month read 124 of 132 due cases late at some step while 97.7 %
closed on time. Here the demo is loaded with today injected (2027-03-15, a
Monday, after the 2027 Spring Festival) and the last full month, February
2027, must read like the seeds (data/README.md states the aimed ranges).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from gridsvc.config import DEMO_DIR
from gridsvc.core.evaluation import case_facts
from gridsvc.core.workflow import Colour
from gridsvc.core.worktime import WorkCalendar
from gridsvc.services.case_rows import clock_for
from gridsvc.services.demo_history import Replay
from gridsvc.services.evaluation import EvaluationQuery, EvaluationService
from gridsvc.services.setup import load_demo, read_calendar, read_matters
from gridsvc.store import evaluation as store
from gridsvc.store import schema as s
from gridsvc.store.engine import make_engine, upgrade

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2027, 3, 15)
MONTH = (date(2027, 2, 1), date(2027, 2, 28))  # the last full month before TODAY
MIDNIGHT = datetime.combine(TODAY, time(0), tzinfo=TZ)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('history')) / 'g.db'}"
    upgrade(url)
    engine = make_engine(url)
    load_demo(engine, DEMO_DIR, history=True, say=lambda _: None, today=TODAY)
    return engine


@pytest.fixture(scope="module")
def month(engine: Engine) -> dict[str, float]:
    """The town's total for the last full month, read as the dashboard reads it."""
    service = EvaluationService.from_database(engine)
    service.clock = lambda: MIDNIGHT
    total = service.evaluate(EvaluationQuery(*MONTH)).total_row()
    due = total["due"]
    return {
        "due": due,
        "on_time": total["on_time_rate"],
        "late": total["overdue"] / due,
        "red": total["red"] / due,
        "rework": total["rework_rate"],
    }


def _local_days(engine: Engine, column: sa.Column) -> list[date]:
    with engine.connect() as conn:
        values = conn.execute(sa.select(column)).scalars()
        return [v.replace(tzinfo=v.tzinfo or UTC).astimezone(TZ).date() for v in values]


def test_the_history_ends_the_day_before_today(engine: Engine) -> None:
    reported = _local_days(engine, s.cases.c.created_at)
    assert max(reported) == TODAY - timedelta(days=1)
    assert min(reported) >= TODAY - timedelta(days=366)
    events = _local_days(engine, s.case_events.c.at)
    assert max(events) < TODAY  # nothing recorded from today on


def test_the_last_full_month_has_located_cases_for_the_hotspot_map(engine: Engine) -> None:
    start = datetime.combine(MONTH[0], time(0), tzinfo=TZ)
    end = datetime.combine(MONTH[1] + timedelta(days=1), time(0), tzinfo=TZ)
    query = sa.select(s.cases.c.lon, s.cases.c.lat, s.cases.c.grid_code).where(
        s.cases.c.created_at >= start, s.cases.c.created_at < end
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    assert len(rows) > 1000
    assert all(121 < lon < 122 and 31 < lat < 32 for lon, lat, _ in rows)
    assert len({grid for _, _, grid in rows}) == 14  # cases over every grid


def _open_colours(engine: Engine) -> list[Colour]:
    """The supervision's colour of every open case as of today's midnight."""
    with engine.connect() as conn:
        matters, calendar = read_matters(conn), read_calendar(conn)
        since = MIDNIGHT - timedelta(days=400)
        cases = store.cases_reported(conn, since, MIDNIGHT)
        events = list(store.events_of_cases_reported(conn, since, MIDNIGHT))
    natural = WorkCalendar.continuous()
    histories = {cid: list(evs) for cid, evs in groupby(events, itemgetter("case_id"))}
    colours = []
    for case in cases:
        facts = case_facts(
            histories[case["id"]],
            Colour(case["colour"]),
            matters.get(case["category"]).limits,
            clock_for(case["level"], calendar, natural),
            MIDNIGHT,
            case["reopen_count"],
        )
        if facts.status.value not in ("closed", "cancelled", "duplicate"):
            colours.append(facts.colour)
    return colours


def test_open_cases_are_recent_and_mostly_not_red(engine: Engine) -> None:
    colours = _open_colours(engine)
    assert 20 <= len(colours) <= 400  # the cases in progress at the cut, and a few waiting
    assert colours.count(Colour.RED) / len(colours) < 0.2
    assert colours.count(Colour.YELLOW) / len(colours) > 0.3


def test_the_last_full_month_reads_like_the_seeds(month: dict[str, float]) -> None:
    """The aimed ranges of data/README.md: most cases close within their limits."""
    assert month["due"] > 1000
    assert 0.95 <= month["on_time"] <= 0.99
    assert 0.01 <= month["late"] <= 0.07  # a few per cent late at some step
    assert month["red"] <= 0.06  # urgent cases start red (about 3 %); few climb to it
    assert 0.03 <= month["rework"] <= 0.065


def test_a_town_step_recorded_over_a_holiday_keeps_its_working_hours() -> None:
    """Recorded from Friday 16:00 to the Monday after a week of holidays: 3 working hours.
    Moved by 4 weeks onto ordinary days, the town step keeps its 3 working hours (it ends
    the next Monday at 10:00, not a week later); a grid step (natural time) is only moved."""
    holidays = {date(2026, 9, 21) + timedelta(days=i): False for i in range(5)}
    calendar = WorkCalendar(holidays)
    replay = Replay(timedelta(weeks=4), datetime(2027, 1, 1, tzinfo=TZ), calendar, tuple(holidays))
    reported = datetime(2026, 9, 18, 16, 0, tzinfo=TZ)
    dispatched = datetime(2026, 9, 28, 10, 0, tzinfo=TZ)
    assert calendar.working_hours_between(reported, dispatched) == 3
    assert replay.times([reported, dispatched], working=True) == [
        datetime(2026, 10, 16, 16, 0, tzinfo=TZ),
        datetime(2026, 10, 19, 10, 0, tzinfo=TZ),
    ]
    assert replay.times([reported, dispatched], working=False)[1] == datetime(
        2026, 10, 26, 10, 0, tzinfo=TZ
    )


def test_what_lies_after_the_cut_has_not_happened() -> None:
    calendar = WorkCalendar()
    replay = Replay.ending_yesterday(date(2026, 10, 31), date(2026, 11, 4), calendar)
    assert replay.shift == timedelta(weeks=1)  # 10-31 + 7 days: up to 6 days past yesterday
    report = datetime(2026, 10, 28, 9, 0, tzinfo=TZ)  # moved to 11-04 09:00, today
    assert replay.times([report], working=False) == [None]
    early = datetime(2026, 10, 27, 23, 0, tzinfo=TZ)
    later = datetime(2026, 10, 28, 1, 0, tzinfo=TZ)
    assert replay.times([early, later, None], working=False) == [
        early + timedelta(weeks=1),
        None,
        None,
    ]
