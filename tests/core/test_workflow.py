"""The case state machine (full matrix) and colour supervision on built histories."""

from __future__ import annotations

import csv
from datetime import datetime
from itertools import product
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridsvc.core.errors import Forbidden, IllegalTransition, InvalidInput, UnknownAction
from gridsvc.core.routing import StepLimits
from gridsvc.core.workflow import (
    COLOUR_FACTOR,
    TERMINAL,
    TRANSITIONS,
    Colour,
    Role,
    Status,
    Step,
    Supervision,
    actions_for,
    allowed_actions,
    check_level,
    colour_for,
    next_status,
    step_deadline,
    steps_from_history,
    supervise,
)
from gridsvc.core.worktime import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS = Path(__file__).parents[2] / "data" / "demo" / "holidays.csv"

# -- the transition matrix -----------------------------------------------------------------

# The specification, written out independently of the module's table:
# action: (from, to, roles); to None: the case keeps its status
D, H, L, A, P = "dispatcher", "handler", "leader", "admin", "patrol"
SPEC: dict[str, tuple[set[str], str | None, set[str]]] = {
    "dispatch": ({"reported", "returned", "reopened", "referred"}, "dispatched", {D, A}),
    "refer": ({"reported", "returned", "reopened"}, "referred", {D, A}),
    "send_back": ({"referred"}, "returned", {D, A}),
    "accept": ({"dispatched", "escalated"}, "accepted", {H}),
    "return": ({"dispatched", "accepted"}, "returned", {H}),
    "handle": ({"accepted"}, "handled", {H}),
    "fix": ({"reported"}, "handled", {P}),
    "verify": ({"handled"}, "verified", {D, A}),
    "reopen": ({"handled", "verified", "closed"}, "reopened", {D, L, A}),
    "close": ({"verified"}, "closed", {D, A}),
    "escalate": (
        {"reported", "dispatched", "accepted", "returned", "referred"},
        "escalated",
        {D, A},
    ),
    "duplicate": ({"reported", "dispatched", "referred"}, "duplicate", {D, A}),
    "cancel": ({"reported", "dispatched", "returned", "referred"}, "cancelled", {D, A}),
    "defer": ({"dispatched", "accepted", "escalated"}, None, {D, A}),
}
REQUIRES = {
    "refer": "reason",
    "send_back": "reason",
    "return": "reason",
    "handle": "result",
    "fix": "result",
    "reopen": "reason",
    "escalate": "department",
    "duplicate": "duplicate_of",
    "cancel": "reason",
    "defer": "reason",
}
FULL = {"reason": "not ours", "result": "stall removed", "duplicate_of": "C42", "department": "X06"}


def _expected(action: str, status: Status, role: Role) -> Status | type[Exception]:
    sources, target, roles = SPEC[action]
    if status not in sources:
        return IllegalTransition
    if role not in roles:
        return Forbidden
    return status if target is None else Status(target)


MATRIX = [
    pytest.param(
        action, status, role, _expected(action, status, role), id=f"{action}-{status}-{role}"
    )
    for action, status, role in product(SPEC, Status, Role)
]


def test_the_table_is_the_specification() -> None:
    assert set(TRANSITIONS) == set(SPEC)
    for action, (sources, target, roles) in SPEC.items():
        transition = TRANSITIONS[action]
        assert transition.sources == sources
        assert transition.target == (None if target is None else Status(target))
        assert transition.roles == roles
        assert transition.requires == ((REQUIRES[action],) if action in REQUIRES else ())


@pytest.mark.parametrize(("action", "status", "role", "expected"), MATRIX)
def test_transition_matrix(
    action: str, status: Status, role: Role, expected: Status | type[Exception]
) -> None:
    if isinstance(expected, Status):
        assert next_status(status, action, role, FULL) is expected
        assert action in allowed_actions(status, role)
    else:
        with pytest.raises(expected):
            next_status(status, action, role, FULL)
        assert action not in allowed_actions(status, role)


@pytest.mark.parametrize(("action", "field"), sorted(REQUIRES.items()))
@pytest.mark.parametrize("given", [None, {}, {"reason": ""}, "blank"])
def test_missing_required_field_is_named(action: str, field: str, given: object) -> None:
    sources, _, roles = SPEC[action]
    status, role = Status(sorted(sources)[0]), Role(sorted(roles)[0])
    fields = {field: "   "} if given == "blank" else given
    with pytest.raises(InvalidInput) as info:
        next_status(status, action, role, fields)  # type: ignore[arg-type]
    assert field in info.value.message
    assert info.value.extra["missing"] == [field]


def test_unknown_action_lists_the_actions() -> None:
    with pytest.raises(
        UnknownAction, match="'approve'; actions: accept, cancel, close, defer, dispatch"
    ):
        next_status(Status.REPORTED, "approve", Role.DISPATCHER)


def test_illegal_transition_names_state_and_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition) as info:
        next_status(Status.REPORTED, "close", Role.DISPATCHER)
    assert info.value.allowed == ["cancel", "dispatch", "duplicate", "escalate"]
    assert "reported" in info.value.message
    assert "cancel, dispatch, duplicate, escalate" in info.value.message


def test_forbidden_names_the_roles_that_may() -> None:
    with pytest.raises(
        Forbidden, match="patrol may not reopen; roles that may: admin, dispatcher, leader"
    ):
        next_status(Status.CLOSED, "reopen", Role.PATROL, FULL)


def test_state_is_checked_before_role_and_role_before_fields() -> None:
    # a patrol asking for an impossible step learns it is impossible: nothing it may do here
    with pytest.raises(IllegalTransition) as info:
        next_status(Status.CANCELLED, "dispatch", Role.PATROL)
    assert info.value.allowed == []
    # a handler trying to cancel without a reason is refused for the role, not the field
    with pytest.raises(Forbidden):
        next_status(Status.REPORTED, "cancel", Role.HANDLER)


@pytest.mark.parametrize(
    ("status", "role", "expected"),
    [
        (Status.REPORTED, None, ["cancel", "dispatch", "duplicate", "escalate", "fix", "refer"]),
        (Status.DISPATCHED, Role.HANDLER, ["accept", "return"]),
        (Status.DISPATCHED, None, ["accept", "cancel", "defer", "duplicate", "escalate", "return"]),
        (Status.ACCEPTED, Role.DISPATCHER, ["defer", "escalate"]),
        (Status.ESCALATED, Role.ADMIN, ["defer"]),
        (Status.ESCALATED, Role.HANDLER, ["accept"]),
        (Status.HANDLED, Role.LEADER, ["reopen"]),
        (Status.VERIFIED, Role.ADMIN, ["close", "reopen"]),
        (Status.CLOSED, None, ["reopen"]),
        (Status.DUPLICATE, None, []),
        (Status.CANCELLED, Role.ADMIN, []),
        (Status.REPORTED, Role.PATROL, ["fix"]),  # 自行处置, for grid-level cases only
        (Status.ACCEPTED, Role.PLANNER, []),
    ],
)
def test_allowed_actions(status: Status, role: Role | None, expected: list[str]) -> None:
    assert allowed_actions(status, role) == expected


@pytest.mark.parametrize("status", [Status.DISPATCHED, Status.ACCEPTED, Status.ESCALATED])
def test_a_deferral_keeps_the_status(status: Status) -> None:
    assert next_status(status, "defer", Role.DISPATCHER, {"reason": "等待法院裁定"}) is status


def test_admin_may_do_everything_a_dispatcher_may() -> None:
    for status in Status:
        dispatcher = set(allowed_actions(status, Role.DISPATCHER))
        assert dispatcher <= set(allowed_actions(status, Role.ADMIN))


# -- colours -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("colour", "steps", "expected"),
    [
        (Colour.YELLOW, 0, Colour.YELLOW),
        (Colour.YELLOW, 1, Colour.ORANGE),
        (Colour.YELLOW, 2, Colour.RED),
        (Colour.YELLOW, 7, Colour.RED),
        (Colour.ORANGE, 1, Colour.RED),
        (Colour.RED, 1, Colour.RED),
    ],
)
def test_colour_climbs_and_caps_at_red(colour: Colour, steps: int, expected: Colour) -> None:
    assert colour.climb(steps) is expected


@pytest.mark.parametrize(
    ("severity", "expected"),
    [(1, Colour.YELLOW), (2, Colour.ORANGE), (3, Colour.RED), (0, InvalidInput), (4, InvalidInput)],
)
def test_colour_for_severity(severity: int, expected: Colour | type[Exception]) -> None:
    if isinstance(expected, Colour):
        assert colour_for(severity) is expected
    else:
        with pytest.raises(expected):
            colour_for(severity)


def test_colour_does_not_climb_down() -> None:
    with pytest.raises(InvalidInput):
        Colour.ORANGE.climb(-1)


# -- deadlines and supervision -------------------------------------------------------------


def _demo_calendar() -> WorkCalendar:
    with HOLIDAYS.open(encoding="utf-8", newline="") as f:
        return WorkCalendar.from_records(csv.DictReader(f))


CAL = _demo_calendar()
LIMITS = StepLimits(dispatch_h=1, accept_h=2, handle_h=8, verify_h=4)


def at(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SH)


@pytest.mark.parametrize(
    ("status", "colour", "expected"),
    [
        (Status.REPORTED, Colour.YELLOW, "10:00"),  # dispatch limit, 1 h
        (Status.RETURNED, Colour.YELLOW, "10:00"),
        (Status.REOPENED, Colour.YELLOW, "10:00"),
        (Status.DISPATCHED, Colour.YELLOW, "11:00"),  # accept limit, 2 h
        (Status.ESCALATED, Colour.YELLOW, "11:00"),
        (Status.ACCEPTED, Colour.YELLOW, "18:00"),  # handle limit, 8 h over lunch
        (Status.HANDLED, Colour.YELLOW, "14:00"),  # verify limit, 4 h over lunch
        (Status.VERIFIED, Colour.YELLOW, "14:00"),
        (Status.ACCEPTED, Colour.ORANGE, "14:00"),  # half of 8 h
        (Status.ACCEPTED, Colour.RED, "11:00"),  # a quarter of 8 h
        (Status.DISPATCHED, Colour.RED, "09:30"),
    ],
)
def test_step_deadline(status: Status, colour: Colour, expected: str) -> None:
    deadline = step_deadline(LIMITS, status, at("2026-03-02", "09:00"), colour, CAL)
    assert deadline == at("2026-03-02", expected)


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_no_deadline_in_terminal_states(status: Status) -> None:
    assert step_deadline(LIMITS, status, at("2026-03-02", "09:00"), Colour.RED, CAL) is None


def test_colour_factor() -> None:
    assert COLOUR_FACTOR == {Colour.YELLOW: 1.0, Colour.ORANGE: 0.5, Colour.RED: 0.25}


# A yellow case reported on the Friday before Qingming (Sat 04-04 .. Mon 04-06 off).
QINGMING = [
    Step(Status.REPORTED, at("2026-04-03", "17:00"), at("2026-04-03", "17:30")),  # due 18:00
    # accept due Fri 18:00 + 1.5 h = Tue 04-07 10:30; accepted 11:00: late, orange
    Step(Status.DISPATCHED, at("2026-04-03", "17:30"), at("2026-04-07", "11:00")),
    # handle at orange: 4 h from Tue 11:00 = 16:00
    Step(Status.ACCEPTED, at("2026-04-07", "11:00")),
]


@pytest.mark.parametrize(
    ("base", "steps", "now", "expected"),
    [
        pytest.param(
            Colour.YELLOW,
            QINGMING,
            at("2026-04-07", "15:00"),
            Supervision(Colour.ORANGE, False, at("2026-04-07", "16:00"), 1, 1.0),
            id="late-accept-over-holiday-climbs-once",
        ),
        pytest.param(
            Colour.YELLOW,
            QINGMING,
            at("2026-04-07", "16:00"),
            Supervision(Colour.ORANGE, False, at("2026-04-07", "16:00"), 1, 0.0),
            id="on-the-deadline-is-not-overdue",
        ),
        pytest.param(
            Colour.YELLOW,
            QINGMING,
            at("2026-04-07", "17:00"),
            Supervision(Colour.RED, True, at("2026-04-07", "16:00"), 2, -1.0),
            id="current-step-overdue-climbs-again",
        ),
        pytest.param(
            Colour.YELLOW,
            QINGMING[:2] + [Step(Status.ACCEPTED, at("2026-04-07", "11:00"))],
            at("2026-04-20", "09:00"),
            Supervision(Colour.RED, True, at("2026-04-07", "16:00"), 2, -(2 + 8 * 8)),
            id="overdue-for-weeks-hours-left-counts-working-time",
        ),
        pytest.param(
            Colour.YELLOW,
            QINGMING[:1] + [Step(Status.DISPATCHED, at("2026-04-03", "17:30"))],
            at("2026-04-06", "12:00"),
            Supervision(Colour.YELLOW, False, at("2026-04-07", "10:30"), 0, 1.5),
            id="holiday-weekend-does-not-count",
        ),
        # red: a quarter of the dispatch hour, 15 min: Fri 17:50 + 10 min, Mon 09:00 + 5 min
        pytest.param(
            Colour.RED,
            [Step(Status.REPORTED, at("2026-03-06", "17:50"))],
            at("2026-03-07", "10:00"),
            Supervision(Colour.RED, False, at("2026-03-09", "09:05"), 0, 5 / 60),
            id="red-over-a-weekend",
        ),
        pytest.param(
            Colour.RED,
            [Step(Status.REPORTED, at("2026-03-06", "17:50"))],
            at("2026-03-09", "09:10"),
            Supervision(Colour.RED, True, at("2026-03-09", "09:05"), 1, -5 / 60),
            id="red-is-the-cap",
        ),
        # Spring Festival: verified Fri 02-13 17:00 (orange, 2 h) is due on the 调休 Saturday
        pytest.param(
            Colour.ORANGE,
            [Step(Status.VERIFIED, at("2026-02-13", "17:00"))],
            at("2026-02-14", "10:00"),
            Supervision(Colour.ORANGE, False, at("2026-02-14", "10:00"), 0, 0.0),
            id="adjusted-working-saturday-counts",
        ),
        pytest.param(
            Colour.YELLOW,
            [
                Step(Status.REPORTED, at("2026-03-02", "09:00"), at("2026-03-02", "11:00")),
                Step(Status.DISPATCHED, at("2026-03-02", "11:00"), at("2026-03-02", "11:30")),
                Step(Status.ACCEPTED, at("2026-03-02", "11:30"), at("2026-03-02", "16:00")),
                Step(Status.HANDLED, at("2026-03-02", "16:00"), at("2026-03-02", "17:00")),
                Step(Status.CLOSED, at("2026-03-02", "17:00")),
            ],
            at("2026-06-01", "09:00"),
            Supervision(Colour.ORANGE, False, None, 1, None),
            id="closed-keeps-its-colour-and-stops-the-clock",
        ),
        pytest.param(
            Colour.YELLOW,
            [
                Step(Status.REPORTED, at("2026-03-02", "09:00"), at("2026-03-02", "09:30")),
                Step(Status.ESCALATED, at("2026-03-02", "09:30"), at("2026-03-03", "09:00")),
                Step(Status.ACCEPTED, at("2026-03-03", "09:00")),
            ],
            at("2026-03-03", "10:00"),
            # escalated (accept, 2 h) due 11:30, county accepted next day: orange; handle 4 h
            Supervision(Colour.ORANGE, False, at("2026-03-03", "14:00"), 1, 3.0),
            id="escalation-waits-on-the-accept-limit",
        ),
        pytest.param(
            Colour.YELLOW,
            [
                Step(Status.HANDLED, at("2026-03-02", "09:00"), at("2026-03-02", "10:00")),
                Step(Status.REOPENED, at("2026-03-02", "10:00")),
            ],
            at("2026-03-02", "11:30"),
            Supervision(Colour.ORANGE, True, at("2026-03-02", "11:00"), 1, -0.5),
            id="reopened-runs-the-dispatch-limit",
        ),
    ],
)
def test_supervise(base: Colour, steps: list[Step], now: datetime, expected: Supervision) -> None:
    result = supervise(base, LIMITS, steps, now, CAL)
    assert result.colour is expected.colour
    assert (result.overdue, result.deadline) == (expected.overdue, expected.deadline)
    assert result.overdue_steps == expected.overdue_steps
    if expected.hours_left is None:
        assert result.hours_left is None
    else:
        assert result.hours_left == pytest.approx(expected.hours_left)


def test_events_that_keep_the_status_start_no_step() -> None:
    def event(action: str, source: str | None, target: str, hhmm: str) -> dict[str, object]:
        return {
            "action": action,
            "from_status": source,
            "to_status": target,
            "at": at("2026-03-02", hhmm),
        }

    events = [
        event("report", None, "reported", "09:00"),
        event("dispatch", "reported", "dispatched", "09:10"),
        event("defer", "dispatched", "dispatched", "09:30"),  # a deferral
        event("attach", "dispatched", "dispatched", "09:40"),  # a photo
        event("accept", "dispatched", "accepted", "10:00"),
    ]
    assert steps_from_history(events) == [
        Step(Status.REPORTED, at("2026-03-02", "09:00"), at("2026-03-02", "09:10")),
        Step(Status.DISPATCHED, at("2026-03-02", "09:10"), at("2026-03-02", "10:00")),
        Step(Status.ACCEPTED, at("2026-03-02", "10:00")),
    ]
    assert steps_from_history([]) == []


@pytest.mark.parametrize(
    ("steps", "now", "match"),
    [
        ([], at("2026-03-02", "09:00"), "at least one step"),
        (
            [Step(Status.REPORTED, at("2026-03-02", "09:00"), at("2026-03-02", "10:00"))],
            at("2026-03-02", "11:00"),
            "left_at must be None",
        ),
        (
            [
                Step(Status.REPORTED, at("2026-03-02", "09:00")),
                Step(Status.DISPATCHED, at("2026-03-02", "10:00")),
            ],
            at("2026-03-02", "11:00"),
            "no left_at",
        ),
        (
            [
                Step(Status.REPORTED, at("2026-03-02", "09:00"), at("2026-03-02", "10:30")),
                Step(Status.DISPATCHED, at("2026-03-02", "10:00")),
            ],
            at("2026-03-02", "11:00"),
            "time order",
        ),
        (
            [Step(Status.REPORTED, datetime(2026, 3, 2, 9))],
            at("2026-03-02", "11:00"),
            "no time zone",
        ),
        ([Step(Status.REPORTED, at("2026-03-02", "09:00"))], datetime(2026, 3, 2, 11), "now"),
    ],
)
def test_supervise_refuses_a_broken_history(steps: list[Step], now: datetime, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        supervise(Colour.YELLOW, LIMITS, steps, now, CAL)


# ---- 自行处置: the small loop's fix on the spot -----------------------------------------------


def test_a_patrol_may_fix_a_grid_level_case_only() -> None:
    assert actions_for(Status.REPORTED, Role.PATROL, "grid") == ["fix"]
    assert actions_for(Status.REPORTED, Role.PATROL, "town") == []
    assert "fix" not in actions_for(Status.REPORTED, Role.DISPATCHER, "grid")
    assert "fix" not in actions_for(Status.DISPATCHED, Role.PATROL, "grid")


def test_fixing_a_town_case_is_an_illegal_transition() -> None:
    check_level("fix", "grid", Status.REPORTED, Role.PATROL)
    check_level("handle", "town", Status.ACCEPTED, Role.HANDLER)  # not the small loop's
    with pytest.raises(IllegalTransition, match="grid-level") as refused:
        check_level("fix", "town", Status.REPORTED, Role.PATROL)
    assert refused.value.allowed == []


def test_fix_needs_a_result_and_leads_to_handled() -> None:
    assert next_status(Status.REPORTED, "fix", Role.PATROL, {"result": "已清理"}) == Status.HANDLED
    with pytest.raises(InvalidInput):
        next_status(Status.REPORTED, "fix", Role.PATROL, {})


# -- levels: a town's centre and the district centre ------------------------------------------


def test_a_referred_case_is_the_district_centres() -> None:
    from gridsvc.core.workflow import Tier, check_tier

    town, district = Tier(town_key=True, has_district=True), Tier(has_district=True)
    r = Status.REFERRED
    assert actions_for(r, Role.DISPATCHER, "town", town) == []
    assert set(actions_for(r, Role.DISPATCHER, "town", district)) == {
        "cancel",
        "dispatch",
        "duplicate",
        "escalate",
        "send_back",
    }
    with pytest.raises(Forbidden, match="district centre"):
        check_tier("dispatch", r, Role.DISPATCHER, "town", town)
    check_tier("dispatch", r, Role.DISPATCHER, "town", district)
    check_tier("refer", Status.REPORTED, Role.DISPATCHER, "town", town)


def test_a_single_town_has_no_district_to_refer_to() -> None:
    from gridsvc.core.workflow import Tier, check_tier

    single = Tier()
    assert "refer" not in actions_for(Status.REPORTED, Role.DISPATCHER, "town", single)
    with pytest.raises(IllegalTransition, match="no district centre"):
        check_tier("refer", Status.REPORTED, Role.DISPATCHER, "town", single)
