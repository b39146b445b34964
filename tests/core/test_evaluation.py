"""Evaluation (考核) on hand-built histories: deadlines, per-case facts, the KPI formulas.

Every expected figure is worked out here by hand from the rules in the module
docstring. Most cases run on natural time with the limits of a grid-level
matter such as CG01 (dispatch 0.5 h, accept 1 h, handle 4 h, verify 8 h), so
the whole loop is 0.5 + 1 + 4 + 8 (handled) + 8 (verified) = 21.5 h for a
yellow case, half of it orange, a quarter red. Town cases run on the demo
calendar (09:00-12:00, 13:00-18:00, Monday to Friday, holidays.csv).
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.errors import InvalidInput
from gridsvc.core.evaluation import (
    CaseFacts,
    Period,
    ScoreWeights,
    TownWeights,
    bottom_up,
    case_facts,
    case_row,
    closure_deadline,
    earliest_report,
    kpi_table,
    loop_hours,
    totals,
)
from gridsvc.core.routing import StepLimits
from gridsvc.core.workflow import TRANSITIONS, Colour, Status, allowed_actions
from gridsvc.core.worktime import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS = Path(__file__).parents[2] / "data" / "demo" / "holidays.csv"
with HOLIDAYS.open(encoding="utf-8", newline="") as _f:
    CAL = WorkCalendar.from_records(csv.DictReader(_f))
NAT = WorkCalendar.continuous()
GRID = StepLimits(dispatch_h=0.5, accept_h=1, handle_h=4, verify_h=8)  # loop 21.5 h
TOWN = StepLimits(dispatch_h=1, accept_h=2, handle_h=8, verify_h=4)  # loop 19 h
YELLOW, ORANGE, RED = Colour.YELLOW, Colour.ORANGE, Colour.RED


def t(when: str) -> datetime:
    """A Shanghai time in 2026 written "MM-DD HH:MM" (or with seconds)."""
    return datetime.fromisoformat(f"2026-{when.replace(' ', 'T')}").replace(tzinfo=SH)


def history(*rows: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Events from (action, status after, "MM-DD HH:MM"[, data]); each starts where the last ended."""
    events, status = [], None
    for action, to, when, *data in rows:
        events.append(
            {
                "action": action,
                "from_status": status,
                "to_status": to,
                "at": t(when),
                "data": data[0] if data else {},
            }
        )
        status = to
    return events


def loop(day: str, *times: str) -> list[tuple[str, str, str]]:
    """The plain loop on one day: report, dispatch, accept, handle, verify, close at ``times``."""
    steps = ["reported", "dispatched", "accepted", "handled", "verified", "closed"]
    actions = ["report", "dispatch", "accept", "handle", "verify", "close"]
    return [(a, s, f"{day} {hhmm}") for a, s, hhmm in zip(actions, steps, times, strict=False)]


# ---- the closure deadline ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "limits", "reported", "colour", "expected"),
    [
        (NAT, GRID, "03-02 09:00", YELLOW, "03-03 06:30"),  # 21.5 h
        (NAT, GRID, "03-02 09:00", ORANGE, "03-02 19:45"),  # 10.75 h
        (NAT, GRID, "03-02 09:00", RED, "03-02 14:22:30"),  # 5.375 h
        # 19 working hours from Monday 09:00: Monday 8, Tuesday 8, Wednesday 09:00-12:00
        (CAL, TOWN, "03-02 09:00", YELLOW, "03-04 12:00"),
        # Friday before Qingming (Sat 04-04 .. Mon 04-06 off): Fri 1 h, Tue 8, Wed 8, Thu 2
        (CAL, TOWN, "04-03 17:00", YELLOW, "04-09 11:00"),
        # red, 4.75 h: Fri 17-18, Tue 09-12 and 13:00-13:45
        (CAL, TOWN, "04-03 17:00", RED, "04-07 13:45"),
    ],
)
def test_closure_deadline(
    calendar: WorkCalendar, limits: StepLimits, reported: str, colour: Colour, expected: str
) -> None:
    assert closure_deadline(limits, t(reported), colour, calendar) == t(expected)


def test_loop_hours_count_the_verify_limit_twice() -> None:
    # handled waits on verification, verified waits on closure: both run the verify limit
    assert loop_hours(GRID) == 21.5
    assert loop_hours(TOWN) == 19


@pytest.mark.parametrize("start", ["03-02 00:00", "02-25 00:00", "04-08 00:00", "10-09 00:00"])
@pytest.mark.parametrize("hours", [21.5, 173.0])
def test_earliest_report_is_safe_and_at_most_a_day_early(start: str, hours: float) -> None:
    earliest = earliest_report(t(start), hours, CAL)
    # reported at that time, even the longest loop is due before the period starts...
    assert CAL.add_working_hours(earliest, hours) < t(start)
    assert NAT.add_working_hours(earliest, hours) < t(start)
    # ...while a day later it could still be due in it
    assert CAL.add_working_hours(earliest + timedelta(days=1), hours) >= t(start)


def test_earliest_report_refuses_a_calendar_without_working_time() -> None:
    never = WorkCalendar(
        {(t("03-02 00:00") - timedelta(days=i)).date(): False for i in range(4000)}
    )
    with pytest.raises(InvalidInput, match="no 10 working hours"):
        earliest_report(t("03-02 00:00"), 10, never)


# ---- facts of one case ---------------------------------------------------------------------

AS_OF = t("03-10 00:00")
ON_TIME = loop("03-02", "09:00", "09:05", "09:30", "11:00", "12:00", "12:30")


def test_a_case_closed_on_time() -> None:
    facts = case_facts(history(*ON_TIME), YELLOW, GRID, NAT, AS_OF)
    assert facts.deadline == t("03-03 06:30")
    assert (facts.status, facts.closed_at, facts.on_time) == (Status.CLOSED, t("03-02 12:30"), True)
    assert facts.hours_to_dispatch == pytest.approx(5 / 60)
    assert (facts.hours_to_handle, facts.hours_to_close) == (2.0, 3.5)
    assert (facts.overdue_steps, facts.colour) == (0, YELLOW)
    assert (facts.deferred, facts.handled, facts.reopened, facts.escalated_to) == (
        False,
        True,
        False,
        None,
    )


def test_a_case_closed_late_climbs_and_is_not_on_time() -> None:
    late = loop("03-02", "10:00", "10:20", "10:40")
    late += [
        ("handle", "handled", "03-03 08:00"),  # accepted 21 h 20 min against 4 h: orange
        ("verify", "verified", "03-03 09:00"),  # 1 h against 4 h (orange): fine
        ("close", "closed", "03-03 10:00"),
    ]
    facts = case_facts(history(*late), YELLOW, GRID, NAT, AS_OF)
    assert facts.deadline == t("03-03 07:30")
    assert facts.closed_at == t("03-03 10:00") and not facts.on_time
    assert (facts.overdue_steps, facts.colour) == (1, ORANGE)
    assert (facts.hours_to_handle, facts.hours_to_close) == (22.0, 24.0)


@pytest.mark.parametrize(
    ("deferred_at", "counts"),
    [("03-02 10:00", True), ("03-03 06:30", True), ("03-03 06:31", False)],
)
def test_a_deferral_counts_only_by_the_closure_deadline(deferred_at: str, counts: bool) -> None:
    rows = [
        ("report", "reported", "03-02 09:00"),
        ("dispatch", "dispatched", "03-02 09:10"),
        ("defer", "dispatched", deferred_at, {"reason": "等待法院裁定"}),
        ("accept", "accepted", "03-03 08:00"),
    ]
    facts = case_facts(history(*rows), YELLOW, GRID, NAT, AS_OF)
    assert facts.deadline == t("03-03 06:30")
    assert facts.deferred is counts
    assert facts.status is Status.ACCEPTED


def test_a_deferral_does_not_restart_the_step_clock() -> None:
    rows = [
        ("report", "reported", "03-02 09:00"),
        ("dispatch", "dispatched", "03-02 09:10"),
        ("defer", "dispatched", "03-02 10:00", {"reason": "雨天无法施工"}),
        ("accept", "accepted", "03-02 10:30"),  # 80 min after dispatch against 60: late
    ]
    facts = case_facts(history(*rows), YELLOW, GRID, NAT, t("03-02 10:31"))
    assert (facts.overdue_steps, facts.colour) == (1, ORANGE)


REWORK = [
    *loop("03-02", "09:00", "09:10", "09:20", "10:00", "10:30", "11:00"),
    ("reopen", "reopened", "03-02 14:00", {"reason": "摊贩又回来了"}),
    ("dispatch", "dispatched", "03-02 14:10"),
    ("accept", "accepted", "03-02 14:20"),
    ("handle", "handled", "03-02 15:00"),
    ("verify", "verified", "03-02 15:30"),
    ("close", "closed", "03-02 16:00"),
]


def test_a_reworked_case_is_judged_by_its_last_closure() -> None:
    facts = case_facts(history(*REWORK), YELLOW, GRID, NAT, AS_OF)
    assert facts.reopened and facts.on_time
    assert facts.closed_at == t("03-02 16:00")
    assert (facts.hours_to_handle, facts.hours_to_close) == (1.0, 7.0)  # first handle, last close


def test_a_reopened_case_not_yet_closed_again_is_not_closed() -> None:
    facts = case_facts(history(*REWORK), YELLOW, GRID, NAT, t("03-02 14:15"))
    assert facts.status is Status.DISPATCHED and facts.reopened
    assert (facts.closed_at, facts.on_time, facts.hours_to_close) == (None, False, None)


def test_events_after_as_of_are_not_seen() -> None:
    facts = case_facts(history(*ON_TIME), YELLOW, GRID, NAT, t("03-02 12:00"))
    assert facts.status is Status.VERIFIED
    assert (facts.closed_at, facts.hours_to_close, facts.hours_to_handle) == (None, None, 2.0)


@pytest.mark.parametrize(
    ("rows", "reopen_count", "as_of", "reopened"),
    [
        (ON_TIME, 0, AS_OF, False),
        (ON_TIME, 1, AS_OF, True),  # imported: only the count came with the case
        (REWORK, 1, t("03-02 13:00"), False),  # its one reopen is recorded, and later
        (REWORK, 1, AS_OF, True),
    ],
)
def test_reopened_from_events_or_an_imported_count(
    rows: list[tuple[str, ...]], reopen_count: int, as_of: datetime, reopened: bool
) -> None:
    assert case_facts(history(*rows), YELLOW, GRID, NAT, as_of, reopen_count).reopened is reopened


def test_an_escalated_case_names_the_county_bureau_and_counts_as_dispatched() -> None:
    rows = [
        ("report", "reported", "03-02 09:00"),
        ("escalate", "escalated", "03-02 09:20", {"department": "X06"}),
        ("accept", "accepted", "03-02 10:00"),
    ]
    facts = case_facts(history(*rows), YELLOW, TOWN, CAL, AS_OF)
    assert facts.escalated_to == "X06"
    assert facts.hours_to_dispatch == pytest.approx(20 / 60)
    assert facts.deadline == t("03-04 12:00")


def test_a_case_without_events_by_as_of_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no event by"):
        case_facts(history(*ON_TIME), YELLOW, GRID, NAT, t("03-01 00:00"))


# ---- due, and a case's share of the counts -------------------------------------------------


def facts(
    deadline: str,
    closed: str | None = None,
    *,
    reported: str = "03-02 09:00",
    status: Status | None = None,
    colour: Colour = YELLOW,
    overdue_steps: int = 0,
    deferred: bool = False,
    handled: bool | None = None,
    reopened: bool = False,
    hours: tuple[float | None, float | None, float | None] = (None, None, None),
) -> CaseFacts:
    """Facts written out directly, to test the counting apart from reading histories."""
    return CaseFacts(
        reported_at=t(reported),
        deadline=t(deadline),
        status=status or (Status.CLOSED if closed else Status.ACCEPTED),
        colour=colour,
        overdue_steps=overdue_steps,
        deferred=deferred,
        handled=bool(closed) if handled is None else handled,
        reopened=reopened,
        closed_at=t(closed) if closed else None,
        escalated_to=None,
        hours_to_dispatch=hours[0],
        hours_to_handle=hours[1],
        hours_to_close=hours[2],
    )


START, END = t("03-02 00:00"), t("03-09 00:00")


@pytest.mark.parametrize(
    ("case", "due"),
    [
        (facts("03-02 00:00", "03-01 23:00"), True),  # the deadline on the start is in
        (facts("03-08 23:59", "03-03 12:00"), True),
        (facts("03-09 00:00", "03-03 12:00"), False),  # on the end is out
        (facts("03-01 23:59", "03-01 12:00"), False),
        (facts("03-03 06:30", status=Status.CANCELLED), False),
        (facts("03-03 06:30", status=Status.DUPLICATE), False),
        (facts("03-03 06:30", status=Status.REOPENED), True),
    ],
)
def test_due_means_the_closure_deadline_falls_in_the_period(case: CaseFacts, due: bool) -> None:
    assert case_row(case, START, END)["due"] is due


# ---- per group: the formulas ---------------------------------------------------------------

#: One team's week (2026-03-02 .. 03-08, read as of 03-09 00:00), worked out by hand.
WEEK = {
    "A on time": facts("03-03 06:30", "03-02 12:30", hours=(0.25, 2, 3.5)),
    "B late": facts(
        "03-03 07:30", "03-03 10:00", colour=ORANGE, overdue_steps=1, hours=(1 / 3, 22, 24)
    ),
    "C deferred, late": facts(
        "03-03 06:30",
        "03-04 12:00",
        deferred=True,
        colour=RED,
        overdue_steps=2,
        hours=(0.1, 25, 27),
    ),
    "D deferred, on time": facts("03-03 06:30", "03-02 18:00", deferred=True, hours=(0.5, 4, 9)),
    "E open past its deadline": facts(
        "03-04 06:30", colour=ORANGE, overdue_steps=1, hours=(0.2, None, None)
    ),
    "F cancelled": facts("03-03 06:30", status=Status.CANCELLED, hours=(0.1, None, None)),
    "G reported, due after the week": facts(
        "03-09 17:30", reported="03-08 20:00", hours=(0.1, None, None)
    ),
    "H reported before the week, due in it": facts(
        "03-02 03:00", "03-02 01:00", reported="03-01 05:30", hours=(1, 2, 19.5)
    ),
    "I reworked, on time": facts("03-05 06:30", "03-04 16:00", reopened=True, hours=(0.4, 1, 7)),
}


def week_table(**kwargs: Any) -> dict[str, Any]:
    rows = [case_row(case, START, END) for case in WEEK.values()]
    table = kpi_table(["WS01"] * len(rows), rows, **kwargs)
    assert list(table["key"]) == ["WS01"]
    return table.iloc[0].to_dict()


def test_counts_of_a_week() -> None:
    row = week_table()
    assert row["reported"] == 8  # all but H
    assert row["due"] == 7  # A B C D E H I
    assert row["deferred"] == 2  # C D
    assert row["closed"] == 6  # A B C D H I
    assert row["closed_on_time"] == 3  # A H I: B is late, C and D are deferred
    assert row["handled"] == 6 and row["reopened"] == 1
    assert row["overdue"] == 3  # B C E
    assert row["open_late"] == 1  # E
    assert (row["yellow"], row["orange"], row["red"]) == (4, 2, 1)


def test_on_time_rate_takes_deferred_cases_out_of_the_denominator() -> None:
    row = week_table()
    assert row["on_time_rate"] == pytest.approx(3 / (7 - 2))
    assert row["completion_rate"] == pytest.approx(6 / 7)
    assert row["rework_rate"] == pytest.approx(1 / 6)
    # 100 x (0.5 x 0.6 + 0.3 x 6/7 + 0.2 x 5/6)
    assert row["score"] == pytest.approx(72.38)


def test_medians_are_over_the_due_cases_that_got_that_far() -> None:
    row = week_table()
    # to dispatch: A .25, B 1/3, C .1, D .5, E .2, H 1, I .4 -> .1 .2 .25 .333 .4 .5 1
    assert row["median_hours_to_dispatch"] == pytest.approx(1 / 3)
    # to handling: A 2, B 22, C 25, D 4, H 2, I 1 -> 1 2 2 4 22 25
    assert row["median_hours_to_handle"] == pytest.approx(3.0)
    # to closure: A 3.5, B 24, C 27, D 9, H 19.5, I 7 -> 3.5 7 9 19.5 24 27
    assert row["median_hours_to_close"] == pytest.approx(14.25)


def test_score_weights_are_configurable_and_checked() -> None:
    row = week_table(weights=ScoreWeights(on_time=1.0, completion=0.0, rework=0.0))
    assert row["score"] == pytest.approx(60.0)
    with pytest.raises(InvalidInput, match="add up to 1"):
        ScoreWeights(0.5, 0.5, 0.5)
    with pytest.raises(InvalidInput, match="≥ 0"):
        ScoreWeights(1.2, -0.2, 0.0)


def test_a_group_without_due_cases_has_no_rates_and_no_rank() -> None:
    only_reported = case_row(facts("03-09 17:30", reported="03-08 20:00"), START, END)
    row = kpi_table(["WS09"], [only_reported], min_cases=1).iloc[0]
    assert (row["reported"], row["due"]) == (1, 0)
    assert all(math.isnan(row[name]) for name in ("on_time_rate", "completion_rate", "score"))
    assert row["rank"] is pd.NA and not row["ranked"]


def test_groups_without_a_case_in_the_period_are_left_out() -> None:
    before = case_row(facts("03-01 12:00", "03-01 11:00", reported="02-28 09:00"), START, END)
    assert kpi_table(["WS01"], [before]).empty


# ---- ranking -------------------------------------------------------------------------------


def team(on_time: int, late: int = 0) -> list[dict[str, Any]]:
    cases = [facts("03-03 06:30", "03-02 12:00")] * on_time
    cases += [facts("03-03 06:30", "03-03 12:00")] * late
    return [case_row(case, START, END) for case in cases]


def ranking(teams: dict[str | None, list[dict[str, Any]]], min_cases: int) -> list[tuple]:
    keys = [key for key, rows in teams.items() for _ in rows]
    rows = [row for team_rows in teams.values() for row in team_rows]
    table = kpi_table(keys, rows, min_cases=min_cases)
    return [
        (r.key, None if r.rank is pd.NA else int(r.rank), r.score, r.due)
        for r in table.itertuples()
    ]


def test_a_team_under_the_minimum_is_shown_but_not_ranked() -> None:
    teams = {
        "WS01": team(12),  # 100
        "WS02": team(9, 1),  # on time 0.9, completion 1, no rework: 95
        "WS03": team(2),  # 100, but only two cases
        "WS04": team(9, 1),  # 95, a tie with WS02
        "WS05": team(7, 3),  # 85
        None: team(20),  # cases without a team (town cases) are never ranked
    }
    assert ranking(teams, min_cases=10) == [
        ("WS01", 1, 100.0, 12),
        ("WS02", 2, 95.0, 10),
        ("WS04", 2, 95.0, 10),
        ("WS05", 4, 85.0, 10),
        ("WS03", None, 100.0, 2),
        (None, None, 100.0, 20),
    ]


def test_with_a_minimum_of_one_the_small_team_is_ranked_too() -> None:
    ranks = ranking({"WS01": team(12), "WS03": team(2), "WS05": team(7, 3)}, min_cases=1)
    assert [(key, rank) for key, rank, _, _ in ranks] == [("WS01", 1), ("WS03", 1), ("WS05", 3)]


def test_min_cases_must_be_positive() -> None:
    with pytest.raises(InvalidInput, match="min_cases"):
        kpi_table([], [], min_cases=0)


def test_totals_cover_every_group() -> None:
    rows = team(12) + team(9, 1) + team(2)
    total = totals(rows).iloc[0]
    assert (total["due"], total["closed_on_time"]) == (24, 23)
    assert total["on_time_rate"] == pytest.approx(23 / 24)
    assert totals([]).iloc[0]["due"] == 0 and math.isnan(totals([]).iloc[0]["on_time_rate"])


# ---- the period ----------------------------------------------------------------------------


def test_a_period_is_read_as_of_its_end_or_now() -> None:
    period = Period(START, END)
    assert period.as_of(t("06-01 00:00")) == END  # over: later events are not seen
    assert period.as_of(t("03-04 10:00")) == t("03-04 10:00")  # running
    assert period.as_of(t("01-01 00:00")) == START  # not begun


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        (START, START, "end after it starts"),
        (END, START, "end after it starts"),
        (START, START + timedelta(days=367), "at most 366 days"),
        (datetime(2026, 3, 2), END, "no time zone"),
    ],
)
def test_a_bad_period_is_refused(start: datetime, end: datetime, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        Period(start, end)


# ---- bottom-up scoring of departments -----------------------------------------------------

KINDS = {
    "X01": "county",
    "D07": "on_call",
    "D02": "stationed",
    "D12": "town_office",
    "D01": "enforcement",
}


def departments(score: float = 80.0) -> pd.DataFrame:
    """A department table where every department has the town score ``score``."""
    return pd.DataFrame({"key": list(KINDS), "score": [score] * len(KINDS)})


def test_overall_score_weighs_the_town_and_the_line() -> None:
    lines = {"X01": 90.0, "D07": 60.0, "D02": 50.0}
    table = bottom_up(departments(), KINDS, TownWeights(), lines).set_index("key")
    assert table.loc["X01", "overall_score"] == pytest.approx(0.3 * 80 + 0.7 * 90)  # 87
    assert table.loc["D07", "overall_score"] == pytest.approx(0.3 * 80 + 0.7 * 60)  # 66
    assert table.loc["D02", "overall_score"] == pytest.approx(0.6 * 80 + 0.4 * 50)  # 68
    assert list(table["town_weight"].fillna(-1)) == [0.3, 0.3, 0.6, -1, -1]


def test_without_a_line_score_the_overall_score_is_missing() -> None:
    table = bottom_up(departments(), KINDS, TownWeights()).set_index("key")
    assert table["overall_score"].isna().all()
    assert table.loc["X01", "score"] == 80.0  # the town's part is still shown


def test_the_town_may_weigh_more_than_the_minimum() -> None:
    table = bottom_up(departments(), KINDS, TownWeights(county=0.5, stationed=1.0), {"X01": 90})
    assert table.set_index("key").loc["X01", "overall_score"] == pytest.approx(85.0)


@pytest.mark.parametrize(
    ("county", "stationed"), [(0.29, 0.6), (0.3, 0.59), (1.01, 0.6), (0.3, 1.5)]
)
def test_town_weights_below_the_minimums_are_refused(county: float, stationed: float) -> None:
    with pytest.raises(InvalidInput, match="must be between"):
        TownWeights(county, stationed)


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ({"D12": 80.0}, "town's own"),
        ({"D01": 80.0}, "town's own"),
        ({"X99": 80.0}, "no such department"),
        ({"X01": 101.0}, "between 0 and 100"),
        ({"X01": float("nan")}, "between 0 and 100"),
    ],
)
def test_bad_line_scores_are_refused(lines: dict[str, float], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        bottom_up(departments(), KINDS, TownWeights(), lines)


# ---- properties ----------------------------------------------------------------------------

STATUSES = [Status.CLOSED, Status.ACCEPTED, Status.REOPENED, Status.CANCELLED, Status.DUPLICATE]
minutes = st.integers(min_value=-3 * 24 * 60, max_value=10 * 24 * 60)
hours = st.one_of(st.none(), st.floats(min_value=0, max_value=500))


@st.composite
def any_facts(draw: st.DrawFn) -> CaseFacts:
    reported = START + timedelta(minutes=draw(minutes))
    deadline = reported + timedelta(minutes=draw(st.integers(1, 5 * 24 * 60)))
    status = draw(st.sampled_from(STATUSES))
    closed = reported + timedelta(minutes=draw(minutes)) if status is Status.CLOSED else None
    return CaseFacts(
        reported_at=reported,
        deadline=deadline,
        status=status,
        colour=draw(st.sampled_from(list(Colour))),
        overdue_steps=draw(st.integers(0, 4)),
        deferred=draw(st.booleans()),
        handled=draw(st.booleans()),
        reopened=draw(st.booleans()),
        closed_at=closed,
        escalated_to=None,
        hours_to_dispatch=draw(hours),
        hours_to_handle=draw(hours),
        hours_to_close=draw(hours),
    )


@settings(max_examples=150, deadline=None)
@given(
    cases=st.lists(st.tuples(st.sampled_from(["WS01", "WS02", None]), any_facts()), max_size=40),
    min_cases=st.integers(1, 5),
)
def test_counts_nest_rates_stay_in_range_and_ranks_follow_scores(
    cases: list[tuple[str | None, CaseFacts]], min_cases: int
) -> None:
    table = kpi_table([k for k, _ in cases], [case_row(f, START, END) for _, f in cases], min_cases)
    for row in table.to_dict(orient="records"):
        assert row["closed_on_time"] <= row["closed"] <= row["due"]
        assert row["closed_on_time"] <= row["due"] - row["deferred"]
        assert row["reopened"] <= row["handled"] <= row["due"]
        assert row["open_late"] + row["closed"] <= row["due"]
        assert row["yellow"] + row["orange"] + row["red"] == row["due"]
        for rate in ("on_time_rate", "completion_rate", "rework_rate"):
            assert math.isnan(row[rate]) or 0 <= row[rate] <= 1
        assert math.isnan(row["score"]) or 0 <= row["score"] <= 100
        if row["ranked"]:
            assert row["due"] >= min_cases and isinstance(row["key"], str)
    ranked = table[table["ranked"]]
    assert list(ranked["score"]) == sorted(ranked["score"], reverse=True)
    assert list(ranked["rank"]) == [1 + sum(ranked["score"] > s) for s in ranked["score"]]


@st.composite
def walks(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A history any sequence of allowed actions could leave, minutes to days apart."""
    status, moment = Status.REPORTED, START + timedelta(minutes=draw(st.integers(0, 3000)))
    events = [{"action": "report", "from_status": None, "to_status": status, "at": moment}]
    for _ in range(draw(st.integers(0, 12))):
        actions = allowed_actions(status)
        if not actions:
            break
        action = draw(st.sampled_from(actions))
        target = TRANSITIONS[action].target or status
        moment += timedelta(minutes=draw(st.integers(0, 3000)))
        data = {"department": "X06"} if action == "escalate" else {}
        events.append(
            {
                "action": action,
                "from_status": status,
                "to_status": target,
                "at": moment,
                "data": data,
            }
        )
        status = target
    return events


@settings(max_examples=150, deadline=None)
@given(
    events=walks(),
    after=st.integers(0, 20 * 24 * 60),
    colour=st.sampled_from(list(Colour)),
    town=st.booleans(),
)
def test_facts_agree_with_the_history_they_come_from(
    events: list[dict[str, Any]], after: int, colour: Colour, town: bool
) -> None:
    as_of = events[0]["at"] + timedelta(minutes=after)
    got = case_facts(events, colour, TOWN if town else GRID, CAL if town else NAT, as_of)
    seen = [e for e in events if e["at"] <= as_of]
    assert got.status == seen[-1]["to_status"]
    assert (got.closed_at is not None) == (got.status is Status.CLOSED)
    assert got.deadline > got.reported_at == events[0]["at"]
    assert got.on_time <= (got.closed_at is not None and got.closed_at <= got.deadline)
    assert got.handled == any(e["action"] in ("handle", "fix") for e in seen)  # 自行处置 too
    assert got.reopened == any(e["action"] == "reopen" for e in seen)
    assert got.deferred <= any(e["action"] == "defer" for e in seen)
    assert list(Colour).index(got.colour) >= list(Colour).index(colour)  # colours only climb
    for name in ("hours_to_dispatch", "hours_to_handle", "hours_to_close"):
        value = getattr(got, name)
        assert value is None or 0 <= value <= (as_of - got.reported_at) / timedelta(hours=1)
    if got.hours_to_close is not None and got.hours_to_handle is not None:
        assert got.hours_to_handle <= got.hours_to_close
