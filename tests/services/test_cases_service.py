"""CaseService with a clock the test controls: colour supervision read at any moment.

Deadlines are worked out here by hand from the responsibility list (CG01:
dispatch 0.5 h, accept 1 h; CG26: dispatch 0.25 h; CG12: dispatch 1 h; colour
factors yellow 1, orange 1/2, red 1/4). Grid-level (small-loop) cases run on
natural time (street teams work in shifts); town and county cases on the
demo calendar (09:00-12:00, 13:00-18:00, Monday to Friday, with the holidays
and adjusted workdays of holidays.csv). No job runs between reads: whatever a
read says is computed then.
"""

from __future__ import annotations

import collections
import threading
from datetime import datetime
from typing import Any

import pytest
from case_kit import DISPATCHER, INSIDE, PATROL, SH, Clock, service, submit
from sqlalchemy import Engine, text

from gridsvc.core.errors import Conflict, StaleVersion
from gridsvc.services.cases import CaseService, Report


def report(category: str = "CG01", **fields: Any) -> Report:
    return Report(lon=INSIDE[0], lat=INSIDE[1], crs="cgcs2000", category=category, **fields)


def supervision_at(svc: CaseService, clock: Clock, case_id: int, wall: str) -> dict[str, Any]:
    clock.set(wall)
    return svc.get(case_id)["supervision"]


def deadline(wall: str) -> str:
    return datetime.fromisoformat(wall).replace(tzinfo=SH).isoformat()


def test_case_left_in_reported_turns_overdue_and_climbs_without_any_job(
    svc: CaseService, clock: Clock, engine: Engine
) -> None:
    """Grid level (small loop): the street team works in shifts, so natural time runs."""
    clock.set("2025-06-09T09:00")  # a Monday
    case = submit(svc, report("CG01"), PATROL).body
    assert case["level"] == "grid"
    assert case["supervision"]["colour"] == "yellow"
    assert case["supervision"]["deadline"] == deadline("2025-06-09T09:30")

    s = supervision_at(svc, clock, case["id"], "2025-06-09T09:20")
    assert (s["colour"], s["overdue"], s["overdue_steps"]) == ("yellow", False, 0)
    assert s["hours_left"] == pytest.approx(10 / 60, abs=0.01)

    s = supervision_at(svc, clock, case["id"], "2025-06-09T09:45")
    assert (s["colour"], s["overdue"], s["overdue_steps"]) == ("orange", True, 1)
    assert s["hours_left"] == pytest.approx(-0.25, abs=0.01)
    assert s["deadline"] == deadline("2025-06-09T09:30")

    s = supervision_at(svc, clock, case["id"], "2025-06-10T09:30")  # the next morning
    assert (s["colour"], s["overdue"], s["overdue_steps"]) == ("orange", True, 1)
    assert s["hours_left"] == pytest.approx(-24.0, abs=0.01)

    # A service started afresh (a restart) reads the same state at the same moment.
    assert service(engine, clock).get(case["id"])["supervision"] == s

    # Dispatched late: the overrun stays on the record, the next step runs in orange (x 1/2).
    view = svc.act(case["id"], "dispatch", DISPATCHER, 1, {})
    s = view["supervision"]
    assert (s["colour"], s["overdue"], s["overdue_steps"]) == ("orange", False, 1)
    assert s["deadline"] == deadline("2025-06-10T10:00")  # accept: 1 h x 0.5
    s = supervision_at(svc, clock, case["id"], "2025-06-10T10:10")
    assert (s["colour"], s["overdue"], s["overdue_steps"]) == ("red", True, 2)
    s = supervision_at(svc, clock, case["id"], "2025-06-13T17:00")
    assert (s["colour"], s["overdue"], s["overdue_steps"]) == ("red", True, 2)  # red is the cap


def test_town_level_case_counts_working_hours_only(svc: CaseService, clock: Clock) -> None:
    clock.set("2025-06-09T11:30")
    case = submit(svc, report("CG12"), PATROL).body  # unlicensed business, dispatch 1 h
    assert case["level"] == "town"
    assert case["supervision"]["deadline"] == deadline("2025-06-09T13:30")  # lunch skipped
    s = supervision_at(svc, clock, case["id"], "2025-06-09T12:50")
    assert (s["colour"], s["overdue"]) == ("yellow", False)
    assert s["hours_left"] == pytest.approx(0.5, abs=0.01)
    s = supervision_at(svc, clock, case["id"], "2025-06-09T13:40")
    assert (s["colour"], s["overdue"], s["overdue_steps"]) == ("orange", True, 1)
    s = supervision_at(svc, clock, case["id"], "2025-06-10T09:40")
    assert s["hours_left"] == pytest.approx(-(4.5 + 40 / 60), abs=0.01)  # 13:30-18:00, 09:00-09:40


def test_an_urgent_matter_starts_red_with_a_quarter_of_the_time(
    svc: CaseService, clock: Clock
) -> None:
    clock.set("2025-06-09T10:00")
    case = submit(svc, report("CG26"), PATROL).body  # missing manhole cover, severity 3
    assert case["supervision"]["colour"] == "red"
    assert case["supervision"]["deadline"] == deadline("2025-06-09T10:03:45")  # 0.25 h x 1/4
    s = supervision_at(svc, clock, case["id"], "2025-06-09T10:05")
    assert (s["colour"], s["overdue"], s["overdue_steps"]) == ("red", True, 1)


def test_severity_given_by_the_patrol_sets_the_colour(svc: CaseService, clock: Clock) -> None:
    clock.set("2025-06-09T14:00")
    case = submit(svc, report("CG01", severity=2), PATROL).body
    assert case["supervision"]["colour"] == "orange"
    assert case["supervision"]["deadline"] == deadline("2025-06-09T14:15")  # 0.5 h x 1/2


@pytest.mark.parametrize(
    ("reported", "due", "quiet", "late"),
    [
        # Friday evening: 10 minutes on Friday, 50 on Monday morning.
        ("2025-06-13T17:50", "2025-06-16T09:50", "2025-06-14T12:00", "2025-06-16T09:55"),
        # Before the National Day holidays (1-8 October): due the morning after them.
        ("2025-09-30T17:50", "2025-10-09T09:50", "2025-10-05T10:00", "2025-10-09T09:51"),
        # A Saturday before an adjusted working Sunday (调休, 28 September).
        ("2025-09-27T10:00", "2025-09-28T10:00", "2025-09-28T09:59", "2025-09-28T10:10"),
    ],
    ids=["weekend", "national-day", "adjusted-workday"],
)
def test_deadlines_count_working_hours_of_the_holiday_calendar(
    svc: CaseService, clock: Clock, reported: str, due: str, quiet: str, late: str
) -> None:
    clock.set(reported)
    case = submit(svc, report("CG12"), PATROL).body  # town level: dispatch 1 working hour
    assert case["supervision"]["deadline"] == deadline(due)
    s = supervision_at(svc, clock, case["id"], quiet)
    assert (s["colour"], s["overdue"]) == ("yellow", False)
    s = supervision_at(svc, clock, case["id"], late)
    assert (s["colour"], s["overdue"]) == ("orange", True)


def _race(n: int, work: Any) -> collections.Counter[str]:
    """Run ``work`` in ``n`` threads released together; count outcomes by name."""
    outcomes: collections.Counter[str] = collections.Counter()
    barrier = threading.Barrier(n)
    lock = threading.Lock()

    def run() -> None:
        barrier.wait(timeout=10)
        try:
            result = work()
        except Exception as exc:  # noqa: BLE001 - every outcome is counted
            result = type(exc).__name__
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_concurrent_dispatches_of_one_version_have_one_winner(
    svc: CaseService, clock: Clock, engine: Engine
) -> None:
    clock.set("2025-06-09T09:00")
    case_id = submit(svc, report("CG02"), PATROL).body["id"]

    def dispatch() -> str:
        svc.act(case_id, "dispatch", DISPATCHER, 1, {})
        return "ok"

    outcomes = _race(8, dispatch)
    assert outcomes == {"ok": 1, StaleVersion.__name__: 7}
    with engine.connect() as conn:
        events = conn.execute(
            text("SELECT count(*) FROM case_events WHERE case_id = :i"), {"i": case_id}
        ).scalar_one()
    assert events == 2 and svc.get(case_id)["etag"] == 2


def test_simultaneous_retries_with_one_key_create_one_case_and_no_error(
    svc: CaseService, clock: Clock, engine: Engine
) -> None:
    clock.set("2025-06-09T09:00")
    for round_ in range(6):
        key, ids = f"race-{round_}", set[int]()

        def retry(key: str = key, ids: set[int] = ids) -> str:
            answer = submit(svc, report("CG04", description=key), PATROL, key)
            ids.add(answer.body["id"])
            return str(answer.status_code)

        outcomes = _race(12, retry)
        assert set(outcomes) <= {"201", Conflict.__name__}, outcomes
        assert outcomes["201"] >= 1 and len(ids) == 1
