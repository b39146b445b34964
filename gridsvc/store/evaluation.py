"""What evaluation reads: the cases reported in a window, their histories, and names.

Two queries per window whatever its size, never one per case: the cases by
``created_at`` (indexed), and their events, in case and sequence order so a
reader can walk them case by case. Evaluation reads them as columns
(:func:`case_columns`, then :func:`event_columns` of the cases it needs); the
row-per-dict readers serve the checks of the demo's history.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Select,
    String,
    Text,
    bindparam,
    case,
    cast,
    null,
    select,
    type_coerce,
)

from gridsvc.store import schema as s

_c = s.cases.c
_e = s.case_events.c
_IN_WINDOW = (_c.created_at >= bindparam("since"), _c.created_at < bindparam("until"))

_CASES = (
    select(
        _c.id,
        _c.created_at,
        _c.status,
        _c.category,
        _c.colour,
        _c.level,
        _c.town_code,
        _c.grid_code,
        _c.unit_code,
        _c.team,
        _c.department,
        _c.group_code,
        _c.reopen_count,
        _c.layer_versions,
    )
    .where(*_IN_WINDOW)
    .order_by(_c.id)
)

#: Only an escalation's data is read (the county bureau it went to): decoding the JSON of
#: every event would be the slowest part of the read.
_ESCALATION_DATA = case((_e.action == "escalate", _e.data), else_=null()).label("data")
_EVENTS = (
    select(_e.case_id, _e.action, _e.from_status, _e.to_status, _e.at, _ESCALATION_DATA)
    .join_from(s.case_events, s.cases, _e.case_id == _c.id)
    .where(*_IN_WINDOW)
    .order_by(_e.case_id, _e.seq)
)


def cases_reported(
    conn: Connection, since: datetime, until: datetime, town: str | None = None
) -> list[dict[str, Any]]:
    """Cases reported in ``[since, until)`` (of one town, given ``town``), by id, with what
    evaluation groups and times by."""
    query = _CASES if town is None else _CASES.where(_c.town_code == town)
    rows = conn.execute(query, {"since": since, "until": until})
    return [dict(r._mapping) for r in rows]


def events_of_cases_reported(
    conn: Connection, since: datetime, until: datetime, town: str | None = None
) -> Iterator[dict[str, Any]]:
    """The events of those cases, ordered by case id and sequence (``data`` of escalations only)."""
    query = _EVENTS if town is None else _EVENTS.where(_c.town_code == town)
    for r in conn.execute(query, {"since": since, "until": until}):
        yield dict(r._mapping)


#: The cases as columns: what evaluation groups by, and the list version's JSON as text
#: (a handful of distinct values, each decoded once, not once a case).
CASE_COLUMNS = (
    "id", "category", "colour", "level", "town_code", "grid_code", "unit_code", "team",
    "department", "group_code", "reopen_count", "layer_versions", "first_at",
)  # fmt: skip
#: when a case's first event happened (its report; None without a history)
_FIRST_AT = (
    select(type_coerce(_e.at, String))
    .where(_e.case_id == _c.id)
    .order_by(_e.seq)
    .limit(1)
    .scalar_subquery()
)
_CASE_COLUMNS = (
    select(*(_c[n] for n in CASE_COLUMNS[:-2]), cast(_c.layer_versions, Text), _FIRST_AT)
    .where(*_IN_WINDOW)
    .order_by(_c.id)
)
#: The events of given cases as columns; times as the database keeps them (SQLite: text).
EVENT_COLUMNS = ("case_id", "action", "from_status", "to_status", "at", "data")
_EVENT_COLUMNS = (
    select(
        _e.case_id,
        _e.action,
        _e.from_status,
        _e.to_status,
        type_coerce(_e.at, String),
        _ESCALATION_DATA,
    )
    .where(_e.case_id.in_(bindparam("ids", expanding=True)))
    .order_by(_e.case_id, _e.seq)
)
#: Case ids per query: under SQLite's 32,766 bound parameters.
_IDS_AT_ONCE = 30_000


def case_columns(
    conn: Connection, since: datetime, until: datetime, town: str | None = None
) -> pd.DataFrame:
    """:func:`cases_reported` as columns (text as Python objects, ``layer_versions`` its
    JSON text): one query, no dict a case."""
    query = _CASE_COLUMNS if town is None else _CASE_COLUMNS.where(_c.town_code == town)
    columns = _columns(conn, query, {"since": since, "until": until}, len(CASE_COLUMNS))
    frame = {name: _objects(values) for name, values in zip(CASE_COLUMNS, columns, strict=True)}
    for name in ("id", "reopen_count"):
        frame[name] = frame[name].astype("int64")
    frame["first_at"] = pd.Series(_micros(list(frame["first_at"])))
    return pd.DataFrame(frame)


def event_columns(conn: Connection, ids: Sequence[int]) -> pd.DataFrame:
    """The events of the cases ``ids`` (ascending) as columns, in case and sequence order:
    ``at`` in microseconds since the epoch (UTC), ``department`` the one an escalation
    names."""
    parts = [
        _columns(conn, _EVENT_COLUMNS, {"ids": list(ids[i : i + _IDS_AT_ONCE])}, len(EVENT_COLUMNS))
        for i in range(0, len(ids), _IDS_AT_ONCE)
    ]
    case_id, action, from_status, to_status, at, data = (
        parts[0][column] if len(parts) == 1 else list(chain(*(p[column] for p in parts)))
        for column in range(len(EVENT_COLUMNS))
    )
    escalations = [_department(d) if d is not None else None for d in data]
    return pd.DataFrame(
        {
            "case_id": np.asarray(case_id, dtype="int64"),
            "action": _objects(action),
            "from_status": _objects(from_status),
            "to_status": _objects(to_status),
            "at": _micros(at),
            "department": _objects(escalations),
        }
    )


def _columns(conn: Connection, query: Select[Any], params: dict[str, Any], n: int) -> list[Any]:
    """The rows of ``query`` as ``n`` columns, straight from the driver's cursor.

    A month of a district's events is a million values: SQLAlchemy's rows (and the
    cyclic garbage collector, walking the heap every few hundred new tuples, none of
    which can hold a cycle) cost more than reading them, so neither is involved.
    """
    result = conn.execute(query, params)
    enabled = gc.isenabled()
    gc.disable()
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
        return list(zip(*rows, strict=True)) if rows else [()] * n
    finally:
        result.close()
        if enabled:
            gc.enable()


def _objects(values: Sequence[Any]) -> pd.Series:
    """Text as Python objects (pandas would make them its own strings, NaN for None)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return pd.Series(array, dtype=object, copy=False)


def _department(data: Any) -> Any:
    """The department an escalation's data names (the driver may give the JSON as text)."""
    if data is None:
        return None
    if isinstance(data, str | bytes):
        data = json.loads(data)
    return (data or {}).get("department")


def _micros(values: Sequence[Any]) -> np.ndarray:
    """Stored times as µs since the epoch (None as NaT's, the least int64): SQLite's UTC
    text parsed at once, or the aware datetimes a server gives."""
    some = next((v for v in values if v is not None), None)
    if isinstance(some, str):
        try:
            return np.array(values, dtype="datetime64[us]").astype("int64")
        except ValueError:  # another spelling of the time: let pandas read it
            pass
    stamps = pd.to_datetime(
        pd.Series(values, dtype=object),
        utc=True,
        format="ISO8601" if isinstance(some, str) else None,
    )
    return stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").astype("int64")


def feature_names(conn: Connection, kind: str) -> dict[str, tuple[str, str]]:
    """Code → (name, English name) of the published version of a layer kind."""
    v, f = s.layer_versions.c, s.features.c
    rows = conn.execute(
        select(f.code, f.name, f.attrs)
        .join_from(s.features, s.layer_versions, f.version_id == v.id)
        .where(v.kind == kind, v.status == "published")
    )
    return {r.code: (r.name, str((r.attrs or {}).get("name_en") or "")) for r in rows}
