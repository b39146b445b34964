"""The case state machine and colour supervision (黄橙红督办).

The closed loop of a case: collect → dispatch → handle → supervise →
verify and close, with rework (返工) and escalation to the county (乡呼县应)::

    reported ─dispatch─▶ dispatched ─accept─▶ accepted ─handle─▶ handled ─verify─▶ verified ─close─▶ closed
     │ │ │                 │ │ │ │               │  │               │                 │               │
     │ │ │                 │ │ │ └────return─────┼──┴──▶ returned   └──────reopen─────┴───────────────┴──▶ reopened
     │ │ │                 │ │ │                 │          │
     │ │ └───escalate──────┼─┼─┴─────────────────┴──────────┴──▶ escalated ─accept─▶ accepted
     │ └─────duplicate─────┼─┴──▶ duplicate                          (the county bureau answers)
     └───────cancel────────┴────────────────────────────────────▶ cancelled  (also from returned)

    returned, reopened ─dispatch─▶ dispatched
    dispatched, accepted, escalated ─defer─▶ (the same status: a deferral is recorded)

    In a district (towns under a district centre, 大联动):
    reported, returned, reopened ─refer─▶ referred ─dispatch─▶ dispatched (a district bureau)
                                              └──send_back──▶ returned (to the town's centre)

In words (sources → target, roles, required fields):

- dispatch: reported, returned, reopened → dispatched (dispatcher)
- accept: dispatched, escalated → accepted (handler)
- return: dispatched, accepted → returned (handler; ``reason``)
- handle: accepted → handled (handler; ``result``)
- verify: handled → verified (dispatcher)
- reopen: handled, verified, closed → reopened (dispatcher, leader; ``reason``).
  Rework (返工): it counts against the team in evaluation.
- close: verified → closed (dispatcher)
- escalate: reported, dispatched, accepted, returned → escalated (dispatcher;
  ``department``, the county bureau that must answer)
- duplicate: reported, dispatched → duplicate (dispatcher; ``duplicate_of``)
- cancel: reported, dispatched, returned → cancelled (dispatcher; ``reason``)
- refer: reported, returned, reopened → referred (dispatcher; ``reason``): a town's
  centre hands the case up to the district centre (大联动). Only where there is one.
- send_back: referred → returned (a district dispatcher; ``reason``): the district
  gives the case back to the town's centre, which dispatches it as a returned case.
  A referred case is the district's: only district keys act on it (dispatch it to
  a district bureau, escalate, send back, cancel or mark a duplicate), and it waits
  under the dispatch limit, the district centre's turn on the clock.
- defer: dispatched, accepted, escalated → the same status (dispatcher; ``reason``).
  Deferral (缓办): the centre agrees that a case in the hands of a department
  cannot be finished now (a court ruling, the season, funding). The case keeps
  its status and its deadlines; evaluation takes a case deferred by its closure
  deadline out of the on-time rate's denominator. Like a photo, it is an event
  that starts no new step.

An admin may do everything a dispatcher may. ``closed``, ``duplicate`` and
``cancelled`` are terminal: no clock runs in them (``closed`` can still be
reopened for rework).

Colour supervision (Huaisi): a case starts yellow, orange or red by severity.
Each step has a limit from the responsibility list, scaled by the colour in
force when the step began (:data:`COLOUR_FACTOR`: red cases get a quarter of
the time, 差别化督办). A step that overruns its limit climbs the colour one
level. :func:`supervise` recomputes all of this from the case's steps and the
current time, so the overdue state is right whenever it is read and no
periodic job has to flip flags.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from gridsvc.core.errors import Forbidden, IllegalTransition, InvalidInput, UnknownAction
from gridsvc.core.messages import Msg
from gridsvc.core.routing import StepLimits
from gridsvc.core.worktime import WorkCalendar


class Status(StrEnum):
    """Where a case is in the closed loop."""

    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    HANDLED = "handled"
    VERIFIED = "verified"
    CLOSED = "closed"
    RETURNED = "returned"
    ESCALATED = "escalated"
    REFERRED = "referred"  # with the district centre (大联动), handed up by a town
    REOPENED = "reopened"
    DUPLICATE = "duplicate"
    CANCELLED = "cancelled"


#: States in which no step limit runs.
TERMINAL = frozenset({Status.CLOSED, Status.DUPLICATE, Status.CANCELLED})


class Role(StrEnum):
    """What a user does in the loop."""

    PATROL = "patrol"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    PLANNER = "planner"
    LEADER = "leader"
    ADMIN = "admin"


class Colour(StrEnum):
    """Supervision colour, from general (yellow) to urgent (red)."""

    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    def climb(self, steps: int) -> Colour:
        """The colour ``steps`` levels up, capped at red."""
        if steps < 0:
            raise InvalidInput(Msg("workflow.colour_steps", steps=steps))
        order = list(Colour)
        return order[min(order.index(self) + steps, len(order) - 1)]


def colour_for(severity: int) -> Colour:
    """The starting colour of a case: 1 general yellow, 2 serious orange, 3 urgent red."""
    try:
        return {1: Colour.YELLOW, 2: Colour.ORANGE, 3: Colour.RED}[severity]
    except KeyError:
        raise InvalidInput(Msg("workflow.severity", severity=severity)) from None


#: Share of the step limit a case gets, by the colour in force when the step began.
COLOUR_FACTOR: Mapping[Colour, float] = {Colour.YELLOW: 1.0, Colour.ORANGE: 0.5, Colour.RED: 0.25}


@dataclass(frozen=True)
class Transition:
    """One action: where it may start, where it leads, who may take it, what it needs."""

    action: str
    sources: frozenset[Status]
    target: Status | None  # None: the case keeps its status (an event, no new step)
    roles: frozenset[Role]
    requires: tuple[str, ...] = ()


def _transition(
    action: str,
    sources: set[Status],
    target: Status | None,
    roles: set[Role],
    requires: tuple[str, ...] = (),
) -> Transition:
    """A transition; admins get every dispatcher action so one rule keeps them in step."""
    if Role.DISPATCHER in roles:
        roles = roles | {Role.ADMIN}
    return Transition(action, frozenset(sources), target, frozenset(roles), requires)


S, R = Status, Role
TRANSITIONS: Mapping[str, Transition] = {
    t.action: t
    for t in (
        _transition(
            "dispatch",
            {S.REPORTED, S.RETURNED, S.REOPENED, S.REFERRED},
            S.DISPATCHED,
            {R.DISPATCHER},
        ),
        _transition(
            "refer", {S.REPORTED, S.RETURNED, S.REOPENED}, S.REFERRED, {R.DISPATCHER}, ("reason",)
        ),
        _transition("send_back", {S.REFERRED}, S.RETURNED, {R.DISPATCHER}, ("reason",)),
        _transition("accept", {S.DISPATCHED, S.ESCALATED}, S.ACCEPTED, {R.HANDLER}),
        _transition("return", {S.DISPATCHED, S.ACCEPTED}, S.RETURNED, {R.HANDLER}, ("reason",)),
        _transition("handle", {S.ACCEPTED}, S.HANDLED, {R.HANDLER}, ("result",)),
        # 自行处置: the patrol fixes a small-loop matter on the spot (see SMALL_LOOP_ONLY)
        _transition("fix", {S.REPORTED}, S.HANDLED, {R.PATROL}, ("result",)),
        _transition("verify", {S.HANDLED}, S.VERIFIED, {R.DISPATCHER}),
        _transition(
            "reopen",
            {S.HANDLED, S.VERIFIED, S.CLOSED},
            S.REOPENED,
            {R.DISPATCHER, R.LEADER},
            ("reason",),
        ),
        _transition("close", {S.VERIFIED}, S.CLOSED, {R.DISPATCHER}),
        _transition(
            "escalate",
            {S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.REFERRED},
            S.ESCALATED,
            {R.DISPATCHER},
            ("department",),
        ),
        _transition(
            "duplicate",
            {S.REPORTED, S.DISPATCHED, S.REFERRED},
            S.DUPLICATE,
            {R.DISPATCHER},
            ("duplicate_of",),
        ),
        _transition(
            "cancel",
            {S.REPORTED, S.DISPATCHED, S.RETURNED, S.REFERRED},
            S.CANCELLED,
            {R.DISPATCHER},
            ("reason",),
        ),
        _transition(
            "defer", {S.DISPATCHED, S.ACCEPTED, S.ESCALATED}, None, {R.DISPATCHER}, ("reason",)
        ),
    )
}
del S, R


#: Actions only a small-loop (grid-level) case allows: the grid's own people handle
#: those on the spot (Pengpu: "a case handled 6 minutes after discovery"); a town or
#: county matter goes to its department.
SMALL_LOOP_ONLY = frozenset({"fix"})


#: Where a case is with the district centre: only district keys act on it then.
DISTRICT_HELD = frozenset({Status.REFERRED})
#: Actions that need a district centre above the towns (a single town has none).
NEEDS_DISTRICT = frozenset({"refer"})


@dataclass(frozen=True)
class Tier:
    """Where the caller sits: a town's centre (``town_key``) or the district's, and
    whether the deployment has a district centre above its towns at all."""

    town_key: bool = False
    has_district: bool = False


def actions_for(current: Status, role: Role, level: str, tier: Tier = Tier()) -> list[str]:
    """What ``role`` may do now with a case of routing ``level`` (grid, town, county),
    sitting at ``tier``."""
    return [
        a
        for a in allowed_actions(current, role)
        if (level == "grid" or a not in SMALL_LOOP_ONLY) and _tier_refusal(a, current, tier) is None
    ]


def check_tier(action: str, current: Status, role: Role, level: str, tier: Tier) -> None:
    """Refuse what the caller's level may not do: a town key acting on a case the district
    centre holds (403), or a referral where there is no district centre (409)."""
    refusal = _tier_refusal(action, current, tier)
    if refusal is None:
        return
    allowed = actions_for(current, role, level, tier)
    if action in NEEDS_DISTRICT:
        raise IllegalTransition(refusal, allowed=allowed, action=action)
    raise Forbidden(refusal, allowed=allowed, action=action)


def _tier_refusal(action: str, current: Status, tier: Tier) -> Msg | None:
    if action in NEEDS_DISTRICT and not tier.has_district:
        return Msg("workflow.no_district")
    if current in DISTRICT_HELD and tier.town_key:
        return Msg("workflow.district_holds")
    return None


def check_level(action: str, level: str, current: Status, role: Role) -> None:
    """IllegalTransition for a small-loop-only action on a town or county case; the
    answer lists what ``role`` may do with it instead."""
    if action in SMALL_LOOP_ONLY and level != "grid":
        raise IllegalTransition(
            Msg("workflow.small_loop_only", level=level),
            allowed=actions_for(current, role, level),
            action=action,
            level=level,
        )


def allowed_actions(current: Status, role: Role | None = None) -> list[str]:
    """Actions possible from ``current`` (for ``role``, or for anyone), sorted."""
    return sorted(
        t.action
        for t in TRANSITIONS.values()
        if current in t.sources and (role is None or role in t.roles)
    )


def next_status(
    current: Status,
    action: str,
    role: Role,
    fields: Mapping[str, object] | None = None,
    tier: Tier = Tier(),
) -> Status:
    """The status after ``role`` takes ``action`` on a case in ``current``
    (``current`` itself for an action that keeps the status, such as defer).

    Checks, in order: the action exists (UnknownAction); it is possible from
    the current state (IllegalTransition, 409); the role may take it
    (Forbidden, 403); its required fields are filled (InvalidInput, 422).
    State comes before role because it is about the case, not the caller: an
    action nobody could take now is a stale view or a wrong button, and the
    answer lists what this role can do instead, rather than sending a
    handler to ask a dispatcher for an impossible step. Fields come last:
    they only matter once the action is possible and permitted.
    """
    transition = _transition_for(action)
    if current not in transition.sources:
        allowed = [
            a for a in allowed_actions(current, role) if _tier_refusal(a, current, tier) is None
        ]
        raise IllegalTransition(
            Msg("workflow.illegal", action=action, current=current, role=role, allowed=allowed),
            allowed=allowed,
            status=str(current),
            action=action,
        )
    if role not in transition.roles:
        may = sorted(transition.roles)
        raise Forbidden(Msg("workflow.role", role=role, action=action, may=may), roles=may)
    _check_fields(transition, fields or {})
    return current if transition.target is None else transition.target


def _transition_for(action: str) -> Transition:
    try:
        return TRANSITIONS[action]
    except KeyError:
        raise UnknownAction(
            Msg("workflow.unknown_action", action=action, actions=sorted(TRANSITIONS)),
            action=action,
        ) from None


def _check_fields(transition: Transition, fields: Mapping[str, object]) -> None:
    missing = [name for name in transition.requires if _is_empty(fields.get(name))]
    if missing:
        raise InvalidInput(
            Msg("workflow.missing_fields", action=transition.action, missing=missing),
            missing=missing,
        )


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset | dict):
        return not value
    return False


#: Which limit of the responsibility list runs while a case is in each state.
#: Terminal states have none. Waiting for dispatch (also after a return or a
#: reopen) is the dispatch limit; waiting for the department (or the county
#: bureau) to take the case is the accept limit.
_STEP_LIMIT: Mapping[Status, Callable[[StepLimits], float]] = {
    Status.REPORTED: lambda limits: limits.dispatch_h,
    Status.RETURNED: lambda limits: limits.dispatch_h,
    Status.REFERRED: lambda limits: limits.dispatch_h,  # the district centre's dispatch
    Status.REOPENED: lambda limits: limits.dispatch_h,
    Status.DISPATCHED: lambda limits: limits.accept_h,
    Status.ESCALATED: lambda limits: limits.accept_h,
    Status.ACCEPTED: lambda limits: limits.handle_h,
    Status.HANDLED: lambda limits: limits.verify_h,
    Status.VERIFIED: lambda limits: limits.verify_h,
}


def step_limit(limits: StepLimits, status: Status) -> float | None:
    """Working hours a yellow case may spend in ``status``; None where no clock runs."""
    limit = _STEP_LIMIT.get(status)
    return None if limit is None else limit(limits)


def step_deadline(
    limits: StepLimits,
    status: Status,
    entered_at: datetime,
    colour: Colour,
    calendar: WorkCalendar,
) -> datetime | None:
    """When a step entered at ``entered_at`` in ``colour`` is due; None in terminal states."""
    hours = step_limit(limits, status)
    if hours is None:
        return None
    return calendar.add_working_hours(entered_at, hours * COLOUR_FACTOR[colour])


@dataclass(frozen=True)
class Step:
    """A stay of a case in one status; ``left_at`` is None for the current one."""

    status: Status
    entered_at: datetime
    left_at: datetime | None = None


def steps_from_history(events: Sequence[Mapping[str, Any]]) -> list[Step]:
    """The steps of a case from its events in order (``from_status``, ``to_status``, ``at``).

    Events that keep the status (a photo, a deferral) start no step, so they
    never restart a clock.
    """
    changes = [e for e in events if e["from_status"] != e["to_status"]]
    left: list[datetime | None] = [e["at"] for e in changes[1:]]
    return [
        Step(Status(e["to_status"]), e["at"], until)
        for e, until in zip(changes, [*left, None], strict=False)
    ]


@dataclass(frozen=True)
class Supervision:
    """The supervision state of a case at a given moment.

    ``deadline`` and ``hours_left`` are about the current step (None when it
    is terminal); ``hours_left`` is in working hours and negative once overdue.
    ``overdue_steps`` counts every step that overran, the current one included.
    """

    colour: Colour
    overdue: bool
    deadline: datetime | None
    overdue_steps: int
    hours_left: float | None


def supervise(
    base: Colour,
    limits: StepLimits,
    steps: Sequence[Step],
    now: datetime,
    calendar: WorkCalendar,
) -> Supervision:
    """Colour and deadline of a case at ``now``, from its steps in order.

    Each step's deadline uses the colour in force when it began; a finished
    step that left after its deadline, or the current step once ``now`` is
    past its deadline, climbs the colour one level (capped at red).
    """
    _require_aware(now, "now")
    _check_steps(steps)
    colour, overdue_steps = base, 0
    for step in steps[:-1]:
        deadline = step_deadline(limits, step.status, step.entered_at, colour, calendar)
        if deadline is not None and step.left_at is not None and step.left_at > deadline:
            colour, overdue_steps = colour.climb(1), overdue_steps + 1
    current = steps[-1]
    deadline = step_deadline(limits, current.status, current.entered_at, colour, calendar)
    if deadline is None:
        return Supervision(colour, False, None, overdue_steps, None)
    overdue = now > deadline
    if overdue:
        colour, overdue_steps = colour.climb(1), overdue_steps + 1
    hours_left = _signed_hours(calendar, now, deadline)
    return Supervision(colour, overdue, deadline, overdue_steps, hours_left)


def _signed_hours(calendar: WorkCalendar, now: datetime, deadline: datetime) -> float:
    if now <= deadline:
        return calendar.working_hours_between(now, deadline)
    return -calendar.working_hours_between(deadline, now)


def _require_aware(moment: datetime, what: str) -> None:
    """Refuse naive times: comparing them with aware deadlines would be a TypeError or a lie."""
    if moment.utcoffset() is None:
        raise InvalidInput(Msg("workflow.naive_time", what=what, moment=moment.isoformat()))


def _check_steps(steps: Sequence[Step]) -> None:
    """Steps must be a history: non-empty, each finished but the last, in time order."""
    if not steps:
        raise InvalidInput(Msg("workflow.no_steps"))
    if steps[-1].left_at is not None:
        raise InvalidInput(Msg("workflow.last_step_open"))
    for step in steps:
        _require_aware(step.entered_at, f"step {step.status} entered_at")
        if step.left_at is not None:
            _require_aware(step.left_at, f"step {step.status} left_at")
    for step, following in zip(steps, steps[1:], strict=False):
        if step.left_at is None:
            raise InvalidInput(Msg("workflow.step_not_left", status=step.status))
        if not step.entered_at <= step.left_at <= following.entered_at:
            raise InvalidInput(
                Msg(
                    "workflow.step_order",
                    status=step.status,
                    entered=step.entered_at.isoformat(),
                    left=step.left_at.isoformat(),
                    next_status=following.status,
                    next_entered=following.entered_at.isoformat(),
                )
            )
