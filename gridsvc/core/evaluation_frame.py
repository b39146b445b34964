"""Evaluation over columns: every case's facts at once, for a district's month.

The rules are :func:`gridsvc.core.evaluation.case_facts` and
:func:`~gridsvc.core.evaluation.case_row`, unchanged; here they run over arrays,
because one case at a time (event dicts, datetimes, the calendar walked day by
day) cost about 150 µs of Python a case, 20 s for a district's month of a
Shanghai-sized year. Moments are int64 microseconds since the epoch (UTC);
deadlines in working time are additions on :class:`~gridsvc.core.worktime.WorkingTime`.
Supervision's colour climbs step by step, so its loop runs over the step number
(a handful), each turn over every case at once.

What the arrays do not cover is left to ``case_facts`` itself, case by case, so
that every answer and every refusal stays the scalar one: a zone that changes
its offset in the span, histories out of time order or without a status change,
unknown statuses, limits that are not a number of hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from gridsvc.core.evaluation import (
    _DISPATCHING,
    _HANDLING,
    _NOT_DUE,
    COUNTS,
    LOOP,
    MEDIANS,
    CaseFacts,
    case_facts,
)
from gridsvc.core.routing import StepLimits
from gridsvc.core.workflow import COLOUR_FACTOR, TERMINAL, Colour, Status, step_limit
from gridsvc.core.worktime import MAX_HOURS, WorkCalendar, WorkingTime, working_time

#: The columns :func:`facts_frame` reads: a case's colour at intake, its step limits in
#: hours, which of the clocks its deadlines run on, and its stored reopen count.
CASE_COLUMNS = ("colour", "dispatch_h", "accept_h", "handle_h", "verify_h", "clock", "reopen_count")
LIMITS = CASE_COLUMNS[1:5]
#: The columns of the events: the case's row in the cases (events in case, then sequence
#: order), the event, its time (µs UTC) and the department named by an escalation.
EVENT_COLUMNS = ("case", "action", "from_status", "to_status", "at", "department")
#: What :func:`facts_frame` answers per case (moments in µs UTC; ``closed_at`` 0 when open).
FACT_COLUMNS = (
    "reported_at",
    "deadline",
    "status",
    "colour",
    "overdue_steps",
    "deferred",
    "handled",
    "reopened",
    "closed",
    "closed_at",
    "escalated_to",
    *MEDIANS,
)

_COLOURS = list(Colour)
_FACTORS = np.array([COLOUR_FACTOR[c] for c in _COLOURS])
_US_PER_HOUR = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PROBE = StepLimits(dispatch_h=0.0, accept_h=1.0, handle_h=2.0, verify_h=3.0)


def _limit_kind(status: str) -> int:
    """Which limit column runs in ``status`` (-1 where none does), read off ``step_limit``."""
    limit = step_limit(_PROBE, Status(status))
    return -1 if limit is None else int(limit)


_KIND = {status.value: _limit_kind(status) for status in Status}
_LOOP_KINDS = [_KIND[status.value] for status in LOOP]


def micros(moment: datetime) -> int:
    """An aware moment as microseconds since the epoch."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def moment_of(us: int) -> datetime:
    """Microseconds since the epoch as an aware UTC moment."""
    return _EPOCH + timedelta(microseconds=int(us))


@dataclass
class _Cases:
    """The cases' columns as arrays, and the clocks laid out over their times."""

    n: int
    base: np.ndarray  # colour index at intake
    clock: np.ndarray
    durations: np.ndarray  # (n, 4 limits, 3 colours) µs, as timedelta(hours=...) rounds
    odd: np.ndarray  # cases left to case_facts
    reopen_count: np.ndarray
    times: list[WorkingTime | None]

    def add(self, rows: np.ndarray, moments: np.ndarray, durations: np.ndarray) -> np.ndarray:
        """Deadlines of ``moments`` plus working ``durations`` on each case's (``rows``) clock."""
        result = moments.copy()
        for index, times in enumerate(self.times):
            mine = (self.clock[rows] == index) & ~self.odd[rows]
            if times is not None and mine.any():
                result[mine] = times.add(moments[mine], durations[mine])
        return result


def facts_frame(
    cases: pd.DataFrame, events: pd.DataFrame, clocks: Sequence[WorkCalendar], as_of: datetime
) -> pd.DataFrame:
    """The facts of every case (:data:`CASE_COLUMNS`) from its events (:data:`EVENT_COLUMNS`)
    as of ``as_of``, in the cases' order, columns :data:`FACT_COLUMNS`; ``clocks[i]`` is
    the calendar of the cases whose ``clock`` is i. The same facts as ``case_facts``."""
    events = events.iloc[np.argsort(events["case"].to_numpy(), kind="stable")]
    text = {name: pd.Series(_objects(events[name]), events.index, object) for name in _TEXT}
    events = events.assign(**text)
    ev = _EventArrays.of(events, micros(as_of))
    table = _cases(cases, ev, clocks)
    facts = _facts(table, ev, micros(as_of))
    bounds = np.searchsorted(ev.case, np.arange(len(cases) + 1))
    for row in map(int, np.flatnonzero(table.odd)):
        history = events.iloc[bounds[row] : bounds[row + 1]]
        _put(facts, row, _scalar(cases.iloc[row], history, clocks, as_of))
    return facts


_TEXT = ("action", "from_status", "to_status", "department")


def _objects(column: pd.Series) -> np.ndarray:
    """Text as Python objects, a missing value (NaN in a string column) as None."""
    values = column.to_numpy(dtype=object).copy()
    values[column.isna().to_numpy()] = None
    return values


@dataclass
class _EventArrays:
    case: np.ndarray
    action: np.ndarray
    to_status: np.ndarray
    at: np.ndarray
    seen: np.ndarray
    change: np.ndarray  # seen and changing the status: a step of supervision
    department: np.ndarray
    action_code: np.ndarray  # the actions as codes into action_names (a handful of texts)
    action_names: list[Any]
    kind: np.ndarray  # the limit running in each event's status (-1 none), -2 unknown status

    def doing(self, *actions: str) -> np.ndarray:
        """Events of one of ``actions``."""
        codes = [i for i, name in enumerate(self.action_names) if name in actions]
        return np.isin(self.action_code, codes)

    @classmethod
    def of(cls, events: pd.DataFrame, as_of: int) -> _EventArrays:
        at = events["at"].to_numpy(dtype="int64")
        to_status = events["to_status"].to_numpy(dtype=object)
        seen = at <= as_of
        change = seen & (events["from_status"].to_numpy(dtype=object) != to_status)
        action = events["action"].to_numpy(dtype=object)
        action_code, action_names = pd.factorize(action, use_na_sentinel=False)
        status_code, statuses = pd.factorize(to_status, use_na_sentinel=False)
        kinds = np.array([_KIND.get(name, -2) for name in statuses], dtype="int64")
        return cls(
            events["case"].to_numpy(dtype="int64"),
            action,
            to_status,
            at,
            seen,
            change,
            events["department"].to_numpy(dtype=object),
            action_code,
            list(action_names),
            kinds[status_code] if len(status_code) else np.zeros(0, dtype="int64"),
        )

    def first(self, mask: np.ndarray, n: int) -> np.ndarray:
        """Per case, the index of its first event in ``mask`` (-1 for none)."""
        rows = np.flatnonzero(mask)
        found = np.full(n, -1, dtype="int64")
        cases, at = np.unique(self.case[rows], return_index=True)
        found[cases] = rows[at]
        return found

    def last(self, mask: np.ndarray, n: int) -> np.ndarray:
        """Per case, the index of its last event in ``mask`` (-1 for none)."""
        rows = np.flatnonzero(mask)
        found = np.full(n, -1, dtype="int64")
        cases = self.case[rows]
        ends = np.r_[cases[1:] != cases[:-1], True] if len(rows) else np.zeros(0, dtype=bool)
        found[cases[ends]] = rows[ends]
        return found

    def any(self, mask: np.ndarray, n: int) -> np.ndarray:
        return np.bincount(self.case[mask], minlength=n) > 0


def _cases(cases: pd.DataFrame, ev: _EventArrays, clocks: Sequence[WorkCalendar]) -> _Cases:
    """The cases' arrays, with the cases whose answer the arrays cannot give marked odd."""
    n = len(cases)
    base = cases["colour"].map({c.value: i for i, c in enumerate(_COLOURS)})
    if base.isna().any():
        raise ValueError(f"unknown colours {sorted(set(cases['colour'][base.isna()]))}")
    durations, bad = _durations(cases[list(LIMITS)].to_numpy(dtype="float64"))
    known = ev.kind > -2
    odd = bad | ev.any(ev.seen & ~known, n) | ~ev.any(ev.change, n)
    steps = np.flatnonzero(ev.change)
    backwards = (ev.case[steps][1:] == ev.case[steps][:-1]) & (np.diff(ev.at[steps]) < 0)
    odd[ev.case[steps][1:][backwards]] = True
    clock = cases["clock"].to_numpy(dtype="int64")
    reopen_count = cases["reopen_count"].to_numpy(dtype="int64")
    table = _Cases(n, base.to_numpy(dtype="int64"), clock, durations, odd, reopen_count, [])
    for index, calendar in enumerate(clocks):
        mine = (clock == index) & ~odd
        at = ev.at[ev.seen & mine[ev.case]]
        most = 2 * int(durations[mine].sum(axis=(1, 2)).max(initial=0))  # > any loop
        times = working_time(calendar, at, most) if mine.any() else None
        if times is None:
            odd |= mine
        table.times.append(times)
    return table


def _durations(limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each limit at each colour in µs, rounded as ``timedelta(hours=...)`` does; and the
    cases with a limit that is not a number of hours the calendar takes, or under a µs."""
    hours = limits[:, :, None] * _FACTORS[None, None, :]
    where, distinct = pd.factorize(hours.ravel(), use_na_sentinel=False)  # a handful
    values = np.asarray(distinct, dtype="float64")
    valid = np.isfinite(values) & (values >= 0) & (values <= MAX_HOURS)
    us = np.array(
        [timedelta(hours=float(v)) // timedelta(microseconds=1) if ok else 0
         for v, ok in zip(values, valid, strict=True)],
        dtype="int64",
    )  # fmt: skip
    odd_value = ~valid | ((values > 0) & (us == 0))
    shape = hours.shape
    return us[where].reshape(shape), odd_value[where].reshape(shape).any(axis=(1, 2))


def _facts(table: _Cases, ev: _EventArrays, as_of: int) -> pd.DataFrame:
    n, rows = table.n, np.arange(table.n)
    first, last = ev.first(ev.seen, n), ev.last(ev.seen, n)
    usable = ~table.odd
    reported = np.where(usable, _take(ev.at, first, 0), 0)
    loop = table.durations[rows[:, None], _LOOP_KINDS, table.base[:, None]].sum(axis=1)
    deadline = table.add(rows, reported, loop)
    colour, overdue = _supervise(table, ev, as_of)
    status = _take(ev.to_status, np.where(usable, last, -1), None)
    close = ev.last(ev.seen & ev.doing("close"), n)
    closed = usable & (status == Status.CLOSED.value) & (close >= 0)
    closed_at = np.where(closed, _take(ev.at, close, 0), 0)
    defers = ev.seen & ev.doing("defer") & (ev.at <= deadline[ev.case])
    reopens = ev.doing("reopen")
    frame = pd.DataFrame(
        {
            "reported_at": reported,
            "deadline": deadline,
            "status": pd.Series(status, dtype=object),
            "colour": pd.Series(
                np.array([c.value for c in _COLOURS], dtype=object)[colour], dtype=object
            ),
            "overdue_steps": overdue,
            "deferred": ev.any(defers, n),
            "handled": ev.any(ev.seen & ev.doing(*_HANDLING), n),
            "reopened": ev.any(ev.seen & reopens, n)
            | (table.reopen_count > np.bincount(ev.case[reopens], minlength=n)),
            "closed": closed,
            "closed_at": closed_at,
            "escalated_to": pd.Series(_escalated_to(ev, n), dtype=object),
            "hours_to_dispatch": _hours(ev, ev.seen & ev.doing(*_DISPATCHING), reported),
            "hours_to_handle": _hours(ev, ev.seen & ev.doing(*_HANDLING), reported),
            "hours_to_close": np.where(closed, (closed_at - reported) / _US_PER_HOUR, np.nan),
        }
    )
    return frame


def _supervise(table: _Cases, ev: _EventArrays, as_of: int) -> tuple[np.ndarray, np.ndarray]:
    """The colour and the overrun steps as of ``as_of``: ``workflow.supervise`` per case,
    one turn per step number over every case that got that far."""
    steps = np.flatnonzero(ev.change)
    case = ev.case[steps]
    count = np.bincount(case, minlength=table.n)
    start = np.cumsum(count) - count
    colour, overdue = table.base.copy(), np.zeros(table.n, dtype="int64")
    kinds = ev.kind[steps]
    for turn in range(int(count.max(initial=0))):
        cases = np.flatnonzero((count > turn) & ~table.odd)
        here = start[cases] + turn
        kind = kinds[here]
        duration = table.durations[cases, np.maximum(kind, 0), colour[cases]]
        entered = ev.at[steps[here]]
        deadline = table.add(cases, entered, duration)
        current = count[cases] == turn + 1
        left = ev.at[steps[np.minimum(here + 1, len(steps) - 1)]]
        late = (kind >= 0) & np.where(current, as_of > deadline, left > deadline)
        colour[cases] = np.minimum(colour[cases] + late, len(_COLOURS) - 1)
        overdue[cases] += late
    return colour, overdue


def _escalated_to(ev: _EventArrays, n: int) -> np.ndarray:
    """The department of each case's last escalation seen, if it names one."""
    named = np.full(n, None, dtype=object)
    last = ev.last(ev.seen & ev.doing("escalate"), n)
    for row in np.flatnonzero(last >= 0):
        department = ev.department[last[row]]
        named[row] = str(department) if department else None
    return named


def _hours(ev: _EventArrays, mask: np.ndarray, reported: np.ndarray) -> np.ndarray:
    """Hours from the report to each case's first event in ``mask`` (NaN for none)."""
    first = ev.first(mask, len(reported))
    return np.where(first >= 0, (_take(ev.at, first, 0) - reported) / _US_PER_HOUR, np.nan)


def _take(values: np.ndarray, rows: np.ndarray, missing: Any) -> np.ndarray:
    """``values[rows]``, with ``missing`` where a row is -1 (no such event)."""
    if not len(values):
        return np.full(len(rows), missing, dtype=values.dtype)
    missing_values = np.full(len(rows), missing, dtype=values.dtype)
    return np.where(rows >= 0, values[np.maximum(rows, 0)], missing_values)


def _scalar(
    case: pd.Series,
    events: pd.DataFrame,
    clocks: Sequence[WorkCalendar],
    as_of: datetime,
) -> CaseFacts:
    """``case_facts`` itself, for a case the arrays leave out (its refusals included)."""
    history = [
        {
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "at": moment_of(e.at),
            "data": {"department": e.department},
        }
        for e in events.itertuples()
    ]
    limits = StepLimits(*(float(case[name]) for name in LIMITS))
    calendar = clocks[int(case["clock"])]
    return case_facts(
        history, Colour(case["colour"]), limits, calendar, as_of, int(case["reopen_count"])
    )


def _put(frame: pd.DataFrame, row: int, facts: CaseFacts) -> None:
    values: dict[str, Any] = {
        "reported_at": micros(facts.reported_at),
        "deadline": micros(facts.deadline),
        "status": facts.status.value,
        "colour": facts.colour.value,
        "overdue_steps": facts.overdue_steps,
        "deferred": facts.deferred,
        "handled": facts.handled,
        "reopened": facts.reopened,
        "closed": facts.closed_at is not None,
        "closed_at": micros(facts.closed_at) if facts.closed_at else 0,
        "escalated_to": facts.escalated_to,
    }
    for name in MEDIANS:
        value = getattr(facts, name)
        values[name] = np.nan if value is None else value
    for name, value in values.items():
        frame.iloc[row, frame.columns.get_loc(name)] = value


def facts_of(frame: pd.DataFrame, row: int) -> CaseFacts:
    """One row of :func:`facts_frame` as the :class:`CaseFacts` ``case_facts`` gives."""
    r = frame.iloc[row]
    hours = {name: None if np.isnan(r[name]) else float(r[name]) for name in MEDIANS}
    return CaseFacts(
        reported_at=moment_of(r["reported_at"]),
        deadline=moment_of(r["deadline"]),
        status=Status(r["status"]),
        colour=Colour(r["colour"]),
        overdue_steps=int(r["overdue_steps"]),
        deferred=bool(r["deferred"]),
        handled=bool(r["handled"]),
        reopened=bool(r["reopened"]),
        closed_at=moment_of(r["closed_at"]) if r["closed"] else None,
        escalated_to=r["escalated_to"],
        **hours,
    )


def before_period(
    cases: pd.DataFrame,
    reported: np.ndarray,
    clocks: Sequence[WorkCalendar],
    start: datetime,
    as_of: datetime,
) -> np.ndarray:
    """The cases (:data:`CASE_COLUMNS`, first event at ``reported``, µs) reported before
    ``start`` and due before it too: neither reported nor due in the period, every count
    of theirs 0 (see ``case_row``), so their histories need not be read. A case the arrays
    cannot judge (odd limits, a zone changing offset) is not among them."""
    n = len(cases)
    base = cases["colour"].map({c.value: i for i, c in enumerate(_COLOURS)})
    durations, odd = _durations(cases[list(LIMITS)].to_numpy(dtype="float64"))
    odd |= base.isna().to_numpy()
    base_index = base.fillna(0).to_numpy(dtype="int64")
    loop = durations[np.arange(n)[:, None], _LOOP_KINDS, base_index[:, None]].sum(axis=1)
    early = ~odd & (reported <= micros(as_of)) & (reported < micros(start))
    clock = cases["clock"].to_numpy(dtype="int64")
    found = np.zeros(n, dtype=bool)
    for index, calendar in enumerate(clocks):
        mine = early & (clock == index)
        times = working_time(calendar, reported[mine], 2 * int(loop[mine].max(initial=0)))
        if times is not None and mine.any():
            found[mine] = times.add(reported[mine], loop[mine]) < micros(start)
    return found


def zero_rows(n: int) -> pd.DataFrame:
    """``n`` rows of :func:`rows_frame` of cases that count nowhere (no count, no hours)."""
    frame = pd.DataFrame({name: np.zeros(n, dtype=bool) for name in COUNTS})
    for name in MEDIANS:
        frame[name] = np.full(n, np.nan)
    return frame


def rows_frame(facts: pd.DataFrame, start: datetime, as_of: datetime) -> pd.DataFrame:
    """Each case's contribution to its group (:func:`~gridsvc.core.evaluation.case_row`):
    the :data:`COUNTS` as booleans and the medians' hours (NaN where not due)."""
    a, b = micros(start), micros(as_of)
    deadline, status = facts["deadline"], facts["status"]
    due = (a <= deadline) & (deadline < b) & ~status.isin([s.value for s in _NOT_DUE])
    counted = due & ~facts["deferred"]
    closed = facts["closed"]
    on_time = closed & (facts["closed_at"] <= deadline)
    rows = {
        "reported": (a <= facts["reported_at"]) & (facts["reported_at"] < b),
        "due": due,
        "deferred": due & facts["deferred"],
        "closed": due & closed,
        "closed_on_time": counted & on_time,
        "handled": due & facts["handled"],
        "reopened": due & facts["handled"] & facts["reopened"],
        "overdue": due & (facts["overdue_steps"] > 0),
        "open_late": due & ~status.isin([s.value for s in TERMINAL]),
        **{c.value: due & (facts["colour"] == c.value) for c in _COLOURS},
    }
    frame = pd.DataFrame({name: rows[name].astype(bool) for name in COUNTS})
    for name in MEDIANS:
        frame[name] = facts[name].where(due).astype("float64")
    return frame
