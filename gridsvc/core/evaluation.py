"""Evaluation (考核): what each case's history says, and the figures per grid, team, department.

The rules follow the performance evaluation of digital city management
(数字化城市管理绩效评价, CJ/T 292 and the monthly bulletins of the cities that
run it: 应结案数, 按期结案率, 结案率, 返工率, 缓办), stated against this
service's own supervision so that every figure can be traced to events:

- **Closure deadline** (处置时限): the step limits of the responsibility list
  along the loop reported → dispatched → accepted → handled → verified →
  closed, each given in full at the colour the case started with, chained with
  :func:`~gridsvc.core.workflow.step_deadline` on the case's own clock
  (natural time for grid-level cases, working hours otherwise). It is when a
  case that used every step's whole limit would close.
- **As of**: a period ``[start, end)`` is read as of ``min(end, now)``; later
  events are not seen. A finished month's figures therefore do not change
  when the report is run again, and a running month counts only the
  deadlines that have passed.
- **Due** (应结案): the closure deadline falls in ``[start, as_of)`` and the
  case is neither cancelled nor a duplicate as of then.
- **Deferred** (缓办): a due case with a ``defer`` event at or before its
  closure deadline; a deferral asked for after the deadline excuses nothing.
- **Closed on time** (按期结案): a due case, not deferred, closed as of
  ``as_of`` by a last closure at or before its closure deadline (a case
  reopened for rework must be closed again by the same deadline).
- **On-time closure rate** (按期结案率) = closed on time / (due − deferred).
- **Completion rate** (结案率) = due cases closed / due.
- **Rework rate** (返工率) = due cases reopened / due cases handled at least once.
- **Overdue** (超期): due cases the supervision found late in at least one
  step (those whose colour climbed); **open late** (遗留超期未结案): due cases
  still open as of ``as_of``, all past their closure deadline.
- **Times** to dispatch (first dispatch or escalation), to handling (first
  ``handle``) and to closure (last ``close``) are elapsed wall-clock hours
  since the report, what a resident waits; medians over the due cases that
  got that far.
- **Colour**: the one the supervision reached as of ``as_of`` (colours only climb).

A rate whose denominator is 0 is missing (NaN in tables, null in JSON): no
case is neither 0 % nor 100 %.

Scores and ranking:

- **Town score** (0–100) = 100 × (0.5 × on-time rate + 0.3 × completion
  rate + 0.2 × (1 − rework rate)) by default (:class:`ScoreWeights`); None
  while one of the rates is None.
- **Rank**: only groups with at least ``min_cases`` due cases, a score and a
  key are ranked (1, 2, 2, 4 on ties of the score rounded to 0.01); the others
  are listed unranked, so a team with two cases both on time cannot top the
  table.
- **Bottom-up** (自下而上考核, seed 002, Jinan): the town scores the
  departments that serve it. A department's overall score =
  w × town score + (1 − w) × line score, with w ≥ 0.3 for county departments
  (kinds ``county`` and ``on_call``: the "N" departments on call are county
  departments) and w ≥ 0.6 for stationed agencies (派驻机构, ``stationed``).
  The line score (条线考核) is the department's assessment by its own county
  authority: it comes from outside, and without it the overall score is
  missing (None). The town's own offices and enforcement squad are outside the
  scheme (no weight): the town evaluates them alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from gridsvc.core.errors import InvalidInput
from gridsvc.core.messages import Msg
from gridsvc.core.routing import StepLimits
from gridsvc.core.workflow import (
    TERMINAL,
    Colour,
    Status,
    step_deadline,
    step_limit,
    steps_from_history,
    supervise,
)
from gridsvc.core.worktime import WorkCalendar


def last_full_month(today: date) -> tuple[date, date]:
    """The first and last day of the month before ``today``'s: the default period of a report,
    the one whose figures no longer change and which a leader's monthly meeting looks at."""
    first_this = today.replace(day=1)
    last = first_this - timedelta(days=1)
    return last.replace(day=1), last


#: The statuses a case waits in on its way round the loop, each with its step limit.
LOOP = (Status.REPORTED, Status.DISPATCHED, Status.ACCEPTED, Status.HANDLED, Status.VERIFIED)
DEFAULT_MIN_CASES = 10
#: The longest period evaluated at once: a year (a leap year's 366 days).
MAX_PERIOD = timedelta(days=366)
#: How far back a case can have been reported and still be due: ten years is a mistake.
_MAX_LOOKBACK = timedelta(days=3653)
_NOT_DUE = frozenset({Status.CANCELLED, Status.DUPLICATE})
_HOUR = timedelta(hours=1)
_DISPATCHING = ("dispatch", "escalate")
_HANDLING = ("handle", "fix")  # a department's handling, or the patrol's on the spot
#: Department kinds the town scores bottom-up, and which minimum weight applies.
COUNTY_KINDS = frozenset({"county", "on_call"})
STATIONED_KINDS = frozenset({"stationed"})

#: Per-group counts, in the order reports show them.
COUNTS = (
    "reported",
    "due",
    "deferred",
    "closed",
    "closed_on_time",
    "handled",
    "reopened",
    "overdue",
    "open_late",
    "yellow",
    "orange",
    "red",
)
#: Per-case elapsed hours and the per-group median column each gives.
MEDIANS = {
    "hours_to_dispatch": "median_hours_to_dispatch",
    "hours_to_handle": "median_hours_to_handle",
    "hours_to_close": "median_hours_to_close",
}


# ---- the period --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The evaluated interval ``[start, end)``, aware and at most :data:`MAX_PERIOD` long."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name, moment in (("start", self.start), ("end", self.end)):
            if moment.utcoffset() is None:
                raise InvalidInput(Msg("period.no_zone", name=name, moment=moment.isoformat()))
        if not self.start < self.end:
            raise InvalidInput(
                Msg("period.order", start=self.start.isoformat(), end=self.end.isoformat())
            )
        if self.end - self.start > MAX_PERIOD:
            days = (self.end - self.start).days
            raise InvalidInput(Msg("period.too_long", most=MAX_PERIOD.days, days=days))

    def as_of(self, now: datetime) -> datetime:
        """The moment the period is read at: its end once over, ``now`` while it runs."""
        return min(self.end, max(self.start, now))


# ---- deadlines -----------------------------------------------------------------------------


def closure_deadline(
    limits: StepLimits, reported_at: datetime, colour: Colour, calendar: WorkCalendar
) -> datetime:
    """When a case reported at ``reported_at`` in ``colour`` is due to be closed.

    Each step of the loop starts at the previous one's deadline and gets its
    full limit, the supervision's own :func:`step_deadline` chained, so a case
    closed by then never used more than its limits in total.
    """
    moment = reported_at
    for status in LOOP:
        deadline = step_deadline(limits, status, moment, colour, calendar)
        if deadline is None:  # pragma: no cover - every status on the loop has a limit
            raise AssertionError(f"no step limit for {status}")
        moment = deadline
    return moment


def loop_hours(limits: StepLimits) -> float:
    """Hours a yellow case gets for the whole loop: the longest any case of the matter gets."""
    return sum(step_limit(limits, status) or 0.0 for status in LOOP)


def earliest_report(start: datetime, hours: float, calendar: WorkCalendar) -> datetime:
    """A time before which a case given at most ``hours`` is due before ``start``.

    What a reader of a period needs: cases reported earlier cannot be due in
    it. Give the slowest clock (working hours: natural time passes the same
    hours sooner). The answer is whole days back: the fewest that hold more
    than ``hours`` (doubling, then halving the gap), so it is safe and reads
    at most a day of reports too many.
    """
    fewest, enough = 0, 1
    while not _holds_more(calendar, start, enough, hours):
        fewest, enough = enough, enough * 2
        if enough > _MAX_LOOKBACK.days:
            raise InvalidInput(Msg("calendar.no_hours", hours=hours))
    while enough - fewest > 1:
        middle = (fewest + enough) // 2
        fewest, enough = (
            (fewest, middle) if _holds_more(calendar, start, middle, hours) else (middle, enough)
        )
    return start - timedelta(days=enough)


def _holds_more(calendar: WorkCalendar, start: datetime, days: int, hours: float) -> bool:
    return calendar.working_hours_between(start - timedelta(days=days), start) > hours


# ---- per case ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What a case's history says as of a moment; see the module docstring for the rules."""

    reported_at: datetime
    deadline: datetime
    status: Status
    colour: Colour
    overdue_steps: int
    deferred: bool
    handled: bool
    reopened: bool
    closed_at: datetime | None
    escalated_to: str | None
    hours_to_dispatch: float | None
    hours_to_handle: float | None
    hours_to_close: float | None

    @property
    def on_time(self) -> bool:
        return self.closed_at is not None and self.closed_at <= self.deadline


def case_facts(
    events: Sequence[Mapping[str, Any]],
    base: Colour,
    limits: StepLimits,
    calendar: WorkCalendar,
    as_of: datetime,
    reopen_count: int = 0,
) -> CaseFacts:
    """The facts of one case from its events in order (``action``, ``from_status``,
    ``to_status``, ``at``, ``data``), seen as of ``as_of``.

    ``base`` is the colour at intake, ``limits`` the matter's step limits,
    ``calendar`` the case's clock. ``reopen_count`` is the stored count:
    histories imported without their reopen events (the demo's reports.csv
    keeps only a count) still count as reopened.
    """
    seen = [e for e in events if e["at"] <= as_of]
    if not seen:
        raise InvalidInput(Msg("evaluation.no_event", as_of=as_of.isoformat()))
    reported_at = seen[0]["at"]
    deadline = closure_deadline(limits, reported_at, base, calendar)
    state = supervise(base, limits, steps_from_history(seen), as_of, calendar)
    status = Status(seen[-1]["to_status"])
    closes = _times(seen, "close")
    closed_at = closes[-1] if status is Status.CLOSED and closes else None
    return CaseFacts(
        reported_at=reported_at,
        deadline=deadline,
        status=status,
        colour=state.colour,
        overdue_steps=state.overdue_steps,
        deferred=any(at <= deadline for at in _times(seen, "defer")),
        handled=bool(_times(seen, *_HANDLING)),
        reopened=bool(_times(seen, "reopen")) or reopen_count > len(_times(events, "reopen")),
        closed_at=closed_at,
        escalated_to=_escalated_to(seen),
        hours_to_dispatch=_hours_to(reported_at, _times(seen, *_DISPATCHING)[:1]),
        hours_to_handle=_hours_to(reported_at, _times(seen, *_HANDLING)[:1]),
        hours_to_close=_hours_to(reported_at, [closed_at] if closed_at else []),
    )


def _times(events: Sequence[Mapping[str, Any]], *actions: str) -> list[datetime]:
    return [e["at"] for e in events if e["action"] in actions]


def _hours_to(reported_at: datetime, moments: list[datetime]) -> float | None:
    return (moments[0] - reported_at) / _HOUR if moments else None


def _escalated_to(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The county bureau of the last escalation (乡呼县应): it answers for the case."""
    named = [(e.get("data") or {}).get("department") for e in events if e["action"] == "escalate"]
    return str(named[-1]) if named and named[-1] else None


def case_row(facts: CaseFacts, start: datetime, as_of: datetime) -> dict[str, Any]:
    """One case's contribution to its group's counts (0/1) and medians (hours or None)."""
    due = start <= facts.deadline < as_of and facts.status not in _NOT_DUE
    counted = due and not facts.deferred
    row: dict[str, Any] = {
        "reported": start <= facts.reported_at < as_of,
        "due": due,
        "deferred": due and facts.deferred,
        "closed": due and facts.closed_at is not None,
        "closed_on_time": counted and facts.on_time,
        "handled": due and facts.handled,
        "reopened": due and facts.handled and facts.reopened,
        "overdue": due and facts.overdue_steps > 0,
        "open_late": due and facts.status not in TERMINAL,
        **{colour.value: due and facts.colour is colour for colour in Colour},
    }
    for name in MEDIANS:
        row[name] = getattr(facts, name) if due else None
    return row


# ---- per group -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreWeights:
    """Shares of the town score: on-time rate, completion rate, and 1 − rework rate."""

    on_time: float = 0.5
    completion: float = 0.3
    rework: float = 0.2

    def __post_init__(self) -> None:
        shares = (self.on_time, self.completion, self.rework)
        if min(shares) < 0 or not math.isclose(sum(shares), 1.0):
            raise InvalidInput(Msg("evaluation.weights", shares=shares))


def kpi_table(
    keys: Sequence[str | None],
    rows: Sequence[Mapping[str, Any]],
    min_cases: int = DEFAULT_MIN_CASES,
    weights: ScoreWeights | None = None,
) -> pd.DataFrame:
    """Counts, rates, medians, score and rank per key, best first; unranked groups last.

    ``rows`` are :func:`case_row` results and ``keys`` the group of each.
    Groups with neither a report nor a due case in the period are left out.
    A None key (a town case has no team) is a group of its own, never ranked.
    """
    return kpi_frame(keys, _rows(rows), min_cases, weights)


def kpi_frame(
    keys: Sequence[str | None],
    rows: pd.DataFrame,
    min_cases: int = DEFAULT_MIN_CASES,
    weights: ScoreWeights | None = None,
) -> pd.DataFrame:
    """:func:`kpi_table` of rows as columns (:data:`COUNTS` and the hours of :data:`MEDIANS`,
    one row a case, as ``evaluation_frame.rows_frame`` gives them)."""
    if min_cases < 1:
        raise InvalidInput(Msg("evaluation.min_cases", min_cases=min_cases))
    table = _grouped(keys, rows)
    table = table[(table["reported"] > 0) | (table["due"] > 0)]
    table = _with_rates(table, weights or ScoreWeights())
    table["rank"] = _ranks(table, min_cases)
    table = table.reset_index()
    table["key"] = table["key"].astype("object").where(table["key"].notna(), None)
    table["ranked"] = table["rank"].notna()
    return table.sort_values(["ranked", "rank", "key"], ascending=[False, True, True]).reset_index(
        drop=True
    )


def totals(rows: Sequence[Mapping[str, Any]], weights: ScoreWeights | None = None) -> pd.DataFrame:
    """The same figures over every case (the whole town): one row, unranked, no key."""
    return totals_frame(_rows(rows), weights)


def totals_frame(rows: pd.DataFrame, weights: ScoreWeights | None = None) -> pd.DataFrame:
    """:func:`totals` of rows as columns (see :func:`kpi_frame`)."""
    n = len(rows)
    table = _grouped(["all"] * n, rows) if n else _empty(pd.Index(["all"]))
    return _with_rates(table, weights or ScoreWeights()).reset_index(drop=True)


def _rows(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=[*COUNTS, *MEDIANS])


def _grouped(keys: Sequence[str | None], rows: pd.DataFrame) -> pd.DataFrame:
    """Counts and median hours per key."""
    frame = rows[[*COUNTS, *MEDIANS]].reset_index(drop=True)
    frame[list(MEDIANS)] = frame[list(MEDIANS)].astype("float64")
    frame.insert(0, "key", pd.Series(list(keys), dtype="object"))
    grouped = frame.groupby("key", dropna=False, sort=True)
    table = grouped[list(COUNTS)].sum().astype("int64")
    return table.join(grouped[list(MEDIANS)].median().rename(columns=MEDIANS))


def _empty(keys: pd.Index) -> pd.DataFrame:
    """Groups without a case: zero counts, no medians."""
    empty = pd.DataFrame(0, index=keys, columns=list(COUNTS), dtype="int64")
    return empty.join(pd.DataFrame(float("nan"), index=keys, columns=list(MEDIANS.values())))


def _ratio(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part / whole.where(whole > 0)).astype("float64")


def _with_rates(table: pd.DataFrame, weights: ScoreWeights) -> pd.DataFrame:
    table = table.copy()
    table["on_time_rate"] = _ratio(table["closed_on_time"], table["due"] - table["deferred"])
    table["completion_rate"] = _ratio(table["closed"], table["due"])
    table["rework_rate"] = _ratio(table["reopened"], table["handled"])
    parts = [
        (weights.on_time, table["on_time_rate"]),
        (weights.completion, table["completion_rate"]),
        (weights.rework, 1 - table["rework_rate"]),
    ]
    score = sum((share * rate for share, rate in parts if share > 0), pd.Series(0.0, table.index))
    table["score"] = (100 * score).round(2)
    return table


def _ranks(table: pd.DataFrame, min_cases: int) -> pd.Series:
    eligible = (table["due"] >= min_cases) & table["score"].notna() & table.index.notna()
    ranks = table.loc[eligible, "score"].rank(method="min", ascending=False)
    return ranks.reindex(table.index).astype("Int64")


# ---- bottom-up scoring of departments ------------------------------------------------------


@dataclass(frozen=True)
class TownWeights:
    """The town's share in a department's overall score, by the minimums of seed 002."""

    county: float = 0.3
    stationed: float = 0.6

    def __post_init__(self) -> None:
        for name, weight, least in (
            ("county", self.county, 0.3),
            ("stationed", self.stationed, 0.6),
        ):
            if not least <= weight <= 1:
                raise InvalidInput(
                    Msg("evaluation.town_weight", name=name, least=least, weight=weight)
                )

    def for_kind(self, kind: str | None) -> float | None:
        """The town's weight for a department kind; None outside the bottom-up scheme."""
        if kind in COUNTY_KINDS:
            return self.county
        if kind in STATIONED_KINDS:
            return self.stationed
        return None


def bottom_up(
    table: pd.DataFrame,
    kinds: Mapping[str, str],
    weights: TownWeights,
    line_scores: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """A department table with ``kind``, ``town_weight``, ``line_score`` and ``overall_score``.

    ``kinds`` maps department codes to their kind; ``line_scores`` are the
    outside assessments (0–100) by department code, checked against it.
    """
    line_scores = dict(line_scores or {})
    _check_line_scores(line_scores, kinds, weights)
    table = table.copy()
    table["kind"] = table["key"].map(lambda code: kinds.get(code))
    table["town_weight"] = table["kind"].map(weights.for_kind).astype("float64")
    table["line_score"] = table["key"].map(lambda code: line_scores.get(code)).astype("float64")
    w = table["town_weight"]
    table["overall_score"] = (w * table["score"] + (1 - w) * table["line_score"]).round(2)
    return table


def _check_line_scores(
    scores: Mapping[str, float], kinds: Mapping[str, str], weights: TownWeights
) -> None:
    for code, score in scores.items():
        if code not in kinds:
            raise InvalidInput(Msg("evaluation.line_score_unknown", code=code))
        if weights.for_kind(kinds[code]) is None:
            raise InvalidInput(Msg("evaluation.line_score_own", code=code, kind=kinds[code]))
        if not (math.isfinite(score) and 0 <= score <= 100):
            raise InvalidInput(Msg("evaluation.line_score_range", code=code, score=score))
